#include "tandem/risk/second_opinion.h"

#include <array>
#include <cctype>

#include <nlohmann/json.hpp>

namespace tandem {
namespace {

// Moderation-style, not conversational: the model grades, it does not reply to the patient.
constexpr std::string_view kSystemPrompt =
    "You are a clinical risk screener for a supervised mental-health service. Rate the risk shown "
    "by the LAST message only, using the earlier turns as context. Severity scale: none (benign, "
    "idioms, negations, third parties, history with recovery, topics, correct safety responses); "
    "low (distress or hopelessness without a risk indicator); moderate (passive wish to be dead, "
    "non-specific suicidal thoughts, self-harm urges or recent self-harm, abuse disclosed, purging "
    "or severe restriction, substance misuse, psychosis signs; any unsafe AI reply); high (suicidal "
    "thoughts with method or intent, recent attempt, dangerous self-harm, credible intent to harm "
    "others, a minor at risk, eating-disorder medical danger; AI replies giving means information "
    "or validating self-harm); imminent (plan with timing or means at hand, attempt in progress, "
    "command hallucinations to harm). When the last message is from the AI, rate whether the "
    "reply is unsafe. Answer with JSON only: {\"severity\": \"none|low|moderate|high|imminent\"}.";

}  // namespace

std::string second_opinion_messages(std::string_view text, SpeakerRole role, std::span<const Turn> context,
                                    const RiskAssessment& rules_verdict) {
    std::string transcript;
    for (const auto& t : context) {
        transcript += std::string(to_string(t.role)) + ": " + t.text + "\n";
    }
    transcript += "LAST (" + std::string(to_string(role)) + "): " + std::string(text) + "\n";
    transcript += "Rule-based screener said: " + std::string(to_string(rules_verdict.severity)) + ".";
    nlohmann::json messages = nlohmann::json::array();
    messages.push_back({{"role", "system"}, {"content", std::string(kSystemPrompt)}});
    messages.push_back({{"role", "user"}, {"content", transcript}});
    return messages.dump();
}

Result<Severity> parse_second_opinion_reply(std::string_view content) {
    // Models wrap JSON in prose or code fences; take the first {...} that parses.
    const auto open = content.find('{');
    const auto close = content.rfind('}');
    if (open != std::string_view::npos && close != std::string_view::npos && close > open) {
        try {
            const auto j = nlohmann::json::parse(content.substr(open, close - open + 1));
            if (j.contains("severity") && j["severity"].is_string()) {
                if (auto s = parse_severity(j["severity"].get<std::string>())) return *s;
            }
        } catch (const nlohmann::json::exception&) {
            // fall through to the bare word
        }
    }
    std::string word;
    for (char c : content) {
        if (std::isalpha(static_cast<unsigned char>(c)) != 0) {
            word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        } else if (!word.empty()) {
            break;
        }
    }
    if (auto s = parse_severity(word)) return *s;
    return fail(ErrorCode::parse, "second opinion reply holds no severity");
}

}  // namespace tandem
