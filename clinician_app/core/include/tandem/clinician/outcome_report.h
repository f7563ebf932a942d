#pragma once
// The exported outcome report ("Export report…"): what its header says and where each part goes
// on the page, so the PNG and the PDF (views/outcome_report_export.cpp) draw the same layout
// with the same code. No wx: the layout and the log line are tested without a display.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/clinician/actions.h"
#include "tandem/clinician/model.h"
#include "tandem/clinician/outcome_presenter.h"

namespace tandem::clinician {

/// The report's header lines.
struct ReportHeader {
    std::string title = "Outcome report";
    std::string patient;         ///< "Patient: Alex Doe (id p-123)"
    std::string clinician;       ///< "Clinician: Dr Tara Reyes"
    std::string generated;       ///< "Generated: 2026-11-26 09:14 UTC"
    std::string confidentiality = "Confidential: contains health information";
};

/// The header for a patient's report, made by the logged-in clinician at `now`. Any thread.
ReportHeader report_header(const Model& model, const std::string& patient_id, TimePoint now);

/// One part of the report placed on a page.
struct ReportBlock {
    enum class Kind { header, chart, table_head, table_row, empty_note };
    Kind kind = Kind::header;
    std::size_t index = 0;  ///< chart index (chart) or table row index (table_row)
    int page = 0;           ///< 0-based
    double y = 0;           ///< top, within its page, in report units
    double height = 0;
};

/// Where everything goes. Units: the page is `width` units wide (1 unit = 1 px in the PNG).
struct ReportLayout {
    double width = 0;
    double page_height = 0;  ///< every page's height (the PNG's one page is as tall as its content)
    int pages = 1;
    std::vector<ReportBlock> blocks;
};

/// Sizes of the report's parts, in report units.
struct ReportMetrics {
    static constexpr double width = 1000;
    static constexpr double margin = 40;
    static constexpr double header = 128;
    static constexpr double chart = 300;      ///< headline line plus the plot
    static constexpr double chart_headline = 30;
    static constexpr double table_head = 36;
    static constexpr double table_row = 24;
    static constexpr double empty_note = 40;
};

/// Lays the report out: header, one chart per instrument, then the score table. With
/// `page_height` (the PDF's pages) a part that does not fit starts a new page (the table's
/// heading is repeated on each page it continues on); without it there is one page as tall as
/// the content (the PNG). Any thread.
ReportLayout layout_report(const PatientOutcomes& outcomes, std::optional<double> page_height = std::nullopt);

/// A file name for the report: "outcomes-<patient id>-2026-11-26.<extension>". Any thread.
std::string report_file_name(const std::string& patient_id, TimePoint now, std::string_view extension);

/// The line the app logs (info level) for an export: who exported which patient's report in
/// what format. Never a score, a band, a name or any other content. Any thread.
std::string export_log_line(std::string_view format, const std::string& patient_id, const std::string& clinician_id);

/// The `report_exported` action for this report: its instruments (the charts' ids, in order)
/// and the number of scored questionnaires it shows. `format` is "pdf" or "png". Errors as
/// actions::report_exported. Any thread.
Result<ActionRequest> report_exported_action(const PatientOutcomes& outcomes, const std::string& format);

/// "pdf" or "png" from a path's extension (case-insensitive); empty for anything else. Any thread.
std::string report_format_of(const std::filesystem::path& path);

/// What the person reads when an export was not recorded in the bridge's audit log (offline, or
/// refused): "The export could not be recorded in the audit log: <reason>. Nothing was written."
/// Any thread.
std::string export_not_recorded_text(const std::string& reason);

/// How long an export waits for the bridge's answer before it gives up, unless the app says
/// otherwise (views::LiveOptions::export_audit_timeout). A few seconds: the bridge answers an
/// action in milliseconds, and the person is looking at the pane waiting.
inline constexpr std::chrono::milliseconds kExportAuditTimeout{5000};

/// What the person reads when an export gave up waiting for its audit after `waited`
/// ("... the bridge did not answer within 5 s (the connection to the bridge was lost). Nothing
/// was written. Try the export again."); `online`: the connection was still up. Any thread.
std::string export_no_answer_text(std::chrono::milliseconds waited, bool online);

/// An export whose `report_exported` action waits for the bridge's answer: exactly what will be
/// written once the bridge says ok (the report as it was when audited, not as it is later).
struct PendingExport {
    std::string action_id;
    std::string patient_id;
    std::filesystem::path path;
    ReportHeader header;
    PatientOutcomes outcomes;
    std::chrono::steady_clock::time_point deadline;  ///< no answer by then: expire() gives it up
};

/// Exports waiting for their audit: the file is written only after `action_result {ok: true}`,
/// and only while the export still waits (an answer after expire() finds nothing to write).
/// GUI thread only.
class ExportAudit {
public:
    using Clock = std::chrono::steady_clock;

    /// `timeout`: how long each export waits for its answer (see kExportAuditTimeout).
    explicit ExportAudit(std::chrono::milliseconds timeout = kExportAuditTimeout) : timeout_(timeout) {}
    /// Changes the wait for exports begun from now on.
    void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }
    std::chrono::milliseconds timeout() const { return timeout_; }

    /// Builds the action for `outcomes` to be written at `path` (format from its extension) and
    /// remembers the export under the action's id until `now` + timeout(). Errors:
    /// invalid_argument (no patient, a path that is neither .pdf nor .png, or as
    /// report_exported_action).
    Result<ActionRequest> begin(const std::filesystem::path& path, ReportHeader header, PatientOutcomes outcomes,
                                Clock::time_point now = Clock::now());
    /// Forgets an export whose action could not be sent (offline). False when unknown.
    bool cancel(const std::string& action_id);
    /// The export answered by this action result, removed; nullopt when the action is not an
    /// export (every action result passes here), was already answered, or expired.
    std::optional<PendingExport> complete(const std::string& action_id);
    /// The exports still unanswered at their deadline (at or before `now`), removed, earliest
    /// deadline first: the caller says so, writes nothing and stops waiting for their actions.
    std::vector<PendingExport> expire(Clock::time_point now = Clock::now());
    /// Exports still waiting for the bridge.
    std::size_t waiting() const { return pending_.size(); }

private:
    std::chrono::milliseconds timeout_;
    std::map<std::string, PendingExport> pending_;
};

}  // namespace tandem::clinician
