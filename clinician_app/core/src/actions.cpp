#include "tandem/clinician/actions.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <random>

namespace tandem::clinician {
namespace {

bool blank(const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

ActionRequest make(std::string kind, nlohmann::json fields) {
    return ActionRequest{new_uuid(), std::move(kind), std::move(fields)};
}

}  // namespace

std::string ActionRequest::to_frame(const std::string& envelope_id, TimePoint now) const {
    nlohmann::json payload = fields.is_object() ? fields : nlohmann::json::object();
    payload["action_id"] = action_id;
    payload["kind"] = kind;
    return nlohmann::json{{"type", "action"}, {"id", envelope_id}, {"time", format_utc(now)}, {"payload", payload}}
        .dump();
}

Availability availability(const Model& model, bool online, const std::string& patient_id) {
    if (!online) return {false, "Offline: actions need the bridge"};
    if (patient_id.empty()) return {false, "No patient selected"};
    if (!model.may_act_on(patient_id)) {
        if (model.self().has_role(Role::admin) && !model.self().has_role(Role::supervisor)) {
            return {false, "Admins do not act on patients"};
        }
        return {false, "Not assigned to you"};
    }
    return {true, {}};
}

std::string new_uuid() {
    // Ids only need to be unique, not secret; a per-thread engine seeded from random_device is
    // enough and avoids a crypto dependency in the presenters.
    thread_local std::mt19937_64 engine{std::random_device{}()};
    const std::uint64_t hi = engine();
    const std::uint64_t lo = engine();
    unsigned char b[16];
    for (int i = 0; i < 8; ++i) {
        b[i] = static_cast<unsigned char>(hi >> (56 - 8 * i));
        b[8 + i] = static_cast<unsigned char>(lo >> (56 - 8 * i));
    }
    b[6] = static_cast<unsigned char>((b[6] & 0x0FU) | 0x40U);
    b[8] = static_cast<unsigned char>((b[8] & 0x3FU) | 0x80U);
    char out[37];
    std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                  b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return out;
}

namespace actions {

ActionRequest flag_acknowledge(const std::string& flag_id) { return make("flag_acknowledge", {{"flag_id", flag_id}}); }

Result<ActionRequest> flag_annotate(const std::string& flag_id, const std::string& note) {
    if (blank(note)) return fail(ErrorCode::invalid_argument, "a note is required", "note");
    return make("flag_annotate", {{"flag_id", flag_id}, {"note", note}});
}

ActionRequest flag_escalate(const std::string& flag_id, const std::string& note) {
    nlohmann::json fields{{"flag_id", flag_id}};
    if (!blank(note)) fields["note"] = note;
    return make("flag_escalate", std::move(fields));
}

Result<ActionRequest> flag_resolve(const std::string& flag_id, bool risk_real, const std::string& note) {
    if (blank(note)) return fail(ErrorCode::invalid_argument, "a resolution note is required", "note");
    return make("flag_resolve", {{"flag_id", flag_id}, {"risk_real", risk_real}, {"note", note}});
}

ActionRequest held_release(const std::string& message_id) { return make("held_release", {{"message_id", message_id}}); }

Result<ActionRequest> held_edit_send(const std::string& message_id, const std::string& text) {
    if (blank(text)) return fail(ErrorCode::invalid_argument, "the edited reply is empty", "text");
    return make("held_edit_send", {{"message_id", message_id}, {"text", text}});
}

ActionRequest held_discard(const std::string& message_id, const std::string& note) {
    nlohmann::json fields{{"message_id", message_id}};
    if (!blank(note)) fields["note"] = note;
    return make("held_discard", std::move(fields));
}

Result<ActionRequest> send_message(const std::string& patient_id, const std::string& text) {
    if (blank(text)) return fail(ErrorCode::invalid_argument, "the message is empty", "text");
    return make("send_message", {{"patient_id", patient_id}, {"text", text}});
}

ActionRequest ai_pause(const std::string& patient_id) { return make("ai_pause", {{"patient_id", patient_id}}); }
ActionRequest ai_resume(const std::string& patient_id) { return make("ai_resume", {{"patient_id", patient_id}}); }

Result<ActionRequest> crisis_clear(const std::string& patient_id, const std::string& note) {
    if (blank(note)) return fail(ErrorCode::invalid_argument, "clearing a crisis needs a note", "note");
    return make("crisis_clear", {{"patient_id", patient_id}, {"note", note}});
}

ActionRequest patient_reassign(const std::string& patient_id, const std::string& therapist_id) {
    return make("patient_reassign", {{"patient_id", patient_id}, {"therapist_id", therapist_id}});
}

Result<ActionRequest> report_exported(const std::string& patient_id, const std::string& format,
                                      const std::vector<std::string>& instruments, std::size_t assessment_count) {
    if (format != "pdf" && format != "png") {
        return fail(ErrorCode::invalid_argument, "a report is exported as pdf or png, not '" + format + "'", "format");
    }
    if (instruments.size() > 32) return fail(ErrorCode::invalid_argument, "more than 32 instruments", "instruments");
    // The wire's instrument id pattern ^[a-z][a-z0-9_]{1,31}$, checked here so a refusal names
    // the field before anything is sent.
    auto valid_id = [](const std::string& id) {
        if (id.size() < 2 || id.size() > 32 || id[0] < 'a' || id[0] > 'z') return false;
        return std::all_of(id.begin(), id.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
    };
    nlohmann::json ids = nlohmann::json::array();
    for (std::size_t i = 0; i < instruments.size(); ++i) {
        if (!valid_id(instruments[i])) {
            return fail(ErrorCode::invalid_argument, "not an instrument id: '" + instruments[i] + "'", "instruments");
        }
        if (std::find(instruments.begin(), instruments.begin() + static_cast<std::ptrdiff_t>(i), instruments[i]) !=
            instruments.begin() + static_cast<std::ptrdiff_t>(i)) {
            return fail(ErrorCode::invalid_argument, "instrument listed twice: " + instruments[i], "instruments");
        }
        ids.push_back(instruments[i]);
    }
    if (assessment_count > 100000) {
        return fail(ErrorCode::invalid_argument, "more than 100000 questionnaires", "assessment_count");
    }
    return make("report_exported", {{"patient_id", patient_id}, {"format", format}, {"instruments", std::move(ids)},
                                    {"assessment_count", assessment_count}});
}

}  // namespace actions

std::optional<ActionRequest> PendingActions::complete(const std::string& action_id) {
    const auto it = pending_.find(action_id);
    if (it == pending_.end()) return std::nullopt;
    ActionRequest out = std::move(it->second);
    pending_.erase(it);
    return out;
}

std::vector<ActionRequest> PendingActions::unanswered() const {
    std::vector<ActionRequest> out;
    out.reserve(pending_.size());
    for (const auto& [id, r] : pending_) out.push_back(r);
    return out;
}

}  // namespace tandem::clinician
