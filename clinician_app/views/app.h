#pragma once
// The wx application: installs the ui::post seam, logs in (or loads the demo clinic) and wires
// the network connection, the feed session and the main window together.

#include <memory>

#include <wx/app.h>

#include "tandem/clinician/auto_lock.h"
#include "tandem/clinician/model.h"

#include "tandem/crypto/secret_buffer.h"

namespace tandem::clinician::views {

class MainFrame;
class LiveSession;

/// Installs ui::post on top of CallAfter; after uninstall_wx_poster() posts are dropped. GUI thread.
void install_wx_poster();
void uninstall_wx_poster();

/// Opens the main window on the built-in demo clinic (no bridge). GUI thread.
MainFrame* open_demo_window(Model& model, PasswordVerifier& verifier);

class ClinicianApp : public wxApp {
public:
    ClinicianApp();
    ~ClinicianApp() override;  // out of line: LiveSession is incomplete here
    bool OnInit() override;
    int OnExit() override;
    int FilterEvent(wxEvent& event) override;

private:
    /// The login dialog (pre-filled and started at once when `user` and `password` are given).
    bool log_in(const std::string& server, const std::string& user, SecretBuffer password,
                const std::string& trusted_fingerprint);
    void forget_frame_on_close();

    Model model_;
    PasswordVerifier verifier_;
    MainFrame* frame_ = nullptr;
    std::unique_ptr<LiveSession> live_;
};

}  // namespace tandem::clinician::views
