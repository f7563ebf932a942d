#include <functional>
#include <string>

#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>

#include "sample_records.h"

using namespace tandem;
using namespace tandem::testing;
using nlohmann::json;

namespace {

template <class T>
T sample();
template <> RiskAssessment sample<RiskAssessment>() { return sample_risk(); }
template <> Clinic sample<Clinic>() { return sample_clinic(); }
template <> Clinician sample<Clinician>() { return sample_clinician(); }
template <> Patient sample<Patient>() { return sample_patient(); }
template <> Conversation sample<Conversation>() { return sample_conversation(); }
template <> Message sample<Message>() { return sample_message(); }
template <> Flag sample<Flag>() { return sample_flag(); }
template <> TreatmentPlan sample<TreatmentPlan>() { return sample_plan(); }
template <> Assessment sample<Assessment>() { return sample_assessment(); }
template <> AuditEvent sample<AuditEvent>() { return sample_audit(); }

}  // namespace

TEMPLATE_TEST_CASE("every record survives a JSON round trip unchanged", "[domain][json]",
                   RiskAssessment, Clinic, Clinician, Patient, Conversation, Message, Flag,
                   TreatmentPlan, Assessment, AuditEvent) {
    const TestType original = sample<TestType>();
    REQUIRE(validate(original).has_value());
    const json j = original;
    // Through text too, as the store and the wire carry it.
    const auto back = from_json_checked<TestType>(json::parse(j.dump()));
    INFO(j.dump());
    REQUIRE(back.has_value());
    CHECK(*back == original);
}

TEST_CASE("optional fields are omitted when absent and read back as absent", "[domain][json]") {
    Message m = sample_message();
    m.sender_id.reset();
    m.client_msg_id.reset();
    m.plan_version.reset();
    m.risk.reset();
    const json j = m;
    CHECK_FALSE(j.contains("risk"));
    CHECK_FALSE(j.contains("sender_id"));
    const auto back = from_json_checked<Message>(j);
    REQUIRE(back.has_value());
    CHECK(*back == m);
}

TEST_CASE("a skipped C-SSRS screener question is written as null and read back", "[domain][json]") {
    const Assessment a = sample_cssrs();
    const json j = a;
    CHECK(j["items"][2].is_null());
    const auto back = from_json_checked<Assessment>(j);
    REQUIRE(back.has_value());
    CHECK(*back == a);
}

namespace {

struct BadCase {
    const char* name;
    const char* record;
    std::function<void(json&)> mutate;
    const char* field;
};

// Reads the mutated sample of the named record and returns its error, if any.
std::optional<Error> read_error(std::string_view record, const json& j) {
    auto err = [](const auto& r) -> std::optional<Error> {
        if (r) return std::nullopt;
        return r.error();
    };
    if (record == "risk_assessment") return err(from_json_checked<RiskAssessment>(j));
    if (record == "clinic") return err(from_json_checked<Clinic>(j));
    if (record == "clinician") return err(from_json_checked<Clinician>(j));
    if (record == "patient") return err(from_json_checked<Patient>(j));
    if (record == "conversation") return err(from_json_checked<Conversation>(j));
    if (record == "message") return err(from_json_checked<Message>(j));
    if (record == "flag") return err(from_json_checked<Flag>(j));
    if (record == "treatment_plan") return err(from_json_checked<TreatmentPlan>(j));
    if (record == "assessment") return err(from_json_checked<Assessment>(j));
    if (record == "audit_event") return err(from_json_checked<AuditEvent>(j));
    FAIL("unknown record " << record);
    return std::nullopt;
}

json sample_json(std::string_view record) {
    if (record == "risk_assessment") return sample_risk();
    if (record == "clinic") return sample_clinic();
    if (record == "clinician") return sample_clinician();
    if (record == "patient") return sample_patient();
    if (record == "conversation") return sample_conversation();
    if (record == "message") return sample_message();
    if (record == "flag") return sample_flag();
    if (record == "treatment_plan") return sample_plan();
    if (record == "assessment") return sample_assessment();
    return sample_audit();
}

}  // namespace

TEST_CASE("bad records are refused with the path of the offending field", "[domain][json]") {
    const BadCase cases[] = {
        // shapes
        {"record is not an object", "patient", [](json& j) { j = json::array(); }, ""},
        {"required field missing", "patient", [](json& j) { j.erase("display_name"); }, "display_name"},
        {"unknown field", "patient", [](json& j) { j["nickname"] = "S"; }, "nickname"},
        {"misspelt optional field", "message", [](json& j) { j["plan_verison"] = 2; }, "plan_verison"},
        {"wrong type", "clinician", [](json& j) { j["active"] = "yes"; }, "active"},
        {"optional written as null", "patient", [](json& j) { j["assigned_therapist_id"] = nullptr; }, "assigned_therapist_id"},
        {"float where integer", "treatment_plan", [](json& j) { j["version"] = 1.5; }, "version"},
        // ids and times
        {"empty id", "clinic", [](json& j) { j["id"] = ""; }, "id"},
        {"id with a space", "message", [](json& j) { j["conversation_id"] = "conv 1"; }, "conversation_id"},
        {"id of 65 characters", "flag", [](json& j) { j["id"] = std::string(65, 'f'); }, "id"},
        {"time with offset", "conversation", [](json& j) { j["started_at"] = "2026-11-26T03:00:00.000+01:00"; }, "started_at"},
        {"time without milliseconds", "audit_event", [](json& j) { j["at"] = "2026-11-26T04:00:00Z"; }, "at"},
        {"ended before started", "conversation", [](json& j) { j["ended_at"] = "2026-11-26T02:59:59.999Z"; }, "ended_at"},
        // enums
        {"unknown sender", "message", [](json& j) { j["sender"] = "bot"; }, "sender"},
        {"unknown role", "clinician", [](json& j) { j["roles"][1] = "owner"; }, "roles[1]"},
        {"unknown category", "flag", [](json& j) { j["categories"][0] = "sadness"; }, "categories[0]"},
        {"unknown resource kind", "clinic", [](json& j) { j["policy"]["crisis_resources"]["en-US"][1]["kind"] = "fax"; }, "policy.crisis_resources.en-US[1].kind"},
        // names and text
        {"blank clinic name", "clinic", [](json& j) { j["name"] = "  "; }, "name"},
        {"empty display name", "patient", [](json& j) { j["display_name"] = ""; }, "display_name"},
        {"empty condition", "patient", [](json& j) { j["conditions"][1] = ""; }, "conditions[1]"},
        {"bad locale", "patient", [](json& j) { j["locale"] = "english"; }, "locale"},
        {"username with a space", "clinician", [](json& j) { j["username"] = "ada okafor"; }, "username"},
        {"no roles", "clinician", [](json& j) { j["roles"] = json::array(); }, "roles"},
        {"repeated role", "clinician", [](json& j) { j["roles"][1] = "therapist"; }, "roles[1]"},
        {"empty message text", "message", [](json& j) { j["text"] = ""; }, "text"},
        {"clinician message without sender_id", "message", [](json& j) { j["sender"] = "clinician"; j.erase("sender_id"); }, "sender_id"},
        {"plan version 0 on a message", "message", [](json& j) { j["plan_version"] = 0; }, "plan_version"},
        // clinic policy
        {"SLA of zero minutes", "clinic", [](json& j) { j["policy"]["urgent_sla_minutes"] = 0; }, "policy.urgent_sla_minutes"},
        {"second escalation before the SLA", "clinic", [](json& j) { j["policy"]["second_escalation_minutes"] = 2; }, "policy.second_escalation_minutes"},
        {"locale with no resources", "clinic", [](json& j) { j["policy"]["crisis_resources"]["fr-FR"] = json::array(); }, "policy.crisis_resources.fr-FR"},
        {"resource without contact", "clinic", [](json& j) { j["policy"]["crisis_resources"]["en-US"][0]["contact"] = ""; }, "policy.crisis_resources.en-US[0].contact"},
        // risk assessments
        {"C-SSRS level 7", "risk_assessment", [](json& j) { j["cssrs_level"] = 7; }, "cssrs_level"},
        {"C-SSRS level -1", "risk_assessment", [](json& j) { j["cssrs_level"] = -1; }, "cssrs_level"},
        {"span ends before it begins", "risk_assessment", [](json& j) { j["spans"][0]["begin"] = 20; }, "spans[0].end"},
        {"negative span offset", "risk_assessment", [](json& j) { j["spans"][0]["begin"] = -3; }, "spans[0].begin"},
        {"span without rule id", "risk_assessment", [](json& j) { j["spans"][0]["rule_id"] = ""; }, "spans[0].rule_id"},
        {"repeated category", "risk_assessment", [](json& j) { j["categories"][1] = "suicidal_ideation"; }, "categories[1]"},
        {"no engine version", "risk_assessment", [](json& j) { j["engine_version"] = ""; }, "engine_version"},
        {"span past the message text", "message", [](json& j) { j["risk"]["spans"][0]["end"] = 400; }, "risk.spans[0].end"},
        {"nested C-SSRS level out of range", "message", [](json& j) { j["risk"]["cssrs_level"] = 9; }, "risk.cssrs_level"},
        // flags
        {"resolved flag without resolution", "flag", [](json& j) { j.erase("resolution"); }, "resolution"},
        {"resolved flag without resolver", "flag", [](json& j) { j.erase("resolved_by"); }, "resolved_by"},
        {"open flag with a resolution", "flag", [](json& j) { j["status"] = "open"; }, "resolution"},
        {"escalation level 3", "flag", [](json& j) { j["escalation_level"] = 3; }, "escalation_level"},
        {"escalated at level 0", "flag", [](json& j) {
             j["status"] = "escalated"; j["escalation_level"] = 0;
             j.erase("resolution"); j.erase("resolved_by"); j.erase("resolved_at"); }, "escalation_level"},
        {"SLA deadline before opening", "flag", [](json& j) { j["sla_deadline"] = "2026-11-26T03:00:00.000Z"; }, "sla_deadline"},
        {"acknowledged_at without acknowledged_by", "flag", [](json& j) { j.erase("acknowledged_by"); }, "acknowledged_by"},
        {"empty note text", "flag", [](json& j) { j["notes"][0]["text"] = ""; }, "notes[0].text"},
        {"resolution without verdict", "flag", [](json& j) { j["resolution"].erase("risk_real"); }, "resolution.risk_real"},
        // treatment plans
        {"plan version 0", "treatment_plan", [](json& j) { j["version"] = 0; }, "version"},
        {"impossible goal date", "treatment_plan", [](json& j) { j["goals"][1]["target_date"] = "2027-02-30"; }, "goals[1].target_date"},
        {"goal date as a timestamp", "treatment_plan", [](json& j) { j["goals"][0]["target_date"] = "2026-12-31T00:00:00.000Z"; }, "goals[0].target_date"},
        {"empty goal measure", "treatment_plan", [](json& j) { j["goals"][1]["measure"] = ""; }, "goals[1].measure"},
        {"clinician proposer without id", "treatment_plan", [](json& j) { j["proposer"].erase("clinician_id"); }, "proposer.clinician_id"},
        {"AI proposer with a clinician id", "treatment_plan", [](json& j) { j["proposer"]["kind"] = "ai"; }, "proposer.clinician_id"},
        {"approved plan without approver", "treatment_plan", [](json& j) { j.erase("approver_id"); }, "approver_id"},
        {"decided before created", "treatment_plan", [](json& j) { j["decided_at"] = "2026-10-01T00:00:00.000Z"; }, "decided_at"},
        {"negative assessment week", "treatment_plan", [](json& j) { j["assessment_schedule"][1]["week"] = -1; }, "assessment_schedule[1].week"},
        {"malformed instrument id in schedule", "treatment_plan", [](json& j) { j["assessment_schedule"][0]["instrument"] = "BDI-II"; }, "assessment_schedule[0].instrument"},
        {"safety plan list missing", "treatment_plan", [](json& j) { j["safety_plan"].erase("people_to_ask"); }, "safety_plan.people_to_ask"},
        {"empty safety plan entry", "treatment_plan", [](json& j) { j["safety_plan"]["environment_safety"][0] = ""; }, "safety_plan.environment_safety[0]"},
        {"empty AI tone", "treatment_plan", [](json& j) { j["ai_guidance"]["tone"] = ""; }, "ai_guidance.tone"},
        // assessments
        {"PHQ-9 with 8 items", "assessment", [](json& j) { j["items"].erase(8); j.erase("score"); j.erase("band"); }, "items"},
        {"PHQ-9 item of 4", "assessment", [](json& j) { j["items"][4] = 4; }, "items[4]"},
        {"PHQ-9 item of -1", "assessment", [](json& j) { j["items"][0] = -1; }, "items[0]"},
        {"prorated PHQ-9 score above 27", "assessment", [](json& j) { j["items"][0] = nullptr; j["score"] = 28; j.erase("band"); }, "score"},
        {"GAD-7 with 9 items", "assessment", [](json& j) { j["instrument"] = "gad7"; }, "items"},
        {"wrong score", "assessment", [](json& j) { j["score"] = 12; }, "score"},
        {"wrong band", "assessment", [](json& j) { j["band"] = "severe"; }, "band"},
        {"completed before administered", "assessment", [](json& j) { j["completed_at"] = "2026-11-19T10:00:00.000Z"; }, "completed_at"},
        // audit
        {"action not snake_case", "audit_event", [](json& j) { j["action"] = "Viewed Transcript"; }, "action"},
        {"bad target id", "audit_event", [](json& j) { j["target_id"] = "conv/1"; }, "target_id"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        json j = sample_json(c.record);
        c.mutate(j);
        const auto error = read_error(c.record, j);
        REQUIRE(error.has_value());
        INFO(error->describe());
        CHECK(error->field == c.field);
        CHECK_FALSE(error->message.empty());
    }
}

TEST_CASE("validate() checks records built in code too", "[domain][validate]") {
    Clinic clinic = sample_clinic();
    CHECK(validate(clinic).has_value());
    clinic.id = ClinicId{};
    const auto r = validate(clinic);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().field == "id");
    CHECK(r.error().code == ErrorCode::invalid_argument);
}
