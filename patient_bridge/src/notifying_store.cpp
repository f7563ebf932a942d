#include "tandem/bridge/notifying_store.h"

namespace tandem::bridge {

NotifyingStore::NotifyingStore(Store& inner) : inner_(inner) {}

void NotifyingStore::set_listener(std::function<void(std::int64_t)> listener) {
    const std::lock_guard lock(mutex_);
    listener_ = std::make_shared<const std::function<void(std::int64_t)>>(std::move(listener));
}

void NotifyingStore::notify(std::int64_t seq) {
    std::shared_ptr<const std::function<void(std::int64_t)>> l;
    {
        const std::lock_guard lock(mutex_);
        l = listener_;
    }
    if (l && *l) (*l)(seq);
}

Result<AppendResult> NotifyingStore::append(NewEvent event) {
    auto r = inner_.append(std::move(event));
    if (r && !r->duplicate) notify(r->event.seq);
    return r;
}

Result<std::vector<AppendResult>> NotifyingStore::append_batch(std::vector<NewEvent> events) {
    auto r = inner_.append_batch(std::move(events));
    if (r) {
        std::int64_t newest = 0;
        for (const auto& a : *r)
            if (!a.duplicate) newest = std::max(newest, a.event.seq);
        if (newest > 0) notify(newest);
    }
    return r;
}

Result<std::vector<StoredEvent>> NotifyingStore::read_after(std::int64_t after_seq, const Principal& principal,
                                                            std::size_t limit) {
    return inner_.read_after(after_seq, principal, limit);
}
Result<ChainHead> NotifyingStore::head() { return inner_.head(); }
Result<ChainReport> NotifyingStore::verify_chain(const std::optional<ChainHead>& anchor) {
    return inner_.verify_chain(anchor);
}
Result<std::optional<PatientView>> NotifyingStore::find_patient(std::string_view patient_id) {
    return inner_.find_patient(patient_id);
}
Result<std::vector<PatientView>> NotifyingStore::patients(const Principal& principal) {
    return inner_.patients(principal);
}
Result<std::vector<ConversationView>> NotifyingStore::conversations(std::string_view patient_id) {
    return inner_.conversations(patient_id);
}
Result<std::vector<MessageView>> NotifyingStore::messages(std::string_view conversation_id) {
    return inner_.messages(conversation_id);
}
Result<std::vector<FlagView>> NotifyingStore::open_flags(const Principal& principal) {
    return inner_.open_flags(principal);
}
Result<std::vector<PlanView>> NotifyingStore::plans(std::string_view patient_id) { return inner_.plans(patient_id); }
Result<std::vector<AssessmentView>> NotifyingStore::assessments(std::string_view patient_id) {
    return inner_.assessments(patient_id);
}

}  // namespace tandem::bridge
