// The Outcomes tab (per patient) and the supervisor's Outcomes page.
#include "outcome_pane.h"

#include <algorithm>
#include <cstdio>

#include <wx/button.h>
#include <wx/choice.h>
#include <wx/filedlg.h>
#include <wx/listctrl.h>
#include <wx/msgdlg.h>
#include <wx/scrolwin.h>
#include <wx/sizer.h>
#include <wx/stattext.h>

#include "outcome_chart.h"
#include "outcome_report_export.h"
#include "tandem/clinician/outcome_report.h"
#include "tandem/measures/measures.h"
#include "view_util.h"

namespace tandem::clinician::views {
namespace {

const InstrumentRegistry& registry() { return InstrumentRegistry::builtin(); }

// The app's log: standard error, one line per event, never content (scores, names, text).
void log_info(const std::string& line) { std::fprintf(stderr, "tandem-clinician: %s\n", line.c_str()); }

}  // namespace

OutcomesPanel::OutcomesPanel(wxWindow* parent, const Model& model) : wxPanel(parent, wxID_ANY), model_(model) {
    auto* s = new wxBoxSizer(wxVERTICAL);
    auto* head = new wxBoxSizer(wxHORIZONTAL);
    title_ = new wxStaticText(this, wxID_ANY, "Outcomes", wxDefaultPosition, wxDefaultSize, wxST_ELLIPSIZE_END);
    title_->SetFont(heading_font(*title_));
    head->Add(title_, 1, wxALIGN_CENTER_VERTICAL);
    export_button_ = new wxButton(this, wxID_ANY, u8("Export report\u2026"));
    export_button_->SetToolTip("Save this patient's charts and scores as a PDF or PNG report to file");
    head->Add(export_button_, 0, wxLEFT, FromDIP(6));
    s->Add(head, 0, wxEXPAND | wxALL, FromDIP(6));
    note_ = new wxStaticText(this, wxID_ANY, "");
    note_->SetForegroundColour(wxColour(90, 90, 90));
    s->Add(note_, 0, wxLEFT | wxRIGHT | wxBOTTOM, FromDIP(6));
    export_message_ = new wxStaticText(this, wxID_ANY, "");
    export_message_->Hide();
    s->Add(export_message_, 0, wxEXPAND | wxLEFT | wxRIGHT | wxBOTTOM, FromDIP(6));

    chart_area_ = new wxScrolledWindow(this, wxID_ANY, wxDefaultPosition, wxDefaultSize, wxVSCROLL);
    chart_area_->SetScrollRate(0, FromDIP(12));
    chart_area_->SetSizer(new wxBoxSizer(wxVERTICAL));
    s->Add(chart_area_, 1, wxEXPAND | wxLEFT | wxRIGHT, FromDIP(6));

    s->Add(new wxStaticText(this, wxID_ANY, "Scores, newest first"), 0, wxLEFT | wxTOP, FromDIP(6));
    table_ = new wxListCtrl(this, wxID_ANY, wxDefaultPosition, FromDIP(wxSize(-1, 118)), wxLC_REPORT | wxLC_SINGLE_SEL);
    for (const auto& [label, width] : std::initializer_list<std::pair<const char*, int>>{
             {"Date", 90}, {"Instrument", 80}, {"Score", 100}, {"Band", 130}, {"Change", 150}}) {
        table_->AppendColumn(label, wxLIST_FORMAT_LEFT, FromDIP(width));
    }
    s->Add(table_, 0, wxEXPAND | wxALL, FromDIP(6));
    SetSizer(s);
    export_button_->Bind(wxEVT_BUTTON, &OutcomesPanel::on_export, this);
    rebuild();
}

void OutcomesPanel::show_patient(const std::string& patient_id) {
    if (drawn_ && patient_id == patient_id_ && shown_revision_ == model_.assessments().revision()) return;
    patient_id_ = patient_id;
    rebuild();
}

void OutcomesPanel::refresh_if_changed() {
    if (shown_revision_ != model_.assessments().revision()) rebuild();
}

long OutcomesPanel::table_rows() const { return table_->GetItemCount(); }

void OutcomesPanel::rebuild() {
    drawn_ = true;
    shown_revision_ = model_.assessments().revision();
    outcomes_ = patient_id_.empty() ? PatientOutcomes{} : patient_outcomes(model_.assessments(), registry(), patient_id_);
    const auto* p = model_.patient(patient_id_);
    title_->SetLabel(u8(patient_id_.empty() ? std::string{"Outcomes"}
                                           : "Outcomes \u2014 " + (p != nullptr ? p->display_name : patient_id_)));
    if (patient_id_.empty()) note_->SetLabel("Open a patient to see their questionnaire scores over time.");
    else if (outcomes_.empty()) note_->SetLabel("No scored questionnaires for this patient yet.");
    else note_->SetLabel("Bands from each instrument's definition. Hover a point for its answers; hollow = prorated.");
    export_button_->Enable(!patient_id_.empty());

    chart_area_->Freeze();
    // Reuse panels while the instruments stay the same, so a redraw does not flicker.
    const bool same = charts_.size() == outcomes_.charts.size() &&
                      std::equal(charts_.begin(), charts_.end(), outcomes_.charts.begin(),
                                 [](const OutcomeChartPanel* panel, const InstrumentChart& c) {
                                     return panel->chart().instrument == c.instrument;
                                 });
    if (same) {
        for (std::size_t i = 0; i < charts_.size(); ++i) charts_[i]->set_chart(outcomes_.charts[i]);
    } else {
        chart_area_->GetSizer()->Clear(true);
        charts_.clear();
        for (const auto& chart : outcomes_.charts) {
            auto* panel = new OutcomeChartPanel(chart_area_, chart);
            chart_area_->GetSizer()->Add(panel, 1, wxEXPAND | wxBOTTOM, FromDIP(6));
            charts_.push_back(panel);
        }
    }
    chart_area_->FitInside();
    chart_area_->Layout();
    chart_area_->Thaw();

    table_->DeleteAllItems();
    for (const auto& row : outcomes_.table) {
        const long i = table_->InsertItem(table_->GetItemCount(), u8(row.date));
        table_->SetItem(i, 1, u8(row.instrument));
        table_->SetItem(i, 2, u8(row.score));
        table_->SetItem(i, 3, u8(row.band));
        table_->SetItem(i, 4, u8(row.change));
    }
    Layout();
}

void OutcomesPanel::say_export(const std::string& text, bool problem) {
    export_message_text_ = text;
    // A glyph and words, not only a colour: a refusal reads as one in grey too.
    export_message_->SetLabel(u8((problem ? "\u26a0 " : "\u2713 ") + text));
    export_message_->SetForegroundColour(problem ? wxColour(160, 30, 30) : wxColour(20, 110, 40));
    export_message_->Show(!text.empty());
    export_message_->Wrap(std::max(GetClientSize().x - FromDIP(12), FromDIP(300)));
    Layout();
}

Result<void> OutcomesPanel::request_export(const std::filesystem::path& path) {
    if (patient_id_.empty()) return fail(ErrorCode::invalid_argument, "no patient is open");
    // The audit comes first: offline, or for someone the bridge would refuse, nothing is asked.
    const auto can = availability(model_, online_, patient_id_);
    if (!can.enabled) {
        say_export(export_not_recorded_text(can.reason), true);
        return fail(ErrorCode::unavailable, export_not_recorded_text(can.reason));
    }
    auto request = audit_.begin(path, report_header(model_, patient_id_, now_ms()), outcomes_);
    if (!request) {
        say_export(request.error().message, true);
        return std::unexpected(request.error());
    }
    const std::string id = request->action_id;
    say_export("Recording the export in the audit log (waiting up to " +
                   std::to_string(std::chrono::ceil<std::chrono::seconds>(audit_.timeout()).count()) +
                   " s for the bridge)\u2026",
               false);
    if (!sender_ || !sender_(*request)) {
        audit_.cancel(id);
        const std::string text = export_not_recorded_text("Offline: actions need the bridge");
        say_export(text, true);
        return fail(ErrorCode::unavailable, text);
    }
    return {};
}

bool OutcomesPanel::on_action_result(const std::string& action_id, bool ok, const std::string& error) {
    auto pending = audit_.complete(action_id);
    if (!pending) return false;
    if (!ok) {
        say_export(export_not_recorded_text(error), true);
        return true;
    }
    // The report as it was when the export was audited (instruments and count match the event).
    auto written = views::export_report(pending->path, pending->header, pending->outcomes);
    if (!written) {
        say_export("The export was recorded in the audit log, but the file could not be written: " +
                       written.error().message,
                   true);
        return true;
    }
    // The app's own log keeps its line (who, whose, which format; never content).
    log_info(export_log_line(report_format_of(pending->path), pending->patient_id, model_.self().id));
    say_export("Report written to " + pending->path.string() + " (the export is in the audit log).", false);
    return true;
}

void OutcomesPanel::expire_exports() {
    if (audit_.waiting() == 0) return;
    // Rejected: failing at once when the connection drops. The session resends the action after
    // a quick reconnect (the bridge is idempotent on its id), so a blip still exports; the
    // deadline alone bounds the wait, whatever the cause (bridge gone, silent, an error frame
    // that names no request).
    for (const auto& gone : audit_.expire()) {
        if (withdrawer_) withdrawer_(gone.action_id);
        // Not logged: only a written export has its line in the app's log.
        say_export(export_no_answer_text(audit_.timeout(), online_), true);
    }
}

void OutcomesPanel::on_export(wxCommandEvent&) {
    if (patient_id_.empty()) return;
    // Say at once why an export cannot be audited, before anyone picks a file.
    if (const auto can = availability(model_, online_, patient_id_); !can.enabled) {
        say_export(export_not_recorded_text(can.reason), true);
        return;
    }
    wxFileDialog dialog(this, "Export outcome report", "", u8(report_file_name(patient_id_, now_ms(), "pdf")),
                        "PDF report (*.pdf)|*.pdf|PNG image (*.png)|*.png", wxFD_SAVE | wxFD_OVERWRITE_PROMPT);
    if (dialog.ShowModal() != wxID_OK) return;
    std::filesystem::path path(dialog.GetPath().utf8_string());
    // The filter chosen decides the format when the name has no (or another) extension.
    const std::string wanted = dialog.GetFilterIndex() == 1 ? ".png" : ".pdf";
    if (path.extension() != ".pdf" && path.extension() != ".png") path += wanted;
    // Errors are shown in the panel by request_export itself.
    (void)request_export(path);
}

SupervisorOutcomesPanel::SupervisorOutcomesPanel(wxWindow* parent, const Model& model)
    : wxPanel(parent, wxID_ANY), model_(model) {
    auto* s = new wxBoxSizer(wxVERTICAL);
    auto* head = new wxBoxSizer(wxHORIZONTAL);
    head->Add(new wxStaticText(this, wxID_ANY, "Caseload outcomes on"), 0, wxALIGN_CENTER_VERTICAL | wxRIGHT, FromDIP(6));
    instrument_choice_ = new wxChoice(this, wxID_ANY);
    instrument_choice_->Append("PHQ-9 (depression)");
    instrument_choice_->Append("GAD-7 (anxiety)");
    instrument_choice_->SetSelection(0);
    head->Add(instrument_choice_, 0, wxALIGN_CENTER_VERTICAL);
    head->AddStretchSpacer();
    // The feed brings new scores; older ones (before this app's cache) come per patient. Each
    // fetch is a view the bridge audits, so it is a deliberate press, not automatic.
    fetch_button_ = new wxButton(this, wxID_ANY, u8("Load every patient's scores"));
    fetch_button_->SetToolTip("Ask the bridge for each patient's questionnaire history (each request is audited as a view)");
    fetch_button_->Hide();
    head->Add(fetch_button_, 0, wxALIGN_CENTER_VERTICAL | wxLEFT, FromDIP(6));
    s->Add(head, 0, wxEXPAND | wxALL, FromDIP(4));
    auto* explain = new wxStaticText(this, wxID_ANY,
                                     "Rates are over patients with a baseline and a later score. Click a column to sort.");
    explain->SetForegroundColour(wxColour(90, 90, 90));
    s->Add(explain, 0, wxLEFT | wxRIGHT | wxBOTTOM, FromDIP(4));
    caseload_list_ = new wxListCtrl(this, wxID_ANY, wxDefaultPosition, wxDefaultSize, wxLC_REPORT | wxLC_SINGLE_SEL);
    s->Add(caseload_list_, 2, wxEXPAND | wxLEFT | wxRIGHT, FromDIP(4));
    s->Add(new wxStaticText(this, wxID_ANY, "Patients: baseline \u2192 latest with outcome, and working alliance"), 0,
           wxALL, FromDIP(4));
    patient_list_ = new wxListCtrl(this, wxID_ANY, wxDefaultPosition, wxDefaultSize, wxLC_REPORT | wxLC_SINGLE_SEL);
    s->Add(patient_list_, 3, wxEXPAND | wxLEFT | wxRIGHT | wxBOTTOM, FromDIP(4));
    SetSizer(s);

    fetch_button_->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) { fetch_all(); });
    instrument_choice_->Bind(wxEVT_CHOICE, [this](wxCommandEvent&) {
        set_instrument(instrument_choice_->GetSelection() == 1 ? "gad7" : "phq9");
    });
    caseload_list_->Bind(wxEVT_LIST_COL_CLICK, [this](wxListEvent& e) {
        if (e.GetColumn() >= 0) sort_caseload(static_cast<std::size_t>(e.GetColumn()));
    });
    patient_list_->Bind(wxEVT_LIST_COL_CLICK, [this](wxListEvent& e) {
        if (e.GetColumn() < 0) return;
        const auto column = static_cast<std::size_t>(e.GetColumn());
        const bool ascending = patients_.sorted_column() != column || !patients_.ascending();
        patients_.sort_by(column, ascending);
        fill(patient_list_, patients_);
    });
}

void SupervisorOutcomesPanel::set_instrument(const std::string& instrument) {
    instrument_ = instrument;
    instrument_choice_->SetSelection(instrument == "gad7" ? 1 : 0);
    refresh();
}

void SupervisorOutcomesPanel::set_fetcher(std::function<bool(const std::string&)> fetcher) {
    fetcher_ = std::move(fetcher);
    fetch_button_->Show(static_cast<bool>(fetcher_));
    Layout();
}

std::size_t SupervisorOutcomesPanel::fetch_all() {
    if (!fetcher_) return 0;
    std::size_t sent = 0;
    for (const auto& [id, patient] : model_.patients()) {
        if (!fetcher_(id)) break;  // offline: the rest would fail too
        ++sent;
    }
    return sent;
}

void SupervisorOutcomesPanel::sort_caseload(std::size_t column) {
    const bool ascending = caseload_.sorted_column() != column || !caseload_.ascending();
    caseload_.sort_by(column, ascending);
    fill(caseload_list_, caseload_);
}

void SupervisorOutcomesPanel::refresh_if_changed() {
    if (!drawn_ || shown_revision_ != model_.assessments().revision()) refresh();
}

void SupervisorOutcomesPanel::refresh() {
    drawn_ = true;
    shown_revision_ = model_.assessments().revision();
    const auto caseload_sort = caseload_.sorted_column();
    const bool caseload_asc = caseload_.ascending();
    const auto patient_sort = patients_.sorted_column();
    const bool patient_asc = patients_.ascending();
    caseload_ = caseload_outcome_table(model_, registry(), instrument_);
    patients_ = patient_outcome_table(model_, registry(), {"phq9", "gad7"});
    if (caseload_sort) caseload_.sort_by(*caseload_sort, caseload_asc);
    if (patient_sort) patients_.sort_by(*patient_sort, patient_asc);
    fill(caseload_list_, caseload_);
    fill(patient_list_, patients_);
}

void SupervisorOutcomesPanel::fill(wxListCtrl* list, const SortableTable& table) {
    list->Freeze();
    if (list->GetColumnCount() != static_cast<int>(table.headers.size())) {
        list->DeleteAllColumns();
        // Widths for what the cells hold ("54% (7 of 13)", "14 → 6 (−57%) · response · …").
        static const std::vector<int> kCaseload{125, 55, 75, 112, 112, 112, 95, 90};
        static const std::vector<int> kPatients{120, 105, 320, 250, 60};
        const auto& widths = list == caseload_list_ ? kCaseload : kPatients;
        for (std::size_t c = 0; c < table.headers.size(); ++c) {
            const int width = c < widths.size() ? widths[c] : 110;
            list->AppendColumn(u8(table.headers[c]), wxLIST_FORMAT_LEFT, FromDIP(width));
        }
    }
    // The sorted column says so in its heading (▲/▼), not only by row order.
    for (std::size_t c = 0; c < table.headers.size(); ++c) {
        std::string heading = table.headers[c];
        if (table.sorted_column() == c) heading += table.ascending() ? " \u25b2" : " \u25bc";
        wxListItem item;
        item.SetMask(wxLIST_MASK_TEXT);
        item.SetText(u8(heading));
        list->SetColumn(static_cast<int>(c), item);
    }
    list->DeleteAllItems();
    for (std::size_t r = 0; r < table.size(); ++r) {
        const auto& row = table.row(r);
        const long i = list->InsertItem(list->GetItemCount(), u8(row[0].text));
        for (std::size_t c = 1; c < row.size(); ++c) list->SetItem(i, static_cast<long>(c), u8(row[c].text));
        if (r == table.rows.size()) {
            wxFont bold = list->GetFont();
            bold.SetWeight(wxFONTWEIGHT_BOLD);
            list->SetItemFont(i, bold);
        }
    }
    list->Thaw();
}

}  // namespace tandem::clinician::views
