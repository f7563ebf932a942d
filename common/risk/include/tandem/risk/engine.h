#pragma once
// The risk engine: screens one message (patient or AI) with its recent turns and says how
// risky it is, why, and where in the text.

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "tandem/domain/error.h"
#include "tandem/domain/risk_assessment.h"
#include "tandem/risk/engine_types.h"
#include "tandem/risk/learned_model.h"
#include "tandem/risk/rule_set.h"
#include "tandem/risk/second_opinion.h"

namespace tandem {

/// The engine's own version, reported in every assessment.
inline constexpr std::string_view risk_engine_version = "tandem-risk/1.1";

class RiskEngine {
public:
    /// Takes ownership of a loaded rule set and uses the learned model built into the binary
    /// (on patient text only; it may raise the rules' verdict to moderate or high, never lower it)
    /// (none if the build has none). Throws std::runtime_error if the built-in model is corrupt
    /// (a build fault, not an expected failure). Any thread.
    explicit RiskEngine(RuleSet rules);
    /// Rules plus the given learned model, or the rules alone with nullopt. Any thread.
    RiskEngine(RuleSet rules, std::optional<LearnedModel> model);

    /// Screens text written by role, given up to the last 6 turns (oldest first; more are
    /// ignored). Never fails: the rules always give a verdict. Any thread, concurrently.
    RiskAssessment screen(std::string_view text, SpeakerRole role,
                          std::span<const Turn> context = {}) const;

    /// As screen(), then, for borderline verdicts (low or moderate, or a risk match a modifier
    /// capped), asks second_opinion and raises the severity if it says higher; never lowers.
    /// A failing second opinion leaves the rules' verdict. Thread: as second_opinion allows.
    RiskAssessment screen(std::string_view text, SpeakerRole role, std::span<const Turn> context,
                          SecondOpinion& second_opinion) const;

    /// The learned model's features of a message in its context, as screen() computes them
    /// (for the training script, through tandem-risk features). Any thread.
    ModelFeatures model_features(std::string_view text, SpeakerRole role, std::span<const Turn> context = {}) const;

    /// The loaded rules. Any thread.
    const RuleSet& rules() const noexcept { return rules_; }
    /// The learned model, if any. Any thread.
    const std::optional<LearnedModel>& model() const noexcept { return model_; }

private:
    RuleSet rules_;
    std::optional<LearnedModel> model_;
};

}  // namespace tandem
