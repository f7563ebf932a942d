#include "tandem/clinician/notifications.h"

#include <sstream>

#include <nlohmann/json.hpp>

#include "tandem/clinician/severity_style.h"

namespace tandem::clinician {

std::string initials(const std::string& name) {
    std::string out;
    bool at_word_start = true;
    bool in_first_char = false;  // copying the continuation bytes of a word's first character
    for (char c : name) {
        const bool continuation = (static_cast<unsigned char>(c) & 0xC0U) == 0x80U;
        if (c == ' ' || c == '-' || c == '\t') {
            at_word_start = true;
            in_first_char = false;
            continue;
        }
        if (at_word_start) {
            if (!out.empty()) out += ". ";
            out += c;
            at_word_start = false;
            in_first_char = true;
        } else if (in_first_char && continuation) {
            out += c;
        } else {
            in_first_char = false;
        }
    }
    return out.empty() ? "?" : out + ".";
}

bool NotificationPolicy::responsible_for(const Model& model, const FlagInfo& flag) const {
    if (model.self().has_role(Role::supervisor)) return true;
    const auto* p = model.patient(flag.patient_id);
    return p != nullptr && p->assigned_therapist_id == model.self().id;
}

std::optional<Notification> NotificationPolicy::on_event(const Model& model, const StoredEvent& event, bool live,
                                                         TimePoint now) {
    if (!live) return std::nullopt;
    const bool opened = event.type == "flag_opened";
    const bool escalated = event.type == "flag_escalated";
    if (!opened && !escalated) return std::nullopt;
    // Find the flag the event is about: flag_opened carries the record, escalations its id.
    const auto payload = nlohmann::json::parse(event.payload_json, nullptr, /*allow_exceptions=*/false);
    if (!payload.is_object()) return std::nullopt;
    std::string flag_id;
    for (const char* key : {"flag_id", "id"}) {
        if (const auto it = payload.find(key); flag_id.empty() && it != payload.end() && it->is_string()) {
            flag_id = it->get<std::string>();
        }
    }
    const auto* f = model.flag(flag_id);
    if (f == nullptr || !f->needs_acknowledgement()) return std::nullopt;
    if (escalated && !model.self().has_role(Role::supervisor)) return std::nullopt;
    if (opened && f->severity < Severity::high) return std::nullopt;
    if (!responsible_for(model, *f)) return std::nullopt;
    const std::string key = flag_id + (escalated ? "#" + std::to_string(f->escalation_level) : "");
    if (!notified_.insert(key).second) return std::nullopt;
    const auto* p = model.patient(f->patient_id);
    Notification n;
    n.flag_id = flag_id;
    n.severity = f->severity;
    n.title = std::string(severity_style(f->severity).label) + (escalated ? " flag escalated" : " risk flag");
    std::ostringstream body;
    body << "Patient " << initials(p != nullptr ? p->display_name : std::string{}) << " needs review";
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(f->sla_deadline - now);
    if (left > std::chrono::milliseconds{0}) body << " (SLA " << format_duration(left) << ")";
    n.body = body.str();
    return n;
}

std::optional<Notification> NotificationPolicy::on_caught_up(const Model& model) {
    std::size_t fresh = 0;
    Severity worst = Severity::high;
    std::string first;
    for (const auto& [id, f] : model.flags()) {
        if (!f.needs_acknowledgement() || f.severity < Severity::high || !responsible_for(model, f)) continue;
        if (!notified_.insert(id).second) continue;
        ++fresh;
        worst = std::max(worst, f.severity);
        if (first.empty()) first = id;
    }
    if (fresh == 0) return std::nullopt;
    Notification n;
    n.flag_id = first;
    n.severity = worst;
    n.title = std::to_string(fresh) + (fresh == 1 ? " urgent flag waiting" : " urgent flags waiting");
    n.body = "Open Tandem to review the flag queue";
    return n;
}

std::size_t NotificationPolicy::badge_count(const Model& model) const {
    std::size_t n = 0;
    for (const auto& [id, f] : model.flags()) {
        if (f.needs_acknowledgement() && f.severity >= Severity::high && responsible_for(model, f)) ++n;
    }
    return n;
}

std::string NotificationPolicy::window_title(const Model& model) const {
    const auto n = badge_count(model);
    return n == 0 ? "Tandem Clinician" : "Tandem Clinician (" + std::to_string(n) + ")";
}

}  // namespace tandem::clinician
