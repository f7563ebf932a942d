// GUI tests: the real MainFrame on the demo clinic, driven through its menu commands and
// wxUIActionSimulator key presses, with wxYield() after each step (as wxWidgets' own tests do).
#include <catch2/catch_session.hpp>
#include <catch2/catch_test_macros.hpp>

#include <wx/app.h>
#include <wx/textctrl.h>
#include <wx/uiaction.h>
#include <wx/utils.h>

#include "app.h"
#include "gui_support.h"
#include "main_frame.h"
#include "tandem/clinician/flag_queue.h"

using namespace tandem::clinician;
using namespace tandem::clinician::testing;
using namespace tandem::clinician::views;

namespace {

struct Window {
    Model model;
    PasswordVerifier verifier;
    MainFrame* frame = nullptr;
    Window() {
        frame = open_demo_window(model, verifier);
        frame->Show();
        frame->Raise();
        settle();
    }
    ~Window() {
        frame->Destroy();
        settle();
    }
};

std::string top_ranked_flag(const Model& model) {
    FlagQueuePresenter q;
    q.refresh(model);
    return q.size() ? q.row(0).flag_id : std::string{};
}

}  // namespace

TEST_CASE("next-flag shortcut selects the top-ranked flag and opens its patient", "[gui]") {
    Window w;
    const auto top = top_ranked_flag(w.model);
    REQUIRE_FALSE(top.empty());
    w.frame->SetFocus();
    settle();
    wxUIActionSimulator sim;
    sim.Char('j', wxMOD_CONTROL);
    settle();
    if (w.frame->selected_flag_id().empty()) command(*w.frame, id_next_flag);  // no window manager focus under Xvfb
    CHECK(w.frame->selected_flag_id() == top);
    CHECK(w.frame->open_patient_id() == w.model.flag(top)->patient_id);
    command(*w.frame, id_next_flag);
    CHECK(w.frame->selected_flag_id() != top);
    command(*w.frame, id_previous_flag);
    CHECK(w.frame->selected_flag_id() == top);
}

TEST_CASE("acknowledge sends a flag_acknowledge action for the selected flag and the queue updates", "[gui]") {
    Window w;
    command(*w.frame, id_next_flag);
    const auto flag = w.frame->selected_flag_id();
    REQUIRE_FALSE(flag.empty());
    command(*w.frame, id_acknowledge);
    REQUIRE(w.frame->sent_actions().size() == 1);
    CHECK(w.frame->sent_actions()[0].kind == "flag_acknowledge");
    CHECK(w.frame->sent_actions()[0].fields["flag_id"] == flag);
    CHECK(w.model.flag(flag)->status == FlagStatus::acknowledged);
    command(*w.frame, id_acknowledge);  // already acknowledged: nothing more is sent
    CHECK(w.frame->sent_actions().size() == 1);
}

TEST_CASE("the Acknowledge button, not only the menu item, sends flag_acknowledge", "[gui]") {
    // A button click is a wxEVT_BUTTON from the button itself; it must reach the same handler.
    Window w;
    command(*w.frame, id_next_flag);
    const auto flag = w.frame->selected_flag_id();
    REQUIRE_FALSE(flag.empty());
    auto* button = wxWindow::FindWindowById(id_acknowledge, w.frame);
    REQUIRE(button != nullptr);
    wxCommandEvent click(wxEVT_BUTTON, id_acknowledge);
    click.SetEventObject(button);
    button->ProcessWindowEvent(click);
    REQUIRE(w.frame->sent_actions().size() == 1);
    CHECK(w.frame->sent_actions()[0].kind == "flag_acknowledge");
    CHECK(w.frame->sent_actions()[0].fields["flag_id"] == flag);
}

TEST_CASE("auto-lock hides the transcript and only the password unlocks", "[gui]") {
    Window w;
    command(*w.frame, id_next_flag);
    CHECK(w.frame->transcript_visible());
    command(*w.frame, id_lock);
    CHECK(w.frame->locked());
    CHECK_FALSE(w.frame->transcript_visible());
    CHECK_FALSE(w.frame->try_unlock("wrong"));
    CHECK(w.frame->locked());
    CHECK(w.frame->try_unlock("demo"));
    settle();
    CHECK(w.frame->transcript_visible());
}

TEST_CASE("a new imminent flag arriving live ranks above every high flag and raises the title badge", "[gui]") {
    Window w;
    const auto before = w.frame->GetTitle();
    const int shown = w.frame->notifications_shown();
    // Xvfb has no notification daemon: the desktop notification must neither hang nor crash,
    // and the title badge still counts the new flag.
    command(*w.frame, id_simulate_flag);
    CHECK(w.frame->notifications_shown() == shown + 1);
    FlagQueuePresenter q;
    q.refresh(w.model);
    const auto live = q.index_of("demo-live-f1");
    REQUIRE(live != FlagQueuePresenter::npos);
    for (std::size_t i = live + 1; i < q.size(); ++i) CHECK(q.row(i).severity <= tandem::Severity::imminent);
    for (std::size_t i = 0; i < live; ++i) CHECK(q.row(i).severity == tandem::Severity::imminent);
    CHECK(w.frame->GetTitle() != before);
    command(*w.frame, id_next_flag);
    CHECK(w.frame->selected_flag_id() == q.row(0).flag_id);
}

int main(int argc, char* argv[]) {
    wxApp::SetInstance(new wxApp);
    int wx_argc = 1;
    if (!wxEntryStart(wx_argc, argv)) return 2;
    wxTheApp->CallOnInit();
    install_wx_poster();
    const int result = Catch::Session().run(argc, argv);
    uninstall_wx_poster();
    wxEntryCleanup();
    return result;
}
