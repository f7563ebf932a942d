#include "tandem/domain/risk_assessment.h"
#include "tandem/domain/records.h"

#include <array>
#include <utility>

namespace tandem {
namespace {

constexpr std::array<std::pair<Severity, std::string_view>, 5> kSeverityNames{{
    {Severity::none, "none"},
    {Severity::low, "low"},
    {Severity::moderate, "moderate"},
    {Severity::high, "high"},
    {Severity::imminent, "imminent"},
}};

constexpr std::array<std::pair<RiskCategory, std::string_view>, 15> kCategoryNames{{
    {RiskCategory::suicidal_ideation, "suicidal_ideation"},
    {RiskCategory::suicidal_behaviour, "suicidal_behaviour"},
    {RiskCategory::self_harm, "self_harm"},
    {RiskCategory::harm_to_others, "harm_to_others"},
    {RiskCategory::abuse_disclosed, "abuse_disclosed"},
    {RiskCategory::eating_disorder, "eating_disorder"},
    {RiskCategory::substance_misuse, "substance_misuse"},
    {RiskCategory::psychosis, "psychosis"},
    {RiskCategory::ai_means_information, "ai_means_information"},
    {RiskCategory::ai_validates_self_harm, "ai_validates_self_harm"},
    {RiskCategory::ai_harmful_diet_advice, "ai_harmful_diet_advice"},
    {RiskCategory::ai_medication_advice, "ai_medication_advice"},
    {RiskCategory::ai_discourages_care, "ai_discourages_care"},
    {RiskCategory::ai_boundary_crossing, "ai_boundary_crossing"},
    {RiskCategory::ai_risk_ignorance, "ai_risk_ignorance"},
}};

template <class Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, N>& table, Enum value) {
    for (const auto& [v, name] : table) {
        if (v == value) return name;
    }
    return "unknown";
}

template <class Enum, std::size_t N>
std::optional<Enum> value_of(const std::array<std::pair<Enum, std::string_view>, N>& table,
                             std::string_view name) {
    for (const auto& [v, n] : table) {
        if (n == name) return v;
    }
    return std::nullopt;
}

}  // namespace

std::string_view to_string(Severity severity) noexcept { return name_of(kSeverityNames, severity); }
std::string_view to_string(RiskCategory category) noexcept { return name_of(kCategoryNames, category); }
std::optional<Severity> parse_severity(std::string_view name) noexcept { return value_of(kSeverityNames, name); }
std::optional<RiskCategory> parse_risk_category(std::string_view name) noexcept {
    return value_of(kCategoryNames, name);
}

}  // namespace tandem

namespace tandem {

template <>
std::optional<Severity> from_string<Severity>(std::string_view name) noexcept {
    return parse_severity(name);
}
template <>
std::optional<RiskCategory> from_string<RiskCategory>(std::string_view name) noexcept {
    return parse_risk_category(name);
}

}  // namespace tandem
