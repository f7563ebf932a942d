// Match starts worked out after an ends-only scan (common/risk/src/match_starts.h) must be the
// starts the databases with start-of-match tracking report: for each end the leftmost start.
// Checked against a rule set loaded with StartOffsets::in_scan, for the shipped rules over every
// development text and role, and for a small rule file with each way to a start at the edges
// of the text; and the literal-set expansion as a table of named cases.

#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "match_starts.h"
#include "risk_test_support.h"
#include "tandem/risk/rule_set.h"

namespace tandem {
namespace {

std::string described(const RuleSet& rules, const std::vector<RuleMatch>& matches) {
    std::string s;
    for (const auto& m : matches) s += rules.rules()[m.rule].id + "@" + std::to_string(m.begin) + "-" + std::to_string(m.end) + " ";
    return s;
}

// Every text of every development set (never the held-out sets): messages and context turns.
std::vector<std::string> all_development_texts() {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(std::string(TANDEM_TEST_DATA_DIR) + "/risk")) {
        const std::string name = e.path().filename().string();
        if (name.starts_with("dev") && name.ends_with(".jsonl")) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    std::vector<std::string> out;
    for (const auto& f : files) {
        auto cases = load_labelled_set(f.string());
        REQUIRE(cases.has_value());
        for (const auto& c : *cases) {
            out.push_back(c.text);
            for (const auto& t : c.context) out.push_back(t.text);
        }
    }
    return out;
}

struct LiteralCase {
    const char* name;
    const char* pattern;
    std::optional<std::vector<std::string>> strings;  // longest first, then sorted; nullopt: not literals
    bool boundary_before = true;
};

}  // namespace

TEST_CASE("starts found after an ends-only scan equal the start-tracking scan's on every development text and role",
          "[risk][rules][starts]") {
    const RuleSet& after = test::builtin_engine().rules();
    auto in_scan = RuleSet::load_builtin(RuleSet::default_cache_dir(), StartOffsets::in_scan);
    REQUIRE(in_scan.has_value());
    std::size_t matches = 0;
    std::size_t texts = 0;
    for (const auto& text : all_development_texts()) {
        const std::string norm = after.normalizer().canonical(text);
        for (const auto role : {SpeakerRole::patient, SpeakerRole::ai, SpeakerRole::clinician}) {
            std::vector<RuleMatch> a;
            std::vector<RuleMatch> b;
            after.scan(norm, role, a);
            in_scan->scan(norm, role, b);
            INFO("role " << to_string(role) << ", normalised text of " << norm.size() << " bytes");
            CHECK(described(after, a) == described(*in_scan, b));
            matches += a.size();
        }
        ++texts;
    }
    CHECK(texts > 3000);  // not vacuous: every development set was read, and matched
    CHECK(matches > texts);
}

TEST_CASE("each way to a start gives the start-tracking scan's start, at the edges of the text too", "[risk][rules][starts]") {
    // One rule per way: fixed width, a literal set, reversed patterns (\w+, an anchor, a repeat,
    // an unbounded one) and the forward window scan (`$` has no reverse here).
    auto rule = [](const std::string& id, const std::string& pattern) {
        return "    {\"id\": \"" + id + "\", \"kind\": \"risk\", \"role\": \"any\", \"category\": \"self_harm\", "
               "\"severity\": \"low\", \"patterns\": [\"" + pattern + "\"], \"rationale\": \"r\"}";
    };
    const std::vector<std::string> rules{
        rule("fixed", "\\\\bcut(?:s|x)\\\\b"),
        rule("literals", "\\\\b(?:cut|cutting|cut myself|myself)\\\\b"),
        rule("literals.class", "[sz]?cut[sz]?"),
        rule("reversed.word", "\\\\bcut \\\\w+\\\\b"),
        rule("reversed.anchor", "^\\\\W*(?:yes|yeah)\\\\b"),
        rule("reversed.repeat", "\\\\b(?:no|not)(?: really| ever)*\\\\b"),
        rule("reversed.unbounded", "a+b"),
        rule("window.end", "\\\\b(?:cut|deep)+$"),
    };
    std::string text = "{\"format\": 1, \"name\": \"starts\", \"version\": \"1\", \"language\": \"en\", \"rules\": [\n";
    for (std::size_t i = 0; i < rules.size(); ++i) text += rules[i] + (i + 1 < rules.size() ? ",\n" : "\n");
    const std::vector<RuleSource> sources{RuleSource{"starts.json", text + "]}\n"}};
    auto after = RuleSet::load(sources, std::nullopt, StartOffsets::after_scan);
    auto in_scan = RuleSet::load(sources, std::nullopt, StartOffsets::in_scan);
    REQUIRE(after.has_value());
    REQUIRE(in_scan.has_value());
    const std::vector<std::pair<const char*, std::string>> texts{
        {"matches at the first and last byte", "cut myself cut"},
        {"a literal inside a longer word is no match", "scuttle cutting cuts"},
        {"an anchored pattern after leading punctuation", "...yeah cut it"},
        {"an anchored pattern not at the start", "i said yes"},
        {"a repeat reaching back", "no really ever not ever"},
        {"an unbounded pattern from the text's start", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab aab"},
        {"a newline at the end", "cut deep\n"},
        {"at the very end", "it was deep"},
        {"one byte", "a"},
    };
    for (const auto& [name, raw] : texts) {
        DYNAMIC_SECTION(name) {
            const std::string norm = after->normalizer().canonical(raw);
            std::vector<RuleMatch> a;
            std::vector<RuleMatch> b;
            after->scan(norm, a);
            in_scan->scan(norm, b);
            INFO("matches: " << described(*after, a));
            CHECK(described(*after, a) == described(*in_scan, b));
            // Not vacuous: every text but these matches something.
            CHECK(a.empty() == (std::string(name) == "one byte" || std::string(name) == "an anchored pattern not at the start"));
        }
    }
}

TEST_CASE("a pattern written backwards matches the reversed text, or is left to the forward scan", "[risk][rules][starts]") {
    struct Case {
        const char* name;
        const char* pattern;
        std::optional<std::string> reversed;
        bool anchored_start = false;
    };
    const std::vector<Case> cases{
        {"items in reverse order, quantifiers kept", "\\bab+c?\\b", "\\bc?b+a\\b"},
        {"groups reversed inside, branches kept in order", "(?:x|yz)w{1,3}", "w{1,3}(?:x|zy)"},
        {"classes and escapes read the same both ways", "[a-c]\\d\\.\\s", "\\s\\.\\d[a-c]"},
        {"a lazy quantifier stays with its atom", "ab*?c", "cb*?a"},
        {"the text's start becomes the end of the reversed text", "^\\W*yes", "sey\\W*\\z", true},
        {"an end anchor has no reverse here", "deep$", std::nullopt},
        {"nor a back reference", "(a)\\1", std::nullopt},
        {"nor options", "(?i)a", std::nullopt},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.name) {
            bool anchored = false;
            const auto got = match_starts::reversed_pattern(c.pattern, anchored);
            CHECK(got == c.reversed);
            if (got) CHECK(anchored == c.anchored_start);
        }
    }
}

TEST_CASE("a pattern of literals expands to its strings, anything else is left to a scan", "[risk][rules][starts]") {
    using S = std::vector<std::string>;
    const std::vector<LiteralCase> cases{
        {"an alternation between word boundaries", "\\b(?:cut|cutting|cut myself)\\b", S{"cut myself", "cutting", "cut"}},
        {"an optional group and an optional letter", "\\b(?:i )?used tos?\\b", S{"i used tos", "i used to", "used tos", "used to"}},
        {"a small character class", "\\bfantasi[sz]e\\b", S{"fantasise", "fantasize"}},
        {"escaped punctuation is itself", "\\b988\\.org\\b", S{"988.org"}},
        {"upper case is folded, as the scan is caseless", "\\bKill\\b", S{"kill"}},
        {"no leading boundary", "(?:ab|b)c\\b", S{"abc", "bc"}, false},
        {"a class of word characters", "\\bcut \\w+\\b", std::nullopt},
        {"a repeat", "\\b(?:no)(?: really)*\\b", std::nullopt},
        {"a bounded repeat", "\\bx{2}\\b", std::nullopt},
        {"an anchor", "^yes\\b", std::nullopt},
        {"a boundary inside", "\\bcut\\b(?: deep)?", std::nullopt},
        {"boundaries binding one branch each", "\\ba|b\\b", std::nullopt},
        {"the empty string", "(?:a)?", std::nullopt},
        {"a negated class", "\\b[^a]b\\b", std::nullopt},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.name) {
            const auto set = match_starts::literal_set(c.pattern);
            REQUIRE(set.has_value() == c.strings.has_value());
            if (!set) continue;
            S got;
            for (const auto& group : set->by_length) got.insert(got.end(), group.begin(), group.end());
            CHECK(got == *c.strings);
            CHECK(set->boundary_before == c.boundary_before);
            REQUIRE(set->lengths.size() == set->by_length.size());
            CHECK(std::is_sorted(set->lengths.rbegin(), set->lengths.rend()));
        }
    }
}

}  // namespace tandem
