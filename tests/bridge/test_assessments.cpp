// Questionnaires in the conversation (issue 8) end to end: a real TLS WebSocket on 127.0.0.1
// for patients and clinicians, the real SQLCipher store in a temp dir, the real rule engine and
// offline companion, and tandem_measures' built-in instruments for scoring and risk.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <functional>
#include <mutex>

#include <nlohmann/json.hpp>

#include "tandem/bridge/assessment_flow.h"
#include "tandem/bridge/clinic_policy.h"
#include "tandem/bridge/clinician_service.h"
#include "tandem/bridge/init.h"
#include "tandem/bridge/patient_endpoint.h"
#include "tandem/bridge/server.h"
#include "tandem/bridge/wire.h"
#include "tandem/crypto/random.h"
#include "tandem/schema/schema_registry.h"
#include "tandem/store/sqlcipher_store.h"
#include "clinic_fixture.h"
#include "frames.h"
#include "test_support.h"

using namespace std::chrono_literals;
using namespace tandem;
using namespace tandem::bridge;
using tandem::test::TempDir;
using tandem::test::WssClient;
using tandem::test::frame;
using tandem::test::of_type;
using tandem::test::read_until;
using json = nlohmann::json;

namespace {

constexpr const char* kPassword = tandem::test::kClinicPassword;
const Actor kAdmin = tandem::test::kClinicAdmin;

// A server frame must match its wire schema, as the e2e tests check with python3-jsonschema.
void require_schema(const json& f) {
    auto ok = SchemaRegistry::builtin().validate("wire/" + f["type"].get<std::string>(), f["payload"]);
    INFO(f.dump());
    REQUIRE(ok);
}

// The offline companion, recording each request's system prompt.
class RecordingModel final : public ChatModel {
public:
    Result<ChatReply> complete(const ChatRequest& request, const DeltaSink& on_delta,
                               const std::atomic<bool>* cancel) override {
        {
            const std::lock_guard lock(mutex_);
            prompts_.push_back(request.messages.empty() ? std::string() : request.messages.front().content);
        }
        return inner_->complete(request, on_delta, cancel);
    }
    std::string model_name() const override { return inner_->model_name(); }
    std::vector<std::string> prompts() {
        const std::lock_guard lock(mutex_);
        return prompts_;
    }

private:
    std::mutex mutex_;
    std::vector<std::string> prompts_;
    std::unique_ptr<ChatModel> inner_ = make_offline_companion();
};

PatientServiceOptions patient_options(bool scheduled) {
    PatientServiceOptions po;
    po.offer_scheduled_assessments = scheduled;
    return po;
}

ClinicianServiceOptions clinician_options() {
    ClinicianServiceOptions co;
    co.password_policy = PasswordPolicy{1, 1024, 1, 10};  // cheap Argon2id: tests log in often
    return co;
}

struct TestClinic : tandem::test::Clinic {
    std::string alex;  // tara's patient

    explicit TestClinic(bool scheduled = false)
        : Clinic(std::make_unique<RecordingModel>(), patient_options(scheduled), clinician_options()) {
        alex = patient("Alex", tara);
    }
    // A patient connection with a redeemed invite; `token` receives the device token.
    std::unique_ptr<WssClient> patient_client(std::string* token = nullptr, std::vector<json>* seen = nullptr) {
        auto c = connect("/patient");
        auto code = patients->issue_invite(alex);
        REQUIRE(code);
        REQUIRE(c->send_text(frame("redeem", {{"invite_code", *code}})));
        auto session = read_until(*c, of_type("session"), seen);
        if (token) *token = session["payload"]["device_token"];
        return c;
    }
    std::unique_ptr<WssClient> hello(const std::string& token, std::vector<json>* seen = nullptr) {
        auto c = connect("/patient");
        REQUIRE(c->send_text(frame("hello", {{"device_token", token}})));
        read_until(*c, of_type("session"), seen);
        return c;
    }
    std::vector<AssessmentView> assessments() {
        auto rows = store->assessments(alex);
        REQUIRE(rows);
        return *rows;
    }
};

json action(WssClient& c, json payload) {
    REQUIRE(c.send_text(frame("action", std::move(payload))));
    return read_until(c, [](const json& j) { return j["type"] == "action_result" || j["type"] == "error"; })["payload"];
}

json request(WssClient& clinician, const std::string& action_id, const std::string& patient, const std::string& instrument) {
    return action(clinician, {{"action_id", action_id}, {"kind", "assessment_request"}, {"patient_id", patient},
                              {"instrument", instrument}});
}

// Sends answers and returns the reply: questionnaire_saved, questionnaire_result or error.
json answer(WssClient& p, const std::string& assessment_id, json items, bool final) {
    REQUIRE(p.send_text(frame("questionnaire_answers", {{"assessment_id", assessment_id}, {"items", std::move(items)},
                                                        {"final", final}})));
    return read_until(p, [](const json& j) {
        return j["type"] == "questionnaire_saved" || j["type"] == "questionnaire_result" || j["type"] == "error";
    });
}

json subscribe_until(WssClient& c, const std::function<bool(const json&)>& match) {
    REQUIRE(c.send_text(frame("subscribe", {{"after_seq", 0}})));
    return read_until(c, [&](const json& f) { return f["type"] == "event" && match(f["payload"]); })["payload"];
}

}  // namespace

TEST_CASE("a clinician's assessment_request offers the form to the patient once, idempotent on action_id",
          "[bridge][assessments]") {
    TestClinic k;
    auto p = k.patient_client();
    auto tara = k.clinician("tara");
    auto r = request(*tara, "req-1", k.alex, "phq9");
    REQUIRE(r["ok"] == true);
    const auto q = read_until(*p, of_type("questionnaire"));
    require_schema(q);
    CHECK(q["payload"]["instrument"]["id"] == "phq9");
    CHECK(q["payload"]["instrument"]["items"].size() == 10);
    CHECK_FALSE(q["payload"]["instrument"].contains("scoring"));  // no scoring internals to patients
    CHECK(q["payload"]["answers"] == json::array());
    CHECK(q["payload"]["requested_by"] == "care_team");  // never a clinician id

    auto again = request(*tara, "req-1", k.alex, "phq9");
    CHECK(again["ok"] == true);
    CHECK(again["seq"] == r["seq"]);
    auto rows = k.assessments();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].status == "offered");
    CHECK(rows[0].record["requested_by"] == k.tara);

    SECTION("a second request while one is open is a conflict; an unknown instrument is refused") {
        auto dup = request(*tara, "req-2", k.alex, "phq9");
        CHECK(dup["ok"] == false);
        CHECK(dup["error"]["code"] == "conflict");
        auto unknown = request(*tara, "req-3", k.alex, "bdi2");
        CHECK(unknown["ok"] == false);
        CHECK(unknown["error"]["code"] == "invalid_argument");
        CHECK(unknown["error"]["field"] == "/payload/instrument");
        CHECK(k.assessments().size() == 1);
    }
}

TEST_CASE("the default schedule offers PHQ-9 and GAD-7 at intake once; a reconnect re-sends, not re-offers",
          "[bridge][assessments]") {
    TestClinic k(/*scheduled=*/true);
    std::string token;
    std::vector<json> seen;
    auto p = k.patient_client(&token);
    read_until(*p, of_type("questionnaire"), &seen);
    read_until(*p, of_type("questionnaire"), &seen);
    std::vector<std::string> instruments;
    for (const auto& f : seen)
        if (f["type"] == "questionnaire") instruments.push_back(f["payload"]["instrument"]["id"]);
    std::sort(instruments.begin(), instruments.end());
    CHECK(instruments == std::vector<std::string>{"gad7", "phq9"});
    p.reset();

    std::vector<json> again;
    auto p2 = k.hello(token);
    read_until(*p2, of_type("questionnaire"), &again);
    read_until(*p2, of_type("questionnaire"), &again);
    k.patients->drain();
    CHECK(k.assessments().size() == 2);
}

TEST_CASE("an approved plan's schedule counts weeks from its approval", "[bridge][assessments]") {
    // A table of schedules against a fixed clock: the newest passed point per instrument, and
    // nothing for an instrument already offered at or after that point.
    const auto start = *parse_timestamp("2026-10-01T09:00:00.000Z");
    const auto now = start + std::chrono::weeks(5);
    const std::vector<ScheduledInstrument> schedule{{"phq9", 0}, {"phq9", 4}, {"phq9", 8}, {"gad7", 6}};
    struct Case {
        const char* name;
        std::vector<AssessmentView> existing;
        std::vector<std::string> due_keys;
    };
    const std::vector<Case> cases{
        {"nothing offered yet: only week 4 of PHQ-9 (not intake too), GAD-7 not yet", {}, {"plan-1:phq9:w4"}},
        {"a PHQ-9 offered after week 4 (a clinician's request) meets the point",
         {{"a1", "p", "phq9", "completed", 1, 2, {{"administered_at", "2026-10-30T10:00:00.000Z"}}}},
         {}},
        {"a PHQ-9 from before week 4 does not",
         {{"a1", "p", "phq9", "completed", 1, 2, {{"administered_at", "2026-10-02T10:00:00.000Z"}}}},
         {"plan-1:phq9:w4"}},
        {"an open PHQ-9 blocks a new one (it is re-sent instead)",
         {{"a1", "p", "phq9", "in_progress", 1, 2, {{"administered_at", "2026-10-02T10:00:00.000Z"}}}},
         {}},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        std::vector<std::string> keys;
        for (const auto& d : due_assessments(schedule, start, "plan-1", now, c.existing)) keys.push_back(d.due_key);
        CHECK(keys == c.due_keys);
    }

    SECTION("end to end: an approved plan whose week 4 has passed offers its PHQ-9 at the next session") {
        TestClinic k(/*scheduled=*/true);
        const std::string five_weeks_ago = format_timestamp(now_utc() - std::chrono::weeks(5));
        NewEvent proposed;
        proposed.type = EventType::plan_proposed;
        proposed.patient_id = k.alex;
        proposed.payload = {{"id", "plan-a"},
                            {"patient_id", k.alex},
                            {"version", 1},
                            {"status", "proposed"},
                            {"created_at", five_weeks_ago},
                            {"assessment_schedule", {{{"instrument", "phq9"}, {"week", 4}}}}};
        REQUIRE(k.store->append(proposed));
        NewEvent approved;
        approved.type = EventType::plan_approved;
        approved.patient_id = k.alex;
        approved.payload = {{"plan_id", "plan-a"}, {"approver_id", k.tara}, {"decided_at", five_weeks_ago}};
        REQUIRE(k.store->append(approved));
        auto p = k.patient_client();
        const auto q = read_until(*p, of_type("questionnaire"));
        CHECK(q["payload"]["instrument"]["id"] == "phq9");
        k.patients->drain();
        const auto rows = k.assessments();
        REQUIRE(rows.size() == 1);  // the plan replaces the default schedule: no GAD-7
        CHECK(rows[0].record["requested_by"] == "schedule");
    }
}

TEST_CASE("answers saved in one sitting come back after a reconnect and are scored at submit",
          "[bridge][assessments]") {
    TestClinic k;
    std::string token;
    auto p = k.patient_client(&token);
    auto sam = k.clinician("sam");
    REQUIRE(request(*sam, "req-1", k.alex, "phq9")["ok"] == true);
    const std::string id = read_until(*p, of_type("questionnaire"))["payload"]["assessment_id"];

    const json first = {1, 2, 1, 0, nullptr, nullptr, nullptr, nullptr, nullptr};
    auto saved = answer(*p, id, first, false);
    REQUIRE(saved["type"] == "questionnaire_saved");
    require_schema(saved);
    CHECK(saved["payload"]["answered"] == 4);
    p.reset();  // pause: the page is closed

    auto p2 = k.hello(token);
    const auto resumed = read_until(*p2, of_type("questionnaire"));
    CHECK(resumed["payload"]["assessment_id"] == id);
    CHECK(resumed["payload"]["answers"] == first);

    auto result = answer(*p2, id, {1, 2, 1, 0, 3, 2, 1, 1, 0, 1}, true);
    REQUIRE(result["type"] == "questionnaire_result");
    require_schema(result);
    CHECK(result["payload"]["score"] == 11);
    CHECK(result["payload"]["band"] == "moderate");
    CHECK_FALSE(result["payload"].contains("trend"));  // policy share_trends_with_patients is off

    const auto scored =
        subscribe_until(*sam, [](const json& e) { return e["type"] == "assessment_scored"; });
    CHECK(scored["payload"]["id"] == id);
    CHECK(scored["payload"]["score"] == 11);
    CHECK(scored["payload"]["requested_by"] == k.sam);
    CHECK(k.assessments()[0].status == "completed");

    SECTION("a second submit is a conflict and changes nothing") {
        auto twice = answer(*p2, id, {0, 0, 0, 0, 0, 0, 0, 0, 0}, true);
        CHECK(twice["payload"]["code"] == "conflict");
        CHECK(k.assessments()[0].record["score"] == 11);
    }
}

TEST_CASE("answers that do not fit the instrument are refused with the item named and nothing is lost",
          "[bridge][assessments]") {
    TestClinic k;
    auto p = k.patient_client();
    auto tara = k.clinician("tara");
    REQUIRE(request(*tara, "r-phq", k.alex, "phq9")["ok"] == true);
    REQUIRE(request(*tara, "r-cssrs", k.alex, "cssrs_screener")["ok"] == true);
    std::string phq, cssrs;
    for (int i = 0; i < 2; ++i) {
        const auto q = read_until(*p, of_type("questionnaire"));
        (q["payload"]["instrument"]["id"] == "phq9" ? phq : cssrs) = q["payload"]["assessment_id"];
    }
    const json kept = {1, 1, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
    REQUIRE(answer(*p, phq, kept, false)["type"] == "questionnaire_saved");

    struct Case {
        const char* name;
        std::string* id;
        json items;
        bool final;
        const char* code;
        const char* field;
    };
    const std::vector<Case> cases{
        {"more answers than items", &phq, json{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, false, "invalid_answers", "/payload/items"},
        {"a value outside the options", &phq, json{0, 0, 0, 4, 0, 0, 0, 0, 0}, false, "invalid_answers",
         "/payload/items/3"},
        {"too many unanswered at submit", &phq, json{0, 0, 0, nullptr, nullptr, nullptr, 0, 0, 0}, true,
         "invalid_answers", "/payload/items"},
        {"answering C-SSRS question 3 when question 2 is no", &cssrs, json{0, 0, 1, nullptr, nullptr, 0}, true,
         "invalid_answers", "/payload/items/2"},
        {"a text answer", &phq, json{"often"}, false, "schema", "/payload/items/0"},
        {"an unknown questionnaire", nullptr, json{0}, false, "not_found", "/payload/assessment_id"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const auto reply = answer(*p, c.id ? *c.id : std::string("no-such-assessment"), c.items, c.final);
        REQUIRE(reply["type"] == "error");
        require_schema(reply);
        CHECK(reply["payload"]["code"] == c.code);
        CHECK(reply["payload"]["field"].get<std::string>().starts_with(c.field));
    }
    k.patients->drain();
    for (const auto& v : k.assessments()) {
        if (v.id == phq) {
            CHECK(v.status == "in_progress");
            CHECK(v.record["items"] == kept);
        } else {
            CHECK(v.status == "offered");
        }
    }
    Principal all;
    all.supervisor = true;
    CHECK(k.store->open_flags(all)->empty());
}

TEST_CASE("risky answers open an urgent flag through the safety protocol: crisis frame, SLA deadline, crisis state",
          "[bridge][assessments]") {
    struct Case {
        const char* name;
        const char* instrument;
        json items;
        bool final;
    };
    const std::vector<Case> cases{
        {"PHQ-9 item 9 = 1 at submit", "phq9", json{1, 1, 1, 1, 1, 1, 1, 1, 1}, true},
        {"PHQ-9 item 9 = 2 in a paused form", "phq9", json{nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                                                            nullptr, nullptr, 2},
         false},
        {"C-SSRS intent (question 4 yes)", "cssrs_screener", json{1, 1, 0, 1, 0, 0}, true},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.name) {
            TestClinic k;
            auto p = k.patient_client();
            auto sam = k.clinician("sam");
            REQUIRE(request(*sam, "r1", k.alex, c.instrument)["ok"] == true);
            const std::string id = read_until(*p, of_type("questionnaire"))["payload"]["assessment_id"];
            const auto before = now_utc();
            REQUIRE(p->send_text(frame("questionnaire_answers", {{"assessment_id", id}, {"items", c.items},
                                                                 {"final", c.final}})));
            const auto crisis = read_until(*p, of_type("crisis"));
            require_schema(crisis);
            CHECK_FALSE(crisis["payload"]["resources"].empty());
            const auto flag = subscribe_until(*sam, [](const json& e) { return e["type"] == "flag_opened"; });
            CHECK(flag["payload"]["assessment_id"] == id);
            CHECK(flag["payload"]["severity"] == "high");
            CHECK_FALSE(flag["payload"].contains("message_id"));
            const auto deadline = parse_timestamp(flag["payload"]["sla_deadline"].get<std::string>());
            REQUIRE(deadline);
            CHECK(*deadline <= before + std::chrono::minutes(6));  // urgent SLA (5 min), not the 60-min review
            k.patients->drain();
            auto patient = k.store->find_patient(k.alex);
            CHECK((*patient)->in_crisis);
            CHECK(SchemaRegistry::builtin().validate("records/flag", flag["payload"]));
        }
    }
}

TEST_CASE("a therapist not assigned to the patient may neither request nor fetch assessments",
          "[bridge][assessments]") {
    TestClinic k;
    auto theo = k.clinician("theo");
    auto refused = request(*theo, "r1", k.alex, "phq9");
    CHECK(refused["ok"] == false);
    CHECK(refused["error"]["code"] == "permission_denied");
    REQUIRE(theo->send_text(frame("fetch_assessments", {{"patient_id", k.alex}})));
    const auto err = read_until(*theo, of_type("error"));
    CHECK(err["payload"]["code"] == "permission_denied");
    CHECK(k.assessments().empty());

    SECTION("the assigned therapist fetches them, and the read is audited") {
        auto tara = k.clinician("tara");
        REQUIRE(request(*tara, "r2", k.alex, "gad7")["ok"] == true);
        REQUIRE(tara->send_text(frame("fetch_assessments", {{"patient_id", k.alex}})));
        const auto list = read_until(*tara, of_type("assessments"));
        require_schema(list);
        REQUIRE(list["payload"]["assessments"].size() == 1);
        CHECK(list["payload"]["assessments"][0]["status"] == "offered");
        const auto audit = subscribe_until(*tara, [](const json& e) {
            return e["type"] == "clinician_action" && e["payload"].value("action", "") == "assessments_viewed";
        });
        CHECK(audit["payload"]["clinician_id"] == k.tara);
    }
}

TEST_CASE("with share_trends_with_patients on, a result carries the patient's own trend", "[bridge][assessments]") {
    TestClinic k;
    ClinicSettings settings;
    settings.crisis_resources["en-US"] = {{"988", "988", "phone"}};
    settings.share_trends_with_patients = true;
    REQUIRE(write_clinic_settings(*k.store, settings, kAdmin));
    auto p = k.patient_client();
    auto tara = k.clinician("tara");
    for (int round = 0; round < 2; ++round) {
        REQUIRE(request(*tara, "r" + std::to_string(round), k.alex, "gad7")["ok"] == true);
        const std::string id = read_until(*p, of_type("questionnaire"))["payload"]["assessment_id"];
        const auto result = answer(*p, id, round == 0 ? json{3, 3, 3, 3, 3, 3, 3} : json{1, 1, 1, 1, 1, 1, 1}, true);
        REQUIRE(result["type"] == "questionnaire_result");
        require_schema(result);
        REQUIRE(result["payload"]["trend"].size() == static_cast<std::size_t>(round + 1));
        CHECK(result["payload"]["trend"].back()["score"] == (round == 0 ? 21 : 7));
    }
}

TEST_CASE("the AI turn after an offer is asked to mention the questionnaire, once", "[bridge][assessments]") {
    TestClinic k;
    auto p = k.patient_client();
    auto tara = k.clinician("tara");
    REQUIRE(request(*tara, "r1", k.alex, "gad7")["ok"] == true);
    read_until(*p, of_type("questionnaire"));
    for (const char* text : {"I had a long day at work", "I slept badly again"}) {
        REQUIRE(p->send_text(frame("send", {{"client_msg_id", std::string("m-") + text[2]}, {"text", text}})));
        read_until(*p, of_type("ack"));
        k.patients->drain();
    }
    const auto prompts = static_cast<RecordingModel&>(*k.model).prompts();
    REQUIRE(prompts.size() == 2);
    CHECK(prompts[0].find("questionnaire (GAD-7)") != std::string::npos);
    CHECK(prompts[1].find("questionnaire") == std::string::npos);
}

namespace {

json export_report(WssClient& c, const std::string& action_id, const std::string& patient, json overrides = {}) {
    json p = {{"action_id", action_id}, {"kind", "report_exported"}, {"patient_id", patient},
              {"format", "pdf"},        {"instruments", {"phq9", "gad7"}}, {"assessment_count", 7}};
    for (auto& [k, v] : overrides.items()) p[k] = v;
    return action(c, std::move(p));
}

std::vector<StoredEvent> report_events(TestClinic& k) {
    Principal all;
    all.supervisor = true;
    auto events = k.store->read_after(0, all, 100000);
    REQUIRE(events);
    std::vector<StoredEvent> out;
    for (auto& e : *events)
        if (e.type == EventType::clinician_action && e.payload.value("action", "") == "report_exported")
            out.push_back(std::move(e));
    return out;
}

}  // namespace

TEST_CASE("report_exported is audited once for the patient's therapist or a supervisor and refused for anyone else",
          "[bridge][assessments][audit]") {
    TestClinic k;
    k.add("ada", {"admin"}, PasswordPolicy{1, 1024, 1, 10});
    struct Case {
        const char* name;
        const char* user;
        std::string patient;
        json overrides;
        const char* code;   // nullptr: accepted
        const char* field;  // for refusals that name one
    };
    const std::vector<Case> cases{
        {"the assigned therapist, PDF", "tara", k.alex, json::object(), nullptr, nullptr},
        {"a supervisor, PNG of one instrument", "sam", k.alex,
         {{"format", "png"}, {"instruments", {"phq9"}}, {"assessment_count", 3}}, nullptr, nullptr},
        {"an empty report (no scores yet)", "tara", k.alex, {{"instruments", json::array()}, {"assessment_count", 0}},
         nullptr, nullptr},
        {"a therapist not assigned to the patient", "theo", k.alex, json::object(), "permission_denied", nullptr},
        {"an admin-only account", "ada", k.alex, json::object(), "permission_denied", nullptr},
        {"an unknown patient", "sam", "no-such-patient", json::object(), "not_found", "/payload/patient_id"},
        {"a format other than pdf or png", "tara", k.alex, {{"format", "docx"}}, "schema", "/payload/format"},
        {"a repeated instrument", "tara", k.alex, {{"instruments", {"phq9", "phq9"}}}, "schema", "/payload/instruments"},
        {"a negative count", "tara", k.alex, {{"assessment_count", -1}}, "schema", "/payload/assessment_count"},
        {"a file path smuggled in", "tara", k.alex, {{"path", "/home/tara/Alex Rivera.pdf"}}, "schema", "/payload"},
    };
    int accepted = 0;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const auto& c = cases[i];
        INFO(c.name);
        auto clinician = k.clinician(c.user);
        const auto r = export_report(*clinician, "export-" + std::to_string(i), c.patient, c.overrides);
        if (c.code == nullptr) {
            CHECK(r["ok"] == true);
            CHECK(r["seq"].is_number_integer());
            ++accepted;
        } else {
            CHECK(r["ok"] == false);
            CHECK(r["error"]["code"] == c.code);
            if (c.field) CHECK(r["error"]["field"].get<std::string>().starts_with(c.field));
        }
        CHECK(report_events(k).size() == static_cast<std::size_t>(accepted));
    }

    SECTION("the event says what was exported, for whom and by whom, and nothing about where") {
        const auto events = report_events(k);
        REQUIRE(events.size() == 3);
        const auto& e = events[1];
        CHECK(e.actor.kind == ActorKind::clinician);
        CHECK(e.actor.id == k.sam);
        CHECK(e.patient_id == k.alex);
        CHECK(e.payload["format"] == "png");
        CHECK(e.payload["instruments"] == json{"phq9"});
        CHECK(e.payload["assessment_count"] == 3);
        CHECK(e.payload["action_id"] == "export-1");
        CHECK(e.payload.contains("at"));
        for (const char* absent : {"path", "file", "file_name", "target_id"}) CHECK_FALSE(e.payload.contains(absent));
    }

    SECTION("a resent action_id answers with the first seq and appends nothing; the chain still verifies") {
        auto tara = k.clinician("tara");
        const auto first = export_report(*tara, "export-again", k.alex);
        REQUIRE(first["ok"] == true);
        const auto again = export_report(*tara, "export-again", k.alex, {{"format", "png"}});
        CHECK(again["ok"] == true);
        CHECK(again["seq"] == first["seq"]);
        CHECK(report_events(k).size() == 4);
        auto report = k.store->verify_chain(std::nullopt);
        REQUIRE(report);
        CHECK(report->ok);
    }

    SECTION("the patient is not told") {
        auto p = k.patient_client();
        auto tara = k.clinician("tara");
        REQUIRE(export_report(*tara, "export-quiet", k.alex)["ok"] == true);
        REQUIRE(p->send_text(frame("ping", json::object())));
        const auto next = read_until(*p, [](const json& j) { return j["type"] != "plan" && j["type"] != "questionnaire"; });
        CHECK(next["type"] == "pong");
    }
}

TEST_CASE("the offline companion's reply after an offer names the questionnaire, once",
          "[bridge][assessments][companion]") {
    TestClinic k;
    auto p = k.patient_client();
    auto tara = k.clinician("tara");
    REQUIRE(request(*tara, "r1", k.alex, "phq9")["ok"] == true);
    read_until(*p, of_type("questionnaire"));
    std::vector<std::string> replies;
    int n = 0;
    for (const char* text : {"I had a long day at work", "I slept badly again"}) {
        REQUIRE(p->send_text(frame("send", {{"client_msg_id", "m" + std::to_string(++n)}, {"text", text}})));
        const auto reply = read_until(*p, [](const json& j) {
            return j["type"] == "reviewing" || (j["type"] == "message" && j["payload"]["sender"] == "ai");
        });
        replies.push_back(reply["type"] == "message" ? reply["payload"]["text"].get<std::string>() : "(held)");
        k.patients->drain();
    }
    INFO(replies[0] + "\n---\n" + replies[1]);
    CHECK(replies[0].find("Your care team asked for a short check-in questionnaire (PHQ-9); it's just below when "
                          "you're ready.") != std::string::npos);
    CHECK(replies[1].find("questionnaire") == std::string::npos);  // once per offer
}

TEST_CASE("a reply held for review does not use up the questionnaire's mention: the next ordinary turn makes it",
          "[bridge][assessments][companion]") {
    TestClinic k;
    auto p = k.patient_client();
    auto tara = k.clinician("tara");
    REQUIRE(action(*tara, {{"action_id", "pause"}, {"kind", "ai_pause"}, {"patient_id", k.alex}})["ok"] == true);
    REQUIRE(request(*tara, "r1", k.alex, "gad7")["ok"] == true);
    read_until(*p, of_type("questionnaire"));
    REQUIRE(p->send_text(frame("send", {{"client_msg_id", "m1"}, {"text", "I had a long day at work"}})));
    read_until(*p, of_type("reviewing"));
    k.patients->drain();
    REQUIRE(action(*tara, {{"action_id", "resume"}, {"kind", "ai_resume"}, {"patient_id", k.alex}})["ok"] == true);
    REQUIRE(p->send_text(frame("send", {{"client_msg_id", "m2"}, {"text", "Today was a bit better, I went for a walk"}})));
    const auto reply = read_until(*p, [](const json& j) { return j["type"] == "message" && j["payload"]["sender"] == "ai"; });
    INFO(reply.dump());
    CHECK(reply["payload"]["text"].get<std::string>().find("short check-in questionnaire (GAD-7)") != std::string::npos);
}
