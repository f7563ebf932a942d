// The supervisor pane: per-therapist load and time to acknowledge, the audit trail, reassigning.
#include <algorithm>

#include <wx/button.h>
#include <wx/choicdlg.h>
#include <wx/listctrl.h>
#include <wx/notebook.h>
#include <wx/panel.h>
#include <wx/sizer.h>
#include <wx/splitter.h>
#include <wx/stattext.h>

#include "main_frame.h"
#include "outcome_pane.h"
#include "tandem/clinician/supervisor.h"
#include "view_util.h"

namespace tandem::clinician::views {

void MainFrame::build_supervisor_page() {
    // Two pages inside the Supervisor tab: flags and audit (below), and caseload outcomes.
    auto* outer = new wxPanel(tabs_);
    auto* inner = new wxNotebook(outer, wxID_ANY);
    auto* sup_page = new wxPanel(inner);
    auto* sup_sizer = new wxBoxSizer(wxVERTICAL);
    sup_sizer->Add(new wxStaticText(sup_page, wxID_ANY, "Open and overdue flags per therapist; time from flag to acknowledgement"),
                   0, wxALL, FromDIP(4));
    stats_list_ = new wxListCtrl(sup_page, wxID_ANY, wxDefaultPosition, wxDefaultSize, wxLC_REPORT | wxLC_SINGLE_SEL);
    for (const auto& [label, width] : std::initializer_list<std::pair<const char*, int>>{
             {"Therapist", 140}, {"Patients", 70}, {"Open", 50}, {"Overdue", 70}, {"Median to ack", 100}, {"p90 to ack", 90}}) {
        stats_list_->AppendColumn(label, wxLIST_FORMAT_LEFT, FromDIP(width));
    }
    sup_sizer->Add(stats_list_, 1, wxEXPAND | wxLEFT | wxRIGHT, FromDIP(4));
    // Selecting a therapist narrows the audit trail to what they viewed and did.
    stats_list_->Bind(wxEVT_LIST_ITEM_SELECTED, [this](wxListEvent& e) {
        if (rebuilding_stats_) return;
        const auto stats = therapist_stats(model_, now_ms());
        const auto row = static_cast<std::size_t>(e.GetIndex());
        audit_clinician_ = row < stats.size() ? stats[row].therapist_id : std::string{};
        refresh_audit_trail();
    });
    stats_list_->Bind(wxEVT_LIST_ITEM_DESELECTED, [this](wxListEvent&) {
        if (rebuilding_stats_) return;
        audit_clinician_.clear();
        refresh_audit_trail();
    });
    sup_sizer->Add(new wxStaticText(sup_page, wxID_ANY,
                                    "Audit trail, newest first (only the open patient's and the selected therapist's)"),
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
    inner->AddPage(sup_page, "Flags and audit");
    supervisor_outcomes_ = new SupervisorOutcomesPanel(inner, model_);
    inner->AddPage(supervisor_outcomes_, "Outcomes");
    // The outcome tables are wide: while they are shown the lists get three fifths of the window.
    inner->Bind(wxEVT_NOTEBOOK_PAGE_CHANGED, [this, inner](wxBookCtrlEvent& e) {
        e.Skip();
        if (inner->GetPage(static_cast<std::size_t>(e.GetSelection())) != supervisor_outcomes_) return;
        content_->SetSashPosition(std::max(content_->GetSashPosition(), content_->GetClientSize().x * 3 / 5));
    });
    auto* outer_sizer = new wxBoxSizer(wxVERTICAL);
    outer_sizer->Add(inner, 1, wxEXPAND);
    outer->SetSizer(outer_sizer);
    supervisor_page_ = outer;
    if (model_.self().has_role(Role::supervisor)) tabs_->AddPage(outer, "Supervisor");
    else outer->Hide();
}

void MainFrame::refresh_supervisor() {
    if (!model_.self().has_role(Role::supervisor)) return;
    const auto stats = therapist_stats(model_, now_ms());
    stats_list_->DeleteAllItems();
    auto ms = [](const std::optional<std::chrono::milliseconds>& d) {
        return d ? u8(format_duration(*d)) : u8("\u2014");
    };
    rebuilding_stats_ = true;
    for (const auto& s : stats) {
        const long i = stats_list_->InsertItem(stats_list_->GetItemCount(), u8(s.name));
        if (!audit_clinician_.empty() && s.therapist_id == audit_clinician_) {
            stats_list_->SetItemState(i, wxLIST_STATE_SELECTED, wxLIST_STATE_SELECTED);
        }
        stats_list_->SetItem(i, 1, wxString::Format("%zu", s.patients));
        stats_list_->SetItem(i, 2, wxString::Format("%zu", s.open_flags));
        stats_list_->SetItem(i, 3, s.overdue_flags ? u8(std::to_string(s.overdue_flags) + " \u26a0") : wxString("0"));
        stats_list_->SetItem(i, 4, ms(s.median_to_ack));
        stats_list_->SetItem(i, 5, ms(s.p90_to_ack));
    }
    rebuilding_stats_ = false;
    refresh_audit_trail();
    // Rebuilt on the next tick, and only while shown: the tables rescore every patient.
    supervisor_outcomes_->mark_stale();
}

void MainFrame::refresh_audit_trail() {
    AuditFilter filter;
    filter.patient_id = conversation_.patient_id();
    filter.clinician_id = audit_clinician_;
    audit_list_->DeleteAllItems();
    for (const auto& a : audit_trail(model_, filter, 200)) {
        const long i = audit_list_->InsertItem(audit_list_->GetItemCount(), u8(format_clock(a.at)));
        audit_list_->SetItem(i, 1, u8(model_.clinician_name(a.clinician_id)));
        audit_list_->SetItem(i, 2, u8(a.type));
        const auto* p = model_.patient(a.patient_id);
        audit_list_->SetItem(i, 3, u8(p != nullptr ? p->display_name : a.patient_id));
    }
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
}  // namespace tandem::clinician::views
