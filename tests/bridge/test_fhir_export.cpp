// FHIR R4 export: the pure mapping (records and events -> resources), the bundle's references,
// message text only with transcripts, and the export against a real SQLCipher store (audited
// first, 0600 files, nothing written for an unknown patient). The official schema checks the
// same bundles in tests/e2e/test_fhir_export.py, including tests/data/fhir/sample_bundle.json,
// which the "sample bundle" case below keeps equal to what this code produces.
#include <catch2/catch_test_macros.hpp>

#include <sys/stat.h>

#include <fstream>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>

#include "tandem/bridge/fhir_export.h"
#include "tandem/store/sqlcipher_store.h"
#include "test_support.h"

using namespace tandem;
using namespace tandem::bridge;
using nlohmann::json;
using tandem::test::TempDir;

namespace {

const std::filesystem::path kFhirData = TANDEM_FHIR_DATA_DIR;
const std::filesystem::path kInstruments = TANDEM_INSTRUMENTS_DIR;
constexpr const char* kSecretText = "I told nobody about the bridge near my house";
constexpr const char* kPatient = "pat-1";
constexpr const char* kTherapist = "clin-tara";

json read_json(const std::filesystem::path& p) {
    std::ifstream in(p);
    REQUIRE(in);
    return json::parse(in);
}

// The definitions the library ships (common/measures/instruments), as the export reads them.
const FhirInstrument* instrument(std::string_view id) {
    static const std::map<std::string, FhirInstrument, std::less<>> defs = [] {
        std::map<std::string, FhirInstrument, std::less<>> m;
        for (const char* name : {"phq9", "gad7", "cssrs_screener", "wai_sr"})
            m[name] = fhir::instrument_from_definition(read_json(kInstruments / (std::string(name) + ".json")));
        return m;
    }();
    const auto it = defs.find(id);
    return it == defs.end() ? nullptr : &it->second;
}

StoredEvent event(std::int64_t seq, EventType type, json payload, Actor actor = {ActorKind::system, std::nullopt}) {
    StoredEvent e;
    e.seq = seq;
    e.id = "ev-" + std::to_string(seq);
    e.type = type;
    e.time = "2026-11-20T10:00:" + std::string(seq < 10 ? "0" : "") + std::to_string(seq) + ".000Z";
    e.patient_id = kPatient;
    e.actor = std::move(actor);
    e.payload = std::move(payload);
    return e;
}

json plan_record(const std::string& id, int version, const std::string& created) {
    return {{"id", id},
            {"patient_id", kPatient},
            {"version", version},
            {"status", "proposed"},
            {"proposer", {{"kind", "ai"}}},
            {"created_at", created},
            {"presenting_problems", {"low mood"}},
            {"conditions", {"depression"}},
            {"goals", {{{"description", "Walk three times a week"}, {"measure", "walks logged"}, {"target_date", "2026-12-31"}}}},
            {"interventions", {{{"name", "behavioural activation"}, {"how_ai_uses_it", "plans one small activity a day"}}}},
            {"homework", {"activity diary"}},
            {"checkin_cadence", "daily"},
            {"assessment_schedule", {{{"instrument", "phq9"}, {"week", 4}}}},
            {"safety_plan",
             {{"warning_signs", {"not sleeping"}},
              {"internal_coping", {"music"}},
              {"distraction_people_places", json::array()},
              {"people_to_ask", json::array()},
              {"professionals_and_crisis_lines", {"988"}},
              {"environment_safety", json::array()}}},
            {"ai_guidance", {{"tone", "warm"}, {"avoid_topics", json::array()}, {"escalate_when", json::array()}}}};
}

// One patient's life in the log: registration, a conversation with a risky turn, a flag that is
// acknowledged and resolved, two approved plan versions, a PHQ-9 and a C-SSRS screener with
// skipped items, a transcript read and a clinician action.
std::vector<StoredEvent> sample_events() {
    const Actor tara{ActorKind::clinician, std::string(kTherapist)};
    std::vector<StoredEvent> v;
    std::int64_t s = 0;
    v.push_back(event(++s, EventType::patient_registered,
                      {{"id", kPatient}, {"clinic_id", "clinic"}, {"display_name", "Alex (pseudonym)"},
                       {"conditions", json::array()}, {"locale", "en-US"}, {"created_at", "2026-11-20T10:00:01.000Z"}}));
    v.push_back(event(++s, EventType::patient_assigned, {{"patient_id", kPatient}, {"assigned_therapist_id", kTherapist}}));
    v.push_back(event(++s, EventType::message_appended,
                      {{"id", "msg-1"}, {"conversation_id", "conv-1"}, {"patient_id", kPatient}, {"sender", "patient"},
                       {"text", kSecretText}, {"state", "delivered"}, {"created_at", "2026-11-20T10:00:03.000Z"}},
                      {ActorKind::patient, std::string(kPatient)}));
    v.push_back(event(++s, EventType::risk_assessed,
                      {{"severity", "high"}, {"categories", {"suicidal_ideation"}}, {"cssrs_level", 3},
                       {"spans", {{{"begin", 0}, {"end", 6}, {"rule_id", "si.method"}, {"rationale", "names a method"}}}},
                       {"rationale", "method named"}, {"engine_version", "1.0"}, {"ruleset_version", "7"},
                       {"message_id", "msg-1"}, {"patient_id", kPatient}}));
    v.push_back(event(++s, EventType::flag_opened,
                      {{"id", "flag-1"}, {"patient_id", kPatient}, {"conversation_id", "conv-1"}, {"message_id", "msg-1"},
                       {"severity", "high"}, {"categories", {"suicidal_ideation"}}, {"status", "open"},
                       {"opened_at", "2026-11-20T10:00:05.000Z"}, {"sla_deadline", "2026-11-20T10:05:05.000Z"},
                       {"escalation_level", 0}, {"notes", json::array()}}));
    v.push_back(event(++s, EventType::message_appended,
                      {{"id", "msg-2"}, {"conversation_id", "conv-1"}, {"patient_id", kPatient}, {"sender", "ai"},
                       {"text", "held reply"}, {"state", "held"}, {"created_at", "2026-11-20T10:00:06.000Z"}},
                      {ActorKind::ai, std::nullopt}));
    v.push_back(event(++s, EventType::flag_acknowledged,
                      {{"flag_id", "flag-1"}, {"action_id", "a1"}, {"patient_id", kPatient},
                       {"acknowledged_by", kTherapist}, {"acknowledged_at", "2026-11-20T10:00:07.000Z"}}, tara));
    v.push_back(event(++s, EventType::clinician_action,
                      {{"action", "flag_acknowledge"}, {"action_id", "a1"}, {"clinician_id", kTherapist},
                       {"patient_id", kPatient}, {"target_id", "flag-1"}, {"at", "2026-11-20T10:00:08.000Z"}}, tara));
    v.push_back(event(++s, EventType::transcript_viewed,
                      {{"clinician_id", kTherapist}, {"patient_id", kPatient}, {"conversation_id", "conv-1"}, {"count", 2},
                       {"at", "2026-11-20T10:00:09.000Z"}}, tara));
    v.push_back(event(++s, EventType::flag_resolved,
                      {{"flag_id", "flag-1"}, {"resolved_by", kTherapist}, {"resolved_at", "2026-11-20T10:00:10.000Z"},
                       {"resolution", {{"risk_real", true}, {"note", "safety plan made"}}}}, tara));
    v.push_back(event(++s, EventType::plan_proposed, plan_record("plan-1", 1, "2026-11-20T10:00:11.000Z"),
                      {ActorKind::ai, std::nullopt}));
    v.push_back(event(++s, EventType::plan_approved,
                      {{"plan_id", "plan-1"}, {"approver_id", kTherapist}, {"decided_at", "2026-11-20T10:00:12.000Z"}}, tara));
    auto v2 = plan_record("plan-2", 2, "2026-11-20T10:00:13.000Z");
    v2["proposer"] = {{"kind", "clinician"}, {"clinician_id", kTherapist}};
    v2["based_on_version"] = 1;
    v.push_back(event(++s, EventType::plan_proposed, v2, tara));
    v.push_back(event(++s, EventType::plan_approved,
                      {{"plan_id", "plan-2"}, {"approver_id", kTherapist}, {"decided_at", "2026-11-20T10:00:14.000Z"},
                       {"action_id", "a2"}}, tara));
    v.push_back(event(++s, EventType::clinician_action,
                      {{"action", "plan_decide"}, {"action_id", "a2"}, {"clinician_id", kTherapist},
                       {"patient_id", kPatient}, {"target_id", "plan-2"}, {"at", "2026-11-20T10:00:14.000Z"}}, tara));
    v.push_back(event(++s, EventType::assessment_scored,
                      {{"id", "as-1"}, {"patient_id", kPatient}, {"instrument", "phq9"},
                       {"items", {2, 2, 2, 2, 2, 2, 2, 1, 1}}, {"score", 16}, {"band", "moderately_severe"},
                       {"administered_at", "2026-11-20T10:00:15.000Z"}, {"completed_at", "2026-11-20T10:00:16.000Z"}},
                      {ActorKind::patient, std::string(kPatient)}));
    v.push_back(event(++s, EventType::risk_assessed,
                      {{"severity", "high"}, {"categories", {"suicidal_ideation"}}, {"spans", json::array()},
                       {"rationale", "PHQ-9 item 9 above 0"}, {"engine_version", "measures"},
                       {"ruleset_version", "phq9@1:phq9_item9"}, {"assessment_id", "as-1"}, {"patient_id", kPatient}}));
    v.push_back(event(++s, EventType::assessment_scored,
                      {{"id", "as-2"}, {"patient_id", kPatient}, {"instrument", "cssrs_screener"},
                       {"items", {1, 0, nullptr, nullptr, nullptr, 0}}, {"score", 1}, {"band", "low"},
                       {"administered_at", "2026-11-20T10:00:17.000Z"}, {"completed_at", "2026-11-20T10:00:18.000Z"}},
                      {ActorKind::patient, std::string(kPatient)}));
    return v;
}

std::vector<FhirClinician> sample_clinicians() { return {{kTherapist, "Tara Ng", true}, {"clin-other", "Sam", true}}; }

json bundle_of(bool transcripts) {
    FhirExportOptions o;
    o.include_transcripts = transcripts;
    o.exported_at = "2026-11-21T09:00:00.000Z";
    auto b = fhir::build_patient_bundle(kPatient, sample_events(), sample_clinicians(), instrument, o);
    REQUIRE(b);
    return *b;
}

std::vector<json> resources_of(const json& bundle, const std::string& type) {
    std::vector<json> out;
    for (const auto& e : bundle["entry"])
        if (e["resource"]["resourceType"] == type) out.push_back(e["resource"]);
    return out;
}

}  // namespace

TEST_CASE("resource uuids are stable per record, distinct per kind and shaped as RFC 9562 version 8", "[bridge][fhir]") {
    const std::regex shape("^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
    const auto a = fhir::resource_uuid("Patient", "pat-1");
    CHECK(std::regex_match(a, shape));
    CHECK(a == fhir::resource_uuid("Patient", "pat-1"));
    CHECK(a != fhir::resource_uuid("Flag", "pat-1"));
    CHECK(a != fhir::resource_uuid("Patient", "pat-2"));
    CHECK(fhir::full_url("Patient", "pat-1") == "urn:uuid:" + a);
}

TEST_CASE("flag statuses map to FHIR active or inactive, with the period ending at resolution", "[bridge][fhir]") {
    struct Case {
        const char* name;
        const char* status;
        const char* fhir_status;
        bool has_end;
    };
    const Case cases[] = {
        {"open flag is active", "open", "active", false},
        {"acknowledged flag is still active", "acknowledged", "active", false},
        {"escalated flag is active", "escalated", "active", false},
        {"resolved flag is inactive and ends", "resolved", "inactive", true},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const json flag = {{"id", "f"}, {"patient_id", "p"}, {"severity", "high"}, {"categories", {"self_harm"}},
                           {"status", c.status}, {"opened_at", "2026-11-20T10:00:00.000Z"},
                           {"resolved_at", "2026-11-20T11:00:00.000Z"}};
        const auto r = fhir::flag_resource(flag);
        CHECK(r["status"] == c.fhir_status);
        CHECK(r["period"]["start"] == "2026-11-20T10:00:00.000Z");
        CHECK(r["period"].contains("end") == c.has_end);
        CHECK(r["category"][0]["coding"][0]["code"] == "safety");
        CHECK(r["code"]["coding"][0]["code"] == "self_harm");
    }
}

TEST_CASE("risk severities map to FHIR risk-probability codes and keep the Tandem word", "[bridge][fhir]") {
    struct Case {
        const char* severity;
        const char* code;
    };
    const Case cases[] = {{"none", "negligible"}, {"low", "low"}, {"moderate", "moderate"}, {"high", "high"}, {"imminent", "high"}};
    for (const auto& c : cases) {
        INFO(c.severity);
        const json risk = {{"severity", c.severity}, {"categories", {"suicidal_ideation"}}, {"message_id", "m"},
                           {"rationale", "rule text"}, {"spans", json::array()}};
        const auto r = fhir::risk_assessment_resource(risk, "m", "p", "2026-11-20T10:00:00.000Z", json::array());
        CHECK(r["prediction"][0]["qualitativeRisk"]["coding"][0]["code"] == c.code);
        CHECK(r["prediction"][0]["qualitativeRisk"]["text"] == c.severity);
        CHECK_FALSE(r.contains("basis"));
    }
}

TEST_CASE("a PHQ-9 becomes a LOINC-coded survey Observation with one coded component per item", "[bridge][fhir]") {
    const json a = {{"id", "as-1"}, {"patient_id", "p"}, {"instrument", "phq9"}, {"items", {0, 1, 2, 3, 0, 1, 2, 3, 1}},
                    {"score", 13}, {"band", "moderate"}, {"administered_at", "2026-11-20T10:00:00.000Z"},
                    {"completed_at", "2026-11-20T10:05:00.000Z"}};
    const auto* def = instrument("phq9");
    REQUIRE(def);
    const auto obs = fhir::assessment_observation_resource(a, def);
    CHECK(obs["code"]["coding"][0] == json{{"system", "http://loinc.org"}, {"code", "44261-6"},
                                          {"display", def->title + " total score"}});
    CHECK(obs["category"][0]["coding"][0]["code"] == "survey");
    CHECK(obs["valueInteger"] == 13);
    CHECK(obs["effectiveDateTime"] == "2026-11-20T10:05:00.000Z");
    CHECK(obs["interpretation"][0]["text"] == "Moderate");
    REQUIRE(obs["component"].size() == 9);
    CHECK(obs["component"][0]["code"]["coding"][0]["code"] == "44250-9");
    CHECK(obs["component"][8]["code"]["coding"][0]["code"] == "44260-8");
    CHECK(obs["component"][8]["valueInteger"] == 1);
    CHECK(obs["derivedFrom"][0] == fhir::reference("QuestionnaireResponse", "as-1"));

    const auto qr = fhir::questionnaire_response_resource(a, def);
    CHECK(qr["status"] == "completed");
    REQUIRE(qr["item"].size() == 9);
    CHECK(qr["item"][3]["linkId"] == "q4");
    CHECK(qr["item"][3]["answer"][0]["valueCoding"]["code"] == "3");
    CHECK(qr["item"][3]["answer"][0]["valueCoding"]["display"] == "Nearly every day");
}

TEST_CASE("skipped C-SSRS questions are left out of the response, and an unknown instrument still maps", "[bridge][fhir]") {
    const json a = {{"id", "as-2"}, {"patient_id", "p"}, {"instrument", "cssrs_screener"},
                    {"items", {1, 0, nullptr, nullptr, nullptr, 0}}, {"score", 1}, {"band", "low"},
                    {"administered_at", "2026-11-20T10:00:00.000Z"}, {"completed_at", "2026-11-20T10:05:00.000Z"}};
    const auto qr = fhir::questionnaire_response_resource(a, instrument("cssrs_screener"));
    REQUIRE(qr["item"].size() == 3);
    CHECK(qr["item"][2]["linkId"] == "q6");
    const auto obs = fhir::assessment_observation_resource(a, instrument("cssrs_screener"));
    CHECK(obs["code"]["coding"][0]["code"] == "cssrs_screener");  // no LOINC total in the definition
    CHECK(obs["component"].size() == 3);

    json eating = a;
    eating["instrument"] = "clinic_eating";
    const auto plain = fhir::questionnaire_response_resource(eating, nullptr);
    CHECK(plain["item"][0]["linkId"] == "item1");
    CHECK(plain["item"][0]["answer"][0]["valueInteger"] == 1);
}

TEST_CASE("the bundle holds every resource kind and each reference resolves inside it", "[bridge][fhir]") {
    for (const bool transcripts : {false, true}) {
        INFO("include_transcripts " << transcripts);
        const auto b = bundle_of(transcripts);
        CHECK(b["resourceType"] == "Bundle");
        CHECK(b["type"] == "collection");
        CHECK(fhir::unresolved_references(b).empty());
        CHECK(resources_of(b, "Patient").size() == 1);
        CHECK(resources_of(b, "QuestionnaireResponse").size() == 2);
        CHECK(resources_of(b, "Observation").size() == 2);
        CHECK(resources_of(b, "Flag").size() == 1);
        CHECK(resources_of(b, "RiskAssessment").size() == 2);  // the crisis message and PHQ-9 item 9
        CHECK(resources_of(b, "CarePlan").size() == 2);
        CHECK(resources_of(b, "Communication").size() == (transcripts ? 2u : 0u));
        // flag_acknowledge action, transcript read, plan-1's decision (no action record),
        // plan_decide action; plan-2's decision is the same act as the plan_decide record.
        CHECK(resources_of(b, "AuditEvent").size() == 4);
        CHECK(resources_of(b, "Practitioner").size() == 1);  // Sam is referenced by nothing
        std::set<std::string> urls;
        for (const auto& e : b["entry"]) CHECK(urls.insert(e["fullUrl"].get<std::string>()).second);
    }
}

TEST_CASE("message text is in the bundle only with include_transcripts", "[bridge][fhir]") {
    CHECK(bundle_of(false).dump().find(kSecretText) == std::string::npos);
    CHECK(bundle_of(false).dump().find("held reply") == std::string::npos);
    const auto with = bundle_of(true);
    CHECK(with.dump().find(kSecretText) != std::string::npos);
    const auto comms = resources_of(with, "Communication");
    CHECK(comms[0]["status"] == "completed");
    CHECK(comms[0]["sender"] == fhir::reference("Patient", kPatient));
    CHECK(comms[1]["status"] == "on-hold");  // a held AI reply the patient has not seen
    CHECK(resources_of(with, "RiskAssessment")[0]["basis"][0] == fhir::reference("Communication", "msg-1"));
    CHECK_FALSE(resources_of(bundle_of(false), "RiskAssessment")[0].contains("basis"));
    CHECK(resources_of(with, "RiskAssessment")[1]["basis"][0] == fhir::reference("QuestionnaireResponse", "as-1"));
}

TEST_CASE("plan versions export as CarePlans: the superseded one revoked, the newer one active and replacing it", "[bridge][fhir]") {
    const auto plans = resources_of(bundle_of(false), "CarePlan");
    REQUIRE(plans.size() == 2);
    CHECK(plans[0]["status"] == "revoked");
    CHECK(plans[1]["status"] == "active");
    CHECK(plans[0]["intent"] == "plan");
    CHECK(plans[1]["replaces"][0] == fhir::reference("CarePlan", "plan-1"));
    CHECK(plans[1]["identifier"][1]["value"] == std::string(kPatient) + "/2");
    CHECK(plans[1]["contained"][0]["resourceType"] == "Goal");
    CHECK(plans[1]["goal"][0]["reference"] == "#goal1");
    CHECK(plans[1]["contained"][0]["target"][0]["dueDate"] == "2026-12-31");
}

TEST_CASE("the sample bundle in tests/data/fhir is what the mapping produces", "[bridge][fhir]") {
    // The e2e test validates this file against the official R4 schema, so it must stay exactly
    // the mapping's output. TANDEM_UPDATE_FHIR_SAMPLE=1 rewrites it after a deliberate change.
    const auto actual = bundle_of(true);
    const auto file = kFhirData / "sample_bundle.json";
    if (std::getenv("TANDEM_UPDATE_FHIR_SAMPLE")) {
        std::ofstream(file) << actual.dump(2) << "\n";
    }
    CHECK(read_json(file) == actual);
}

TEST_CASE("export writes 0600 bundles after auditing, and an unknown patient writes nothing", "[bridge][fhir]") {
    TempDir tmp;
    auto store = SqlcipherStore::open_with_key_file(tmp.path() / "tandem.db", tmp.path() / "store.key");
    REQUIRE(store);
    for (auto& e : sample_events()) {
        NewEvent n;
        n.type = e.type;
        n.patient_id = e.patient_id;
        n.actor = e.actor;
        n.payload = e.payload;
        n.time = e.time;
        REQUIRE((*store)->append(std::move(n)));
    }
    auto head = (*store)->head();
    REQUIRE(head);

    FhirExportRequest unknown;
    unknown.patient_ids = {kPatient, "nobody"};
    unknown.out_dir = tmp.path() / "out-unknown";
    unknown.options.exported_at = "2026-11-21T09:00:00.000Z";
    auto refused = export_fhir(**store, unknown, instrument);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::not_found);
    CHECK(refused.error().message.find("nobody") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(unknown.out_dir));
    CHECK((*store)->head()->seq == head->seq);  // no audit event for an export that did not happen

    FhirExportRequest all;
    all.all_patients = true;
    all.out_dir = tmp.path() / "out";
    all.options.exported_at = "2026-11-21T09:00:00.000Z";
    all.requested_by = "tester";
    auto files = export_fhir(**store, all, instrument);
    REQUIRE(files);
    REQUIRE(files->size() == 1);
    const auto& f = files->front();
    CHECK(f.file == all.out_dir / (std::string(kPatient) + ".json"));
    struct stat st {};
    REQUIRE(::stat(f.file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    const auto bundle = read_json(f.file);
    CHECK(bundle.dump().find(kSecretText) == std::string::npos);
    CHECK(fhir::unresolved_references(bundle).empty());
    CHECK(std::distance(std::filesystem::directory_iterator(all.out_dir), std::filesystem::directory_iterator()) == 1);

    // The export's own audit event is in the log and in the bundle it produced.
    Principal sup;
    sup.supervisor = true;
    auto tail = (*store)->read_after(head->seq, sup, 10);
    REQUIRE(tail);
    REQUIRE(tail->size() == 1);
    CHECK(tail->front().type == EventType::clinician_action);
    CHECK(tail->front().payload["action"] == "fhir_export");
    CHECK(tail->front().payload["requested_by"] == "tester");
    bool exported_audit = false;
    for (const auto& r : resources_of(bundle, "AuditEvent"))
        exported_audit = exported_audit || r["subtype"][0]["code"] == "fhir_export";
    CHECK(exported_audit);
}

TEST_CASE("the instrument lookup takes codes and titles from the measures registry, clinic directory included", "[bridge][fhir]") {
    auto builtin = fhir_instrument_lookup({});
    REQUIRE(builtin);
    const auto* phq9 = (*builtin)("phq9");
    REQUIRE(phq9);
    CHECK(phq9->panel_loinc == "44249-1");
    CHECK(phq9->total_loinc == "44261-6");
    CHECK(phq9->items.at(8).loinc == "44260-8");
    const auto* gad7 = (*builtin)("gad7");
    REQUIRE(gad7);
    CHECK(gad7->total_loinc == "70274-6");
    CHECK((*builtin)("clinic_eating") == nullptr);

    TempDir tmp;
    auto def = read_json(kInstruments / "gad7.json");
    def["id"] = "clinic_eating";
    def["title"] = "Clinic eating check";
    def.erase("loinc");
    for (auto& item : def["items"]) item.erase("loinc");
    std::ofstream(tmp.path() / "clinic_eating.json") << def.dump();
    auto clinic = fhir_instrument_lookup(tmp.path());
    REQUIRE(clinic);
    const auto* added = (*clinic)("clinic_eating");
    REQUIRE(added);
    CHECK(added->title == "Clinic eating check");
    CHECK(added->total_loinc.empty());
    CHECK((*clinic)("phq9") != nullptr);

    std::ofstream(tmp.path() / "broken.json") << "{";
    CHECK_FALSE(fhir_instrument_lookup(tmp.path()));
}

TEST_CASE("audit-relevant events map to AuditEvents with read or update actions; others map to nothing", "[bridge][fhir]") {
    struct Case {
        const char* name;
        EventType type;
        json payload;
        Actor actor;
        bool patient;
        const char* action;  // nullptr: no AuditEvent
        const char* type_code;
        const char* subtype;
    };
    const Actor tara{ActorKind::clinician, std::string(kTherapist)};
    const Actor cli{ActorKind::system, std::string("cli")};
    const Case cases[] = {
        {"a transcript read is a read of the patient record", EventType::transcript_viewed,
         {{"conversation_id", "conv-1"}}, tara, true, "R", "110110", "transcript_viewed"},
        {"a flag decision is an update", EventType::clinician_action, {{"action", "flag_resolve"}, {"target_id", "flag-1"}},
         tara, true, "U", "110110", "flag_resolve"},
        {"a fetch is a read", EventType::clinician_action, {{"action", "fetch_plans"}}, tara, true, "R", "110110",
         "fetch_plans"},
        {"an export is DICOM Export, read", EventType::clinician_action, {{"action", "fhir_export"}}, cli, true, "R",
         "110106", "fhir_export"},
        {"a plan decision is an update", EventType::plan_rejected, {{"plan_id", "plan-9"}}, tara, true, "U", "110110",
         "plan_rejected"},
        {"a login belongs to no patient", EventType::clinician_action, {{"action", "session_opened"}}, tara, false,
         nullptr, "", ""},
        {"a message is not an audit event", EventType::message_appended, {{"id", "m"}}, tara, true, nullptr, "", ""},
    };
    const auto known = [](std::string_view id) -> std::optional<std::string> {
        if (id == "flag-1") return std::string("Flag");
        return std::nullopt;
    };
    for (const auto& c : cases) {
        INFO(c.name);
        StoredEvent e;
        e.id = "ev-x";
        e.type = c.type;
        e.time = "2026-11-20T10:00:00.000Z";
        if (c.patient) e.patient_id = kPatient;
        e.actor = c.actor;
        e.payload = c.payload;
        const auto r = fhir::audit_event_resource(e, known);
        REQUIRE(r.has_value() == (c.action != nullptr));
        if (!r) continue;
        CHECK((*r)["action"] == c.action);
        CHECK((*r)["type"]["code"] == c.type_code);
        CHECK((*r)["subtype"][0]["code"] == c.subtype);
        CHECK((*r)["recorded"] == e.time);
        CHECK((*r)["entity"][0]["what"] == fhir::reference("Patient", kPatient));
        CHECK((*r)["agent"][0]["who"] == (c.actor.kind == ActorKind::clinician ? fhir::reference("Practitioner", kTherapist)
                                                                                : fhir::reference("Device", "bridge")));
        if (c.payload.contains("target_id"))
            CHECK((*r)["entity"][1]["what"] == fhir::reference("Flag", "flag-1"));
        if (c.payload.contains("plan_id"))  // not in the bundle: named, not referenced
            CHECK((*r)["entity"][1]["what"]["identifier"]["value"] == "plan-9");
    }
}

TEST_CASE("a flag raised by questionnaire answers without a risk verdict still exports a RiskAssessment", "[bridge][fhir]") {
    auto events = sample_events();
    events.resize(2);  // registration and assignment
    events.push_back(event(3, EventType::assessment_scored,
                           {{"id", "as-9"}, {"patient_id", kPatient}, {"instrument", "phq9"},
                            {"items", {0, 0, 0, 0, 0, 0, 0, 0, 2}}, {"score", 2}, {"band", "minimal"},
                            {"administered_at", "2026-11-20T10:00:03.000Z"}, {"completed_at", "2026-11-20T10:00:03.000Z"}}));
    events.push_back(event(4, EventType::flag_opened,
                           {{"id", "flag-9"}, {"patient_id", kPatient}, {"assessment_id", "as-9"}, {"severity", "high"},
                            {"categories", {"suicidal_ideation"}}, {"status", "open"},
                            {"opened_at", "2026-11-20T10:00:04.000Z"}, {"sla_deadline", "2026-11-20T10:05:04.000Z"},
                            {"escalation_level", 0}, {"notes", json::array()}}));
    FhirExportOptions o;
    o.exported_at = "2026-11-21T09:00:00.000Z";
    auto b = fhir::build_patient_bundle(kPatient, events, sample_clinicians(), instrument, o);
    REQUIRE(b);
    const auto risks = resources_of(*b, "RiskAssessment");
    REQUIRE(risks.size() == 1);
    CHECK(risks[0]["occurrenceDateTime"] == "2026-11-20T10:00:04.000Z");
    CHECK(risks[0]["prediction"][0]["qualitativeRisk"]["coding"][0]["code"] == "high");
    CHECK(risks[0]["basis"][0] == fhir::reference("QuestionnaireResponse", "as-9"));
    CHECK(fhir::unresolved_references(*b).empty());
}
