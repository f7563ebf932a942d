#pragma once
// The risk engine: screens one message (patient or AI) with its recent turns and says how
// risky it is, why, and where in the text.

#include <span>
#include <string>
#include <string_view>

#include "tandem/domain/error.h"
#include "tandem/domain/risk_assessment.h"
#include "tandem/risk/engine_types.h"
#include "tandem/risk/rule_set.h"
#include "tandem/risk/second_opinion.h"

namespace tandem {

/// The engine's own version, reported in every assessment.
inline constexpr std::string_view risk_engine_version = "tandem-risk/1.0";

class RiskEngine {
public:
    /// Takes ownership of a loaded rule set. Any thread.
    explicit RiskEngine(RuleSet rules);

    /// Screens text written by role, given up to the last 6 turns (oldest first; more are
    /// ignored). Never fails: the rules always give a verdict. Any thread, concurrently.
    RiskAssessment screen(std::string_view text, SpeakerRole role,
                          std::span<const Turn> context = {}) const;

    /// As screen(), then, for borderline verdicts (low or moderate, or a risk match a modifier
    /// capped), asks second_opinion and raises the severity if it says higher; never lowers.
    /// A failing second opinion leaves the rules' verdict. Thread: as second_opinion allows.
    RiskAssessment screen(std::string_view text, SpeakerRole role, std::span<const Turn> context,
                          SecondOpinion& second_opinion) const;

    /// The loaded rules. Any thread.
    const RuleSet& rules() const noexcept { return rules_; }

private:
    RuleSet rules_;
};

}  // namespace tandem
