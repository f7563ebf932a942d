#pragma once
// A patient's outcomes as the Outcomes pane and the exported report show them: one chart per
// instrument (band shading, points with their item answers, the outcome headline) and a score
// table. The numbers and labels come from the measures library (tandem/measures/measures.h);
// this file only arranges them and places them on a chart. No wx: tested without a display.

#include <optional>
#include <string>
#include <vector>

#include "tandem/clinician/outcome_series.h"
#include "tandem/clinician/severity_style.h"
#include "tandem/clinician/time_text.h"
#include "tandem/domain/records.h"

namespace tandem {
class InstrumentRegistry;
struct InstrumentDefinition;
struct Outcome;
}  // namespace tandem

namespace tandem::clinician {

/// How an outcome reads at a glance; the headline's words say the same (never colour alone).
enum class OutcomeTone { neutral, improving, worsening };

/// A band of the total shaded behind a chart, in score units (a band 5..9 covers 4.5..9.5).
struct ChartBand {
    double low = 0;
    double high = 0;
    std::string title;  ///< "Moderately severe"
    Rgb fill;           ///< muted; darker bands for worse scores
};

/// One scored questionnaire on a chart.
struct ChartPoint {
    std::string assessment_id;
    TimePoint at{};
    int score = 0;
    std::string band_title;  ///< empty when the instrument has no bands
    bool prorated = false;   ///< scored with missing items filled in (shown hollow)
    std::string tooltip;     ///< date, score and band, then every item with its answer's label
};

/// One instrument's chart for one patient.
struct InstrumentChart {
    std::string instrument;     ///< "phq9"
    std::string title;          ///< "PHQ-9" (the definition's short title, else the id)
    std::string headline;       ///< "PHQ-9 14 → 6 (−57%) · response · reliable improvement"
    std::vector<std::string> labels;  ///< the outcome words of the headline, in order
    OutcomeTone tone = OutcomeTone::neutral;
    double y_min = 0;           ///< the lowest and highest possible totals
    double y_max = 0;
    bool higher_is_better = false;
    std::vector<ChartBand> bands;   ///< low to high score
    std::vector<ChartPoint> points; ///< oldest first
};

/// One row of the score table, newest first.
struct ScoreRow {
    std::string date;        ///< "2026-11-26"
    std::string instrument;  ///< "PHQ-9"
    std::string score;       ///< "14", "14 (prorated)"
    std::string band;        ///< "Moderate", or "" without bands
    std::string change;      ///< "−8 from baseline", "baseline", ""
};

/// Everything the Outcomes pane and the report show for one patient.
struct PatientOutcomes {
    std::string patient_id;
    std::vector<InstrumentChart> charts;  ///< clinical order (PHQ-9, GAD-7, C-SSRS, WAI-SR, others)
    std::vector<ScoreRow> table;
    /// True when the patient has no scored questionnaire at all.
    bool empty() const { return charts.empty(); }
};

/// The outcome words of a library Outcome in reading order: "response", "remission",
/// "reliable improvement", "deterioration", "no reliable change" (only for an instrument that
/// defines a reliable change), "baseline only". Any thread.
std::vector<std::string> outcome_words(const InstrumentDefinition* definition, const Outcome& outcome);

/// "PHQ-9 14 → 6 (−57%) · response · reliable improvement"; "GAD-7 9 (baseline only)". Any thread.
std::string outcome_headline(const std::string& title, const Outcome& outcome, const std::vector<std::string>& words);

/// Builds the charts and table for a patient from the book. An instrument the registry does not
/// know is charted without bands, y from 0 to its highest score. Any thread.
PatientOutcomes patient_outcomes(const AssessmentBook& book, const InstrumentRegistry& registry,
                                 const std::string& patient_id);

/// Converts a kept point into the domain record the measures library reads; nullopt when the
/// record does not parse (e.g. an instrument id the domain refuses). Any thread.
std::optional<Assessment> to_assessment(const AssessmentPoint& point);

// ---------------------------------------------------------------------------------------------
// Chart geometry: where everything goes in a width x height box (device-independent units).

/// An axis label and where it goes.
struct ChartTick {
    double at = 0;      ///< x or y position
    std::string text;   ///< "26 Nov", "10"
};

/// A band's shading placed on the plot.
struct PlacedBand {
    double top = 0, bottom = 0;  ///< y positions, top < bottom
    std::string title;
    Rgb fill;
};

/// A result's dot placed on the plot.
struct PlacedPoint {
    double x = 0, y = 0;
    std::size_t index = 0;  ///< into InstrumentChart::points
};

/// The plot of one chart laid out in a box; origin top left, y down.
struct ChartGeometry {
    double left = 0, top = 0, right = 0, bottom = 0;  ///< the plot area inside the box
    std::vector<ChartTick> x_ticks;
    std::vector<ChartTick> y_ticks;
    std::vector<PlacedBand> bands;   ///< clipped to the plot area
    std::vector<PlacedPoint> points; ///< in time order

    /// The point within `radius` of (x, y), nearest first; nullopt when none. Any thread.
    std::optional<std::size_t> hit(double x, double y, double radius) const;
};

/// Lays a chart out in a `width` x `height` box: room on the left for y labels, on the right for
/// band titles, below for dates. Times span the points (padded; one point sits in the middle).
/// Any thread.
ChartGeometry layout_chart(const InstrumentChart& chart, double width, double height);

}  // namespace tandem::clinician
