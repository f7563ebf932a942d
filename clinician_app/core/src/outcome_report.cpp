#include "tandem/clinician/outcome_report.h"

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

}  // namespace tandem::clinician
