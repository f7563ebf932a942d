#include "tandem/clinician/outcome_report.h"

#include <algorithm>
#include <cctype>

#include "tandem/clinician/outcome_text.h"

namespace tandem::clinician {

ReportHeader report_header(const Model& model, const std::string& patient_id, TimePoint now) {
    ReportHeader h;
    const auto* p = model.patient(patient_id);
    const std::string name = p != nullptr && !p->display_name.empty() ? p->display_name : patient_id;
    h.patient = "Patient: " + name + (name != patient_id ? " (id " + patient_id + ")" : std::string{});
    std::string clinician = model.self().display_name.empty() ? model.self().id : model.self().display_name;
    if (clinician.empty()) clinician = "(not logged in)";
    h.clinician = "Clinician: " + clinician;
    h.generated = "Generated: " + date_text(now) + " " + format_clock(now) + " UTC";
    return h;
}

ReportLayout layout_report(const PatientOutcomes& outcomes, std::optional<double> page_height) {
    using M = ReportMetrics;
    ReportLayout out;
    out.width = M::width;
    int page = 0;
    double y = M::margin;
    const double limit = page_height ? *page_height - M::margin : 0;
    // Starts a new page when `height` would cross the bottom margin (never for the PNG, and never
    // for a part at the top of a page: a part taller than a page is drawn clipped, not lost).
    auto place = [&](ReportBlock::Kind kind, std::size_t index, double height) {
        if (page_height && y + height > limit && y > M::margin) {
            ++page;
            y = M::margin;
        }
        out.blocks.push_back(ReportBlock{kind, index, page, y, height});
        y += height;
    };
    place(ReportBlock::Kind::header, 0, M::header);
    if (outcomes.empty()) {
        place(ReportBlock::Kind::empty_note, 0, M::empty_note);
    } else {
        for (std::size_t i = 0; i < outcomes.charts.size(); ++i) place(ReportBlock::Kind::chart, i, M::chart);
        place(ReportBlock::Kind::table_head, 0, M::table_head);
        for (std::size_t i = 0; i < outcomes.table.size(); ++i) {
            // A table continued on a new page gets its heading again, so columns stay readable.
            if (page_height && y + M::table_row > limit && y > M::margin) {
                ++page;
                y = M::margin;
                place(ReportBlock::Kind::table_head, 0, M::table_head);
            }
            place(ReportBlock::Kind::table_row, i, M::table_row);
        }
    }
    out.pages = page + 1;
    out.page_height = page_height ? *page_height : y + M::margin;
    return out;
}

std::string report_file_name(const std::string& patient_id, TimePoint now, std::string_view extension) {
    return "outcomes-" + patient_id + "-" + date_text(now) + "." + std::string(extension);
}

std::string export_log_line(std::string_view format, const std::string& patient_id, const std::string& clinician_id) {
    return "info: outcome report exported (" + std::string(format) + ") patient_id=" + patient_id +
           " clinician_id=" + clinician_id;
}

Result<ActionRequest> report_exported_action(const PatientOutcomes& outcomes, const std::string& format) {
    if (outcomes.patient_id.empty()) return fail(ErrorCode::invalid_argument, "no patient is open", "patient_id");
    std::vector<std::string> instruments;
    std::size_t count = 0;
    for (const auto& chart : outcomes.charts) {
        instruments.push_back(chart.instrument);
        count += chart.points.size();
    }
    return actions::report_exported(outcomes.patient_id, format, instruments, count);
}

std::string report_format_of(const std::filesystem::path& path) {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext == ".pdf") return "pdf";
    if (ext == ".png") return "png";
    return {};
}

std::string export_not_recorded_text(const std::string& reason) {
    return "The export could not be recorded in the audit log: " + (reason.empty() ? std::string{"no reason given"} : reason) +
           ". Nothing was written.";
}

std::string export_no_answer_text(std::chrono::milliseconds waited, bool online) {
    const auto seconds = std::chrono::ceil<std::chrono::seconds>(waited).count();
    return export_not_recorded_text("the bridge did not answer within " + std::to_string(seconds) + " s" +
                                    (online ? std::string{} : std::string{" (the connection to the bridge was lost)"})) +
           " Try the export again.";
}

Result<ActionRequest> ExportAudit::begin(const std::filesystem::path& path, ReportHeader header,
                                         PatientOutcomes outcomes, Clock::time_point now) {
    const std::string format = report_format_of(path);
    if (format.empty()) {
        return fail(ErrorCode::invalid_argument, "a report is written as .pdf or .png, not '" + path.extension().string() + "'",
                    "path");
    }
    auto request = report_exported_action(outcomes, format);
    if (!request) return request;
    PendingExport pending{request->action_id, outcomes.patient_id, path, std::move(header), std::move(outcomes),
                          now + timeout_};
    pending_.emplace(request->action_id, std::move(pending));
    return request;
}

bool ExportAudit::cancel(const std::string& action_id) { return pending_.erase(action_id) != 0; }

std::optional<PendingExport> ExportAudit::complete(const std::string& action_id) {
    const auto it = pending_.find(action_id);
    if (it == pending_.end()) return std::nullopt;
    PendingExport out = std::move(it->second);
    pending_.erase(it);
    return out;
}

std::vector<PendingExport> ExportAudit::expire(Clock::time_point now) {
    std::vector<PendingExport> out;
    for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->second.deadline <= now) {
            out.push_back(std::move(it->second));
            it = pending_.erase(it);
        } else {
            ++it;
        }
    }
    std::sort(out.begin(), out.end(), [](const PendingExport& a, const PendingExport& b) { return a.deadline < b.deadline; });
    return out;
}

}  // namespace tandem::clinician
