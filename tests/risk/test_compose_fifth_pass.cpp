// The fifth pass's compositional rules (en_compose.json, es_compose.json) on named cases, with
// the rules alone (no learned model), so each case shows what a rule does by itself: the
// phrasing classes dev4's unseen check showed missed, and look-alikes that must stay quiet.

#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "risk_test_support.h"

using tandem::RiskCategory;
using tandem::Severity;
using tandem::SpeakerRole;
using tandem::Turn;

namespace {

struct Case {
    const char* name;
    std::string text;
    std::vector<Turn> context;
    Severity at_least;
    Severity at_most;
    std::optional<RiskCategory> category;  // must be among the categories when set
};

constexpr auto P = SpeakerRole::patient;
constexpr auto A = SpeakerRole::ai;

void check_cases(const std::vector<Case>& cases) {
    for (const auto& c : cases) {
        const auto a = tandem::test::rules_alone_engine().screen(c.text, P, c.context);
        INFO(c.name << ": got " << tandem::to_string(a.severity) << " (" << a.rationale << ")");
        CHECK(a.severity >= c.at_least);
        CHECK(a.severity <= c.at_most);
        if (c.category) {
            const bool has = std::find(a.categories.begin(), a.categories.end(), *c.category) != a.categories.end();
            CHECK(has);
        }
    }
}

}  // namespace

TEST_CASE("dwelling on a lethal means, a staged accident or a later plan is urgent", "[risk][compose]") {
    check_cases({
        {"thinking about the railway line", "I can't stop thinking about the railway line behind the estate.", {}, Severity::high, Severity::imminent, RiskCategory::suicidal_ideation},
        {"knows exactly how they would do it", "I know exactly how I'd do it, that's what frightens me.", {}, Severity::high, Severity::imminent, RiskCategory::suicidal_ideation},
        {"a death made to look like an accident", "If I went off the road on the bends it would look like an accident.", {}, Severity::high, Severity::imminent, RiskCategory::suicidal_ideation},
        {"checking out for good once something is over", "After the exams are done I'm checking out for good.", {}, Severity::high, Severity::imminent, RiskCategory::suicidal_ideation},
        {"the plan names a method", "My plan is an overdose once the house is sold.", {}, Severity::high, Severity::imminent, RiskCategory::suicidal_ideation},
        {"going to take every pill", "I'm going to take all of my tablets when I'm back from the trip.", {}, Severity::high, Severity::imminent, RiskCategory::suicidal_ideation},
    });
}

TEST_CASE("preparatory acts in progress and interrupted attempts are recognised", "[risk][compose]") {
    check_cases({
        {"a loaded gun on the table", "The revolver is loaded and on the table next to my bed.", {}, Severity::imminent, Severity::imminent, RiskCategory::suicidal_behaviour},
        {"in the bath with a blade", "Sitting in the bath with a blade right now.", {}, Severity::imminent, Severity::imminent, RiskCategory::suicidal_behaviour},
        {"means bought with a time set", "Ordered the helium, I'm going to do it this weekend.", {}, Severity::imminent, Severity::imminent, RiskCategory::suicidal_behaviour},
        {"someone talked them off the ledge", "I was on the ledge of the car park and a security guard talked me down.", {}, Severity::high, Severity::imminent, RiskCategory::suicidal_behaviour},
        {"farewell letters, Spanish", "ya escribi las cartas para mis hijos", {}, Severity::high, Severity::imminent, RiskCategory::suicidal_behaviour},
    });
}

TEST_CASE("eating-disorder danger, laxatives and a child hurt by the writer are recognised", "[risk][compose]") {
    check_cases({
        {"fainting while restricting", "I blacked out at work, I haven't eaten in four days.", {}, Severity::high, Severity::imminent, RiskCategory::eating_disorder},
        {"palpitations while purging", "Purging twice a day and my heart keeps skipping.", {}, Severity::high, Severity::imminent, RiskCategory::eating_disorder},
        {"laxatives by count", "I took 12 senna last night.", {}, Severity::moderate, Severity::imminent, RiskCategory::eating_disorder},
        {"a child hurt by the writer", "I smacked my son so hard it left marks on his arm.", {}, Severity::high, Severity::imminent, RiskCategory::abuse_disclosed},
        {"nobody would miss me, Spanish", "creo que nadie me extranaria", {}, Severity::moderate, Severity::imminent, RiskCategory::suicidal_ideation},
    });
}

TEST_CASE("a method named in answer to the AI's method question is urgent, and only then", "[risk][compose][context]") {
    check_cases({
        {"pills after the method question", "pills", {{P, "I keep thinking about ending it"}, {A, "Have you thought about how you would do it?"}}, Severity::high, Severity::imminent, RiskCategory::suicidal_ideation},
        {"probably the bridge after how would you do it", "probably the bridge", {{A, "How would you do it?"}}, Severity::high, Severity::imminent, RiskCategory::suicidal_ideation},
        {"pills after a question about vitamins", "pills", {{A, "Do you prefer your vitamins as pills or gummies?"}}, Severity::none, Severity::low, std::nullopt},
        {"the car after a question about getting there", "the car", {{A, "How are you getting to the appointment?"}}, Severity::none, Severity::low, std::nullopt},
    });
}

TEST_CASE("look-alikes of the fifth pass's rules stay below urgent", "[risk][compose]") {
    check_cases({
        {"checking out of the hotel", "We're checking out of the hotel early tomorrow.", {}, Severity::none, Severity::low, std::nullopt},
        {"thinking about the train timetable", "I keep thinking about the train strike, it wrecked my week.", {}, Severity::none, Severity::low, std::nullopt},
        {"a loaded dishwasher", "The dishwasher is loaded and on, finally.", {}, Severity::none, Severity::low, std::nullopt},
        {"a bath with a bath bomb", "Sitting in the bath with a bath bomb and a book.", {}, Severity::none, Severity::low, std::nullopt},
        {"fainting at a blood test", "I fainted at my blood test, needles always do that to me.", {}, Severity::none, Severity::low, std::nullopt},
        {"the plan is pizza", "The plan is pizza and a film tonight.", {}, Severity::none, Severity::low, std::nullopt},
        {"a friend talked me out of a purchase", "My friend talked me down from buying that car.", {}, Severity::none, Severity::low, std::nullopt},
    });
}
