#pragma once
// The risk engine's verdict on one message. Shared by the engine (common/risk), the store,
// the wire protocol and the clinician app, so its field names are a contract (schemas/).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tandem {

/// Ordered: a comparison (severity >= Severity::moderate) is meaningful.
enum class Severity { none = 0, low = 1, moderate = 2, high = 3, imminent = 4 };

enum class RiskCategory {
    // Patient text
    suicidal_ideation,    ///< C-SSRS 1 to 5
    suicidal_behaviour,   ///< C-SSRS 6: preparatory acts, aborted, interrupted or actual attempt
    self_harm,            ///< non-suicidal self-injury
    harm_to_others,
    abuse_disclosed,      ///< abuse or violence suffered, including a minor at risk
    eating_disorder,      ///< purging, severe restriction, fainting, laxative misuse
    substance_misuse,     ///< substance or medication misuse, overdose
    psychosis,            ///< command hallucinations are urgent
    // AI text
    ai_means_information,
    ai_validates_self_harm,
    ai_harmful_diet_advice,
    ai_medication_advice,
    ai_discourages_care,
    ai_boundary_crossing,
    ai_risk_ignorance,    ///< the patient disclosed risk and the reply ignores it
};

/// snake_case wire names ("moderate", "ai_risk_ignorance"). Any thread.
std::string_view to_string(Severity severity) noexcept;
std::string_view to_string(RiskCategory category) noexcept;
/// Parses a wire name; nullopt for anything else.
std::optional<Severity> parse_severity(std::string_view name) noexcept;
std::optional<RiskCategory> parse_risk_category(std::string_view name) noexcept;

/// A byte range [begin, end) of the screened message's UTF-8 text that made a rule fire.
struct EvidenceSpan {
    std::size_t begin = 0;
    std::size_t end = 0;
    std::string rule_id;    ///< the rule file's id for the rule, e.g. "si.plan.method_en"
    std::string rationale;  ///< the rule's one-line explanation for a clinician

    bool operator==(const EvidenceSpan&) const = default;
};

struct RiskAssessment {
    Severity severity = Severity::none;
    std::vector<RiskCategory> categories;  ///< sorted, unique
    std::optional<int> cssrs_level;        ///< 0..6 where suicidal ideation/behaviour applies
    std::vector<EvidenceSpan> spans;
    std::string rationale;                 ///< short text a clinician can read
    std::string engine_version;
    std::string ruleset_version;

    bool operator==(const RiskAssessment&) const = default;
};

}  // namespace tandem
