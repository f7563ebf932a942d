#include <optional>
#include <string>
#include <vector>

#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>

#include "measures_test_support.h"
#include "tandem/domain/records.h"

using namespace tandem;
using namespace tandem::testing;

namespace {
constexpr std::optional<int> skip = std::nullopt;
}

TEST_CASE("PHQ-9 and GAD-7 totals fall in the published bands at every cut point", "[measures][scoring]") {
    struct Case {
        const char* name;
        const char* instrument;
        std::size_t items;
        int total;
        const char* band;
    };
    const Case cases[] = {
        {"PHQ-9 0 is minimal", "phq9", 9, 0, "minimal"},
        {"PHQ-9 4 is minimal", "phq9", 9, 4, "minimal"},
        {"PHQ-9 5 is mild", "phq9", 9, 5, "mild"},
        {"PHQ-9 9 is mild", "phq9", 9, 9, "mild"},
        {"PHQ-9 10 is moderate", "phq9", 9, 10, "moderate"},
        {"PHQ-9 14 is moderate", "phq9", 9, 14, "moderate"},
        {"PHQ-9 15 is moderately severe", "phq9", 9, 15, "moderately_severe"},
        {"PHQ-9 19 is moderately severe", "phq9", 9, 19, "moderately_severe"},
        {"PHQ-9 20 is severe", "phq9", 9, 20, "severe"},
        {"PHQ-9 27 is severe", "phq9", 9, 27, "severe"},
        {"GAD-7 0 is minimal", "gad7", 7, 0, "minimal"},
        {"GAD-7 4 is minimal", "gad7", 7, 4, "minimal"},
        {"GAD-7 5 is mild", "gad7", 7, 5, "mild"},
        {"GAD-7 9 is mild", "gad7", 7, 9, "mild"},
        {"GAD-7 10 is moderate", "gad7", 7, 10, "moderate"},
        {"GAD-7 14 is moderate", "gad7", 7, 14, "moderate"},
        {"GAD-7 15 is severe", "gad7", 7, 15, "severe"},
        {"GAD-7 21 is severe", "gad7", 7, 21, "severe"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const auto& d = builtin_instrument(c.instrument);
        const auto s = score(d, with_total(c.items, c.total));
        REQUIRE(s.has_value());
        CHECK(s->total == c.total);
        CHECK(s->band == std::optional<std::string>(c.band));
        CHECK(s->complete);
        CHECK_FALSE(s->prorated);
        CHECK(s->missing == 0);
        CHECK(s->answered == static_cast<int>(c.items));
        CHECK(band_of_total(d, c.total) == std::optional<std::string>(c.band));
    }
}

TEST_CASE("PHQ-9 difficulty question is optional and never counted", "[measures][scoring]") {
    const auto& d = builtin_instrument("phq9");
    Answers with_difficulty = with_total(9, 12);
    with_difficulty.push_back(3);
    const auto a = score(d, with_difficulty);
    const auto b = score(d, with_total(9, 12));
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    CHECK(a->total == 12);
    CHECK(b->total == 12);
    CHECK(a->complete);
    CHECK(b->complete);
    CHECK(a->items.size() == 10);
    CHECK(a->items[9].item_id == "difficulty");
    CHECK(a->items[9].value == 3);
    CHECK(a->items[9].loinc == std::optional<std::string>("69722-7"));
}

TEST_CASE("missing items follow each instrument's published rule and are never scored as complete", "[measures][scoring]") {
    struct Case {
        const char* name;
        const char* instrument;
        Answers answers;
        std::optional<int> total;  // nullopt: refused
        bool prorated;
        std::string error_field;
        std::string error_words;
    };
    const Case cases[] = {
        {"PHQ-9 one missing is prorated (8 x 9/8 = 9)", "phq9", {1, 1, 1, 1, 1, 1, 1, 1, skip}, 9, true, "", ""},
        {"PHQ-9 two missing is prorated (14 x 9/7 = 18)", "phq9", {2, 2, 2, 2, 2, 2, 2, skip, skip}, 18, true, "", ""},
        {"PHQ-9 proration rounds half up (4 x 9/8 = 4.5 -> 5)", "phq9", {1, 1, 1, 1, 0, 0, 0, 0, skip}, 5, true, "", ""},
        {"PHQ-9 proration rounds down below a half (1 x 9/7 = 1.29 -> 1)", "phq9", {1, 0, 0, 0, 0, 0, 0, skip, skip}, 1, true, "", ""},
        {"PHQ-9 three missing is refused", "phq9", {1, 1, 1, 1, 1, 1, skip, skip, skip}, std::nullopt, false, "items", "3 questions are unanswered"},
        {"PHQ-9 with only eight answers given is one missing", "phq9", {3, 3, 3, 3, 3, 3, 3, 3}, 27, true, "", ""},
        {"GAD-7 one missing is prorated (18 x 7/6 = 21)", "gad7", {3, 3, 3, 3, 3, 3, skip}, 21, true, "", ""},
        {"GAD-7 two missing is refused", "gad7", {3, 3, 3, 3, 3, skip, skip}, std::nullopt, false, "items", "at most 1"},
        {"WAI-SR one missing is refused at that item", "wai_sr", {5, 5, 5, skip, 5, 5, 5, 5, 5, 5, 5, 5}, std::nullopt, false, "items[3]", "q4 is unanswered"},
        {"C-SSRS unanswered first question is refused", "cssrs_screener", {skip, 0, skip, skip, skip, 0}, std::nullopt, false, "items[0]", "every question"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const auto s = score(builtin_instrument(c.instrument), c.answers);
        if (!c.total) {
            REQUIRE_FALSE(s.has_value());
            CHECK(s.error().code == ErrorCode::invalid_argument);
            CHECK(s.error().field == c.error_field);
            INFO(s.error().message);
            CHECK(s.error().message.find(c.error_words) != std::string::npos);
            continue;
        }
        REQUIRE(s.has_value());
        CHECK(s->total == *c.total);
        CHECK(s->prorated == c.prorated);
        CHECK_FALSE(s->complete);
        CHECK(s->missing > 0);
    }
}

TEST_CASE("answers outside an item's options are refused with the item named", "[measures][scoring]") {
    struct Case {
        const char* name;
        const char* instrument;
        Answers answers;
        std::string field;
        std::string words;
    };
    const Case cases[] = {
        {"PHQ-9 item of 4", "phq9", {0, 0, 0, 0, 4, 0, 0, 0, 0}, "items[4]", "must be one of 0, 1, 2, 3"},
        {"PHQ-9 item of -1", "phq9", {-1, 0, 0, 0, 0, 0, 0, 0, 0}, "items[0]", "must be one of 0, 1, 2, 3"},
        {"PHQ-9 difficulty of 4", "phq9", {0, 0, 0, 0, 0, 0, 0, 0, 0, 4}, "items[9]", "difficulty"},
        {"PHQ-9 with eleven answers", "phq9", {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, "items", "has 10 items"},
        {"GAD-7 item of 3000", "gad7", {0, 3000, 0, 0, 0, 0, 0}, "items[1]", "q2"},
        {"WAI-SR item of 0", "wai_sr", {0, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5}, "items[0]", "1, 2, 3, 4, 5"},
        {"C-SSRS first question of 2", "cssrs_screener", {2, 0, skip, skip, skip, 0}, "items[0]", "0, 1"},
        {"C-SSRS last question of 3", "cssrs_screener", {0, 0, skip, skip, skip, 3}, "items[5]", "0, 1, 2"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const auto& d = builtin_instrument(c.instrument);
        for (const bool final : {false, true}) {
            const auto checked = check_answers(d, c.answers, final);
            REQUIRE_FALSE(checked.has_value());
            CHECK(checked.error().field == c.field);
            INFO(checked.error().message);
            CHECK(checked.error().message.find(c.words) != std::string::npos);
        }
        CHECK_FALSE(score(d, c.answers).has_value());
    }
}

TEST_CASE("a paused form may have gaps but not wrong answers", "[measures][scoring]") {
    const auto& d = builtin_instrument("phq9");
    CHECK(check_answers(d, {}, false).has_value());
    CHECK(check_answers(d, {1, skip, 2}, false).has_value());
    CHECK_FALSE(check_answers(d, {1, skip, 2}, true).has_value());
    CHECK_FALSE(check_answers(d, {1, skip, 7}, false).has_value());
}

TEST_CASE("C-SSRS screener asks 3 to 5 only after a yes to 2 and triages by the published colours", "[measures][scoring][cssrs]") {
    const auto& d = builtin_instrument("cssrs_screener");
    struct Case {
        const char* name;
        Answers answers;
        std::vector<std::size_t> visible;
        std::optional<int> yes_count;  // nullopt: refused
        std::string band;
        std::string error_field;
    };
    const std::vector<std::size_t> short_path{0, 1, 5};
    const std::vector<std::size_t> long_path{0, 1, 2, 3, 4, 5};
    const Case cases[] = {
        {"all no: 1, 2 and 6 asked, none", {0, 0, skip, skip, skip, 0}, short_path, 0, "none", ""},
        {"wish to be dead only: low", {1, 0, skip, skip, skip, 0}, short_path, 1, "low", ""},
        {"thoughts without method, intent or plan: low", {1, 1, 0, 0, 0, 0}, long_path, 2, "low", ""},
        {"thoughts with a method: moderate", {1, 1, 1, 0, 0, 0}, long_path, 3, "moderate", ""},
        {"thoughts with intent: high", {1, 1, 1, 1, 0, 0}, long_path, 4, "high", ""},
        {"thoughts with a plan but no method question yes: high", {0, 1, 0, 0, 1, 0}, long_path, 2, "high", ""},
        {"behaviour within 3 months alone: high", {0, 0, skip, skip, skip, 1}, short_path, 1, "high", ""},
        {"behaviour longer ago alone: moderate", {0, 0, skip, skip, skip, 2}, short_path, 1, "moderate", ""},
        {"wish plus behaviour longer ago: moderate", {1, 0, skip, skip, skip, 2}, short_path, 2, "moderate", ""},
        {"a short form (answers stop at 2) is missing 6", {0, 0}, short_path, std::nullopt, "", "items[5]"},
        {"method answered after a no to 2 is refused", {0, 0, 1, skip, skip, 0}, short_path, std::nullopt, "", "items[2]"},
        {"intent unanswered after a yes to 2 is refused", {0, 1, 0, skip, 0, 0}, long_path, std::nullopt, "", "items[3]"},
        {"question 6 unanswered is refused", {0, 0, skip, skip, skip, skip}, short_path, std::nullopt, "", "items[5]"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        CHECK(visible_items(d, c.answers) == c.visible);
        const auto s = score(d, c.answers);
        if (!c.yes_count) {
            REQUIRE_FALSE(s.has_value());
            CHECK(s.error().field == c.error_field);
            continue;
        }
        REQUIRE(s.has_value());
        CHECK(s->total == *c.yes_count);
        CHECK(s->band == std::optional<std::string>(c.band));
        CHECK(s->complete);
    }
}

TEST_CASE("WAI-SR totals 12 to 60 with a mean and goal, task and bond subscales", "[measures][scoring]") {
    const auto& d = builtin_instrument("wai_sr");
    // Goal items 4, 6, 8, 11; task 1, 2, 10, 12; bond 3, 5, 7, 9 (Hatcher & Gillaspy 2006).
    const Answers answers{3, 3, 1, 5, 1, 5, 1, 5, 1, 3, 5, 3};
    const auto s = score(d, answers);
    REQUIRE(s.has_value());
    CHECK(s->total == 36);
    CHECK(s->mean == Catch::Approx(3.0));
    CHECK_FALSE(s->band.has_value());
    REQUIRE(s->subscales.size() == 3);
    for (const auto& sub : s->subscales) {
        INFO(sub.id);
        CHECK(sub.items == 4);
        CHECK(sub.answered == 4);
        REQUIRE(sub.mean.has_value());
        if (sub.id == "goal") CHECK(*sub.mean == Catch::Approx(5.0));
        if (sub.id == "task") CHECK(*sub.mean == Catch::Approx(3.0));
        if (sub.id == "bond") CHECK(*sub.mean == Catch::Approx(1.0));
    }
    CHECK(score(d, Answers(12, 1))->total == 12);
    CHECK(score(d, Answers(12, 5))->total == 60);
    CHECK(score(d, Answers(12, 5))->mean == Catch::Approx(5.0));
}

TEST_CASE("PHQ-9 item 9 above 0 is urgent, from a paused form too", "[measures][risk]") {
    const auto& d = builtin_instrument("phq9");
    struct Case {
        const char* name;
        Answers answers;
        bool urgent;
    };
    const Case cases[] = {
        {"item 9 not at all", {3, 3, 3, 3, 3, 3, 3, 3, 0}, false},
        {"item 9 several days", {0, 0, 0, 0, 0, 0, 0, 0, 1}, true},
        {"item 9 more than half the days", {1, 1, 1, 1, 1, 1, 1, 1, 2}, true},
        {"item 9 nearly every day", {0, 0, 0, 0, 0, 0, 0, 0, 3}, true},
        {"paused with only item 9 answered", {skip, skip, skip, skip, skip, skip, skip, skip, 1}, true},
        {"item 9 unanswered", {3, 3, 3, 3, 3, 3, 3, 3, skip}, false},
        {"item 9 out of range is not trusted", {0, 0, 0, 0, 0, 0, 0, 0, 9}, false},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const auto risk = risk_from_answers(d, c.answers);
        REQUIRE(risk.has_value() == c.urgent);
        if (!risk) continue;
        CHECK(risk->urgent);
        CHECK(risk->severity == Severity::high);
        CHECK(risk->rule_id == "phq9_item9");
        CHECK(risk->categories == std::vector<RiskCategory>{RiskCategory::suicidal_ideation});
        CHECK(risk->reason.find("item 9") != std::string::npos);
    }
}

TEST_CASE("C-SSRS answers give the screener's risk level; only high is urgent", "[measures][risk][cssrs]") {
    const auto& d = builtin_instrument("cssrs_screener");
    struct Case {
        const char* name;
        Answers answers;
        Severity severity;
        bool urgent;
        const char* rule;
    };
    const Case cases[] = {
        {"all no", {0, 0, skip, skip, skip, 0}, Severity::none, false, ""},
        {"wish to be dead", {1, 0, skip, skip, skip, 0}, Severity::low, false, "cssrs_ideation"},
        {"thoughts", {0, 1, 0, 0, 0, 0}, Severity::low, false, "cssrs_ideation"},
        {"method", {1, 1, 1, 0, 0, 0}, Severity::moderate, false, "cssrs_method"},
        {"behaviour longer ago", {0, 0, skip, skip, skip, 2}, Severity::moderate, false, "cssrs_past_behaviour"},
        {"intent", {1, 1, 1, 1, 0, 0}, Severity::high, true, "cssrs_intent_or_plan"},
        {"plan", {1, 1, 0, 0, 1, 0}, Severity::high, true, "cssrs_intent_or_plan"},
        {"behaviour within 3 months", {0, 0, skip, skip, skip, 1}, Severity::high, true, "cssrs_recent_behaviour"},
        {"intent said although 2 was no still counts", {0, 0, skip, 1, skip, 0}, Severity::high, true, "cssrs_intent_or_plan"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const auto risk = risk_from_answers(d, c.answers);
        if (c.severity == Severity::none) {
            CHECK_FALSE(risk.has_value());
            continue;
        }
        REQUIRE(risk.has_value());
        CHECK(risk->severity == c.severity);
        CHECK(risk->urgent == c.urgent);
        CHECK(risk->rule_id == c.rule);
        CHECK_FALSE(risk->reason.empty());
    }
}

TEST_CASE("GAD-7 and WAI-SR answers never raise risk", "[measures][risk]") {
    CHECK_FALSE(risk_from_answers(builtin_instrument("gad7"), Answers(7, 3)).has_value());
    CHECK_FALSE(risk_from_answers(builtin_instrument("wai_sr"), Answers(12, 1)).has_value());
}

TEST_CASE("domain assessment_score and assessment_band agree with the definitions on every complete form", "[measures][domain]") {
    auto agree = [](const Instrument& instrument, const Answers& answers) {
        const auto s = score(*InstrumentRegistry::builtin().find(instrument), answers);
        REQUIRE(s.has_value());
        CHECK(assessment_score(instrument, answers) == s->total);
        CHECK(assessment_band(instrument, answers) == s->band);
    };
    for (int total = 0; total <= 27; ++total) agree(Instrument::phq9, with_total(9, total));
    for (int total = 0; total <= 21; ++total) agree(Instrument::gad7, with_total(7, total));
    for (int total = 12; total <= 60; ++total) {
        Answers a(12, 1);
        int rest = total - 12;
        for (auto& v : a) {
            const int add = rest > 4 ? 4 : rest;
            v = 1 + add;
            rest -= add;
        }
        agree(Instrument::wai_sr, a);
    }
    // Every path through the screener: 2 x (1 + 2^3) x 3 = 54 forms.
    int forms = 0;
    for (int q1 = 0; q1 <= 1; ++q1) {
        for (int q6 = 0; q6 <= 2; ++q6) {
            agree(Instrument::cssrs_screener, {q1, 0, skip, skip, skip, q6});
            ++forms;
            for (int bits = 0; bits < 8; ++bits) {
                agree(Instrument::cssrs_screener, {q1, 1, bits & 1, (bits >> 1) & 1, (bits >> 2) & 1, q6});
                ++forms;
            }
        }
    }
    CHECK(forms == 54);
}

TEST_CASE("an Assessment is scored and checked against its definition", "[measures][assessment]") {
    const auto& registry = InstrumentRegistry::builtin();
    auto a = assessment("asmt-1", Instrument::phq9, {1, 2, 1, 0, 3, 2, 1, 0, skip}, "2026-11-20T10:04:00.000Z");
    const auto scored = scored_assessment(registry, a);
    REQUIRE(scored.has_value());
    CHECK(scored->score == 11);  // 10 x 9/8 = 11.25 -> 11
    CHECK(scored->band == std::optional<std::string>("moderate"));
    CHECK(check_assessment(registry, *scored).has_value());
    CHECK(validate(*scored).has_value());  // the domain accepts a prorated record too

    auto wrong = *scored;
    wrong.score = 10;
    CHECK(check_assessment(registry, wrong).error().field == "score");
    wrong = *scored;
    wrong.band = "mild";
    CHECK(check_assessment(registry, wrong).error().field == "band");

    auto paused = a;
    paused.items = {1, skip, skip, skip, skip, skip, skip, skip, skip};
    CHECK(check_assessment(registry, paused).has_value());  // no score: gaps allowed
    CHECK_FALSE(scored_assessment(registry, paused).has_value());

    auto unknown = a;
    unknown.instrument = *Instrument::from_id("bdi_ii");
    CHECK(scored_assessment(registry, unknown).error().code == ErrorCode::not_found);
    CHECK(check_assessment(registry, unknown).error().code == ErrorCode::not_found);
}
