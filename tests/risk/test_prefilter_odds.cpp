// The engine asks the prefilter only while enough of a role's recent turns are benign
// (common/risk/src/prefilter_odds.h). Both paths must give the same verdicts: checked over the
// development sets with each case screened once by a thread that asks and once by one that
// does not.

#include <catch2/catch_test_macros.hpp>

#include <string>
#include <thread>
#include <vector>

#include "prefilter_odds.h"
#include "risk_test_support.h"
#include "tandem/risk/evaluation.h"

namespace tandem {
namespace {

// Everything screen() reports, as one comparable string.
std::string describe(const RiskAssessment& a) {
    std::string s = std::string(to_string(a.severity)) + " cssrs=" + std::to_string(a.cssrs_level.value_or(-1)) + " [";
    for (auto c : a.categories) s += std::string(to_string(c)) + ",";
    s += "] ";
    for (const auto& span : a.spans) s += std::to_string(span.begin) + "-" + std::to_string(span.end) + ":" + span.rule_id + ";";
    return s + " " + a.rationale;
}

}  // namespace

TEST_CASE("the prefilter is asked while an eighth or more of recent turns are benign", "[risk][fast_paths][prefilter]") {
    struct Step {
        const char* name;
        int rounds;     // each round: benign turns (no candidate), then turns with a candidate
        int benign;
        int candidate;
        bool asks;      // after the step, on the odds the steps before left
    };
    const std::vector<Step> steps{
        {"a new thread asks", 0, 0, 0, true},
        {"eight turns with candidates after none: still asks", 1, 0, 8, true},
        {"every turn a candidate for a while: stops asking", 1, 0, 40, false},
        {"three benign turns after that: asks again", 1, 3, 0, true},
        {"one benign turn in ten, for a while: stops asking", 10, 1, 9, false},
        {"one benign turn in three, for a while: asks", 10, 1, 2, true},
        {"a benign half: asks", 10, 1, 1, true},
    };
    detail::PrefilterOdds odds;
    for (const auto& step : steps) {
        for (int r = 0; r < step.rounds; ++r) {
            for (int i = 0; i < step.benign; ++i) odds.learn(true);
            for (int i = 0; i < step.candidate; ++i) odds.learn(false);
        }
        INFO(step.name);
        CHECK(odds.ask() == step.asks);
    }
}

TEST_CASE("a verdict is the same whether or not the thread asked the prefilter", "[risk][fast_paths][prefilter][engine]") {
    const RiskEngine& engine = test::builtin_engine();
    const auto cases = test::development_cases();
    // For each role, a text with a candidate and one without, to steer a thread's odds.
    const std::vector<Turn> with_candidate{{SpeakerRole::patient, "I want to kill myself tonight"},
                                           {SpeakerRole::ai, "Are you having thoughts of killing yourself?"}};
    const std::vector<Turn> benign{{SpeakerRole::patient, "The bus was late and it rained"},
                                   {SpeakerRole::ai, "That sounds like a long day."}};
    for (const auto& t : with_candidate) REQUIRE(engine.rules().may_match(engine.rules().normalizer().canonical(t.text), t.role));
    for (const auto& t : benign) REQUIRE_FALSE(engine.rules().may_match(engine.rules().normalizer().canonical(t.text), t.role));

    // Screens every case of the role on a new thread, before each steering the thread's odds for
    // the role with turns of the given kind until they are in the wanted state; returns the
    // verdicts and counts the cases screened in that state.
    auto screen_all = [&](SpeakerRole role, const Turn& steer, bool want_ask, std::size_t& in_state) {
        std::vector<std::string> out;
        std::thread([&] {
            for (const auto& c : cases) {
                if (c.role != role) continue;
                for (int i = 0; i < 64 && detail::PrefilterOdds::of(role).ask() != want_ask; ++i) {
                    (void)engine.screen(steer.text, steer.role, {});
                }
                in_state += detail::PrefilterOdds::of(role).ask() == want_ask ? 1 : 0;
                out.push_back(describe(engine.screen(c.text, c.role, c.context)));
            }
        }).join();
        return out;
    };
    for (std::size_t r = 0; r < with_candidate.size(); ++r) {
        const SpeakerRole role = with_candidate[r].role;
        std::size_t asked = 0;
        std::size_t unasked = 0;
        const auto by_prefilter = screen_all(role, benign[r], true, asked);
        const auto by_scan = screen_all(role, with_candidate[r], false, unasked);
        INFO("role " << to_string(role));
        REQUIRE(by_prefilter.size() > 50);  // not vacuous: the sets hold many cases of each role
        CHECK(asked == by_prefilter.size());
        CHECK(unasked == by_scan.size());
        for (std::size_t i = 0; i < by_prefilter.size(); ++i) {
            INFO("case " << i << " of the role");
            CHECK(by_prefilter[i] == by_scan[i]);
        }
    }
}

}  // namespace tandem
