// Treatment plans through the bridge's services: proposals (offline templates, a scripted model,
// and the real OpenAI client against fake_llm.py), clinician plan actions and their permission
// checks, the `plan` frame, and the AI turn after an approval. Real SQLCipher store in a temp
// dir; connections are in-memory (the socket path is covered by tests/e2e/test_plans.py).
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "tandem/bridge/clinician_service.h"
#include "tandem/bridge/plan_proposal.h"
#include "tandem/crypto/random.h"
#include "tandem/schema/schema_registry.h"
#include "tandem/store/sqlcipher_store.h"
#include "plan_fixtures.h"
#include "fake_connection.h"
#include "test_support.h"

using namespace std::chrono_literals;
using namespace tandem;
using namespace tandem::bridge;
using tandem::test::FakeConnection;
using tandem::test::TempDir;
using json = nlohmann::json;

namespace {

constexpr const char* kPassword = "correct horse battery";
const Actor kAdmin{ActorKind::system, std::string("test")};

// Plans are not about risk: every message screens as none.
class CalmScreener final : public RiskScreener {
public:
    RiskAssessment screen(std::string_view, ScreenRole, std::span<const ScreenTurn>) override {
        RiskAssessment r;
        r.rationale = "no risk";
        r.engine_version = "test";
        r.ruleset_version = "test";
        return r;
    }
};

// Chat turns get a fixed reply; plan requests (json_mode) take the next scripted reply, and
// every request is kept so a test can read the prompts.
class ScriptedModel final : public ChatModel {
public:
    explicit ScriptedModel(std::vector<std::string> plan_replies) : plan_replies_(plan_replies.begin(), plan_replies.end()) {}
    Result<ChatReply> complete(const ChatRequest& request, const DeltaSink& on_delta, const std::atomic<bool>*) override {
        ChatReply r;
        r.model = "scripted";
        {
            const std::lock_guard lock(mutex_);
            seen_.push_back(request);
            if (request.json_mode) {
                if (plan_replies_.empty()) return fail(ErrorCode::unavailable, "script exhausted");
                r.text = plan_replies_.front();
                plan_replies_.pop_front();
                return r;
            }
        }
        r.text = "Thanks for telling me.";
        if (on_delta) on_delta(r.text);
        return r;
    }
    std::string model_name() const override { return "scripted"; }
    std::vector<ChatRequest> seen() {
        const std::lock_guard lock(mutex_);
        return seen_;
    }

private:
    std::mutex mutex_;
    std::deque<std::string> plan_replies_;
    std::vector<ChatRequest> seen_;
};

struct PlanClinic {
    TempDir dir;
    Metrics metrics;
    std::unique_ptr<SqlcipherStore> raw;
    std::unique_ptr<NotifyingStore> store;
    CalmScreener screener;
    std::unique_ptr<ChatModel> model;
    std::shared_ptr<PatientService> patients;
    std::unique_ptr<AccountDirectory> accounts;
    std::shared_ptr<ClinicianService> clinicians;
    std::string tara, theo, sam, ada;  // therapist of alex, another therapist, supervisor, admin only
    std::string alex;
    std::shared_ptr<FakeConnection> alex_conn = std::make_shared<FakeConnection>();
    int next_id = 0;

    explicit PlanClinic(std::unique_ptr<ChatModel> m = make_offline_companion(), int after_turns = 3,
                        int attempts = 3) {
        model = std::move(m);
        auto s = SqlcipherStore::open(dir.path() / "clinic.db", random_secret(32).bytes());
        REQUIRE(s);
        raw = std::move(*s);
        store = std::make_unique<NotifyingStore>(*raw);
        PatientServiceOptions po;
        po.worker_threads = 2;
        po.plans.proposal_after_turns = after_turns;
        po.plans.proposal_attempts = attempts;
        auto ps = PatientService::create(*store, screener, *model, metrics, po);
        REQUIRE(ps);
        patients = *ps;
        accounts = std::make_unique<AccountDirectory>(*store);
        ClinicianServiceOptions co;
        co.password_policy = PasswordPolicy{1, 1024, 1, 10};
        co.sweep_interval = 1h;
        tara = add("tara", {"therapist"}, co.password_policy);
        theo = add("theo", {"therapist"}, co.password_policy);
        sam = add("sam", {"supervisor"}, co.password_policy);
        ada = add("ada", {"admin"}, co.password_policy);
        auto cs = ClinicianService::create(*store, *accounts, *patients, metrics, co);
        REQUIRE(cs);
        clinicians = *cs;
        auto id = patients->register_patient("Alex");
        REQUIRE(id);
        alex = *id;
        REQUIRE(assign_patient(*store, *accounts, alex, tara, kAdmin));
        auto code = patients->issue_invite(alex);
        REQUIRE(code);
        patient_frame("redeem", {{"invite_code", *code}});
    }
    ~PlanClinic() {
        clinicians->drain();
        patients->drain();
        patients->plans().drain();
    }
    std::string add(const std::string& user, std::vector<std::string> roles, const PasswordPolicy& policy) {
        auto a = accounts->add(user, user, roles, kPassword, policy, kAdmin);
        REQUIRE(a);
        return a->id;
    }
    std::vector<json> patient_frame(const std::string& type, json payload) {
        patients->on_frame(alex_conn, PatientFrame{type, "pf" + std::to_string(++next_id), std::move(payload)});
        patients->drain();
        return alex_conn->take();
    }
    // One patient turn; returns the frames the patient got (the AI reply included).
    std::vector<json> say(const std::string& text) {
        auto frames = patient_frame("send", {{"client_msg_id", "c" + std::to_string(++next_id)}, {"text", text}});
        patients->plans().drain();
        auto more = alex_conn->take();
        frames.insert(frames.end(), more.begin(), more.end());
        return frames;
    }
    std::shared_ptr<FakeConnection> login(const std::string& user) {
        auto c = std::make_shared<FakeConnection>();
        auto ok = ask(c, "login", {{"username", user}, {"password", kPassword}});
        REQUIRE(ok["type"] == "login_ok");
        return c;
    }
    json ask(const std::shared_ptr<FakeConnection>& c, const std::string& type, json payload) {
        clinicians->on_frame(c, PatientFrame{type, "r" + std::to_string(++next_id), std::move(payload)});
        clinicians->drain();
        for (auto& f : c->take())
            if (f["type"] != "event" && f["type"] != "caught_up") return f;
        FAIL("no reply");
        return {};
    }
    json act(const std::shared_ptr<FakeConnection>& c, json payload) {
        if (!payload.contains("action_id")) payload["action_id"] = "a" + std::to_string(++next_id);
        auto reply = ask(c, "action", std::move(payload));
        REQUIRE(reply["type"] == "action_result");
        CHECK(SchemaRegistry::builtin().validate("wire/action_result", reply["payload"]).has_value());
        return reply["payload"];
    }
    std::vector<PlanView> plans() {
        auto p = store->plans(alex);
        REQUIRE(p);
        return *p;
    }
    std::vector<StoredEvent> events_of(EventType type) {
        Principal all;
        all.supervisor = true;
        auto page = store->read_after(0, all, 100000);
        REQUIRE(page);
        std::vector<StoredEvent> out;
        for (auto& e : *page)
            if (e.type == type) out.push_back(e);
        return out;
    }
    // The newest AI message of alex's conversation.
    json last_ai_message() {
        auto convs = store->conversations(alex);
        REQUIRE(convs);
        REQUIRE_FALSE(convs->empty());
        auto msgs = store->messages(convs->back().id);
        REQUIRE(msgs);
        for (auto it = msgs->rbegin(); it != msgs->rend(); ++it)
            if (it->sender == "ai") return it->record;
        FAIL("no AI message");
        return {};
    }
};

const json* frame_of(const std::vector<json>& frames, const std::string& type) {
    for (const auto& f : frames)
        if (f["type"] == type) return &f;
    return nullptr;
}

std::string proposed_plan(PlanClinic& k) {
    for (const auto& p : k.plans())
        if (p.status == "proposed") return p.id;
    FAIL("no proposed plan");
    return {};
}

}  // namespace

TEST_CASE("after the configured intake turns the offline companion proposes one plan, off the reply path",
          "[bridge][plans]") {
    PlanClinic k;  // proposal after 3 turns
    k.say("Hello");
    k.say("I'm worried all the time about work");
    CHECK(k.plans().empty());
    const auto frames = k.say("I can't stop thinking about deadlines");
    // The third turn's reply came first; the proposal followed on the plan lane.
    CHECK(frame_of(frames, "message") != nullptr);
    auto plans = k.plans();
    REQUIRE(plans.size() == 1);
    CHECK(plans[0].version == 1);
    CHECK(plans[0].status == "proposed");
    CHECK(plans[0].record["proposer"] == json{{"kind", "ai"}});
    CHECK(plans[0].record["conditions"].dump().find("generalised anxiety") != std::string::npos);
    CHECK(plans[0].record["interventions"][0]["name"] == "worry postponement");
    CHECK(validate_plan_record(plans[0].record).has_value());
    const auto proposed = k.events_of(EventType::plan_proposed);
    REQUIRE(proposed.size() == 1);
    CHECK(proposed[0].actor.kind == ActorKind::ai);
    // Once per patient: more turns propose nothing more.
    k.say("Still worried");
    k.say("And more");
    CHECK(k.plans().size() == 1);
}

TEST_CASE("the patient gets an empty plan frame after session, and the approved plan's homework on approval",
          "[bridge][plans]") {
    PlanClinic k(make_offline_companion(), 1);
    // Redeem (in the constructor) sent session then plan; a hello does it again.
    auto code = k.patients->issue_invite(k.alex);
    REQUIRE(code);
    auto frames = k.patient_frame("redeem", {{"invite_code", *code}});
    REQUIRE(frames.size() >= 2);
    CHECK(frames[0]["type"] == "session");
    CHECK(frames[1]["type"] == "plan");
    CHECK(frames[1]["payload"] == json{{"homework", json::array()}, {"next_assessments", json::array()}});
    k.say("I feel flat and unmotivated");  // the proposal is made: the patient must not see it
    const auto proposal = proposed_plan(k);
    code = k.patients->issue_invite(k.alex);
    frames = k.patient_frame("redeem", {{"invite_code", *code}});
    REQUIRE(frame_of(frames, "plan") != nullptr);
    CHECK((*frame_of(frames, "plan"))["payload"]["homework"].empty());
    auto tara = k.login("tara");
    auto r = k.act(tara, {{"kind", "plan_decide"}, {"plan_id", proposal}, {"decision", "approve"}});
    CHECK(r["ok"] == true);
    const auto pushed = k.alex_conn->take();
    const json* plan = frame_of(pushed, "plan");
    REQUIRE(plan != nullptr);
    CHECK(SchemaRegistry::builtin().validate("wire/plan", (*plan)["payload"]).has_value());
    CHECK_FALSE((*plan)["payload"]["homework"].empty());
    CHECK((*plan)["payload"].contains("checkin_cadence"));
    CHECK((*plan)["payload"]["next_assessments"].size() >= 2);
}

TEST_CASE("the AI turn after an approval runs under the new version and the companion follows it",
          "[bridge][plans]") {
    PlanClinic k(make_offline_companion(), 0);
    k.say("Hello there");
    json before = k.last_ai_message();
    CHECK(before["plan_id"] == "default-clinic-plan");
    CHECK(before["plan_version"] == 1);
    auto tara = k.login("tara");
    json content = tandem::test::sample_plan_content();
    content["interventions"] = json::array({{{"name", "worry postponement"}, {"how_ai_uses_it", "save worries for later"}}});
    content["ai_guidance"]["avoid_topics"] = json::array({"the divorce"});
    auto r = k.act(tara, {{"kind", "plan_write"}, {"patient_id", k.alex}, {"plan", content}, {"approve", true}});
    REQUIRE(r["ok"] == true);
    auto plans = k.plans();
    REQUIRE(plans.size() == 1);
    CHECK(plans[0].status == "approved");
    CHECK(plans[0].record["approver_id"] == k.tara);
    k.say("I keep thinking about everything");
    json after = k.last_ai_message();
    CHECK(after["plan_id"] == plans[0].id);
    CHECK(after["plan_version"] == 1);
    CHECK(after["text"].get<std::string>().find("worry time") != std::string::npos);
    // A topic the plan says to avoid is left to the care team.
    k.say("The divorce is all I think about");
    CHECK(k.last_ai_message()["text"].get<std::string>().find("care team would like to talk through") !=
          std::string::npos);
}

TEST_CASE("the system prompt of the next turn carries the approved plan (no caching across the approval)",
          "[bridge][plans]") {
    auto scripted = std::make_unique<ScriptedModel>(std::vector<std::string>{});
    ScriptedModel* model = scripted.get();
    PlanClinic k(std::move(scripted), 0);
    k.say("Hi");
    auto tara = k.login("tara");
    json content = tandem::test::sample_plan_content();
    content["goals"][0]["description"] = "Join the Wednesday choir";
    REQUIRE(k.act(tara, {{"kind", "plan_write"}, {"patient_id", k.alex}, {"plan", content}, {"approve", true}})["ok"] ==
            true);
    k.say("Hi again");
    const auto seen = model->seen();
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].messages[0].content.find("the clinic's default") != std::string::npos);
    CHECK(seen[1].messages[0].content.find("Join the Wednesday choir") != std::string::npos);
    CHECK(seen[1].messages[0].content.find("version 1, approved by the care team") != std::string::npos);
    CHECK(k.last_ai_message()["plan_version"] == 1);
    CHECK(k.last_ai_message()["plan_id"] == k.plans()[0].id);
}

TEST_CASE("approve with changes stores a new version based on the proposal and rejects the proposal",
          "[bridge][plans]") {
    PlanClinic k(make_offline_companion(), 1);
    k.say("I feel hopeless and flat");
    const auto proposal = proposed_plan(k);
    auto tara = k.login("tara");
    json edited = plan_content(k.plans()[0].record);
    edited["goals"][0]["description"] = "Go to the climbing gym once a week";
    edited["ai_guidance"]["tone"] = "brief and direct";
    auto r = k.act(tara, {{"kind", "plan_decide"}, {"plan_id", proposal}, {"decision", "approve_with_changes"},
                          {"plan", edited}, {"reason", "climbing matters to them"}});
    REQUIRE(r["ok"] == true);
    auto plans = k.plans();
    REQUIRE(plans.size() == 2);
    CHECK(plans[0].status == "rejected");
    CHECK(plans[0].record["reason"] == "superseded by version 2 with changes");
    CHECK(plans[1].status == "approved");
    CHECK(plans[1].record["based_on_version"] == 1);
    CHECK(plans[1].record["proposer"] == json{{"kind", "clinician"}, {"clinician_id", k.tara}});
    CHECK(plans[1].record["goals"][0]["description"] == "Go to the climbing gym once a week");
    // The result's seq is the approval's.
    const auto approvals = k.events_of(EventType::plan_approved);
    REQUIRE(approvals.size() == 1);
    CHECK(r["seq"] == approvals[0].seq);
    k.say("I went for a walk");
    CHECK(k.last_ai_message()["plan_version"] == 2);
}

TEST_CASE("a rejection needs a reason, only a proposed version can be decided, and an invalid edit is refused",
          "[bridge][plans]") {
    PlanClinic k(make_offline_companion(), 1);
    k.say("I'm anxious");
    const auto proposal = proposed_plan(k);
    auto tara = k.login("tara");
    auto r = k.act(tara, {{"kind", "plan_decide"}, {"plan_id", proposal}, {"decision", "reject"}});
    CHECK(r["ok"] == false);
    CHECK(r["error"]["code"] == "schema");
    CHECK(r["error"]["field"] == "/payload/reason");
    json bad = plan_content(k.plans()[0].record);
    bad["goals"][0]["target_date"] = "soon";
    r = k.act(tara, {{"kind", "plan_decide"}, {"plan_id", proposal}, {"decision", "approve_with_changes"}, {"plan", bad}});
    CHECK(r["ok"] == false);
    CHECK(r["error"]["code"] == "schema");
    CHECK(r["error"]["field"] == "/payload/plan/goals/0/target_date");
    r = k.act(tara, {{"kind", "plan_decide"}, {"plan_id", proposal}, {"decision", "reject"}, {"reason", "too generic"}});
    CHECK(r["ok"] == true);
    CHECK(k.plans()[0].status == "rejected");
    CHECK(k.plans()[0].record["reason"] == "too generic");
    r = k.act(tara, {{"kind", "plan_decide"}, {"plan_id", proposal}, {"decision", "approve"}});
    CHECK(r["ok"] == false);
    CHECK(r["error"]["code"] == "conflict");
    r = k.act(tara, {{"kind", "plan_decide"}, {"plan_id", "no-such-plan"}, {"decision", "approve"}});
    CHECK(r["error"]["code"] == "not_found");
    CHECK(k.plans().size() == 1);
}

TEST_CASE("restore copies an earlier version into a new approved version; versions are never reused",
          "[bridge][plans]") {
    PlanClinic k(make_offline_companion(), 0);
    auto sam = k.login("sam");  // a supervisor may act on any patient
    json a = tandem::test::sample_plan_content();
    json b = a;
    b["homework"] = json::array({"call a friend"});
    REQUIRE(k.act(sam, {{"kind", "plan_write"}, {"patient_id", k.alex}, {"plan", a}, {"approve", true}})["ok"] == true);
    REQUIRE(k.act(sam, {{"kind", "plan_write"}, {"patient_id", k.alex}, {"plan", b}, {"approve", true}})["ok"] == true);
    const std::string first = k.plans()[0].id;
    CHECK(k.plans()[0].status == "superseded");
    auto r = k.act(sam, {{"kind", "plan_restore"}, {"plan_id", first}, {"reason", "the call felt too much"}});
    REQUIRE(r["ok"] == true);
    auto plans = k.plans();
    REQUIRE(plans.size() == 3);
    CHECK(plans[2].version == 3);
    CHECK(plans[2].status == "approved");
    CHECK(plans[2].record["based_on_version"] == 1);
    CHECK(plan_content(plans[2].record) == plan_content(plans[0].record));
    CHECK(plans[1].status == "superseded");
    CHECK(plans[0].status == "superseded");
    // A written version left unapproved stays proposed, with the next number.
    REQUIRE(k.act(sam, {{"kind", "plan_write"}, {"patient_id", k.alex}, {"plan", b}, {"approve", false}})["ok"] == true);
    CHECK(k.plans().back().version == 4);
    CHECK(k.plans().back().status == "proposed");
}

TEST_CASE("every plan action and fetch by an unassigned therapist or an admin-only account is refused",
          "[bridge][plans][permissions]") {
    PlanClinic k(make_offline_companion(), 1);
    k.say("I feel low");
    const auto proposal = proposed_plan(k);
    const json content = tandem::test::sample_plan_content();
    const std::vector<std::pair<const char*, json>> actions = {
        {"plan_request", {{"kind", "plan_request"}, {"patient_id", k.alex}}},
        {"plan_decide approve", {{"kind", "plan_decide"}, {"plan_id", proposal}, {"decision", "approve"}}},
        {"plan_decide reject", {{"kind", "plan_decide"}, {"plan_id", proposal}, {"decision", "reject"}, {"reason", "no"}}},
        {"plan_decide with changes",
         {{"kind", "plan_decide"}, {"plan_id", proposal}, {"decision", "approve_with_changes"}, {"plan", content}}},
        {"plan_write", {{"kind", "plan_write"}, {"patient_id", k.alex}, {"plan", content}, {"approve", true}}},
        {"plan_restore", {{"kind", "plan_restore"}, {"plan_id", proposal}, {"reason", "back"}}},
    };
    for (const char* user : {"theo", "ada"}) {
        auto c = k.login(user);
        for (const auto& [name, payload] : actions) {
            INFO(user << " " << name);
            auto r = k.act(c, payload);
            CHECK(r["ok"] == false);
            CHECK(r["error"]["code"] == "permission_denied");
        }
        auto f = k.ask(c, "fetch_plans", {{"patient_id", k.alex}});
        CHECK(f["type"] == "error");
        CHECK(f["payload"]["code"] == "permission_denied");
    }
    CHECK(k.plans().size() == 1);
    CHECK(k.plans()[0].status == "proposed");
    // The assigned therapist and a supervisor may.
    auto tara = k.login("tara");
    CHECK(k.ask(tara, "fetch_plans", {{"patient_id", k.alex}})["type"] == "plans");
    auto sam = k.login("sam");
    CHECK(k.act(sam, {{"kind", "plan_decide"}, {"plan_id", proposal}, {"decision", "approve"}})["ok"] == true);
}

TEST_CASE("plan actions are idempotent on action_id and fetch_plans is audited as a view", "[bridge][plans]") {
    PlanClinic k(make_offline_companion(), 1);
    k.say("I feel low");
    const auto proposal = proposed_plan(k);
    auto tara = k.login("tara");
    const json approve = {{"action_id", "approve-1"}, {"kind", "plan_decide"}, {"plan_id", proposal}, {"decision", "approve"}};
    auto first = k.act(tara, approve);
    auto again = k.act(tara, approve);
    CHECK(first["ok"] == true);
    first.erase("request_id");
    again.erase("request_id");
    CHECK(again == first);
    CHECK(k.events_of(EventType::plan_approved).size() == 1);
    const auto audits = k.events_of(EventType::clinician_action);
    CHECK(std::count_if(audits.begin(), audits.end(),
                        [](const StoredEvent& e) { return e.payload.value("action", "") == "plan_decide"; }) == 1);
    auto reply = k.ask(tara, "fetch_plans", {{"patient_id", k.alex}});
    REQUIRE(reply["type"] == "plans");
    INFO(reply.dump());
    CHECK(SchemaRegistry::builtin().validate("wire/plans", reply["payload"]).has_value());
    CHECK(reply["payload"]["plans"].size() == 1);
    CHECK(reply["payload"]["plans"][0]["status"] == "approved");
    const auto views = k.events_of(EventType::transcript_viewed);
    REQUIRE(views.size() == 1);
    CHECK(views[0].payload["what"] == "plans");
    CHECK(views[0].actor.id == k.tara);
}

TEST_CASE("plan_request is ok once queued; the proposal arrives later as plan_proposed", "[bridge][plans]") {
    PlanClinic k(make_offline_companion(), 0);
    k.say("I've been skipping meals to lose weight");
    CHECK(k.plans().empty());
    auto tara = k.login("tara");
    auto r = k.act(tara, {{"kind", "plan_request"}, {"patient_id", k.alex}});
    CHECK(r["ok"] == true);
    k.patients->plans().drain();
    auto plans = k.plans();
    REQUIRE(plans.size() == 1);
    CHECK(plans[0].record["interventions"][0]["name"] == "regular eating");
    CHECK(plans[0].record["ai_guidance"]["avoid_topics"].dump().find("weight") != std::string::npos);
}

TEST_CASE("LLM proposals: invalid JSON, truncated JSON and a refusal are retried with feedback, then a valid plan is stored",
          "[bridge][plans][llm]") {
    const std::string good = tandem::test::sample_plan_content().dump();
    auto scripted = std::make_unique<ScriptedModel>(std::vector<std::string>{
        "Goals: walk more.", good.substr(0, 200), "I'm sorry, but I can't help with that.", "```json\n" + good + "\n```"});
    ScriptedModel* model = scripted.get();
    PlanClinic k(std::move(scripted), 0, 4);
    k.say("I feel flat");
    auto id = k.patients->plans().propose(k.alex);
    REQUIRE(id);
    std::vector<ChatRequest> plan_requests;
    for (const auto& r : model->seen())
        if (r.json_mode) plan_requests.push_back(r);
    REQUIRE(plan_requests.size() == 4);
    CHECK(plan_requests[0].max_tokens == 1500);
    // Each retry carries the reason the last reply failed.
    CHECK(plan_requests[1].messages.back().content.find("no JSON object") != std::string::npos);
    CHECK(plan_requests[2].messages.back().content.find("truncated") != std::string::npos);
    CHECK(plan_requests[3].messages.back().content.find("draft for a licensed therapist") != std::string::npos);
    auto plans = k.plans();
    REQUIRE(plans.size() == 1);
    CHECK(plans[0].id == *id);
    CHECK(plans[0].record["goals"] == tandem::test::sample_plan_content()["goals"]);
    CHECK(k.events_of(EventType::llm_failed).empty());
}

TEST_CASE("LLM proposals that stay invalid are reported as llm_failed with purpose plan_proposal; nothing is stored",
          "[bridge][plans][llm]") {
    json no_goals = tandem::test::sample_plan_content();
    no_goals.erase("goals");
    auto scripted = std::make_unique<ScriptedModel>(
        std::vector<std::string>{"{\"goals\": [", "I cannot help with treatment plans.", no_goals.dump()});
    PlanClinic k(std::move(scripted), 0, 3);
    auto id = k.patients->plans().propose(k.alex);
    REQUIRE_FALSE(id);
    CHECK(id.error().field == "/goals");
    CHECK(k.plans().empty());
    const auto failed = k.events_of(EventType::llm_failed);
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].payload["purpose"] == "plan_proposal");
    CHECK(failed[0].payload["attempts"] == 3);
    CHECK_FALSE(failed[0].payload["reason"].get<std::string>().empty());
    // The model being down is reported the same way, after one try (the client retries transport).
    auto id2 = k.patients->plans().propose(k.alex);
    REQUIRE_FALSE(id2);
    CHECK(k.events_of(EventType::llm_failed).size() == 2);
}

namespace {

struct FakeProvider {
    tandem::test::ChildProcess process{{"/usr/bin/python3", TANDEM_FAKE_LLM}};
    int port = 0;
    FakeProvider() {
        const auto line = process.read_line(10s);
        REQUIRE(line.rfind("PORT ", 0) == 0);
        port = std::stoi(line.substr(5));
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
    // POSTs a JSON body with python's urllib (the tests have no HTTP client of their own).
    json call(const std::string& method, const std::string& path, const json& body = nullptr) {
        const std::string code =
            "import json,sys,urllib.request as u\n"
            "d=None if sys.argv[3]=='null' else sys.argv[3].encode()\n"
            "r=u.Request(sys.argv[1],data=d,method=sys.argv[2],headers={'Content-Type':'application/json'})\n"
            "print(u.urlopen(r,timeout=5).read().decode())\n";
        auto [status, out] =
            tandem::test::run_command({"/usr/bin/python3", "-c", code, url() + path, method, body.dump()});
        REQUIRE(status == 0);
        return json::parse(out);
    }
};

}  // namespace

TEST_CASE("the OpenAI client asks fake_llm.py for a JSON object and a reply wrapped in prose is repaired",
          "[bridge][plans][llm]") {
    FakeProvider provider;
    const std::string good = tandem::test::sample_plan_content().dump();
    provider.call("POST", "/script",
                  {{"steps", json::array({{{"kind", "ok"}, {"text", "Sure! Here it is:\n```json\n" + good + "\n```\nHope this helps."}}})}});
    LlmSettings s;
    s.base_url = provider.url();
    s.model = "scripted";
    s.idle_timeout = 2000ms;
    s.total_timeout = 5000ms;
    s.backoff_initial = 20ms;
    auto client = make_openai_client(s, "");
    PlanClinic k(make_offline_companion(), 0);
    PlanServiceOptions po;
    PlanService service(*k.store, *client, po);
    auto id = service.propose(k.alex);
    REQUIRE(id);
    const auto requests = provider.call("GET", "/requests");
    REQUIRE(requests.size() == 1);
    CHECK(requests[0]["response_format"] == json{{"type", "json_object"}});
    CHECK(requests[0]["max_tokens"] == 1500);
    auto plans = k.plans();
    REQUIRE(plans.size() == 1);
    CHECK(plans[0].record["homework"] == tandem::test::sample_plan_content()["homework"]);
}

TEST_CASE("a plan action resent after a restart of the clinician service returns its first seq and appends nothing",
          "[bridge][plans]") {
    PlanClinic k(make_offline_companion(), 1);
    k.say("I feel low and flat");
    const auto proposal = proposed_plan(k);
    auto tara = k.login("tara");
    json edited = plan_content(k.plans()[0].record);
    edited["homework"] = json::array({"one walk a day"});
    const json with_changes = {{"action_id", "changes-1"}, {"kind", "plan_decide"}, {"plan_id", proposal},
                               {"decision", "approve_with_changes"}, {"plan", edited}};
    const json draft = {{"action_id", "draft-1"}, {"kind", "plan_write"}, {"patient_id", k.alex},
                        {"plan", edited}, {"approve", false}};
    auto first_changes = k.act(tara, with_changes);
    auto first_draft = k.act(tara, draft);
    REQUIRE(first_changes["ok"] == true);
    REQUIRE(first_draft["ok"] == true);
    const auto versions = k.plans().size();
    k.clinicians.reset();  // the results are rebuilt from the log by the next one
    ClinicianServiceOptions co;
    co.password_policy = PasswordPolicy{1, 1024, 1, 10};
    co.sweep_interval = 1h;
    auto cs = ClinicianService::create(*k.store, *k.accounts, *k.patients, k.metrics, co);
    REQUIRE(cs);
    k.clinicians = *cs;
    tara = k.login("tara");
    auto again_changes = k.act(tara, with_changes);
    auto again_draft = k.act(tara, draft);
    for (json* j : {&first_changes, &first_draft, &again_changes, &again_draft}) j->erase("request_id");
    CHECK(again_changes == first_changes);
    CHECK(again_draft == first_draft);
    CHECK(k.plans().size() == versions);
    CHECK(k.events_of(EventType::plan_approved).size() == 1);
}
