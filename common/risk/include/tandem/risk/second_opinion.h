#pragma once
// The optional second opinion: an LLM asked a moderation-style question about a borderline
// message. The bridge implements SecondOpinion with its HTTP client; common/ has no network
// code, only the prompt and the parser of the answer, so every implementation asks the same
// question. The engine only ever raises a severity with it, never lowers one, and works fully
// without it.

#include <span>
#include <string>
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

/// The "messages" array (OpenAI Chat Completions JSON, as a string) asking an LLM to rate the
/// message's risk; the answer is expected as {"severity": "..."}. Contains the message text: send
/// it only to the clinic's configured LLM, never log it. Any thread.
std::string second_opinion_messages(std::string_view text, SpeakerRole role, std::span<const Turn> context,
                                    const RiskAssessment& rules_verdict);

/// Reads the LLM's answer (the assistant message content): a JSON object with "severity", or a
/// bare severity word. Errors: parse when neither is found. Any thread.
Result<Severity> parse_second_opinion_reply(std::string_view content);

}  // namespace tandem
