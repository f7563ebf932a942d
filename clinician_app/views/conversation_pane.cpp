// The conversation pane: the open patient's transcript with evidence highlighted, the flag
// detail box, held AI replies, the composer, and the patient-level actions.
#include <algorithm>

#include <wx/button.h>
#include <wx/msgdlg.h>
#include <wx/panel.h>
#include <wx/sizer.h>
#include <wx/splitter.h>
#include <wx/statbox.h>
#include <wx/stattext.h>
#include <wx/textctrl.h>

#include <wx/notebook.h>

#include "main_frame.h"
#include "outcome_pane.h"
#include "tandem/clinician/severity_style.h"
#include "view_util.h"

namespace tandem::clinician::views {

wxWindow* MainFrame::build_conversation_pane() {
    // The patient's conversation with its flag detail, held replies and composer; beside it, a
    // tab with the patient's questionnaire outcomes (outcome_pane.cpp).
    auto* book = new wxNotebook(content_, wxID_ANY);
    auto* right = new wxPanel(book);
    auto* rs = new wxBoxSizer(wxVERTICAL);
    auto* head_row = new wxBoxSizer(wxHORIZONTAL);
    header_ = new wxStaticText(right, wxID_ANY, "No patient selected", wxDefaultPosition, wxDefaultSize,
                               wxST_ELLIPSIZE_END);
    header_->SetFont(heading_font(*header_));
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
    book->AddPage(right, "Conversation");
    outcomes_ = new OutcomesPanel(book, model_);
    // An export is an audited action: it takes the same path (and waiting count) as the others.
    outcomes_->set_action_sender([this](const ActionRequest& r) { return try_send(r); });
    outcomes_->set_action_withdrawer([this](const std::string& action_id) { withdraw_action(action_id); });
    book->AddPage(outcomes_, "Outcomes");
    return book;
}

void MainFrame::refresh_conversation() {
    outcomes_->show_patient(conversation_.patient_id());
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
}  // namespace tandem::clinician::views
