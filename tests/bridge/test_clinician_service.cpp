// The clinician service driven directly on a store file, without a listener: the wire contract,
// what survives a bridge restart (lockouts, action results), TOTP, and appends by other processes
// (policy set, account changes) beside a live bridge. The Clinic-fixture tests over TLS are in
// test_clinician.cpp.
#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <fstream>
#include <functional>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/bridge/clinic_policy.h"
#include "tandem/bridge/clinician_service.h"
#include "tandem/bridge/init.h"
#include "tandem/bridge/patient_endpoint.h"
#include "tandem/crypto/hash.h"
#include "tandem/crypto/key_file.h"
#include "tandem/crypto/random.h"
#include "tandem/crypto/totp.h"
#include "tandem/schema/schema_registry.h"
#include "tandem/store/sqlcipher_store.h"
#include "clinic_fixture.h"
#include "frames.h"
#include "fake_connection.h"
#include "test_support.h"

using namespace std::chrono_literals;
using namespace tandem;
using namespace tandem::bridge;
using tandem::test::FakeConnection;
using tandem::test::TempDir;
using json = nlohmann::json;

namespace {

constexpr const char* kPassword = tandem::test::kClinicPassword;
const Actor kAdmin = tandem::test::kClinicAdmin;

}  // namespace

namespace {

// A Connection without a socket: the service's replies are collected for the test to read.
// One bridge start on a store file, without a listener: frames go straight to the service.
struct BridgeStart {
    std::unique_ptr<SqlcipherStore> raw;
    std::unique_ptr<NotifyingStore> store;
    Metrics metrics;
    std::unique_ptr<RiskScreener> screener = make_administration_only_screener();
    std::unique_ptr<ChatModel> model = make_offline_companion();
    std::shared_ptr<PatientService> patients;
    std::unique_ptr<AccountDirectory> accounts;
    std::shared_ptr<ClinicianService> service;

    BridgeStart(const std::filesystem::path& file, const SecretBuffer& key) {
        auto s = SqlcipherStore::open(file, key.bytes());
        REQUIRE(s);
        raw = std::move(*s);
        store = std::make_unique<NotifyingStore>(*raw);
        auto ps = PatientService::create(*store, *screener, *model, metrics, PatientServiceOptions{});
        REQUIRE(ps);
        patients = *ps;
        accounts = std::make_unique<AccountDirectory>(*store);
        ClinicianServiceOptions co;
        co.password_policy = PasswordPolicy{1, 1024, 1, 10};
        co.max_failed_logins = 2;
        co.lockout_base = 1h;
        co.sweep_interval = 1h;
        co.refresh_interval = 100ms;
        auto cs = ClinicianService::create(*store, *accounts, *patients, metrics, co);
        REQUIRE(cs);
        service = *cs;
    }
    ~BridgeStart() {
        service->drain();
        patients->drain();
    }
    // Sends one request and returns the service's first reply to it.
    json ask(const std::shared_ptr<FakeConnection>& c, const std::string& type, json payload) {
        static int n = 0;
        service->on_frame(c, PatientFrame{type, "r" + std::to_string(++n), std::move(payload)});
        service->drain();
        auto frames = c->take();
        REQUIRE_FALSE(frames.empty());
        return frames.front();
    }
};

}  // namespace

TEST_CASE("wire contract: unknown types and payloads that break the wire schemas get typed errors naming the pointer",
          "[bridge][clinician][schema]") {
    TempDir dir;
    const auto key = random_secret(32);
    BridgeStart b(dir.path() / "clinic.db", key);
    REQUIRE(b.accounts->add("tara", "Tara", {"therapist"}, kPassword, PasswordPolicy{1, 1024, 1, 10}, kAdmin));
    auto c = std::make_shared<FakeConnection>();
    struct Case {
        const char* name;
        const char* type;
        json payload;
        const char* reply_type;
        const char* code;
        const char* field;
    };
    // Bad input tried, one row each.
    const std::vector<Case> cases = {
        {"unknown type", "delete_everything", json::object(), "error", "unknown_type", "/type"},
        {"login without a password", "login", {{"username", "tara"}}, "error", "schema", "/payload/password"},
        {"login with an upper-case username", "login", {{"username", "Tara"}, {"password", kPassword}}, "error",
         "schema", "/payload/username"},
        {"login with a five-digit code", "login", {{"username", "tara"}, {"password", kPassword}, {"totp", "12345"}},
         "error", "schema", "/payload/totp"},
        {"login with an extra field", "login", {{"username", "tara"}, {"password", kPassword}, {"admin", true}},
         "error", "schema", "/payload/admin"},
        {"subscribe with a text cursor", "subscribe", {{"after_seq", "10"}}, "error", "schema", "/payload/after_seq"},
        {"transcript limit over 200", "fetch_transcript", {{"patient_id", "p-1"}, {"limit", 500}}, "error", "schema",
         "/payload/limit"},
        {"action without an action_id", "action", {{"kind", "ai_pause"}, {"patient_id", "p-1"}}, "error", "schema",
         "/payload/action_id"},
        {"action of an unknown kind", "action", {{"action_id", "a1"}, {"kind", "flag_burn"}}, "action_result",
         "schema", "/payload/kind"},
        {"flag_resolve without risk_real", "action",
         {{"action_id", "a2"}, {"kind", "flag_resolve"}, {"flag_id", "f1"}, {"note", "n"}}, "action_result", "schema",
         "/payload/risk_real"},
        {"held_edit_send with empty text", "action",
         {{"action_id", "a3"}, {"kind", "held_edit_send"}, {"message_id", "m1"}, {"text", ""}}, "action_result",
         "schema", "/payload/text"},
    };
    for (const auto& k : cases) {
        INFO(k.name);
        const auto reply = b.ask(c, k.type, k.payload);
        CHECK(reply["type"] == k.reply_type);
        const auto& err = reply["type"] == "error" ? reply["payload"] : reply["payload"]["error"];
        CHECK(err["code"] == k.code);
        CHECK(err["field"] == k.field);
        // What the bridge sends is itself in the wire contract.
        const auto schema = std::string("wire/") + reply["type"].get<std::string>();
        auto valid = SchemaRegistry::builtin().validate(schema, reply["payload"]);
        CHECK(valid.has_value());
    }
}

TEST_CASE("failed-login lockouts and action results survive a bridge restart", "[bridge][clinician]") {
    TempDir dir;
    const auto key = random_secret(32);
    const auto file = dir.path() / "clinic.db";
    std::string alex;
    json first_result;
    {
        BridgeStart b(file, key);
        auto tara = b.accounts->add("tara", "Tara", {"therapist"}, kPassword, PasswordPolicy{1, 1024, 1, 10}, kAdmin);
        REQUIRE(b.accounts->add("theo", "Theo", {"therapist"}, kPassword, PasswordPolicy{1, 1024, 1, 10}, kAdmin));
        auto id = b.patients->register_patient("Alex");
        REQUIRE(id);
        alex = *id;
        REQUIRE(assign_patient(*b.store, *b.accounts, alex, tara->id, kAdmin));
        auto c = std::make_shared<FakeConnection>();
        // Bad input tried: two wrong passwords for theo (the limit in this setup).
        for (int i = 0; i < 2; ++i)
            CHECK(b.ask(c, "login", {{"username", "theo"}, {"password", "wrong password!"}})["payload"]["code"] ==
                  "permission_denied");
        CHECK(b.ask(c, "login", {{"username", "theo"}, {"password", kPassword}})["payload"]["code"] == "locked");
        REQUIRE(b.ask(c, "login", {{"username", "tara"}, {"password", kPassword}})["type"] == "login_ok");
        first_result = b.ask(c, "action", {{"action_id", "pause-1"}, {"kind", "ai_pause"}, {"patient_id", alex}});
        REQUIRE(first_result["payload"]["ok"] == true);
    }
    BridgeStart b(file, key);  // the restart
    auto c = std::make_shared<FakeConnection>();
    // The right password is still refused: the failures were in the log, not only in memory.
    const auto locked = b.ask(c, "login", {{"username", "theo"}, {"password", kPassword}});
    CHECK(locked["payload"]["code"] == "locked");
    CHECK(locked["payload"]["retry_after_seconds"] > 800);  // the 1 h base, capped at 15 min
    // Bad input tried: the app resends its last action after the restart (the reply was lost).
    REQUIRE(b.ask(c, "login", {{"username", "tara"}, {"password", kPassword}})["type"] == "login_ok");
    const auto again = b.ask(c, "action", {{"action_id", "pause-1"}, {"kind", "ai_pause"}, {"patient_id", alex}});
    CHECK(again["payload"]["ok"] == true);
    CHECK(again["payload"]["seq"] == first_result["payload"]["seq"]);
}

TEST_CASE("TOTP: a clinic that requires it asks for the code, refuses wrong and reused codes, and accepts the current one",
          "[bridge][clinician][totp]") {
    TempDir dir;
    const auto key = random_secret(32);
    BridgeStart b(dir.path() / "clinic.db", key);
    REQUIRE(b.accounts->add("tara", "Tara", {"therapist"}, kPassword, PasswordPolicy{1, 1024, 1, 10}, kAdmin));
    REQUIRE(b.accounts->add("theo", "Theo", {"therapist"}, kPassword, PasswordPolicy{1, 1024, 1, 10}, kAdmin));
    auto secret = b.accounts->enroll_totp("tara", kAdmin);
    REQUIRE(secret);
    CHECK(secret->size() == 32);  // 160 bits in base32
    auto c = std::make_shared<FakeConnection>();
    // Without the policy a password is enough.
    REQUIRE(b.ask(c, "login", {{"username", "tara"}, {"password", kPassword}})["type"] == "login_ok");
    // The secret never reaches a feed, not even a supervisor's.
    REQUIRE(b.accounts->add("sam", "Sam", {"supervisor"}, kPassword, PasswordPolicy{1, 1024, 1, 10}, kAdmin));
    auto sam = std::make_shared<FakeConnection>();
    REQUIRE(b.ask(sam, "login", {{"username", "sam"}, {"password", kPassword}})["type"] == "login_ok");
    b.service->on_frame(sam, PatientFrame{"subscribe", "s1", {{"after_seq", 0}}});
    b.service->drain();
    int updates = 0;
    for (const auto& f : sam->take()) {
        if (f["type"] != "event") continue;
        updates += f["payload"]["type"] == "clinician_updated";
        CHECK_FALSE(f["payload"]["payload"].contains("totp_secret"));
        CHECK_FALSE(f["payload"]["payload"].contains("password_hash"));
    }
    CHECK(updates == 1);

    // The policy changes under the running service (as `policy set` beside a live bridge).
    ClinicSettings settings;
    settings.require_totp = true;
    settings.idle_lock_minutes = 7;
    settings.crisis_resources["en-US"] = {{"988 Suicide & Crisis Lifeline", "988", "phone"}};
    REQUIRE(write_clinic_settings(*b.store, settings, kAdmin));

    const auto asked = b.ask(c, "login", {{"username", "tara"}, {"password", kPassword}});
    CHECK(asked["payload"]["code"] == "totp_required");
    auto k = base32_decode(*secret);
    REQUIRE(k);
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    const std::string code = totp_code(k->bytes(), now);
    // Bad input tried: a wrong code (counts as a failure), theo who has no secret enrolled.
    const std::string wrong = code == "000000" ? "111111" : "000000";
    CHECK(b.ask(c, "login", {{"username", "tara"}, {"password", kPassword}, {"totp", wrong}})["payload"]["code"] ==
          "unauthenticated");
    CHECK(b.ask(c, "login", {{"username", "theo"}, {"password", kPassword}, {"totp", code}})["payload"]["code"] ==
          "permission_denied");
    const auto ok = b.ask(c, "login", {{"username", "tara"}, {"password", kPassword}, {"totp", code}});
    REQUIRE(ok["type"] == "login_ok");
    CHECK(ok["payload"]["clinic_policy"]["idle_lock_minutes"] == 7);
    CHECK(ok["payload"]["clinic_policy"]["require_totp"] == true);
    CHECK(SchemaRegistry::builtin().validate("wire/login_ok", ok["payload"]).has_value());
    // Bad input tried: the same code again (a replay, even from another connection).
    auto other = std::make_shared<FakeConnection>();
    CHECK(b.ask(other, "login", {{"username", "tara"}, {"password", kPassword}, {"totp", code}})["payload"]["code"] ==
          "unauthenticated");
}

TEST_CASE("policy set beside a live bridge: the bridge keeps appending after another process wrote to its store",
          "[bridge][clinician][policy]") {
    TempDir dir;
    const auto key = random_secret(32);
    BridgeStart live(dir.path() / "clinic.db", key);
    REQUIRE(live.accounts->add("tara", "Tara", {"therapist"}, kPassword, PasswordPolicy{1, 1024, 1, 10}, kAdmin));
    {
        // The admin command: its own store on the same file, as `tandem-bridge policy set` opens it.
        auto cli = SqlcipherStore::open(dir.path() / "clinic.db", key.bytes());
        REQUIRE(cli);
        ClinicSettings s;
        s.idle_lock_minutes = 3;
        s.crisis_resources["en-US"] = {{"Emergency services", "911", "emergency"}};
        REQUIRE(write_clinic_settings(**cli, s, kAdmin));
        // Bad input tried: a policy the schema refuses is not written.
        s.idle_lock_minutes = 0;
        CHECK(write_clinic_settings(**cli, s, kAdmin).error().code == ErrorCode::schema);
    }
    // The live bridge's next write (a login) succeeds and sees the new policy.
    auto c = std::make_shared<FakeConnection>();
    const auto ok = live.ask(c, "login", {{"username", "tara"}, {"password", kPassword}});
    REQUIRE(ok["type"] == "login_ok");
    CHECK(ok["payload"]["clinic_policy"]["idle_lock_minutes"] == 3);
    auto report = live.store->verify_chain(std::nullopt);
    REQUIRE(report);
    CHECK(report->ok);
}

TEST_CASE("policy set and show: values are checked, stored as clinic_configured, and shown with their source",
          "[bridge][clinician][policy]") {
    TempDir dir;
    const auto data = dir.path() / "data";
    const std::string d = data.string();
    auto [rc, out] = tandem::test::run_command({TANDEM_BRIDGE_BIN, "init", "--data-dir", d});
    REQUIRE(rc == 0);
    std::tie(rc, out) = tandem::test::run_command({TANDEM_BRIDGE_BIN, "policy", "show", "--data-dir", d});
    REQUIRE(rc == 0);
    CHECK(json::parse(out)["source"] == "config");
    const auto good = dir.path() / "es.json";
    const auto bad_kind = dir.path() / "bad.json";
    std::ofstream(good) << R"([{"name": "Emergencias", "contact": "112", "kind": "emergency"}])";
    std::ofstream(bad_kind) << R"([{"name": "Someone", "contact": "1", "kind": "pigeon"}])";
    struct Case {
        const char* name;
        std::vector<std::string> args;
        int rc;
    };
    // Bad input tried, one row each; nothing is written for any of them.
    const std::vector<Case> refused = {
        {"zero minutes", {"--sla-urgent-minutes", "0"}, 2},
        {"minutes not a number", {"--idle-lock-minutes", "ten"}, 2},
        {"over a day", {"--sla-second-minutes", "1441"}, 2},
        {"totp neither yes nor no", {"--require-totp", "maybe"}, 2},
        {"resources without a locale", {"--crisis-resources", good.string()}, 2},
        {"resources with an unknown kind", {"--crisis-resources", "es-ES=" + bad_kind.string()}, 1},
        {"resources for a malformed locale", {"--crisis-resources", "spanish=" + good.string()}, 1},
        {"resources file missing", {"--crisis-resources", "es-ES=/nonexistent.json"}, 1},
    };
    for (const auto& c : refused) {
        INFO(c.name);
        std::vector<std::string> args = {TANDEM_BRIDGE_BIN, "policy", "set", "--data-dir", d};
        args.insert(args.end(), c.args.begin(), c.args.end());
        CHECK(tandem::test::run_command(args).first == c.rc);
    }
    std::tie(rc, out) = tandem::test::run_command({TANDEM_BRIDGE_BIN, "policy", "show", "--data-dir", d});
    CHECK(json::parse(out)["source"] == "config");

    std::tie(rc, out) = tandem::test::run_command({TANDEM_BRIDGE_BIN, "policy", "set", "--data-dir", d,
                                                   "--sla-urgent-minutes", "3", "--idle-lock-minutes", "12",
                                                   "--require-totp", "yes", "--crisis-resources",
                                                   "es-ES=" + good.string()});
    INFO(out);
    REQUIRE(rc == 0);
    // A second set changes one value and keeps the others.
    std::tie(rc, out) = tandem::test::run_command({TANDEM_BRIDGE_BIN, "policy", "set", "--data-dir", d,
                                                   "--sla-second-minutes", "20"});
    REQUIRE(rc == 0);
    std::tie(rc, out) = tandem::test::run_command({TANDEM_BRIDGE_BIN, "policy", "show", "--data-dir", d});
    REQUIRE(rc == 0);
    const auto shown = json::parse(out);
    CHECK(shown["source"] == "store");
    const auto& p = shown["clinic"]["policy"];
    CHECK(p["urgent_sla_minutes"] == 3);
    CHECK(p["second_escalation_minutes"] == 20);
    CHECK(p["idle_lock_minutes"] == 12);
    CHECK(p["require_totp"] == true);
    CHECK(p["crisis_resources"]["es-ES"][0]["contact"] == "112");
    CHECK(p["crisis_resources"]["en-US"].size() == 3);  // the config's list stays for en-US
    CHECK(SchemaRegistry::builtin().validate("records/clinic", shown["clinic"]).has_value());
    // Bad input tried: enrolling an unknown clinician.
    CHECK(tandem::test::run_command({TANDEM_BRIDGE_BIN, "clinician", "totp-enroll", "--data-dir", d, "--username",
                                     "nobody"}).first == 1);
}

TEST_CASE("a live feed follows its account: another process's appends arrive, and disabling stops it at once",
          "[bridge][clinician]") {
    TempDir dir;
    const auto key = random_secret(32);
    BridgeStart live(dir.path() / "clinic.db", key);
    REQUIRE(live.accounts->add("sam", "Sam", {"supervisor"}, kPassword, PasswordPolicy{1, 1024, 1, 10}, kAdmin));
    auto sam = std::make_shared<FakeConnection>();
    REQUIRE(live.ask(sam, "login", {{"username", "sam"}, {"password", kPassword}})["type"] == "login_ok");
    live.service->on_frame(sam, PatientFrame{"subscribe", "s1", {{"after_seq", 0}}});
    REQUIRE(sam->wait_for([](const json& f) { return f["type"] == "caught_up"; }));

    // The admin CLI, as another process: its own store on the same file.
    auto cli = SqlcipherStore::open(dir.path() / "clinic.db", key.bytes());
    REQUIRE(cli);
    ClinicSettings s;
    s.crisis_resources["en-US"] = {{"Emergency services", "911", "emergency"}};
    REQUIRE(write_clinic_settings(**cli, s, kAdmin));
    CHECK(sam->wait_for([](const json& f) { return f["type"] == "event" && f["payload"]["type"] == "clinic_configured"; }));

    // Bad input tried: sam's account is disabled while his feed is live.
    AccountDirectory cli_accounts(**cli);
    REQUIRE(cli_accounts.refresh());
    REQUIRE(cli_accounts.set_active("sam", false, kAdmin));
    const auto stop = sam->wait_for([](const json& f) { return f["type"] == "error"; });
    REQUIRE(stop);
    CHECK((*stop)["payload"]["code"] == "unauthenticated");
    CHECK(sam->closed());
    // Nothing more reaches it.
    REQUIRE(write_clinic_settings(**cli, s, kAdmin));
    std::this_thread::sleep_for(400ms);
    for (const auto& f : sam->take()) CHECK(f["type"] != "event");
}

TEST_CASE("a feed event's text is byte for byte nlohmann's dump of the event, with credentials left out",
          "[bridge][clinician][wire]") {
    const auto dumped = [](const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); };
    // What the feed sent while it built a json tree per event (the clients' contract).
    const auto tree_text = [&](const StoredEvent& e) {
        json j = to_json(e);
        if (auto& p = j["payload"]; p.is_object())
            for (const char* secret : {"password_hash", "token_sha256", "totp_secret"}) p.erase(secret);
        return dumped(j);
    };
    StoredEvent base;
    base.seq = 42;
    base.id = "0193a6f0-0000-7000-8000-000000000001";
    base.type = EventType::message_appended;
    base.time = "2026-11-26T03:06:19.123Z";
    base.patient_id = "p-1";
    base.actor = Actor{ActorKind::patient, std::string("p-1")};
    base.payload = {{"id", "m-1"}, {"text", "I had a rough day."}, {"sender", "patient"}, {"state", "delivered"}};
    base.prev_hash = std::string(genesis_hash);
    base.hash = std::string(64, 'a');
    struct Case {
        const char* name;
        std::function<void(StoredEvent&)> change;
    };
    const std::vector<Case> cases = {
        {"a patient's message", [](StoredEvent&) {}},
        {"no patient (an account event)", [](StoredEvent& e) { e.patient_id.reset(); }},
        {"an actor without an id (the system)", [](StoredEvent& e) { e.actor = Actor{ActorKind::system, {}}; }},
        {"an AI actor", [](StoredEvent& e) { e.actor = Actor{ActorKind::ai, std::string("companion")}; }},
        {"a large seq", [](StoredEvent& e) { e.seq = 9'007'199'254'740'993; }},
        {"another event type", [](StoredEvent& e) { e.type = EventType::assessment_progress; }},
        {"escapes, control characters and UTF-8 in the payload",
         [](StoredEvent& e) { e.payload["text"] = "she said \"no\" \\ \n\t\x01 caf\xc3\xa9 \xf0\x9f\x99\x82"; }},
        {"invalid UTF-8 in the payload (replaced)", [](StoredEvent& e) { e.payload["text"] = "cut \xe2\x82 \x80 x"; }},
        {"invalid UTF-8 in an id (replaced)", [](StoredEvent& e) { e.actor.id = "bad\xc0\xaf"; }},
        {"nested payload with numbers, nulls, arrays",
         [](StoredEvent& e) {
             e.payload["risk"] = {{"severity", "high"}, {"spans", json::array({{{"begin", 0}, {"end", 4}}})},
                                  {"cssrs_level", nullptr}, {"score", 0.25}};
         }},
        {"an empty payload", [](StoredEvent& e) { e.payload = json::object(); }},
        {"a payload that is not an object", [](StoredEvent& e) { e.payload = json::array({1, "two"}); }},
        {"a clinician's account (password hash and TOTP secret left out)",
         [](StoredEvent& e) {
             e.type = EventType::clinician_added;
             e.patient_id.reset();
             e.payload = {{"id", "c-1"}, {"username", "tara"}, {"password_hash", "$argon2id$v=19$..."},
                          {"totp_secret", "JBSWY3DPEHPK3PXP"}, {"roles", {"therapist"}}};
         }},
        {"a session (token hash left out)",
         [](StoredEvent& e) {
             e.type = EventType::clinician_action;
             e.payload = {{"action", "session_opened"}, {"token_sha256", std::string(64, 'f')}};
         }},
    };
    // Each case twice: an event built in memory, and the same event as the store hands it out,
    // carrying the payload's stored text (which still holds the secrets of the account cases).
    for (const auto& k : cases) {
        for (const bool with_stored_text : {false, true}) {
            INFO(k.name << (with_stored_text ? ", with the payload's stored text" : ""));
            StoredEvent e = base;
            k.change(e);
            if (with_stored_text) e.payload_text = e.payload.dump(-1, ' ', false, json::error_handler_t::replace);
            const auto text = feed_event_text(e);
            CHECK(text == tree_text(e));
            CHECK(text.find("password_hash") == std::string::npos);
            CHECK(text.find("totp_secret") == std::string::npos);
            CHECK(text.find("token_sha256") == std::string::npos);
        }
    }
}

TEST_CASE("a live feed gets every event appended by many threads at once, in order, once, single and batched",
          "[bridge][clinician]") {
    TempDir dir;
    const auto key = random_secret(32);
    BridgeStart b(dir.path() / "clinic.db", key);
    REQUIRE(b.accounts->add("sam", "Sam", {"supervisor"}, kPassword, PasswordPolicy{1, 1024, 1, 10}, kAdmin));
    auto single = std::make_shared<FakeConnection>();
    auto batched = std::make_shared<FakeConnection>();
    for (const auto& c : {single, batched}) {
        REQUIRE(b.ask(c, "login", {{"username", "sam"}, {"password", kPassword}})["type"] == "login_ok");
        b.service->on_frame(c, PatientFrame{"subscribe", "s", {{"after_seq", 0}, {"batch", c == batched}}});
        REQUIRE(c->wait_for([](const json& f) { return f["type"] == "caught_up"; }));
    }
    const auto head = b.store->head();
    REQUIRE(head);
    // Many small appends land while passes run: each pass must flush what it read, and the passes
    // that later notices queue must neither skip nor repeat an event.
    constexpr int kThreads = 8, kEach = 40;
    std::atomic<int> failed{0};  // Catch2's assertions are not for other threads
    std::vector<std::thread> appenders;
    for (int t = 0; t < kThreads; ++t)
        appenders.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                NewEvent e;
                e.type = EventType::clinician_action;
                e.actor = kAdmin;
                e.payload = {{"action", "load_test"}, {"thread", t}, {"i", i}};
                if (!b.store->append(std::move(e))) failed.fetch_add(1);
            }
        });
    for (auto& t : appenders) t.join();
    REQUIRE(failed.load() == 0);
    const std::int64_t last = head->seq + kThreads * kEach;
    for (const auto& c : {single, batched}) {
        INFO((c == batched ? "batched" : "single"));
        std::vector<std::int64_t> seqs;
        const auto until = std::chrono::steady_clock::now() + 8s;
        while ((seqs.empty() || seqs.back() < last) && std::chrono::steady_clock::now() < until) {
            // Events up to `head` (the second login's session_opened) may still be arriving.
            const auto keep = [&](const json& e) {
                if (e["seq"].get<std::int64_t>() > head->seq) seqs.push_back(e["seq"].get<std::int64_t>());
            };
            for (const auto& f : c->take()) {
                if (f["type"] == "event") keep(f["payload"]);
                if (f["type"] == "events")
                    for (const auto& e : f["payload"]["events"]) keep(e);
            }
            std::this_thread::sleep_for(10ms);
        }
        std::vector<std::int64_t> expected;
        for (std::int64_t s = head->seq + 1; s <= last; ++s) expected.push_back(s);
        CHECK(seqs == expected);
    }
}
