// The patient turn pipeline end to end: a real TLS WebSocket (Beast client), the real
// SQLCipher store in a temp dir, the real offline companion or the OpenAI client against
// fake_llm.py, and the real tandem_risk rule engine.
#include <catch2/catch_test_macros.hpp>

#include <functional>
#include <mutex>

#include <nlohmann/json.hpp>

#include "tandem/bridge/init.h"
#include "tandem/bridge/patient_endpoint.h"
#include "tandem/bridge/patient_service.h"
#include "tandem/bridge/server.h"
#include "tandem/crypto/random.h"
#include "tandem/domain/json.h"
#include "tandem/domain/records.h"
#include "tandem/store/sqlcipher_store.h"
#include "frames.h"
#include "test_support.h"

using namespace std::chrono_literals;
using namespace tandem;
using namespace tandem::bridge;
using tandem::test::ChildProcess;
using tandem::test::TempDir;
using tandem::test::WssClient;
using tandem::test::frame;
using tandem::test::of_type;
using tandem::test::read_until;
using json = nlohmann::json;

namespace {

// The real rule engine (its compiled database is cached on disk after the first load).
std::unique_ptr<RiskScreener> engine_screener() {
    auto s = make_rule_engine_screener();
    REQUIRE(s);
    return std::move(*s);
}

// A model that streams a fixed reply in the given pieces, as a provider would; with
// `known_whole`, it first announces the whole text, as the offline companion does.
class ScriptedModel final : public ChatModel {
public:
    explicit ScriptedModel(std::vector<std::string> pieces, bool known_whole = false)
        : pieces_(std::move(pieces)), known_whole_(known_whole) {}
    Result<ChatReply> complete(const ChatRequest& request, const DeltaSink& on_delta,
                               const std::atomic<bool>*) override {
        last_request_ = request;
        ChatReply r;
        if (known_whole_) {
            std::string whole;
            for (const auto& p : pieces_) whole += p;
            on_delta.whole(whole);
        }
        for (const auto& p : pieces_) {
            if (on_delta) on_delta(p);
            r.text += p;
        }
        r.model = "scripted-model-7b";
        r.finish_reason = "stop";
        return r;
    }
    std::string model_name() const override { return "scripted"; }
    ChatRequest last_request_;

private:
    std::vector<std::string> pieces_;
    bool known_whole_ = false;
};

// The real engine, recording the context each screen was given.
class RecordingScreener final : public RiskScreener {
public:
    RiskAssessment screen(std::string_view text, ScreenRole role, std::span<const ScreenTurn> context) override {
        {
            const std::lock_guard lock(mutex_);
            calls.push_back({std::string(text), role, {context.begin(), context.end()}});
        }
        return inner_->screen(text, role, context);
    }
    struct Call {
        std::string text;
        ScreenRole role;
        std::vector<ScreenTurn> context;
    };
    std::vector<Call> calls;
    /// The texts screened in the AI's role, in order.
    std::vector<std::string> ai_texts() {
        const std::lock_guard lock(mutex_);
        std::vector<std::string> out;
        for (const auto& c : calls)
            if (c.role == ScreenRole::ai) out.push_back(c.text);
        return out;
    }

private:
    std::mutex mutex_;
    std::unique_ptr<RiskScreener> inner_ = engine_screener();
};

struct Bridge {
    TempDir dir;
    Metrics metrics;
    std::unique_ptr<SqlcipherStore> store;
    std::unique_ptr<RiskScreener> screener = std::make_unique<RecordingScreener>();
    std::unique_ptr<ChatModel> model;
    std::shared_ptr<PatientService> service;
    std::unique_ptr<Server> server;
    std::filesystem::path cert;
    std::uint16_t port = 0;
    std::string patient_id;

    explicit Bridge(std::unique_ptr<ChatModel> m) : model(std::move(m)) {
        InitOptions o;
        o.data_dir = dir.path();
        auto init = init_data_dir(o);
        REQUIRE(init);
        cert = init->cert_file;
        const auto key = random_secret(32);
        auto s = SqlcipherStore::open(dir.path() / "store.db", key.bytes());
        REQUIRE(s);
        store = std::move(*s);
        auto svc = PatientService::create(*store, *screener, *model, metrics, PatientServiceOptions{});
        REQUIRE(svc);
        service = *svc;
        ServerOptions so;
        so.cert_file = init->cert_file;
        so.key_file = init->key_file;
        server = std::make_unique<Server>(so, metrics);
        server->add_websocket_endpoint("/patient", std::make_shared<PatientEndpoint>(service, metrics, 1000));
        auto p = server->start();
        REQUIRE(p);
        port = *p;
        auto id = service->register_patient("Alex");
        REQUIRE(id);
        patient_id = *id;
    }
    ~Bridge() {
        server->stop();
        service->drain();
    }
    std::unique_ptr<WssClient> connect() {
        auto c = WssClient::connect(port, "/patient", cert);
        REQUIRE(c);
        return std::move(*c);
    }
    RecordingScreener& recorder() { return static_cast<RecordingScreener&>(*screener); }
    std::vector<MessageView> messages(const std::string& conversation_id) {
        auto m = store->messages(conversation_id);
        REQUIRE(m);
        return *m;
    }
};


// fake_llm.py on 127.0.0.1, scripted over its own HTTP API (through python's urllib: the tests
// have no HTTP client of their own).
struct FakeProvider {
    ChildProcess process{{"/usr/bin/python3", TANDEM_FAKE_LLM}};
    std::string url;
    FakeProvider() {
        const auto line = process.read_line(10s);
        REQUIRE(line.rfind("PORT ", 0) == 0);
        url = "http://127.0.0.1:" + line.substr(5);
    }
    void script(const json& body) {
        const std::string code =
            "import sys,urllib.request as u\n"
            "r=u.Request(sys.argv[1],data=sys.argv[2].encode(),method='POST',"
            "headers={'Content-Type':'application/json'})\n"
            "u.urlopen(r,timeout=5).read()\n";
        auto [status, out] = tandem::test::run_command({"/usr/bin/python3", "-c", code, url + "/script", body.dump()});
        REQUIRE(status == 0);
    }
    std::unique_ptr<ChatModel> client() const {
        LlmSettings s;
        s.base_url = url;
        s.model = "scripted";
        s.total_timeout = 5000ms;
        return make_openai_client(s, "");
    }
};

// The segments of one reply, joined, from the frames seen before its final message or hold.
std::string segments_of(const std::vector<json>& seen) {
    std::string out;
    for (const auto& f : seen)
        if (f["type"] == "segment") out += f["payload"]["text"].get<std::string>();
    return out;
}

json redeem(Bridge& b, WssClient& c) {
    auto code = b.service->issue_invite(b.patient_id);
    REQUIRE(code);
    REQUIRE(c.send_text(frame("redeem", {{"invite_code", *code}})));
    return read_until(c, of_type("session"));
}

}  // namespace

TEST_CASE("a patient message is persisted and acked with its seq; a resend gets the same ack, no duplicate",
          "[bridge][turn]") {
    Bridge b(make_offline_companion());
    auto c = b.connect();
    const auto session = redeem(b, *c);
    const std::string conversation = session["payload"]["conversation_id"];

    REQUIRE(c->send_text(frame("send", {{"client_msg_id", "m-1"}, {"text", "I feel anxious about work"}})));
    const auto ack = read_until(*c, of_type("ack"));
    CHECK(ack["payload"]["client_msg_id"] == "m-1");
    CHECK(ack["payload"]["seq"].get<std::int64_t>() > 0);
    const auto reply = read_until(*c, [](const json& j) { return j["type"] == "message" && j["payload"]["sender"] == "ai"; });
    CHECK(reply["payload"]["text"].get<std::string>().find("Offline companion") != std::string::npos);

    // Bad input tried: the same client_msg_id again (a client retrying after a lost ack).
    REQUIRE(c->send_text(frame("send", {{"client_msg_id", "m-1"}, {"text", "I feel anxious about work"}})));
    const auto again = read_until(*c, of_type("ack"));
    CHECK(again["payload"]["seq"] == ack["payload"]["seq"]);
    CHECK(again["payload"]["message_id"] == ack["payload"]["message_id"]);
    b.service->drain();
    int patient_messages = 0;
    for (const auto& m : b.messages(conversation)) patient_messages += m.sender == "patient";
    CHECK(patient_messages == 1);
}

TEST_CASE("bad, reused and missing credentials are refused and the connection stays usable", "[bridge][turn]") {
    Bridge b(make_offline_companion());
    auto c = b.connect();
    struct Case {
        const char* name;
        std::string frame;
        const char* code;
    };
    const Case cases[] = {
        {"unknown invite code", frame("redeem", {{"invite_code", "00000-00000-00000-00000"}}), "invalid_invite"},
        {"invite code not a string", frame("redeem", {{"invite_code", 42}}), "schema"},
        {"unknown device token", frame("hello", {{"device_token", "forged"}}), "invalid_invite"},
        {"negative cursor", frame("hello", {{"device_token", "x"}, {"last_seq", -1}}), "schema"},
        {"send before any session", frame("send", {{"client_msg_id", "a"}, {"text", "hi"}}), "unauthenticated"},
    };
    for (const auto& bad : cases) {
        INFO(bad.name);
        REQUIRE(c->send_text(bad.frame));
        const auto err = read_until(*c, of_type("error"));
        CHECK(err["payload"]["code"] == bad.code);
    }
    // A valid code works once; the same code on another connection is refused.
    auto code = b.service->issue_invite(b.patient_id);
    REQUIRE(code);
    REQUIRE(c->send_text(frame("redeem", {{"invite_code", *code}})));
    CHECK(read_until(*c, of_type("session"))["payload"]["patient_id"] == b.patient_id);
    auto other = b.connect();
    REQUIRE(other->send_text(frame("redeem", {{"invite_code", *code}})));
    CHECK(read_until(*other, of_type("error"))["payload"]["code"] == "invalid_invite");
}

TEST_CASE("reconnecting with the device token resumes the conversation and delivers what was missed",
          "[bridge][turn]") {
    Bridge b(make_offline_companion());
    std::string token;
    std::string conversation;
    {
        auto c = b.connect();
        const auto s = redeem(b, *c);
        token = s["payload"]["device_token"];
        conversation = s["payload"]["conversation_id"];
        REQUIRE(c->send_text(frame("send", {{"client_msg_id", "r-1"}, {"text", "I can't sleep"}})));
        read_until(*c, of_type("ack"));
    }
    b.service->drain();  // the AI reply is produced while the patient is away
    auto c = b.connect();
    REQUIRE(c->send_text(frame("hello", {{"device_token", token}, {"last_seq", 0}})));
    const auto s = read_until(*c, of_type("session"));
    CHECK(s["payload"]["conversation_id"] == conversation);
    CHECK_FALSE(s["payload"].contains("device_token"));  // issued once, at redemption
    const auto missed = read_until(*c, [](const json& j) { return j["type"] == "message" && j["payload"]["sender"] == "ai"; });
    CHECK(missed["payload"]["text"].get<std::string>().find("wake-up") != std::string::npos);
}

TEST_CASE("a high-risk message brings the crisis message at once even while the LLM is down", "[bridge][turn]") {
    LlmSettings dead;
    dead.base_url = "http://127.0.0.1:1";  // nothing listens: the provider is down
    dead.max_attempts = 1;
    dead.connect_timeout = 500ms;
    Bridge b(make_openai_client(dead, ""));
    auto c = b.connect();
    redeem(b, *c);
    // Bad input tried: suicidal intent with a time (imminent), with the LLM unreachable.
    REQUIRE(c->send_text(frame("send", {{"client_msg_id", "c-1"}, {"text", "I am going to kill myself tonight"}})));
    std::vector<json> seen;
    const auto crisis = read_until(*c, of_type("crisis"), &seen);
    const auto resources = crisis["payload"]["resources"].dump();
    CHECK(resources.find("988") != std::string::npos);
    CHECK(resources.find("911") != std::string::npos);
    // The crisis frame came right after the ack, before any LLM outcome.
    REQUIRE(seen.size() >= 2);
    CHECK(seen[seen.size() - 2]["type"] == "ack");
    // Then the LLM failure yields the safe fallback, not silence or a crash.
    const auto fallback = read_until(*c, [](const json& j) { return j["type"] == "message" && j["payload"]["sender"] == "system"; });
    CHECK(fallback["payload"]["text"].get<std::string>().find("988") != std::string::npos);
    b.service->drain();

    Principal supervisor;
    supervisor.supervisor = true;
    auto flags = b.store->open_flags(supervisor);
    REQUIRE(flags);
    REQUIRE(flags->size() == 1);
    CHECK(flags->front().severity == "imminent");
    CHECK_FALSE(flags->front().sla_deadline.empty());
    auto patient = b.store->find_patient(b.patient_id);
    REQUIRE(patient);
    REQUIRE(*patient);
    CHECK((*patient)->in_crisis);
    CHECK(b.metrics.llm_errors.load() == 1);
}

TEST_CASE("in crisis, AI replies are held for clinician release, also after a reconnect", "[bridge][turn]") {
    Bridge b(make_offline_companion());
    std::string token;
    std::string conversation;
    {
        auto c = b.connect();
        const auto s = redeem(b, *c);
        token = s["payload"]["device_token"];
        conversation = s["payload"]["conversation_id"];
        REQUIRE(c->send_text(frame("send", {{"client_msg_id", "h-1"}, {"text", "I have decided to end my life and I know how I will do it"}})));
        read_until(*c, of_type("crisis"));
        read_until(*c, of_type("reviewing"));
    }
    b.service->drain();
    auto c = b.connect();
    REQUIRE(c->send_text(frame("hello", {{"device_token", token}})));
    const auto s = read_until(*c, of_type("session"));
    CHECK(s["payload"].contains("crisis"));  // crisis state survives the reconnect
    REQUIRE(c->send_text(frame("send", {{"client_msg_id", "h-2"}, {"text", "thanks for listening"}})));
    std::vector<json> seen;
    read_until(*c, of_type("reviewing"), &seen);
    for (const auto& f : seen) CHECK_FALSE((f["type"] == "message" && f["payload"]["sender"] == "ai"));
    b.service->drain();
    int held = 0;
    for (const auto& m : b.messages(conversation)) {
        if (m.sender == "ai") {
            CHECK(m.state == "held");
            ++held;
        }
    }
    CHECK(held == 2);
}

TEST_CASE("an unsafe AI reply is held and never reaches the patient", "[bridge][turn]") {
    ChildProcess fake({"/usr/bin/python3", TANDEM_FAKE_LLM});
    const auto line = fake.read_line(10s);
    REQUIRE(line.rfind("PORT ", 0) == 0);
    LlmSettings s;
    s.base_url = "http://127.0.0.1:" + line.substr(5);
    s.model = "unsafe";  // the stand-in answers with medication advice
    Bridge b(make_openai_client(s, ""));
    auto c = b.connect();
    const auto session = redeem(b, *c);
    REQUIRE(c->send_text(frame("send", {{"client_msg_id", "u-1"}, {"text", "should I keep going with my meds?"}})));
    std::vector<json> seen;
    read_until(*c, of_type("reviewing"), &seen);
    for (const auto& f : seen) {
        CHECK(f.dump().find("stop taking") == std::string::npos);
    }
    // Nothing else arrives: the held text is not sent later either.
    auto extra = c->read(500ms);
    if (extra) CHECK(extra->find("stop taking") == std::string::npos);
    b.service->drain();
    bool held = false;
    for (const auto& m : b.messages(session["payload"]["conversation_id"]))
        if (m.sender == "ai") held = m.state == "held";
    CHECK(held);
    CHECK(b.metrics.ai_messages_held.load() == 1);
}

TEST_CASE("a moderate-risk message opens a flag for review without the crisis protocol", "[bridge][turn]") {
    Bridge b(make_offline_companion());
    auto c = b.connect();
    redeem(b, *c);
    // Input tried: suicidal ideation without plan or intent (the engine rates it moderate).
    REQUIRE(c->send_text(frame("send", {{"client_msg_id", "mod-1"}, {"text", "I want to kill myself"}})));
    std::vector<json> seen;
    read_until(*c, [](const json& j) { return j["type"] == "message" && j["payload"]["sender"] == "ai"; }, &seen);
    for (const auto& f : seen) CHECK(f["type"] != "crisis");
    b.service->drain();
    Principal supervisor;
    supervisor.supervisor = true;
    auto flags = b.store->open_flags(supervisor);
    REQUIRE(flags);
    REQUIRE(flags->size() == 1);
    CHECK(flags->front().severity == "moderate");
    auto patient = b.store->find_patient(b.patient_id);
    REQUIRE(patient);
    REQUIRE(*patient);
    CHECK_FALSE((*patient)->in_crisis);
    CHECK(b.metrics.flags_by_severity[static_cast<std::size_t>(Severity::moderate)].load() == 1);
}

TEST_CASE("an AI reply streams in screened segments and records the plan and model that wrote it",
          "[bridge][turn][stream]") {
    Bridge b(std::make_unique<ScriptedModel>(std::vector<std::string>{
        "That sounds", " like a hard week. ", "What helped", " last time? Maybe", " a short walk."}));
    auto c = b.connect();
    const auto session = redeem(b, *c);
    REQUIRE(c->send_text(frame("send", {{"client_msg_id", "s-1"}, {"text", "work has been rough"}})));
    std::vector<json> seen;
    const auto final_msg = read_until(*c, [](const json& j) { return j["type"] == "message" && j["payload"]["sender"] == "ai"; }, &seen);
    std::string streamed;
    int index = 0;
    for (const auto& f : seen) {
        if (f["type"] != "segment") continue;
        CHECK(f["payload"]["index"] == index++);
        CHECK(f["payload"]["reply_id"] == final_msg["payload"]["id"]);
        streamed += f["payload"]["text"].get<std::string>();
    }
    // Whole sentences only: the last sentence waits for the final message.
    CHECK(streamed == "That sounds like a hard week. What helped last time?");
    CHECK(final_msg["payload"]["text"] == "That sounds like a hard week. What helped last time? Maybe a short walk.");
    CHECK(final_msg["payload"]["reply_id"] == final_msg["payload"]["id"]);
    b.service->drain();
    bool found = false;
    for (const auto& m : b.messages(session["payload"]["conversation_id"])) {
        if (m.sender != "ai") continue;
        found = true;
        CHECK(m.record["model"] == "scripted-model-7b");
        CHECK(m.record["plan_id"] == "default-clinic-plan");
        CHECK(m.record["plan_version"] == 1);
        auto record = from_json_checked<Message>(m.record);
        REQUIRE(record);
        CHECK(validate(*record));
    }
    CHECK(found);
}

TEST_CASE("a later unsafe sentence stops the segments and holds the whole reply", "[bridge][turn][stream]") {
    // Bad input tried: a reply whose first sentence is fine and whose second is medication advice.
    Bridge b(std::make_unique<ScriptedModel>(std::vector<std::string>{
        "I hear you. ", "You should stop taking your medication. ", "It will pass."}));
    auto c = b.connect();
    const auto session = redeem(b, *c);
    REQUIRE(c->send_text(frame("send", {{"client_msg_id", "s-2"}, {"text", "my pills make me foggy"}})));
    std::vector<json> seen;
    const auto reviewing = read_until(*c, of_type("reviewing"), &seen);
    std::string streamed;
    for (const auto& f : seen) {
        CHECK(f.dump().find("stop taking") == std::string::npos);
        if (f["type"] == "segment") streamed += f["payload"]["text"].get<std::string>();
    }
    CHECK(streamed == "I hear you.");
    auto extra = c->read(300ms);
    if (extra) CHECK(extra->find("stop taking") == std::string::npos);
    b.service->drain();
    for (const auto& m : b.messages(session["payload"]["conversation_id"])) {
        if (m.sender != "ai") continue;
        CHECK(m.state == "held");
        CHECK(m.id == reviewing["payload"]["reply_id"]);
        CHECK(m.record["text"] == "I hear you. You should stop taking your medication. It will pass.");
    }
}

TEST_CASE("the risk screen gets the recent turns for patient messages and AI replies", "[bridge][turn]") {
    Bridge b(make_offline_companion());
    auto c = b.connect();
    redeem(b, *c);
    for (const auto& [id, text] : {std::pair{"x-1", "hello"}, std::pair{"x-2", "I feel anxious"}}) {
        REQUIRE(c->send_text(frame("send", {{"client_msg_id", id}, {"text", text}})));
        read_until(*c, [](const json& j) { return j["type"] == "message" && j["payload"]["sender"] == "ai"; });
    }
    b.service->drain();
    const auto& calls = b.recorder().calls;
    // The last patient screen saw hello and the AI's answer; the last AI screen also saw "I feel anxious".
    const RecordingScreener::Call* last_patient = nullptr;
    const RecordingScreener::Call* last_ai = nullptr;
    for (const auto& call : calls) {
        if (call.role == ScreenRole::patient) last_patient = &call;
        if (call.role == ScreenRole::ai) last_ai = &call;
    }
    REQUIRE(last_patient);
    REQUIRE(last_ai);
    REQUIRE(last_patient->context.size() == 2);
    CHECK(last_patient->context[0].text == "hello");
    CHECK(last_patient->context[1].role == ScreenRole::ai);
    REQUIRE(last_ai->context.size() == 3);
    CHECK(last_ai->context.back().text == "I feel anxious");
    CHECK(last_ai->context.back().role == ScreenRole::patient);
}

TEST_CASE("a patient message acknowledged but never screened before a crash gets its turn at the next start",
          "[bridge][turn][crash]") {
    TempDir dir;
    const auto key = random_secret(32);
    auto opened = SqlcipherStore::open(dir.path() / "store.db", key.bytes());
    REQUIRE(opened);
    auto& store = **opened;
    Metrics metrics;
    RecordingScreener screener;
    auto model = make_offline_companion();
    std::string patient_id;
    {
        auto first = PatientService::create(store, screener, *model, metrics, PatientServiceOptions{});
        REQUIRE(first);
        auto id = (*first)->register_patient("Sam");
        REQUIRE(id);
        patient_id = *id;
    }
    // What a crash right after the ack leaves: the conversation and the stored message, no screen.
    NewEvent conv;
    conv.type = EventType::conversation_started;
    conv.patient_id = patient_id;
    conv.actor = Actor{ActorKind::system, std::nullopt};
    conv.payload = {{"id", "conv-1"}, {"patient_id", patient_id}, {"started_at", "2026-11-26T03:00:00.000Z"}};
    REQUIRE(store.append(conv));
    NewEvent msg;
    msg.type = EventType::message_appended;
    msg.patient_id = patient_id;
    msg.actor = Actor{ActorKind::patient, patient_id};
    msg.payload = {{"id", "msg-1"}, {"conversation_id", "conv-1"}, {"patient_id", patient_id}, {"sender", "patient"},
                   {"text", "I am going to kill myself tonight"}, {"state", "delivered"}, {"client_msg_id", "c-1"},
                   {"created_at", "2026-11-26T03:00:01.000Z"}};
    REQUIRE(store.append(msg));

    auto second = PatientService::create(store, screener, *model, metrics, PatientServiceOptions{});
    REQUIRE(second);
    (*second)->drain();
    Principal supervisor;
    supervisor.supervisor = true;
    auto flags = store.open_flags(supervisor);
    REQUIRE(flags);
    REQUIRE(flags->size() == 1);
    CHECK(flags->front().severity == "imminent");
    auto patient = store.find_patient(patient_id);
    REQUIRE(patient);
    REQUIRE(*patient);
    CHECK((*patient)->in_crisis);

    // A third start finds nothing left to do: the screen is not repeated.
    const auto screens = screener.calls.size();
    auto third = PatientService::create(store, screener, *model, metrics, PatientServiceOptions{});
    REQUIRE(third);
    (*third)->drain();
    CHECK(screener.calls.size() == screens);
}

TEST_CASE("a reply known whole that is unsafe only as a whole is held with no segment sent",
          "[bridge][turn][stream]") {
    // Bad input tried: a first sentence that the per-sentence path would show (see "a later unsafe
    // sentence stops the segments"), then medication advice; the model holds it whole first.
    Bridge b(std::make_unique<ScriptedModel>(
        std::vector<std::string>{"I hear you. ", "You should stop taking your medication. ", "It will pass."}, true));
    auto c = b.connect();
    const auto session = redeem(b, *c);
    REQUIRE(c->send_text(frame("send", {{"client_msg_id", "w-1"}, {"text", "my pills make me foggy"}})));
    std::vector<json> seen;
    const auto reviewing = read_until(*c, of_type("reviewing"), &seen);
    for (const auto& f : seen) CHECK(f["type"] != "segment");
    auto extra = c->read(300ms);
    if (extra) CHECK(extra->find("stop taking") == std::string::npos);
    b.service->drain();
    // One screen of the whole text, before anything streamed.
    CHECK(b.recorder().ai_texts() ==
          std::vector<std::string>{"I hear you. You should stop taking your medication. It will pass."});
    int held = 0;
    for (const auto& m : b.messages(session["payload"]["conversation_id"])) {
        if (m.sender != "ai") continue;
        CHECK(m.state == "held");
        CHECK(m.id == reviewing["payload"]["reply_id"]);
        ++held;
    }
    CHECK(held == 1);
    CHECK(b.metrics.ai_messages_held.load() == 1);
}

TEST_CASE("a safe reply known whole is screened once and streams the same segments", "[bridge][turn][stream]") {
    Bridge b(std::make_unique<ScriptedModel>(
        std::vector<std::string>{"That sounds", " like a hard week. ", "What helped", " last time? Maybe", " a short walk."},
        true));
    auto c = b.connect();
    redeem(b, *c);
    REQUIRE(c->send_text(frame("send", {{"client_msg_id", "w-2"}, {"text", "work has been rough"}})));
    std::vector<json> seen;
    const auto final_msg = read_until(*c, [](const json& j) { return j["type"] == "message" && j["payload"]["sender"] == "ai"; }, &seen);
    int index = 0;
    for (const auto& f : seen)
        if (f["type"] == "segment") CHECK(f["payload"]["index"] == index++);
    CHECK(index == 2);  // as the streamed path cuts them
    CHECK(segments_of(seen) == "That sounds like a hard week. What helped last time?");
    CHECK(final_msg["payload"]["text"] == "That sounds like a hard week. What helped last time? Maybe a short walk.");
    b.service->drain();
    CHECK(b.recorder().ai_texts() ==
          std::vector<std::string>{"That sounds like a hard week. What helped last time? Maybe a short walk."});
}

TEST_CASE("the offline companion's reply is screened once per turn", "[bridge][turn][stream]") {
    Bridge b(make_offline_companion());
    auto c = b.connect();
    redeem(b, *c);
    std::vector<std::string> replies;
    for (const auto& [id, text] : {std::pair{"o-1", "work has been rough"}, std::pair{"o-2", "I can't sleep"}}) {
        REQUIRE(c->send_text(frame("send", {{"client_msg_id", id}, {"text", text}})));
        std::vector<json> seen;
        const auto reply = read_until(*c, [](const json& j) { return j["type"] == "message" && j["payload"]["sender"] == "ai"; }, &seen);
        replies.push_back(reply["payload"]["text"]);
        // Whatever streamed is the start of the final text.
        CHECK(replies.back().starts_with(segments_of(seen)));
    }
    b.service->drain();
    CHECK(b.recorder().ai_texts() == replies);
}

TEST_CASE("a streamed LLM reply is re-screened at every sentence; a one-object answer is screened once",
          "[bridge][turn][stream][llm]") {
    FakeProvider provider;
    const std::string text = "That sounds hard. What helped last time? Maybe a walk.";
    // The first request streams the text word by word (server-sent events); the second answers one
    // JSON object (a provider that ignores stream: true).
    provider.script({{"steps", json::array({{{"kind", "ok"}, {"text", text}}, {{"kind", "json"}, {"text", text}}})}});
    Bridge b(provider.client());
    auto c = b.connect();
    redeem(b, *c);
    std::vector<std::string> segments;
    for (const char* id : {"l-1", "l-2"}) {
        REQUIRE(c->send_text(frame("send", {{"client_msg_id", id}, {"text", "work has been rough"}})));
        std::vector<json> seen;
        const auto reply = read_until(*c, [](const json& j) { return j["type"] == "message" && j["payload"]["sender"] == "ai"; }, &seen);
        CHECK(reply["payload"]["text"] == text);
        segments.push_back(segments_of(seen));
    }
    b.service->drain();
    CHECK(segments == std::vector<std::string>{"That sounds hard. What helped last time?", "That sounds hard. What helped last time?"});
    CHECK(b.recorder().ai_texts() == std::vector<std::string>{"That sounds hard.", "That sounds hard. What helped last time?",
                                                              text, text});
}
