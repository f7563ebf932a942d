#include "main_frame.h"

#include <algorithm>
#include <utility>

#include <wx/button.h>
#include <wx/checkbox.h>
#include <wx/choice.h>
#include <wx/choicdlg.h>
#include <wx/listctrl.h>
#include <wx/log.h>
#include <wx/menu.h>
#include <wx/msgdlg.h>
#include <wx/notebook.h>
#include <wx/notifmsg.h>
#include <wx/panel.h>
#include <wx/sizer.h>
#include <wx/splitter.h>
#include <wx/statbox.h>
#include <wx/stattext.h>
#include <wx/statusbr.h>
#include <wx/textctrl.h>
#include <wx/textdlg.h>

#include "outcome_pane.h"
#include "tandem/clinician/demo.h"
#include "tandem/clinician/severity_style.h"
#include "view_util.h"

namespace tandem::clinician::views {

MainFrame::MainFrame(Model& model, PasswordVerifier& verifier, bool demo)
    : wxFrame(nullptr, wxID_ANY, "Tandem Clinician", wxDefaultPosition, wxSize(1360, 860)),
      model_(model),
      verifier_(verifier),
      demo_(demo),
      timer_(this) {
    lock_.set_idle(std::chrono::minutes{model_.policy().idle_lock_minutes});
    CreateStatusBar(2);
    // Half each: the connection field also carries notes (a damaged cache set aside, a bridge
    // behind the cache) that a fixed 340 px cut off mid-word.
    const int widths[] = {-1, -1};
    GetStatusBar()->SetStatusWidths(2, widths);
    build_menus();
    build_body();
    Bind(wxEVT_TIMER, [this](wxTimerEvent&) { on_tick(); }, timer_.GetId());
    timer_.Start(250);
    SetMinSize(FromDIP(wxSize(1000, 600)));
    // Fit small screens (1366x768 laptops) instead of opening larger than the display.
    const wxRect screen = wxGetClientDisplayRect();
    SetSize(std::min(GetSize().x, screen.width), std::min(GetSize().y, screen.height));
}

MainFrame::~MainFrame() { timer_.Stop(); }

void MainFrame::build_menus() {
    auto* bar = new wxMenuBar;
    auto* file = new wxMenu;
    file->Append(id_lock, "&Lock\tCtrl+L", "Lock the window now");
    file->AppendSeparator();
    file->Append(wxID_EXIT, "&Quit\tCtrl+Q");
    bar->Append(file, "&File");

    auto* view = new wxMenu;
    view->Append(id_show_flags, "&Flag Queue\tCtrl+1");
    view->Append(id_show_caseload, "&Caseload\tCtrl+2");
    view->Append(id_show_supervisor, "&Supervisor\tCtrl+3");
    view->AppendSeparator();
    view->Append(id_search, "&Search Caseload\tCtrl+F");
    bar->Append(view, "&View");

    auto* flag = new wxMenu;
    flag->Append(id_next_flag, "&Next Flag\tCtrl+J");
    flag->Append(id_previous_flag, "&Previous Flag\tCtrl+K");
    flag->AppendSeparator();
    flag->Append(id_acknowledge, "&Acknowledge\tCtrl+Shift+A");
    flag->Append(id_add_note, u8("Add &Note…\tCtrl+Shift+N"));
    flag->Append(id_escalate, u8("&Escalate…\tCtrl+Shift+E"));
    flag->Append(id_resolve, u8("&Resolve…\tCtrl+Shift+R"));
    bar->Append(flag, "F&lag");

    auto* patient = new wxMenu;
    patient->Append(id_open_patient, "&Open Patient\tCtrl+O", "Open the selected flag's or row's patient");
    patient->Append(id_focus_composer, "&Focus Composer\tCtrl+M");
    patient->AppendSeparator();
    patient->Append(id_pause_ai, "&Pause or Resume AI\tCtrl+Shift+P");
    patient->Append(id_clear_crisis, u8("&Clear Crisis…"));
    patient->Append(id_reassign, u8("Re&assign…"));
    patient->Append(id_plan_review, u8("&Treatment Plan…\tCtrl+Shift+T"), "Review, edit and approve the treatment plan");
    if (demo_) {
        patient->AppendSeparator();
        patient->Append(id_simulate_flag, "Simulate a &New Flag (demo)\tCtrl+Shift+D");
    }
    bar->Append(patient, "&Patient");

    auto* help = new wxMenu;
    help->Append(id_shortcuts, "&Keyboard Shortcuts");
    help->Append(wxID_ABOUT, "&About");
    bar->Append(help, "&Help");
    SetMenuBar(bar);

    Bind(wxEVT_MENU, [this](wxCommandEvent&) { Close(); }, wxID_EXIT);
    Bind(wxEVT_MENU, [this](wxCommandEvent&) { lock_now(); }, id_lock);
    Bind(wxEVT_MENU, [this](wxCommandEvent&) { tabs_->SetSelection(0); }, id_show_flags);
    Bind(wxEVT_MENU, [this](wxCommandEvent&) { tabs_->SetSelection(1); }, id_show_caseload);
    Bind(wxEVT_MENU, [this](wxCommandEvent&) { tabs_->SetSelection(2); }, id_show_supervisor);
    Bind(wxEVT_MENU, [this](wxCommandEvent&) {
        tabs_->SetSelection(1);
        search_->SetFocus();
    }, id_search);
    Bind(wxEVT_MENU, &MainFrame::on_next_flag, this, id_next_flag);
    Bind(wxEVT_MENU, &MainFrame::on_previous_flag, this, id_previous_flag);
    // The pane buttons share these ids; a click is a wxEVT_BUTTON, which a wxEVT_MENU binding
    // never sees, so each handler takes both.
    using Handler = void (MainFrame::*)(wxCommandEvent&);
    const std::pair<int, Handler> commands[] = {
        {id_acknowledge, &MainFrame::on_acknowledge}, {id_add_note, &MainFrame::on_add_note},
        {id_escalate, &MainFrame::on_escalate},       {id_resolve, &MainFrame::on_resolve},
        {id_pause_ai, &MainFrame::on_pause_ai},       {id_clear_crisis, &MainFrame::on_clear_crisis}};
    for (const auto& [id, handler] : commands) {
        Bind(wxEVT_MENU, handler, this, id);
        Bind(wxEVT_BUTTON, handler, this, id);
    }
    Bind(wxEVT_MENU, &MainFrame::on_reassign, this, id_reassign);
    Bind(wxEVT_MENU, [this](wxCommandEvent&) { open_plan_review(plan_patient()); }, id_plan_review);
    Bind(wxEVT_MENU, [this](wxCommandEvent&) {
        if (tabs_->GetSelection() == 1) {
            const long sel = caseload_list_->GetNextItem(-1, wxLIST_NEXT_ALL, wxLIST_STATE_SELECTED);
            if (sel >= 0) open_patient(caseload_.row(static_cast<std::size_t>(sel)).patient_id);
        } else if (const auto* f = model_.flag(selected_flag_)) {
            open_patient(f->patient_id);
        }
    }, id_open_patient);
    Bind(wxEVT_MENU, [this](wxCommandEvent&) { composer_->SetFocus(); }, id_focus_composer);
    Bind(wxEVT_MENU, [this](wxCommandEvent&) {
        for (const auto& e : demo_live_flag(now_ms(), model_.cursor(), ++demo_serial_)) {
            const auto outcome = model_.apply(e);
            on_event(e, outcome, true);
        }
        refresh_all();
    }, id_simulate_flag);
    Bind(wxEVT_MENU, [this](wxCommandEvent&) {
        wxMessageBox("Ctrl+J / Ctrl+K\tnext / previous flag\nCtrl+Shift+A\tacknowledge the selected flag\n"
                     "Ctrl+O\topen the patient\nCtrl+M\tfocus the message composer\nCtrl+F\tsearch the caseload\n"
                     "Ctrl+1/2/3\tflags / caseload / supervisor\nCtrl+Shift+T\ttreatment plan\nCtrl+L\tlock now",
                     "Keyboard shortcuts", wxOK, this);
    }, id_shortcuts);
    Bind(wxEVT_MENU, [this](wxCommandEvent&) {
        wxMessageBox("Tandem Clinician\nClinician-supervised hybrid mental-health care.", "About", wxOK, this);
    }, wxID_ABOUT);
}

void MainFrame::build_body() {
    root_ = new wxPanel(this);
    root_sizer_ = new wxBoxSizer(wxVERTICAL);
    content_ = new wxSplitterWindow(root_, wxID_ANY, wxDefaultPosition, wxDefaultSize, wxSP_LIVE_UPDATE | wxSP_3DSASH);
    content_->SetMinimumPaneSize(FromDIP(360));

    // Left: flag queue, caseload and supervisor tabs; right: the open patient.
    tabs_ = new wxNotebook(content_, wxID_ANY);
    build_flag_page();
    build_caseload_page();
    build_supervisor_page();
    wxWindow* right = build_conversation_pane();
    // A negative position sizes the right pane: the conversation gets 720 px, the lists the rest.
    content_->SplitVertically(tabs_, right, -FromDIP(720));
    content_->SetSashGravity(0.5);
    build_lock_panel();
    root_sizer_->Add(content_, 1, wxEXPAND);
    root_sizer_->Add(lock_panel_, 1, wxEXPAND);
    root_->SetSizer(root_sizer_);
}

void MainFrame::build_lock_panel() {
    // Lock overlay: replaces everything readable with a password prompt.
    lock_panel_ = new wxPanel(root_);
    auto* ls = new wxBoxSizer(wxVERTICAL);
    auto* title = new wxStaticText(lock_panel_, wxID_ANY, "Tandem is locked");
    title->SetFont(heading_font(*title));
    lock_message_ = new wxStaticText(lock_panel_, wxID_ANY, "Enter your password to continue.");
    lock_password_ = new wxTextCtrl(lock_panel_, wxID_ANY, "", wxDefaultPosition, FromDIP(wxSize(260, -1)),
                                    wxTE_PASSWORD | wxTE_PROCESS_ENTER);
    auto* unlock = new wxButton(lock_panel_, wxID_ANY, "Unlock");
    ls->AddStretchSpacer();
    ls->Add(title, 0, wxALIGN_CENTER | wxALL, FromDIP(8));
    ls->Add(lock_message_, 0, wxALIGN_CENTER | wxALL, FromDIP(4));
    ls->Add(lock_password_, 0, wxALIGN_CENTER | wxALL, FromDIP(4));
    ls->Add(unlock, 0, wxALIGN_CENTER | wxALL, FromDIP(4));
    ls->AddStretchSpacer();
    lock_panel_->SetSizer(ls);
    auto do_unlock = [this](wxCommandEvent&) {
        if (!try_unlock(lock_password_->GetValue().utf8_string())) {
            lock_message_->SetLabel("Wrong password. Try again.");
            lock_panel_->Layout();
        }
        lock_password_->Clear();
    };
    unlock->Bind(wxEVT_BUTTON, do_unlock);
    lock_password_->Bind(wxEVT_TEXT_ENTER, do_unlock);
    lock_panel_->Hide();
}

void MainFrame::set_online(bool online, const std::string& status) {
    online_ = online;
    outcomes_->set_online(online);
    status_ = status;
    SetStatusText(u8(status), 1);
    refresh_actions();
}

std::string MainFrame::selected_flag_id() const { return selected_flag_; }

bool MainFrame::transcript_visible() const { return transcript_->IsShownOnScreen(); }

void MainFrame::refresh_all() {
    dirty_ = false;
    const auto now = now_ms();
    flags_.refresh(model_);
    flag_list_->now = now;
    flag_list_->SetItemCount(static_cast<long>(flags_.size()));
    const auto sel = flags_.index_of(selected_flag_);
    if (sel != FlagQueuePresenter::npos) {
        flag_list_->SetItemState(static_cast<long>(sel), wxLIST_STATE_SELECTED | wxLIST_STATE_FOCUSED,
                                 wxLIST_STATE_SELECTED | wxLIST_STATE_FOCUSED);
    }
    flag_list_->Refresh();
    caseload_.refresh(model_);
    caseload_list_->now = now;
    caseload_list_->SetItemCount(static_cast<long>(caseload_.size()));
    caseload_list_->Refresh();
    tabs_->SetPageText(0, wxString::Format("Flag queue (%zu)", flags_.size()));
    tabs_->SetPageText(1, wxString::Format("Caseload (%zu)", caseload_.size()));
    SetTitle(u8(notifications_.window_title(model_)));
    refresh_status();
    refresh_conversation();
    refresh_detail();
    refresh_supervisor();
    refresh_actions();
    refresh_plan_review();
}

void MainFrame::refresh_status() {
    std::string line = std::to_string(flags_.size()) + " open flags, " + std::to_string(flags_.overdue_count(now_ms())) +
                       " overdue \u00b7 " + model_.self().display_name;
    if (!waiting_.empty()) line += " \u00b7 " + std::to_string(waiting_.size()) + " action(s) waiting for the bridge";
    if (!last_refusal_.empty()) line += " \u00b7 last action refused: " + last_refusal_;
    SetStatusText(u8(line), 0);
}

std::string MainFrame::status_line() const { return GetStatusBar()->GetStatusText(0).utf8_string(); }

void MainFrame::send(const Result<ActionRequest>& request) {
    if (!request) {
        wxMessageBox(u8(request.error().message), "Cannot do that", wxOK | wxICON_WARNING, this);
        return;
    }
    if (!sink_ || !sink_(*request)) {
        SetStatusText("Not sent: offline", 0);
        return;
    }
    sent_.push_back(*request);
    // The demo's stand-in bridge answers by applying events at once; it sends no action_result.
    if (!demo_) waiting_.insert(request->action_id);
    last_refusal_.clear();
    refresh_status();
    mark_dirty();
}

std::string MainFrame::ask_note(const wxString& title, const wxString& prompt, bool required) {
    wxTextEntryDialog dialog(this, prompt, title, "", wxOK | wxCANCEL | wxTE_MULTILINE);
    if (dialog.ShowModal() != wxID_OK) return {};
    std::string note = dialog.GetValue().utf8_string();
    if (required && note.find_first_not_of(" \t\n") == std::string::npos) {
        wxMessageBox("A note is required.", title, wxOK | wxICON_WARNING, this);
        return {};
    }
    return note.empty() ? std::string{" "} : note;
}

void MainFrame::on_event(const StoredEvent& event, ApplyOutcome outcome, bool live) {
    if (outcome == ApplyOutcome::duplicate) return;
    mark_dirty();
    if (auto n = notifications_.on_event(model_, event, live, now_ms())) notify(*n);
}

void MainFrame::on_caught_up(std::uint64_t) {
    mark_dirty();
    if (auto n = notifications_.on_caught_up(model_)) notify(*n);
}

void MainFrame::on_logged_in(const ClinicianInfo& self) {
    // Roles and the clinic's idle time are known only after login_ok.
    lock_.set_idle(std::chrono::minutes{model_.policy().idle_lock_minutes});
    if (self.has_role(Role::supervisor) && tabs_->GetPageCount() < 3) {
        supervisor_page_->Show();
        tabs_->AddPage(supervisor_page_, "Supervisor");
    }
    mark_dirty();
}

void MainFrame::on_transcript(const std::string&, std::size_t) { mark_dirty(); }

void MainFrame::on_state(SessionState state) {
    set_online(state == SessionState::syncing || state == SessionState::live, status_text(state));
}

void MainFrame::on_action_result(const std::string& action_id, bool ok, const std::string& error) {
    waiting_.erase(action_id);
    if (!ok) last_refusal_ = error.empty() ? "no reason given" : error;
    outcomes_->on_action_result(action_id, ok, error);
    refresh_status();
    mark_dirty();
}

void MainFrame::withdraw_action(const std::string& action_id) {
    waiting_.erase(action_id);
    if (withdrawer_) withdrawer_(action_id);
    refresh_status();
}

void MainFrame::on_error(const Error& error, bool fatal) {
    SetStatusText(u8(error.describe()), 0);
    if (fatal) wxMessageBox(u8(error.describe()), "Tandem", wxOK | wxICON_ERROR, this);
}

void MainFrame::notify(const Notification& n) {
    // Shown even when the window is in the background; the body carries initials only.
    ++notifications_shown_;
    // Without a notification daemon (a bare X server, some kiosks) libnotify fails; wx would log
    // that as an error dialog, which is worse than no notification: the title badge still counts.
    wxLogNull quiet;
    wxNotificationMessage message(u8(n.title), u8(n.body), this,
                                  n.severity >= Severity::imminent ? wxICON_ERROR : wxICON_WARNING);
    message.Show(wxNotificationMessage::Timeout_Auto);
    if (IsShownOnScreen() && !IsActive()) RequestUserAttention(wxUSER_ATTENTION_ERROR);
}

void MainFrame::note_activity() { lock_.activity(now_ms()); }

void MainFrame::lock_now() {
    lock_.lock();
    // Nothing readable and nothing actionable while locked: the menus go too (their shortcuts
    // would otherwise still select and acknowledge flags behind the overlay).
    for (std::size_t i = 0; i < GetMenuBar()->GetMenuCount(); ++i) GetMenuBar()->EnableTop(i, false);
    SetStatusText("", 0);
    content_->Hide();
    lock_panel_->Show();
    lock_message_->SetLabel("Enter your password to continue.");
    root_->Layout();
    lock_password_->SetFocus();
    SetTitle(u8("Tandem Clinician \u2014 locked"));
}

bool MainFrame::try_unlock(const std::string& password) {
    if (!lock_.unlock(verifier_, password, now_ms())) return false;
    lock_panel_->Hide();
    for (std::size_t i = 0; i < GetMenuBar()->GetMenuCount(); ++i) GetMenuBar()->EnableTop(i, true);
    content_->Show();
    root_->Layout();
    refresh_all();
    return true;
}

void MainFrame::on_tick() {
    const auto now = now_ms();
    // Before the lock: an export's deadline passes while the window is locked too, and its
    // action must stop waiting (and stop being resent) then, not at unlock.
    outcomes_->expire_exports();
    if (lock_.tick(now)) lock_now();
    if (lock_.locked()) return;
    if (dirty_) {
        refresh_all();
        return;
    }
    // A fetched `assessments` reply changes no other view: only the outcome panes look for it.
    outcomes_->refresh_if_changed();
    if (supervisor_outcomes_ != nullptr && supervisor_outcomes_->IsShownOnScreen()) supervisor_outcomes_->refresh_if_changed();
    // Countdowns move every second; only the visible rows are redrawn.
    flag_list_->now = now;
    caseload_list_->now = now;
    if (flags_.size() > 0) flag_list_->RefreshItems(flag_list_->GetTopItem(),
                                                    std::min<long>(static_cast<long>(flags_.size()) - 1,
                                                                   flag_list_->GetTopItem() + flag_list_->GetCountPerPage()));
}
}  // namespace tandem::clinician::views
