// The plan review dialog against the REAL bridge on 127.0.0.1 (the app's own LiveSession): a
// therapist asks for a proposal (the offline companion writes it), opens the dialog, edits a
// goal and the AI's tone, approves with changes, and the bridge's `plans` reply then holds a new
// approved version carrying the edit. With TANDEM_SCREENSHOT_DIR set, the dialog is also
// photographed (import -window root) for docs/screenshots/.
#include <catch2/catch_test_macros.hpp>

#include <cstdlib>
#include <filesystem>

#include <wx/utils.h>

#include "gui_support.h"
#include "live_session.h"
#include "main_frame.h"
#include "plan_review_dialog.h"
#include "real_bridge.h"
#include "tandem/clinician/plan_review.h"
#include "tandem/clinician/session.h"

using namespace tandem;
using namespace tandem::clinician;
using namespace tandem::clinician::testing;
using namespace tandem::clinician::views;

namespace {

struct PlanApp {
    Model model;
    PasswordVerifier verifier;
    std::unique_ptr<LiveSession> live;
    PlanApp(RealBridge& bridge, const std::filesystem::path& cache_dir) {
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
    ~PlanApp() {
        live->stop();
        live->frame()->Destroy();
        wxYield();
    }
    MainFrame& frame() const { return *live->frame(); }
};

}  // namespace

TEST_CASE("a therapist edits a goal and the AI's tone in an AI proposal, approves with changes, and the bridge "
          "records a new approved version",
          "[gui][bridge][plans]") {
    RealBridge bridge;
    PatientDevice patient(bridge);
    REQUIRE(pump_until([&] { return patient.ready(); }));
    patient.say("I have been feeling low and not sleeping well for weeks");
    REQUIRE(pump_until([&] { return patient.acked(); }));
    TempDir home;
    PlanApp app(bridge, home.path() / "cache");
    const std::string pid = bridge.patient_id;

    // Ask for a proposal as the Request button does; the offline companion writes one.
    app.frame().show_patient(pid);
    app.frame().open_plan_review(pid);
    PlanReviewDialog* dialog = app.frame().plan_review();
    REQUIRE(dialog != nullptr);
    CHECK(dialog->IsShown());
    REQUIRE(dialog->request_proposal());
    REQUIRE(pump_until([&] { return app.model.plans().awaiting_review(pid) != nullptr; }, std::chrono::seconds{30}));
    REQUIRE(pump_until([&] { return dialog->review().proposal(app.model) != nullptr; }));
    const PlanVersion proposal = *app.model.plans().awaiting_review(pid);
    CHECK(proposal.proposed_by_ai);
    REQUIRE_FALSE(proposal.content.goals.empty());
    CHECK(dialog->button_enabled("Approve"));
    CHECK_FALSE(dialog->button_enabled("Approve with changes"));  // nothing edited yet
    // The caseload marks the patient until the proposal is decided.
    CHECK_FALSE(plan_badge(app.model, pid).empty());
    dialog->show_page(0);
    screenshot("plan-review-proposal.png");

    // Edit a goal and the AI guidance, as typing in the grid and the tone field does.
    PlanGoalItem goal = proposal.content.goals.front();
    goal.description = "Go for a 20-minute walk on four days a week";
    goal.target_date = "2027-01-31";
    dialog->edit_goal(0, goal);
    dialog->edit_tone("gentle, brief, plain words; no pressure");
    CHECK(dialog->review().has_edits());
    CHECK(dialog->button_enabled("Approve with changes"));
    const auto rows = dialog->review().rows(app.model);
    CHECK(std::any_of(rows.begin(), rows.end(), [](const PlanDiffRow& r) {
        return r.section == "AI guidance: tone" && r.proposal == "gentle, brief, plain words; no pressure";
    }));
    REQUIRE(dialog->approve_with_changes("walking goal made concrete"));
    CHECK(app.frame().waiting_actions() == 1);
    REQUIRE(pump_until([&] { return app.frame().waiting_actions() == 0; }));
    CHECK(app.frame().status_line().find("refused") == std::string::npos);

    // The feed brings the new version; a fresh fetch (the bridge's own list) confirms it.
    REQUIRE(pump_until([&] {
        const auto* a = app.model.plans().active(pid);
        return a != nullptr && a->version > proposal.version;
    }));
    const int before_fetch = static_cast<int>(app.model.plans().revision());
    app.frame().open_plan_review(pid);  // fetches `plans` again
    REQUIRE(pump_until([&] { return static_cast<int>(app.model.plans().revision()) > before_fetch; }));
    const PlanVersion* active = app.model.plans().active(pid);
    REQUIRE(active != nullptr);
    CHECK(active->version > proposal.version);
    CHECK_FALSE(active->proposed_by_ai);
    CHECK(active->proposer_id == bridge.therapist_id);
    CHECK(active->approver_id == bridge.therapist_id);
    CHECK(active->based_on_version == proposal.version);
    REQUIRE_FALSE(active->content.goals.empty());
    CHECK(active->content.goals.front().description == "Go for a 20-minute walk on four days a week");
    CHECK(active->content.goals.front().target_date == "2027-01-31");
    CHECK(active->content.tone == "gentle, brief, plain words; no pressure");
    const PlanVersion* original = app.model.plans().find(proposal.id);
    REQUIRE(original != nullptr);
    CHECK(original->status == PlanState::rejected);  // kept in the history
    CHECK(plan_badge(app.model, pid).empty());

    // The dialog follows: no proposal waits, so the decision buttons are off.
    REQUIRE(pump_until([&] { return dialog->review().proposal(app.model) == nullptr; }));
    CHECK_FALSE(dialog->button_enabled("Approve"));
    CHECK(dialog->button_enabled("Request new proposal"));

    // A second AI proposal is compared with the approved, edited version: the AI's own tone
    // reads as a change against the therapist's.
    REQUIRE(dialog->request_proposal());
    REQUIRE(pump_until([&] { return app.model.plans().awaiting_review(pid) != nullptr; }, std::chrono::seconds{30}));
    REQUIRE(pump_until([&] { return dialog->review().proposal(app.model) != nullptr; }));
    const auto second = dialog->review().rows(app.model);
    CHECK(std::any_of(second.begin(), second.end(), [](const PlanDiffRow& r) {
        return r.section == "AI guidance: tone" && r.kind == DiffKind::changed &&
               r.active == "gentle, brief, plain words; no pressure";
    }));
    const PlanVersion second_proposal = *dialog->review().proposal(app.model);
    if (second_proposal.content.goals.size() > 1) {
        PlanGoalItem later = second_proposal.content.goals[1];
        later.target_date = "2027-02-28";
        dialog->edit_goal(1, later);
        CHECK(dialog->review().has_edits());
    }
    dialog->show_page(0);
    screenshot("plan-review.png");
    dialog->show_page(1);
    screenshot("plan-edit.png");

    // The history lists every version, newest first.
    dialog->show_page(2);
    dialog->select_history(2);  // the rejected AI proposal: it can be restored
    CHECK(dialog->button_enabled("Restore as new version"));
    screenshot("plan-history.png");
    const auto history = plan_history_rows(app.model, pid);
    REQUIRE(history.size() == 3);
    CHECK(history[0].status == "proposed: awaiting review");
    CHECK(history[1].status == "approved (active)");
    CHECK(history[1].based_on == "v" + std::to_string(proposal.version));
    CHECK(history[2].status == "rejected");
}
