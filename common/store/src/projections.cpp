#include "projections.h"

#include <optional>

namespace tandem {

namespace {

using nlohmann::json;

std::optional<std::string> opt_string(const json& p, const char* key) {
    auto it = p.find(key);
    if (it == p.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
}

Result<std::string> need_string(const json& p, const char* key) {
    if (auto s = opt_string(p, key)) return *s;
    return fail(ErrorCode::invalid_argument, "payload needs this string field for the views",
                std::string("payload.") + key);
}

// The first present of several accepted names: a partial payload names its target
// "flag_id", a full record names it "id".
Result<std::string> need_either(const json& p, const char* a, const char* b) {
    if (auto s = opt_string(p, a)) return *s;
    if (auto s = opt_string(p, b)) return *s;
    return fail(ErrorCode::invalid_argument, std::string("payload needs ") + a + " or " + b,
                std::string("payload.") + a);
}

Result<std::string> patient_of(const StoredEvent& e) {
    if (auto s = opt_string(e.payload, "patient_id")) return *s;
    if (e.patient_id) return *e.patient_id;
    return fail(ErrorCode::invalid_argument, "event names no patient", "patient_id");
}

Error unknown(const char* what, const std::string& field) {
    return Error{ErrorCode::invalid_argument, std::string("unknown ") + what, field};
}

}  // namespace

Result<StoredEvent> read_event_row(const sqlite::Stmt& row) {
    StoredEvent e;
    e.seq = row.column_int(0);
    e.id = row.column_text(1);
    auto type = parse_event_type(row.column_view(2));
    if (!type) return fail(ErrorCode::invalid_argument, "unknown event type in the log", "type");
    e.type = *type;
    e.time = row.column_text(3);
    e.patient_id = row.column_optional_text(4);
    auto kind = parse_actor_kind(row.column_view(5));
    if (!kind) return fail(ErrorCode::invalid_argument, "unknown actor kind in the log", "actor.kind");
    e.actor.kind = *kind;
    e.actor.id = row.column_optional_text(6);
    e.payload_text = row.column_text(7);
    e.payload = json::parse(e.payload_text, nullptr, false);
    if (e.payload.is_discarded()) return fail(ErrorCode::invalid_argument, "payload is not JSON", "payload");
    e.prev_hash = row.column_text(8);
    e.hash = row.column_text(9);
    return e;
}

Result<sqlite::Stmt*> Projector::stmt(const char* sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
        auto s = sqlite::Stmt::prepare(*db_, sql);
        if (!s) return std::unexpected(s.error());
        it = cache_.emplace(sql, std::move(*s)).first;
    }
    it->second.reset();
    return &it->second;
}

Result<void> Projector::apply(const StoredEvent& e) {
    if (!e.payload.is_object()) return fail(ErrorCode::invalid_argument, "payload must be a JSON object", "payload");
    switch (e.type) {
        case EventType::patient_registered: return patient_registered(e);
        case EventType::patient_assigned: return patient_assigned(e);
        case EventType::crisis_entered: return patient_flag(e, "in_crisis", true);
        case EventType::crisis_cleared: return patient_flag(e, "in_crisis", false);
        case EventType::ai_paused: return patient_flag(e, "ai_paused", true);
        case EventType::ai_resumed: return patient_flag(e, "ai_paused", false);
        case EventType::conversation_started: return conversation_started(e);
        case EventType::message_appended: return message_appended(e);
        case EventType::message_state_changed: return message_state_changed(e);
        case EventType::flag_opened: return flag_opened(e);
        case EventType::flag_acknowledged:
        case EventType::flag_annotated:
        case EventType::flag_escalated:
        case EventType::flag_resolved: return flag_changed(e);
        case EventType::plan_proposed: return plan_proposed(e);
        case EventType::plan_approved:
        case EventType::plan_rejected: return plan_decided(e);
        case EventType::assessment_offered: return assessment_offered(e);
        case EventType::assessment_progress: return assessment_progress(e);
        case EventType::assessment_scored: return assessment_scored(e);
        default: return {};  // the log alone is the record of the other types
    }
}

Result<void> Projector::patient_registered(const StoredEvent& e) {
    auto id = need_string(e.payload, "id");
    if (!id) return std::unexpected(id.error());
    auto s = stmt(
        "INSERT INTO patients(id, display_name, assigned_therapist_id, last_seq, record) VALUES(?1,?2,?3,?4,?5) "
        "ON CONFLICT(id) DO UPDATE SET display_name=excluded.display_name, "
        "assigned_therapist_id=excluded.assigned_therapist_id, last_seq=excluded.last_seq, record=excluded.record");
    if (!s) return std::unexpected(s.error());
    (*s)->bind(1, std::string_view(*id));
    (*s)->bind(2, std::string_view(opt_string(e.payload, "display_name").value_or("")));
    (*s)->bind(3, opt_string(e.payload, "assigned_therapist_id"));
    (*s)->bind(4, e.seq);
    (*s)->bind(5, std::string_view(e.payload.dump()));
    return (*s)->run("cannot update patients view");
}

Result<void> Projector::patient_assigned(const StoredEvent& e) {
    auto id = e.patient_id ? Result<std::string>(*e.patient_id) : need_either(e.payload, "patient_id", "id");
    if (!id) return std::unexpected(id.error());
    auto get = stmt("SELECT record FROM patients WHERE id=?1");
    if (!get) return std::unexpected(get.error());
    (*get)->bind(1, std::string_view(*id));
    if ((*get)->step() != SQLITE_ROW) return std::unexpected(unknown("patient", "patient_id"));
    json record = json::parse((*get)->column_view(0), nullptr, false);
    (*get)->reset();
    const auto therapist = opt_string(e.payload, "assigned_therapist_id");
    if (therapist) {
        record["assigned_therapist_id"] = *therapist;
    } else {
        record.erase("assigned_therapist_id");  // absent or null: unassigned
    }
    auto s = stmt("UPDATE patients SET assigned_therapist_id=?2, last_seq=?3, record=?4 WHERE id=?1");
    if (!s) return std::unexpected(s.error());
    (*s)->bind(1, std::string_view(*id));
    (*s)->bind(2, therapist);
    (*s)->bind(3, e.seq);
    (*s)->bind(4, std::string_view(record.dump()));
    return (*s)->run("cannot update patients view");
}

Result<void> Projector::patient_flag(const StoredEvent& e, const char* column, bool value) {
    if (!e.patient_id) return fail(ErrorCode::invalid_argument, "event names no patient", "patient_id");
    const bool crisis = std::string_view(column) == "in_crisis";
    auto s = stmt(crisis ? "UPDATE patients SET in_crisis=?2, last_seq=?3 WHERE id=?1"
                         : "UPDATE patients SET ai_paused=?2, last_seq=?3 WHERE id=?1");
    if (!s) return std::unexpected(s.error());
    (*s)->bind(1, std::string_view(*e.patient_id));
    (*s)->bind(2, std::int64_t{value ? 1 : 0});
    (*s)->bind(3, e.seq);
    if (auto r = (*s)->run("cannot update patients view"); !r) return r;
    if (sqlite3_changes(db_->get()) == 0) return std::unexpected(unknown("patient", "patient_id"));
    return {};
}

Result<void> Projector::conversation_started(const StoredEvent& e) {
    auto id = need_string(e.payload, "id");
    if (!id) return std::unexpected(id.error());
    auto patient = patient_of(e);
    if (!patient) return std::unexpected(patient.error());
    auto s = stmt(
        "INSERT INTO conversations(id, patient_id, started_at, ended_at, last_seq, record) VALUES(?1,?2,?3,?4,?5,?6) "
        "ON CONFLICT(id) DO UPDATE SET ended_at=excluded.ended_at, last_seq=excluded.last_seq, record=excluded.record");
    if (!s) return std::unexpected(s.error());
    (*s)->bind(1, std::string_view(*id));
    (*s)->bind(2, std::string_view(*patient));
    (*s)->bind(3, std::string_view(opt_string(e.payload, "started_at").value_or(e.time)));
    (*s)->bind(4, opt_string(e.payload, "ended_at"));
    (*s)->bind(5, e.seq);
    (*s)->bind(6, std::string_view(e.payload.dump()));
    return (*s)->run("cannot update conversations view");
}

Result<void> Projector::message_appended(const StoredEvent& e) {
    // The hot path: the view keeps only the columns it is queried by and points at the event for
    // the text, rather than storing the message twice.
    auto id = need_string(e.payload, "id");
    if (!id) return std::unexpected(id.error());
    auto conversation = need_string(e.payload, "conversation_id");
    if (!conversation) return std::unexpected(conversation.error());
    auto patient = patient_of(e);
    if (!patient) return std::unexpected(patient.error());
    auto sender = need_string(e.payload, "sender");
    if (!sender) return std::unexpected(sender.error());
    auto s = stmt(
        "INSERT INTO messages(id, conversation_id, patient_id, sender, state, seq, last_seq) "
        "VALUES(?1,?2,?3,?4,?5,?6,?6)");
    if (!s) return std::unexpected(s.error());
    (*s)->bind(1, std::string_view(*id));
    (*s)->bind(2, std::string_view(*conversation));
    (*s)->bind(3, std::string_view(*patient));
    (*s)->bind(4, std::string_view(*sender));
    (*s)->bind(5, std::string_view(opt_string(e.payload, "state").value_or("delivered")));
    (*s)->bind(6, e.seq);
    return (*s)->run("cannot update messages view");
}

Result<void> Projector::message_state_changed(const StoredEvent& e) {
    auto id = need_either(e.payload, "message_id", "id");
    if (!id) return std::unexpected(id.error());
    auto state = need_string(e.payload, "state");
    if (!state) return std::unexpected(state.error());
    // A clinician may release an edited reply: the new text replaces the held one in the view.
    auto s = stmt(
        "UPDATE messages SET state=?2, last_seq=?3, edited_text=coalesce(?4, edited_text) WHERE id=?1");
    if (!s) return std::unexpected(s.error());
    (*s)->bind(1, std::string_view(*id));
    (*s)->bind(2, std::string_view(*state));
    (*s)->bind(3, e.seq);
    (*s)->bind(4, opt_string(e.payload, "text"));
    if (auto r = (*s)->run("cannot update messages view"); !r) return r;
    if (sqlite3_changes(db_->get()) == 0) return std::unexpected(unknown("message", "payload.message_id"));
    return {};
}

Result<void> Projector::flag_opened(const StoredEvent& e) {
    auto id = need_string(e.payload, "id");
    if (!id) return std::unexpected(id.error());
    auto patient = patient_of(e);
    if (!patient) return std::unexpected(patient.error());
    auto severity = need_string(e.payload, "severity");
    if (!severity) return std::unexpected(severity.error());
    json record = e.payload;
    if (!record.contains("status")) record["status"] = "open";
    int level = 0;
    if (auto it = record.find("escalation_level"); it != record.end() && it->is_number_integer()) level = it->get<int>();
    auto s = stmt(
        "INSERT INTO flags(id, patient_id, status, severity, escalation_level, sla_deadline, opened_seq, last_seq, record) "
        "VALUES(?1,?2,?3,?4,?5,?6,?7,?7,?8)");
    if (!s) return std::unexpected(s.error());
    (*s)->bind(1, std::string_view(*id));
    (*s)->bind(2, std::string_view(*patient));
    (*s)->bind(3, std::string_view(record["status"].is_string() ? record["status"].get<std::string>() : "open"));
    (*s)->bind(4, std::string_view(*severity));
    (*s)->bind(5, std::int64_t{level});
    (*s)->bind(6, std::string_view(opt_string(e.payload, "sla_deadline").value_or("")));
    (*s)->bind(7, e.seq);
    (*s)->bind(8, std::string_view(record.dump()));
    return (*s)->run("cannot update flags view");
}

Result<void> Projector::flag_changed(const StoredEvent& e) {
    auto id = need_either(e.payload, "flag_id", "id");
    if (!id) return std::unexpected(id.error());
    auto get = stmt("SELECT record FROM flags WHERE id=?1");
    if (!get) return std::unexpected(get.error());
    (*get)->bind(1, std::string_view(*id));
    if ((*get)->step() != SQLITE_ROW) return std::unexpected(unknown("flag", "payload.flag_id"));
    json record = json::parse((*get)->column_view(0), nullptr, false);
    (*get)->reset();
    if (!record.is_object()) record = json::object();

    // Payloads may be the whole updated Flag or just the change ({flag_id, note} etc.): merge the
    // fields given, then let the event type decide the status so the two shapes agree.
    for (const auto& [key, value] : e.payload.items()) {
        if (key == "flag_id") continue;
        if (key == "note") {
            if (!record.contains("notes") || !record["notes"].is_array()) record["notes"] = json::array();
            record["notes"].push_back(value);
            continue;
        }
        record[key] = value;
    }
    int level = record.value("escalation_level", 0);
    switch (e.type) {
        case EventType::flag_acknowledged: record["status"] = "acknowledged"; break;
        case EventType::flag_escalated:
            record["status"] = "escalated";
            if (!e.payload.contains("escalation_level")) level = level < 2 ? level + 1 : 2;
            record["escalation_level"] = level;
            break;
        case EventType::flag_resolved: record["status"] = "resolved"; break;
        default: break;
    }
    auto s = stmt("UPDATE flags SET status=?2, escalation_level=?3, last_seq=?4, record=?5 WHERE id=?1");
    if (!s) return std::unexpected(s.error());
    (*s)->bind(1, std::string_view(*id));
    (*s)->bind(2, std::string_view(record.value("status", std::string("open"))));
    (*s)->bind(3, std::int64_t{level});
    (*s)->bind(4, e.seq);
    (*s)->bind(5, std::string_view(record.dump()));
    return (*s)->run("cannot update flags view");
}

Result<void> Projector::plan_proposed(const StoredEvent& e) {
    auto id = need_string(e.payload, "id");
    if (!id) return std::unexpected(id.error());
    auto patient = patient_of(e);
    if (!patient) return std::unexpected(patient.error());
    auto version = e.payload.find("version");
    if (version == e.payload.end() || !version->is_number_integer()) {
        return fail(ErrorCode::invalid_argument, "payload needs an integer version", "payload.version");
    }
    json record = e.payload;
    record["status"] = "proposed";
    auto s = stmt("INSERT INTO plans(id, patient_id, version, status, last_seq, record) VALUES(?1,?2,?3,'proposed',?4,?5)");
    if (!s) return std::unexpected(s.error());
    (*s)->bind(1, std::string_view(*id));
    (*s)->bind(2, std::string_view(*patient));
    (*s)->bind(3, version->get<std::int64_t>());
    (*s)->bind(4, e.seq);
    (*s)->bind(5, std::string_view(record.dump()));
    return (*s)->run("cannot update plans view");
}

Result<void> Projector::plan_decided(const StoredEvent& e) {
    auto id = need_either(e.payload, "plan_id", "id");
    if (!id) return std::unexpected(id.error());
    auto get = stmt("SELECT record, patient_id FROM plans WHERE id=?1");
    if (!get) return std::unexpected(get.error());
    (*get)->bind(1, std::string_view(*id));
    if ((*get)->step() != SQLITE_ROW) return std::unexpected(unknown("plan", "payload.plan_id"));
    json record = json::parse((*get)->column_view(0), nullptr, false);
    const std::string patient = (*get)->column_text(1);
    (*get)->reset();
    if (!record.is_object()) record = json::object();
    for (const char* key : {"approver_id", "reason", "decided_at"}) {
        if (auto v = opt_string(e.payload, key)) record[key] = *v;
    }
    const bool approved = e.type == EventType::plan_approved;
    record["status"] = approved ? "approved" : "rejected";
    if (approved) {
        // One approved plan per patient: the one it replaces becomes superseded.
        auto sup = stmt(
            "UPDATE plans SET status='superseded', last_seq=?3, record=json_set(record,'$.status','superseded') "
            "WHERE patient_id=?1 AND status='approved' AND id<>?2");
        if (!sup) return std::unexpected(sup.error());
        (*sup)->bind(1, std::string_view(patient));
        (*sup)->bind(2, std::string_view(*id));
        (*sup)->bind(3, e.seq);
        if (auto r = (*sup)->run("cannot update plans view"); !r) return r;
    }
    auto s = stmt("UPDATE plans SET status=?2, last_seq=?3, record=?4 WHERE id=?1");
    if (!s) return std::unexpected(s.error());
    (*s)->bind(1, std::string_view(*id));
    (*s)->bind(2, std::string_view(approved ? "approved" : "rejected"));
    (*s)->bind(3, e.seq);
    (*s)->bind(4, std::string_view(record.dump()));
    return (*s)->run("cannot update plans view");
}

// Assessments: an offer creates the row, progress replaces the answers so far, a score completes
// it with the whole Assessment record. A completed row refuses further progress and scores, so
// two devices submitting one questionnaire at once cannot both succeed (the second append fails
// inside its transaction). Rejected: a row only per scored assessment (pause/resume and the
// "offered, not yet answered" state would then live only in the bridge's memory).
Result<void> Projector::assessment_offered(const StoredEvent& e) {
    auto id = need_either(e.payload, "assessment_id", "id");
    if (!id) return std::unexpected(id.error());
    auto patient = patient_of(e);
    if (!patient) return std::unexpected(patient.error());
    auto instrument = need_string(e.payload, "instrument");
    if (!instrument) return std::unexpected(instrument.error());
    json record = {{"id", *id},
                   {"patient_id", *patient},
                   {"instrument", *instrument},
                   {"items", json::array()},
                   {"administered_at", opt_string(e.payload, "offered_at").value_or(e.time)}};
    if (auto by = opt_string(e.payload, "requested_by")) record["requested_by"] = *by;
    if (auto conv = opt_string(e.payload, "conversation_id")) record["conversation_id"] = *conv;
    auto s = stmt(
        "INSERT INTO assessments(id, patient_id, instrument, status, first_seq, last_seq, record) "
        "VALUES(?1,?2,?3,'offered',?4,?4,?5)");
    if (!s) return std::unexpected(s.error());
    (*s)->bind(1, std::string_view(*id));
    (*s)->bind(2, std::string_view(*patient));
    (*s)->bind(3, std::string_view(*instrument));
    (*s)->bind(4, e.seq);
    (*s)->bind(5, std::string_view(record.dump()));
    return (*s)->run("cannot update assessments view");
}

Result<void> Projector::assessment_progress(const StoredEvent& e) {
    auto id = need_either(e.payload, "assessment_id", "id");
    if (!id) return std::unexpected(id.error());
    const auto items = e.payload.find("items");
    if (items == e.payload.end() || !items->is_array())
        return fail(ErrorCode::invalid_argument, "payload needs an items array", "payload.items");
    auto get = stmt("SELECT record, status FROM assessments WHERE id=?1");
    if (!get) return std::unexpected(get.error());
    (*get)->bind(1, std::string_view(*id));
    if ((*get)->step() != SQLITE_ROW) return std::unexpected(unknown("assessment", "payload.assessment_id"));
    json record = json::parse((*get)->column_view(0), nullptr, false);
    const std::string status = (*get)->column_text(1);
    (*get)->reset();
    if (status == "completed")
        return fail(ErrorCode::invalid_argument, "assessment already completed", "payload.assessment_id");
    if (!record.is_object()) record = json::object();
    record["items"] = *items;
    auto s = stmt("UPDATE assessments SET status='in_progress', last_seq=?2, record=?3 WHERE id=?1");
    if (!s) return std::unexpected(s.error());
    (*s)->bind(1, std::string_view(*id));
    (*s)->bind(2, e.seq);
    (*s)->bind(3, std::string_view(record.dump()));
    return (*s)->run("cannot update assessments view");
}

Result<void> Projector::assessment_scored(const StoredEvent& e) {
    auto id = need_either(e.payload, "id", "assessment_id");
    if (!id) return std::unexpected(id.error());
    auto patient = patient_of(e);
    if (!patient) return std::unexpected(patient.error());
    auto instrument = need_string(e.payload, "instrument");
    if (!instrument) return std::unexpected(instrument.error());
    auto get = stmt("SELECT record, status FROM assessments WHERE id=?1");
    if (!get) return std::unexpected(get.error());
    (*get)->bind(1, std::string_view(*id));
    json record = e.payload;
    bool exists = false;
    if ((*get)->step() == SQLITE_ROW) {
        exists = true;
        if ((*get)->column_text(1) == "completed") {
            (*get)->reset();
            return fail(ErrorCode::invalid_argument, "assessment already completed", "payload.id");
        }
        // The offer's facts the score may not repeat (who asked, in which conversation) stay.
        const json offered = json::parse((*get)->column_view(0), nullptr, false);
        if (offered.is_object())
            for (const char* key : {"requested_by", "conversation_id", "administered_at"})
                if (!record.contains(key) && offered.contains(key)) record[key] = offered[key];
    }
    (*get)->reset();
    auto s = stmt(exists ? "UPDATE assessments SET status='completed', last_seq=?4, record=?5 WHERE id=?1"
                         : "INSERT INTO assessments(id, patient_id, instrument, status, first_seq, last_seq, record) "
                           "VALUES(?1,?2,?3,'completed',?4,?4,?5)");
    if (!s) return std::unexpected(s.error());
    (*s)->bind(1, std::string_view(*id));
    if (!exists) {
        (*s)->bind(2, std::string_view(*patient));
        (*s)->bind(3, std::string_view(*instrument));
    }
    (*s)->bind(4, e.seq);
    (*s)->bind(5, std::string_view(record.dump()));
    return (*s)->run("cannot update assessments view");
}

}  // namespace tandem
