#pragma once
// Documents checked by both validators: what the C++ code writes (must pass) and crafted bad
// documents (must fail at the named JSON pointer).

#include <functional>
#include <string>
#include <vector>

#include "sample_records.h"

namespace tandem::testing {

struct GoodDocument {
    std::string name;
    std::string schema;
    nlohmann::json document;
};

struct BadDocument {
    const char* name;
    const char* schema;
    std::function<void(nlohmann::json&)> mutate;
    const char* pointer;
};

inline nlohmann::json sample_event(std::string type, nlohmann::json payload) {
    return {{"seq", 42},
            {"id", "evt-42"},
            {"type", std::move(type)},
            {"time", "2026-11-26T03:06:19.200Z"},
            {"patient_id", "pat-7"},
            {"actor", {{"kind", "patient"}, {"id", "pat-7"}}},
            {"payload", std::move(payload)},
            {"prev_hash", std::string(64, '0')},
            {"hash", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}};
}

inline nlohmann::json sample_envelope() {
    return {{"type", "patient_message"},
            {"id", "c-0001"},
            {"time", "2026-11-26T03:06:19.123Z"},
            {"payload", {{"text", "hello"}}},
            {"seq", 7}};
}

/// Every record as the C++ code writes it, fully populated and with every optional absent.
inline std::vector<GoodDocument> good_documents() {
    Patient patient = sample_patient();
    patient.assigned_therapist_id.reset();
    patient.conditions.clear();
    Conversation conversation = sample_conversation();
    conversation.ended_at.reset();
    Message message = sample_message();
    message.sender = Sender::ai;
    message.sender_id.reset();
    message.client_msg_id.reset();
    message.plan_version.reset();
    message.risk.reset();
    message.state = MessageState::held;
    Flag flag = sample_flag();
    flag.status = FlagStatus::open;
    flag.conversation_id.reset();
    flag.message_id.reset();
    flag.notes.clear();
    flag.escalation_level = 0;
    flag.acknowledged_by.reset();
    flag.acknowledged_at.reset();
    flag.resolved_by.reset();
    flag.resolved_at.reset();
    flag.resolution.reset();
    TreatmentPlan plan = sample_plan();
    plan.status = PlanStatus::proposed;
    plan.proposer = {ProposerKind::ai, std::nullopt};
    plan.approver_id.reset();
    plan.reason.reset();
    plan.decided_at.reset();
    Assessment wai;
    wai.id = AssessmentId("asmt-3");
    wai.patient_id = PatientId("pat-7");
    wai.instrument = Instrument::wai_sr;
    wai.items = {4, 5, 3, 4, 4, 5, 2, 3, 4, 4, 5, 5};
    wai.score = 48;
    wai.administered_at = at("2026-11-21T09:00:00.000Z");
    Assessment gad;
    gad.id = AssessmentId("asmt-4");
    gad.patient_id = PatientId("pat-7");
    gad.instrument = Instrument::gad7;
    gad.items = {0, 1, 2, 3, 0, 1, 2};
    gad.administered_at = at("2026-11-21T09:10:00.000Z");
    AuditEvent audit = sample_audit();
    audit.patient_id.reset();
    audit.target_id.reset();
    audit.detail.clear();
    RiskAssessment risk = sample_risk();
    risk.cssrs_level.reset();
    risk.spans.clear();
    risk.categories.clear();
    risk.severity = Severity::none;

    nlohmann::json envelope_without_seq = sample_envelope();
    envelope_without_seq.erase("seq");
    return {
        {"risk_assessment_full", "records/risk_assessment", sample_risk()},
        {"risk_assessment_min", "records/risk_assessment", risk},
        {"clinic_full", "records/clinic", sample_clinic()},
        {"clinician_full", "records/clinician", sample_clinician()},
        {"patient_full", "records/patient", sample_patient()},
        {"patient_min", "records/patient", patient},
        {"conversation_full", "records/conversation", sample_conversation()},
        {"conversation_min", "records/conversation", conversation},
        {"message_full", "records/message", sample_message()},
        {"message_min", "records/message", message},
        {"flag_full", "records/flag", sample_flag()},
        {"flag_min", "records/flag", flag},
        {"plan_full", "records/treatment_plan", sample_plan()},
        {"plan_min", "records/treatment_plan", plan},
        {"assessment_phq9", "records/assessment", sample_assessment()},
        {"assessment_cssrs", "records/assessment", sample_cssrs()},
        {"assessment_wai", "records/assessment", wai},
        {"assessment_gad7", "records/assessment", gad},
        {"audit_full", "records/audit_event", sample_audit()},
        {"audit_min", "records/audit_event", audit},
        {"event_message", "records/event", sample_event("message_appended", sample_message())},
        {"event_flag", "records/event", sample_event("flag_opened", sample_flag())},
        {"event_other", "records/event", sample_event("ai_paused", {{"reason", "crisis"}})},
        {"envelope_full", "wire/envelope", sample_envelope()},
        {"envelope_min", "wire/envelope", envelope_without_seq},
        {"error_payload_full", "wire/error",
         {{"code", "schema"}, {"message", "must be UTC"}, {"field", "/time"}, {"reply_to", "c-0001"}}},
        {"error_payload_min", "wire/error", {{"code", "too_large"}, {"message", "over 65536 bytes"}}},
    };
}

inline nlohmann::json sample_for(std::string_view schema) {
    if (schema == "records/risk_assessment") return sample_risk();
    if (schema == "records/clinic") return sample_clinic();
    if (schema == "records/clinician") return sample_clinician();
    if (schema == "records/patient") return sample_patient();
    if (schema == "records/conversation") return sample_conversation();
    if (schema == "records/message") return sample_message();
    if (schema == "records/flag") return sample_flag();
    if (schema == "records/treatment_plan") return sample_plan();
    if (schema == "records/assessment") return sample_assessment();
    if (schema == "records/audit_event") return sample_audit();
    if (schema == "records/event") return sample_event("message_appended", sample_message());
    if (schema == "wire/error") return {{"code", "schema"}, {"message", "must be UTC"}, {"field", "/time"}};
    return sample_envelope();
}

/// Crafted bad documents; each starts from sample_for(schema).
inline std::vector<BadDocument> bad_documents() {
    using nlohmann::json;
    return {
        {"missing id", "records/patient", [](json& j) { j.erase("id"); }, "/id"},
        {"unknown property", "records/patient", [](json& j) { j["nickname"] = "S"; }, "/nickname"},
        {"id with a slash", "records/message", [](json& j) { j["conversation_id"] = "conv/1"; }, "/conversation_id"},
        {"time with an offset", "records/conversation", [](json& j) { j["started_at"] = "2026-11-26T03:00:00.000+01:00"; }, "/started_at"},
        {"time without milliseconds", "records/audit_event", [](json& j) { j["at"] = "2026-11-26T04:00:00Z"; }, "/at"},
        {"unknown sender", "records/message", [](json& j) { j["sender"] = "bot"; }, "/sender"},
        {"empty message text", "records/message", [](json& j) { j["text"] = ""; }, "/text"},
        {"clinician message without sender_id", "records/message", [](json& j) { j["sender"] = "clinician"; j.erase("sender_id"); }, "/sender_id"},
        {"C-SSRS level 7 in a message", "records/message", [](json& j) { j["risk"]["cssrs_level"] = 7; }, "/risk/cssrs_level"},
        {"negative span begin", "records/message", [](json& j) { j["risk"]["spans"][0]["begin"] = -1; }, "/risk/spans/0/begin"},
        {"unknown risk category", "records/risk_assessment", [](json& j) { j["categories"][1] = "sadness"; }, "/categories/1"},
        {"blank clinic name", "records/clinic", [](json& j) { j["name"] = "   "; }, "/name"},
        {"SLA of zero minutes", "records/clinic", [](json& j) { j["policy"]["urgent_sla_minutes"] = 0; }, "/policy/urgent_sla_minutes"},
        {"unknown resource kind", "records/clinic", [](json& j) { j["policy"]["crisis_resources"]["en-US"][1]["kind"] = "fax"; }, "/policy/crisis_resources/en-US/1/kind"},
        {"no roles", "records/clinician", [](json& j) { j["roles"] = json::array(); }, "/roles"},
        {"active as text", "records/clinician", [](json& j) { j["active"] = "yes"; }, "/active"},
        {"bad locale", "records/patient", [](json& j) { j["locale"] = "english"; }, "/locale"},
        {"resolved flag without resolution", "records/flag", [](json& j) { j.erase("resolution"); }, "/resolution"},
        {"escalation level 3", "records/flag", [](json& j) { j["escalation_level"] = 3; }, "/escalation_level"},
        {"acknowledged flag without acknowledger", "records/flag", [](json& j) {
             j["status"] = "acknowledged"; j.erase("acknowledged_by");
             j.erase("resolution"); j.erase("resolved_by"); j.erase("resolved_at"); }, "/acknowledged_by"},
        {"escalated flag at level 0", "records/flag", [](json& j) {
             j["status"] = "escalated"; j["escalation_level"] = 0;
             j.erase("resolution"); j.erase("resolved_by"); j.erase("resolved_at"); }, "/escalation_level"},
        {"open flag with a resolution", "records/flag", [](json& j) {
             j["status"] = "open"; j.erase("resolved_by"); j.erase("resolved_at"); }, ""},
        {"proposed plan with an approver", "records/treatment_plan", [](json& j) {
             j["status"] = "proposed"; j.erase("decided_at"); }, ""},
        {"note without text", "records/flag", [](json& j) { j["notes"][0].erase("text"); }, "/notes/0/text"},
        {"plan version 0", "records/treatment_plan", [](json& j) { j["version"] = 0; }, "/version"},
        {"goal date with a time", "records/treatment_plan", [](json& j) { j["goals"][1]["target_date"] = "2027-01-15T00:00:00.000Z"; }, "/goals/1/target_date"},
        {"goal date month 13", "records/treatment_plan", [](json& j) { j["goals"][0]["target_date"] = "2026-13-01"; }, "/goals/0/target_date"},
        {"clinician proposer without id", "records/treatment_plan", [](json& j) { j["proposer"].erase("clinician_id"); }, "/proposer/clinician_id"},
        {"approved plan without approver", "records/treatment_plan", [](json& j) { j.erase("approver_id"); }, "/approver_id"},
        {"safety plan list missing", "records/treatment_plan", [](json& j) { j["safety_plan"].erase("people_to_ask"); }, "/safety_plan/people_to_ask"},
        {"PHQ-9 item of 4", "records/assessment", [](json& j) { j["items"][4] = 4; }, "/items/4"},
        {"PHQ-9 item of -1", "records/assessment", [](json& j) { j["items"][3] = -1; }, "/items/3"},
        {"malformed instrument id", "records/assessment", [](json& j) { j["instrument"] = "PHQ-9"; }, "/instrument"},
        {"PHQ-9 with 8 items", "records/assessment", [](json& j) { j["items"].erase(8); }, "/items"},
        {"WAI-SR item of 0", "records/assessment", [](json& j) {
             j["instrument"] = "wai_sr"; j["items"] = json{3, 3, 3, 3, 3, 0, 3, 3, 3, 3, 3, 3};
             j.erase("score"); j.erase("band"); }, "/items/5"},
        {"action not snake_case", "records/audit_event", [](json& j) { j["action"] = "Viewed"; }, "/action"},
        {"event hash too short", "records/event", [](json& j) { j["hash"] = "abc"; }, "/hash"},
        {"event of unknown type", "records/event", [](json& j) { j["type"] = "message_sent"; }, "/type"},
        {"event seq 0", "records/event", [](json& j) { j["seq"] = 0; }, "/seq"},
        {"event actor kind unknown", "records/event", [](json& j) { j["actor"]["kind"] = "robot"; }, "/actor/kind"},
        {"message event with a bad payload", "records/event", [](json& j) { j["payload"]["state"] = "lost"; }, "/payload/state"},
        {"envelope without payload", "wire/envelope", [](json& j) { j.erase("payload"); }, "/payload"},
        {"envelope payload not an object", "wire/envelope", [](json& j) { j["payload"] = "hi"; }, "/payload"},
        {"envelope type with capitals", "wire/envelope", [](json& j) { j["type"] = "PatientMessage"; }, "/type"},
        {"envelope seq negative", "wire/envelope", [](json& j) { j["seq"] = -5; }, "/seq"},
        {"error payload with an unknown code", "wire/error", [](json& j) { j["code"] = "teapot"; }, "/code"},
        {"error payload without message", "wire/error", [](json& j) { j.erase("message"); }, "/message"},
        {"envelope extra field", "wire/envelope", [](json& j) { j["token"] = "secret"; }, "/token"},
    };
}

}  // namespace tandem::testing
