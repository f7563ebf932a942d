#pragma once
// Questionnaires in the conversation (issue 8): offering them (the approved plan's
// assessment_schedule, the clinic default, or a clinician's assessment_request), the patient's
// answers in pauses and sittings, scoring with tandem_measures, and risk from answers handed to
// the same safety protocol as a risky message. Beast-free; holds no connection state: the
// patient service calls it on its worker threads with the patient's identity.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/bridge/clinic_policy.h"
#include "tandem/domain/error.h"
#include "tandem/domain/risk_assessment.h"
#include "tandem/domain/time.h"
#include "tandem/store/store.h"

namespace tandem {
// tandem/measures/measures.h pulls in the domain records, whose names (CrisisResource) clash
// with the bridge's own in files that use both namespaces: declared here, included in the .cpp.
class InstrumentRegistry;
struct InstrumentDefinition;
struct AnswerRisk;
}  // namespace tandem

namespace tandem::bridge {

/// One scheduled questionnaire: `instrument` due `week` weeks after the schedule's start.
struct ScheduledInstrument {
    std::string instrument;
    int week = 0;
};

/// The schedule used until a patient has an approved plan: PHQ-9 and GAD-7 at intake, week 4
/// and week 8, counted from the patient's registration (the trial's measurement points).
std::vector<ScheduledInstrument> default_assessment_schedule();

/// A questionnaire due now: the newest due point of one instrument that has passed.
struct DueAssessment {
    std::string instrument;
    std::string due_key;   ///< "<plan id or default>:<instrument>:w<week>": offered once per key
    Timestamp due_at{};
};

/// The due points of `schedule` that have passed at `now`, one per instrument (the newest),
/// leaving out instruments with an offer at or after that point (answered or not) or with one
/// still open. `start` is the plan's approval (or the registration); `basis` names it in due
/// keys. Pure. Any thread.
std::vector<DueAssessment> due_assessments(const std::vector<ScheduledInstrument>& schedule, Timestamp start,
                                           const std::string& basis, Timestamp now,
                                           const std::vector<AssessmentView>& existing);

/// What the flow needs from the patient pipeline; every hook may be called on any worker thread.
struct AssessmentHooks {
    /// Appends through the pipeline's store (metrics, logging). Required.
    std::function<Result<AppendResult>(NewEvent)> append;
    /// Sends a frame to every live connection of the patient. Required.
    std::function<void(const std::string& patient_id, const std::string& frame)> send_to_patient;
    /// Opens a flag through the message pipeline's code: `urgent` runs the whole safety protocol
    /// (crisis frame and message, urgent flag with the SLA deadline, crisis state), otherwise a
    /// review flag. Required.
    std::function<Result<void>(const std::string& patient_id, const std::string& conversation_id,
                               const std::string& assessment_id, const RiskAssessment& risk, bool urgent)>
        raise_risk;
};

/// Where the patient is, as the pipeline knows it.
struct AssessmentPatient {
    std::string patient_id;
    std::string conversation_id;
};

class AssessmentFlow {
public:
    /// store and registry must outlive the flow; `defaults` is the clinic policy before any
    /// `policy set` (share_trends_with_patients off). Main thread.
    AssessmentFlow(Store& store, const InstrumentRegistry& registry, AssessmentHooks hooks, ClinicSettings defaults);

    /// Offers what the schedule makes due now (approved plan, else the default schedule from
    /// registration), each once per due point, and sends each new offer's `questionnaire` frame.
    /// Returns how many were offered. Errors: storage. Any worker thread.
    Result<int> offer_due(const AssessmentPatient& patient);

    /// Sends a `questionnaire` frame (with the answers saved so far) for every offered or
    /// paused questionnaire of the patient: the resume after a reconnect. `send` is the new
    /// connection's sender. Errors: storage. Any worker thread.
    Result<void> resend_open(const std::string& patient_id, const std::function<void(const std::string&)>& send);

    /// The event a clinician's assessment_request appends (assessment_offered, requested_by =
    /// the clinician). Errors: invalid_argument (field "instrument": not a registered id),
    /// conflict (one of that instrument is still open for the patient), storage. Any thread.
    Result<NewEvent> request_event(const std::string& patient_id, const std::string& instrument,
                                   const std::string& clinician_id);

    /// After an assessment_offered event is durable (by schedule or request): sends the
    /// `questionnaire` frame to the patient's live connections and asks the next AI turn to
    /// mention it. Any thread.
    void offered(const StoredEvent& event);

    /// The frame `questionnaire_answers` of a signed-in patient: validates against the
    /// definition and skip logic (error invalid_answers with the item's field; nothing stored),
    /// stores progress (final false) or the score (final true), raises risk from the answers,
    /// and answers with questionnaire_saved / questionnaire_result. Any worker thread.
    void handle_answers(const AssessmentPatient& patient, const nlohmann::json& payload, const std::string& ref,
                        const std::function<void(const std::string&)>& send);

    /// The short titles of the questionnaires offered to the patient since the last AI turn
    /// that took them, sorted; consumed by the call (each offer is mentioned once). Any thread.
    std::vector<std::string> take_offered(const std::string& patient_id);


    /// The instrument registry this flow scores with. Any thread.
    const InstrumentRegistry& registry() const noexcept { return registry_; }

private:
    std::optional<std::string> questionnaire_frame(const AssessmentView& view);
    Result<std::vector<ScheduledInstrument>> schedule_for(const std::string& patient_id, Timestamp& start,
                                                          std::string& basis);
    bool share_trends();

    Store& store_;
    const InstrumentRegistry& registry_;
    AssessmentHooks hooks_;
    ClinicPolicySource policy_;
    std::mutex mutex_;  // guards mention_; never held across store calls
    std::set<std::pair<std::string, std::string>> mention_;  // (patient, instrument title) to mention
};

/// The system prompt's line asking the AI to mention the offered questionnaires `titles`
/// (empty when there are none). Pure. Any thread.
std::string questionnaire_prompt_note(const std::vector<std::string>& titles);

/// The built-in instruments plus every definition in `dir` (InstrumentRegistry::with_directory).
/// Errors: io, parse, schema (naming the file and JSON pointer), conflict. Main thread.
Result<std::shared_ptr<const InstrumentRegistry>> load_instruments(const std::filesystem::path& dir);

/// A patient's assessments for the clinician `assessments` frame: each view's record with its
/// status (offered | in_progress | completed), oldest offer first. Errors: storage. Any thread.
Result<nlohmann::json> assessments_payload(Store& store, const std::string& patient_id);

/// The risk screen's record for a finding from answers (engine "tandem-measures", the rule id
/// as ruleset version, the rule's reason as rationale; no spans: no text). Any thread.
RiskAssessment risk_from_answer_risk(const AnswerRisk& risk, const InstrumentDefinition& definition);

}  // namespace tandem::bridge
