#pragma once
// What a treatment plan means for the AI and for the patient page, as pure functions of their
// inputs (no store, no clock, no randomness), so golden tests pin the exact system prompt a
// plan produces and a reviewer can read what an approval changes.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/bridge/llm.h"
#include "tandem/domain/time.h"

namespace tandem::bridge {

/// The plan a turn runs under: the patient's newest approved TreatmentPlan record, or the
/// clinic's default (is_default; then `record` holds only content fields).
struct PromptPlan {
    std::string id;
    int version = 1;
    bool is_default = true;
    nlohmann::json record = nlohmann::json::object();
};

/// What the prompt may know about the patient besides the plan.
struct PromptContext {
    std::vector<std::string> conditions;  ///< the patient's registered conditions
    bool risk_disclosed = false;          ///< the last patient message screened moderate or above
};

/// The rules every AI turn obeys, whatever the plan says. Any thread.
std::string_view default_safety_rules() noexcept;

/// The clinic's default plan until a clinician approves one: content fields only, with the
/// given homework. Any thread.
PromptPlan default_prompt_plan(std::string id, int version, const std::vector<std::string>& homework);

/// The system prompt of an AI turn: safety rules first (a plan cannot loosen them), then the
/// plan's goals, interventions, homework, cadence, safety plan and AI guidance in its own
/// words, then the patient context. Fields a plan lacks are left out, never invented.
/// Deterministic; no errors. Any thread.
std::string build_system_prompt(std::string_view safety_rules, const PromptPlan& plan, const PromptContext& context);

/// The plan's homework (the default plan's too). Any thread.
std::vector<std::string> plan_homework(const PromptPlan& plan);

/// What the offline companion follows of an approved plan (tone, intervention names, topics to
/// avoid); an empty guidance (plan_version 0) for the clinic default. Any thread.
ChatRequest::PlanGuidance companion_guidance(const PromptPlan& plan);

/// The patient `plan` frame's payload (wire/plan): homework, check-in cadence and upcoming
/// assessments of an APPROVED plan record; `approved` null gives the empty frame. Week N of the
/// assessment schedule is due `anchor` + N weeks; those due from a week before `now` on are
/// listed, soonest first. Any thread.
nlohmann::json patient_plan_payload(const nlohmann::json& approved, Timestamp anchor, Timestamp now);

}  // namespace tandem::bridge
