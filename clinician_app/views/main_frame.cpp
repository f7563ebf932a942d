#include "main_frame.h"

#include <algorithm>

#include <wx/button.h>
#include <wx/checkbox.h>
#include <wx/choice.h>
#include <wx/choicdlg.h>
#include <wx/listctrl.h>
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

#include "tandem/clinician/demo.h"
#include "tandem/clinician/severity_style.h"
#include "tandem/clinician/supervisor.h"

namespace tandem::clinician::views {
namespace {

wxString u8(const std::string& s) { return wxString::FromUTF8(s.data(), s.size()); }
wxColour colour(Rgb c) { return wxColour(c.r, c.g, c.b); }

}  // namespace

/// The flag queue as a virtual list: rows come from the presenter by index, so 50,000 flags cost
/// nothing until they scroll into view.
class FlagList : public wxListCtrl {
public:
    FlagList(wxWindow* parent, const FlagQueuePresenter& presenter)
        : wxListCtrl(parent, wxID_ANY, wxDefaultPosition, wxDefaultSize, wxLC_REPORT | wxLC_VIRTUAL | wxLC_SINGLE_SEL),
          presenter_(presenter) {
        AppendColumn("Severity", wxLIST_FORMAT_LEFT, FromDIP(110));
        AppendColumn("Patient", wxLIST_FORMAT_LEFT, FromDIP(140));
        AppendColumn("Deadline", wxLIST_FORMAT_LEFT, FromDIP(120));
        AppendColumn("Status", wxLIST_FORMAT_LEFT, FromDIP(110));
        AppendColumn("Categories", wxLIST_FORMAT_LEFT, FromDIP(200));
    }
    TimePoint now = now_ms();

private:
    wxString OnGetItemText(long item, long column) const override {
        return u8(presenter_.cell(static_cast<std::size_t>(item), static_cast<int>(column), now));
    }
    wxItemAttr* OnGetItemAttr(long item) const override {
        const auto& row = presenter_.row(static_cast<std::size_t>(item));
        const auto& style = severity_style(row.severity);
        attr_.SetTextColour(colour(style.colour));
        attr_.SetBackgroundColour(colour(style.background));
        wxFont font = GetFont();
        // Overdue flags stand out by weight and by their "OVERDUE" text, not by colour alone.
        if (countdown(row, now).overdue) font.SetWeight(wxFONTWEIGHT_BOLD);
        attr_.SetFont(font);
        return &attr_;
    }
    const FlagQueuePresenter& presenter_;
    mutable wxItemAttr attr_;
};

/// The caseload as a virtual list (5,000 patients stay fast).
class CaseloadList : public wxListCtrl {
public:
    CaseloadList(wxWindow* parent, const CaseloadPresenter& presenter)
        : wxListCtrl(parent, wxID_ANY, wxDefaultPosition, wxDefaultSize, wxLC_REPORT | wxLC_VIRTUAL | wxLC_SINGLE_SEL),
          presenter_(presenter) {
        AppendColumn("Open severity", wxLIST_FORMAT_LEFT, FromDIP(100));
        AppendColumn("Patient", wxLIST_FORMAT_LEFT, FromDIP(140));
        AppendColumn("State", wxLIST_FORMAT_LEFT, FromDIP(150));
        AppendColumn("Flags", wxLIST_FORMAT_RIGHT, FromDIP(50));
        AppendColumn("Last activity", wxLIST_FORMAT_LEFT, FromDIP(90));
        AppendColumn("Therapist", wxLIST_FORMAT_LEFT, FromDIP(120));
    }
    TimePoint now = now_ms();

private:
    wxString OnGetItemText(long item, long column) const override {
        return u8(presenter_.cell(static_cast<std::size_t>(item), static_cast<int>(column), now));
    }
    wxItemAttr* OnGetItemAttr(long item) const override {
        const auto& row = presenter_.row(static_cast<std::size_t>(item));
        if (row.open_flags == 0 && !row.in_crisis) return nullptr;
        const auto& style = severity_style(row.in_crisis ? std::max(row.highest_open, Severity::high) : row.highest_open);
        attr_.SetTextColour(colour(style.colour));
        attr_.SetBackgroundColour(colour(style.background));
        return &attr_;
    }
    const CaseloadPresenter& presenter_;
    mutable wxItemAttr attr_;
};

MainFrame::MainFrame(Model& model, PasswordVerifier& verifier, bool demo)
    : wxFrame(nullptr, wxID_ANY, "Tandem Clinician", wxDefaultPosition, wxSize(1360, 860)),
      model_(model),
      verifier_(verifier),
      demo_(demo),
      timer_(this) {
    lock_.set_idle(std::chrono::minutes{model_.policy().idle_lock_minutes});
    CreateStatusBar(2);
    const int widths[] = {-1, FromDIP(340)};
    GetStatusBar()->SetStatusWidths(2, widths);
    build_menus();
    build_body();
    Bind(wxEVT_TIMER, [this](wxTimerEvent&) { on_tick(); });
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
    Bind(wxEVT_MENU, &MainFrame::on_acknowledge, this, id_acknowledge);
    Bind(wxEVT_MENU, &MainFrame::on_add_note, this, id_add_note);
    Bind(wxEVT_MENU, &MainFrame::on_escalate, this, id_escalate);
    Bind(wxEVT_MENU, &MainFrame::on_resolve, this, id_resolve);
    Bind(wxEVT_MENU, &MainFrame::on_pause_ai, this, id_pause_ai);
    Bind(wxEVT_MENU, &MainFrame::on_clear_crisis, this, id_clear_crisis);
    Bind(wxEVT_MENU, &MainFrame::on_reassign, this, id_reassign);
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
                     "Ctrl+1/2/3\tflags / caseload / supervisor\nCtrl+L\tlock now",
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

    // Left: flag queue, caseload and supervisor tabs.
    tabs_ = new wxNotebook(content_, wxID_ANY);
    auto* flags_page = new wxPanel(tabs_);
    auto* flags_sizer = new wxBoxSizer(wxVERTICAL);
    flag_list_ = new FlagList(flags_page, flags_);
    flags_sizer->Add(flag_list_, 1, wxEXPAND | wxALL, FromDIP(4));
    flags_page->SetSizer(flags_sizer);
    tabs_->AddPage(flags_page, "Flag queue");

    auto* caseload_page = new wxPanel(tabs_);
    auto* caseload_sizer = new wxBoxSizer(wxVERTICAL);
    auto* filter_row = new wxBoxSizer(wxHORIZONTAL);
    search_ = new wxTextCtrl(caseload_page, wxID_ANY);
    search_->SetHint("Search patients");
    filter_ = new wxChoice(caseload_page, wxID_ANY);
    for (const char* label : {"All patients", "My patients", "In crisis", "With open flags", "High or imminent"}) {
        filter_->Append(label);
    }
    filter_->SetSelection(0);
    filter_row->Add(search_, 1, wxRIGHT, FromDIP(6));
    filter_row->Add(filter_, 0);
    caseload_sizer->Add(filter_row, 0, wxEXPAND | wxALL, FromDIP(4));
    caseload_list_ = new CaseloadList(caseload_page, caseload_);
    caseload_sizer->Add(caseload_list_, 1, wxEXPAND | wxLEFT | wxRIGHT | wxBOTTOM, FromDIP(4));
    caseload_page->SetSizer(caseload_sizer);
    tabs_->AddPage(caseload_page, "Caseload");

    auto* sup_page = new wxPanel(tabs_);
    auto* sup_sizer = new wxBoxSizer(wxVERTICAL);
    sup_sizer->Add(new wxStaticText(sup_page, wxID_ANY, "Open and overdue flags per therapist; time from flag to acknowledgement"),
                   0, wxALL, FromDIP(4));
    stats_list_ = new wxListCtrl(sup_page, wxID_ANY, wxDefaultPosition, wxDefaultSize, wxLC_REPORT | wxLC_SINGLE_SEL);
    for (const auto& [label, width] : std::initializer_list<std::pair<const char*, int>>{
             {"Therapist", 140}, {"Patients", 70}, {"Open", 50}, {"Overdue", 70}, {"Median to ack", 100}, {"p90 to ack", 90}}) {
        stats_list_->AppendColumn(label, wxLIST_FORMAT_LEFT, FromDIP(width));
    }
    sup_sizer->Add(stats_list_, 1, wxEXPAND | wxLEFT | wxRIGHT, FromDIP(4));
    sup_sizer->Add(new wxStaticText(sup_page, wxID_ANY, "Audit trail (newest first; the open patient only when one is open)"),
                   0, wxALL, FromDIP(4));
    audit_list_ = new wxListCtrl(sup_page, wxID_ANY, wxDefaultPosition, wxDefaultSize, wxLC_REPORT | wxLC_SINGLE_SEL);
    for (const auto& [label, width] : std::initializer_list<std::pair<const char*, int>>{
             {"Time", 60}, {"Clinician", 130}, {"What", 150}, {"Patient", 140}}) {
        audit_list_->AppendColumn(label, wxLIST_FORMAT_LEFT, FromDIP(width));
    }
    sup_sizer->Add(audit_list_, 1, wxEXPAND | wxLEFT | wxRIGHT | wxBOTTOM, FromDIP(4));
    auto* reassign = new wxButton(sup_page, id_reassign, u8("Reassign open patient…"));
    sup_sizer->Add(reassign, 0, wxALL, FromDIP(4));
    sup_page->SetSizer(sup_sizer);
    supervisor_page_ = sup_page;
    if (model_.self().has_role(Role::supervisor)) tabs_->AddPage(sup_page, "Supervisor");
    else sup_page->Hide();

    // Right: the patient's conversation with its flag detail, held replies and composer.
    auto* right = new wxPanel(content_);
    auto* rs = new wxBoxSizer(wxVERTICAL);
    auto* head_row = new wxBoxSizer(wxHORIZONTAL);
    header_ = new wxStaticText(right, wxID_ANY, "No patient selected", wxDefaultPosition, wxDefaultSize,
                               wxST_ELLIPSIZE_END);
    wxFont big = header_->GetFont();
    big.SetPointSize(big.GetPointSize() + 2);
    big.SetWeight(wxFONTWEIGHT_BOLD);
    header_->SetFont(big);
    head_row->Add(header_, 1, wxALIGN_CENTER_VERTICAL);
    pause_button_ = new wxButton(right, id_pause_ai, "Pause AI");
    crisis_button_ = new wxButton(right, id_clear_crisis, u8("Clear crisis…"));
    head_row->Add(pause_button_, 0, wxLEFT, FromDIP(6));
    head_row->Add(crisis_button_, 0, wxLEFT, FromDIP(6));
    rs->Add(head_row, 0, wxEXPAND | wxALL, FromDIP(6));
    action_reason_ = new wxStaticText(right, wxID_ANY, "");
    action_reason_->SetForegroundColour(wxColour(120, 60, 0));
    rs->Add(action_reason_, 0, wxLEFT | wxRIGHT, FromDIP(6));

    auto* detail_box = new wxStaticBoxSizer(wxVERTICAL, right, "Selected flag: evidence in context");
    detail_ = new wxTextCtrl(detail_box->GetStaticBox(), wxID_ANY, "", wxDefaultPosition, FromDIP(wxSize(-1, 150)),
                             wxTE_MULTILINE | wxTE_READONLY | wxTE_RICH2);
    detail_box->Add(detail_, 1, wxEXPAND | wxALL, FromDIP(2));
    auto* flag_buttons = new wxBoxSizer(wxHORIZONTAL);
    ack_button_ = new wxButton(detail_box->GetStaticBox(), id_acknowledge, "Acknowledge");
    note_button_ = new wxButton(detail_box->GetStaticBox(), id_add_note, u8("Add note…"));
    escalate_button_ = new wxButton(detail_box->GetStaticBox(), id_escalate, u8("Escalate…"));
    resolve_button_ = new wxButton(detail_box->GetStaticBox(), id_resolve, u8("Resolve…"));
    for (auto* b : {ack_button_, note_button_, escalate_button_, resolve_button_}) flag_buttons->Add(b, 0, wxRIGHT, FromDIP(6));
    detail_box->Add(flag_buttons, 0, wxALL, FromDIP(2));
    rs->Add(detail_box, 0, wxEXPAND | wxLEFT | wxRIGHT | wxTOP, FromDIP(6));

    rs->Add(new wxStaticText(right, wxID_ANY, "Conversation (evidence highlighted; hover for the rule's rationale)"), 0,
            wxLEFT | wxTOP, FromDIP(6));
    transcript_ = new wxTextCtrl(right, wxID_ANY, "", wxDefaultPosition, wxDefaultSize,
                                 wxTE_MULTILINE | wxTE_READONLY | wxTE_RICH2);
    rs->Add(transcript_, 1, wxEXPAND | wxLEFT | wxRIGHT, FromDIP(6));
    transcript_->Bind(wxEVT_MOTION, [this](wxMouseEvent& e) {
        long pos = 0;
        if (transcript_->HitTest(e.GetPosition(), &pos) == wxTE_HT_ON_TEXT) {
            for (const auto& h : transcript_spans_) {
                if (pos >= static_cast<long>(h.cp_begin) && pos < static_cast<long>(h.cp_end)) {
                    transcript_->SetToolTip(u8(h.rationale + (h.rule_id.empty() ? "" : "  [" + h.rule_id + "]")));
                    e.Skip();
                    return;
                }
            }
        }
        transcript_->UnsetToolTip();
        e.Skip();
    });

    held_panel_ = new wxPanel(right);
    held_panel_->SetBackgroundColour(wxColour(255, 246, 225));
    auto* hs = new wxBoxSizer(wxVERTICAL);
    held_label_ = new wxStaticText(held_panel_, wxID_ANY, "AI reply held for review (not sent to the patient)");
    wxFont bold = held_label_->GetFont();
    bold.SetWeight(wxFONTWEIGHT_BOLD);
    held_label_->SetFont(bold);
    hs->Add(held_label_, 0, wxALL, FromDIP(4));
    held_text_ = new wxTextCtrl(held_panel_, wxID_ANY, "", wxDefaultPosition, FromDIP(wxSize(-1, 54)), wxTE_MULTILINE);
    hs->Add(held_text_, 0, wxEXPAND | wxLEFT | wxRIGHT, FromDIP(4));
    auto* held_buttons = new wxBoxSizer(wxHORIZONTAL);
    release_button_ = new wxButton(held_panel_, wxID_ANY, "Release as written");
    edit_button_ = new wxButton(held_panel_, wxID_ANY, "Edit and send");
    discard_button_ = new wxButton(held_panel_, wxID_ANY, "Discard");
    for (auto* b : {release_button_, edit_button_, discard_button_}) held_buttons->Add(b, 0, wxRIGHT, FromDIP(6));
    hs->Add(held_buttons, 0, wxALL, FromDIP(4));
    held_panel_->SetSizer(hs);
    rs->Add(held_panel_, 0, wxEXPAND | wxLEFT | wxRIGHT | wxTOP, FromDIP(6));
    release_button_->Bind(wxEVT_BUTTON, &MainFrame::on_release, this);
    edit_button_->Bind(wxEVT_BUTTON, &MainFrame::on_edit_send, this);
    discard_button_->Bind(wxEVT_BUTTON, &MainFrame::on_discard, this);

    auto* compose_row = new wxBoxSizer(wxHORIZONTAL);
    composer_ = new wxTextCtrl(right, wxID_ANY, "", wxDefaultPosition, FromDIP(wxSize(-1, 48)), wxTE_MULTILINE);
    composer_->SetHint("Message the patient as their clinician");
    send_button_ = new wxButton(right, wxID_ANY, "Send");
    compose_row->Add(composer_, 1, wxEXPAND | wxRIGHT, FromDIP(6));
    compose_row->Add(send_button_, 0, wxALIGN_BOTTOM);
    rs->Add(compose_row, 0, wxEXPAND | wxALL, FromDIP(6));
    send_button_->Bind(wxEVT_BUTTON, &MainFrame::on_send_message, this);
    right->SetSizer(rs);
    // A negative position sizes the right pane: the conversation gets 720 px, the lists the rest.
    content_->SplitVertically(tabs_, right, -FromDIP(720));
    content_->SetSashGravity(0.5);

    // Lock overlay: replaces everything readable with a password prompt.
    lock_panel_ = new wxPanel(root_);
    auto* ls = new wxBoxSizer(wxVERTICAL);
    auto* title = new wxStaticText(lock_panel_, wxID_ANY, "Tandem is locked");
    title->SetFont(big);
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

    root_sizer_->Add(content_, 1, wxEXPAND);
    root_sizer_->Add(lock_panel_, 1, wxEXPAND);
    root_->SetSizer(root_sizer_);

    flag_list_->Bind(wxEVT_LIST_ITEM_SELECTED, [this](wxListEvent& e) {
        const auto index = static_cast<std::size_t>(e.GetIndex());
        if (index < flags_.size()) {
            selected_flag_ = flags_.row(index).flag_id;
            open_patient(flags_.row(index).patient_id);
        }
    });
    caseload_list_->Bind(wxEVT_LIST_ITEM_SELECTED, [this](wxListEvent& e) {
        const auto index = static_cast<std::size_t>(e.GetIndex());
        if (index < caseload_.size()) open_patient(caseload_.row(index).patient_id);
    });
    caseload_list_->Bind(wxEVT_LIST_COL_CLICK, [this](wxListEvent& e) {
        static constexpr CaseloadSort kByColumn[] = {CaseloadSort::urgency, CaseloadSort::name, CaseloadSort::urgency,
                                                     CaseloadSort::open_flags, CaseloadSort::last_activity,
                                                     CaseloadSort::therapist};
        const auto col = std::clamp(e.GetColumn(), 0, 5);
        const auto sort = kByColumn[col];
        caseload_.set_sort(sort, sort == caseload_.sort() ? !caseload_.descending() : sort != CaseloadSort::name);
        refresh_all();
    });
    auto refilter = [this](wxCommandEvent&) {
        CaseloadFilter f;
        f.search = search_->GetValue().utf8_string();
        switch (filter_->GetSelection()) {
            case 1: f.mine_only = true; break;
            case 2: f.crisis_only = true; break;
            case 3: f.with_open_flags_only = true; break;
            case 4: f.min_severity = Severity::high; break;
            default: break;
        }
        caseload_.set_filter(f);
        refresh_all();
    };
    search_->Bind(wxEVT_TEXT, refilter);
    filter_->Bind(wxEVT_CHOICE, refilter);
}

void MainFrame::set_online(bool online, const std::string& status) {
    online_ = online;
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
    const auto overdue = flags_.overdue_count(now);
    SetStatusText(u8(std::to_string(flags_.size()) + " open flags, " + std::to_string(overdue) + " overdue \u00b7 " +
                     model_.self().display_name),
                  0);
    refresh_conversation();
    refresh_detail();
    refresh_supervisor();
    refresh_actions();
}

void MainFrame::refresh_conversation() {
    header_->SetLabel(u8(conversation_.header(model_)));
    header_->GetParent()->Layout();
    transcript_->Freeze();
    transcript_->Clear();
    transcript_spans_.clear();
    const wxFont base = transcript_->GetFont();
    wxFont bold = base;
    bold.SetWeight(wxFONTWEIGHT_BOLD);
    for (const auto& line : conversation_.lines(model_)) {
        const wxColour sender_colour = line.sender == Sender::patient ? wxColour(20, 60, 140)
                                       : line.sender == Sender::ai   ? wxColour(70, 70, 70)
                                       : line.sender == Sender::clinician ? wxColour(0, 110, 60)
                                                                           : wxColour(120, 0, 120);
        transcript_->SetDefaultStyle(wxTextAttr(sender_colour, wxNullColour, bold));
        std::string label = line.time_text + "  " + line.sender_label;
        if (line.state == MessageState::withheld) label += " (withheld, not delivered)";
        if (line.severity) {
            const auto& style = severity_style(*line.severity);
            label += "  " + std::string(style.icon) + " " + std::string(style.label);
        }
        transcript_->AppendText(u8(label + "\n"));
        transcript_->SetDefaultStyle(wxTextAttr(*wxBLACK, wxNullColour, base));
        const long start = transcript_->GetLastPosition();
        transcript_->AppendText(u8(line.text + "\n\n"));
        for (auto h : line.highlights) {
            const auto& style = severity_style(line.severity.value_or(Severity::moderate));
            transcript_->SetStyle(start + static_cast<long>(h.cp_begin), start + static_cast<long>(h.cp_end),
                                  wxTextAttr(colour(style.colour), colour(style.background), bold));
            h.cp_begin += static_cast<std::size_t>(start);
            h.cp_end += static_cast<std::size_t>(start);
            transcript_spans_.push_back(h);
        }
    }
    transcript_->SetDefaultStyle(wxTextAttr(*wxBLACK, wxNullColour, base));
    transcript_->ShowPosition(transcript_->GetLastPosition());
    transcript_->Thaw();

    const auto held = conversation_.held(model_);
    if (held.empty()) {
        held_selected_.clear();
        held_panel_->Hide();
    } else {
        if (held_selected_ != held.front().message_id) {
            held_selected_ = held.front().message_id;
            held_text_->ChangeValue(u8(held.front().text));
        }
        std::string label = "AI reply held for review, not sent to the patient";
        if (held.size() > 1) label += " (" + std::to_string(held.size()) + " waiting)";
        if (!held.front().risk_rationale.empty()) label += ": " + held.front().risk_rationale;
        held_label_->SetLabel(u8(label));
        held_label_->Wrap(std::max(FromDIP(300), held_panel_->GetParent()->GetClientSize().x - FromDIP(24)));
        held_panel_->Show();
    }
    held_panel_->GetParent()->Layout();
}

void MainFrame::refresh_detail() {
    detail_->Freeze();
    detail_->Clear();
    const auto d = flag_detail(model_, selected_flag_);
    if (!d) {
        detail_->AppendText("Select a flag in the queue (Ctrl+J) to see its evidence here.");
        detail_->Thaw();
        return;
    }
    const auto& style = severity_style(d->severity);
    wxFont bold = detail_->GetFont();
    bold.SetWeight(wxFONTWEIGHT_BOLD);
    detail_->SetDefaultStyle(wxTextAttr(colour(style.colour), wxNullColour, bold));
    detail_->AppendText(u8(std::string(style.icon) + " " + std::string(style.label) + "  \u00b7  " + d->patient_name +
                           "  \u00b7  " + d->categories + "  \u00b7  " + d->status_text + "\n"));
    detail_->SetDefaultStyle(wxTextAttr(*wxBLACK, wxNullColour, detail_->GetFont()));
    for (std::size_t i = 0; i < d->context.size(); ++i) {
        const auto& line = d->context[i];
        const bool evidence = i == d->evidence_index;
        detail_->SetDefaultStyle(wxTextAttr(evidence ? colour(style.colour) : wxColour(90, 90, 90), wxNullColour,
                                            evidence ? bold : detail_->GetFont()));
        const std::string held = line.state == MessageState::held ? " (held, not sent)" : "";
        detail_->AppendText(u8((evidence ? "\u25b6 " : "   ") + line.sender_label + held + ": " + line.text + "\n"));
    }
    detail_->SetDefaultStyle(wxTextAttr(*wxBLACK, wxNullColour, detail_->GetFont()));
    for (const auto& n : d->notes) detail_->AppendText(u8("Note " + n + "\n"));
    detail_->ShowPosition(0);
    detail_->Thaw();
}

void MainFrame::refresh_supervisor() {
    if (!model_.self().has_role(Role::supervisor)) return;
    const auto stats = therapist_stats(model_, now_ms());
    stats_list_->DeleteAllItems();
    auto ms = [](const std::optional<std::chrono::milliseconds>& d) {
        return d ? u8(format_duration(*d)) : u8("\u2014");
    };
    for (const auto& s : stats) {
        const long i = stats_list_->InsertItem(stats_list_->GetItemCount(), u8(s.name));
        stats_list_->SetItem(i, 1, wxString::Format("%zu", s.patients));
        stats_list_->SetItem(i, 2, wxString::Format("%zu", s.open_flags));
        stats_list_->SetItem(i, 3, s.overdue_flags ? u8(std::to_string(s.overdue_flags) + " \u26a0") : wxString("0"));
        stats_list_->SetItem(i, 4, ms(s.median_to_ack));
        stats_list_->SetItem(i, 5, ms(s.p90_to_ack));
    }
    AuditFilter filter;
    filter.patient_id = conversation_.patient_id();
    audit_list_->DeleteAllItems();
    for (const auto& a : audit_trail(model_, filter, 200)) {
        const long i = audit_list_->InsertItem(audit_list_->GetItemCount(), u8(format_clock(a.at)));
        audit_list_->SetItem(i, 1, u8(model_.clinician_name(a.clinician_id)));
        audit_list_->SetItem(i, 2, u8(a.type));
        const auto* p = model_.patient(a.patient_id);
        audit_list_->SetItem(i, 3, u8(p != nullptr ? p->display_name : a.patient_id));
    }
}

void MainFrame::refresh_actions() {
    const auto avail = availability(model_, online_, conversation_.patient_id());
    const auto* p = model_.patient(conversation_.patient_id());
    pause_button_->SetLabel(p != nullptr && p->ai_paused ? "Resume AI" : "Pause AI");
    for (wxWindow* w : std::initializer_list<wxWindow*>{pause_button_, send_button_, composer_, release_button_,
                                                        edit_button_, discard_button_}) {
        w->Enable(avail.enabled);
    }
    crisis_button_->Enable(avail.enabled && p != nullptr && p->in_crisis);
    const auto* f = model_.flag(selected_flag_);
    const auto flag_avail = f != nullptr ? availability(model_, online_, f->patient_id) : Availability{false, ""};
    ack_button_->Enable(flag_avail.enabled && f->needs_acknowledgement());
    for (auto* b : {note_button_, escalate_button_, resolve_button_}) b->Enable(flag_avail.enabled && f->unresolved());
    action_reason_->SetLabel(u8(avail.enabled || conversation_.patient_id().empty() ? "" : "Actions unavailable: " + avail.reason));
}

void MainFrame::open_patient(const std::string& patient_id) {
    if (patient_id == conversation_.patient_id()) return;
    conversation_.open(patient_id);
    held_selected_.clear();
    if (opener_ && !patient_id.empty()) opener_(patient_id);
    refresh_conversation();
    refresh_detail();
    refresh_supervisor();
    refresh_actions();
}

void MainFrame::select_flag(std::size_t index) {
    if (index == FlagQueuePresenter::npos || index >= flags_.size()) return;
    tabs_->SetSelection(0);
    selected_flag_ = flags_.row(index).flag_id;
    flag_list_->SetItemState(static_cast<long>(index), wxLIST_STATE_SELECTED | wxLIST_STATE_FOCUSED,
                             wxLIST_STATE_SELECTED | wxLIST_STATE_FOCUSED);
    flag_list_->EnsureVisible(static_cast<long>(index));
    open_patient(flags_.row(index).patient_id);
    refresh_detail();
    refresh_actions();
}

void MainFrame::on_next_flag(wxCommandEvent&) {
    select_flag(flags_.next(flags_.index_of(selected_flag_)));
}

void MainFrame::on_previous_flag(wxCommandEvent&) {
    select_flag(flags_.previous(flags_.index_of(selected_flag_)));
}

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

void MainFrame::on_acknowledge(wxCommandEvent&) {
    const auto* f = model_.flag(selected_flag_);
    if (f == nullptr || !f->needs_acknowledgement() || !availability(model_, online_, f->patient_id).enabled) return;
    send(actions::flag_acknowledge(f->id));
}

void MainFrame::on_add_note(wxCommandEvent&) {
    if (model_.flag(selected_flag_) == nullptr) return;
    const auto note = ask_note("Add note", "Note on this flag:", true);
    if (!note.empty()) send(actions::flag_annotate(selected_flag_, note));
}

void MainFrame::on_escalate(wxCommandEvent&) {
    if (model_.flag(selected_flag_) == nullptr) return;
    const auto note = ask_note("Escalate flag", "Why escalate (optional):", false);
    if (!note.empty()) send(actions::flag_escalate(selected_flag_, note));
}

void MainFrame::on_resolve(wxCommandEvent&) {
    if (model_.flag(selected_flag_) == nullptr) return;
    const wxString choices[] = {"Yes, the risk was real", "No, a false alarm"};
    wxSingleChoiceDialog real(this, "Was the risk real?", "Resolve flag", 2, choices);
    if (real.ShowModal() != wxID_OK) return;
    const auto note = ask_note("Resolve flag", "Resolution note (required):", true);
    if (!note.empty()) send(actions::flag_resolve(selected_flag_, real.GetSelection() == 0, note));
}

void MainFrame::on_pause_ai(wxCommandEvent&) {
    const auto* p = model_.patient(conversation_.patient_id());
    if (p == nullptr || !availability(model_, online_, p->id).enabled) return;
    send(p->ai_paused ? actions::ai_resume(p->id) : actions::ai_pause(p->id));
}

void MainFrame::on_clear_crisis(wxCommandEvent&) {
    const auto* p = model_.patient(conversation_.patient_id());
    if (p == nullptr || !p->in_crisis) return;
    const auto note = ask_note("Clear crisis state", "What was done to make the patient safe? (required)", true);
    if (!note.empty()) send(actions::crisis_clear(p->id, note));
}

void MainFrame::on_send_message(wxCommandEvent&) {
    const auto text = composer_->GetValue().utf8_string();
    send(actions::send_message(conversation_.patient_id(), text));
    composer_->Clear();
}

void MainFrame::on_release(wxCommandEvent&) {
    if (!held_selected_.empty()) send(actions::held_release(held_selected_));
}

void MainFrame::on_edit_send(wxCommandEvent&) {
    if (!held_selected_.empty()) send(actions::held_edit_send(held_selected_, held_text_->GetValue().utf8_string()));
}

void MainFrame::on_discard(wxCommandEvent&) {
    if (held_selected_.empty()) return;
    const auto note = ask_note("Discard held reply", "Why discard (optional):", false);
    if (!note.empty()) send(actions::held_discard(held_selected_, note));
}

void MainFrame::on_reassign(wxCommandEvent&) {
    const auto* p = model_.patient(conversation_.patient_id());
    if (p == nullptr || !model_.self().has_role(Role::supervisor)) return;
    wxArrayString names;
    std::vector<std::string> ids;
    for (const auto& [id, c] : model_.clinicians()) {
        if (!c.has_role(Role::therapist)) continue;
        names.Add(u8(c.display_name));
        ids.push_back(id);
    }
    if (ids.empty()) return;
    wxSingleChoiceDialog dialog(this, u8("Reassign " + p->display_name + " to:"), "Reassign patient", names);
    if (dialog.ShowModal() == wxID_OK) {
        send(actions::patient_reassign(p->id, ids[static_cast<std::size_t>(dialog.GetSelection())]));
    }
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

void MainFrame::on_action_result(const std::string&, bool ok, const std::string& error) {
    if (!ok) SetStatusText(u8("Action refused by the bridge: " + error), 0);
}

void MainFrame::on_error(const Error& error, bool fatal) {
    SetStatusText(u8(error.describe()), 0);
    if (fatal) wxMessageBox(u8(error.describe()), "Tandem", wxOK | wxICON_ERROR, this);
}

void MainFrame::notify(const Notification& n) {
    // Shown even when the window is in the background; the body carries initials only.
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
    if (lock_.tick(now)) lock_now();
    if (lock_.locked()) return;
    if (dirty_) {
        refresh_all();
        return;
    }
    // Countdowns move every second; only the visible rows are redrawn.
    flag_list_->now = now;
    caseload_list_->now = now;
    if (flags_.size() > 0) flag_list_->RefreshItems(flag_list_->GetTopItem(),
                                                    std::min<long>(static_cast<long>(flags_.size()) - 1,
                                                                   flag_list_->GetTopItem() + flag_list_->GetCountPerPage()));
}

}  // namespace tandem::clinician::views
