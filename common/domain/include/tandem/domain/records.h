#pragma once
// The clinic's records as value types. Field names and enum wire names are the contract of
// docs/ARCHITECTURE.md and schemas/records/; JSON lives in tandem/domain/json.h and the rules
// a record must keep in validate() below.

#include <array>
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/domain/error.h"
#include "tandem/domain/id.h"
#include "tandem/domain/risk_assessment.h"
#include "tandem/domain/time.h"

namespace tandem {

/// How a crisis resource is reached.
enum class ResourceKind { phone, text, web, emergency };
/// A clinician may hold several; supervisors see every patient, admins manage accounts.
enum class ClinicianRole { therapist, supervisor, admin };
/// Who wrote a message.
enum class Sender { patient, ai, clinician, system };
/// held: waiting for a clinician's release; withheld: never shown to the patient.
enum class MessageState { delivered, held, withheld };
/// A flag's life: open -> acknowledged/escalated -> resolved.
enum class FlagStatus { open, acknowledged, escalated, resolved };
/// A plan version's state; the newest approved version steers the AI.
enum class PlanStatus { proposed, approved, rejected, superseded };
/// Who drafted a plan version.
enum class ProposerKind { ai, clinician };
/// A questionnaire's id: a built-in (phq9, gad7, cssrs_screener, wai_sr) or one a clinic added
/// as a definition file (docs/MEASURES.md), matching ^[a-z][a-z0-9_]{1,31}$. A small trivially
/// copyable value used like the enum it replaced (`Instrument::phq9`, ==, to_string,
/// from_string<Instrument>); its definition (items, scoring) lives in tandem_measures.
class Instrument {
public:
    static const Instrument phq9;
    static const Instrument gad7;
    static const Instrument cssrs_screener;
    static const Instrument wai_sr;

    /// PHQ-9, as the enum's first value was. Any thread.
    constexpr Instrument() noexcept : Instrument(std::string_view("phq9")) {}

    /// The instrument of that id, or nullopt unless it matches ^[a-z][a-z0-9_]{1,31}$ (whether a
    /// definition exists is the measures registry's question). Any thread.
    static std::optional<Instrument> from_id(std::string_view id) noexcept;

    /// The id ("cssrs_screener"); views this object. Any thread.
    constexpr std::string_view id() const noexcept { return {chars_.data(), size_}; }

    /// True for the four instruments built into every Tandem. Any thread.
    bool is_builtin() const noexcept;

    friend constexpr bool operator==(const Instrument&, const Instrument&) noexcept = default;
    /// Orders as the ids do (zero padding sorts first). Any thread.
    friend constexpr auto operator<=>(const Instrument&, const Instrument&) noexcept = default;

private:
    // Callers outside pass through from_id(), which checks the pattern; this one trusts.
    constexpr explicit Instrument(std::string_view id) noexcept
        : size_(static_cast<std::uint8_t>(id.size() < kMaxId ? id.size() : kMaxId)) {
        for (std::size_t i = 0; i < size_; ++i) chars_[i] = id[i];
    }
    static constexpr std::size_t kMaxId = 32;
    std::array<char, kMaxId> chars_{};
    std::uint8_t size_ = 0;
};

inline constexpr Instrument Instrument::phq9{std::string_view("phq9")};
inline constexpr Instrument Instrument::gad7{std::string_view("gad7")};
inline constexpr Instrument Instrument::cssrs_screener{std::string_view("cssrs_screener")};
inline constexpr Instrument Instrument::wai_sr{std::string_view("wai_sr")};

/// snake_case wire names ("cssrs_screener", "withheld"). Any thread.
std::string_view to_string(ResourceKind value) noexcept;
std::string_view to_string(ClinicianRole value) noexcept;
std::string_view to_string(Sender value) noexcept;
std::string_view to_string(MessageState value) noexcept;
std::string_view to_string(FlagStatus value) noexcept;
std::string_view to_string(PlanStatus value) noexcept;
std::string_view to_string(ProposerKind value) noexcept;
/// The instrument's id; the view lives as long as `value`.
std::string_view to_string(const Instrument& value) noexcept;

/// Parses a wire name of enum E (every enum above, Severity and RiskCategory); nullopt for
/// anything else. Any thread.
template <class E>
std::optional<E> from_string(std::string_view name) noexcept;
template <> std::optional<ResourceKind> from_string<ResourceKind>(std::string_view name) noexcept;
template <> std::optional<ClinicianRole> from_string<ClinicianRole>(std::string_view name) noexcept;
template <> std::optional<Sender> from_string<Sender>(std::string_view name) noexcept;
template <> std::optional<MessageState> from_string<MessageState>(std::string_view name) noexcept;
template <> std::optional<FlagStatus> from_string<FlagStatus>(std::string_view name) noexcept;
template <> std::optional<PlanStatus> from_string<PlanStatus>(std::string_view name) noexcept;
template <> std::optional<ProposerKind> from_string<ProposerKind>(std::string_view name) noexcept;
template <> std::optional<Instrument> from_string<Instrument>(std::string_view name) noexcept;
template <> std::optional<Severity> from_string<Severity>(std::string_view name) noexcept;
template <> std::optional<RiskCategory> from_string<RiskCategory>(std::string_view name) noexcept;

// ---------------------------------------------------------------------------------------------
// Clinic

/// One crisis line or service shown to a patient in crisis.
struct CrisisResource {
    std::string name;     ///< "988 Suicide & Crisis Lifeline"
    std::string contact;  ///< "988", "https://988lifeline.org"
    ResourceKind kind = ResourceKind::phone;

    bool operator==(const CrisisResource&) const = default;
};

/// Clinic-wide safety and session policy.
struct ClinicPolicy {
    int urgent_sla_minutes = 5;          ///< time to acknowledge a high/imminent flag
    int second_escalation_minutes = 15;  ///< escalate again after this, from the flag's opening
    int idle_lock_minutes = 10;          ///< clinician app locks after this idle time
    /// Locale ("en-US") to the resources shown for it, in order.
    std::map<std::string, std::vector<CrisisResource>> crisis_resources;

    bool operator==(const ClinicPolicy&) const = default;
};

/// One clinic: the unit of the event log's sequence and of policy.
struct Clinic {
    ClinicId id;
    std::string name;
    std::string timezone;  ///< IANA name, "America/New_York" or "UTC"
    ClinicPolicy policy;

    bool operator==(const Clinic&) const = default;
};

// ---------------------------------------------------------------------------------------------
// People

/// A clinician's account.
struct Clinician {
    ClinicianId id;
    ClinicId clinic_id;
    std::string username;      ///< login name: no whitespace, 1 to 64 characters
    std::string display_name;
    std::vector<ClinicianRole> roles;  ///< at least one, no repeats
    bool active = true;
    Timestamp created_at{};

    bool operator==(const Clinician&) const = default;
};

/// A patient of the clinic.
struct Patient {
    PatientId id;
    ClinicId clinic_id;
    std::string display_name;
    std::optional<ClinicianId> assigned_therapist_id;
    std::vector<std::string> conditions;  ///< free-text diagnoses or concerns, each non-empty
    std::string locale = "en-US";         ///< BCP 47 tag: picks crisis resources and language
    Timestamp created_at{};

    bool operator==(const Patient&) const = default;
};

// ---------------------------------------------------------------------------------------------
// Conversations

/// One conversation of a patient with the AI (clinicians may join).
struct Conversation {
    ConversationId id;
    PatientId patient_id;
    Timestamp started_at{};
    std::optional<Timestamp> ended_at;  ///< not before started_at

    bool operator==(const Conversation&) const = default;
};

/// One message of a conversation, with the risk screen's verdict when it has one.
struct Message {
    MessageId id;
    ConversationId conversation_id;
    PatientId patient_id;
    Sender sender = Sender::patient;
    std::optional<std::string> sender_id;      ///< id text of the clinician (required) or patient
    std::string text;                          ///< non-empty UTF-8; never logged at info level
    MessageState state = MessageState::delivered;
    std::optional<std::string> client_msg_id;  ///< the client's idempotency key (id rule)
    std::optional<int> plan_version;           ///< plan the AI reply was built from, >= 1
    std::optional<std::string> plan_id;        ///< that plan's id (id rule); "default-clinic-plan" before one is approved
    std::optional<std::string> model;          ///< what wrote an AI reply: the provider's model, or "tandem-offline-companion/<version>"
    Timestamp created_at{};
    std::optional<RiskAssessment> risk;        ///< spans must lie inside text

    bool operator==(const Message&) const = default;
};

// ---------------------------------------------------------------------------------------------
// Flags

/// A clinician's note on a flag.
struct FlagNote {
    ClinicianId clinician_id;
    Timestamp at{};
    std::string text;  ///< non-empty

    bool operator==(const FlagNote&) const = default;
};

/// How a flag was closed.
struct FlagResolution {
    bool risk_real = false;  ///< the clinician's verdict: was the risk real?
    std::string note;

    bool operator==(const FlagResolution&) const = default;
};

/// A risk flag raised for clinicians, with its SLA and handling.
struct Flag {
    FlagId id;
    PatientId patient_id;
    std::optional<ConversationId> conversation_id;
    std::optional<MessageId> message_id;
    Severity severity = Severity::moderate;
    std::vector<RiskCategory> categories;  ///< no repeats
    FlagStatus status = FlagStatus::open;
    Timestamp opened_at{};
    Timestamp sla_deadline{};  ///< not before opened_at
    int escalation_level = 0;  ///< 0..2; at least 1 when escalated
    std::vector<FlagNote> notes;
    std::optional<ClinicianId> acknowledged_by;  ///< with acknowledged_at, both or neither
    std::optional<Timestamp> acknowledged_at;
    std::optional<ClinicianId> resolved_by;      ///< with resolved_at and resolution iff resolved
    std::optional<Timestamp> resolved_at;
    std::optional<FlagResolution> resolution;

    bool operator==(const Flag&) const = default;
};

// ---------------------------------------------------------------------------------------------
// Treatment plans

/// Who proposed a plan version.
struct PlanProposer {
    ProposerKind kind = ProposerKind::ai;
    std::optional<ClinicianId> clinician_id;  ///< required for a clinician, absent for the AI

    bool operator==(const PlanProposer&) const = default;
};

/// A treatment goal with its measure and target date.
struct PlanGoal {
    std::string description;
    std::string measure;  ///< how progress is judged ("PHQ-9 below 10")
    Date target_date{};

    bool operator==(const PlanGoal&) const = default;
};

/// A therapeutic technique and how the AI applies it.
struct PlanIntervention {
    std::string name;            ///< "behavioural activation"
    std::string how_ai_uses_it;  ///< instructions that reach the LLM's system prompt

    bool operator==(const PlanIntervention&) const = default;
};

/// A questionnaire due at a week of the plan.
struct ScheduledAssessment {
    Instrument instrument = Instrument::phq9;
    int week = 0;  ///< weeks after the plan's approval, 0 = at once; 0..520

    bool operator==(const ScheduledAssessment&) const = default;
};

/// Stanley-Brown style safety plan; every list may be empty but holds no empty strings.
struct SafetyPlan {
    std::vector<std::string> warning_signs;
    std::vector<std::string> internal_coping;
    std::vector<std::string> distraction_people_places;
    std::vector<std::string> people_to_ask;
    std::vector<std::string> professionals_and_crisis_lines;
    std::vector<std::string> environment_safety;

    bool operator==(const SafetyPlan&) const = default;
};

/// How the AI should talk to this patient and when to call a clinician.
struct AiGuidance {
    std::string tone;                        ///< non-empty: "warm, brief, plain words"
    std::vector<std::string> avoid_topics;
    std::vector<std::string> escalate_when;

    bool operator==(const AiGuidance&) const = default;
};

/// One version of a patient's treatment plan.
struct TreatmentPlan {
    PlanId id;
    PatientId patient_id;
    int version = 1;  ///< >= 1, one more than the previous plan of the patient
    PlanStatus status = PlanStatus::proposed;
    PlanProposer proposer;
    std::optional<ClinicianId> approver_id;  ///< required once approved or rejected
    std::optional<std::string> reason;       ///< why approved/rejected/superseded
    Timestamp created_at{};
    std::optional<Timestamp> decided_at;     ///< required once approved or rejected
    std::vector<std::string> presenting_problems;
    std::vector<std::string> conditions;
    std::vector<PlanGoal> goals;
    std::vector<PlanIntervention> interventions;
    std::vector<std::string> homework;
    std::string checkin_cadence;             ///< non-empty: "daily", "twice weekly"
    std::vector<ScheduledAssessment> assessment_schedule;
    SafetyPlan safety_plan;
    AiGuidance ai_guidance;

    bool operator==(const TreatmentPlan&) const = default;
};

// ---------------------------------------------------------------------------------------------
// Assessments

/// One questionnaire's answers, in the order of the instrument's definition; null = unanswered
/// or skipped by the instrument's logic. Built-ins: PHQ-9 9 items 0..3 (a 10th, the unscored
/// difficulty question, may follow); GAD-7 7 items 0..3; C-SSRS screener 6 items, 0 no / 1 yes,
/// question 6: 1 yes within 3 months, 2 yes longer ago; WAI-SR 12 items 1..5. A clinic-added
/// instrument: 1..200 items 0..100. The full check against a definition (skip logic, options,
/// exact score and band, proration) is tandem::check_assessment in tandem_measures.
struct Assessment {
    AssessmentId id;
    PatientId patient_id;
    Instrument instrument = Instrument::phq9;
    std::vector<std::optional<int>> items;
    std::optional<int> score;         ///< total (prorated when items are missing); >= 0
    std::optional<std::string> band;  ///< band label of the score, when the instrument has bands
    Timestamp administered_at{};
    std::optional<Timestamp> completed_at;  ///< not before administered_at
    std::optional<ConversationId> conversation_id;  ///< the chat the form was offered in
    std::optional<std::string> requested_by;  ///< "schedule" or the requesting clinician's id

    bool operator==(const Assessment&) const = default;
};

/// The number of scored items of a built-in (9, 7, 6, 12); 0 for a clinic-added instrument.
/// Any thread.
std::size_t item_count(const Instrument& instrument) noexcept;

/// A built-in's total of a COMPLETE form: sum for PHQ-9, GAD-7 and WAI-SR, the number of "yes"
/// answers for the C-SSRS screener. nullopt when a scored item is missing or out of range, and
/// for clinic-added instruments. Kept equal to tandem::score() on complete forms
/// (tests/measures checks it); new code should use tandem_measures, which also prorates.
std::optional<int> assessment_score(const Instrument& instrument,
                                    const std::vector<std::optional<int>>& items);

/// The band of a complete built-in form: PHQ-9 minimal|mild|moderate|moderately_severe|severe,
/// GAD-7 minimal|mild|moderate|severe, C-SSRS screener none|low|moderate|high (the screener's
/// triage), WAI-SR none (nullopt). nullopt when incomplete and for clinic-added instruments.
std::optional<std::string> assessment_band(const Instrument& instrument,
                                           const std::vector<std::optional<int>>& items);

/// The band of a PHQ-9 or GAD-7 total (also a prorated one); nullopt for other instruments or
/// a total out of range. Any thread.
std::optional<std::string> assessment_band_of_total(const Instrument& instrument, int total);

// ---------------------------------------------------------------------------------------------
// Audit

/// A clinician's action worth auditing (viewing a transcript, releasing a held reply).
struct AuditEvent {
    EventId id;
    ClinicianId clinician_id;
    std::string action;  ///< snake_case verb: "transcript_viewed", "reply_released"
    std::optional<PatientId> patient_id;
    std::optional<std::string> target_id;  ///< id text of the record acted on
    Timestamp at{};
    std::string detail;  ///< free text for auditors; never message text

    bool operator==(const AuditEvent&) const = default;
};

// ---------------------------------------------------------------------------------------------
// Rules

/// Check the record's rules; ErrorCode::invalid_argument with Error::field naming the first
/// offending field path ("goals[2].target_date", "spans[0].end"). Any thread.
Result<void> validate(const RiskAssessment& value);
Result<void> validate(const Clinic& value);
Result<void> validate(const Clinician& value);
Result<void> validate(const Patient& value);
Result<void> validate(const Conversation& value);
Result<void> validate(const Message& value);
Result<void> validate(const Flag& value);
Result<void> validate(const TreatmentPlan& value);
Result<void> validate(const Assessment& value);
Result<void> validate(const AuditEvent& value);

}  // namespace tandem
