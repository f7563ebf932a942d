#pragma once
// Shared by the risk tests: one engine with the project's rule files per test process.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch_test_macros.hpp>

#include "tandem/risk/engine.h"
#include "tandem/risk/evaluation.h"
#include "tandem/risk/rule_set.h"

namespace tandem::test {

/// The shipped model file's bytes (common/risk/model/risk_model.bin).
inline std::string read_model_file() {
    const std::filesystem::path path = std::filesystem::path(TANDEM_RISK_MODEL_DIR) / "risk_model.bin";
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    REQUIRE(in);
    std::string bytes(static_cast<std::size_t>(in.tellg()), '\0');
    in.seekg(0);
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return bytes;
}

/// The checksum a model file's header gives for its body ("weights_fnv1a64": FNV-1a 64, hex).
inline std::string model_body_checksum(std::string_view body) {
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : body) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    return hex;
}

/// The engine with the built-in rules; loading failures fail the calling test loudly.
inline const RiskEngine& builtin_engine() {
    static const RiskEngine engine = [] {
        auto rules = RuleSet::load_builtin();
        if (!rules) throw std::runtime_error("built-in risk rules do not load: " + rules.error().describe());
        return RiskEngine(std::move(*rules));
    }();
    return engine;
}

/// The built-in rules without the learned model: for what the rules alone must decide, so a
/// retrained model can neither hide nor fake a rule's verdict.
inline const RiskEngine& rules_alone_engine() {
    static const RiskEngine engine = [] {
        auto rules = RuleSet::load_builtin();
        if (!rules) throw std::runtime_error("built-in risk rules do not load: " + rules.error().describe());
        return RiskEngine(std::move(*rules), std::nullopt);
    }();
    return engine;
}

/// A named message and the severity band (and category) its screen must land in.
struct ScreenCase {
    const char* name;
    SpeakerRole role;
    std::string text;
    std::vector<Turn> context;
    Severity at_least;
    Severity at_most;
    std::optional<RiskCategory> category;  // must be among the categories when set
};

/// Screens every case with `engine` and checks its band and category, naming the case on failure.
inline void check_screen_cases(const RiskEngine& engine, const std::vector<ScreenCase>& cases) {
    for (const auto& c : cases) {
        const auto a = engine.screen(c.text, c.role, c.context);
        INFO(c.name << ": got " << to_string(a.severity) << " (" << a.rationale << ")");
        CHECK(a.severity >= c.at_least);
        CHECK(a.severity <= c.at_most);
        if (c.category) {
            const bool has = std::find(a.categories.begin(), a.categories.end(), *c.category) != a.categories.end();
            CHECK(has);
        }
    }
}

/// The roles of the tables of named cases, short so a case reads as one line.
inline constexpr SpeakerRole P = SpeakerRole::patient;
inline constexpr SpeakerRole A = SpeakerRole::ai;

/// check_screen_cases with the built-in rules alone (rules_alone_engine).
inline void check_rules_alone_cases(const std::vector<ScreenCase>& cases) {
    check_screen_cases(rules_alone_engine(), cases);
}

inline std::vector<std::string> category_names(const RiskAssessment& a) {
    std::vector<std::string> out;
    for (auto c : a.categories) out.emplace_back(to_string(c));
    return out;
}

/// dev, dev2 and dev3 together: the labelled cases the speed tests screen both ways to show a fast
/// path gives the same verdicts.
inline std::vector<LabelledCase> development_cases() {
    std::vector<LabelledCase> all;
    for (const char* name : {"dev.jsonl", "dev2.jsonl", "dev3.jsonl"}) {
        auto cases = load_labelled_set(std::string(TANDEM_TEST_DATA_DIR) + "/risk/" + name);
        REQUIRE(cases.has_value());
        all.insert(all.end(), cases->begin(), cases->end());
    }
    return all;
}

// ---- Rule files written in a test, for scans of the rule set itself ----

/// One rule of a test's rule file, with one JSON-escaped pattern ("\\\\b" is \b): a risk rule
/// (suicidal ideation, low) or, given another kind, a rule of that kind.
inline std::string scan_rule(const std::string& id, const std::string& role, const std::string& pattern,
                             const std::string& kind = "risk") {
    if (kind != "risk") {
        return "    {\"id\": \"" + id + "\", \"kind\": \"" + kind + "\", \"role\": \"" + role + "\", \"patterns\": [\"" +
               pattern + "\"], \"rationale\": \"r\"}";
    }
    return "    {\"id\": \"" + id + "\", \"kind\": \"risk\", \"role\": \"" + role +
           "\", \"category\": \"suicidal_ideation\", \"severity\": \"low\", \"patterns\": [\"" + pattern +
           "\"], \"rationale\": \"r\"}";
}

/// A rule file NAME.json of the given rules, in order (their order is their patterns' indexes).
inline RuleSource scan_rules_file(const std::string& name, const std::vector<std::string>& rules) {
    std::string text = "{\"format\": 1, \"name\": \"" + name + "\", \"version\": \"1\", \"language\": \"en\", \"rules\": [\n";
    for (std::size_t i = 0; i < rules.size(); ++i) text += rules[i] + (i + 1 < rules.size() ? ",\n" : "\n");
    return RuleSource{name + ".json", text + "]}\n"};
}

/// "id@begin-end " for each match, in the order given.
inline std::string described(const RuleSet& rules, const std::vector<RuleMatch>& matches) {
    std::string s;
    for (const auto& m : matches) s += rules.rules()[m.rule].id + "@" + std::to_string(m.begin) + "-" + std::to_string(m.end) + " ";
    return s;
}

}  // namespace tandem::test
