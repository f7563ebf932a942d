#pragma once
// Measuring the engine on labelled sets (JSON lines, the format of docs/RISK.md): the figures
// `tandem-risk eval` prints and the dev-set test asserts.

#include <array>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tandem/domain/error.h"
#include "tandem/domain/risk_assessment.h"
#include "tandem/risk/engine.h"

namespace tandem {

/// One labelled case.
struct LabelledCase {
    std::string id;
    SpeakerRole role = SpeakerRole::patient;
    std::string text;
    std::vector<Turn> context;
    Severity expected_severity = Severity::none;
    std::vector<RiskCategory> expected_categories;
    std::optional<int> expected_cssrs;
    std::string kind;
    std::string lang;
};

/// Reads a JSON-lines labelled set; errors name the file, line and field. Any thread.
Result<std::vector<LabelledCase>> load_labelled_set(const std::filesystem::path& path);

/// Counts for one category.
struct CategoryCounts {
    std::size_t true_positive = 0;
    std::size_t false_positive = 0;
    std::size_t false_negative = 0;
};

/// A case the engine got wrong at the band level (ids only: never the text).
struct EvaluationMiss {
    std::string id;
    std::string kind;
    Severity expected = Severity::none;
    Severity got = Severity::none;
};

/// Everything `tandem-risk eval` prints.
struct EvaluationReport {
    std::size_t cases = 0;
    std::size_t urgent_expected = 0, urgent_caught = 0;   ///< expected high+, predicted high+
    std::size_t flag_expected = 0, flag_caught = 0;       ///< expected moderate+, predicted moderate+
    std::size_t flag_predicted = 0, flag_predicted_right = 0;
    std::size_t benign = 0, benign_to_high = 0, benign_to_moderate = 0;  ///< expected none/low
    std::array<std::array<std::size_t, 5>, 5> confusion{};  ///< [expected][predicted]
    std::map<RiskCategory, CategoryCounts> categories;
    std::map<std::string, std::pair<std::size_t, std::size_t>> kinds;  ///< kind -> (right band, total)
    std::vector<EvaluationMiss> misses;

    /// Ratios; 1.0 (recall/precision) or 0.0 (false alarms) when the denominator is zero.
    double urgent_recall() const;
    double flag_recall() const;
    double flag_precision() const;
    double benign_high_rate() const;
    double benign_moderate_rate() const;
};

/// Screens every case and counts. Any thread.
EvaluationReport evaluate(const RiskEngine& engine, const std::vector<LabelledCase>& cases);

/// The report as the text `tandem-risk eval` prints. Any thread.
std::string format_report(const EvaluationReport& report, bool list_misses);

}  // namespace tandem
