// plan_questionnaire (bench/loadgen/questionnaires.h): which answers a scripted demo patient
// sends for a `questionnaire` form, in how many sittings and when. Tables of named cases.

#include <cstddef>
#include <string>
#include <vector>

#include <catch2/catch_test_macros.hpp>
#include <nlohmann/json.hpp>

#include "questionnaires.h"

using nlohmann::json;
using tandem::loadgen::plan_questionnaire;
using tandem::loadgen::QuestionnaireStep;

namespace {

// A small form: q1 and q2 offer 0..3, q3 (0 or 1) shows only when q2 >= 2, q4 is optional.
json form(const std::string& assessment_id = "a1", json saved = json::array()) {
    const json scale = json::array({{{"value", 0}}, {{"value", 1}}, {{"value", 2}}, {{"value", 3}}});
    const json yes_no = json::array({{{"value", 0}}, {{"value", 1}}});
    json items = json::array({{{"id", "q1"}, {"options", scale}},
                              {{"id", "q2"}, {"options", scale}},
                              {{"id", "q3"}, {"options", yes_no}, {"show_if", {{"item", "q2"}, {"min", 2}}}},
                              {{"id", "q4"}, {"options", scale}, {"optional", true}}});
    return {{"assessment_id", assessment_id},
            {"instrument", {{"id", "mini"}, {"items", std::move(items)}}},
            {"answers", std::move(saved)}};
}

json scenario(json patient, json answers) {
    return {{"patients", json::array({std::move(patient)})}, {"questionnaire_answers", std::move(answers)}};
}

const QuestionnaireStep& last(const std::vector<QuestionnaireStep>& steps) { return steps.back(); }

}  // namespace

TEST_CASE("the final answers follow the patient's own set, then the script's, then the default, fitted to the form",
          "[bench][loadgen][questionnaire]") {
    struct Case {
        const char* name;
        json patient;
        json answers;
        json expected_items;
    };
    const Case cases[] = {
        {"own answer set wins over script and default", {{"name", "Ana"}, {"answers", "own"}, {"script", "s"}},
         {{"own", {{"mini", {1, 1, 1, 1}}}}, {"s", {{"mini", {2, 2, 2, 2}}}}, {"default", {{"mini", {3, 3, 3, 3}}}}},
         {1, 1, nullptr, 1}},
        {"script's set when the patient names none", {{"name", "Ben"}, {"script", "s"}},
         {{"s", {{"mini", {2, 2, 1, 0}}}}, {"default", {{"mini", {3, 3, 3, 3}}}}}, {2, 2, 1, 0}},
        {"default set when neither has the instrument", {{"name", "Cy"}, {"script", "s"}},
         {{"s", {{"other", {0}}}}, {"default", {{"mini", {0, 3, 1, 2}}}}}, {0, 3, 1, 2}},
        {"first option of each question when no set exists, optional left blank", {{"name", "Dee"}}, json::object(),
         {0, 0, nullptr, nullptr}},
        {"a wanted value the form does not offer becomes the nearest offered one", {{"name", "Eve"}},
         {{"default", {{"mini", {7, -2, 5, 2}}}}}, {3, 0, nullptr, 2}},
        {"a question hidden by the skip logic stays unanswered", {{"name", "Fay"}},
         {{"default", {{"mini", {1, 1, 1, 1}}}}}, {1, 1, nullptr, 1}},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const auto steps = plan_questionnaire(scenario(c.patient, c.answers), 0, form(), 1.0);
        REQUIRE_FALSE(steps.empty());
        CHECK(last(steps).final);
        CHECK(last(steps).payload["final"] == true);
        CHECK(last(steps).payload["assessment_id"] == "a1");
        CHECK(last(steps).payload["items"] == c.expected_items);
    }
}

TEST_CASE("a form is answered in one sitting or in two: a save of the first half, then the submit",
          "[bench][loadgen][questionnaire]") {
    const json answers = {{"default", {{"mini", {1, 2, 1, 3}}}}};
    const json all = {1, 2, 1, 3};
    int one = 0, two = 0;
    for (const char* name : {"Ana", "Ben", "Cy", "Dee", "Eve", "Fay", "Gus", "Hal", "Ivy", "Jo", "Kit", "Lu"}) {
        INFO(name);
        const auto steps = plan_questionnaire(scenario({{"name", name}}, answers), 0, form(), 1.0);
        REQUIRE((steps.size() == 1 || steps.size() == 2));
        CHECK(last(steps).payload["items"] == all);
        CHECK(steps.front().after_s >= 20.0);
        CHECK(steps.front().after_s <= 90.0);
        if (steps.size() == 1) {
            ++one;
            continue;
        }
        ++two;
        CHECK_FALSE(steps.front().final);
        CHECK(steps.front().payload["final"] == false);
        // Two of the four answered questions (half, rounded up), trailing blanks dropped.
        CHECK(steps.front().payload["items"] == json({1, 2}));
        CHECK(steps.back().after_s >= 60.0);
        CHECK(steps.back().after_s <= 180.0);
    }
    CHECK(one > 0);
    CHECK(two > 0);
}

TEST_CASE("the plan is deterministic, a resumed form is submitted at once, and speed shortens the waits",
          "[bench][loadgen][questionnaire]") {
    const json answers = {{"default", {{"mini", {1, 2, 1, 3}}}}};
    for (const char* name : {"Ana", "Ben", "Cy", "Dee", "Eve", "Fay"}) {
        INFO(name);
        const auto s = scenario({{"name", name}}, answers);
        const auto once = plan_questionnaire(s, 0, form(), 1.0);
        const auto again = plan_questionnaire(s, 0, form(), 1.0);
        REQUIRE(once.size() == again.size());
        for (std::size_t k = 0; k < once.size(); ++k) {
            CHECK(once[k].after_s == again[k].after_s);
            CHECK(once[k].payload == again[k].payload);
        }
        const auto resumed = plan_questionnaire(s, 0, form("a1", {1, nullptr, nullptr, nullptr}), 1.0);
        REQUIRE(resumed.size() == 1);
        CHECK(resumed.front().final);
        CHECK(resumed.front().payload["items"] == json({1, 2, 1, 3}));
        const auto fast = plan_questionnaire(s, 0, form(), 10.0);
        REQUIRE(fast.size() == once.size());
        for (std::size_t k = 0; k < once.size(); ++k) CHECK(fast[k].after_s == once[k].after_s / 10.0);
    }
}
