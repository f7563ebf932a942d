// The clinician side end to end: a real TLS WebSocket on 127.0.0.1 (the Beast test client),
// the real SQLCipher store in a temp dir, the real rule engine and offline companion, and the
// tandem-bridge binary for the admin and audit subcommands.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <fstream>
#include <functional>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "tandem/bridge/clinic_policy.h"
#include "tandem/bridge/clinician_service.h"
#include "tandem/bridge/init.h"
#include "tandem/bridge/patient_endpoint.h"
#include "tandem/bridge/server.h"
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
using tandem::test::WssClient;
using tandem::test::frame;
using tandem::test::of_type;
using tandem::test::read_until;
using json = nlohmann::json;

namespace {

constexpr const char* kPassword = tandem::test::kClinicPassword;
// High risk for the rule engine: the safety protocol runs, the crisis starts, AI replies are held.
constexpr const char* kCrisisText = "I have decided to end my life and I know how I will do it";
const Actor kAdmin = tandem::test::kClinicAdmin;


struct Setup {
    int urgent_sla_minutes = 5;
    int second_escalation_minutes = 15;
    std::size_t page_events = 100;
};

PatientServiceOptions patient_options(const Setup& setup) {
    PatientServiceOptions po;
    po.urgent_sla_minutes = setup.urgent_sla_minutes;
    return po;
}

ClinicianServiceOptions clinician_options(const Setup& setup) {
    ClinicianServiceOptions co;
    co.password_policy = PasswordPolicy{1, 1024, 1, 10};  // cheap Argon2id: tests log in often
    co.max_failed_logins = 3;
    co.lockout_base = 60s;
    co.sweep_interval = 100ms;
    co.second_escalation_minutes = setup.second_escalation_minutes;
    co.page_events = setup.page_events;
    return co;
}

struct TestClinic : tandem::test::Clinic {
    std::string alex, blair;  // alex is tara's patient, blair is theo's

    explicit TestClinic(Setup setup = {})
        : Clinic(make_offline_companion(), patient_options(setup), clinician_options(setup)) {
        alex = patient("Alex", tara);
        blair = patient("Blair", theo);
    }
    // A patient connection with a redeemed invite.
    std::unique_ptr<WssClient> patient_client(const std::string& patient_id) {
        auto c = connect("/patient");
        auto code = patients->issue_invite(patient_id);
        REQUIRE(code);
        REQUIRE(c->send_text(frame("redeem", {{"invite_code", *code}})));
        read_until(*c, of_type("session"));
        return c;
    }
    void say(WssClient& p, const std::string& text) {
        static int n = 0;
        REQUIRE(p.send_text(frame("send", {{"client_msg_id", "pm-" + std::to_string(++n)}, {"text", text}})));
        read_until(p, of_type("ack"));
        patients->drain();
    }
};

json action(WssClient& c, json payload) {
    REQUIRE(c.send_text(frame("action", std::move(payload))));
    return read_until(c, [](const json& j) { return j["type"] == "action_result" || j["type"] == "error"; })["payload"];
}

// Subscribes and collects events until caught_up; returns the events.
std::vector<json> subscribe(WssClient& c, std::int64_t after) {
    REQUIRE(c.send_text(frame("subscribe", {{"after_seq", after}})));
    std::vector<json> seen;
    read_until(c, of_type("caught_up"), &seen);
    std::vector<json> events;
    for (auto& f : seen)
        if (f["type"] == "event") events.push_back(f["payload"]);
    return events;
}

json wait_event(WssClient& c, const std::function<bool(const json&)>& match, std::vector<json>* seen = nullptr) {
    return read_until(c, [&](const json& f) { return f["type"] == "event" && match(f["payload"]); }, seen)["payload"];
}

std::string open_flag_of(TestClinic& k, const std::string& patient_id) {
    Principal all;
    all.supervisor = true;
    auto flags = k.store->open_flags(all);
    REQUIRE(flags);
    for (const auto& f : *flags)
        if (f.patient_id == patient_id) return f.id;
    FAIL("no open flag");
    return {};
}

std::string held_message_of(TestClinic& k, const std::string& patient_id) {
    auto convs = k.store->conversations(patient_id);
    REQUIRE(convs);
    REQUIRE_FALSE(convs->empty());
    auto msgs = k.store->messages(convs->back().id);
    REQUIRE(msgs);
    for (const auto& m : *msgs)
        if (m.state == "held") return m.id;
    FAIL("no held message");
    return {};
}

}  // namespace

TEST_CASE("login: the right password gets a session token that resumes; wrong passwords lock the account",
          "[bridge][clinician]") {
    TestClinic k;
    json ok;
    auto c = k.clinician("tara", &ok);
    CHECK(ok["payload"]["clinician"]["id"] == k.tara);
    CHECK_FALSE(ok["payload"]["clinician"].contains("password_hash"));
    const std::string token = ok["payload"]["session_token"];
    CHECK(token.size() >= 40);

    // A new connection resumes with the token instead of the password.
    auto r = k.connect("/clinician");
    REQUIRE(r->send_text(frame("resume", {{"session_token", token}})));
    CHECK(read_until(*r, [](const json& j) { return j["type"] != "pong"; })["type"] == "login_ok");

    // Bad input tried: a made-up token; an unknown user; then theo's password wrong three times,
    // after which even the right password is refused (locked), not checked.
    REQUIRE(r->send_text(frame("resume", {{"session_token", "not-a-token"}})));
    CHECK(read_until(*r, of_type("error"))["payload"]["code"] == "permission_denied");
    REQUIRE(r->send_text(frame("login", {{"username", "nobody"}, {"password", kPassword}})));
    CHECK(read_until(*r, of_type("error"))["payload"]["code"] == "permission_denied");
    for (int i = 0; i < 3; ++i) {
        REQUIRE(r->send_text(frame("login", {{"username", "theo"}, {"password", "wrong password!"}})));
        CHECK(read_until(*r, of_type("error"))["payload"]["code"] == "permission_denied");
    }
    REQUIRE(r->send_text(frame("login", {{"username", "theo"}, {"password", kPassword}})));
    CHECK(read_until(*r, of_type("error"))["payload"]["code"] == "locked");
    // Bad input tried: a subscribe without logging in.
    auto anon = k.connect("/clinician");
    REQUIRE(anon->send_text(frame("subscribe", {{"after_seq", 0}})));
    CHECK(read_until(*anon, of_type("error"))["payload"]["code"] == "unauthenticated");
}

TEST_CASE("a therapist's feed holds only assigned patients' events while a supervisor's holds all",
          "[bridge][clinician]") {
    TestClinic k;
    auto pa = k.patient_client(k.alex);
    auto pb = k.patient_client(k.blair);
    k.say(*pa, "I have been sleeping badly");
    k.say(*pb, "Work is stressful");

    auto tara = k.clinician("tara");
    auto sam = k.clinician("sam");
    std::set<std::string> tara_patients, sam_patients;
    for (const auto& e : subscribe(*tara, 0)) {
        CHECK_FALSE(e["payload"].contains("password_hash"));
        if (e.contains("patient_id")) tara_patients.insert(e["patient_id"]);
    }
    for (const auto& e : subscribe(*sam, 0))
        if (e.contains("patient_id")) sam_patients.insert(e["patient_id"]);
    // Bad input tried: tara's session asking for everything from seq 0 (she must not get Blair's).
    CHECK(tara_patients == std::set<std::string>{k.alex});
    CHECK(sam_patients == std::set<std::string>{k.alex, k.blair});

    // Live: a new message of Blair's reaches the supervisor and never tara.
    k.say(*pb, "Still stressful today");
    wait_event(*sam, [&](const json& e) { return e["type"] == "message_appended" && e["patient_id"] == k.blair; });
    k.say(*pa, "Slept a little better");
    std::vector<json> seen;
    wait_event(*tara, [&](const json& e) { return e["type"] == "message_appended"; }, &seen);
    for (const auto& f : seen)
        if (f["type"] == "event" && f["payload"].contains("patient_id")) CHECK(f["payload"]["patient_id"] == k.alex);
}

TEST_CASE("subscribe from a cursor gives backlog, caught_up, then live, with no gap or duplicate across a reconnect",
          "[bridge][clinician]") {
    TestClinic k(Setup{.page_events = 7});  // small pages: the backlog spans several
    auto pa = k.patient_client(k.alex);
    k.say(*pa, "hello there");
    k.say(*pa, "my week was long");

    json ok;
    auto sam = k.clinician("sam", &ok);
    const std::string token = ok["payload"]["session_token"];
    std::vector<std::int64_t> seqs;
    for (const auto& e : subscribe(*sam, 0)) seqs.push_back(e["seq"]);
    REQUIRE(seqs.size() > 14);
    k.say(*pa, "one more thing");
    std::vector<json> seen;
    wait_event(*sam, [](const json& e) { return e["type"] == "message_appended"; }, &seen);
    for (const auto& f : seen)
        if (f["type"] == "event") seqs.push_back(f["seq"]);
    const auto last_before_drop = seqs.back();

    // The clinician drops; events happen meanwhile; a new connection resumes from its cursor.
    sam.reset();
    k.say(*pa, "are you there");
    k.say(*pa, "ok bye");
    auto again = k.connect("/clinician");
    REQUIRE(again->send_text(frame("resume", {{"session_token", token}})));
    read_until(*again, of_type("login_ok"));
    for (const auto& e : subscribe(*again, last_before_drop)) seqs.push_back(e["seq"]);
    // A supervisor sees every event, so the seqs seen, in order, must be exactly 1..head:
    // whatever the first connection had on the wire after its cursor comes again, nothing
    // before it does. Events appended during the backlog may follow caught_up live.
    auto head = k.store->head();
    REQUIRE(head);
    while (seqs.back() < head->seq) seqs.push_back(wait_event(*again, [](const json&) { return true; })["seq"]);
    std::vector<std::int64_t> expected;
    for (std::int64_t i = 1; i <= head->seq; ++i) expected.push_back(i);
    CHECK(seqs == expected);
    // Bad input tried: a negative cursor.
    REQUIRE(again->send_text(frame("subscribe", {{"after_seq", -1}})));
    CHECK(read_until(*again, of_type("error"))["payload"]["code"] == "schema");
}

TEST_CASE("caught_up names the log's head even when the subscriber asked from past it", "[bridge][clinician]") {
    // What was tried: a clinician whose cache came from a longer log (a bridge since restored
    // from an older backup) subscribes after a seq this log never reached. The bridge must not
    // echo that cursor back as its head: the app compares the two to warn the clinician.
    TestClinic k;
    auto pa = k.patient_client(k.alex);
    k.say(*pa, "hello there");
    auto sam = k.clinician("sam");
    auto head = k.store->head();
    REQUIRE(head);
    const std::int64_t past = head->seq + 1000;
    REQUIRE(sam->send_text(frame("subscribe", {{"after_seq", past}})));
    const auto caught = read_until(*sam, of_type("caught_up"));
    CHECK(caught["payload"]["head_seq"].get<std::int64_t>() < past);
    CHECK(caught["payload"]["head_seq"].get<std::int64_t>() >= head->seq);
}

TEST_CASE("a therapist acknowledges and resolves their patient's flag; actions are idempotent on action_id",
          "[bridge][clinician]") {
    TestClinic k;
    auto pa = k.patient_client(k.alex);
    k.say(*pa, "I want to kill myself");
    const std::string flag = open_flag_of(k, k.alex);
    auto tara = k.clinician("tara");

    const auto ack = action(*tara, {{"action_id", "a-1"}, {"kind", "flag_acknowledge"}, {"flag_id", flag}});
    CHECK(ack["ok"] == true);
    // Bad input tried: the same action_id again (a retry after a lost reply): same seq, no new event.
    const auto again = action(*tara, {{"action_id", "a-1"}, {"kind", "flag_acknowledge"}, {"flag_id", flag}});
    CHECK(again["ok"] == true);
    CHECK(again["seq"] == ack["seq"]);
    // Bad input tried: resolve without risk_real; resolve without a note; an unknown kind.
    auto bad = action(*tara, {{"action_id", "a-2"}, {"kind", "flag_resolve"}, {"flag_id", flag}, {"note", "x"}});
    CHECK(bad["ok"] == false);
    CHECK(bad["error"]["field"] == "/payload/risk_real");
    bad = action(*tara, {{"action_id", "a-3"}, {"kind", "flag_resolve"}, {"flag_id", flag}, {"risk_real", true}});
    CHECK(bad["error"]["field"] == "/payload/note");
    bad = action(*tara, {{"action_id", "a-4"}, {"kind", "flag_burn"}, {"flag_id", flag}});
    CHECK(bad["ok"] == false);
    const auto done = action(*tara, {{"action_id", "a-5"}, {"kind", "flag_resolve"}, {"flag_id", flag},
                                     {"risk_real", true}, {"note", "called, safety plan reviewed"}});
    CHECK(done["ok"] == true);
    Principal all;
    all.supervisor = true;
    auto open = k.store->open_flags(all);
    REQUIRE(open);
    CHECK(open->empty());
    // The action and its audit record are both in the chain.
    auto events = k.store->read_after(0, all, 1000);
    REQUIRE(events);
    int audits = 0, resolved = 0;
    for (const auto& e : *events) {
        audits += e.type == EventType::clinician_action && e.payload.value("action", "") == "flag_resolve";
        resolved += e.type == EventType::flag_resolved;
        if (e.type == EventType::flag_resolved) CHECK(e.payload["resolution"]["risk_real"] == true);
    }
    CHECK(audits == 1);
    CHECK(resolved == 1);
}

TEST_CASE("a held AI reply released by the therapist reaches the patient's live connection", "[bridge][clinician]") {
    TestClinic k;
    auto pa = k.patient_client(k.alex);
    k.say(*pa, kCrisisText);  // crisis: the AI reply is held for review
    const std::string held = held_message_of(k, k.alex);
    auto tara = k.clinician("tara");
    const auto r = action(*tara, {{"action_id", "rel-1"}, {"kind", "held_release"}, {"message_id", held}});
    CHECK(r["ok"] == true);
    const auto shown = read_until(*pa, [&](const json& j) { return j["type"] == "message" && j["payload"]["id"] == held; });
    CHECK(shown["payload"]["sender"] == "ai");
    CHECK_FALSE(shown["payload"]["text"].get<std::string>().empty());
    // Bad input tried: discarding the same reply after it was released (a second decision).
    const auto late = action(*tara, {{"action_id", "rel-2"}, {"kind", "held_discard"}, {"message_id", held}});
    CHECK(late["ok"] == false);
    CHECK(late["error"]["code"] == "conflict");
    // A clinician message reaches the patient too.
    CHECK(action(*tara, {{"action_id", "msg-1"}, {"kind", "send_message"}, {"patient_id", k.alex},
                         {"text", "This is Tara, I will call you in five minutes."}})["ok"] == true);
    read_until(*pa, [](const json& j) { return j["type"] == "message" && j["payload"]["sender"] == "clinician"; });
}

TEST_CASE("crisis_clear without a note is refused; with a note it clears the crisis", "[bridge][clinician]") {
    TestClinic k;
    auto pa = k.patient_client(k.alex);
    k.say(*pa, kCrisisText);
    auto p = k.store->find_patient(k.alex);
    REQUIRE(p);
    REQUIRE((*p)->in_crisis);
    auto tara = k.clinician("tara");
    // Bad input tried: no note, then an empty note.
    auto r = action(*tara, {{"action_id", "cc-1"}, {"kind", "crisis_clear"}, {"patient_id", k.alex}});
    CHECK(r["ok"] == false);
    CHECK(r["error"]["field"] == "/payload/note");
    r = action(*tara, {{"action_id", "cc-2"}, {"kind", "crisis_clear"}, {"patient_id", k.alex}, {"note", ""}});
    CHECK(r["ok"] == false);
    p = k.store->find_patient(k.alex);
    CHECK((*p)->in_crisis);
    r = action(*tara, {{"action_id", "cc-3"}, {"kind", "crisis_clear"}, {"patient_id", k.alex},
                       {"note", "spoke by phone; safe with family tonight"}});
    CHECK(r["ok"] == true);
    p = k.store->find_patient(k.alex);
    CHECK_FALSE((*p)->in_crisis);
}

TEST_CASE("a therapist is refused every read and action on a patient not assigned to them", "[bridge][clinician]") {
    TestClinic k;
    auto pa = k.patient_client(k.alex);
    k.say(*pa, kCrisisText);  // alex (tara's) now has a flag and a held reply
    const std::string flag = open_flag_of(k, k.alex);
    const std::string held = held_message_of(k, k.alex);
    auto theo = k.clinician("theo");
    // Bad input tried: theo (Blair's therapist) aiming each action at Alex's flag, reply or record.
    const std::vector<json> attempts = {
        {{"kind", "flag_acknowledge"}, {"flag_id", flag}},
        {{"kind", "flag_annotate"}, {"flag_id", flag}, {"note", "n"}},
        {{"kind", "flag_escalate"}, {"flag_id", flag}},
        {{"kind", "flag_resolve"}, {"flag_id", flag}, {"risk_real", false}, {"note", "n"}},
        {{"kind", "held_release"}, {"message_id", held}},
        {{"kind", "held_edit_send"}, {"message_id", held}, {"text", "t"}},
        {{"kind", "held_discard"}, {"message_id", held}},
        {{"kind", "send_message"}, {"patient_id", k.alex}, {"text", "t"}},
        {{"kind", "ai_pause"}, {"patient_id", k.alex}},
        {{"kind", "ai_resume"}, {"patient_id", k.alex}},
        {{"kind", "crisis_clear"}, {"patient_id", k.alex}, {"note", "n"}},
        {{"kind", "patient_reassign"}, {"patient_id", k.alex}, {"therapist_id", k.theo}},
    };
    int n = 0;
    for (auto a : attempts) {
        a["action_id"] = "x-" + std::to_string(++n);
        const auto r = action(*theo, a);
        INFO(a.dump());
        CHECK(r["ok"] == false);
        CHECK(r["error"]["code"] == "permission_denied");
    }
    REQUIRE(theo->send_text(frame("fetch_transcript", {{"patient_id", k.alex}, {"limit", 50}})));
    CHECK(read_until(*theo, of_type("error"))["payload"]["code"] == "permission_denied");
    // The supervisor may read it, and the read is audited.
    auto sam = k.clinician("sam");
    REQUIRE(sam->send_text(frame("fetch_transcript", {{"patient_id", k.alex}, {"limit", 50}})));
    const auto t = read_until(*sam, of_type("transcript"));
    CHECK(t["payload"]["messages"].size() >= 2);
    Principal all;
    all.supervisor = true;
    auto events = k.store->read_after(0, all, 1000);
    REQUIRE(events);
    CHECK(std::count_if(events->begin(), events->end(),
                        [](const StoredEvent& e) { return e.type == EventType::transcript_viewed; }) == 1);
    CHECK(std::none_of(events->begin(), events->end(), [](const StoredEvent& e) {
        return e.type == EventType::flag_acknowledged || e.type == EventType::crisis_cleared;
    }));
}

TEST_CASE("an urgent flag unacknowledged past its deadline escalates to supervisors, then again", "[bridge][clinician]") {
    TestClinic k(Setup{.urgent_sla_minutes = 0, .second_escalation_minutes = 0});  // deadlines already due
    auto sam = k.clinician("sam");
    subscribe(*sam, 0);
    auto pa = k.patient_client(k.alex);
    k.say(*pa, kCrisisText);
    const auto first = wait_event(*sam, [](const json& e) { return e["type"] == "flag_escalated"; });
    CHECK(first["payload"]["escalation_level"] == 1);
    const auto second = wait_event(*sam, [](const json& e) { return e["type"] == "flag_escalated"; });
    CHECK(second["payload"]["escalation_level"] == 2);
    // Bad input tried: sweeping again; the dedupe keys make it append nothing more.
    auto more = k.clinicians->sweep_escalations();
    REQUIRE(more);
    CHECK(*more == 0);
}

TEST_CASE("audit verify passes on a clean log and reports the seq of a tampered event; admin commands work",
          "[bridge][clinician][audit]") {
    TempDir dir;
    const auto data = dir.path() / "data";
    const auto pw_file = dir.path() / "pw";
    {
        std::ofstream(pw_file) << "admin password 123\n";
    }
    auto [rc, out] = tandem::test::run_command(
        {TANDEM_BRIDGE_BIN, "init", "--data-dir", data.string(), "--password-file", pw_file.string()});
    INFO(out);
    REQUIRE(rc == 0);
    CHECK(out.find("admin clinician: admin") != std::string::npos);
    std::tie(rc, out) = tandem::test::run_command({TANDEM_BRIDGE_BIN, "clinician", "add", "--data-dir", data.string(),
                                                   "--username", "tara", "--role", "therapist", "--password-file",
                                                   pw_file.string()});
    REQUIRE(rc == 0);
    std::tie(rc, out) = tandem::test::run_command({TANDEM_BRIDGE_BIN, "patient", "add", "--data-dir", data.string(),
                                                   "--name", "Alex"});
    REQUIRE(rc == 0);
    const std::string patient_id = out.substr(0, out.find('\n'));
    // Bad input tried: assigning to an unknown therapist, then to the real one.
    std::tie(rc, out) = tandem::test::run_command({TANDEM_BRIDGE_BIN, "patient", "assign", "--data-dir", data.string(),
                                                   "--patient", patient_id, "--therapist", "nobody"});
    CHECK(rc == 1);
    std::tie(rc, out) = tandem::test::run_command({TANDEM_BRIDGE_BIN, "patient", "assign", "--data-dir", data.string(),
                                                   "--patient", patient_id, "--therapist", "tara"});
    CHECK(rc == 0);
    std::tie(rc, out) = tandem::test::run_command({TANDEM_BRIDGE_BIN, "audit", "verify", "--data-dir", data.string()});
    INFO(out);
    CHECK(rc == 0);
    CHECK(out.find("chain ok") != std::string::npos);
    // Bad input tried: a stray flag to audit list; then a valid filter (no clinician acted yet).
    std::tie(rc, out) = tandem::test::run_command({TANDEM_BRIDGE_BIN, "audit", "list", "--data-dir", data.string(),
                                                   "--verbose"});
    CHECK(rc == 2);
    std::tie(rc, out) = tandem::test::run_command({TANDEM_BRIDGE_BIN, "audit", "list", "--data-dir", data.string(),
                                                   "--since", "2026-01-01"});
    CHECK(rc == 0);

    // Bad input tried: an attacker with the key rewrites event 2's payload in place.
    {
        auto key = load_key_file(data / "store.key");
        REQUIRE(key);
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open((data / "tandem.db").c_str(), &db) == SQLITE_OK);
        const std::string raw = "x'" + to_hex(key->bytes()) + "'";
        REQUIRE(sqlite3_key(db, raw.data(), static_cast<int>(raw.size())) == SQLITE_OK);
        REQUIRE(sqlite3_exec(db, "PRAGMA cipher_page_size = 4096", nullptr, nullptr, nullptr) == SQLITE_OK);
        REQUIRE(sqlite3_exec(db, "UPDATE events SET payload = replace(payload, 'tara', 'mallory') WHERE seq = 2",
                             nullptr, nullptr, nullptr) == SQLITE_OK);
        CHECK(sqlite3_changes(db) == 1);
        sqlite3_close(db);
    }
    std::tie(rc, out) = tandem::test::run_command({TANDEM_BRIDGE_BIN, "audit", "verify", "--data-dir", data.string()});
    CHECK(rc == 1);
    CHECK(out.find("BROKEN at seq 2") != std::string::npos);
}

TEST_CASE("escalation deadlines survive a restart: a flag that fell due while the bridge was down escalates once",
          "[bridge][clinician]") {
    TempDir dir;
    const auto key = random_secret(32);
    const auto path = dir.path() / "clinic.db";
    std::string flag_id = "flag-1";
    {
        // Before the "restart": an urgent flag whose deadline is already past, as if the bridge
        // stopped before its sweep ran.
        auto s = SqlcipherStore::open(path, key.bytes());
        REQUIRE(s);
        NewEvent p;
        p.type = EventType::patient_registered;
        p.patient_id = "p-1";
        p.payload = {{"id", "p-1"}, {"clinic_id", "clinic"}, {"display_name", "Alex"}, {"conditions", json::array()},
                     {"locale", "en-US"}, {"created_at", "2026-01-01T00:00:00.000Z"}};
        REQUIRE((*s)->append(p));
        NewEvent f;
        f.type = EventType::flag_opened;
        f.patient_id = "p-1";
        f.payload = {{"id", flag_id}, {"patient_id", "p-1"}, {"severity", "imminent"}, {"categories", json::array()},
                     {"status", "open"}, {"opened_at", "2026-01-01T00:00:00.000Z"},
                     {"sla_deadline", "2026-01-01T00:05:00.000Z"}, {"escalation_level", 0}, {"notes", json::array()}};
        REQUIRE((*s)->append(f));
    }
    for (int start = 0; start < 2; ++start) {
        // Each pass is a fresh bridge start on the same file.
        auto s = SqlcipherStore::open(path, key.bytes());
        REQUIRE(s);
        NotifyingStore store(**s);
        Metrics metrics;
        auto screener = make_administration_only_screener();
        auto model = make_offline_companion();
        auto patients = PatientService::create(store, *screener, *model, metrics, PatientServiceOptions{});
        REQUIRE(patients);
        AccountDirectory accounts(store);
        ClinicianServiceOptions co;
        co.sweep_interval = 1h;  // only the explicit sweep below runs
        auto service = ClinicianService::create(store, accounts, **patients, metrics, co);
        REQUIRE(service);
        auto n = (*service)->sweep_escalations();
        REQUIRE(n);
        // Bad input tried: a second start sweeping the same overdue flag (must not escalate twice;
        // its next deadline is 15 minutes after the first escalation).
        CHECK(*n == (start == 0 ? 1 : 0));
        Principal all;
        all.supervisor = true;
        auto flags = store.open_flags(all);
        REQUIRE(flags);
        REQUIRE(flags->size() == 1);
        CHECK(flags->front().escalation_level == 1);
        CHECK(flags->front().status == "escalated");
    }
}
