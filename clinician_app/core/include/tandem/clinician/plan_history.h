#pragma once
// Treatment plans as the clinician app sees them (issue 7, /work/p3 contract): every version of
// each patient's plan, rebuilt from plan_* events in the feed and from `plans` fetch replies.
// Plan text is kept as the wire's strings (dates as "YYYY-MM-DD", instruments as ids), so a
// half-typed edit can be held, compared and shown before it is checked for sending.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tandem/clinician/time_text.h"
#include "tandem/domain/error.h"

namespace tandem::clinician {

enum class PlanState { proposed, approved, rejected, superseded };

struct PlanGoalItem {
    std::string description;
    std::string measure;
    std::string target_date;  ///< YYYY-MM-DD

    bool operator==(const PlanGoalItem&) const = default;
};

struct PlanInterventionItem {
    std::string name;
    std::string how_ai_uses_it;

    bool operator==(const PlanInterventionItem&) const = default;
};

struct PlanAssessmentItem {
    std::string instrument;  ///< "phq9", "gad7", ...
    int week = 0;

    bool operator==(const PlanAssessmentItem&) const = default;
};

/// The plan's text lists, in the order the review dialog shows them.
enum class PlanList {
    presenting_problems,
    conditions,
    homework,
    warning_signs,
    internal_coping,
    distraction_people_places,
    people_to_ask,
    professionals_and_crisis_lines,
    environment_safety,
    avoid_topics,
    escalate_when,
};
inline constexpr std::size_t kPlanListCount = 11;
/// Every PlanList in display order.
inline constexpr std::array<PlanList, kPlanListCount> kPlanLists{
    PlanList::presenting_problems, PlanList::conditions,      PlanList::homework,
    PlanList::warning_signs,       PlanList::internal_coping, PlanList::distraction_people_places,
    PlanList::people_to_ask,       PlanList::professionals_and_crisis_lines,
    PlanList::environment_safety,  PlanList::avoid_topics,    PlanList::escalate_when};

/// The content of a plan version: every field of TreatmentPlan except identity and status.
struct PlanContent {
    std::array<std::vector<std::string>, kPlanListCount> lists;  ///< indexed by PlanList
    std::vector<PlanGoalItem> goals;
    std::vector<PlanInterventionItem> interventions;
    std::string checkin_cadence;
    std::vector<PlanAssessmentItem> assessment_schedule;
    std::string tone;  ///< ai_guidance.tone

    /// One of the text lists, by name. Any thread (a value type).
    std::vector<std::string>& list(PlanList l) { return lists[static_cast<std::size_t>(l)]; }
    /// The same, read-only.
    const std::vector<std::string>& list(PlanList l) const { return lists[static_cast<std::size_t>(l)]; }
    /// Field-by-field equality, spaces included (checked_plan_content trims first).
    bool operator==(const PlanContent&) const = default;
};

/// One version of a patient's plan.
struct PlanVersion {
    std::string id;
    std::string patient_id;
    int version = 0;
    PlanState status = PlanState::proposed;
    bool proposed_by_ai = true;
    std::string proposer_id;  ///< the clinician's id when a clinician wrote it
    std::string approver_id;  ///< who approved or rejected it
    std::string reason;
    TimePoint created_at{};
    std::optional<TimePoint> decided_at;
    std::optional<int> based_on_version;  ///< the version it was edited or restored from
    PlanContent content;
};

/// Wire names ("proposed", ...) and the field labels the views show. Any thread.
std::string_view to_string(PlanState state) noexcept;
std::optional<PlanState> parse_plan_state(std::string_view name) noexcept;
/// The wire key of a list ("warning_signs"); safety-plan and guidance lists are nested on the wire.
std::string_view wire_name(PlanList list) noexcept;
/// "Presenting problems", "Safety plan: warning signs", "AI guidance: avoid topics". Any thread.
std::string_view label(PlanList list) noexcept;

/// Parses a TreatmentPlan record (ARCHITECTURE.md names); errors name the missing field. Any thread.
Result<PlanVersion> parse_plan(const nlohmann::json& record);
/// Reads the content fields of a record or of an action's `plan` object; missing fields are empty. Any thread.
PlanContent parse_plan_content(const nlohmann::json& object);
/// The content fields as the wire writes them (an action's `plan`: no id, version, status or proposer). Any thread.
nlohmann::json plan_content_json(const PlanContent& content);

/// A `plans` reply: every version of one patient's plan.
struct PlansReply {
    std::string patient_id;
    std::vector<PlanVersion> plans;
};

/// The `fetch_plans` client frame as text (the reply is a `plans` frame). Any thread.
std::string fetch_plans_frame(const std::string& patient_id, const std::string& envelope_id, TimePoint now);
/// Reads a `plans` server frame; nullopt for any other frame, cheaply (no parse unless the text
/// holds the JSON string "plans"). Versions that do not parse are left out. Any thread.
std::optional<PlansReply> read_plans_frame(std::string_view text);

/// A failed proposal (an `llm_failed` event with purpose plan_proposal).
struct PlanFailure {
    TimePoint at{};
    std::string reason;
};

/// Every patient's plan versions. GUI thread only (lives in the Model).
class PlanBook {
public:
    /// Applies plan_proposed / plan_approved / plan_rejected, and llm_failed with purpose
    /// plan_proposal; returns false for any other event or a payload it cannot read. GUI thread.
    bool apply(const std::string& type, const std::string& patient_id, const std::string& actor_id, TimePoint time,
               const nlohmann::json& payload);
    /// Replaces a patient's versions with a `plans` reply (the bridge's view is the truth). GUI thread.
    void replace(const std::string& patient_id, std::vector<PlanVersion> versions);
    /// Keeps a version read back from the local cache as it was saved (status included), not
    /// counted as a change. GUI thread.
    void restore(PlanVersion version);
    /// Patients whose versions changed since the last call (the local cache rewrites their
    /// versions); starts afresh. GUI thread.
    std::set<std::string> take_changed();
    /// True when take_changed() would return something.
    bool has_changed() const { return !changed_.empty(); }

    /// The patient's versions by version number, oldest first; empty when none is known.
    std::vector<const PlanVersion*> history(const std::string& patient_id) const;
    /// Patients with at least one known version, by id.
    std::vector<std::string> patients() const;
    /// The newest approved version (the one steering the AI), or nullptr.
    const PlanVersion* active(const std::string& patient_id) const;
    /// The newest version still waiting for a decision, or nullptr.
    const PlanVersion* awaiting_review(const std::string& patient_id) const;
    /// Number of proposed versions of the patient (the caseload badge).
    std::size_t awaiting_count(const std::string& patient_id) const;
    /// The version with this id, or nullptr.
    const PlanVersion* find(const std::string& plan_id) const;
    /// The last failed proposal for the patient, when it is newer than every known version.
    std::optional<PlanFailure> last_failure(const std::string& patient_id) const;
    /// Changes since construction (views redraw when it moves).
    std::uint64_t revision() const { return revision_; }

private:
    void upsert(PlanVersion version);
    void supersede_others(const std::string& patient_id, int approved_version);
    PlanVersion* find_mutable(const std::string& plan_id);

    std::map<std::string, std::map<int, PlanVersion>> by_patient_;  // patient -> version -> plan
    std::map<std::string, std::pair<std::string, int>> by_id_;       // plan id -> (patient, version)
    std::map<std::string, PlanFailure> failures_;
    std::set<std::string> changed_;  // patient ids
    std::uint64_t revision_ = 0;
};

}  // namespace tandem::clinician
