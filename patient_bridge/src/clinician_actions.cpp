// The clinician endpoint's requests about patients: transcripts, assessments and actions on
// flags, messages, plans and patients. Sessions, login and the event feed stay in
// clinician_service.cpp.
#include "tandem/bridge/clinician_service.h"

#include <algorithm>

#include "clinician_frames.h"
#include "tandem/bridge/log.h"
#include "tandem/bridge/log_tail.h"
#include "tandem/bridge/wire.h"
#include "tandem/schema/schema_registry.h"
#include "tandem/domain/time.h"
#include "tandem/domain/id.h"

namespace tandem::bridge {
namespace {

using json = nlohmann::json;
using clinician_frames::error_frame;
using clinician_frames::string_field;

constexpr std::size_t kMaxNote = 4000;

}  // namespace

Result<void> ClinicianService::refresh_index() {
    return read_log_after(store_, index_cursor_, [this](const StoredEvent& e) {
        if (e.type == EventType::flag_opened && e.patient_id) {
            targets_[e.payload.value("id", "")] = Target{*e.patient_id, {}, "flag", {}, {}};
        } else if (e.type == EventType::message_appended && e.patient_id && e.payload.value("state", "") == "held") {
            targets_[e.payload.value("id", "")] = Target{*e.patient_id, e.payload.value("conversation_id", ""), "held",
                                                         e.payload.value("text", ""), e.payload.value("sender", "ai")};
        } else if (e.type == EventType::message_state_changed) {
            const auto it = targets_.find(e.payload.value("message_id", ""));
            if (it != targets_.end()) {
                it->second.state = e.payload.value("state", it->second.state);
                it->second.text.clear();  // decided: the draft is no longer needed here
            }
        }
    });
}

std::optional<ClinicianService::Target> ClinicianService::find_target(const std::string& id) {
    // Caller holds index_mutex_.
    if (auto it = targets_.find(id); it != targets_.end()) return it->second;
    if (!refresh_index()) return std::nullopt;
    if (auto it = targets_.find(id); it != targets_.end()) return it->second;
    return std::nullopt;
}

std::optional<ClinicianService::PatientRead> ClinicianService::patient_read(const std::shared_ptr<Connection>& c,
                                                                          const PatientFrame& f) {
    const auto account = clinician_of(c);
    if (!account) return c->send(error_frame("unauthenticated", "log in first", f.id)), std::nullopt;
    const auto patient_id = string_field(f.payload, "patient_id", 64);
    if (!patient_id || !is_valid_id(*patient_id))
        return c->send(error_frame("schema", "payload.patient_id must be an id", f.id, "/payload/patient_id")),
               std::nullopt;
    if (!may_see_patient(*account, *patient_id))
        return c->send(error_frame("permission_denied", "not your patient", f.id)), std::nullopt;
    return PatientRead{*account, *patient_id};
}

void ClinicianService::handle_transcript(const std::shared_ptr<Connection>& c, const PatientFrame& f) {
    const auto read = patient_read(c, f);
    if (!read) return;
    const auto& [account, patient_id] = *read;
    std::size_t limit = options_.max_transcript;
    if (const auto l = f.payload.find("limit"); l != f.payload.end() && l->is_number_integer() && *l > 0)
        limit = std::min<std::size_t>(l->get<std::size_t>(), options_.max_transcript);
    std::int64_t before = INT64_MAX;
    if (const auto b = f.payload.find("before_seq"); b != f.payload.end() && b->is_number_integer()) before = *b;
    auto convs = store_.conversations(patient_id);
    if (!convs) return (void)c->send(error_frame("unavailable", "could not read; try again", f.id));
    std::string conversation_id;
    if (auto want = string_field(f.payload, "conversation_id", 64)) {
        for (const auto& cv : *convs)
            if (cv.id == *want) conversation_id = cv.id;
        if (conversation_id.empty()) return (void)c->send(error_frame("not_found", "no such conversation", f.id));
    } else if (!convs->empty()) {
        conversation_id = convs->back().id;
    }
    json messages = json::array();
    if (!conversation_id.empty()) {
        auto msgs = store_.messages(conversation_id);
        if (!msgs) return (void)c->send(error_frame("unavailable", "could not read; try again", f.id));
        std::vector<const MessageView*> picked;
        for (const auto& m : *msgs)
            if (m.seq < before) picked.push_back(&m);
        const auto first = picked.size() > limit ? picked.size() - limit : 0;
        for (auto i = first; i < picked.size(); ++i) {
            json m = picked[i]->record;
            m["state"] = picked[i]->state;
            m["seq"] = picked[i]->seq;
            messages.push_back(std::move(m));
        }
    }
    // The read is audited before the text leaves the bridge: no audit, no transcript.
    if (!audit_read(c, f, *read, EventType::transcript_viewed,
                    {{"conversation_id", conversation_id}, {"count", messages.size()}}))
        return;
    c->send(make_frame("transcript", {{"request_id", f.id},
                                      {"patient_id", patient_id},
                                      {"conversation_id", conversation_id},
                                      {"messages", std::move(messages)}}));
}

// Like fetch_transcript: permission by patient, and the read is audited (a clinician_action
// `assessments_viewed` event) before the records leave the bridge.
void ClinicianService::handle_fetch_assessments(const std::shared_ptr<Connection>& c, const PatientFrame& f) {
    const auto read = patient_read(c, f);
    if (!read) return;
    const auto& [account, patient_id] = *read;
    auto list = assessments_payload(store_, patient_id);
    if (!list) return (void)c->send(error_frame("unavailable", "could not read; try again", f.id));
    if (!audit_read(c, f, *read, EventType::clinician_action, {{"action", "assessments_viewed"}, {"count", list->size()}}))
        return;
    c->send(make_frame("assessments",
                       {{"request_id", f.id}, {"patient_id", patient_id}, {"assessments", std::move(*list)}}));
}

bool ClinicianService::audit_read(const std::shared_ptr<Connection>& c, const PatientFrame& f, const PatientRead& read,
                                  EventType type, nlohmann::json details) {
    NewEvent e;
    e.type = type;
    e.patient_id = read.patient_id;
    e.actor = Actor{ActorKind::clinician, read.account.id};
    e.payload = std::move(details);
    e.payload["clinician_id"] = read.account.id;
    e.payload["patient_id"] = read.patient_id;
    e.payload["at"] = utc_now_text();
    if (store_.append(std::move(e))) return true;
    c->send(error_frame("unavailable", "could not record the read; try again", f.id));
    return false;
}

void ClinicianService::handle_action(const std::shared_ptr<Connection>& c, const PatientFrame& f) {
    const auto account = clinician_of(c);
    if (!account) return (void)c->send(error_frame("unauthenticated", "log in first", f.id));
    const auto action_id = string_field(f.payload, "action_id", 64);
    const auto kind = string_field(f.payload, "kind", 32);
    if (!action_id || !is_valid_id(*action_id) || !kind)
        return (void)c->send(error_frame("schema", "payload needs action_id (an id) and kind", f.id, "/payload"));
    const std::string key = account->id + ":" + *action_id;
    {
        const std::lock_guard lock(mutex_);
        if (const auto it = action_results_.find(key); it != action_results_.end()) {
            json p = json::parse(it->second);
            p["request_id"] = f.id;
            c->send(make_frame("action_result", std::move(p)));
            return;
        }
    }
    if (kind->starts_with("plan_")) return handle_plan_action(c, f, *account, *action_id);
    const auto& p = f.payload;
    auto refuse = [&](std::string_view code, std::string_view message, std::string_view field = {}) {
        json err = {{"code", code}, {"message", message}};
        if (!field.empty()) err["field"] = "/payload/" + std::string(field);  // a JSON pointer, as schema errors
        // Refusals are not remembered: the same action_id may be retried once the cause is fixed.
        c->send(make_frame("action_result",
                           {{"request_id", f.id}, {"action_id", *action_id}, {"ok", false}, {"error", std::move(err)}}));
    };

    // 1. What the action is about, and whose patient that is.
    std::string patient_id, target_id;
    std::optional<Target> target;
    std::unique_lock index_lock(index_mutex_);  // serialises decisions on one flag or held reply
    const bool on_flag = kind->starts_with("flag_");
    const bool on_held = kind->starts_with("held_");
    if (on_flag || on_held) {
        const char* field = on_flag ? "flag_id" : "message_id";
        const auto id = string_field(p, field, 64);
        if (!id || !is_valid_id(*id)) return refuse("schema", std::string(field) + " must be an id", field);
        target = find_target(*id);
        if (!target || (on_flag && target->state != "flag") || (on_held && target->state == "flag"))
            return refuse("not_found", on_flag ? "no such flag" : "no such held message", field);
        patient_id = target->patient_id;
        target_id = *id;
    } else if (*kind == "send_message" || *kind == "ai_pause" || *kind == "ai_resume" || *kind == "crisis_clear" ||
               *kind == "patient_reassign" || *kind == "assessment_request" || *kind == "report_exported") {
        index_lock.unlock();
        const auto id = string_field(p, "patient_id", 64);
        if (!id || !is_valid_id(*id)) return refuse("schema", "patient_id must be an id", "patient_id");
        patient_id = *id;
        target_id = *id;
    } else {
        return refuse("schema", "unknown action kind", "kind");
    }
    if (*kind == "report_exported") {
        // The app waits for this answer before writing the file, so an unknown patient must
        // say so (not_found) rather than look like a refusal it could argue with.
        if (auto pv = store_.find_patient(patient_id); !pv) return refuse("unavailable", "could not read; try again");
        else if (!*pv) return refuse("not_found", "no such patient", "patient_id");
    }
    if (*kind == "patient_reassign") {
        if (!account->has_role("supervisor")) return refuse("permission_denied", "supervisors only");
    } else if (!may_see_patient(*account, patient_id)) {
        return refuse("permission_denied", "not your patient");
    }

    // 2. The event(s), built per kind.
    const std::string now = utc_now_text();
    NewEvent ev;
    ev.patient_id = patient_id;
    ev.actor = Actor{ActorKind::clinician, account->id};
    ev.payload = {{"action_id", *action_id}, {"patient_id", patient_id}, {"at", now}};
    std::optional<std::string> push_text;  // text the patient sees once this is durable
    std::string push_sender = "ai";
    std::string push_id;
    if (on_flag) {
        Principal all;
        all.supervisor = true;
        auto open = store_.open_flags(all);
        if (!open) return refuse("unavailable", "could not read flags; try again");
        const auto fl = std::find_if(open->begin(), open->end(), [&](const FlagView& v) { return v.id == target_id; });
        if (fl == open->end()) return refuse("conflict", "the flag is already resolved");
        ev.payload["flag_id"] = target_id;
        const auto note = string_field(p, "note", kMaxNote);
        if (*kind == "flag_acknowledge") {
            if (fl->status == "acknowledged") return refuse("conflict", "the flag is already acknowledged");
            ev.type = EventType::flag_acknowledged;
            ev.payload["acknowledged_by"] = account->id;
            ev.payload["acknowledged_at"] = now;
        } else if (*kind == "flag_annotate") {
            if (!note || note->empty()) return refuse("schema", "note is required", "note");
            ev.type = EventType::flag_annotated;
            ev.payload["note"] = {{"clinician_id", account->id}, {"at", now}, {"text", *note}};
        } else if (*kind == "flag_escalate") {
            ev.type = EventType::flag_escalated;
            ev.payload["escalated_by"] = account->id;
            if (note && !note->empty()) ev.payload["note"] = {{"clinician_id", account->id}, {"at", now}, {"text", *note}};
        } else if (*kind == "flag_resolve") {
            const auto real = p.find("risk_real");
            if (real == p.end() || !real->is_boolean()) return refuse("schema", "risk_real must be true or false", "risk_real");
            if (!note || note->empty()) return refuse("schema", "note is required", "note");
            ev.type = EventType::flag_resolved;
            ev.payload["resolved_by"] = account->id;
            ev.payload["resolved_at"] = now;
            ev.payload["resolution"] = {{"risk_real", real->get<bool>()}, {"note", *note}};
        } else {
            return refuse("schema", "unknown action kind", "kind");
        }
    } else if (on_held) {
        if (target->state != "held") return refuse("conflict", "the reply was already decided");
        ev.type = EventType::message_state_changed;
        ev.payload["message_id"] = target_id;
        ev.payload["decided_by"] = account->id;
        if (*kind == "held_release") {
            ev.payload["state"] = "delivered";
            push_text = target->text;
        } else if (*kind == "held_edit_send") {
            const auto text = string_field(p, "text", kMaxNote);
            if (!text || text->empty()) return refuse("schema", "text must be 1-4000 bytes", "text");
            ev.payload["state"] = "delivered";
            ev.payload["text"] = *text;
            ev.payload["edited"] = true;
            push_text = *text;
        } else if (*kind == "held_discard") {
            ev.payload["state"] = "withheld";
            if (const auto note = string_field(p, "note", kMaxNote)) ev.payload["note"] = *note;
        } else {
            return refuse("schema", "unknown action kind", "kind");
        }
        push_sender = target->sender;
        push_id = target_id;
    } else if (*kind == "send_message") {
        const auto text = string_field(p, "text", kMaxNote);
        if (!text || text->empty()) return refuse("schema", "text must be 1-4000 bytes", "text");
        auto convs = store_.conversations(patient_id);
        if (!convs) return refuse("unavailable", "could not read; try again");
        if (convs->empty()) return refuse("not_found", "the patient has no conversation yet");
        push_id = new_id();
        ev.type = EventType::message_appended;
        ev.payload = {{"id", push_id},          {"conversation_id", convs->back().id},
                      {"patient_id", patient_id}, {"sender", "clinician"},
                      {"sender_id", account->id}, {"text", *text},
                      {"state", "delivered"},     {"created_at", now},
                      {"action_id", *action_id}};
        push_text = *text;
        push_sender = "clinician";
    } else if (*kind == "ai_pause" || *kind == "ai_resume") {
        ev.type = *kind == "ai_pause" ? EventType::ai_paused : EventType::ai_resumed;
        ev.payload["by"] = account->id;
    } else if (*kind == "crisis_clear") {
        const auto note = string_field(p, "note", kMaxNote);
        if (!note || note->empty()) return refuse("schema", "a note is required to clear a crisis", "note");
        ev.type = EventType::crisis_cleared;
        ev.payload["note"] = *note;
        ev.payload["cleared_by"] = account->id;
    } else if (*kind == "patient_reassign") {
        const auto therapist = string_field(p, "therapist_id", 64);
        if (!therapist) return refuse("schema", "therapist_id is required", "therapist_id");
        auto t = accounts_.by_id(*therapist);
        if (!t || !t->active || !t->has_role("therapist"))
            return refuse("invalid_argument", "not an active therapist", "therapist_id");
        if (auto pv = store_.find_patient(patient_id); !pv || !*pv) return refuse("not_found", "no such patient");
        ev.type = EventType::patient_assigned;
        ev.payload["assigned_therapist_id"] = t->id;
    } else if (*kind == "assessment_request") {
        const auto instrument = string_field(p, "instrument", 32);
        if (!instrument) return refuse("schema", "instrument is required", "instrument");
        auto offer = patients_.assessments().request_event(patient_id, *instrument, account->id);
        if (!offer) {
            const auto code = offer.error().code;
            return refuse(code == ErrorCode::conflict ? "conflict"
                          : code == ErrorCode::invalid_argument ? "invalid_argument" : "unavailable",
                          offer.error().message, "instrument");
        }
        ev = std::move(*offer);
        ev.payload["action_id"] = *action_id;
        ev.payload["at"] = now;
        target_id = ev.payload.value("assessment_id", target_id);
    }
    ev.dedupe_key = "action:" + key;

    // 3. The action and its audit record, atomically, in the hash chain.
    std::vector<NewEvent> batch;
    if (*kind == "report_exported") {
        // The export changes no record: its audit event is the whole action (one event, so
        // `audit list` shows one line per export). What was exported, for whom and by whom; no
        // path or file name, which could carry the patient's name off the machine's log.
        ev.type = EventType::clinician_action;
        ev.payload = {{"action", *kind},
                      {"action_id", *action_id},
                      {"clinician_id", account->id},
                      {"patient_id", patient_id},
                      {"format", p.value("format", "")},
                      {"instruments", p.value("instruments", json::array())},
                      {"assessment_count", p.value("assessment_count", 0)},
                      {"at", now}};
        ev.dedupe_key = "audit:" + key;
        batch.push_back(std::move(ev));
    } else {
        NewEvent audit;
        audit.type = EventType::clinician_action;
        audit.patient_id = patient_id;
        audit.actor = ev.actor;
        audit.payload = {{"action", *kind},      {"action_id", *action_id}, {"clinician_id", account->id},
                         {"patient_id", patient_id}, {"target_id", target_id},  {"at", now}};
        audit.dedupe_key = "audit:" + key;
        batch.push_back(std::move(ev));
        batch.push_back(std::move(audit));
    }
    auto r = store_.append_batch(std::move(batch));
    if (!r) return refuse("unavailable", "could not save; retry with the same action_id");
    const auto& stored = r->front().event;
    if (on_held) {
        targets_[target_id].state = stored.payload.value("state", "delivered");
        targets_[target_id].text.clear();
    }
    if (index_lock.owns_lock()) index_lock.unlock();
    if (stored.type == EventType::assessment_offered && !r->front().duplicate) patients_.assessments().offered(stored);
    if (push_text && !r->front().duplicate) {
        patients_.send_to_patient(patient_id, make_frame("message",
                                                         {{"id", push_id},
                                                          {"sender", push_sender},
                                                          {"text", *push_text},
                                                          {"state", "delivered"}},
                                                         static_cast<std::uint64_t>(stored.seq)));
    }
    json result = {{"action_id", *action_id}, {"ok", true}, {"seq", stored.seq}};
    {
        const std::lock_guard lock(mutex_);
        action_results_[key] = result.dump();
    }
    log_event(LogLevel::info, "clinician_action", {{"clinician", account->id}, {"kind", *kind}, {"seq", stored.seq}});
    result["request_id"] = f.id;
    c->send(make_frame("action_result", std::move(result)));
}

}  // namespace tandem::bridge
