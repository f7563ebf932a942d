#pragma once
// The optional second opinion: an LLM asked a moderation-style question about a borderline
// message. The bridge implements it with its HTTP client; common/ has no network code. The
// engine only ever raises a severity with it, never lowers one, and works fully without it.

#include <span>
#include <string_view>

#include "tandem/domain/error.h"
#include "tandem/domain/risk_assessment.h"
#include "tandem/risk/engine_types.h"

namespace tandem {

class SecondOpinion {
public:
    virtual ~SecondOpinion() = default;
    /// The severity the second opinion gives the message, given the rules' verdict. Errors
    /// (unavailable, timeout) make the engine keep its own verdict. Called on the screening
    /// thread; implementations must be safe to call from any thread that screens.
    virtual Result<Severity> assess(std::string_view text, SpeakerRole role,
                                    std::span<const Turn> context,
                                    const RiskAssessment& rules_verdict) = 0;
};

}  // namespace tandem
