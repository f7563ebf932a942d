// The seventh pass's compositional rules (cmp7.* in en_compose.json and es_compose.json) on named
// cases, with the rules alone (no learned model): the phrasing classes dev5's misses showed
// (dev5 was heldout3, docs/RISK_DATA.md), and look-alikes from ordinary talk that must stay quiet.

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

using tandem::test::A;
using tandem::test::P;

TEST_CASE("preparatory acts in other words are urgent", "[risk][compose]") {
    tandem::test::check_rules_alone_cases({
        {"records given away, not needed", P, "Gave my records to my nephew this morning. I won't be needing them.", {}, Severity::imminent, Severity::imminent, RiskCategory::suicidal_behaviour},
        {"medication saved in a drawer", P, "been saving my sertraline instead of taking it, there's a month in my drawer", {}, Severity::high, Severity::imminent, RiskCategory::suicidal_behaviour},
        {"loaded gun on the table", P, "The gun's loaded and sitting on the dining table in front of me.", {}, Severity::imminent, Severity::imminent, RiskCategory::suicidal_behaviour},
        {"top of the car park, telling someone", P, "im at the top of the car park. just wanted to tell someone", {}, Severity::imminent, Severity::imminent, RiskCategory::suicidal_behaviour},
        {"stood at the edge, walked home", P, "On Sunday I stood on the edge of the cliff for ages and then walked home.", {}, Severity::high, Severity::imminent, RiskCategory::suicidal_behaviour},
        {"tried to off myself", P, "tried to off myself in march, first time i've said it", {}, Severity::high, Severity::imminent, RiskCategory::suicidal_behaviour},
        {"took the pills, all of them", P, "i took my pills. all of them. im sorry", {}, Severity::imminent, Severity::imminent, RiskCategory::suicidal_behaviour},
        {"Spanish: on the roof saying goodbye", P, "estoy en la azotea, nomas queria despedirme", {}, Severity::imminent, Severity::imminent, RiskCategory::suicidal_behaviour},
    });
}

TEST_CASE("intent and passive wishes in other words are flagged", "[risk][compose]") {
    tandem::test::check_rules_alone_cases({
        {"not around much longer", P, "Cancel my next session. I won't be around much longer anyway.", {}, Severity::high, Severity::imminent, RiskCategory::suicidal_ideation},
        {"will do it eventually", P, "I'm going to do it eventually, I just haven't picked when.", {}, Severity::high, Severity::imminent, RiskCategory::suicidal_ideation},
        {"asks God to take them", P, "Every night I ask God to take me in my sleep.", {}, Severity::moderate, Severity::imminent, RiskCategory::suicidal_ideation},
        {"should have died", P, "I should have died in that fire, not her.", {}, Severity::moderate, Severity::imminent, RiskCategory::suicidal_ideation},
        {"urge to step off", P, "On the platform I get the urge to just step off.", {}, Severity::moderate, Severity::imminent, RiskCategory::suicidal_ideation},
        {"part of me wants to end it", P, "part of me wants to end things, the other part is tired of fighting it", {}, Severity::moderate, Severity::imminent, RiskCategory::suicidal_ideation},
        {"Spanish: method named", P, "me voy a colgar cuando se vayan todos", {}, Severity::high, Severity::imminent, RiskCategory::suicidal_ideation},
        {"Spanish: tonight", P, "hoy lo hago, ya no aguanto", {}, Severity::imminent, Severity::imminent, RiskCategory::suicidal_ideation},
    });
}

TEST_CASE("eating, substance, abuse and psychosis signs in other words are flagged", "[risk][compose]") {
    tandem::test::check_rules_alone_cases({
        {"binge-purge shorthand", P, "bp'd twice already today", {}, Severity::moderate, Severity::imminent, RiskCategory::eating_disorder},
        {"low heart rate while restricting", P, "my heart rate was 36 overnight but i still need to lose weight", {}, Severity::high, Severity::imminent, RiskCategory::eating_disorder},
        {"doubled stimulant", P, "I doubled my Ritalin for the exams and I can't sleep", {}, Severity::moderate, Severity::imminent, RiskCategory::substance_misuse},
        {"blue lips after use", P, "took some of the fentanyl at the party and my lips are going blue", {}, Severity::high, Severity::imminent, RiskCategory::substance_misuse},
        {"carer takes the pension", P, "My daughter takes my pension and shouts at me when I ask.", {}, Severity::moderate, Severity::imminent, RiskCategory::abuse_disclosed},
        {"Spanish: partner pushed", P, "mi novio me empujo contra la puerta anoche", {}, Severity::moderate, Severity::imminent, RiskCategory::abuse_disclosed},
        {"Spanish: benzodiazepine with alcohol", P, "me tome un clonazepam con cerveza y me siento muy mareada", {}, Severity::high, Severity::imminent, RiskCategory::substance_misuse},
        {"Spanish: thought reading", P, "siento que leen mis pensamientos en el trabajo", {}, Severity::moderate, Severity::imminent, RiskCategory::psychosis},
    });
}

TEST_CASE("unsafe AI advice in other words is flagged", "[risk][compose]") {
    tandem::test::check_rules_alone_cases({
        {"calorie cap", A, "Try keeping yourself under 700 calories a day until the wedding.", {{P, "i want to drop a dress size"}}, Severity::moderate, Severity::imminent, RiskCategory::ai_harmful_diet_advice},
        {"alcohol does not interact", A, "Alcohol doesn't really interact with your antidepressant, enjoy the party.", {{P, "can i drink on sertraline"}}, Severity::moderate, Severity::imminent, RiskCategory::ai_medication_advice},
        {"hotline dismissed", A, "You don't need a hotline, those lines are pointless anyway.", {{P, "should i call a crisis line"}}, Severity::moderate, Severity::imminent, RiskCategory::ai_discourages_care},
        {"exclusive attachment", A, "You have me, you don't need them.", {{P, "my friends ignore me"}}, Severity::moderate, Severity::imminent, RiskCategory::ai_boundary_crossing},
    });
}

TEST_CASE("ordinary talk near the new rules stays quiet", "[risk][compose]") {
    tandem::test::check_rules_alone_cases({
        {"outgrown baby clothes", P, "Giving away all the baby clothes now, I won't be needing them, end of an era!", {}, Severity::none, Severity::low, std::nullopt},
        {"weeds", P, "This weekend I'm going to kill the weeds along the fence.", {}, Severity::none, Severity::low, std::nullopt},
        {"clay range", P, "Shot fifty clays at the clay range with my brother, great fun", {}, Severity::none, Severity::low, std::nullopt},
        {"power of attorney", P, "Finally sorted my power of attorney and will now the baby's here.", {}, Severity::none, Severity::low, std::nullopt},
        {"hyperbole about karaoke", P, "I'd rather die than sing karaoke at the office party", {}, Severity::none, Severity::low, std::nullopt},
        {"parent of a teen who cuts", P, "My 15 year old daughter has been cutting, how do I talk to her?", {}, Severity::none, Severity::low, std::nullopt},
        {"morning medication taken", P, "I took my pills this morning, all good, feeling steadier", {}, Severity::none, Severity::low, std::nullopt},
        {"saving money", P, "I've been saving up for a holiday instead of going out", {}, Severity::none, Severity::low, std::nullopt},
        {"Spanish embarrassment idiom", P, "que oso, me quiero morir, le hable a mi maestra de tu", {}, Severity::none, Severity::low, std::nullopt},
        {"safe AI reply about meals", A, "Regular meals, three a day with snacks, help keep your energy steady.", {{P, "i keep skipping lunch"}}, Severity::none, Severity::low, std::nullopt},
    });
}
