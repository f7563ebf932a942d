#pragma once
// The Outcomes tab beside the conversation (one chart per instrument, the score table, "Export
// report…") and the supervisor's Outcomes page (the caseload outcome table and the per-patient
// table with alliance scores). Thin: everything shown comes from outcome_presenter.h and
// outcome_table.h. Views only.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <wx/panel.h>

#include "tandem/clinician/actions.h"
#include "tandem/clinician/model.h"
#include "tandem/clinician/outcome_presenter.h"
#include "tandem/clinician/outcome_report.h"
#include "tandem/clinician/outcome_table.h"
#include "tandem/domain/error.h"

class wxButton;
class wxChoice;
class wxListCtrl;
class wxListEvent;
class wxScrolledWindow;
class wxStaticText;

namespace tandem::clinician::views {

class OutcomeChartPanel;

/// GUI thread only.
class OutcomesPanel : public wxPanel {
public:
    OutcomesPanel(wxWindow* parent, const Model& model);

    /// Shows this patient (empty: none); redraws only when the patient or the book changed.
    void show_patient(const std::string& patient_id);
    /// Redraws if the model's assessments changed since the last draw (a fetch reply arrived).
    void refresh_if_changed();
    /// Where the export's `report_exported` action goes (the frame's action path: the session,
    /// or the demo's stand-in bridge); it returns false when the action could not be sent.
    void set_action_sender(std::function<bool(const ActionRequest&)> sender) { sender_ = std::move(sender); }
    /// How an export that gave up waiting stops its action (the frame: no longer counted as
    /// waiting, and the session neither resends it nor reports a late answer).
    void set_action_withdrawer(std::function<void(const std::string&)> withdrawer) {
        withdrawer_ = std::move(withdrawer);
    }
    /// How long an export waits for the bridge's answer (kExportAuditTimeout unless the app sets another).
    void set_audit_timeout(std::chrono::milliseconds timeout) { audit_.set_timeout(timeout); }
    /// Whether the bridge can be reached (the frame's online state): exports are audited first.
    void set_online(bool online) { online_ = online; }
    /// Exports the open patient's report to `path` (.pdf or .png): sends `report_exported` and
    /// remembers the report as it is now; the file is written by on_action_result once the
    /// bridge answers ok. Offline, unsendable or invalid: an error, nothing written, and the
    /// panel says why. The button asks for the path, then calls this.
    Result<void> request_export(const std::filesystem::path& path);
    /// Every action result passes here: the export it answers is written (ok) or dropped with
    /// the refusal shown (not ok). False when the action was not an export.
    bool on_action_result(const std::string& action_id, bool ok, const std::string& error);
    /// Gives up on exports whose answer is overdue: nothing is written, the action is withdrawn
    /// and the panel says why. The frame calls it on every tick (also while locked).
    void expire_exports();

    // Read-only probes for the GUI tests.
    const PatientOutcomes& outcomes() const { return outcomes_; }
    /// What the panel says about the last export (written, waiting, or why nothing was written).
    const std::string& export_message() const { return export_message_text_; }
    /// Exports waiting for the bridge's answer.
    std::size_t exports_waiting() const { return audit_.waiting(); }
    std::vector<OutcomeChartPanel*> chart_panels() const { return charts_; }
    long table_rows() const;

private:
    void rebuild();
    void on_export(wxCommandEvent&);
    /// Shows a line about the export under the title (`problem`: in the refusal colour).
    void say_export(const std::string& text, bool problem);

    const Model& model_;
    std::function<bool(const ActionRequest&)> sender_;
    std::function<void(const std::string&)> withdrawer_;
    bool online_ = false;
    ExportAudit audit_;
    std::string export_message_text_;
    wxStaticText* export_message_ = nullptr;
    std::string patient_id_;
    std::uint64_t shown_revision_ = 0;
    bool drawn_ = false;
    PatientOutcomes outcomes_;
    wxStaticText* title_ = nullptr;
    wxStaticText* note_ = nullptr;
    wxButton* export_button_ = nullptr;
    wxScrolledWindow* chart_area_ = nullptr;
    std::vector<OutcomeChartPanel*> charts_;
    wxListCtrl* table_ = nullptr;
};

/// The supervisor's outcome page. GUI thread only.
class SupervisorOutcomesPanel : public wxPanel {
public:
    SupervisorOutcomesPanel(wxWindow* parent, const Model& model);

    /// Rebuilds both tables from the model now (keeps the chosen sort).
    void refresh();
    /// Rebuilds only if the model's assessments changed since the last refresh(), or after mark_stale().
    void refresh_if_changed();
    /// Something else changed (names, assignments): the next refresh_if_changed() rebuilds.
    void mark_stale() { drawn_ = false; }
    /// Sets the instrument the caseload table is about ("phq9", "gad7").
    void set_instrument(const std::string& instrument);
    /// How "Load every patient's scores" asks the bridge for one patient's history (the live app
    /// passes FeedSession::fetch_assessments; false when offline). Without one the button is hidden.
    void set_fetcher(std::function<bool(const std::string&)> fetcher);
    /// Asks for every patient's scores, as the button does; returns how many requests were sent.
    std::size_t fetch_all();

    // Read-only probes for the GUI tests.
    const SortableTable& caseload_table() const { return caseload_; }
    const SortableTable& patient_table() const { return patients_; }
    /// Sorts the caseload table as a header click does (a second click on a column reverses).
    void sort_caseload(std::size_t column);

private:
    void fill(wxListCtrl* list, const SortableTable& table);

    const Model& model_;
    std::string instrument_ = "phq9";
    std::uint64_t shown_revision_ = 0;
    bool drawn_ = false;
    SortableTable caseload_;
    SortableTable patients_;
    std::function<bool(const std::string&)> fetcher_;
    wxButton* fetch_button_ = nullptr;
    wxChoice* instrument_choice_ = nullptr;
    wxListCtrl* caseload_list_ = nullptr;
    wxListCtrl* patient_list_ = nullptr;
};

}  // namespace tandem::clinician::views
