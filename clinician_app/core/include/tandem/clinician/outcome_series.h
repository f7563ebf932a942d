#pragma once
// Every scored questionnaire this clinician may see, per patient and instrument, as the feed's
// `assessment_scored` events and the bridge's `assessments` fetch replies bring them
// (docs/PROTOCOL.md). Only what was scored is kept: progress and offers do not chart.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tandem/clinician/time_text.h"
#include "tandem/domain/error.h"

namespace tandem::clinician {

/// One scored questionnaire: the Assessment record (schemas/records/assessment.schema.json).
struct AssessmentPoint {
    std::string id;
    std::string patient_id;
    std::string instrument;                  ///< a registered instrument id ("phq9", "gad7", ...)
    std::vector<std::optional<int>> items;   ///< null = skipped or unanswered
    std::optional<int> score;                ///< absent: the bridge could not score it
    std::string band;                        ///< the bridge's band name, empty when none
    TimePoint administered_at{};
    std::optional<TimePoint> completed_at;

    /// When the answers were given: completed_at, else administered_at. Any thread.
    TimePoint when() const { return completed_at.value_or(administered_at); }
};

/// Parses an Assessment record; errors name the missing field. Any thread.
Result<AssessmentPoint> parse_assessment(const nlohmann::json& record);

/// Scored assessments by id, one copy each. GUI thread (lives in the Model).
class AssessmentBook {
public:
    /// Keeps an `assessment_scored` payload (the Assessment record); `patient_id` fills a record
    /// without one. False (and nothing kept) when it does not parse or has no score.
    bool apply_scored(const nlohmann::json& payload, const std::string& patient_id);
    /// Merges an `assessments` reply {patient_id, assessments: [...]}; returns how many records
    /// were kept (unscored ones are skipped; a record already known is replaced).
    std::size_t merge_reply(const nlohmann::json& payload);
    /// Keeps one parsed point (tests, the demo); replaces a point with the same id.
    void put(AssessmentPoint point);
    /// Keeps a point read back from the local cache: like put(), but not counted as a change
    /// the cache must write again.
    void restore(AssessmentPoint point);

    /// The patient's scored results of one instrument, oldest first (ties by id).
    std::vector<const AssessmentPoint*> series(const std::string& patient_id, const std::string& instrument) const;
    /// The instruments the patient has results for: built-ins in clinical order (PHQ-9, GAD-7,
    /// C-SSRS screener, WAI-SR), then any other id alphabetically.
    std::vector<std::string> instruments(const std::string& patient_id) const;
    /// Patients with at least one result, by id.
    std::vector<std::string> patients() const;
    /// Every point, by assessment id.
    const std::map<std::string, AssessmentPoint>& all() const { return points_; }
    /// Grows by one on every change: views compare it to know when to redraw.
    std::uint64_t revision() const { return revision_; }
    /// True when `patient_id` had an `assessments` reply this session (history before the
    /// cursor is then known too).
    bool fetched(const std::string& patient_id) const { return fetched_.count(patient_id) != 0; }

    /// Ids of points kept or replaced since the last call (the local cache writes them); starts afresh.
    std::set<std::string> take_changed();
    /// True when take_changed() would return something.
    bool has_changed() const { return !changed_.empty(); }

private:
    std::map<std::string, AssessmentPoint> points_;
    std::set<std::string> changed_;
    std::set<std::string> fetched_;
    std::uint64_t revision_ = 0;
};

}  // namespace tandem::clinician
