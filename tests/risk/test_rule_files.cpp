// Rule files: the shipped ones load; a bad one is refused with its line and the reason.

#include <catch2/catch_test_macros.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "tandem/risk/rule_set.h"

namespace {

std::string file_with_rule(const std::string& rule_fields) {
    return "{\n"
           "  \"format\": 1,\n"
           "  \"name\": \"t\",\n"
           "  \"version\": \"1\",\n"
           "  \"language\": \"en\",\n"
           "  \"rules\": [\n"
           "    {\n"
           "      \"id\": \"ok.rule\", \"kind\": \"risk\", \"role\": \"patient\", \"category\": \"self_harm\",\n"
           "      \"severity\": \"moderate\", \"patterns\": [\"\\\\bcut myself\\\\b\"], \"rationale\": \"r\"\n"
           "    },\n"
           "    {\n" +
           rule_fields +
           "\n    }\n"
           "  ]\n"
           "}\n";
}

struct BadFile {
    const char* name;
    std::string text;
    std::string must_mention;  // file:line and/or rule id and reason
};

}  // namespace

TEST_CASE("the shipped rule files load and validate", "[risk][rules]") {
    auto rules = tandem::RuleSet::load(tandem::RuleSet::builtin_sources(), tandem::RuleSet::default_cache_dir());
    REQUIRE(rules.has_value());
    CHECK(rules->rules().size() > 50);
    CHECK(rules->version().find("core-en-patient@") != std::string::npos);
    CHECK(rules->version().find("core-es@") != std::string::npos);
}

TEST_CASE("a bad rule file is refused with the line and the reason", "[risk][rules]") {
    const std::vector<BadFile> cases{
        {"JSON syntax error points at its line",
         "{\n  \"format\": 1,\n  \"name\": \"t\"\n  \"version\": \"1\"\n}\n", "bad.json:4"},
        {"unknown severity points at the rule's severity line",
         file_with_rule("      \"id\": \"bad.sev\", \"kind\": \"risk\", \"role\": \"patient\", \"category\": \"self_harm\",\n"
                        "      \"patterns\": [\"x\"], \"rationale\": \"r\",\n      \"severity\": \"urgent\""),
         "bad.json:14"},
        {"unknown category is a schema error at the rule",
         file_with_rule("      \"id\": \"bad.cat\", \"kind\": \"risk\", \"role\": \"patient\", \"category\": \"sadness\",\n"
                        "      \"severity\": \"low\", \"patterns\": [\"x\"], \"rationale\": \"r\""),
         "bad.json:12"},
        {"a bad regular expression names the rule and Vectorscan's reason",
         file_with_rule("      \"id\": \"bad.regex\", \"kind\": \"risk\", \"role\": \"patient\", \"category\": \"self_harm\",\n"
                        "      \"severity\": \"low\", \"patterns\": [\"(unclosed\"], \"rationale\": \"r\""),
         "rule bad.regex (bad.json:11)"},
        {"an apostrophe in a pattern is refused with advice",
         file_with_rule("      \"id\": \"bad.apos\", \"kind\": \"risk\", \"role\": \"patient\", \"category\": \"self_harm\",\n"
                        "      \"severity\": \"low\", \"patterns\": [\"don't\"], \"rationale\": \"r\""),
         "apostrophe"},
        {"a duplicate id names the first definition",
         file_with_rule("      \"id\": \"ok.rule\", \"kind\": \"risk\", \"role\": \"patient\", \"category\": \"self_harm\",\n"
                        "      \"severity\": \"low\", \"patterns\": [\"x\"], \"rationale\": \"r\""),
         "first defined at bad.json:7"},
        {"cssrs on a non-suicide category is refused",
         file_with_rule("      \"id\": \"bad.cssrs\", \"kind\": \"risk\", \"role\": \"patient\", \"category\": \"self_harm\",\n"
                        "      \"severity\": \"low\", \"cssrs\": 2, \"patterns\": [\"x\"], \"rationale\": \"r\""),
         "bad.json:13"},
        {"a modifier without a window is a schema error",
         file_with_rule("      \"id\": \"bad.mod\", \"kind\": \"negation\", \"role\": \"patient\", \"cap\": \"none\",\n"
                        "      \"patterns\": [\"x\"], \"rationale\": \"r\""),
         "bad.json:11"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const std::vector<tandem::RuleSource> sources{{"bad.json", c.text}};
        auto rules = tandem::RuleSet::load(sources, std::nullopt);
        REQUIRE_FALSE(rules.has_value());
        INFO(rules.error().describe());
        CHECK(rules.error().describe().find(c.must_mention) != std::string::npos);
    }
}

TEST_CASE("rules from a directory replace the built-in ones", "[risk][rules]") {
    auto rules = tandem::RuleSet::load_directory(TANDEM_RISK_RULES_DIR, tandem::RuleSet::default_cache_dir());
    REQUIRE(rules.has_value());
    CHECK(rules->rules().size() == tandem::RuleSet::load_builtin()->rules().size());
    auto missing = tandem::RuleSet::load_directory("/nonexistent/tandem/rules", std::nullopt);
    REQUIRE_FALSE(missing.has_value());
}

TEST_CASE("a cached rule set scans as the fresh compile, and a cache file of an older format is recompiled", "[risk][rules][cache]") {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("tandem-risk-cache-test-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir);
    const std::vector<tandem::RuleSource> sources{{"t.json", file_with_rule(
        "      \"id\": \"ai.rule\", \"kind\": \"risk\", \"role\": \"ai\", \"category\": \"ai_means_information\",\n"
        "      \"severity\": \"high\", \"patterns\": [\"\\\\bcut (?:here|there)\\\\b\"], \"rationale\": \"r\"")}};
    auto scan_text = [](const tandem::RuleSet& rules, tandem::SpeakerRole role) {
        std::vector<tandem::RuleMatch> out;
        rules.scan(rules.normalizer().canonical("I cut myself. Cut here"), role, out);
        std::string s;
        for (const auto& m : out) s += rules.rules()[m.rule].id + "@" + std::to_string(m.begin) + "-" + std::to_string(m.end) + " ";
        return s;
    };
    auto fresh = tandem::RuleSet::load(sources, dir);
    REQUIRE(fresh.has_value());
    CHECK_FALSE(fresh->from_cache());
    auto cached = tandem::RuleSet::load(sources, dir);
    REQUIRE(cached.has_value());
    CHECK(cached->from_cache());
    CHECK(scan_text(*cached, tandem::SpeakerRole::patient) == "ok.rule@2-12 ");
    CHECK(scan_text(*cached, tandem::SpeakerRole::ai) == "ai.rule@14-22 ");
    CHECK(scan_text(*cached, tandem::SpeakerRole::clinician).empty());
    for (const auto role : {tandem::SpeakerRole::patient, tandem::SpeakerRole::ai, tandem::SpeakerRole::clinician}) {
        CHECK(scan_text(*cached, role) == scan_text(*fresh, role));
    }

    // A file written by the previous layout (version 4: no start rules, no start databases)
    // must not be read as this one.
    std::size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        std::ofstream(entry.path(), std::ios::binary | std::ios::trunc) << "TANDEM-RISK-DB-4\n" << std::string(64, '\0');
        ++files;
    }
    CHECK(files == 1);
    auto again = tandem::RuleSet::load(sources, dir);
    REQUIRE(again.has_value());
    CHECK_FALSE(again->from_cache());
    CHECK(scan_text(*again, tandem::SpeakerRole::ai) == "ai.rule@14-22 ");
    std::filesystem::remove_all(dir);
}
