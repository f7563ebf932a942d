// The caseload pane: search, filter, sort by column, open a patient.
#include <algorithm>

#include <wx/button.h>
#include <wx/choice.h>
#include <wx/notebook.h>
#include <wx/panel.h>
#include <wx/sizer.h>
#include <wx/textctrl.h>

#include "main_frame.h"
#include "plan_caseload_list.h"
#include "view_util.h"

namespace tandem::clinician::views {

void MainFrame::build_caseload_page() {
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
    auto* plan_button = new wxButton(caseload_page, id_plan_review, u8("Treatment &plan…"));
    plan_button->SetToolTip("Review, edit and approve the open patient's treatment plan (Ctrl+Shift+T)");
    plan_button->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) { open_plan_review(plan_patient()); });
    filter_row->Add(plan_button, 0, wxLEFT, FromDIP(6));
    caseload_sizer->Add(filter_row, 0, wxEXPAND | wxALL, FromDIP(4));
    // State also marks a treatment plan proposal waiting for review (plan_caseload_list.h).
    caseload_list_ = new PlanCaseloadList(
        caseload_page, caseload_, model_,
        {{"Open severity", 95}, {"Patient", 135}, {"State", 185}, {"Flags", 45, wxLIST_FORMAT_RIGHT},
         {"Last activity", 90}, {"Therapist", 120}},
        [](const CaseloadRow& row, TimePoint) -> std::optional<RowLook> {
            if (row.open_flags == 0 && !row.in_crisis) return std::nullopt;
            return RowLook{row.in_crisis ? std::max(row.highest_open, Severity::high) : row.highest_open, false};
        });
    caseload_sizer->Add(caseload_list_, 1, wxEXPAND | wxLEFT | wxRIGHT | wxBOTTOM, FromDIP(4));
    caseload_page->SetSizer(caseload_sizer);
    tabs_->AddPage(caseload_page, "Caseload");
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

}  // namespace tandem::clinician::views
