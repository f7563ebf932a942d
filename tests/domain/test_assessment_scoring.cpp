#include <optional>
#include <string>
#include <vector>

#include <catch2/catch_test_macros.hpp>

#include "tandem/domain/records.h"

using namespace tandem;

namespace {
using Items = std::vector<std::optional<int>>;
}

TEST_CASE("instrument scores and bands follow the published cut points", "[domain][assessment]") {
    struct Case {
        const char* name;
        Instrument instrument;
        Items items;
        std::optional<int> score;
        std::optional<std::string> band;
    };
    const Case cases[] = {
        {"PHQ-9 all zero is minimal", Instrument::phq9, {0, 0, 0, 0, 0, 0, 0, 0, 0}, 0, "minimal"},
        {"PHQ-9 of 5 is mild", Instrument::phq9, {1, 1, 1, 1, 1, 0, 0, 0, 0}, 5, "mild"},
        {"PHQ-9 of 10 is moderate", Instrument::phq9, {2, 2, 2, 2, 2, 0, 0, 0, 0}, 10, "moderate"},
        {"PHQ-9 of 15 is moderately severe", Instrument::phq9, {3, 3, 3, 3, 3, 0, 0, 0, 0}, 15, "moderately_severe"},
        {"PHQ-9 of 27 is severe", Instrument::phq9, {3, 3, 3, 3, 3, 3, 3, 3, 3}, 27, "severe"},
        {"GAD-7 of 14 is moderate", Instrument::gad7, {2, 2, 2, 2, 2, 2, 2}, 14, "moderate"},
        {"GAD-7 of 15 is severe", Instrument::gad7, {3, 2, 2, 2, 2, 2, 2}, 15, "severe"},
        {"C-SSRS all no is none", Instrument::cssrs_screener, {0, 0, std::nullopt, std::nullopt, std::nullopt, 0}, 0, "none"},
        {"C-SSRS wish to be dead is low", Instrument::cssrs_screener, {1, 0, std::nullopt, std::nullopt, std::nullopt, 0}, 1, "low"},
        {"C-SSRS method is moderate", Instrument::cssrs_screener, {1, 1, 1, 0, 0, 0}, 3, "moderate"},
        {"C-SSRS intent is high", Instrument::cssrs_screener, {1, 1, 1, 1, 0, 0}, 4, "high"},
        {"C-SSRS past behaviour alone is high", Instrument::cssrs_screener, {0, 0, std::nullopt, std::nullopt, std::nullopt, 1}, 1, "high"},
        {"C-SSRS behaviour more than 3 months ago is moderate", Instrument::cssrs_screener, {0, 0, std::nullopt, std::nullopt, std::nullopt, 2}, 1, "moderate"},
        {"PHQ-9 difficulty question is not counted", Instrument::phq9, {1, 1, 1, 1, 1, 0, 0, 0, 0, 3}, 5, "mild"},
        {"PHQ-9 missing item has no exact score", Instrument::phq9, {1, 1, 1, 1, 1, 0, 0, 0, std::nullopt}, std::nullopt, std::nullopt},
        {"clinic-added instrument has no domain score", *Instrument::from_id("scoff"), {1, 1, 0, 0, 0}, std::nullopt, std::nullopt},
        {"WAI-SR totals without a band", Instrument::wai_sr, {5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5}, 60, std::nullopt},
        {"PHQ-9 short of items has no score", Instrument::phq9, {1, 1}, std::nullopt, std::nullopt},
        {"WAI-SR item of 0 has no score", Instrument::wai_sr, {0, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5}, std::nullopt, std::nullopt},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        CHECK(assessment_score(c.instrument, c.items) == c.score);
        CHECK(assessment_band(c.instrument, c.items) == c.band);
    }
}

TEST_CASE("instrument ids compare, order and hash by their text", "[domain][assessment]") {
    const auto scoff = Instrument::from_id("scoff");
    REQUIRE(scoff.has_value());
    CHECK(*scoff == *Instrument::from_id("scoff"));
    CHECK(*scoff != Instrument::phq9);
    CHECK(Instrument::gad7 < Instrument::phq9);
    CHECK(Instrument::phq9 < *scoff);
    CHECK(Instrument() == Instrument::phq9);
    CHECK(std::hash<Instrument>{}(Instrument::wai_sr) == std::hash<std::string_view>{}("wai_sr"));
    CHECK(Instrument::cssrs_screener.is_builtin());
    CHECK_FALSE(scoff->is_builtin());
    CHECK(item_count(*scoff) == 0);
}

TEST_CASE("enum wire names round-trip", "[domain][enum]") {
    for (auto i : {Instrument::phq9, Instrument::gad7, Instrument::cssrs_screener, Instrument::wai_sr}) {
        CHECK(from_string<Instrument>(to_string(i)) == i);
    }
    for (auto s : {FlagStatus::open, FlagStatus::acknowledged, FlagStatus::escalated, FlagStatus::resolved}) {
        CHECK(from_string<FlagStatus>(to_string(s)) == s);
    }
    CHECK(to_string(MessageState::withheld) == "withheld");
    CHECK(from_string<Severity>("imminent") == Severity::imminent);
    CHECK_FALSE(from_string<Sender>("Patient").has_value());
}
