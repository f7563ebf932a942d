#pragma once
// The demo's questionnaires (issue 8), apart from the load path: which answers a scripted
// patient gives to a `questionnaire` frame and when (play), and the earlier results a
// "returning" demo patient starts with (prepare). Answers and trajectories are data in the
// scenario file (scripts/demo/conversations.json: `questionnaire_answers`, `returning_history`
// and each patient's `answers`/`returning`). No Beast here: client.cpp only runs the timers.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/domain/error.h"
#include "tandem/store/store.h"

namespace tandem::loadgen {

/// One frame a simulated patient sends for a questionnaire, `after_s` seconds (already divided
/// by the play speed) after the previous step or, for the first, after the form arrived.
struct QuestionnaireStep {
    double after_s = 0;
    nlohmann::json payload;  ///< a questionnaire_answers payload {assessment_id, items, final}
    bool final = false;
};

/// How scenario patient `patient_index` answers the `questionnaire` frame payload `form`: its
/// answer set for the instrument (the patient's `answers` key, else its script's name; the
/// set "default" next; the first option of each question last), fitted to the form's options
/// and skip logic. One sitting, or for about a third of the forms two (a save with the first
/// half answered, then the submit); a form that comes back with saved answers (a resume) is
/// submitted in one step. Pure and deterministic. Any thread.
std::vector<QuestionnaireStep> plan_questionnaire(const nlohmann::json& scenario, std::size_t patient_index,
                                                  const nlohmann::json& form, double speed);

/// A scenario patient described as returning (`"returning": "<trajectory>"`): how many weeks
/// ago they registered (0 for a new patient), so the clinic's schedule sees them at week 8.
int returning_weeks(const nlohmann::json& scenario, std::size_t patient_index);

/// Appends `patient_registered` for a returning patient with `created_at` `weeks` weeks (and
/// two days) in the past: the same event `PatientService::register_patient` writes, dated back.
/// Returns the new id. Errors: storage. Main thread.
Result<std::string> register_returning_patient(Store& store, const std::string& display_name, int weeks);

/// Writes a returning patient's earlier PHQ-9, GAD-7 and WAI-SR results at intake and week 4
/// through the bridge's own events (`assessment_offered`, then `assessment_scored` with the
/// record scored by tandem_measures), dated from the registration; each offer says in its
/// payload (`seeded`) that it is demo data. Idempotent (dedupe keys). Returns how many were
/// written. Errors: storage, invalid_argument (an unknown trajectory). Main thread.
Result<int> seed_questionnaire_history(Store& store, const nlohmann::json& scenario, std::size_t patient_index,
                                       const std::string& patient_id);

}  // namespace tandem::loadgen
