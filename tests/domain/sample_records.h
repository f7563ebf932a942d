#pragma once
// Fully populated sample records shared by the domain and schema tests: every optional field
// set, so round trips and schema checks cover every field.

#include "tandem/domain/json.h"
#include "tandem/domain/records.h"

namespace tandem::testing {

inline Timestamp at(const char* text) { return *parse_timestamp(text); }

inline RiskAssessment sample_risk() {
    RiskAssessment r;
    r.severity = Severity::high;
    r.categories = {RiskCategory::suicidal_ideation, RiskCategory::self_harm};
    r.cssrs_level = 4;
    r.spans = {{5, 17, "si.intent.en", "states intent to act"}};
    r.rationale = "intent without plan";
    r.engine_version = "1.0.0";
    r.ruleset_version = "2026.11.1";
    return r;
}

inline Clinic sample_clinic() {
    Clinic c;
    c.id = ClinicId("clinic-1");
    c.name = "Northside Counselling";
    c.timezone = "America/New_York";
    c.policy.crisis_resources["en-US"] = {
        {"988 Suicide & Crisis Lifeline", "988", ResourceKind::phone},
        {"Crisis Text Line", "741741", ResourceKind::text},
        {"Emergency services", "911", ResourceKind::emergency}};
    c.policy.crisis_resources["es-US"] = {{"988 Lifeline (español)", "https://988lifeline.org/es",
                                           ResourceKind::web}};
    return c;
}

inline Clinician sample_clinician() {
    Clinician c;
    c.id = ClinicianId("dr-okafor");
    c.clinic_id = ClinicId("clinic-1");
    c.username = "a.okafor";
    c.display_name = "Dr Ada Okafor";
    c.roles = {ClinicianRole::therapist, ClinicianRole::supervisor};
    c.active = true;
    c.created_at = at("2026-01-02T09:00:00.000Z");
    return c;
}

inline Patient sample_patient() {
    Patient p;
    p.id = PatientId("pat-7");
    p.clinic_id = ClinicId("clinic-1");
    p.display_name = "Sam";
    p.assigned_therapist_id = ClinicianId("dr-okafor");
    p.conditions = {"major depressive disorder", "insomnia"};
    p.locale = "en-US";
    p.created_at = at("2026-02-03T10:11:12.013Z");
    return p;
}

inline Conversation sample_conversation() {
    Conversation c;
    c.id = ConversationId("conv-1");
    c.patient_id = PatientId("pat-7");
    c.started_at = at("2026-11-26T03:00:00.000Z");
    c.ended_at = at("2026-11-26T03:30:00.500Z");
    return c;
}

inline Message sample_message() {
    Message m;
    m.id = MessageId("msg-1");
    m.conversation_id = ConversationId("conv-1");
    m.patient_id = PatientId("pat-7");
    m.sender = Sender::patient;
    m.sender_id = "pat-7";
    m.text = "I am going to end it all";
    m.state = MessageState::delivered;
    m.client_msg_id = "c-0001";
    m.plan_version = 3;
    m.created_at = at("2026-11-26T03:06:19.123Z");
    m.risk = sample_risk();
    return m;
}

inline Flag sample_flag() {
    Flag f;
    f.id = FlagId("flag-1");
    f.patient_id = PatientId("pat-7");
    f.conversation_id = ConversationId("conv-1");
    f.message_id = MessageId("msg-1");
    f.severity = Severity::high;
    f.categories = {RiskCategory::suicidal_ideation};
    f.status = FlagStatus::resolved;
    f.opened_at = at("2026-11-26T03:06:20.000Z");
    f.sla_deadline = at("2026-11-26T03:11:20.000Z");
    f.escalation_level = 1;
    f.notes = {{ClinicianId("dr-okafor"), at("2026-11-26T03:08:00.000Z"), "called the patient"}};
    f.acknowledged_by = ClinicianId("dr-okafor");
    f.acknowledged_at = at("2026-11-26T03:07:00.000Z");
    f.resolved_by = ClinicianId("dr-okafor");
    f.resolved_at = at("2026-11-26T03:40:00.000Z");
    f.resolution = FlagResolution{true, "safety plan reviewed by phone"};
    return f;
}

inline TreatmentPlan sample_plan() {
    TreatmentPlan p;
    p.id = PlanId("plan-3");
    p.patient_id = PatientId("pat-7");
    p.version = 3;
    p.based_on_version = 2;
    p.status = PlanStatus::approved;
    p.proposer = {ProposerKind::clinician, ClinicianId("dr-okafor")};
    p.approver_id = ClinicianId("dr-lee");
    p.reason = "adds sleep goals";
    p.created_at = at("2026-11-01T12:00:00.000Z");
    p.decided_at = at("2026-11-02T08:30:00.000Z");
    p.presenting_problems = {"low mood", "poor sleep"};
    p.conditions = {"major depressive disorder"};
    p.goals = {{"sleep 7 hours", "sleep diary", Date{std::chrono::year{2026}, std::chrono::month{12}, std::chrono::day{31}}},
               {"walk daily", "activity log", Date{std::chrono::year{2027}, std::chrono::month{1}, std::chrono::day{15}}}};
    p.interventions = {{"behavioural activation", "suggest one small pleasant activity a day"}};
    p.homework = {"keep a sleep diary"};
    p.checkin_cadence = "daily";
    p.assessment_schedule = {{Instrument::phq9, 0}, {Instrument::gad7, 4}};
    p.safety_plan = {{"not sleeping"}, {"breathing exercise"}, {"the park"}, {"my sister"},
                     {"988"}, {"medication locked away"}};
    p.ai_guidance = {"warm and brief", {"weight"}, {"any mention of a plan"}};
    return p;
}

inline Assessment sample_assessment() {
    Assessment a;
    a.id = AssessmentId("asmt-1");
    a.patient_id = PatientId("pat-7");
    a.instrument = Instrument::phq9;
    a.items = {1, 2, 1, 0, 3, 2, 1, 0, 1};
    a.score = 11;
    a.band = "moderate";
    a.administered_at = at("2026-11-20T10:00:00.000Z");
    a.completed_at = at("2026-11-20T10:04:00.000Z");
    return a;
}

inline Assessment sample_cssrs() {
    Assessment a;
    a.id = AssessmentId("asmt-2");
    a.patient_id = PatientId("pat-7");
    a.instrument = Instrument::cssrs_screener;
    a.items = {1, 0, std::nullopt, std::nullopt, std::nullopt, 0};
    a.score = 1;
    a.band = "low";
    a.administered_at = at("2026-11-20T10:05:00.000Z");
    return a;
}

inline AuditEvent sample_audit() {
    AuditEvent e;
    e.id = EventId("evt-1");
    e.clinician_id = ClinicianId("dr-okafor");
    e.action = "transcript_viewed";
    e.patient_id = PatientId("pat-7");
    e.target_id = "conv-1";
    e.at = at("2026-11-26T04:00:00.000Z");
    e.detail = "weekly review";
    return e;
}

}  // namespace tandem::testing
