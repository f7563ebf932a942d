#include "app.h"

#include <cstdio>
#include <mutex>

#include <wx/button.h>
#include <wx/cmdline.h>
#include <wx/dialog.h>
#include <wx/msgdlg.h>
#include <wx/sizer.h>
#include <wx/stattext.h>
#include <wx/textctrl.h>

#include <wx/utils.h>

#include "live_session.h"
#include "main_frame.h"
#include "tandem/clinician/connection.h"
#include "tandem/clinician/demo.h"
#include "tandem/clinician/outcome_demo.h"
#include "tandem/clinician/password_file.h"
#include "tandem/clinician/pins.h"
#include "tandem/clinician/session.h"
#include "tandem/clinician/ui_post.h"

namespace tandem::clinician::views {
namespace {

wxString u8(const std::string& s) { return wxString::FromUTF8(s.data(), s.size()); }

std::mutex g_poster_mutex;
bool g_app_alive = false;

/// Server, username and password; on first contact it shows the certificate fingerprint and
/// asks before pinning it; a changed certificate is refused here, before the password leaves.
class LoginDialog : public wxDialog {
public:
    /// `server` pre-fills the address (from --server); empty means the last server used.
    /// `username` and `password` (from --user and --password-file) pre-fill and log in at once.
    /// `vouched` (from --fingerprint) replaces a pin when the server now presents exactly it.
    LoginDialog(PinStore& pins, const std::string& server, const std::string& username = {},
                std::string_view password = {}, std::string vouched = {})
        : wxDialog(nullptr, wxID_ANY, u8("Tandem Clinician \u2014 log in")), pins_(pins), vouched_(std::move(vouched)) {
        auto* s = new wxBoxSizer(wxVERTICAL);
        auto* grid = new wxFlexGridSizer(2, FromDIP(wxSize(8, 8)));
        grid->AddGrowableCol(1);
        server_ = new wxTextCtrl(this, wxID_ANY, u8(server.empty() ? pins.last_server() : server),
                                 wxDefaultPosition, FromDIP(wxSize(280, -1)));
        server_->SetHint("bridge.example.org:8443");
        username_ = new wxTextCtrl(this, wxID_ANY);
        password_ = new wxTextCtrl(this, wxID_ANY, "", wxDefaultPosition, wxDefaultSize, wxTE_PASSWORD | wxTE_PROCESS_ENTER);
        grid->Add(new wxStaticText(this, wxID_ANY, "&Server"), 0, wxALIGN_CENTER_VERTICAL);
        grid->Add(server_, 1, wxEXPAND);
        grid->Add(new wxStaticText(this, wxID_ANY, "&Username"), 0, wxALIGN_CENTER_VERTICAL);
        grid->Add(username_, 1, wxEXPAND);
        grid->Add(new wxStaticText(this, wxID_ANY, "&Password"), 0, wxALIGN_CENTER_VERTICAL);
        grid->Add(password_, 1, wxEXPAND);
        totp_ = new wxTextCtrl(this, wxID_ANY, "", wxDefaultPosition, wxDefaultSize, wxTE_PROCESS_ENTER);
        totp_->SetHint("only if your clinic requires it");
        grid->Add(new wxStaticText(this, wxID_ANY, "&One-time code"), 0, wxALIGN_CENTER_VERTICAL);
        grid->Add(totp_, 1, wxEXPAND);
        s->Add(grid, 0, wxEXPAND | wxALL, FromDIP(12));
        message_ = new wxStaticText(this, wxID_ANY, "The server's certificate fingerprint is shown on first contact.");
        message_->Wrap(FromDIP(380));
        s->Add(message_, 0, wxLEFT | wxRIGHT, FromDIP(12));
        auto* buttons = new wxStdDialogButtonSizer;
        login_ = new wxButton(this, wxID_OK, "&Log in");
        buttons->AddButton(login_);
        buttons->AddButton(new wxButton(this, wxID_CANCEL));
        buttons->Realize();
        s->Add(buttons, 0, wxEXPAND | wxALL, FromDIP(12));
        SetSizerAndFit(s);
        login_->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) { start(); });
        password_->Bind(wxEVT_TEXT_ENTER, [this](wxCommandEvent&) { start(); });
        totp_->Bind(wxEVT_TEXT_ENTER, [this](wxCommandEvent&) { start(); });
        (pins.last_server().empty() ? server_ : username_)->SetFocus();
        if (!username.empty() && !password.empty()) {
            username_->ChangeValue(u8(username));
            password_->ChangeValue(wxString::FromUTF8(password.data(), password.size()));
            // Start once shown, so a first contact's fingerprint question has a parent window.
            Bind(wxEVT_INIT_DIALOG, [this](wxInitDialogEvent& e) {
                e.Skip();
                CallAfter([this] { start(); });
            });
        }
    }

    Endpoint endpoint;
    bool offline = false;  ///< the server did not answer; its pinned certificate is used
    std::string username() const { return username_->GetValue().utf8_string(); }
    std::string password() const { return password_->GetValue().utf8_string(); }
    std::string totp() const { return totp_->GetValue().utf8_string(); }

private:
    void say(const std::string& text) {
        message_->SetLabel(u8(text));
        message_->Wrap(FromDIP(380));
        Fit();
    }

    void start() {
        auto parsed = parse_endpoint(server_->GetValue().utf8_string());
        if (!parsed) {
            say(parsed.error().describe());
            return;
        }
        endpoint = *parsed;
        login_->Disable();
        say("Contacting " + endpoint.key() + "\u2026");
        probe_fingerprint(endpoint, [this](Result<std::string> fp) { on_fingerprint(std::move(fp)); });
    }

    void on_fingerprint(Result<std::string> fp) {
        login_->Enable();
        const auto key = endpoint.key();
        if (!fp) {
            if (!pins_.pinned(key).empty() && !username().empty() && !password().empty()) {
                // Known server, not answering: open the offline cache and keep trying in the
                // background with the pinned certificate.
                offline = true;
                pins_.set_last_server(key);
                EndModal(wxID_OK);
                return;
            }
            say("Cannot reach the server: " + fp.error().message);
            return;
        }
        switch (check_pin(pins_.pinned(key), *fp, vouched_)) {
            case PinVerdict::trusted: break;
            case PinVerdict::changed_as_vouched:
                // The administrator gave this very fingerprint out of band: a renewed certificate.
                pins_.pin(key, *fp);
                break;
            case PinVerdict::changed:
                // The fingerprint on lines of its own: as one unbreakable word it defeated the
                // label's wrapping and pushed the dialog, buttons and all, off the screen.
                say("REFUSED: the certificate of " + key + " has changed since you last connected. Its "
                    "SHA-256 fingerprint is now:\n" + format_fingerprint(fp->substr(0, fp->size() / 2)) + "\n" +
                    format_fingerprint(fp->substr(fp->size() / 2)) +
                    "\nThis can mean someone is intercepting the connection. Ask your administrator; if they "
                    "confirm this fingerprint, start the app with --fingerprint and it to trust the new "
                    "certificate.");
                return;
            case PinVerdict::first_contact: {
                const auto answer = wxMessageBox(
                    u8("First contact with " + key + ".\n\nIts certificate's SHA-256 fingerprint is:\n" +
                       format_fingerprint(*fp) + "\n\nCompare it with the one your administrator gave you. Trust it?"),
                    "New server certificate", wxYES_NO | wxNO_DEFAULT | wxICON_QUESTION, this);
                if (answer != wxYES) {
                    say("Not trusted; nothing was sent.");
                    return;
                }
                pins_.pin(key, *fp);
                break;
            }
        }
        pins_.set_last_server(key);
        if (auto saved = pins_.save(); !saved) say("Could not save the pinned certificate: " + saved.error().describe());
        EndModal(wxID_OK);
    }

    PinStore& pins_;
    const std::string vouched_;
    wxTextCtrl* server_;
    wxTextCtrl* username_;
    wxTextCtrl* password_;
    wxTextCtrl* totp_;
    wxStaticText* message_;
    wxButton* login_;
};

}  // namespace

void install_wx_poster() {
    {
        const std::lock_guard lock(g_poster_mutex);
        g_app_alive = true;
    }
    ui::set_poster([](ui::Task task) {
        // CallAfter queues an event and is safe from any thread; the flag (under the lock that
        // uninstall takes) makes a post after shutdown a no-op instead of a use-after-free.
        const std::lock_guard lock(g_poster_mutex);
        if (g_app_alive && wxTheApp != nullptr) wxTheApp->CallAfter([task = std::move(task)] { task(); });
    });
}

void uninstall_wx_poster() {
    const std::lock_guard lock(g_poster_mutex);
    g_app_alive = false;
}

MainFrame* open_demo_window(Model& model, PasswordVerifier& verifier) {
    model.set_self(demo_self());
    for (const auto& e : demo_events(now_ms())) model.apply(e);
    for (const auto& e : demo_assessment_events(model, now_ms())) model.apply(e);
    verifier.set("demo");
    auto* frame = new MainFrame(model, verifier, true);
    frame->set_action_sink([&model, frame](const ActionRequest& action) {
        for (const auto& e : demo_bridge_events(model, action, now_ms())) {
            const auto outcome = model.apply(e);
            frame->on_event(e, outcome, true);
        }
        // The stand-in bridge answers nothing else, but an export waits for its audit's answer.
        if (action.kind == "report_exported") frame->on_action_result(action.action_id, true, {});
        return true;
    });
    frame->set_online(true, "Demo mode: synthetic data, no bridge");
    frame->refresh_all();
    frame->on_caught_up(model.cursor());
    return frame;
}

ClinicianApp::ClinicianApp() = default;
ClinicianApp::~ClinicianApp() = default;

bool ClinicianApp::OnInit() {
    wxCmdLineParser cmd(argc, argv);
    cmd.AddSwitch("", "demo", "open a built-in synthetic clinic (no bridge, password 'demo')");
    cmd.AddOption("", "server", "bridge address host:port (remembered, never the password)");
    cmd.AddOption("", "user", "username to log in with at start (with --password-file)");
    cmd.AddOption("", "password-file",
                  "log in at start with the first line of FILE as the password; FILE must be yours and mode 0600");
    cmd.AddOption("", "fingerprint",
                  "the server certificate's SHA-256 fingerprint as your administrator gave it: trusted on "
                  "first contact without asking, and in place of the pinned one when the server presents "
                  "exactly it (a renewed certificate); any other changed certificate is refused");
    cmd.AddSwitch("h", "help", "show this help", wxCMD_LINE_OPTION_HELP);
    if (cmd.Parse() != 0) return false;
    SetAppName("tandem-clinician");
    install_wx_poster();
    if (cmd.Found("demo")) {
        frame_ = open_demo_window(model_, verifier_);
        forget_frame_on_close();
        frame_->Show();
        return true;
    }
    wxString server;
    wxString user;
    wxString password_file;
    cmd.Found("server", &server);
    cmd.Found("user", &user);
    cmd.Found("password-file", &password_file);
    wxString fingerprint_text;
    std::string fingerprint;
    if (cmd.Found("fingerprint", &fingerprint_text)) {
        fingerprint = normalise_fingerprint(fingerprint_text.utf8_string());
        if (fingerprint.empty()) {
            std::fprintf(stderr, "tandem-clinician: --fingerprint needs a SHA-256 fingerprint (64 hex digits)\n");
            wxMessageBox("--fingerprint needs a SHA-256 fingerprint (64 hex digits, colons allowed).", "Tandem",
                         wxOK | wxICON_ERROR);
            return false;
        }
    }
    if (user.empty() != password_file.empty()) {
        wxMessageBox("--user and --password-file go together.", "Tandem", wxOK | wxICON_ERROR);
        return false;
    }
    SecretBuffer password;
    if (!password_file.empty()) {
        auto read = read_password_file(password_file.utf8_string());
        if (!read) {
            // Also on stderr: kiosk and demo scripts have no one watching the dialog.
            std::fprintf(stderr, "tandem-clinician: %s\n", read.error().message.c_str());
            wxMessageBox(u8(read.error().message), "Tandem", wxOK | wxICON_ERROR);
            return false;
        }
        password = std::move(*read);
    }
    return log_in(server.utf8_string(), user.utf8_string(), std::move(password), fingerprint);
}

bool ClinicianApp::log_in(const std::string& server, const std::string& user, SecretBuffer password,
                          const std::string& trusted_fingerprint) {
    PinStore pins(PinStore::default_path());
    if (auto loaded = pins.load(); !loaded) {
        wxMessageBox(u8("The pinned-server file is damaged: " + loaded.error().describe()), "Tandem", wxOK | wxICON_ERROR);
        return false;
    }
    // A fingerprint given out of band answers the first-contact question in advance; it replaces
    // an existing pin only when the server presents exactly it (the dialog checks), so any other
    // changed certificate is still refused.
    if (!trusted_fingerprint.empty()) {
        if (auto endpoint = parse_endpoint(server); endpoint && pins.pinned(endpoint->key()).empty()) {
            pins.pin(endpoint->key(), trusted_fingerprint);
        }
    }
    LoginDialog dialog(pins, server, user,
                       std::string_view(reinterpret_cast<const char*>(password.bytes().data()), password.size()),
                       trusted_fingerprint);
    password.wipe();
    if (dialog.ShowModal() != wxID_OK) return false;
    LiveOptions options;
    options.endpoint = dialog.endpoint;
    options.pinned_fingerprint = pins.pinned(dialog.endpoint.key());
    options.username = dialog.username();
    options.password = SecretBuffer::copy_of(dialog.password());
    options.totp = dialog.totp();
    options.cache_dir = default_cache_dir(dialog.endpoint.key(), options.username, options.pinned_fingerprint);
    wxBusyCursor busy;  // the cache key's Argon2 takes a moment
    live_ = std::make_unique<LiveSession>(model_, verifier_, std::move(options));
    frame_ = live_->frame();
    forget_frame_on_close();
    frame_->Show();
    live_->start();
    return true;
}

void ClinicianApp::forget_frame_on_close() {
    frame_->Bind(wxEVT_CLOSE_WINDOW, [this](wxCloseEvent& e) {
        // Stop the network (and write the cache) before the window, the session's listener, goes.
        if (live_) live_->stop();
        frame_ = nullptr;
        e.Skip();
    });
}

int ClinicianApp::OnExit() {
    uninstall_wx_poster();
    if (live_) live_->stop();
    return wxApp::OnExit();
}

int ClinicianApp::FilterEvent(wxEvent& event) {
    const auto type = event.GetEventType();
    if (frame_ != nullptr && (type == wxEVT_KEY_DOWN || type == wxEVT_LEFT_DOWN || type == wxEVT_MOTION ||
                              type == wxEVT_MOUSEWHEEL)) {
        frame_->note_activity();
    }
    return Event_Skip;
}

}  // namespace tandem::clinician::views
