#pragma once
// Completed questionnaires for the built-in demo clinic (`tandem-clinician --demo`, screenshots,
// GUI tests): PHQ-9 and GAD-7 at intake, week 4 and week 8 and a WAI-SR at week 4 and week 8,
// with a mix of trajectories (responders, a remitter, no change, a deterioration). Invented.

#include <cstdint>
#include <string>
#include <vector>

#include "tandem/clinician/model.h"

namespace tandem::clinician {

/// `assessment_scored` events for the patients of `model` (by id order, at most `patients`),
/// numbered after the model's cursor, the last one finished a day before `now`. Scores and bands
/// follow the published rules (the items sum to the score). Deterministic. Any thread.
std::vector<StoredEvent> demo_assessment_events(const Model& model, TimePoint now, std::size_t patients = 12);

/// One `assessment_scored` event for a patient: `totals` spread over the instrument's items.
/// `instrument` is "phq9", "gad7" or "wai_sr". Any thread (tests build trajectories with it).
StoredEvent demo_assessment_event(std::uint64_t seq, const std::string& patient_id, const std::string& instrument,
                                  int total, TimePoint completed_at, const std::string& id);

}  // namespace tandem::clinician
