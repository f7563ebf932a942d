#pragma once
// What the GUI tests share: running the wx event loop until something happens, sending a menu
// command, and screenshots of the Xvfb screen for docs/screenshots.

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <catch2/catch_test_macros.hpp>
#include <wx/event.h>
#include <wx/utils.h>

#include "main_frame.h"

namespace tandem::clinician::testing {

/// Runs the event loop until `done()` holds; false when `limit` passed first.
template <class Pred>
bool pump_until(Pred done, std::chrono::milliseconds limit = std::chrono::seconds{15}) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        wxYield();
        wxMilliSleep(10);
    }
    return true;
}

/// Lets pending layout and paint events run (rounds of 20 ms).
inline void settle(int rounds = 5) {
    for (int i = 0; i < rounds; ++i) {
        wxYield();
        wxMilliSleep(20);
    }
}

/// What choosing the menu item (or its shortcut) does.
inline void command(views::MainFrame& frame, int id) {
    wxCommandEvent event(wxEVT_MENU, id);
    event.SetEventObject(&frame);
    frame.ProcessWindowEvent(event);
    settle();
}

/// A picture of the whole (virtual) screen as DIR/name when TANDEM_SCREENSHOT_DIR names a
/// directory (imagemagick's import); otherwise nothing.
inline void screenshot(const char* name) {
    const char* dir = std::getenv("TANDEM_SCREENSHOT_DIR");
    if (dir == nullptr || *dir == '\0') return;
    settle(20);
    const std::string path = (std::filesystem::path(dir) / name).string();
    const std::string run = "import -window root '" + path + "'";
    CHECK(std::system(run.c_str()) == 0);
}

}  // namespace tandem::clinician::testing
