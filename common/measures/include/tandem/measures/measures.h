#pragma once
// Measurement-based care: standard questionnaires (PHQ-9, GAD-7, C-SSRS screener, WAI-SR, and
// any a clinic adds) as DATA, validated by schemas/instrument.schema.json; exact scoring with the
// published missing-item rules; skip logic; risk from answers (PHQ-9 item 9, C-SSRS triage);
// outcomes over a patient's series and a caseload summary. Scoring rules, bands, risk rules and
// outcome thresholds all come from the definition files, never from code (docs/MEASURES.md).
// Pure functions and immutable values: every function may be called from any thread.

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/domain/error.h"
#include "tandem/domain/records.h"
#include "tandem/domain/risk_assessment.h"
#include "tandem/domain/time.h"

namespace tandem {

// ---------------------------------------------------------------------------------------------
// Definitions

/// One answer per item of the definition, in order; nullopt = unanswered or skipped. A form may
/// stop before trailing optional items (PHQ-9's unscored difficulty question).
using Answers = std::vector<std::optional<int>>;

/// One choice of an item: the stored value and the words the patient sees.
struct AnswerOption {
    int value = 0;
    std::string label;

    bool operator==(const AnswerOption&) const = default;
};

/// A test on one earlier answer, used by skip logic (show_if) and risk rules: true when the
/// item is answered and equals `equals` (if given) and lies in [min, max] (each if given).
struct AnswerCondition {
    std::string item;  ///< an item id of the same definition
    std::optional<int> equals;
    std::optional<int> min;
    std::optional<int> max;

    bool operator==(const AnswerCondition&) const = default;
};

/// One question of an instrument.
struct InstrumentItem {
    std::string id;                       ///< "q9"; unique in the definition
    std::string text;                     ///< shown to the patient
    std::vector<AnswerOption> options;    ///< the only values an answer may take
    std::optional<std::string> loinc;     ///< LOINC code of the item ("44260-8")
    std::optional<AnswerCondition> show_if;  ///< asked only when this holds (C-SSRS q3-q5)
    bool scored = true;                   ///< false: recorded but not counted (PHQ-9 difficulty)
    bool optional = false;                ///< true: may be left unanswered on a complete form
    std::string subscale;                 ///< subscale id ("bond") or empty

    bool operator==(const InstrumentItem&) const = default;
};

/// How the total is formed from the scored items.
enum class ScoringMethod {
    sum,        ///< sum of the values (PHQ-9, GAD-7, WAI-SR total)
    count_yes,  ///< number of items answered above 0 (C-SSRS screener)
};

/// "sum", "count_yes". Any thread.
std::string_view to_string(ScoringMethod method) noexcept;

/// A band of the total, inclusive at both ends ("mild", 5..9).
struct ScoreBand {
    int min = 0;
    int max = 0;
    std::string label;  ///< snake_case ("moderately_severe")
    std::string title;  ///< for display ("Moderately severe"); the label when the file has none

    bool operator==(const ScoreBand&) const = default;
};

/// A band decided by answers rather than by the total (the C-SSRS screener's triage): the
/// first rule with any condition true wins.
struct TriageRule {
    std::string label;                        ///< "high"
    std::vector<AnswerCondition> any;         ///< any one true is enough

    bool operator==(const TriageRule&) const = default;
};

/// A group of items with its own total and mean (WAI-SR goal, task, bond).
struct Subscale {
    std::string id;
    std::string title;

    bool operator==(const Subscale&) const = default;
};

/// The definition's scoring section.
struct ScoringRules {
    ScoringMethod method = ScoringMethod::sum;
    std::vector<ScoreBand> bands;          ///< by total; empty when triage decides or none apply
    std::vector<TriageRule> triage;        ///< by answers; checked in order
    std::string triage_default;            ///< band when no triage rule holds ("none")
    std::vector<Subscale> subscales;
    bool report_mean = false;              ///< also report the mean item score (WAI-SR)
    int max_missing = 0;                   ///< scored items that may be unanswered and still scored
    bool prorate = false;                  ///< fill missing items with the mean of answered ones
    int total_min = 0;                     ///< lowest possible complete total (from the options)
    int total_max = 0;                     ///< highest possible complete total

    bool operator==(const ScoringRules&) const = default;
};

/// A rule turning answers into a safety finding (PHQ-9 item 9 > 0 -> urgent).
struct AnswerRiskRule {
    std::string id;                          ///< "phq9_item9"
    std::vector<AnswerCondition> any;        ///< any one true fires the rule
    Severity severity = Severity::high;
    bool urgent = true;                      ///< opens an urgent flag (safety protocol)
    std::vector<RiskCategory> categories;    ///< for the flag ("suicidal_ideation")
    std::string reason;                      ///< for clinicians; never holds patient text

    bool operator==(const AnswerRiskRule&) const = default;
};

/// Outcome thresholds of an instrument; each absent one means "not defined for it".
struct OutcomeThresholds {
    bool lower_is_better = true;             ///< false for the alliance (WAI-SR)
    std::optional<double> response_percent;  ///< PHQ-9: improvement >= 50% of baseline
    std::optional<int> remission_below;      ///< PHQ-9, GAD-7: latest < 5
    std::optional<int> reliable_change;      ///< PHQ-9 6, GAD-7 4 (improvement or deterioration)

    bool operator==(const OutcomeThresholds&) const = default;
};

/// One instrument, read from its JSON file. Immutable once loaded.
struct InstrumentDefinition {
    std::string id;                         ///< "phq9"; ^[a-z][a-z0-9_]{1,31}$
    std::string title;                      ///< "Patient Health Questionnaire-9 (PHQ-9)"
    std::string short_title;                ///< "PHQ-9"
    int version = 1;                        ///< the definition file's version
    std::string instructions;
    std::vector<InstrumentItem> items;
    ScoringRules scoring;
    std::optional<std::string> loinc_panel;  ///< "44249-1"
    std::optional<std::string> loinc_total;  ///< "44261-6"
    std::vector<AnswerRiskRule> risk_rules;
    OutcomeThresholds outcomes;
    std::string source;                     ///< citation of the published scoring
    nlohmann::json document;                ///< the file as read (for export and patient_view)

    /// Index of an item id, or nullopt. Any thread.
    std::optional<std::size_t> item_index(std::string_view item_id) const noexcept;
};

/// Parses and checks one definition: schemas/instrument.schema.json first, then the rules a
/// schema cannot say (unique ids, show_if and rules naming earlier/existing items, bands that
/// tile the possible totals without overlap). ErrorCode::schema with Error::field the JSON
/// pointer ("/items/3/options/1/value") and Error::message starting with `source_name` (the
/// file name). Any thread.
Result<InstrumentDefinition> parse_instrument(const nlohmann::json& document,
                                              std::string_view source_name);

/// The definition as the patient's form needs it: id, title, version, instructions and items
/// (with options and show_if), without scoring, bands, risk rules or outcome thresholds (the
/// wire `questionnaire` frame's `instrument`). Any thread.
nlohmann::json patient_view(const InstrumentDefinition& definition);

/// The known instruments: the four built-ins compiled in, plus any a clinic adds from a
/// directory. A value: copy it, then share it read-only between threads.
class InstrumentRegistry {
public:
    /// Only the built-ins (phq9, gad7, cssrs_screener, wai_sr), parsed on first use. A built-in
    /// that fails its schema is a build defect: throws std::logic_error. Any thread.
    static const InstrumentRegistry& builtin();

    /// The built-ins plus every *.json file of `dir` (not recursive, sorted by name). Errors:
    /// ErrorCode::io when dir is unreadable; ErrorCode::parse for a file that is not JSON and
    /// ErrorCode::schema for a bad definition, both naming the file (message) and JSON pointer
    /// (field); ErrorCode::conflict when a file reuses an id already loaded. One bad file
    /// refuses the whole directory, so a typo never silently drops a clinic's measure.
    static Result<InstrumentRegistry> with_directory(const std::filesystem::path& dir);

    /// Adds one definition (already parsed). ErrorCode::conflict if its id is taken.
    Result<void> add(InstrumentDefinition definition);

    /// The definition with that id, or nullptr. Any thread.
    const InstrumentDefinition* find(std::string_view id) const noexcept;
    /// Same, by the record's Instrument. Any thread.
    const InstrumentDefinition* find(const Instrument& instrument) const noexcept;

    /// Every id, sorted. Any thread.
    std::vector<std::string> ids() const;

private:
    std::map<std::string, std::shared_ptr<const InstrumentDefinition>, std::less<>> by_id_;
};

// ---------------------------------------------------------------------------------------------
// Answers and scores

/// Indexes of the items the patient should see given the answers so far (skip logic: an item
/// whose show_if does not hold is hidden, and so is one whose show_if names a hidden item).
/// `answers` may be shorter than the item list. Any thread.
std::vector<std::size_t> visible_items(const InstrumentDefinition& definition,
                                       const Answers& answers);

/// Checks answers without scoring. `final` false (a paused form): any visible item may still be
/// unanswered. `final` true: also too-many-missing is refused. Always refused: more answers
/// than items, a value not among the item's options, an answer to a hidden item. Errors are
/// ErrorCode::invalid_argument with Error::field "items[i]" (or "items"). Any thread.
Result<void> check_answers(const InstrumentDefinition& definition, const Answers& answers,
                           bool final);

/// One item's part in a score.
struct ItemScore {
    std::string item_id;
    std::optional<int> value;          ///< as answered
    bool visible = true;               ///< false: skipped by the instrument's logic
    std::optional<std::string> loinc;

    bool operator==(const ItemScore&) const = default;
};

/// A subscale's total and mean over its answered items.
struct SubscaleScore {
    std::string id;
    int total = 0;
    std::optional<double> mean;        ///< nullopt when none of its items is answered
    int answered = 0;
    int items = 0;

    bool operator==(const SubscaleScore&) const = default;
};

/// A scored form.
struct Score {
    std::string instrument;
    int total = 0;                        ///< prorated when `prorated`
    std::optional<double> mean;           ///< mean item score, when the scoring reports it
    std::optional<std::string> band;      ///< band label, if the instrument has bands
    bool complete = false;                ///< every visible, non-optional item answered
    bool prorated = false;                ///< total estimated from answered items (not complete)
    int answered = 0;                     ///< scored items answered
    int missing = 0;                      ///< visible scored items unanswered
    std::vector<ItemScore> items;
    std::vector<SubscaleScore> subscales;

    bool operator==(const Score&) const = default;
};

/// Scores a submitted form. Refuses what check_answers(final = true) refuses, including more
/// missing items than the definition's published rule allows (ErrorCode::invalid_argument,
/// field "items", message saying how many are missing). A form within the rule is scored with
/// complete = false and, where the rule says so, prorated = true. Any thread.
Result<Score> score(const InstrumentDefinition& definition, const Answers& answers);

/// The band label of a total by the definition's bands (nullopt when it has none or the total
/// is outside them). Triage instruments need answers: use score(). Any thread.
std::optional<std::string> band_of_total(const InstrumentDefinition& definition, int total);

/// Fills assessment.score and .band from its items (the bridge calls it before storing an
/// `assessment_scored` event). Errors as score(); ErrorCode::not_found for an instrument the
/// registry does not know. Any thread.
Result<Assessment> scored_assessment(const InstrumentRegistry& registry, Assessment assessment);

/// Checks a stored or received Assessment against its definition: known instrument, answers
/// valid (check_answers with final = true when score is present), and score/band, when present,
/// equal to what score() gives. Errors as check_answers; field "score"/"band" on a mismatch.
Result<void> check_assessment(const InstrumentRegistry& registry, const Assessment& assessment);

// ---------------------------------------------------------------------------------------------
// Risk from answers

/// A safety finding from answers: open a flag through the same protocol as a risky message.
struct AnswerRisk {
    Severity severity = Severity::none;  ///< imminent|high|moderate|low|none
    bool urgent = false;                 ///< true: urgent flag with the SLA deadline
    std::vector<RiskCategory> categories;
    std::string rule_id;                 ///< the rule that decided ("phq9_item9")
    std::string reason;                  ///< human reason for clinicians, no patient text

    bool operator==(const AnswerRisk&) const = default;
};

/// The most severe risk rule of the definition that the answers fire (urgent beats not urgent
/// at equal severity; the first in file order breaks ties), or nullopt when none fires. Works
/// on partial answers too, so a paused form that already says "yes" to item 9 is not ignored.
/// Out-of-range answers are ignored here (check_answers refuses them). Any thread.
std::optional<AnswerRisk> risk_from_answers(const InstrumentDefinition& definition,
                                            const Answers& answers);

// ---------------------------------------------------------------------------------------------
// Outcomes

/// One scored assessment of a series.
struct OutcomePoint {
    AssessmentId assessment_id;
    Timestamp at{};                    ///< completed_at, else administered_at
    int total = 0;
    std::optional<double> mean;
    std::optional<std::string> band;
    bool prorated = false;

    bool operator==(const OutcomePoint&) const = default;
};

/// A patient's outcome on one instrument.
struct Outcome {
    std::string instrument;
    std::vector<OutcomePoint> points;      ///< every scorable assessment, oldest first
    std::optional<OutcomePoint> baseline;  ///< the first scorable one
    std::optional<OutcomePoint> latest;    ///< the newest, only when later than the baseline
    std::optional<int> change;             ///< latest - baseline (negative = lower)
    std::optional<double> percent_change;  ///< 100 * change / baseline; nullopt at baseline 0
    bool response = false;                 ///< improved by >= response_percent of baseline
    bool remission = false;                ///< latest < remission_below, baseline was not
    bool reliable_improvement = false;     ///< improved by >= reliable_change
    bool deterioration = false;            ///< worsened by >= reliable_change
    /// Display labels in this order, each present when true: "response", "remission",
    /// "reliable_improvement", "deterioration"; else "no_reliable_change" with a follow-up,
    /// "baseline_only" with one score, "no_data" with none.
    std::vector<std::string> labels;

    bool operator==(const Outcome&) const = default;
};

/// Outcome of one patient's assessments of `definition` (others in the span are ignored; order
/// does not matter: sorted by time). Each is rescored from its items; ones that cannot be
/// scored (a paused form, too many missing) are left out. Any thread.
Outcome outcomes(const InstrumentDefinition& definition, std::span<const Assessment> series);

/// Response, remission and reliable-improvement rates over a caseload, for the supervisor table.
struct CaseloadSummary {
    std::string instrument;
    int patients = 0;                  ///< outcomes given
    int with_follow_up = 0;            ///< baseline and a later score: the denominator
    int responders = 0;
    int remitters = 0;
    int reliable_improvers = 0;
    int deteriorators = 0;
    std::optional<double> response_rate;     ///< responders / with_follow_up; nullopt if 0
    std::optional<double> remission_rate;
    std::optional<double> reliable_improvement_rate;
    std::optional<double> deterioration_rate;
    std::optional<double> mean_change;       ///< mean of change over with_follow_up
    std::optional<double> mean_latest;       ///< mean latest (or baseline-only) total: alliance

    bool operator==(const CaseloadSummary&) const = default;
};

/// Sums per-patient outcomes (one per patient, all of the same instrument; others are skipped).
/// Rates are fractions 0..1. Any thread.
CaseloadSummary caseload_summary(std::string_view instrument, std::span<const Outcome> patients);

}  // namespace tandem
