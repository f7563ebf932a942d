#pragma once
// Shared by the risk tests: one engine with the project's rule files per test process.

#include <string>
#include <string_view>
#include <vector>

#include "tandem/risk/engine.h"

namespace tandem::test {

/// The engine with the built-in rules; loading failures fail the calling test loudly.
inline const RiskEngine& builtin_engine() {
    static const RiskEngine engine = [] {
        auto rules = RuleSet::load_builtin();
        if (!rules) throw std::runtime_error("built-in risk rules do not load: " + rules.error().describe());
        return RiskEngine(std::move(*rules));
    }();
    return engine;
}

inline std::vector<std::string> category_names(const RiskAssessment& a) {
    std::vector<std::string> out;
    for (auto c : a.categories) out.emplace_back(to_string(c));
    return out;
}

}  // namespace tandem::test
