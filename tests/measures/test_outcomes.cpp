#include <optional>
#include <string>
#include <vector>

#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>

#include "measures_test_support.h"

using namespace tandem;
using namespace tandem::testing;

namespace {

constexpr std::optional<int> skip = std::nullopt;

const char* const kWeeks[] = {"2026-09-01T10:00:00.000Z", "2026-09-29T10:00:00.000Z", "2026-10-27T10:00:00.000Z",
                              "2026-11-24T10:00:00.000Z"};

// One assessment per total, four weeks apart, ids t0, t1, ...
std::vector<Assessment> trajectory(const Instrument& instrument, std::size_t items, std::vector<int> totals) {
    std::vector<Assessment> out;
    for (std::size_t i = 0; i < totals.size(); ++i) {
        out.push_back(assessment(("t" + std::to_string(i)).c_str(), instrument, with_total(items, totals[i]), kWeeks[i]));
    }
    return out;
}

}  // namespace

TEST_CASE("outcome labels over synthetic trajectories follow the definition's thresholds", "[measures][outcomes]") {
    struct Case {
        const char* name;
        const char* instrument;
        std::vector<int> totals;
        std::vector<std::string> labels;
        std::optional<int> change;
    };
    const Case cases[] = {
        {"PHQ-9 responder: 20 -> 9 (-55%)", "phq9", {20, 14, 9}, {"response", "reliable_improvement"}, -11},
        {"PHQ-9 remitter: 12 -> 4", "phq9", {12, 4}, {"response", "remission", "reliable_improvement"}, -8},
        {"PHQ-9 exactly half is a response: 10 -> 5, not remission (5 is not below 5)", "phq9", {10, 5}, {"response"}, -5},
        {"PHQ-9 reliable improver without response: 20 -> 14", "phq9", {20, 14}, {"reliable_improvement"}, -6},
        {"PHQ-9 one short of reliable change: 20 -> 15", "phq9", {20, 15}, {"no_reliable_change"}, -5},
        {"PHQ-9 deteriorator: 8 -> 14", "phq9", {8, 14}, {"deterioration"}, 6},
        {"PHQ-9 no change: 10 -> 12 -> 10", "phq9", {10, 12, 10}, {"no_reliable_change"}, 0},
        {"PHQ-9 3 -> 1 halves the score but is no remission: the baseline was already below 5", "phq9", {3, 1}, {"response"}, -2},
        {"PHQ-9 only a baseline", "phq9", {15}, {"baseline_only"}, std::nullopt},
        {"PHQ-9 nothing", "phq9", {}, {"no_data"}, std::nullopt},
        {"GAD-7 reliable improver: 10 -> 6", "gad7", {10, 6}, {"reliable_improvement"}, -4},
        {"GAD-7 has no response threshold: 16 -> 6", "gad7", {16, 6}, {"reliable_improvement"}, -10},
        {"GAD-7 remitter: 8 -> 4", "gad7", {8, 4}, {"remission", "reliable_improvement"}, -4},
        {"GAD-7 deteriorator: 5 -> 9", "gad7", {5, 9}, {"deterioration"}, 4},
        {"GAD-7 three points is not reliable: 12 -> 9", "gad7", {12, 9}, {"no_reliable_change"}, -3},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const auto& d = builtin_instrument(c.instrument);
        const auto instrument = *Instrument::from_id(c.instrument);
        const auto series = trajectory(instrument, item_count(instrument), c.totals);
        const auto o = outcomes(d, series);
        CHECK(o.instrument == c.instrument);
        CHECK(o.labels == c.labels);
        CHECK(o.change == c.change);
        CHECK(o.points.size() == c.totals.size());
        if (!c.totals.empty()) {
            REQUIRE(o.baseline.has_value());
            CHECK(o.baseline->total == c.totals.front());
        }
        if (c.totals.size() > 1) {
            REQUIRE(o.latest.has_value());
            CHECK(o.latest->total == c.totals.back());
        } else {
            CHECK_FALSE(o.latest.has_value());
        }
    }
}

TEST_CASE("percent change is against the baseline and absent at a baseline of 0", "[measures][outcomes]") {
    const auto& d = builtin_instrument("phq9");
    const auto down = outcomes(d, trajectory(Instrument::phq9, 9, {20, 9}));
    REQUIRE(down.percent_change.has_value());
    CHECK(*down.percent_change == Catch::Approx(-55.0));
    const auto from_zero = outcomes(d, trajectory(Instrument::phq9, 9, {0, 7}));
    CHECK_FALSE(from_zero.percent_change.has_value());
    CHECK(from_zero.deterioration);
    CHECK_FALSE(from_zero.response);
}

TEST_CASE("the series is ordered by time, unscorable forms and other instruments are left out", "[measures][outcomes]") {
    const auto& d = builtin_instrument("phq9");
    std::vector<Assessment> series{
        assessment("late", Instrument::phq9, with_total(9, 6), kWeeks[3]),
        assessment("gad", Instrument::gad7, with_total(7, 21), kWeeks[0]),
        // Three items missing: cannot be scored, so it cannot be the baseline.
        assessment("gappy", Instrument::phq9, {3, 3, 3, 3, 3, 3, skip, skip, skip}, kWeeks[0]),
        assessment("first", Instrument::phq9, with_total(9, 18), kWeeks[1]),
        // One missing: prorated, and still a point of the series.
        assessment("prorated", Instrument::phq9, {2, 2, 2, 2, 2, 2, 2, 2, skip}, kWeeks[2]),
    };
    const auto o = outcomes(d, series);
    REQUIRE(o.points.size() == 3);
    CHECK(o.points[0].assessment_id == AssessmentId("first"));
    CHECK(o.points[1].assessment_id == AssessmentId("prorated"));
    CHECK(o.points[1].total == 18);
    CHECK(o.points[1].prorated);
    CHECK(o.points[2].assessment_id == AssessmentId("late"));
    CHECK(o.baseline->total == 18);
    CHECK(o.latest->total == 6);
    CHECK(o.labels == std::vector<std::string>{"response", "reliable_improvement"});
}

TEST_CASE("caseload rates count only patients with a baseline and a later score", "[measures][outcomes][caseload]") {
    const auto& d = builtin_instrument("phq9");
    const std::vector<Outcome> patients{
        outcomes(d, trajectory(Instrument::phq9, 9, {20, 9})),    // response, reliable improvement
        outcomes(d, trajectory(Instrument::phq9, 9, {12, 4})),    // response, remission, reliable improvement
        outcomes(d, trajectory(Instrument::phq9, 9, {8, 14})),    // deterioration
        outcomes(d, trajectory(Instrument::phq9, 9, {16})),       // baseline only: not in the denominator
        outcomes(d, trajectory(Instrument::phq9, 9, {})),         // no data
        outcomes(builtin_instrument("gad7"), trajectory(Instrument::gad7, 7, {15, 3})),  // other instrument
    };
    const auto s = caseload_summary("phq9", patients);
    CHECK(s.instrument == "phq9");
    CHECK(s.patients == 5);
    CHECK(s.with_follow_up == 3);
    CHECK(s.responders == 2);
    CHECK(s.remitters == 1);
    CHECK(s.reliable_improvers == 2);
    CHECK(s.deteriorators == 1);
    REQUIRE(s.response_rate.has_value());
    CHECK(*s.response_rate == Catch::Approx(2.0 / 3));
    CHECK(*s.remission_rate == Catch::Approx(1.0 / 3));
    CHECK(*s.reliable_improvement_rate == Catch::Approx(2.0 / 3));
    CHECK(*s.deterioration_rate == Catch::Approx(1.0 / 3));
    CHECK(*s.mean_change == Catch::Approx((-11.0 - 8.0 + 6.0) / 3));
    CHECK(*s.mean_latest == Catch::Approx((9.0 + 4.0 + 14.0 + 16.0) / 4));

    const auto empty = caseload_summary("phq9", std::vector<Outcome>{});
    CHECK(empty.patients == 0);
    CHECK_FALSE(empty.response_rate.has_value());
    CHECK_FALSE(empty.mean_latest.has_value());
}

TEST_CASE("alliance outcomes rise for the better and report the mean", "[measures][outcomes]") {
    const auto& d = builtin_instrument("wai_sr");
    std::vector<Assessment> series{
        assessment("w0", Instrument::wai_sr, Answers(12, 3), kWeeks[0]),
        assessment("w1", Instrument::wai_sr, Answers(12, 4), kWeeks[1]),
    };
    const auto o = outcomes(d, series);
    CHECK(o.change == 12);
    CHECK(o.labels == std::vector<std::string>{"no_reliable_change"});
    REQUIRE(o.latest->mean.has_value());
    CHECK(*o.latest->mean == Catch::Approx(4.0));
    const auto s = caseload_summary("wai_sr", std::vector<Outcome>{o});
    CHECK(*s.mean_latest == Catch::Approx(48.0));
}
