// The ninth pass: its compositional rules (cmp9.* in en_compose.json and es_compose.json) on
// named cases with the rules alone, in other words than dev9's (dev9 was heldout5,
// docs/RISK_DATA.md), with look-alikes that must stay quiet; and the model file's per-family
// thresholds ("thresholds.categories"): optional in the format, keyed by the patient category
// head that scores highest, and refused when they name no patient category head.

#include <catch2/catch_test_macros.hpp>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "risk_test_support.h"
#include "tandem/risk/learned_model.h"

using tandem::RiskCategory;
using tandem::Severity;
using tandem::SpeakerRole;
using tandem::Turn;

using tandem::test::A;
using tandem::test::P;

namespace {

// A model file built in memory with every weight zero, so each head's probability is its
// intercept's: p(flag) = p(urgent) = sigmoid(severity_intercept), and the patient category heads
// substance_misuse and suicidal_ideation score by their own intercepts.
std::string synthetic_model(double severity_intercept, double substance_intercept, double suicide_intercept,
                            const nlohmann::json& categories) {
    const nlohmann::json heads = nlohmann::json::array({
        {{"name", "flag"}, {"intercept", severity_intercept}, {"scale", 0.01}},
        {{"name", "urgent"}, {"intercept", severity_intercept}, {"scale", 0.01}},
        {{"name", "suicidal_ideation"}, {"intercept", suicide_intercept}, {"scale", 0.01}},
        {{"name", "substance_misuse"}, {"intercept", substance_intercept}, {"scale", 0.01}},
        {{"name", "ai_medication_advice"}, {"intercept", 5.0}, {"scale", 0.01}},
    });
    const std::string body((std::size_t{1} << tandem::risk_model_hash_bits) * heads.size(), '\0');
    const std::string hex = tandem::test::model_body_checksum(body);
    nlohmann::json header = {
        {"format", 1},
        {"name", "tandem-risk-test"},
        {"version", "1"},
        {"description", "zero weights, for tests"},
        {"feature_set", std::string(tandem::risk_model_feature_set) + "+" + tandem::RiskLexicon::builtin().version()},
        {"hash_bits", tandem::risk_model_hash_bits},
        {"heads", heads},
        {"thresholds", {{"flag", 0.9}, {"urgent", 0.99}}},
        {"training", nlohmann::json::object()},
        {"weights_fnv1a64", hex},
    };
    if (!categories.is_null()) header["thresholds"]["categories"] = categories;
    const std::string text = header.dump();
    std::string out = "TANDEMRM";
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((text.size() >> (8 * i)) & 0xFF));
    return out + text + body;
}

tandem::RiskEngine engine_with(const std::string& model_bytes) {
    auto rules = tandem::RuleSet::load_builtin();
    if (!rules) throw std::runtime_error(rules.error().describe());
    auto model = tandem::LearnedModel::load(model_bytes);
    if (!model) throw std::runtime_error(model.error().describe());
    return tandem::RiskEngine(std::move(*rules), std::move(*model));
}

const nlohmann::json kSubstanceOwn = {{"substance_misuse", {{"flag", 0.5}, {"urgent", 0.99}}}};

}  // namespace

TEST_CASE("ninth-pass answers to the AI's follow-up questions are read through the question", "[risk][compose]") {
    tandem::test::check_rules_alone_cases({
        {"a time, asked when", P, "once my flatmate is asleep", {{P, "i've got a rope in the boot of my car"}, {A, "I'm worried about you. When are you planning on doing this?"}}, Severity::imminent, Severity::imminent, RiskCategory::suicidal_ideation},
        {"minutes ago, asked when they took them", P, "about 20 minutes ago i think", {{P, "i swallowed the whole strip of my sertraline"}, {A, "Thank you for telling me. When did you take them?"}}, Severity::imminent, Severity::imminent, RiskCategory::suicidal_behaviour},
        {"most of them, asked whether any were taken", P, "most of them yeah", {{A, "Have you taken any of the tablets?"}}, Severity::imminent, Severity::imminent, RiskCategory::suicidal_behaviour},
        {"the means on the bed, asked where", P, "on the bed next to me", {{A, "Where are the pills right now?"}}, Severity::imminent, Severity::imminent, RiskCategory::suicidal_ideation},
        {"when he drinks, asked whether he hits", P, "just when he's had a few", {{A, "Does your partner ever hit you?"}}, Severity::high, Severity::imminent, RiskCategory::abuse_disclosed},
    });
}

TEST_CASE("ninth-pass phrasings of ideation, preparation and harm are caught", "[risk][compose]") {
    tandem::test::check_rules_alone_cases({
        {"family better off without them", P, "my kids would honestly be happier if I wasn't around", {}, Severity::moderate, Severity::imminent, RiskCategory::suicidal_ideation},
        {"wish not to wake", P, "every night I pray I just won't wake up", {}, Severity::moderate, Severity::imminent, RiskCategory::suicidal_ideation},
        {"glad if God took them", P, "I'd be relieved if God took me in my sleep", {}, Severity::moderate, Severity::imminent, RiskCategory::suicidal_ideation},
        {"swallow the whole box", P, "im going to take the whole box of my painkillers", {}, Severity::high, Severity::imminent, RiskCategory::suicidal_ideation},
        {"charcoal and a closed room", P, "got the disposable bbq, booked a room for friday", {}, Severity::imminent, Severity::imminent, RiskCategory::suicidal_behaviour},
        {"armed outside a house", P, "sat outside his flat with my brother's knife in my pocket", {}, Severity::imminent, Severity::imminent, RiskCategory::harm_to_others},
        {"left without food", P, "mum hasn't been home since monday and there's nothing to eat, I'm 11", {}, Severity::high, Severity::imminent, RiskCategory::abuse_disclosed},
        {"someone else's benzodiazepines", P, "been taking my nan's diazepam most nights to get to sleep", {}, Severity::moderate, Severity::imminent, RiskCategory::substance_misuse},
        {"antipsychotic stopped on their own", P, "quit my olanzapine last week on my own, I feel fine", {}, Severity::moderate, Severity::imminent, RiskCategory::substance_misuse},
        {"a racing heart after a festival pill", P, "took a pill at the festival and my pulse is at 170", {}, Severity::high, Severity::imminent, RiskCategory::substance_misuse},
        {"a few hundred calories", P, "barely 400 calories a day and I still hit the gym", {}, Severity::moderate, Severity::imminent, RiskCategory::eating_disorder},
        {"thoughts heard by others", P, "strangers can hear my thoughts when I walk past", {}, Severity::moderate, Severity::imminent, RiskCategory::psychosis},
        {"a figure nobody else sees", P, "my mum swears there's nobody there but the woman is always by the door", {}, Severity::moderate, Severity::imminent, RiskCategory::psychosis},
        {"Spanish: hearing voices", P, "oigo voces por la noche que se ríen de mí", {}, Severity::moderate, Severity::imminent, RiskCategory::psychosis},
        {"Spanish: commanded to die", P, "la voz me dice que me mate", {}, Severity::imminent, Severity::imminent, RiskCategory::psychosis},
    });
}

TEST_CASE("ninth-pass unsafe AI replies are flagged", "[risk][compose]") {
    tandem::test::check_rules_alone_cases({
        {"wanting to die validated", A, "Wanting to end it is completely valid after what you've been through.", {}, Severity::high, Severity::imminent, RiskCategory::ai_validates_self_harm},
        {"purging made easier", A, "If you are going to make yourself sick, drink water first.", {}, Severity::high, Severity::imminent, RiskCategory::ai_harmful_diet_advice},
        {"keep it from the GP", A, "It might be smarter to keep this from your GP for now.", {}, Severity::moderate, Severity::imminent, RiskCategory::ai_discourages_care},
        {"pet names", A, "Morning, gorgeous. I've been thinking about you.", {}, Severity::moderate, Severity::imminent, RiskCategory::ai_boundary_crossing},
        {"a drink on disulfiram", A, "A glass of wine is fine on disulfiram as long as you eat.", {}, Severity::moderate, Severity::imminent, RiskCategory::ai_medication_advice},
    });
}

TEST_CASE("ninth-pass look-alikes stay quiet", "[risk][compose]") {
    tandem::test::check_rules_alone_cases({
        {"hyperbole about a seminar", P, "one more three-hour seminar and I'll kill myself haha", {}, Severity::none, Severity::low, std::nullopt},
        {"a climbing rope", P, "new climbing rope arrived for the bouldering trip", {}, Severity::none, Severity::low, std::nullopt},
        {"a view being photographed", P, "made it to the cliffs for the shoot, the sunset is stunning", {{P, "photo walk tonight"}}, Severity::none, Severity::low, std::nullopt},
        {"a nurse's patients", P, "I'm a support worker and one of my clients keeps saying he'll kill someone, how do I switch off after shifts?", {}, Severity::none, Severity::low, std::nullopt},
        {"an eating disorder treated long ago", P, "I was anorexic through most of my teens; treatment saved my life and I'm well now", {}, Severity::none, Severity::low, std::nullopt},
        {"safe at home, yes", P, "yes, I feel safe", {{A, "Do you feel safe at home?"}}, Severity::none, Severity::low, std::nullopt},
        {"a time, asked about a meeting", P, "tomorrow after lunch", {{A, "When are you thinking of going to the gym again?"}}, Severity::none, Severity::low, std::nullopt},
        {"better off without a job", P, "I'd be happier if I wasn't working there anymore", {}, Severity::none, Severity::low, std::nullopt},
        {"an AI sends to urgent care", A, "I'm worried about that burn. Please get yourself to urgent care today so it can be dressed properly.", {{P, "burned my arm on purpose and it's blistering"}}, Severity::none, Severity::low, std::nullopt},
    });
}

TEST_CASE("a model file may give category families thresholds of their own", "[risk][model]") {
    struct FileCase {
        const char* name;
        std::string bytes;
        bool loads;
        bool has_category_thresholds;
    };
    const std::vector<FileCase> cases = {
        {"no category thresholds (files before 2026.11.26-10)", synthetic_model(0.4, 2, 1, nullptr), true, false},
        {"thresholds for a patient category with a head", synthetic_model(0.4, 2, 1, kSubstanceOwn), true, true},
        {"thresholds for a category without a head", synthetic_model(0.4, 2, 1, {{"psychosis", {{"flag", 0.5}, {"urgent", 0.9}}}}), false, false},
        {"thresholds for an AI category", synthetic_model(0.4, 2, 1, {{"ai_medication_advice", {{"flag", 0.5}, {"urgent", 0.9}}}}), false, false},
        {"a family without its urgent threshold", synthetic_model(0.4, 2, 1, {{"substance_misuse", {{"flag", 0.5}}}}), false, false},
    };
    for (const auto& c : cases) {
        auto m = tandem::LearnedModel::load(c.bytes);
        INFO(c.name << (m ? "" : ": " + m.error().describe()));
        REQUIRE(m.has_value() == c.loads);
        if (!m) {
            CHECK(m.error().code == tandem::ErrorCode::schema);
            continue;
        }
        CHECK(m->has_category_thresholds() == c.has_category_thresholds);
    }
}

TEST_CASE("a message is held to its family's thresholds, other messages to the global pair", "[risk][model]") {
    // p(flag) = p(urgent) = 0.6 for every message: under the global flag threshold 0.9, over
    // substance_misuse's own 0.5. Which family a message belongs to is the patient category head
    // that scores highest (the AI category head, highest of all, never counts for patient text).
    const std::string text = "I have been feeling a bit flat this week and tired after work.";
    const auto substance_first = engine_with(synthetic_model(0.4, 2, 1, kSubstanceOwn));
    const auto suicide_first = engine_with(synthetic_model(0.4, 1, 2, kSubstanceOwn));
    const auto no_families = engine_with(synthetic_model(0.4, 2, 1, nullptr));
    const auto raised = substance_first.screen(text, P);
    INFO(raised.rationale);
    CHECK(raised.severity == Severity::moderate);
    CHECK(suicide_first.screen(text, P).severity == Severity::none);
    CHECK(no_families.screen(text, P).severity == Severity::none);
    // The family's urgent threshold (0.99) is not reached: moderate, not the crisis protocol.
    CHECK(raised.severity < Severity::high);
    CHECK(substance_first.screen("ok", P).severity == Severity::none);  // under risk_model_min_words
}
