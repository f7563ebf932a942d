#include "tandem/bridge/notifying_store.h"

namespace tandem::bridge {
namespace {

// The events the patients view follows (the store's projector and read cache apply the same six).
bool changes_patient(EventType t) {
    return t == EventType::patient_registered || t == EventType::patient_assigned ||
           t == EventType::crisis_entered || t == EventType::crisis_cleared || t == EventType::ai_paused ||
           t == EventType::ai_resumed;
}

// Every id the event may name its patient by: the event's patient_id, and the payload's id
// (registration) and patient_id (assignment). Dropping one too many costs a read; one too few
// would keep a stale view, so none found means drop them all.
bool add_patient_ids(EventType type, const std::optional<std::string>& patient_id, const nlohmann::json& payload,
                     std::vector<std::string>& out) {
    if (!changes_patient(type)) return true;
    const std::size_t before = out.size();
    if (patient_id) out.push_back(*patient_id);
    if (payload.is_object())
        for (const char* key : {"id", "patient_id"})
            if (const auto it = payload.find(key); it != payload.end() && it->is_string())
                out.push_back(it->get<std::string>());
    return out.size() > before;
}

// More than a clinic's patients: past it, misses are read and not kept.
constexpr std::size_t kMaxHeldPatients = 100'000;

}  // namespace

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

Result<std::shared_ptr<const PatientView>> NotifyingStore::find_patient_cached(std::string_view patient_id) {
    // A turn read the patient from the store each time (its head check was 2.7% of the bridge
    // under load) for a record that changes a few times in a patient's life.
    std::uint64_t generation = 0;
    {
        const std::lock_guard lock(patients_mutex_);
        if (const auto it = patients_.find(std::string(patient_id)); it != patients_.end()) return it->second;
        generation = generation_;
    }
    auto read = inner_.find_patient(patient_id);
    if (!read) return std::unexpected(read.error());
    if (!*read) return std::shared_ptr<const PatientView>();  // not kept: a registration may follow
    auto view = std::make_shared<const PatientView>(std::move(**read));
    const std::lock_guard lock(patients_mutex_);
    if (following_ && generation == generation_ && patients_.size() < kMaxHeldPatients)
        patients_.emplace(view->id, view);
    return view;
}

void NotifyingStore::follow_log(std::span<const FeedEvent> events) {
    std::vector<std::string> ids;
    bool all = false;
    for (const auto& fe : events)
        if (!add_patient_ids(fe.event.type, fe.event.patient_id, fe.event.payload, ids)) all = true;
    {
        // Enabling it with an empty map is safe at any point: what is read from now on is checked
        // against the events that follow it.
        const std::lock_guard lock(patients_mutex_);
        following_ = true;
    }
    forget_patients(ids, all);
}

void NotifyingStore::forget_patients(const std::vector<std::string>& ids, bool all) {
    if (ids.empty() && !all) return;
    const std::lock_guard lock(patients_mutex_);
    ++generation_;
    if (all) {
        patients_.clear();
        return;
    }
    for (const auto& id : ids) patients_.erase(id);
}

// A patient event drops the held view after the store has it and before anyone hears of it
// (the appender's caller, the feed): whoever acts on the append reads the new view. Also after
// a failed append, whose outcome is not known.
Result<AppendResult> NotifyingStore::append(NewEvent event) {
    std::vector<std::string> ids;
    const bool named = add_patient_ids(event.type, event.patient_id, event.payload, ids);
    auto r = inner_.append(std::move(event));
    forget_patients(ids, !named);
    if (r && !r->duplicate) notify(r->event.seq);
    return r;
}

Result<std::vector<AppendResult>> NotifyingStore::append_batch(std::vector<NewEvent> events) {
    std::vector<std::string> ids;
    bool all = false;
    for (const auto& e : events)
        if (!add_patient_ids(e.type, e.patient_id, e.payload, ids)) all = true;
    auto r = inner_.append_batch(std::move(events));
    forget_patients(ids, all);
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
Result<std::vector<FeedEvent>> NotifyingStore::read_feed_after(std::int64_t after_seq, std::size_t limit) {
    return inner_.read_feed_after(after_seq, limit);
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
Result<std::vector<MessageView>> NotifyingStore::recent_messages(std::string_view conversation_id,
                                                                 std::size_t limit) {
    return inner_.recent_messages(conversation_id, limit);
}
Result<std::vector<FlagView>> NotifyingStore::open_flags(const Principal& principal) {
    return inner_.open_flags(principal);
}
Result<std::vector<PlanView>> NotifyingStore::plans(std::string_view patient_id) { return inner_.plans(patient_id); }
Result<std::vector<AssessmentView>> NotifyingStore::assessments(std::string_view patient_id) {
    return inner_.assessments(patient_id);
}

}  // namespace tandem::bridge
