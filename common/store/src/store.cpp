#include "tandem/store/store.h"

#include <unordered_map>

namespace tandem {

const nlohmann::json& SharedJson::null_value() noexcept {
    static const nlohmann::json null;
    return null;
}

// The visibility rule lives here once: SqlcipherStore::read_after filters its rows with it, and the
// clinician feed filters one shared read with it per subscriber. Rejected: keeping the rule in
// read_after's SQL and a copy in the bridge, which two people could change apart.
bool may_read(const Principal& principal, const StoredEvent& event,
              const std::optional<std::string>& assigned_therapist_id) noexcept {
    if (principal.supervisor) return true;
    if (principal.therapist && event.patient_id && assigned_therapist_id &&
        *assigned_therapist_id == principal.clinician_id)
        return true;
    if (principal.admin && !event.patient_id) return true;
    return event.actor.kind == ActorKind::clinician && event.actor.id && *event.actor.id == principal.clinician_id;
}

Result<std::vector<FeedEvent>> Store::read_feed_after(std::int64_t after_seq, std::size_t limit) {
    Principal all;
    all.supervisor = true;
    auto page = read_after(after_seq, all, limit);
    if (!page) return std::unexpected(page.error());
    std::vector<FeedEvent> out;
    out.reserve(page->size());
    std::unordered_map<std::string, std::optional<std::string>> assigned;  // one lookup per patient
    for (auto& e : *page) {
        std::optional<std::string> therapist;
        if (e.patient_id) {
            auto it = assigned.find(*e.patient_id);
            if (it == assigned.end()) {
                auto p = find_patient(*e.patient_id);
                if (!p) return std::unexpected(p.error());
                it = assigned.emplace(*e.patient_id, *p ? (*p)->assigned_therapist_id : std::nullopt).first;
            }
            therapist = it->second;
        }
        out.push_back(FeedEvent{std::move(e), std::move(therapist)});
    }
    return out;
}

Result<std::vector<MessageView>> Store::recent_messages(std::string_view conversation_id, std::size_t limit) {
    auto all = messages(conversation_id);
    if (!all) return std::unexpected(all.error());
    if (all->size() > limit) all->erase(all->begin(), all->end() - static_cast<std::ptrdiff_t>(limit));
    return all;
}

}  // namespace tandem
