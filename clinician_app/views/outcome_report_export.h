#pragma once
// Writes a patient's outcome report (core's outcome_report.h layout) as PNG or PDF. Both go
// through cairo (a cairo image surface, a cairo PDF surface) and wx's cairo graphics context,
// so the report is drawn by the same chart code as the screen. Views only.

#include <filesystem>

#include "tandem/clinician/outcome_report.h"
#include "tandem/domain/error.h"

namespace tandem::clinician::views {

/// One page of A4 in PDF points.
inline constexpr double kA4WidthPt = 595.276;
inline constexpr double kA4HeightPt = 841.89;

/// Writes the report as one PNG, ReportMetrics::width pixels wide and as tall as its content
/// (layout_report without pages). ErrorCode::io naming the path when cairo cannot write it. GUI thread.
Result<void> export_report_png(const std::filesystem::path& path, const ReportHeader& header,
                               const PatientOutcomes& outcomes);

/// Writes the report as a PDF of A4 pages (vector text and lines). ErrorCode::io as above. GUI thread.
Result<void> export_report_pdf(const std::filesystem::path& path, const ReportHeader& header,
                               const PatientOutcomes& outcomes);

/// PNG or PDF by the path's extension (case-insensitive); ErrorCode::invalid_argument for any
/// other. GUI thread.
Result<void> export_report(const std::filesystem::path& path, const ReportHeader& header,
                           const PatientOutcomes& outcomes);

}  // namespace tandem::clinician::views
