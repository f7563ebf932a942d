// The flag queue pane and the selected flag's detail: selecting, stepping and acting on flags.
#include <wx/button.h>
#include <wx/choicdlg.h>
#include <wx/notebook.h>
#include <wx/panel.h>
#include <wx/sizer.h>
#include <wx/textctrl.h>

#include "main_frame.h"
#include "tandem/clinician/severity_style.h"
#include "view_util.h"

namespace tandem::clinician::views {

void MainFrame::build_flag_page() {
    auto* flags_page = new wxPanel(tabs_);
    auto* flags_sizer = new wxBoxSizer(wxVERTICAL);
    flag_list_ = new FlagList(
        flags_page, flags_,
        {{"Severity", 110}, {"Patient", 140}, {"Deadline", 120}, {"Status", 110}, {"Categories", 200}},
        [](const FlagRow& row, TimePoint now) {
            // Overdue flags stand out by weight and by their "OVERDUE" text, not by colour alone.
            return std::optional<RowLook>(RowLook{row.severity, countdown(row, now).overdue});
        });
    flags_sizer->Add(flag_list_, 1, wxEXPAND | wxALL, FromDIP(4));
    flags_page->SetSizer(flags_sizer);
    tabs_->AddPage(flags_page, "Flag queue");
    flag_list_->Bind(wxEVT_LIST_ITEM_SELECTED, [this](wxListEvent& e) {
        const auto index = static_cast<std::size_t>(e.GetIndex());
        if (index < flags_.size()) {
            selected_flag_ = flags_.row(index).flag_id;
            open_patient(flags_.row(index).patient_id);
        }
    });
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
}  // namespace tandem::clinician::views
