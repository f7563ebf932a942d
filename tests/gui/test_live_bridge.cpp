// GUI tests against the REAL bridge on 127.0.0.1: the app's own LiveSession (cache, session,
// connection, main window) logs in as a therapist while a patient talks on the real /patient
// WebSocket. wxYield() pumps both the window and the network's ui::post callbacks.
#include <catch2/catch_test_macros.hpp>

#include <wx/utils.h>

#include "gui_support.h"
#include "live_session.h"
#include "main_frame.h"
#include "real_bridge.h"
#include "tandem/clinician/actions.h"
#include "tandem/clinician/session.h"

using namespace tandem;
using namespace tandem::clinician;
using namespace tandem::clinician::testing;
using namespace tandem::clinician::views;

namespace {

// A patient in crisis: their message opens a flag and the AI's reply is held for review.
void patient_in_crisis(RealBridge& bridge, PatientDevice& patient) {
    REQUIRE(pump_until([&] { return patient.ready(); }));
    patient.say(kRiskyText);
    REQUIRE(pump_until([&] { return patient.acked(); }));
    bridge.patients->drain();
}

struct App {
    Model model;
    PasswordVerifier verifier;
    std::unique_ptr<LiveSession> live;
    explicit App(RealBridge& bridge, const std::filesystem::path& cache_dir) {
        LiveOptions o;
        o.endpoint = bridge.endpoint("/clinician");
        o.pinned_fingerprint = bridge.fingerprint();
        o.username = "tara";
        o.password = SecretBuffer::copy_of(kBridgePassword);
        o.cache_dir = cache_dir;
        o.cache_kdf = CacheKdf{1, 64, 1};
        live = std::make_unique<LiveSession>(model, verifier, std::move(o));
        live->frame()->Show();
        live->start();
        REQUIRE(pump_until([&] { return live->session().state() == SessionState::live; }));
    }
    ~App() {
        live->stop();
        live->frame()->Destroy();
        wxYield();
    }
    MainFrame& frame() const { return *live->frame(); }
};

std::string held_reply_of(const Model& model, const std::string& patient_id) {
    for (const auto* m : model.transcript(patient_id)) {
        if (m->sender == clinician::Sender::ai && m->state == clinician::MessageState::held) return m->id;
    }
    return {};
}

}  // namespace

TEST_CASE("a held AI reply released from the app reaches the patient", "[gui][bridge]") {
    RealBridge bridge;
    PatientDevice patient(bridge);
    patient_in_crisis(bridge, patient);
    TempDir home;
    App app(bridge, home.path() / "cache");
    CHECK(app.frame().lock_idle() == std::chrono::minutes{10});  // this bridge sends no lock time

    const std::string held = held_reply_of(app.model, bridge.patient_id);
    REQUIRE_FALSE(held.empty());
    CHECK_FALSE(patient.received("message", "id", held));
    app.frame().show_patient(bridge.patient_id);
    REQUIRE(pump_until([&] { return app.frame().held_reply_id() == held; }));
    app.frame().release_held();
    CHECK(app.frame().waiting_actions() == 1);
    REQUIRE(pump_until([&] { return patient.received("message", "id", held); }));
    REQUIRE(pump_until([&] { return app.frame().waiting_actions() == 0; }));
    REQUIRE(pump_until([&] { return app.model.message(held)->state == clinician::MessageState::delivered; }));
    REQUIRE(pump_until([&] { return app.frame().held_reply_id().empty(); }));  // the held box is gone
    app.live->save_cache();
    CHECK(app.live->cache()->saved_cursor() == app.model.cursor());
}

TEST_CASE("an action the bridge refuses at the envelope stops waiting and says so", "[gui][bridge]") {
    RealBridge bridge;
    TempDir home;
    App app(bridge, home.path() / "cache");
    ActionRequest bad;
    bad.action_id = new_uuid();
    bad.kind = std::string(40, 'k');  // over the bridge's limit: refused before the action is read
    bad.fields = nlohmann::json::object();
    app.frame().send_action(bad);
    CHECK(app.frame().waiting_actions() == 1);
    REQUIRE(pump_until([&] { return app.frame().waiting_actions() == 0; }));
    CHECK(app.live->session().pending().size() == 0);
    CHECK(app.frame().status_line().find("refused") != std::string::npos);
}
