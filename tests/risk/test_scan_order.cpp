// Matches ending at one offset come in a fixed order whatever database produced them: by end,
// then the `.{0,N}` compositions (compiled without start tracking) by descending pattern index,
// then the others by ascending pattern index. Vectorscan's own order at one end differs between
// databases holding different patterns, and the order reaches the order of spans with equal
// starts and of rationale clauses, so per-role databases, or a rule set with a pattern more or
// less, must not change it.

#include <catch2/catch_test_macros.hpp>

#include <string>
#include <vector>

#include "risk_test_support.h"
#include "tandem/risk/rule_set.h"

namespace tandem {
namespace {

struct OrderCase {
    const char* name;
    std::vector<std::string> extra;  // rules after the four under test: they change the databases
};

}  // namespace

TEST_CASE("matches ending at one offset come in a fixed order whatever else the databases hold", "[risk][rules][order]") {
    const std::vector<std::string> under_test{
        test::scan_rule("wide.a", "any", "\\\\bkilling.{0,20}myself\\\\b"),
        test::scan_rule("wide.b", "patient", "\\\\bthinking.{0,30}myself\\\\b"),
        test::scan_rule("som.c", "any", "\\\\bmyself\\\\b"),
        test::scan_rule("som.d", "patient", "\\\\bkilling myself\\\\b"),
    };
    // All four end at byte 28 of "thinking about kiling myself" (the normaliser squeezes "ll").
    const std::string expected = "wide.b@0-28 wide.a@0-28 som.c@22-28 som.d@15-28 ";
    const std::vector<OrderCase> cases{
        {"the four rules alone", {}},
        {"with AI rules ending at the same offset", {test::scan_rule("ai.x", "ai", "\\\\babout killing myself\\\\b"),
                                                      test::scan_rule("ai.y", "ai", "\\\\bkill.{0,12}self\\\\b")}},
        {"with more patient rules elsewhere in the text", {test::scan_rule("p.e", "patient", "\\\\bthinking\\\\b"),
                                                            test::scan_rule("p.f", "patient", "\\\\babout.{0,9}ing\\\\b"),
                                                            test::scan_rule("p.g", "any", "\\\\b(?:i|me|my|myself)\\\\b")}},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.name) {
            std::vector<std::string> all = under_test;
            all.insert(all.end(), c.extra.begin(), c.extra.end());
            const std::vector<RuleSource> sources{test::scan_rules_file("order", all)};
            auto rules = RuleSet::load(sources, std::nullopt);
            REQUIRE(rules.has_value());
            const std::string text = rules->normalizer().canonical("Thinking about killing myself");
            std::vector<RuleMatch> everyone;
            rules->scan(text, everyone);
            std::vector<RuleMatch> patient;
            rules->scan(text, SpeakerRole::patient, patient);
            auto at_end = [&](const std::vector<RuleMatch>& ms) {
                std::vector<RuleMatch> out;
                for (const auto& m : ms) {
                    const auto& id = rules->rules()[m.rule].id;
                    if (m.end == 28 && (id.starts_with("wide.") || id.starts_with("som."))) out.push_back(m);
                }
                return test::described(*rules, out);
            };
            INFO("all-roles scan: " << test::described(*rules, everyone));
            CHECK(at_end(everyone) == expected);
            CHECK(at_end(patient) == expected);
            // The patient's scan is the all-roles scan less the AI's rules, order included.
            std::vector<RuleMatch> filtered;
            for (const auto& m : everyone) {
                if (rules->rules()[m.rule].role != SpeakerRole::ai) filtered.push_back(m);
            }
            CHECK(test::described(*rules, patient) == test::described(*rules, filtered));
        }
    }
}

TEST_CASE("word lists matched outside Vectorscan report what the database reports for them", "[risk][rules][order]") {
    // The same lists twice: as plain word lists (matched by the rule set's own phrase matcher)
    // and with a "{1}" after the group, which means the same but keeps them in Vectorscan (no
    // repeat is a phrase). Scanned over every development text, the matches and their order
    // must be the same.
    auto rules_with = [](bool in_vectorscan) {
        auto list = [&](const std::string& words) {
            return in_vectorscan ? "\\\\b(?:" + words + "){1}\\\\b" : "\\\\b(?:" + words + ")\\\\b";
        };
        const std::vector<std::string> rules{
            test::scan_rule("risk.kill", "patient", "\\\\bkil+(?:ing)? myself\\\\b"),
            test::scan_rule("fp.en", "any", list("i|im|ive|id|il|me|myself"), "first_person"),
            test::scan_rule("brk", "any", list("but|however|anyway|pero|sin embargo|and then|then"), "boundary"),
            test::scan_rule("fp.es", "patient", list("yo|me|mi"), "first_person"),
        };
        auto loaded = RuleSet::load(std::vector<RuleSource>{test::scan_rules_file("order", rules)}, std::nullopt);
        REQUIRE(loaded.has_value());
        return std::move(*loaded);
    };
    const RuleSet outside = rules_with(false);
    const RuleSet inside = rules_with(true);
    {
        // Not vacuous: the lists do match, "and then" is reported from its leftmost start.
        std::vector<RuleMatch> m;
        outside.scan(outside.normalizer().canonical("But then I, and then Me then sin embargo yo"), SpeakerRole::patient, m);
        CHECK(test::described(outside, m) ==
              "brk@0-3 brk@4-8 fp.en@9-10 brk@12-20 fp.en@21-23 fp.es@21-23 brk@24-28 brk@29-40 fp.es@41-43 ");
    }
    std::size_t matched = 0;
    for (const auto& c : test::development_cases()) {
        std::vector<std::string> texts{c.text, "But then I, and then Me then sin embargo yo"};
        for (const auto& t : c.context) texts.push_back(t.text);
        for (const auto& text : texts) {
            const std::string norm = outside.normalizer().canonical(text);
            for (const auto role : {SpeakerRole::patient, SpeakerRole::ai}) {
                std::vector<RuleMatch> a;
                std::vector<RuleMatch> b;
                outside.scan(norm, role, a);
                inside.scan(norm, role, b);
                INFO("role " << to_string(role) << ", normalised text of " << norm.size() << " bytes");
                CHECK(test::described(outside, a) == test::described(inside, b));
                matched += a.size();
            }
        }
    }
    CHECK(matched > 0);
}

}  // namespace tandem
