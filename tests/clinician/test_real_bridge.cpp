// The clinician app against the REAL bridge: the bridge's own server, stores and services run
// in-process on 127.0.0.1 with a temp data dir (real SQLCipher file, real rule engine), and the
// app's real Connection and FeedSession log in, follow the feed and act, exactly as the app does.
// This is the test that catches drift between the app and docs/PROTOCOL.md.
#include <catch2/catch_test_macros.hpp>

#include <condition_variable>
#include <algorithm>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <random>

#include <nlohmann/json.hpp>

#include "tandem/bridge/accounts.h"
#include "tandem/bridge/clinician_service.h"
#include "tandem/bridge/init.h"
#include "tandem/bridge/llm.h"
#include "tandem/bridge/patient_endpoint.h"
#include "tandem/bridge/patient_service.h"
#include "tandem/bridge/server.h"
#include "tandem/clinician/actions.h"
#include "tandem/clinician/connection.h"
#include "tandem/clinician/session.h"
#include "tandem/clinician/ui_post.h"
#include "tandem/crypto/random.h"
#include "tandem/store/sqlcipher_store.h"

using namespace tandem;
using namespace std::chrono_literals;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

constexpr const char* kPassword = "correct horse battery";
// High risk for the rule engine: the bridge opens an urgent flag for the therapist.
constexpr const char* kRiskyText = "I have decided to end my life and I know how I will do it";

class TempDir {
public:
    TempDir() {
        std::random_device rd;
        path_ = std::filesystem::temp_directory_path() / ("tandem-connect-test-" + std::to_string(rd()) + std::to_string(rd()));
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// Network threads post here and the test thread runs the tasks, as CallAfter does in the app.
class FakeGuiLoop {
public:
    FakeGuiLoop() {
        tandem::ui::set_poster([this](tandem::ui::Task t) {
            const std::lock_guard lock(mutex_);
            tasks_.push_back(std::move(t));
            cv_.notify_one();
        });
    }
    ~FakeGuiLoop() { tandem::ui::set_poster({}); }
    FakeGuiLoop(const FakeGuiLoop&) = delete;
    FakeGuiLoop& operator=(const FakeGuiLoop&) = delete;
    template <class Pred>
    bool pump_until(Pred done, milliseconds limit = milliseconds{10'000}) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (!done()) {
            std::unique_lock lock(mutex_);
            if (!cv_.wait_until(lock, deadline, [&] { return !tasks_.empty(); })) return done();
            auto task = std::move(tasks_.front());
            tasks_.pop_front();
            lock.unlock();
            task();
        }
        return true;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<tandem::ui::Task> tasks_;
};

// The bridge as `tandem-bridge serve` assembles it, with a cheap Argon2 cost for the test.
struct RealBridge {
    TempDir dir;
    bridge::Metrics metrics;
    std::unique_ptr<SqlcipherStore> raw_store;
    std::unique_ptr<bridge::NotifyingStore> store;
    std::unique_ptr<bridge::RiskScreener> screener;
    std::unique_ptr<bridge::ChatModel> model = bridge::make_offline_companion();
    std::shared_ptr<bridge::PatientService> patients;
    std::unique_ptr<bridge::AccountDirectory> accounts;
    std::shared_ptr<bridge::ClinicianService> clinicians;
    std::unique_ptr<bridge::Server> server;
    std::uint16_t port = 0;
    std::string therapist_id;
    std::string patient_id;

    RealBridge() {
        bridge::InitOptions o;
        o.data_dir = dir.path();
        auto init = bridge::init_data_dir(o);
        REQUIRE(init);
        auto s = SqlcipherStore::open(dir.path() / "clinic.db", random_secret(32).bytes());
        REQUIRE(s);
        raw_store = std::move(*s);
        store = std::make_unique<bridge::NotifyingStore>(*raw_store);
        auto sc = bridge::make_rule_engine_screener();
        REQUIRE(sc);
        screener = std::move(*sc);
        auto ps = bridge::PatientService::create(*store, *screener, *model, metrics, bridge::PatientServiceOptions{});
        REQUIRE(ps);
        patients = *ps;
        accounts = std::make_unique<bridge::AccountDirectory>(*store);
        bridge::ClinicianServiceOptions co;
        co.password_policy = bridge::PasswordPolicy{1, 1024, 1, 10};
        const Actor admin{ActorKind::system, std::string("test")};
        auto tara = accounts->add("tara", "Tara Therapist", {"therapist"}, kPassword, co.password_policy, admin);
        REQUIRE(tara);
        therapist_id = tara->id;
        auto cs = bridge::ClinicianService::create(*store, *accounts, *patients, metrics, co);
        REQUIRE(cs);
        clinicians = *cs;
        bridge::ServerOptions so;
        so.cert_file = init->cert_file;
        so.key_file = init->key_file;
        server = std::make_unique<bridge::Server>(so, metrics);
        server->add_websocket_endpoint("/patient", std::make_shared<bridge::PatientEndpoint>(patients, metrics, 1000));
        server->add_websocket_endpoint("/clinician",
                                       std::make_shared<bridge::PatientEndpoint>(clinicians, metrics, 1000));
        auto p = server->start();
        REQUIRE(p);
        port = *p;
        auto id = patients->register_patient("Alex Rivera");
        REQUIRE(id);
        patient_id = *id;
        REQUIRE(bridge::assign_patient(*store, *accounts, patient_id, therapist_id, admin));
    }
    ~RealBridge() {
        server->stop();
        patients->drain();
        clinicians->drain();
    }
    RealBridge(const RealBridge&) = delete;
    RealBridge& operator=(const RealBridge&) = delete;
};

std::string frame(const std::string& type, json payload) {
    static int n = 0;
    return json{{"type", type},
                {"id", "p" + std::to_string(++n)},
                {"time", "2026-11-26T05:00:00.000Z"},
                {"payload", std::move(payload)}}
        .dump();
}

struct Recorder : clinician::SessionListener {
    bool logged_in = false;
    int caught_up = 0;
    int malformed = 0;
    std::vector<std::string> errors;
    std::optional<bool> action_ok;
    std::string action_error;
    void on_logged_in(const clinician::ClinicianInfo&) override { logged_in = true; }
    void on_event(const clinician::StoredEvent&, clinician::ApplyOutcome o, bool) override {
        malformed += o == clinician::ApplyOutcome::malformed;
    }
    void on_caught_up(std::uint64_t) override { ++caught_up; }
    void on_action_result(const std::string&, bool ok, const std::string& error) override {
        action_ok = ok;
        action_error = error;
    }
    void on_error(const Error& e, bool) override { errors.push_back(e.describe()); }
};

}  // namespace

TEST_CASE("the app logs in to the real bridge, sees a risky message's flag in its queue and acknowledges it",
          "[clinician][bridge-contract]") {
    FakeGuiLoop loop;
    RealBridge bridge;
    const std::string port = std::to_string(bridge.port);

    std::optional<Result<std::string>> fingerprint;
    clinician::probe_fingerprint(clinician::Endpoint{"127.0.0.1", port, "/clinician"},
                                 [&](Result<std::string> r) { fingerprint = std::move(r); });
    REQUIRE(loop.pump_until([&] { return fingerprint.has_value(); }));
    REQUIRE(fingerprint->has_value());

    // The patient: redeems an invite and sends a risky message over the real patient WebSocket.
    auto invite = bridge.patients->issue_invite(bridge.patient_id);
    REQUIRE(invite);
    std::vector<json> patient_frames;
    std::unique_ptr<clinician::Connection> patient;
    clinician::ConnectionEvents pe;
    pe.on_open = [&] { patient->send(frame("redeem", {{"invite_code", *invite}, {"device_name", "test"}})); };
    pe.on_frame = [&](std::string text) {
        auto j = json::parse(text);
        if (j["type"] == "session") patient->send(frame("send", {{"client_msg_id", "pm-1"}, {"text", kRiskyText}}));
        patient_frames.push_back(std::move(j));
    };
    pe.on_closed = [](const Error&, bool, milliseconds) {};
    patient = std::make_unique<clinician::Connection>(clinician::Endpoint{"127.0.0.1", port, "/patient"}, **fingerprint,
                                                      pe);
    patient->start();
    REQUIRE(loop.pump_until([&] {
        return std::any_of(patient_frames.begin(), patient_frames.end(), [](const json& j) { return j["type"] == "ack"; });
    }));
    patient->stop();
    bridge.patients->drain();

    // The therapist: the app's own Connection and FeedSession.
    clinician::Model model;
    Recorder recorder;
    std::unique_ptr<clinician::Connection> connection;
    clinician::FeedSession session(model, recorder, [&](std::string f) { connection->send(std::move(f)); });
    session.set_credentials("tara", kPassword);
    clinician::ConnectionEvents ce;
    ce.on_open = [&] { session.on_open(); };
    ce.on_frame = [&](std::string text) { session.on_frame(text); };
    ce.on_closed = [&](const Error&, bool, milliseconds) { session.on_closed(); };
    connection = std::make_unique<clinician::Connection>(clinician::Endpoint{"127.0.0.1", port, "/clinician"},
                                                         **fingerprint, ce);
    connection->start();
    REQUIRE(loop.pump_until([&] { return recorder.caught_up > 0 || !recorder.errors.empty(); }));
    INFO((recorder.errors.empty() ? std::string{} : recorder.errors.front()));
    REQUIRE(recorder.errors.empty());
    CHECK(recorder.logged_in);
    CHECK(model.self().id == bridge.therapist_id);
    CHECK(model.self().has_role(clinician::Role::therapist));
    CHECK_FALSE(session.session_token().empty());
    CHECK(recorder.malformed == 0);

    // The flag the rule engine opened is in the queue, on the right patient, needing action.
    const auto* p = model.patient(bridge.patient_id);
    REQUIRE(p != nullptr);
    CHECK(p->display_name == "Alex Rivera");
    CHECK(p->assigned_therapist_id == bridge.therapist_id);
    std::string flag_id;
    for (const auto& [id, f] : model.flags()) {
        if (f.patient_id == bridge.patient_id && f.needs_acknowledgement()) flag_id = id;
    }
    REQUIRE_FALSE(flag_id.empty());
    CHECK(model.flag(flag_id)->severity >= Severity::high);
    CHECK_FALSE(model.transcript(bridge.patient_id).empty());

    // Acknowledge: the bridge answers ok and the live feed turns the flag acknowledged.
    clinician::ActionRequest ack;
    ack.action_id = "ack-1";
    ack.kind = "flag_acknowledge";
    ack.fields = {{"flag_id", flag_id}};
    REQUIRE(session.send_action(ack));
    REQUIRE(loop.pump_until([&] {
        return recorder.action_ok.has_value() && model.flag(flag_id)->status == clinician::FlagStatus::acknowledged;
    }));
    CHECK(*recorder.action_ok);
    CHECK(recorder.action_error.empty());
    CHECK(model.flag(flag_id)->acknowledged_by == bridge.therapist_id);
    connection->stop();
    CHECK(recorder.errors.empty());
}
