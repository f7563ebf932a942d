// The plan review dialog and the main window's plan hooks (menu item, caseload button, the
// `plans` reply). The rules live in tandem/clinician/plan_review.h; this file only lays out.
#include "plan_review_dialog.h"

#include <algorithm>
#include <map>

#include <wx/button.h>
#include <wx/checkbox.h>
#include <wx/grid.h>
#include <wx/listctrl.h>
#include <wx/msgdlg.h>
#include <wx/notebook.h>
#include <wx/panel.h>
#include <wx/scrolwin.h>
#include <wx/sizer.h>
#include <wx/stattext.h>
#include <wx/textctrl.h>
#include <wx/textdlg.h>

#include "main_frame.h"
#include "view_util.h"

namespace tandem::clinician::views {
namespace {

struct DiffLook {
    wxColour text;
    wxColour background;
};

DiffLook look_of(DiffKind kind) {
    // Muted backgrounds with dark text keep contrast; the marker column repeats the meaning in
    // words, so nothing depends on telling the colours apart.
    switch (kind) {
        case DiffKind::added: return {wxColour(0, 90, 30), wxColour(222, 244, 226)};
        case DiffKind::removed: return {wxColour(140, 0, 0), wxColour(250, 226, 226)};
        case DiffKind::changed: return {wxColour(110, 60, 0), wxColour(255, 240, 200)};
        case DiffKind::same: break;
    }
    return {wxNullColour, wxNullColour};
}

std::vector<std::string> lines_of(const wxString& text) {
    std::vector<std::string> out;
    std::string all = text.utf8_string();
    std::size_t start = 0;
    while (start <= all.size()) {
        const auto end = all.find('\n', start);
        std::string line = all.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (line.find_first_not_of(" \t\r") != std::string::npos) out.push_back(line);
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return out;
}

wxString joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += (out.empty() ? "" : "\n") + l;
    return u8(out);
}

// `stretch` is the column that takes the width the others leave (the long free text).
wxGrid* make_grid(wxWindow* parent, std::initializer_list<std::pair<const char*, int>> columns, int height,
                  int stretch) {
    auto* g = new wxGrid(parent, wxID_ANY, wxDefaultPosition, parent->FromDIP(wxSize(-1, height)));
    g->CreateGrid(0, static_cast<int>(columns.size()));
    // Long entries wrap onto more lines (rows grow to fit) instead of being cut at the cell's edge.
    g->SetDefaultRenderer(new wxGridCellAutoWrapStringRenderer);
    g->SetDefaultEditor(new wxGridCellAutoWrapStringEditor);
    g->Bind(wxEVT_SIZE, [g, stretch](wxSizeEvent& e) {
        e.Skip();
        int others = g->GetRowLabelSize();
        for (int c = 0; c < g->GetNumberCols(); ++c) {
            if (c != stretch) others += g->GetColSize(c);
        }
        const int room = g->GetClientSize().x - others - g->FromDIP(20);
        if (room > g->FromDIP(160)) {
            g->SetColSize(stretch, room);
            g->AutoSizeRows(false);
        }
    });
    int i = 0;
    for (const auto& [name, width] : columns) {
        g->SetColLabelValue(i, name);
        g->SetColSize(i, parent->FromDIP(width));
        ++i;
    }
    g->SetRowLabelSize(parent->FromDIP(32));
    g->SetColLabelSize(parent->FromDIP(24));
    // Tab moves to the next control at the grid's edge, so the whole form stays keyboard-reachable.
    g->SetTabBehaviour(wxGrid::Tab_Leave);
    return g;
}

void set_rows(wxGrid* g, int rows) {
    if (g->GetNumberRows() > 0) g->DeleteRows(0, g->GetNumberRows());
    if (rows > 0) g->AppendRows(rows);
}

std::string cell(wxGrid* g, int r, int c) { return g->GetCellValue(r, c).utf8_string(); }

bool blank_row(wxGrid* g, int r) {
    for (int c = 0; c < g->GetNumberCols(); ++c) {
        if (cell(g, r, c).find_first_not_of(" \t") != std::string::npos) return false;
    }
    return true;
}

}  // namespace

PlanReviewDialog::PlanReviewDialog(wxWindow* parent, const Model& model, PlanDialogHooks hooks)
    : wxDialog(parent, wxID_ANY, "Treatment plan", wxDefaultPosition, wxDefaultSize,
               wxDEFAULT_DIALOG_STYLE | wxRESIZE_BORDER | wxMAXIMIZE_BOX),
      model_(model),
      hooks_(std::move(hooks)) {
    build();
    // Fits a 1366x768 laptop: never larger than the display, readable at that size.
    const wxRect screen = wxGetClientDisplayRect();
    SetSize(std::min(FromDIP(1300), screen.width - 20), std::min(FromDIP(720), screen.height - 20));
    SetMinSize(FromDIP(wxSize(900, 560)));
    CentreOnParent();
}

void PlanReviewDialog::build() {
    auto* root = new wxBoxSizer(wxVERTICAL);
    title_ = new wxStaticText(this, wxID_ANY, "Treatment plan");
    title_->SetFont(heading_font(*title_));
    summary_ = new wxStaticText(this, wxID_ANY, "");
    reason_ = new wxStaticText(this, wxID_ANY, "");
    reason_->SetForegroundColour(wxColour(120, 60, 0));
    root->Add(title_, 0, wxLEFT | wxRIGHT | wxTOP, FromDIP(8));
    root->Add(summary_, 0, wxLEFT | wxRIGHT | wxTOP, FromDIP(4));
    root->Add(reason_, 0, wxLEFT | wxRIGHT | wxTOP, FromDIP(4));

    book_ = new wxNotebook(this, wxID_ANY);
    book_->AddPage(build_compare_page(book_), "Compare with active plan");
    book_->AddPage(build_edit_page(book_), "Edit");
    book_->AddPage(build_history_page(book_), "History");
    root->Add(book_, 1, wxEXPAND | wxALL, FromDIP(6));

    auto* buttons = new wxBoxSizer(wxHORIZONTAL);
    approve_button_ = new wxButton(this, wxID_ANY, "&Approve");
    approve_changes_button_ = new wxButton(this, wxID_ANY, u8("Approve &with changes"));
    reject_button_ = new wxButton(this, wxID_ANY, u8("&Reject…"));
    request_button_ = new wxButton(this, wxID_ANY, "Re&quest new proposal");
    write_button_ = new wxButton(this, wxID_ANY, u8("Write new &version…"));
    auto* close = new wxButton(this, wxID_CANCEL, "&Close");
    for (auto* b : {approve_button_, approve_changes_button_, reject_button_}) buttons->Add(b, 0, wxRIGHT, FromDIP(6));
    buttons->AddSpacer(FromDIP(18));
    buttons->Add(request_button_, 0, wxRIGHT, FromDIP(6));
    buttons->Add(write_button_, 0, wxRIGHT, FromDIP(6));
    buttons->AddStretchSpacer();
    buttons->Add(close, 0);
    root->Add(buttons, 0, wxEXPAND | wxLEFT | wxRIGHT | wxBOTTOM, FromDIP(8));
    SetSizer(root);

    approve_button_->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) { approve(); });
    approve_changes_button_->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) {
        const auto why = ask("Approve with changes", "Why the changes (optional; kept in the plan's history):", false);
        if (why) approve_with_changes(*why);
    });
    reject_button_->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) {
        const auto why = ask("Reject proposal", "Why is this proposal rejected? (required)", true);
        if (why) reject(*why);
    });
    request_button_->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) { request_proposal(); });
    write_button_->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) {
        const int answer = wxMessageBox(
            "Write the plan as edited as a new version.\n\nApprove it now, so it steers the AI from the next turn?",
            "Write new version", wxYES_NO | wxCANCEL | wxICON_QUESTION, this);
        if (answer == wxCANCEL) return;
        const auto why = ask("Write new version", "Why this version (optional):", false);
        if (why) write_version(answer == wxYES, *why);
    });
}

wxWindow* PlanReviewDialog::build_compare_page(wxNotebook* book) {
    auto* page = new wxPanel(book);
    auto* s = new wxBoxSizer(wxVERTICAL);
    s->Add(new wxStaticText(page, wxID_ANY,
                            u8("Every field of the proposal (with your edits) beside the active plan. "
                               "Marked rows differ: + added, \u2212 removed, ~ changed.")),
           0, wxALL, FromDIP(4));
    only_differences_ = new wxCheckBox(page, wxID_ANY, "&Only differences");
    s->Add(only_differences_, 0, wxLEFT | wxRIGHT, FromDIP(4));
    only_differences_->Bind(wxEVT_CHECKBOX, [this](wxCommandEvent&) { refresh_compare(); });
    compare_ = new wxListCtrl(page, wxID_ANY, wxDefaultPosition, wxDefaultSize, wxLC_REPORT | wxLC_SINGLE_SEL);
    compare_->AppendColumn("Change", wxLIST_FORMAT_LEFT, FromDIP(235));
    compare_->AppendColumn("Field", wxLIST_FORMAT_LEFT, FromDIP(280));
    compare_->AppendColumn("Active plan", wxLIST_FORMAT_LEFT, FromDIP(400));
    compare_->AppendColumn("Proposal (with your edits)", wxLIST_FORMAT_LEFT, FromDIP(400));
    s->Add(compare_, 1, wxEXPAND | wxALL, FromDIP(4));
    page->SetSizer(s);
    // The two plans share what the marker and field columns leave, so neither is cut short
    // while the window has room to spare.
    compare_->Bind(wxEVT_SIZE, [this](wxSizeEvent& e) {
        e.Skip();
        layout_compare_columns();
    });
    compare_->Bind(wxEVT_LIST_ITEM_SELECTED, [this](wxListEvent& e) {
        // Long entries do not fit a column: the selected row's full text goes to the tooltip.
        const long i = e.GetIndex();
        compare_->SetToolTip(compare_->GetItemText(i, 1) + ":\n" + compare_->GetItemText(i, 2) + "\n\u2192 " +
                             compare_->GetItemText(i, 3));
    });
    return page;
}

wxWindow* PlanReviewDialog::build_edit_page(wxNotebook* book) {
    edit_page_ = new wxScrolledWindow(book, wxID_ANY, wxDefaultPosition, wxDefaultSize, wxVSCROLL | wxTAB_TRAVERSAL);
    edit_page_->SetScrollRate(0, FromDIP(16));
    auto* grid = new wxFlexGridSizer(2, FromDIP(6), FromDIP(10));
    grid->AddGrowableCol(1, 1);
    auto add_label = [&](const std::string& text) {
        auto* l = new wxStaticText(edit_page_, wxID_ANY, u8(text));
        grid->Add(l, 0, wxALIGN_TOP | wxTOP, FromDIP(4));
        return l;
    };
    auto add_list = [&](PlanList list, int lines) {
        const auto i = static_cast<std::size_t>(list);
        list_labels_[i] = add_label(std::string(label(list)) + "\n(one per line)");
        lists_[i] = new wxTextCtrl(edit_page_, wxID_ANY, "", wxDefaultPosition, FromDIP(wxSize(-1, 20 * lines + 8)),
                                   wxTE_MULTILINE);
        grid->Add(lists_[i], 1, wxEXPAND);
        lists_[i]->Bind(wxEVT_TEXT, [this](wxCommandEvent&) { on_edited(); });
    };
    auto add_grid = [&](wxStaticText*& label_out, const char* text, wxGrid*& grid_out,
                        std::initializer_list<std::pair<const char*, int>> columns, int stretch, const char* noun) {
        label_out = add_label(text);
        auto* box = new wxBoxSizer(wxVERTICAL);
        grid_out = make_grid(edit_page_, columns, 150, stretch);
        box->Add(grid_out, 1, wxEXPAND);
        auto* row = new wxBoxSizer(wxHORIZONTAL);
        auto* add = new wxButton(edit_page_, wxID_ANY, u8(std::string("Add ") + noun));
        auto* remove = new wxButton(edit_page_, wxID_ANY, u8(std::string("Remove selected ") + noun));
        row->Add(add, 0, wxRIGHT, FromDIP(6));
        row->Add(remove, 0);
        box->Add(row, 0, wxTOP, FromDIP(2));
        grid->Add(box, 1, wxEXPAND);
        wxGrid* g = grid_out;
        g->Bind(wxEVT_GRID_CELL_CHANGED, [this, g](wxGridEvent& e) {
            g->AutoSizeRow(e.GetRow(), false);
            on_edited();
            e.Skip();
        });
        add->Bind(wxEVT_BUTTON, [this, g](wxCommandEvent&) {
            g->AppendRows(1);
            g->SetGridCursor(g->GetNumberRows() - 1, 0);
            g->SetFocus();
            on_edited();
        });
        remove->Bind(wxEVT_BUTTON, [this, g](wxCommandEvent&) {
            const int r = g->GetGridCursorRow();
            if (r >= 0 && r < g->GetNumberRows()) g->DeleteRows(r);
            on_edited();
        });
    };
    auto add_text = [&](wxStaticText*& label_out, const char* text, wxTextCtrl*& ctrl) {
        label_out = add_label(text);
        ctrl = new wxTextCtrl(edit_page_, wxID_ANY, "");
        grid->Add(ctrl, 1, wxEXPAND);
        ctrl->Bind(wxEVT_TEXT, [this](wxCommandEvent&) { on_edited(); });
    };

    add_list(PlanList::presenting_problems, 2);
    add_list(PlanList::conditions, 2);
    add_grid(goals_label_, "Goals", goals_, {{"Description", 360}, {"Measure", 300}, {"Target date", 130}}, 0,
             "goal");
    add_grid(interventions_label_, "Interventions", interventions_, {{"Name", 220}, {"How the AI uses it", 580}}, 1,
             "intervention");
    add_list(PlanList::homework, 3);
    add_text(cadence_label_, "Check-in cadence", cadence_);
    add_grid(assessments_label_, "Assessment schedule", assessments_,
             {{"Instrument (phq9, gad7, ...)", 240}, {"Week (0 = intake)", 150}}, 0, "questionnaire");
    for (auto l : {PlanList::warning_signs, PlanList::internal_coping, PlanList::distraction_people_places,
                   PlanList::people_to_ask, PlanList::professionals_and_crisis_lines, PlanList::environment_safety}) {
        add_list(l, 2);
    }
    add_text(tone_label_, "AI guidance: tone", tone_);
    add_list(PlanList::avoid_topics, 2);
    add_list(PlanList::escalate_when, 2);

    auto* outer = new wxBoxSizer(wxVERTICAL);
    outer->Add(grid, 0, wxEXPAND | wxALL, FromDIP(8));
    discard_button_ = new wxButton(edit_page_, wxID_ANY, "&Discard my edits");
    outer->Add(discard_button_, 0, wxALL, FromDIP(8));
    discard_button_->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) {
        review_.discard_edits();
        load_form();
    });
    edit_page_->SetSizer(outer);
    return edit_page_;
}

wxWindow* PlanReviewDialog::build_history_page(wxNotebook* book) {
    auto* page = new wxPanel(book);
    auto* s = new wxBoxSizer(wxVERTICAL);
    history_list_ = new wxListCtrl(page, wxID_ANY, wxDefaultPosition, FromDIP(wxSize(-1, 200)),
                                   wxLC_REPORT | wxLC_SINGLE_SEL);
    for (const auto& [name, width] : std::initializer_list<std::pair<const char*, int>>{
             {"Version", 70}, {"Status", 200}, {"Proposed by", 130}, {"Decided by", 130}, {"Reason", 300},
             {"Created (UTC)", 140}, {"Decided (UTC)", 140}, {"Based on", 80}}) {
        history_list_->AppendColumn(name, wxLIST_FORMAT_LEFT, FromDIP(width));
    }
    s->Add(history_list_, 0, wxEXPAND | wxALL, FromDIP(4));
    auto* row = new wxBoxSizer(wxHORIZONTAL);
    row->Add(new wxStaticText(page, wxID_ANY, "The selected version:"), 0, wxALIGN_CENTER_VERTICAL);
    row->AddStretchSpacer();
    restore_button_ = new wxButton(page, wxID_ANY, u8("Re&store as new version…"));
    row->Add(restore_button_, 0);
    s->Add(row, 0, wxEXPAND | wxLEFT | wxRIGHT, FromDIP(4));
    history_text_ = new wxTextCtrl(page, wxID_ANY, "", wxDefaultPosition, wxDefaultSize,
                                   wxTE_MULTILINE | wxTE_READONLY | wxTE_RICH2);
    s->Add(history_text_, 1, wxEXPAND | wxALL, FromDIP(4));
    page->SetSizer(s);
    history_list_->Bind(wxEVT_LIST_ITEM_SELECTED, [this](wxListEvent& e) { select_history(static_cast<int>(e.GetIndex())); });
    restore_button_->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) {
        const auto* v = model_.plans().find(history_selected_);
        if (v == nullptr) return;
        const auto why = ask("Restore version " + std::to_string(v->version),
                             "Why restore this version? (required; it becomes a new approved version)", true);
        if (why) restore(history_selected_, *why);
    });
    return page;
}

void PlanReviewDialog::show_patient(const std::string& patient_id) {
    const bool other = patient_id != review_.patient_id();
    review_.open(patient_id);
    if (other) {
        history_selected_.clear();
        seen_revision_ = static_cast<std::uint64_t>(-1);
    }
    const auto* p = model_.patient(patient_id);
    const std::string name = p != nullptr ? p->display_name : patient_id;
    SetTitle(u8("Treatment plan \u2014 " + name));
    title_->SetLabel(u8("Treatment plan \u2014 " + name));
    // The feed may have started after older versions were made: the bridge's list is complete.
    if (hooks_.fetch_plans) hooks_.fetch_plans(patient_id);
    refresh();
    if (review_.proposal(model_) == nullptr) show_page(1);
    Show();
    Raise();
}

void PlanReviewDialog::refresh() {
    if (review_.patient_id().empty()) return;
    const bool online = hooks_.online && hooks_.online();
    const auto revision = model_.plans().revision();
    if (revision == seen_revision_ && online == seen_online_) return;
    seen_revision_ = revision;
    seen_online_ = online;
    if (review_.refresh(model_)) load_form();
    refresh_compare();
    refresh_history();
    refresh_buttons();
}

void PlanReviewDialog::load_form() {
    loading_ = true;
    const PlanContent& c = review_.edited();
    for (auto l : kPlanLists) lists_[static_cast<std::size_t>(l)]->ChangeValue(joined(c.list(l)));
    set_rows(goals_, static_cast<int>(c.goals.size()));
    for (int r = 0; r < static_cast<int>(c.goals.size()); ++r) {
        const auto& g = c.goals[static_cast<std::size_t>(r)];
        goals_->SetCellValue(r, 0, u8(g.description));
        goals_->SetCellValue(r, 1, u8(g.measure));
        goals_->SetCellValue(r, 2, u8(g.target_date));
    }
    set_rows(interventions_, static_cast<int>(c.interventions.size()));
    for (int r = 0; r < static_cast<int>(c.interventions.size()); ++r) {
        const auto& i = c.interventions[static_cast<std::size_t>(r)];
        interventions_->SetCellValue(r, 0, u8(i.name));
        interventions_->SetCellValue(r, 1, u8(i.how_ai_uses_it));
    }
    set_rows(assessments_, static_cast<int>(c.assessment_schedule.size()));
    for (int r = 0; r < static_cast<int>(c.assessment_schedule.size()); ++r) {
        const auto& a = c.assessment_schedule[static_cast<std::size_t>(r)];
        assessments_->SetCellValue(r, 0, u8(a.instrument));
        assessments_->SetCellValue(r, 1, wxString::Format("%d", a.week));
    }
    for (wxGrid* g : {goals_, interventions_, assessments_}) g->AutoSizeRows(false);
    cadence_->ChangeValue(u8(c.checkin_cadence));
    tone_->ChangeValue(u8(c.tone));
    loading_ = false;
    refresh_compare();
    refresh_buttons();
}

PlanContent PlanReviewDialog::read_form() const {
    PlanContent c;
    for (auto l : kPlanLists) c.list(l) = lines_of(lists_[static_cast<std::size_t>(l)]->GetValue());
    for (wxGrid* g : {goals_, interventions_, assessments_}) {
        // A cell still being typed in is not in the grid's table until its editor is saved.
        if (g->IsCellEditControlEnabled()) g->SaveEditControlValue();
    }
    for (int r = 0; r < goals_->GetNumberRows(); ++r) {
        if (!blank_row(goals_, r)) c.goals.push_back({cell(goals_, r, 0), cell(goals_, r, 1), cell(goals_, r, 2)});
    }
    for (int r = 0; r < interventions_->GetNumberRows(); ++r) {
        if (!blank_row(interventions_, r)) c.interventions.push_back({cell(interventions_, r, 0), cell(interventions_, r, 1)});
    }
    for (int r = 0; r < assessments_->GetNumberRows(); ++r) {
        if (blank_row(assessments_, r)) continue;
        long week = -1;
        if (!assessments_->GetCellValue(r, 1).Trim().Trim(false).ToLong(&week)) week = -1;
        c.assessment_schedule.push_back({cell(assessments_, r, 0), static_cast<int>(std::clamp(week, -1L, 100000L))});
    }
    c.checkin_cadence = cadence_->GetValue().utf8_string();
    c.tone = tone_->GetValue().utf8_string();
    return c;
}

void PlanReviewDialog::on_edited() {
    if (loading_) return;
    review_.set_edited(read_form());
    refresh_compare();
    refresh_buttons();
}

void PlanReviewDialog::refresh_compare() {
    const auto rows = review_.rows(model_);
    const PlanVersion* active = review_.active(model_);
    compare_->Freeze();
    compare_->DeleteAllItems();
    std::map<std::string, DiffKind> sections;  // the strongest change per section, for the edit labels
    long i = 0;
    const bool only_differences = only_differences_->GetValue();
    for (const auto& r : rows) {
        if (r.kind != DiffKind::same) {
            auto& sec = sections[r.section];
            if (sec == DiffKind::same) sec = r.kind;
            else if (sec != r.kind) sec = DiffKind::changed;
        }
        if (only_differences && r.kind == DiffKind::same) continue;
        std::string marker(diff_marker(r.kind));
        if (!r.detail.empty()) marker += " (" + r.detail + ")";
        compare_->InsertItem(i, u8(marker));
        compare_->SetItem(i, 1, u8(r.section));
        compare_->SetItem(i, 2, u8(r.active));
        compare_->SetItem(i, 3, u8(r.proposal));
        if (r.kind != DiffKind::same) {
            const auto look = look_of(r.kind);
            compare_->SetItemTextColour(i, look.text);
            compare_->SetItemBackgroundColour(i, look.background);
        }
        ++i;
    }
    compare_->Thaw();
    has_active_ = active != nullptr;
    layout_compare_columns();

    // The edit page's labels carry the same marker, so a difference is visible where it is typed.
    auto mark = [&](wxStaticText* label_ctrl, const std::string& section, const std::string& text) {
        const auto it = sections.find(section);
        if (it == sections.end()) {
            label_ctrl->SetLabel(u8(text));
            label_ctrl->SetForegroundColour(wxNullColour);
            return;
        }
        label_ctrl->SetLabel(u8(std::string(diff_marker(it->second)) + "\n" + text));
        label_ctrl->SetForegroundColour(look_of(it->second).text);
    };
    for (auto l : kPlanLists) {
        mark(list_labels_[static_cast<std::size_t>(l)], std::string(label(l)), std::string(label(l)) + "\n(one per line)");
    }
    mark(goals_label_, "Goals", "Goals\n(target date\nYYYY-MM-DD)");
    mark(interventions_label_, "Interventions", "Interventions");
    mark(assessments_label_, "Assessment schedule", "Assessment schedule");
    mark(cadence_label_, "Check-in cadence", "Check-in cadence");
    mark(tone_label_, "AI guidance: tone", "AI guidance: tone");
    edit_page_->FitInside();
}

void PlanReviewDialog::layout_compare_columns() {
    const int fixed = compare_->GetColumnWidth(0) + compare_->GetColumnWidth(1);
    const int room = compare_->GetClientSize().x - fixed - FromDIP(4);
    if (room < FromDIP(300)) return;
    // With no approved plan the active column is empty: the proposal takes most of the room.
    const int active_width = has_active_ ? room / 2 : FromDIP(140);
    compare_->SetColumnWidth(2, active_width);
    compare_->SetColumnWidth(3, room - active_width);
}

void PlanReviewDialog::refresh_buttons() {
    const bool online = hooks_.online && hooks_.online();
    const PlanButtons b = review_.buttons(model_, online);
    approve_button_->Enable(b.approve);
    approve_changes_button_->Enable(b.approve_with_changes);
    reject_button_->Enable(b.reject);
    request_button_->Enable(b.request);
    write_button_->Enable(b.write);
    const auto* selected = model_.plans().find(history_selected_);
    restore_button_->Enable(b.restore && selected != nullptr && selected != review_.active(model_));
    std::string summary = review_.summary(model_);
    if (review_.has_edits()) summary += "  \u00b7  \u270e edited (not sent yet)";
    summary_->SetLabel(u8(summary));
    std::string reason = b.reason;
    if (const auto failure = model_.plans().last_failure(review_.patient_id())) {
        reason += (reason.empty() ? "" : "  \u00b7  ") + std::string("The last proposal failed: ") + failure->reason;
    }
    reason_->SetLabel(u8(reason));
    Layout();
}

void PlanReviewDialog::refresh_history() {
    history_ = plan_history_rows(model_, review_.patient_id());
    history_list_->Freeze();
    history_list_->DeleteAllItems();
    long selected = -1;
    for (long i = 0; i < static_cast<long>(history_.size()); ++i) {
        const auto& h = history_[static_cast<std::size_t>(i)];
        history_list_->InsertItem(i, wxString::Format("v%d", h.version));
        const std::string cells[] = {h.status, h.proposer, h.approver, h.reason, h.created, h.decided, h.based_on};
        for (int c = 0; c < 7; ++c) history_list_->SetItem(i, c + 1, u8(cells[c]));
        if (h.status.starts_with("proposed")) {
            history_list_->SetItemBackgroundColour(i, look_of(DiffKind::changed).background);
        } else if (h.status.find("(active)") != std::string::npos) {
            history_list_->SetItemBackgroundColour(i, look_of(DiffKind::added).background);
        }
        if (h.plan_id == history_selected_) selected = i;
    }
    if (selected >= 0) history_list_->SetItemState(selected, wxLIST_STATE_SELECTED, wxLIST_STATE_SELECTED);
    history_list_->Thaw();
    show_history_version();
}

void PlanReviewDialog::select_history(int row) {
    if (row < 0 || row >= static_cast<int>(history_.size())) return;
    history_selected_ = history_[static_cast<std::size_t>(row)].plan_id;
    if (history_list_->GetItemState(row, wxLIST_STATE_SELECTED) == 0) {
        history_list_->SetItemState(row, wxLIST_STATE_SELECTED | wxLIST_STATE_FOCUSED,
                                    wxLIST_STATE_SELECTED | wxLIST_STATE_FOCUSED);
    }
    show_history_version();
    refresh_buttons();
}

void PlanReviewDialog::show_history_version() {
    const auto* v = model_.plans().find(history_selected_);
    if (v == nullptr) {
        history_text_->ChangeValue(history_.empty() ? "No plan versions yet." : "Select a version to read it.");
        return;
    }
    std::string head = "Version " + std::to_string(v->version) + " \u2014 " + std::string(to_string(v->status));
    if (!v->reason.empty()) head += " \u2014 reason: " + v->reason;
    history_text_->ChangeValue(u8(head + "\n\n" + plan_text(v->content)));
}

void PlanReviewDialog::show_page(int page) { book_->SetSelection(static_cast<std::size_t>(page)); }

bool PlanReviewDialog::button_enabled(const std::string& label_text) const {
    for (const wxButton* b : {approve_button_, approve_changes_button_, reject_button_, request_button_, write_button_,
                              restore_button_}) {
        std::string text = b->GetLabelText().utf8_string();
        if (text.ends_with("\u2026")) text.resize(text.size() - std::string_view("\u2026").size());
        if (text == label_text) return b->IsEnabled();
    }
    return false;
}

bool PlanReviewDialog::sent(const Result<ActionRequest>& request) {
    if (!request) {
        wxMessageBox(u8(request.error().describe()), "Cannot send this plan action", wxOK | wxICON_WARNING, this);
        return false;
    }
    if (!hooks_.send || !hooks_.send(*request)) return false;
    // The decision is on its way: the form follows the bridge's events from here, so the edit
    // that was sent is not kept as a pending one.
    review_.discard_edits();
    load_form();
    return true;
}

std::optional<std::string> PlanReviewDialog::ask(const wxString& title, const wxString& prompt, bool required) {
    wxTextEntryDialog dialog(this, prompt, title, "", wxOK | wxCANCEL | wxTE_MULTILINE);
    if (dialog.ShowModal() != wxID_OK) return std::nullopt;
    std::string text = dialog.GetValue().utf8_string();
    if (required && text.find_first_not_of(" \t\n") == std::string::npos) {
        wxMessageBox("A reason is required.", title, wxOK | wxICON_WARNING, this);
        return std::nullopt;
    }
    return text;
}

bool PlanReviewDialog::approve() {
    const PlanVersion* p = review_.proposal(model_);
    if (p == nullptr) return false;
    if (review_.has_edits()) {
        // Approving as proposed would silently drop what was typed: say so first.
        const int answer = wxMessageBox("You edited this proposal. Approve it as proposed and drop your edits?",
                                        "Approve as proposed", wxYES_NO | wxNO_DEFAULT | wxICON_QUESTION, this);
        if (answer != wxYES) return false;
    }
    return sent(actions::plan_approve(*p));
}

bool PlanReviewDialog::approve_with_changes(const std::string& reason) {
    const PlanVersion* p = review_.proposal(model_);
    if (p == nullptr) return false;
    review_.set_edited(read_form());
    return sent(actions::plan_approve_with_changes(*p, review_.edited(), reason));
}

bool PlanReviewDialog::reject(const std::string& reason) {
    const PlanVersion* p = review_.proposal(model_);
    if (p == nullptr) return false;
    return sent(actions::plan_reject(*p, reason));
}

bool PlanReviewDialog::request_proposal() {
    if (!sent(actions::plan_request(review_.patient_id()))) return false;
    reason_->SetLabel("A new proposal was requested; it appears here when it arrives.");
    return true;
}

bool PlanReviewDialog::write_version(bool approve_now, const std::string& reason) {
    review_.set_edited(read_form());
    return sent(actions::plan_write(review_.patient_id(), review_.edited(), approve_now, reason));
}

bool PlanReviewDialog::restore(const std::string& plan_id, const std::string& reason) {
    const PlanVersion* v = model_.plans().find(plan_id);
    if (v == nullptr) return false;
    return sent(actions::plan_restore(*v, reason));
}

void PlanReviewDialog::edit_goal(int row, const PlanGoalItem& goal) {
    if (row >= goals_->GetNumberRows()) goals_->AppendRows(row + 1 - goals_->GetNumberRows());
    goals_->SetCellValue(row, 0, u8(goal.description));
    goals_->SetCellValue(row, 1, u8(goal.measure));
    goals_->SetCellValue(row, 2, u8(goal.target_date));
    goals_->AutoSizeRow(row, false);
    on_edited();
}

void PlanReviewDialog::edit_tone(const std::string& text) { tone_->SetValue(u8(text)); }

// ---------------------------------------------------------------------------------------------
// The main window's hooks.

void MainFrame::open_plan_review(const std::string& patient_id) {
    if (patient_id.empty()) {
        wxMessageBox("Open a patient first (select a row in the caseload or a flag).", "Treatment plan",
                     wxOK | wxICON_INFORMATION, this);
        return;
    }
    if (plan_review_ == nullptr) {
        PlanDialogHooks hooks;
        hooks.online = [this] { return online_ || demo_; };
        hooks.send = [this](const ActionRequest& r) { return try_send(r); };
        hooks.fetch_plans = [this](const std::string& id) { return plan_fetcher_ && plan_fetcher_(id); };
        plan_review_ = new PlanReviewDialog(this, model_, std::move(hooks));
    }
    plan_review_->show_patient(patient_id);
}

bool MainFrame::try_send(const ActionRequest& request) {
    const auto before = sent_.size();
    send(request);
    return sent_.size() > before;
}

void MainFrame::on_plans(const std::string&) { mark_dirty(); }

void MainFrame::refresh_plan_review() {
    if (plan_review_ != nullptr && plan_review_->IsShown()) plan_review_->refresh();
}

std::string MainFrame::plan_patient() const {
    if (!conversation_.patient_id().empty()) return conversation_.patient_id();
    if (const auto* f = model_.flag(selected_flag_)) return f->patient_id;
    return {};
}

}  // namespace tandem::clinician::views
