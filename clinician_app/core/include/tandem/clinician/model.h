#pragma once
// The clinician's client-side model: what this clinician may see, rebuilt from the bridge's
// stored events (docs/ARCHITECTURE.md, "The event log"). It owns no wx and no sockets; the GUI
// thread applies events and presenters read it. Resumable: the cursor is the last applied seq.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tandem/clinician/plan_history.h"
#include "tandem/clinician/outcome_series.h"
#include "tandem/clinician/time_text.h"
#include "tandem/domain/error.h"
#include "tandem/domain/risk_assessment.h"

namespace tandem::clinician {

enum class Role { therapist, supervisor, admin };
enum class Sender { patient, ai, clinician, system };
enum class MessageState { delivered, held, withheld };
enum class FlagStatus { open, acknowledged, escalated, resolved };

struct ClinicianInfo {
    std::string id;
    std::string username;
    std::string display_name;
    std::vector<Role> roles;
    bool active = true;

    /// True when roles holds `role`. Any thread.
    bool has_role(Role role) const;
};

struct ClinicPolicy {
    int urgent_sla_minutes = 5;
    int second_escalation_minutes = 15;
    int idle_lock_minutes = 10;
};

struct PatientInfo {
    std::string id;
    std::string display_name;
    std::string assigned_therapist_id;  ///< empty when unassigned
    std::vector<std::string> conditions;
    bool in_crisis = false;
    bool ai_paused = false;
    std::optional<TimePoint> last_activity;
};

struct MessageInfo {
    std::string id;
    std::string conversation_id;
    std::string patient_id;
    Sender sender = Sender::patient;
    std::string sender_id;
    std::string text;
    MessageState state = MessageState::delivered;
    TimePoint created_at{};
    std::optional<RiskAssessment> risk;
    std::uint64_t seq = 0;  ///< the event that brought it; orders the transcript
};

struct FlagNote {
    std::string clinician_id;
    TimePoint at{};
    std::string text;
};

struct FlagInfo {
    std::string id;
    std::string patient_id;
    std::string conversation_id;
    std::string message_id;
    Severity severity = Severity::moderate;
    std::vector<RiskCategory> categories;
    FlagStatus status = FlagStatus::open;
    TimePoint opened_at{};
    TimePoint sla_deadline{};
    int escalation_level = 0;
    std::vector<FlagNote> notes;
    std::string acknowledged_by;
    std::optional<TimePoint> acknowledged_at;
    std::string resolved_by;
    std::optional<TimePoint> resolved_at;
    std::optional<bool> risk_real;

    /// Open or escalated: nobody has acknowledged it yet. Any thread.
    bool needs_acknowledgement() const;
    /// Anything but resolved. Any thread.
    bool unresolved() const { return status != FlagStatus::resolved; }
};

/// A stored event as it arrives in an `event` frame's payload.
struct StoredEvent {
    std::uint64_t seq = 0;
    std::string id;
    std::string type;
    TimePoint time{};
    std::string patient_id;
    std::string actor_kind;
    std::string actor_id;
    std::string payload_json;  ///< the record's JSON text, parsed by the model per type
};

/// One line of the audit trail: a clinician's read or action, as the feed reported it.
struct AuditEntry {
    std::uint64_t seq = 0;
    TimePoint at{};
    std::string clinician_id;
    std::string type;  ///< the event type ("transcript_viewed", "flag_acknowledged", ...)
    std::string patient_id;
};

/// Parses an event object; errors name the missing field. Any thread.
Result<StoredEvent> parse_stored_event(const nlohmann::json& event);

enum class ApplyOutcome {
    applied,    ///< the model changed (or the event type is known but carries nothing we show)
    duplicate,  ///< seq <= cursor: already applied, ignored
    ignored,    ///< an event type this app does not show; the cursor still advances
    malformed,  ///< the payload did not parse; the cursor still advances so the feed is not stuck
};

/// Wire names for the enums ("therapist", "held", "escalated"). Any thread.
std::string_view to_string(Role role) noexcept;
std::string_view to_string(Sender sender) noexcept;
std::string_view to_string(MessageState state) noexcept;
std::string_view to_string(FlagStatus status) noexcept;
std::optional<Role> parse_role(std::string_view name) noexcept;
std::optional<Sender> parse_sender(std::string_view name) noexcept;
std::optional<MessageState> parse_message_state(std::string_view name) noexcept;
std::optional<FlagStatus> parse_flag_status(std::string_view name) noexcept;

/// Parses a RiskAssessment object (ARCHITECTURE.md field names). Any thread.
Result<RiskAssessment> parse_risk(const nlohmann::json& risk);

/// What changed since the last Model::take_changes(): the rows a local cache must rewrite.
struct ModelChanges {
    std::set<std::string> patients;
    std::set<std::string> flags;
    std::set<std::string> messages;
    std::set<std::string> clinicians;
    std::set<std::string> assessments;    ///< assessment ids kept or replaced in assessments()
    std::set<std::string> plan_patients;  ///< patients whose plan versions changed in plans()
    std::size_t audit_from = 0;   ///< audit() entries from this index on are new
    bool self_or_policy = false;  ///< set_self, set_policy or the clinic's policy changed
    bool cursor = false;          ///< the cursor moved

    /// True when nothing changed. Any thread.
    bool empty() const {
        return patients.empty() && flags.empty() && messages.empty() && clinicians.empty() && assessments.empty() &&
               plan_patients.empty() && !self_or_policy && !cursor;
    }
};

/// The whole client-side state. GUI thread only (not synchronised).
class Model {
public:
    /// Applies one stored event exactly once: seq <= cursor() is a duplicate and changes nothing.
    ApplyOutcome apply(const StoredEvent& event);
    /// The last applied seq: the `after_seq` to subscribe with on reconnect.
    std::uint64_t cursor() const { return cursor_; }
    /// Number of events applied since construction (duplicates excluded).
    std::uint64_t applied_count() const { return applied_count_; }

    /// Who is logged in, from `login_ok`; drives permissions.
    void set_self(ClinicianInfo self) {
        self_ = std::move(self);
        changes_.self_or_policy = true;
    }
    const ClinicianInfo& self() const { return self_; }
    void set_policy(ClinicPolicy policy) {
        policy_ = policy;
        changes_.self_or_policy = true;
    }
    const ClinicPolicy& policy() const { return policy_; }

    /// Adds messages from a `transcript` reply (older history); keeps one copy per message id.
    void merge_transcript(const std::vector<MessageInfo>& messages);

    const std::map<std::string, PatientInfo>& patients() const { return patients_; }
    const std::map<std::string, FlagInfo>& flags() const { return flags_; }
    const std::map<std::string, ClinicianInfo>& clinicians() const { return clinicians_; }
    /// Clinicians' reads and actions in feed order (the supervisor's audit trail).
    const std::vector<AuditEntry>& audit() const { return audit_; }
    const PatientInfo* patient(const std::string& id) const;
    const FlagInfo* flag(const std::string& id) const;
    const MessageInfo* message(const std::string& id) const;
    /// The patient's messages in transcript order (seq, then time). Empty when none.
    std::vector<const MessageInfo*> transcript(const std::string& patient_id) const;
    /// A clinician's display name, or the id when unknown.
    std::string clinician_name(const std::string& id) const;

    /// Every patient's treatment plan versions (plan_* events and `plans` replies).
    const PlanBook& plans() const { return plans_; }
    /// The same, for a `plans` reply to replace a patient's versions.
    PlanBook& plans() { return plans_; }
    /// Scored questionnaires (assessment_scored events and `assessments` replies); see outcome_series.h.
    const AssessmentBook& assessments() const { return assessments_; }
    AssessmentBook& assessments() { return assessments_; }

    /// True when this clinician may act on the patient: supervisors always, therapists when assigned.
    bool may_act_on(const std::string& patient_id) const;
    /// True when the patient's outcomes and plans belong in this clinician's local cache: the
    /// same rule as may_act_on (supervisors: everyone; therapists: their assigned patients), so
    /// a patient reassigned away leaves the cache. Any thread that owns the model.
    bool may_keep_outcomes_of(const std::string& patient_id) const { return may_act_on(patient_id); }

    /// Returns what changed since the previous call and starts counting afresh (the cache's writes).
    ModelChanges take_changes();
    /// Puts changes back (a cache write failed), merged with anything changed since.
    void requeue_changes(ModelChanges changes);
    /// Counts everything as changed (a new, empty cache must receive the whole model).
    void mark_all_changed();
    /// True when take_changes() would return something.
    bool has_changes() const {
        return !changes_.empty() || changes_.audit_from < audit_.size() || assessments_.has_changed() ||
               plans_.has_changed();
    }

    // Restoring a saved model (the local cache): these set state as it was, without counting
    // it as a change and without touching applied_count(). Call on an empty model, then
    // restore_cursor() last. GUI thread.
    void restore_patient(PatientInfo patient);        ///< a saved patient row (id non-empty)
    void restore_flag(FlagInfo flag);                 ///< a saved flag (id non-empty)
    void restore_message(MessageInfo message);        ///< a saved message, into its patient's transcript
    void restore_clinician(ClinicianInfo clinician);  ///< a saved clinician (id non-empty)
    void restore_audit(AuditEntry entry);             ///< a saved audit line, in saved order
    void restore_assessment(AssessmentPoint point);   ///< a saved scored questionnaire
    void restore_plan(PlanVersion version);           ///< a saved plan version, status as saved
    /// Sets self and policy as saved, without counting a change.
    void restore_identity(ClinicianInfo self, ClinicPolicy policy);
    /// Sets the cursor the feed resumes from; forgets pending changes (they are what was loaded).
    void restore_cursor(std::uint64_t cursor);

private:
    void apply_payload(const StoredEvent& event, const nlohmann::json& payload);
    /// Makes sure the patient has a row; `at` (a message or conversation start) moves last activity.
    void touch(const std::string& patient_id, std::optional<TimePoint> at);
    void upsert_message(MessageInfo message);

    ClinicianInfo self_;
    ClinicPolicy policy_;
    std::uint64_t cursor_ = 0;
    std::uint64_t applied_count_ = 0;
    std::map<std::string, PatientInfo> patients_;
    std::map<std::string, FlagInfo> flags_;
    std::map<std::string, ClinicianInfo> clinicians_;
    std::vector<AuditEntry> audit_;
    std::map<std::string, MessageInfo> messages_;                     // by message id
    std::map<std::string, std::vector<std::string>> patient_messages_;  // patient id -> message ids
    ModelChanges changes_;
    PlanBook plans_;
    AssessmentBook assessments_;
};

/// Parses a Message record (also used for `transcript` replies). Any thread.
Result<MessageInfo> parse_message(const nlohmann::json& message);
/// Parses a Flag record. Any thread.
Result<FlagInfo> parse_flag(const nlohmann::json& flag);
/// Parses a Clinician record. Any thread.
Result<ClinicianInfo> parse_clinician(const nlohmann::json& clinician);
/// Parses the `clinic_policy` object of `login_ok` or a Clinic's `policy`. Any thread.
ClinicPolicy parse_policy(const nlohmann::json& policy);

}  // namespace tandem::clinician
