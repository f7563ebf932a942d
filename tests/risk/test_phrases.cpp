// Phrase patterns (finite sets of words and phrases between word boundaries, whatever the rule's
// kind) are matched outside Vectorscan (common/risk/src/word_lists.h). Each named case scans a
// text with a small rule file twice, once as shipped and once with StartOffsets::in_scan, which
// keeps every pattern in a start-tracking database: the matches, their starts and their order
// must be the same, and equal to the case's expected matches, so no case passes vacuously.

#include <catch2/catch_test_macros.hpp>

#include <string>
#include <vector>

#include "risk_test_support.h"
#include "tandem/risk/rule_set.h"

namespace tandem {
namespace {

struct PhraseCase {
    const char* name;
    std::vector<std::string> rules;  // JSON-escaped patterns: "\\\\b" is \b
    std::string text;                // scanned as given (not normalised: no doubled letters), role patient
    std::string expected;
};

}  // namespace

TEST_CASE("phrase patterns matched outside Vectorscan report what a start-tracking database reports", "[risk][rules][phrases]") {
    const std::vector<PhraseCase> cases{
        {"one word, at the text's first and last byte",
         {test::scan_rule("w", "any", "\\\\b(?:me|i)\\\\b")}, "me and i", "w@0-2 w@7-8 "},
        {"a word inside a longer word does not match",
         {test::scan_rule("w", "any", "\\\\b(?:me|i)\\\\b")}, "mean it is time", ""},
        {"a phrase of several words, across a line break it does not match",
         {test::scan_rule("p", "patient", "\\\\b(?:hurt|end) (?:myself|my life)\\\\b")}, "hurt myself, end\nmy life, end my life",
         "p@0-11 p@26-37 "},
        {"two phrases ending at one offset: one report, from the leftmost start",
         {test::scan_rule("p", "any", "\\\\b(?:sin embargo|embargo|and then|then)\\\\b")}, "sin embargo and then then",
         "p@0-11 p@12-20 p@21-25 "},
        {"a phrase whose word runs on past it does not match",
         {test::scan_rule("p", "any", "\\\\bhurt myself\\\\b")}, "hurt myselfish hurt myself_ hurt myself", "p@28-39 "},
        {"punctuation inside a phrase, and an optional part",
         {test::scan_rule("p", "any", "\\\\bmother\\\\-in\\\\-laws?\\\\b")}, "my mother-in-law, mother-in-laws", "p@3-16 p@18-32 "},
        {"upper case in the text folds as the caseless database folds",
         {test::scan_rule("p", "any", "\\\\b(?:Hurt Myself|ok)\\\\b")}, "HURT myself Ok", "p@0-11 p@12-14 "},
        {"non-ASCII bytes are not word bytes",
         {test::scan_rule("p", "any", "\\\\b(?:mas|ya no)\\\\b")}, "m\xc3\xa1s ya no\xc3\xa1", "p@5-10 "},
        {"a rule for the AI is not reported in a patient's turn, one for any role is",
         {test::scan_rule("ai", "ai", "\\\\bhurt myself\\\\b"), test::scan_rule("any", "any", "\\\\bmyself\\\\b")}, "hurt myself", "any@5-11 "},
        {"phrases and database patterns ending at one offset keep the fixed order",
         {test::scan_rule("db", "any", "\\\\bhurt+ myself\\\\b"), test::scan_rule("ph", "any", "\\\\bhurt myself\\\\b"), test::scan_rule("ph2", "any", "\\\\bmyself\\\\b")},
         "hurt myself", "db@0-11 ph@0-11 ph2@5-11 "},
        {"an escaped backslash and 'b' is no closing boundary: the pattern stays in the database",
         {test::scan_rule("p", "any", "\\\\bend\\\\\\\\b")}, "end\\b", "p@0-5 "},
    };
    for (const auto& c : cases) {
        auto shipped = RuleSet::load(std::vector<RuleSource>{test::scan_rules_file("phrases", c.rules)}, std::nullopt);
        auto reference = RuleSet::load(std::vector<RuleSource>{test::scan_rules_file("phrases", c.rules)}, std::nullopt, StartOffsets::in_scan);
        INFO(c.name);
        REQUIRE(shipped.has_value());
        REQUIRE(reference.has_value());
        std::vector<RuleMatch> a;
        std::vector<RuleMatch> b;
        shipped->scan(c.text, SpeakerRole::patient, a);
        reference->scan(c.text, SpeakerRole::patient, b);
        CHECK(test::described(*shipped, a) == c.expected);
        CHECK(test::described(*reference, b) == c.expected);
    }
}

}  // namespace tandem
