#pragma once
// Making a treatment-plan proposal: the prompt that asks an LLM for one, reading the reply
// (with the repairs that cannot change its meaning), building and checking the full record,
// and the offline companion's proposal from condition templates. Pure functions: the store and
// the model are PlanService's business (plan_service.h).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/bridge/config.h"
#include "tandem/bridge/llm.h"
#include "tandem/domain/error.h"
#include "tandem/domain/time.h"

namespace tandem::bridge {

/// One earlier message, as the proposer sees the conversation.
struct PlanTurn {
    std::string role;  ///< patient | ai | clinician
    std::string text;
};

/// What a proposal is made from.
struct ProposalInput {
    std::vector<std::string> conditions;  ///< the patient's registered conditions
    std::vector<PlanTurn> conversation;   ///< oldest first
    Date today{};
    std::vector<CrisisResource> crisis_resources;
};

/// A reply read as plan content, and what was repaired to get there ("code fence", "text
/// around the JSON", "filled homework", ...).
struct ParsedPlan {
    nlohmann::json content;
    std::vector<std::string> repairs;
};

/// The chat request asking the LLM for a plan as one JSON object (json_mode, max_tokens).
/// Any thread.
ChatRequest plan_proposal_request(const ProposalInput& input, int max_tokens);

/// True when a reply declines the task instead of answering it ("I can't help with that").
/// Any thread.
bool is_refusal(std::string_view reply);

/// Reads plan content from an LLM reply. Repairs only what cannot change the plan's meaning:
/// a code fence, prose before or after the object, a {"plan": {...}} wrapper, record fields
/// the model should not set (id, version, status, ...) and unknown keys dropped, empty strings
/// dropped from lists, and missing secondary fields filled (empty lists, the default assessment
/// schedule and crisis lines). The plan's substance (goals, interventions, cadence, tone) is
/// never invented: a reply without it fails validation later. Errors: unavailable (a refusal),
/// parse (no JSON object, or one cut off: "truncated"). Any thread.
Result<ParsedPlan> parse_plan_reply(std::string_view reply, const ProposalInput& input);

/// Who made a version and what it came from.
struct PlanMeta {
    std::string id;
    std::string patient_id;
    int version = 1;
    std::optional<int> based_on_version;
    std::optional<std::string> proposer_clinician_id;  ///< empty: proposed by the AI
    std::string created_at;
};

/// The full TreatmentPlan record (status proposed) of `content` (its content fields only are
/// taken). Any thread.
nlohmann::json make_plan_record(const nlohmann::json& content, const PlanMeta& meta);

/// Only the content fields of a record (for copying a version or comparing). Any thread.
nlohmann::json plan_content(const nlohmann::json& record);

/// Checks a record against schemas/records/treatment_plan. Errors: schema, with the JSON
/// pointer in field and the reason in message. Any thread.
Result<void> validate_plan_record(const nlohmann::json& record);

/// The offline companion's proposal: condition templates (depression, generalised anxiety,
/// eating-disorder risk, or the default) chosen from the registered conditions and keyword
/// cues in the patient's own words, merged, with PHQ-9 and GAD-7 at weeks 0, 4 and 8 and a
/// Stanley-Brown safety plan skeleton. Deterministic. Any thread.
nlohmann::json offline_plan_content(const ProposalInput& input);

/// The template ids offline_plan_content would use ("depression", "anxiety",
/// "eating_disorder_risk"; "default" when none matched). Any thread.
std::vector<std::string> inferred_templates(const ProposalInput& input);

}  // namespace tandem::bridge
