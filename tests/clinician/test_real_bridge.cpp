// The clinician app against the REAL bridge: the bridge's own server, stores and services run
// in-process on 127.0.0.1 with a temp data dir (real SQLCipher file, real rule engine), and the
// app's real Connection and FeedSession log in, follow the feed and act, exactly as the app does.
// This is the test that catches drift between the app and docs/PROTOCOL.md. The local cache's
// offline and rebuild cases run here too: they need a bridge to sync from and then to lose.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <fstream>
#include <optional>

#include "harness.h"
#include "real_bridge.h"
#include "tcp_relay.h"
#include "tandem/clinician/actions.h"
#include "tandem/clinician/local_cache.h"
#include "tandem/clinician/outcome_demo.h"
#include "tandem/clinician/outcome_presenter.h"
#include "tandem/clinician/outcome_report.h"
#include "tandem/measures/measures.h"

using namespace tandem;
using namespace tandem::clinician;
using namespace tandem::clinician::testing;

namespace {

struct Recorder : SessionListener {
    bool logged_in = false;
    int caught_up = 0;
    int malformed = 0;
    std::vector<std::string> errors;
    std::optional<bool> action_ok;
    std::string action_error;
    void on_logged_in(const ClinicianInfo&) override { logged_in = true; }
    void on_event(const clinician::StoredEvent&, ApplyOutcome o, bool) override { malformed += o == ApplyOutcome::malformed; }
    void on_caught_up(std::uint64_t) override { ++caught_up; }
    void on_action_result(const std::string&, bool ok, const std::string& error) override {
        action_ok = ok;
        action_error = error;
    }
    void on_error(const Error& e, bool) override { errors.push_back(e.describe()); }
};

// The patient says something risky over the real /patient WebSocket; returns once it is acked.
void risky_patient_message(FakeGuiLoop& loop, RealBridge& bridge) {
    PatientDevice patient(bridge);
    REQUIRE(loop.pump_until([&] { return patient.ready(); }));
    patient.say(kRiskyText);
    REQUIRE(loop.pump_until([&] { return patient.acked(); }));
    patient.stop();
    bridge.patients->drain();
}

std::string open_flag_of(const Model& model, const std::string& patient_id) {
    for (const auto& [id, f] : model.flags()) {
        if (f.patient_id == patient_id && f.needs_acknowledgement()) return id;
    }
    return {};
}

// Logs in as tara and follows the feed until caught up.
void sync(FakeGuiLoop& loop, RealBridge& bridge, Model& model, Recorder& recorder, LiveClient*& out,
          std::optional<LiveClient>& holder) {
    holder.emplace(model, recorder, bridge.endpoint("/clinician"), bridge.fingerprint(), "tara", kBridgePassword);
    out = &*holder;
    holder->start();
    REQUIRE(loop.pump_until([&] { return recorder.caught_up > 0 || !recorder.errors.empty(); }));
    INFO((recorder.errors.empty() ? std::string{} : recorder.errors.front()));
    REQUIRE(recorder.errors.empty());
}

constexpr CacheKdf kCheapKdf{1, 64, 1};  // the real cost is for people; tests need speed

}  // namespace

TEST_CASE("the app logs in to the real bridge, sees a risky message's flag in its queue and acknowledges it",
          "[clinician][bridge-contract]") {
    FakeGuiLoop loop;
    RealBridge bridge;
    risky_patient_message(loop, bridge);

    Model model;
    Recorder recorder;
    std::optional<LiveClient> holder;
    LiveClient* client = nullptr;
    sync(loop, bridge, model, recorder, client, holder);
    CHECK(recorder.logged_in);
    CHECK(model.self().id == bridge.therapist_id);
    CHECK(model.self().has_role(Role::therapist));
    CHECK_FALSE(client->session.session_token().empty());
    CHECK(recorder.malformed == 0);

    // The flag the rule engine opened is in the queue, on the right patient, needing action.
    const auto* p = model.patient(bridge.patient_id);
    REQUIRE(p != nullptr);
    CHECK(p->display_name == "Alex Rivera");
    CHECK(p->assigned_therapist_id == bridge.therapist_id);
    const std::string flag_id = open_flag_of(model, bridge.patient_id);
    REQUIRE_FALSE(flag_id.empty());
    CHECK(model.flag(flag_id)->severity >= Severity::high);
    CHECK_FALSE(model.transcript(bridge.patient_id).empty());

    // Acknowledge: the bridge answers ok and the live feed turns the flag acknowledged.
    REQUIRE(client->session.send_action(actions::flag_acknowledge(flag_id)));
    REQUIRE(loop.pump_until([&] {
        return recorder.action_ok.has_value() && model.flag(flag_id)->status == clinician::FlagStatus::acknowledged;
    }));
    CHECK(*recorder.action_ok);
    CHECK(recorder.action_error.empty());
    CHECK(model.flag(flag_id)->acknowledged_by == bridge.therapist_id);
    client->stop();
    CHECK(recorder.errors.empty());
}

TEST_CASE("an envelope-level error answering an action clears it from the pending actions",
          "[clinician][bridge-contract]") {
    FakeGuiLoop loop;
    RealBridge bridge;
    Model model;
    Recorder recorder;
    std::optional<LiveClient> holder;
    LiveClient* client = nullptr;
    sync(loop, bridge, model, recorder, client, holder);
    // A bad field of a known kind earns an action_result refusal; a kind over the bridge's
    // 32-character limit fails before the action is read, so the answer is an envelope-level
    // `error` naming only the envelope's id, not the action_id.
    ActionRequest bad;
    bad.action_id = new_uuid();
    bad.kind = std::string(40, 'k');
    bad.fields = nlohmann::json::object();
    REQUIRE(client->session.send_action(bad));
    CHECK(client->session.pending().size() == 1);
    REQUIRE(loop.pump_until([&] { return recorder.action_ok.has_value(); }));
    CHECK_FALSE(*recorder.action_ok);
    CHECK_FALSE(recorder.action_error.empty());
    CHECK(client->session.pending().size() == 0);
}

TEST_CASE("the cache keeps caseload, flags and transcripts readable offline after the bridge stops",
          "[clinician][cache]") {
    FakeGuiLoop loop;
    TempDir home;
    std::string flag_id;
    std::size_t transcript_size = 0;
    {
        RealBridge bridge;
        risky_patient_message(loop, bridge);
        Model model;
        Recorder recorder;
        auto cache = LocalCache::open(home.path() / "cache", kBridgePassword, kCheapKdf);
        REQUIRE(cache);
        CHECK((*cache)->report().created);
        REQUIRE((*cache)->load(model));
        std::optional<LiveClient> holder;
        LiveClient* client = nullptr;
        sync(loop, bridge, model, recorder, client, holder);
        REQUIRE((*cache)->save(model));
        flag_id = open_flag_of(model, bridge.patient_id);
        transcript_size = model.transcript(bridge.patient_id).size();
        REQUIRE_FALSE(flag_id.empty());
        REQUIRE(transcript_size >= 2);
        bridge.stop();
        // The app notices the bridge is gone and keeps retrying; what it shows comes from memory.
        REQUIRE(loop.pump_until([&] { return client->closes > 0; }));
        CHECK_FALSE(client->session.online());
    }
    // A fresh start with no bridge at all: everything comes from the cache.
    Model offline;
    auto cache = LocalCache::open(home.path() / "cache", kBridgePassword, kCheapKdf);
    REQUIRE(cache);
    CHECK_FALSE((*cache)->report().created);
    REQUIRE((*cache)->load(offline));
    CHECK(offline.cursor() > 0);
    CHECK(offline.self().username == "tara");
    const auto* f = offline.flag(flag_id);
    REQUIRE(f != nullptr);
    CHECK(f->severity >= Severity::high);
    const auto transcript = offline.transcript(f->patient_id);
    CHECK(transcript.size() == transcript_size);
    CHECK(std::any_of(transcript.begin(), transcript.end(),
                      [](const MessageInfo* m) { return m->text == kRiskyText && m->risk.has_value(); }));
    CHECK(offline.patient(f->patient_id)->display_name == "Alex Rivera");
    // Actions need the bridge: offline they are disabled, with the reason shown.
    const auto avail = availability(offline, false, f->patient_id);
    CHECK_FALSE(avail.enabled);
    CHECK_FALSE(avail.reason.empty());
}

TEST_CASE("a corrupted cache is detected, set aside and rebuilt from the bridge", "[clinician][cache]") {
    FakeGuiLoop loop;
    TempDir home;
    const auto dir = home.path() / "cache";
    RealBridge bridge;
    risky_patient_message(loop, bridge);
    std::uint64_t cursor = 0;
    {
        Model model;
        Recorder recorder;
        auto cache = LocalCache::open(dir, kBridgePassword, kCheapKdf);
        REQUIRE(cache);
        std::optional<LiveClient> holder;
        LiveClient* client = nullptr;
        sync(loop, bridge, model, recorder, client, holder);
        REQUIRE((*cache)->save(model));
        cursor = model.cursor();
        client->stop();
    }
    // Flip bytes in the middle of the second page: the right key no longer authenticates it.
    {
        std::fstream f(dir / "cache.db", std::ios::in | std::ios::out | std::ios::binary);
        REQUIRE(f);
        f.seekp(4096 + 1000);
        const char junk[16] = {'c', 'o', 'r', 'r', 'u', 'p', 't', 'e', 'd', '!', '!', '!', '!', '!', '!', '!'};
        f.write(junk, sizeof junk);
    }
    auto cache = LocalCache::open(dir, kBridgePassword, kCheapKdf);
    REQUIRE(cache);
    CHECK((*cache)->report().created);
    REQUIRE((*cache)->report().set_aside.has_value());
    CHECK(std::filesystem::exists(*(*cache)->report().set_aside));  // kept for inspection, not deleted
    CHECK_FALSE((*cache)->report().reason.empty());
    Model model;
    REQUIRE((*cache)->load(model));
    CHECK(model.cursor() == 0);
    CHECK(model.flags().empty());

    Recorder recorder;
    std::optional<LiveClient> holder;
    LiveClient* client = nullptr;
    sync(loop, bridge, model, recorder, client, holder);  // subscribes from 0: the whole backlog
    REQUIRE((*cache)->save(model));
    client->stop();
    CHECK(model.cursor() >= cursor);  // the second login's own session_opened event comes after
    CHECK_FALSE(open_flag_of(model, bridge.patient_id).empty());
    cache->reset();
    Model reread;
    auto again = LocalCache::open(dir, kBridgePassword, kCheapKdf);
    REQUIRE(again);
    CHECK_FALSE((*again)->report().created);
    REQUIRE((*again)->load(reread));
    CHECK(reread.cursor() == model.cursor());
    CHECK_FALSE(open_flag_of(reread, bridge.patient_id).empty());
}

TEST_CASE("report_exported is recorded once in the bridge's audit chain, and a refusal leaves no export to write",
          "[clinician][bridge-contract][export]") {
    FakeGuiLoop loop;
    RealBridge bridge;
    const std::string pid = bridge.patient_id;
    for (int i = 0; i < 2; ++i) {
        const auto e = demo_assessment_event(0, pid, "phq9", 14 - 6 * i, now_ms() - std::chrono::hours{24 * (30 - 28 * i)},
                                             "phq-exp-" + std::to_string(i));
        NewEvent ne;
        ne.type = EventType::assessment_scored;
        ne.patient_id = pid;
        ne.actor = Actor{ActorKind::patient, pid};
        ne.payload = nlohmann::json::parse(e.payload_json);
        REQUIRE(bridge.store->append(std::move(ne)));
    }
    Model model;
    Recorder recorder;
    std::optional<LiveClient> holder;
    LiveClient* client = nullptr;
    sync(loop, bridge, model, recorder, client, holder);
    REQUIRE(model.assessments().series(pid, "phq9").size() == 2);
    const auto outcomes = patient_outcomes(model.assessments(), InstrumentRegistry::builtin(), pid);
    ExportAudit exports;
    auto audits = [&] { return bridge.report_exports(); };

    auto request = exports.begin("/home/tara/Alex Rivera.png", report_header(model, pid, now_ms()), outcomes);
    REQUIRE(request);
    REQUIRE(client->session.send_action(*request));
    // Resent after a reconnect with the same action_id: still one audit event.
    REQUIRE(loop.pump_until([&] { return recorder.action_ok.has_value(); }));
    CHECK(*recorder.action_ok);
    CHECK(exports.complete(request->action_id).has_value());  // ok: the app writes the file now
    recorder.action_ok.reset();
    REQUIRE(client->session.send_action(*request));
    REQUIRE(loop.pump_until([&] { return recorder.action_ok.has_value(); }));
    CHECK(*recorder.action_ok);
    auto found = audits();
    REQUIRE(found.size() == 1);
    CHECK(found[0].actor.id == std::optional<std::string>{bridge.therapist_id});
    CHECK(found[0].payload.at("action_id") == request->action_id);
    CHECK(found[0].payload.at("format") == "png");
    CHECK(found[0].payload.at("instruments") == nlohmann::json{"phq9"});
    CHECK(found[0].payload.at("assessment_count") == 2);
    CHECK(found[0].payload.dump().find("Alex") == std::string::npos);

    // The patient is no longer tara's on the bridge: permission_denied, nothing recorded, and the
    // pending export is answered as refused (the app shows why and writes nothing).
    const Actor admin{ActorKind::system, std::string("test")};
    auto sam = bridge.accounts->add("sam", "Sam Other", {"therapist"}, kBridgePassword,
                                    bridge::PasswordPolicy{1, 1024, 1, 10}, admin);
    REQUIRE(sam);
    REQUIRE(bridge::assign_patient(*bridge.store, *bridge.accounts, pid, sam->id, admin));
    recorder.action_ok.reset();
    auto refused = exports.begin("r.pdf", report_header(model, pid, now_ms()), outcomes);
    REQUIRE(refused);
    REQUIRE(client->session.send_action(*refused));
    REQUIRE(loop.pump_until([&] { return recorder.action_ok.has_value(); }));
    CHECK_FALSE(*recorder.action_ok);
    CHECK(recorder.action_error.find("permission_denied") != std::string::npos);
    CHECK(audits().size() == 1);
    client->stop();
}

namespace {

// The app logged in to the real bridge through a TcpRelay and caught up: the export cases lose
// the connection at the relay.
struct RelayedApp {
    RelayedApp() {
        client.start();
        REQUIRE(loop.pump_until([&] { return recorder.caught_up > 0; }));
    }
    /// From now on what the app sends is dropped on the way (the bridge never sees it).
    void swallow() {
        relay.set_mode(TcpRelay::Mode::swallow);
        loop.pump_until([] { return false; }, std::chrono::milliseconds{100});  // the relay takes it up
    }
    /// Begins an export of the patient's report to `path` in `exports` and sends its action.
    ActionRequest send_export(ExportAudit& exports, const std::string& path) {
        const std::string pid = bridge.patient_id;
        auto request = exports.begin(path, report_header(model, pid, now_ms()),
                                     patient_outcomes(model.assessments(), InstrumentRegistry::builtin(), pid));
        REQUIRE(request);
        REQUIRE(client.session.send_action(*request));
        return *request;
    }

    FakeGuiLoop loop;
    RealBridge bridge;
    TcpRelay relay{bridge.port};
    Model model;
    Recorder recorder;
    LiveClient client{model, recorder, Endpoint{"127.0.0.1", std::to_string(relay.port()), "/clinician"},
                      bridge.fingerprint(), "tara", kBridgePassword};
};

}  // namespace

TEST_CASE("an export the bridge never answers gives up at its deadline, is not resent, and the next export works",
          "[clinician][bridge-contract][export]") {
    // Each case cuts the real bridge off behind a relay in its own way (what was tried is its
    // name); the export's frame is swallowed first, so the bridge provably never saw it.
    struct Case {
        const char* name;
        bool cut_connection;  ///< after the export: close the connection and refuse reconnects
        bool stop_bridge;     ///< after the export: the bridge itself goes away
    };
    const std::vector<Case> cases{
        {"the connection stays up and the bridge stays silent", false, false},
        {"the connection is lost mid-export and the bridge stays unreachable", true, false},
        {"the bridge is killed mid-export", false, true},
    };
    using std::chrono::milliseconds;
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.name) {
            RelayedApp app;
            ExportAudit exports(milliseconds{800});
            app.swallow();
            const ActionRequest lost = app.send_export(exports, "lost.pdf");
            CHECK(exports.expire().empty());
            if (c.cut_connection) app.relay.set_mode(TcpRelay::Mode::refuse);
            if (c.stop_bridge) app.bridge.stop();  // drains its services: may take longer than the deadline
            // Nothing answers within the deadline: the export is given up, and its action too.
            app.loop.pump_until([] { return false; }, milliseconds{900});
            const auto gone = exports.expire();
            REQUIRE(gone.size() == 1);
            CHECK(gone[0].action_id == lost.action_id);
            CHECK(app.client.session.withdraw_action(lost.action_id));
            CHECK(app.client.session.pending().size() == 0);
            CHECK_FALSE(app.recorder.action_ok.has_value());
            if (c.cut_connection) CHECK(app.client.closes > 0);
            if (c.stop_bridge) {
                CHECK(app.bridge.report_exports().empty());
                continue;
            }
            // The bridge is reachable again: the app reconnects, the given-up export is not
            // resent (nothing recorded for it), and the next export is audited and answered.
            app.relay.set_mode(TcpRelay::Mode::refuse);  // ends the swallowed stream, if still open
            REQUIRE(app.loop.pump_until([&] { return app.client.session.state() == SessionState::offline; }));
            app.relay.set_mode(TcpRelay::Mode::pass);
            REQUIRE(app.loop.pump_until([&] { return app.client.session.state() == SessionState::live; }));
            const ActionRequest next = app.send_export(exports, "next.pdf");
            REQUIRE(app.loop.pump_until([&] { return app.recorder.action_ok.has_value(); }));
            CHECK(*app.recorder.action_ok);
            CHECK(exports.complete(next.action_id).has_value());
            const auto recorded = app.bridge.report_exports();
            REQUIRE(recorded.size() == 1);
            CHECK(recorded[0].payload.at("action_id") == next.action_id);
        }
    }
}

TEST_CASE("an export whose connection drops and comes back before the deadline is resent and audited once",
          "[clinician][bridge-contract][export]") {
    RelayedApp app;
    ExportAudit exports(std::chrono::seconds{8});
    // Tried: the export's frame is lost with the connection (swallowed, then cut), and the relay
    // lets the app back in at once: the session's resend after the reconnect carries it.
    app.swallow();
    const ActionRequest request = app.send_export(exports, "blip.png");
    app.relay.set_mode(TcpRelay::Mode::refuse);
    REQUIRE(app.loop.pump_until([&] { return app.client.session.state() == SessionState::offline; }));
    app.relay.set_mode(TcpRelay::Mode::pass);
    REQUIRE(app.loop.pump_until([&] { return app.recorder.action_ok.has_value(); }));
    CHECK(*app.recorder.action_ok);
    CHECK(exports.expire().empty());  // answered well before its deadline
    CHECK(exports.complete(request.action_id).has_value());
    CHECK(app.bridge.report_exports().size() == 1);
}
