#include "tandem/clinician/model.h"
#include "tandem/clinician/json_fields.h"

#include <algorithm>
#include <array>
#include <utility>

#include <nlohmann/json.hpp>

namespace tandem::clinician {
namespace {

using nlohmann::json;

template <class Enum, std::size_t N>
using NameTable = std::array<std::pair<Enum, std::string_view>, N>;

constexpr NameTable<Role, 3> kRoles{{{Role::therapist, "therapist"},
                                     {Role::supervisor, "supervisor"},
                                     {Role::admin, "admin"}}};
constexpr NameTable<Sender, 4> kSenders{{{Sender::patient, "patient"},
                                         {Sender::ai, "ai"},
                                         {Sender::clinician, "clinician"},
                                         {Sender::system, "system"}}};
constexpr NameTable<MessageState, 3> kStates{{{MessageState::delivered, "delivered"},
                                              {MessageState::held, "held"},
                                              {MessageState::withheld, "withheld"}}};
constexpr NameTable<FlagStatus, 4> kStatuses{{{FlagStatus::open, "open"},
                                              {FlagStatus::acknowledged, "acknowledged"},
                                              {FlagStatus::escalated, "escalated"},
                                              {FlagStatus::resolved, "resolved"}}};

template <class Enum, std::size_t N>
std::string_view name_in(const NameTable<Enum, N>& table, Enum value) noexcept {
    for (const auto& [v, n] : table) {
        if (v == value) return n;
    }
    return "unknown";
}

template <class Enum, std::size_t N>
std::optional<Enum> value_in(const NameTable<Enum, N>& table, std::string_view name) noexcept {
    for (const auto& [v, n] : table) {
        if (n == name) return v;
    }
    return std::nullopt;
}

std::vector<RiskCategory> categories_of(const json& object) {
    std::vector<RiskCategory> out;
    const auto it = object.find("categories");
    if (it == object.end() || !it->is_array()) return out;
    for (const auto& c : *it) {
        if (!c.is_string()) continue;
        // An unknown category from a newer engine is dropped rather than failing the event:
        // the severity still ranks the flag.
        if (auto parsed = parse_risk_category(c.get_ref<const std::string&>())) out.push_back(*parsed);
    }
    return out;
}

// The bridge sends a note as the FlagNote record {clinician_id, at, text} (docs/PROTOCOL.md);
// a bare string (older feeds, the loopback feeder) is read too, credited to the event's actor.
std::optional<FlagNote> note_of(const json& payload, const std::string& actor, TimePoint at) {
    const auto it = payload.find("note");
    if (it != payload.end() && it->is_object()) {
        std::string by = str(*it, "clinician_id");
        if (by.empty()) by = actor;
        const std::string text = str(*it, "text");
        if (text.empty()) return std::nullopt;
        return FlagNote{by, time_field(*it, "at").value_or(at), text};
    }
    std::string text = str(payload, "note");
    if (text.empty()) text = str(payload, "text");
    if (text.empty()) return std::nullopt;
    return FlagNote{actor, at, text};
}

// What a supervisor's audit trail lists: everything a clinician read or did.
bool is_audited(const StoredEvent& event) {
    return event.actor_kind == "clinician" || event.type == "transcript_viewed" || event.type == "clinician_action";
}

}  // namespace

bool ClinicianInfo::has_role(Role role) const {
    return std::find(roles.begin(), roles.end(), role) != roles.end();
}

bool FlagInfo::needs_acknowledgement() const {
    return status == FlagStatus::open || status == FlagStatus::escalated;
}

std::string_view to_string(Role role) noexcept { return name_in(kRoles, role); }
std::string_view to_string(Sender sender) noexcept { return name_in(kSenders, sender); }
std::string_view to_string(MessageState state) noexcept { return name_in(kStates, state); }
std::string_view to_string(FlagStatus status) noexcept { return name_in(kStatuses, status); }
std::optional<Role> parse_role(std::string_view name) noexcept { return value_in(kRoles, name); }
std::optional<Sender> parse_sender(std::string_view name) noexcept { return value_in(kSenders, name); }
std::optional<MessageState> parse_message_state(std::string_view name) noexcept { return value_in(kStates, name); }
std::optional<FlagStatus> parse_flag_status(std::string_view name) noexcept { return value_in(kStatuses, name); }

Result<StoredEvent> parse_stored_event(const json& event) {
    if (!event.is_object()) return fail(ErrorCode::parse, "event is not an object");
    StoredEvent out;
    const auto seq = event.find("seq");
    if (seq == event.end() || !seq->is_number_unsigned() || seq->get<std::uint64_t>() == 0) {
        return fail(ErrorCode::schema, "missing or invalid seq", "/seq");
    }
    out.seq = seq->get<std::uint64_t>();
    out.id = str(event, "id");
    out.type = str(event, "type");
    if (out.type.empty()) return fail(ErrorCode::schema, "missing type", "/type");
    const auto time = time_field(event, "time");
    if (!time) return fail(ErrorCode::schema, "missing or invalid time", "/time");
    out.time = *time;
    out.patient_id = str(event, "patient_id");
    if (const auto actor = event.find("actor"); actor != event.end() && actor->is_object()) {
        out.actor_kind = str(*actor, "kind");
        out.actor_id = str(*actor, "id");
    }
    const auto payload = event.find("payload");
    out.payload_json = payload == event.end() ? "{}" : payload->dump();
    return out;
}

Result<RiskAssessment> parse_risk(const json& risk) {
    if (!risk.is_object()) return fail(ErrorCode::schema, "risk is not an object");
    RiskAssessment out;
    const auto severity = parse_severity(str(risk, "severity"));
    if (!severity) return fail(ErrorCode::schema, "unknown severity", "/severity");
    out.severity = *severity;
    out.categories = categories_of(risk);
    if (const auto it = risk.find("cssrs_level"); it != risk.end() && it->is_number_integer()) {
        out.cssrs_level = it->get<int>();
    }
    if (const auto spans = risk.find("spans"); spans != risk.end() && spans->is_array()) {
        for (const auto& s : *spans) {
            if (!s.is_object() || !s.contains("begin") || !s.contains("end")) continue;
            if (!s["begin"].is_number_unsigned() || !s["end"].is_number_unsigned()) continue;
            out.spans.push_back(EvidenceSpan{s["begin"].get<std::size_t>(), s["end"].get<std::size_t>(),
                                             str(s, "rule_id"), str(s, "rationale")});
        }
    }
    out.rationale = str(risk, "rationale");
    out.engine_version = str(risk, "engine_version");
    out.ruleset_version = str(risk, "ruleset_version");
    return out;
}

Result<MessageInfo> parse_message(const json& m) {
    if (!m.is_object()) return fail(ErrorCode::schema, "message is not an object");
    MessageInfo out;
    out.id = str(m, "id");
    if (out.id.empty()) return fail(ErrorCode::schema, "message without id", "/id");
    out.conversation_id = str(m, "conversation_id");
    out.patient_id = str(m, "patient_id");
    const auto sender = parse_sender(str(m, "sender"));
    if (!sender) return fail(ErrorCode::schema, "unknown sender", "/sender");
    out.sender = *sender;
    out.sender_id = str(m, "sender_id");
    out.text = str(m, "text");
    out.state = parse_message_state(str(m, "state")).value_or(MessageState::delivered);
    out.created_at = time_field(m, "created_at").value_or(TimePoint{});
    if (const auto risk = m.find("risk"); risk != m.end() && risk->is_object()) {
        if (auto parsed = parse_risk(*risk)) out.risk = std::move(*parsed);
    }
    return out;
}

Result<FlagInfo> parse_flag(const json& f) {
    if (!f.is_object()) return fail(ErrorCode::schema, "flag is not an object");
    FlagInfo out;
    out.id = str(f, "id");
    if (out.id.empty()) return fail(ErrorCode::schema, "flag without id", "/id");
    out.patient_id = str(f, "patient_id");
    out.conversation_id = str(f, "conversation_id");
    out.message_id = str(f, "message_id");
    out.severity = parse_severity(str(f, "severity")).value_or(Severity::moderate);
    out.categories = categories_of(f);
    out.status = parse_flag_status(str(f, "status")).value_or(FlagStatus::open);
    out.opened_at = time_field(f, "opened_at").value_or(TimePoint{});
    out.sla_deadline = time_field(f, "sla_deadline").value_or(out.opened_at);
    if (const auto it = f.find("escalation_level"); it != f.end() && it->is_number_integer()) {
        out.escalation_level = it->get<int>();
    }
    if (const auto notes = f.find("notes"); notes != f.end() && notes->is_array()) {
        for (const auto& n : *notes) {
            if (!n.is_object()) continue;
            out.notes.push_back(FlagNote{str(n, "clinician_id"), time_field(n, "at").value_or(TimePoint{}),
                                         str(n, "text")});
        }
    }
    out.acknowledged_by = str(f, "acknowledged_by");
    out.acknowledged_at = time_field(f, "acknowledged_at");
    out.resolved_by = str(f, "resolved_by");
    out.resolved_at = time_field(f, "resolved_at");
    if (const auto res = f.find("resolution"); res != f.end() && res->is_object()) {
        if (const auto rr = res->find("risk_real"); rr != res->end() && rr->is_boolean()) out.risk_real = rr->get<bool>();
    }
    return out;
}

Result<ClinicianInfo> parse_clinician(const json& c) {
    if (!c.is_object()) return fail(ErrorCode::schema, "clinician is not an object");
    ClinicianInfo out;
    out.id = str(c, "id");
    if (out.id.empty()) return fail(ErrorCode::schema, "clinician without id", "/id");
    out.username = str(c, "username");
    out.display_name = str(c, "display_name");
    if (const auto roles = c.find("roles"); roles != c.end() && roles->is_array()) {
        for (const auto& r : *roles) {
            if (r.is_string()) {
                if (auto role = parse_role(r.get_ref<const std::string&>())) out.roles.push_back(*role);
            }
        }
    }
    if (const auto active = c.find("active"); active != c.end() && active->is_boolean()) out.active = active->get<bool>();
    return out;
}

ClinicPolicy parse_policy(const json& p) {
    ClinicPolicy out;
    if (!p.is_object()) return out;
    auto read = [&](const char* key, int& into) {
        if (const auto it = p.find(key); it != p.end() && it->is_number_integer() && it->get<int>() > 0) {
            into = it->get<int>();
        }
    };
    read("urgent_sla_minutes", out.urgent_sla_minutes);
    read("second_escalation_minutes", out.second_escalation_minutes);
    read("idle_lock_minutes", out.idle_lock_minutes);
    return out;
}

ApplyOutcome Model::apply(const StoredEvent& event) {
    if (event.seq <= cursor_) return ApplyOutcome::duplicate;
    cursor_ = event.seq;
    changes_.cursor = true;
    ++applied_count_;
    const json payload = json::parse(event.payload_json, nullptr, /*allow_exceptions=*/false);
    if (payload.is_discarded() || !payload.is_object()) return ApplyOutcome::malformed;
    if (is_audited(event)) {
        // A clinician_action names its verb in the payload ("report_exported"): the trail shows that.
        std::string what = event.type == "clinician_action" ? str(payload, "action") : std::string();
        if (what.empty()) what = event.type;
        audit_.push_back(AuditEntry{event.seq, event.time, event.actor_id, std::move(what), event.patient_id});
    }
    // Scored questionnaires live beside the rest in their own book (outcome_series.h).
    if (event.type == "assessment_scored") {
        return assessments_.apply_scored(payload, event.patient_id) ? ApplyOutcome::applied : ApplyOutcome::malformed;
    }
    static constexpr std::array<std::string_view, 18> kShown{
        "clinic_configured", "clinician_added", "clinician_updated", "patient_registered", "patient_assigned",
        "conversation_started", "message_appended", "message_state_changed", "risk_assessed", "flag_opened",
        "flag_acknowledged", "flag_annotated", "flag_escalated", "flag_resolved", "crisis_entered",
        "crisis_cleared", "ai_paused", "ai_resumed"};
    // Treatment plans live in their own book (plan_history.h); a failed proposal is an llm_failed.
    if (event.type.starts_with("plan_") || event.type == "llm_failed") {
        return plans_.apply(event.type, event.patient_id, event.actor_id, event.time, payload) ? ApplyOutcome::applied
                                                                                                : ApplyOutcome::ignored;
    }
    if (std::find(kShown.begin(), kShown.end(), event.type) == kShown.end()) return ApplyOutcome::ignored;
    try {
        apply_payload(event, payload);
    } catch (const json::exception&) {
        // A type mismatch inside a payload is the bridge's bug, not a reason to stall the feed.
        return ApplyOutcome::malformed;
    }
    return ApplyOutcome::applied;
}

void Model::touch(const std::string& patient_id, std::optional<TimePoint> at) {
    if (patient_id.empty()) return;
    changes_.patients.insert(patient_id);
    auto& p = patients_[patient_id];
    if (p.id.empty()) {
        // An event about a patient we have not seen registered (e.g. a cache started mid-log):
        // keep a stub so the row exists; its name arrives with patient_registered.
        p.id = patient_id;
        p.display_name = patient_id;
    }
    if (at && (!p.last_activity || *p.last_activity < *at)) p.last_activity = at;
}

void Model::upsert_message(MessageInfo message) {
    changes_.messages.insert(message.id);
    auto [it, inserted] = messages_.try_emplace(message.id, message);
    if (inserted) {
        patient_messages_[message.patient_id].push_back(message.id);
    } else {
        // Keep the risk we already know if the newer copy lacks one (a transcript page may omit it).
        if (!message.risk && it->second.risk) message.risk = it->second.risk;
        if (message.seq == 0) message.seq = it->second.seq;
        it->second = std::move(message);
    }
}

void Model::apply_payload(const StoredEvent& event, const json& payload) {
    const std::string& type = event.type;
    std::string patient_id = event.patient_id.empty() ? str(payload, "patient_id") : event.patient_id;

    if (type == "clinic_configured") {
        if (const auto policy = payload.find("policy"); policy != payload.end()) {
            policy_ = parse_policy(*policy);
            changes_.self_or_policy = true;
        }
    } else if (type == "clinician_added" || type == "clinician_updated") {
        if (auto c = parse_clinician(payload)) {
            if (c->id == self_.id && !c->roles.empty()) {
                self_.roles = c->roles;
                changes_.self_or_policy = true;
            }
            changes_.clinicians.insert(c->id);
            clinicians_[c->id] = std::move(*c);
        }
    } else if (type == "patient_registered" || type == "patient_assigned") {
        if (patient_id.empty()) patient_id = str(payload, "id");
        if (patient_id.empty()) return;
        changes_.patients.insert(patient_id);
        auto& p = patients_[patient_id];
        p.id = patient_id;
        if (type == "patient_registered" || payload.contains("display_name")) {
            const auto name = str(payload, "display_name");
            if (!name.empty()) p.display_name = name;
            if (p.display_name.empty()) p.display_name = patient_id;
        }
        if (payload.contains("conditions") && payload["conditions"].is_array()) {
            p.conditions.clear();
            for (const auto& c : payload["conditions"]) {
                if (c.is_string()) p.conditions.push_back(c.get<std::string>());
            }
        }
        std::string therapist = str(payload, "assigned_therapist_id");
        if (therapist.empty()) therapist = str(payload, "therapist_id");
        if (!therapist.empty() || type == "patient_assigned") p.assigned_therapist_id = therapist;
    } else if (type == "conversation_started") {
        touch(patient_id, event.time);
    } else if (type == "message_appended") {
        auto m = parse_message(payload);
        if (!m) return;
        if (m->patient_id.empty()) m->patient_id = patient_id;
        m->seq = event.seq;
        touch(m->patient_id, m->created_at == TimePoint{} ? event.time : m->created_at);
        upsert_message(std::move(*m));
    } else if (type == "message_state_changed") {
        std::string id = str(payload, "message_id");
        if (id.empty()) id = str(payload, "id");
        const auto it = messages_.find(id);
        if (it == messages_.end()) return;
        changes_.messages.insert(id);
        if (auto state = parse_message_state(str(payload, "state"))) it->second.state = *state;
        // edit-and-send replaces the held text with what the clinician approved.
        if (const auto text = payload.find("text"); text != payload.end() && text->is_string()) {
            it->second.text = text->get<std::string>();
            it->second.risk.reset();
        }
    } else if (type == "risk_assessed") {
        std::string id = str(payload, "message_id");
        const auto it = messages_.find(id);
        if (it == messages_.end()) return;
        changes_.messages.insert(id);
        const auto risk = payload.find("risk");
        if (auto parsed = parse_risk(risk != payload.end() ? *risk : payload)) it->second.risk = std::move(*parsed);
    } else if (type == "flag_opened") {
        auto f = parse_flag(payload);
        if (!f) return;
        if (f->patient_id.empty()) f->patient_id = patient_id;
        touch(f->patient_id, std::nullopt);
        changes_.flags.insert(f->id);
        flags_[f->id] = std::move(*f);
    } else if (type == "flag_acknowledged" || type == "flag_annotated" || type == "flag_escalated" ||
               type == "flag_resolved") {
        // Either the whole updated Flag record or a delta naming flag_id: accept both.
        if (payload.contains("status") && payload.contains("id")) {
            if (auto f = parse_flag(payload)) {
                if (f->patient_id.empty()) f->patient_id = patient_id;
                changes_.flags.insert(f->id);
                flags_[f->id] = std::move(*f);
            }
            return;
        }
        std::string id = str(payload, "flag_id");
        if (id.empty()) id = str(payload, "id");
        const auto it = flags_.find(id);
        if (it == flags_.end()) return;
        changes_.flags.insert(id);
        FlagInfo& f = it->second;
        const std::string actor = event.actor_id;
        if (type == "flag_acknowledged") {
            if (f.status != FlagStatus::resolved) f.status = FlagStatus::acknowledged;
            f.acknowledged_by = str(payload, "acknowledged_by");
            if (f.acknowledged_by.empty()) f.acknowledged_by = actor;
            f.acknowledged_at = time_field(payload, "acknowledged_at").value_or(event.time);
        } else if (type == "flag_annotated") {
            if (auto note = note_of(payload, actor, event.time)) f.notes.push_back(std::move(*note));
        } else if (type == "flag_escalated") {
            if (f.status != FlagStatus::resolved && f.status != FlagStatus::acknowledged) f.status = FlagStatus::escalated;
            if (const auto lvl = payload.find("escalation_level"); lvl != payload.end() && lvl->is_number_integer()) {
                f.escalation_level = lvl->get<int>();
            } else {
                f.escalation_level = std::min(2, f.escalation_level + 1);
            }
            if (auto note = note_of(payload, actor, event.time)) f.notes.push_back(std::move(*note));
        } else {
            f.status = FlagStatus::resolved;
            f.resolved_by = str(payload, "resolved_by");
            if (f.resolved_by.empty()) f.resolved_by = actor;
            f.resolved_at = time_field(payload, "resolved_at").value_or(event.time);
            const auto res = payload.find("resolution");
            const json& r = res != payload.end() && res->is_object() ? *res : payload;
            if (const auto rr = r.find("risk_real"); rr != r.end() && rr->is_boolean()) f.risk_real = rr->get<bool>();
        }
    } else if (type == "crisis_entered" || type == "crisis_cleared") {
        if (patient_id.empty()) return;
        touch(patient_id, std::nullopt);
        patients_[patient_id].in_crisis = type == "crisis_entered";
    } else if (type == "ai_paused" || type == "ai_resumed") {
        if (patient_id.empty()) return;
        touch(patient_id, std::nullopt);
        patients_[patient_id].ai_paused = type == "ai_paused";
    }
}

void Model::merge_transcript(const std::vector<MessageInfo>& messages) {
    for (const auto& m : messages) {
        if (m.id.empty() || m.patient_id.empty()) continue;
        touch(m.patient_id, m.created_at);
        upsert_message(m);
    }
}

ModelChanges Model::take_changes() {
    ModelChanges out = std::move(changes_);
    auto assessed = assessments_.take_changed();
    out.assessments.merge(assessed);
    auto planned = plans_.take_changed();
    out.plan_patients.merge(planned);
    changes_ = ModelChanges{};
    changes_.audit_from = audit_.size();
    return out;
}

void Model::requeue_changes(ModelChanges c) {
    changes_.patients.merge(c.patients);
    changes_.flags.merge(c.flags);
    changes_.messages.merge(c.messages);
    changes_.clinicians.merge(c.clinicians);
    changes_.assessments.merge(c.assessments);
    changes_.plan_patients.merge(c.plan_patients);
    changes_.audit_from = std::min(changes_.audit_from, c.audit_from);
    changes_.self_or_policy = changes_.self_or_policy || c.self_or_policy;
    changes_.cursor = changes_.cursor || c.cursor;
}

void Model::mark_all_changed() {
    for (const auto& [id, p] : patients_) changes_.patients.insert(id);
    for (const auto& [id, f] : flags_) changes_.flags.insert(id);
    for (const auto& [id, m] : messages_) changes_.messages.insert(id);
    for (const auto& [id, c] : clinicians_) changes_.clinicians.insert(id);
    for (const auto& [id, a] : assessments_.all()) changes_.assessments.insert(id);
    for (auto& id : plans_.patients()) changes_.plan_patients.insert(std::move(id));
    changes_.audit_from = 0;
    changes_.self_or_policy = true;
    changes_.cursor = true;
}

void Model::restore_patient(PatientInfo patient) {
    const std::string id = patient.id;
    patients_[id] = std::move(patient);
}

void Model::restore_flag(FlagInfo flag) {
    const std::string id = flag.id;
    flags_[id] = std::move(flag);
}

void Model::restore_message(MessageInfo message) {
    auto [it, inserted] = messages_.try_emplace(message.id, message);
    if (inserted) patient_messages_[message.patient_id].push_back(message.id);
    else it->second = std::move(message);
}

void Model::restore_clinician(ClinicianInfo clinician) {
    const std::string id = clinician.id;
    clinicians_[id] = std::move(clinician);
}

void Model::restore_audit(AuditEntry entry) { audit_.push_back(std::move(entry)); }

void Model::restore_assessment(AssessmentPoint point) { assessments_.restore(std::move(point)); }

void Model::restore_plan(PlanVersion version) { plans_.restore(std::move(version)); }

void Model::restore_identity(ClinicianInfo self, ClinicPolicy policy) {
    self_ = std::move(self);
    policy_ = policy;
}

void Model::restore_cursor(std::uint64_t cursor) {
    cursor_ = cursor;
    changes_ = ModelChanges{};
    assessments_.take_changed();
    plans_.take_changed();
    changes_.audit_from = audit_.size();
}

const PatientInfo* Model::patient(const std::string& id) const {
    const auto it = patients_.find(id);
    return it == patients_.end() ? nullptr : &it->second;
}

const FlagInfo* Model::flag(const std::string& id) const {
    const auto it = flags_.find(id);
    return it == flags_.end() ? nullptr : &it->second;
}

const MessageInfo* Model::message(const std::string& id) const {
    const auto it = messages_.find(id);
    return it == messages_.end() ? nullptr : &it->second;
}

std::vector<const MessageInfo*> Model::transcript(const std::string& patient_id) const {
    std::vector<const MessageInfo*> out;
    const auto ids = patient_messages_.find(patient_id);
    if (ids == patient_messages_.end()) return out;
    out.reserve(ids->second.size());
    for (const auto& id : ids->second) out.push_back(&messages_.at(id));
    // Fetched history has no seq of its own (0): creation time orders it before live messages.
    std::stable_sort(out.begin(), out.end(), [](const MessageInfo* a, const MessageInfo* b) {
        if (a->created_at != b->created_at) return a->created_at < b->created_at;
        return a->seq < b->seq;
    });
    return out;
}

std::string Model::clinician_name(const std::string& id) const {
    if (id == self_.id && !self_.display_name.empty()) return self_.display_name;
    const auto it = clinicians_.find(id);
    if (it == clinicians_.end() || it->second.display_name.empty()) return id;
    return it->second.display_name;
}

bool Model::may_act_on(const std::string& patient_id) const {
    if (self_.has_role(Role::supervisor)) return true;
    if (!self_.has_role(Role::therapist)) return false;
    const auto* p = patient(patient_id);
    return p != nullptr && p->assigned_therapist_id == self_.id;
}

}  // namespace tandem::clinician
