// Treatment plans as pure functions: the system prompt a plan produces (golden files in
// tests/bridge/golden/), reading and repairing LLM plan replies against the record schema, the
// offline companion's template proposals, and the patient's `plan` frame.
#include <catch2/catch_test_macros.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tandem/bridge/plan_prompt.h"
#include "tandem/bridge/plan_proposal.h"
#include "tandem/schema/schema_registry.h"
#include "plan_fixtures.h"

using namespace tandem;
using namespace tandem::bridge;
using json = nlohmann::json;
using namespace std::chrono;

namespace {

PromptPlan approved(json content, int version = 3) {
    PromptPlan p;
    p.id = "plan-3";
    p.version = version;
    p.is_default = false;
    p.record = make_plan_record(content, PlanMeta{"plan-3", "p-1", version, std::nullopt, std::string("tara"),
                                                  "2026-11-26T09:00:00.000Z"});
    return p;
}

// Compares with the golden file; TANDEM_UPDATE_GOLDEN=1 rewrites it (then review the diff).
void check_golden(const std::string& name, const std::string& text) {
    const std::string path = std::string(TANDEM_GOLDEN_DIR) + "/" + name + ".txt";
    if (std::getenv("TANDEM_UPDATE_GOLDEN") != nullptr) {
        std::ofstream(path, std::ios::binary) << text << "\n";
    }
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    std::stringstream ss;
    ss << in.rdbuf();
    std::string expected = ss.str();
    if (!expected.empty() && expected.back() == '\n') expected.pop_back();
    CHECK(text == expected);
}

ProposalInput intake(std::vector<std::string> conditions, std::vector<std::string> patient_said) {
    ProposalInput in;
    in.conditions = std::move(conditions);
    for (auto& s : patient_said) in.conversation.push_back({"patient", std::move(s)});
    in.today = year_month_day{year{2026}, month{11}, day{26}};
    in.crisis_resources = {{"988 Suicide & Crisis Lifeline", "988", "phone"}, {"Emergency services", "911", "emergency"}};
    return in;
}

}  // namespace

TEST_CASE("system prompts built from plans match their golden files", "[bridge][plans][golden]") {
    const auto rules = std::string(default_safety_rules());
    json sparse = tandem::test::sample_plan_content();
    sparse["presenting_problems"] = json::array();
    sparse["homework"] = json::array();
    sparse["ai_guidance"]["avoid_topics"] = json::array();
    for (auto& [k, v] : sparse["safety_plan"].items()) v = json::array();
    struct Case {
        const char* name;
        PromptPlan plan;
        PromptContext context;
    };
    const std::vector<Case> cases = {
        {"default_plan", default_prompt_plan("default-clinic-plan", 1, {"a short daily walk", "one thought record"}), {}},
        {"approved_plan", approved(tandem::test::sample_plan_content()), {}},
        {"approved_plan_risk_and_conditions", approved(tandem::test::sample_plan_content(), 4),
         PromptContext{{"depression", "insomnia"}, true}},
        {"approved_plan_sparse", approved(sparse, 2), {}},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        check_golden(c.name, build_system_prompt(rules, c.plan, c.context));
    }
}

TEST_CASE("the prompt is a pure function of its inputs: the safety rules come first and an edit shows",
          "[bridge][plans]") {
    const auto rules = std::string(default_safety_rules());
    const auto plan = approved(tandem::test::sample_plan_content());
    const auto a = build_system_prompt(rules, plan, {});
    CHECK(a == build_system_prompt(rules, plan, {}));
    CHECK(a.rfind(rules, 0) == 0);
    json edited = tandem::test::sample_plan_content();
    edited["goals"][0]["description"] = "Cycle to the park twice a week";
    edited["ai_guidance"]["tone"] = "brief and direct";
    const auto b = build_system_prompt(rules, approved(edited), {});
    CHECK(b.find("Cycle to the park twice a week") != std::string::npos);
    CHECK(b.find("Tone: brief and direct.") != std::string::npos);
    CHECK(b.find("Walk outside three times a week") == std::string::npos);
}

TEST_CASE("LLM plan replies: valid ones pass, safe repairs are made, the rest are refused with the field",
          "[bridge][plans][schema]") {
    const auto in = intake({"depression"}, {"I feel flat"});
    const std::string good = tandem::test::sample_plan_content().dump();
    json missing_optional = tandem::test::sample_plan_content();
    missing_optional.erase("homework");
    missing_optional.erase("assessment_schedule");
    missing_optional["safety_plan"].erase("professionals_and_crisis_lines");
    missing_optional["ai_guidance"].erase("escalate_when");
    json with_record_fields = tandem::test::sample_plan_content();
    with_record_fields["id"] = "made-up";
    with_record_fields["status"] = "approved";
    with_record_fields["version"] = 99;
    with_record_fields["notes"] = "extra";
    json no_goals = tandem::test::sample_plan_content();
    no_goals.erase("goals");
    json bad_date = tandem::test::sample_plan_content();
    bad_date["goals"][0]["target_date"] = "next month";
    json no_tone = tandem::test::sample_plan_content();
    no_tone["ai_guidance"].erase("tone");
    json blank_cadence = tandem::test::sample_plan_content();
    blank_cadence["checkin_cadence"] = "  ";
    json wrong_instrument = tandem::test::sample_plan_content();
    wrong_instrument["assessment_schedule"][0]["instrument"] = "beck";

    struct Case {
        const char* name;
        std::string reply;
        bool parses;
        bool valid;            // after parsing: the full record passes the schema
        const char* repair;    // a repair that must be listed ("" none expected)
        const char* field;     // parse failure: the error code name; invalid: the pointer
    };
    const std::vector<Case> cases = {
        {"a clean JSON object", good, true, true, "", ""},
        {"in a code fence", "```json\n" + good + "\n```", true, true, "removed a code fence", ""},
        {"with prose around it", "Here is the plan:\n" + good + "\nLet me know if you want changes.", true, true,
         "removed text around the JSON", ""},
        {"wrapped in {plan: ...}", json{{"plan", json::parse(good)}}.dump(), true, true, "unwrapped \"plan\"", ""},
        {"with record fields and unknown keys", with_record_fields.dump(), true, true, "dropped \"status\"", ""},
        {"missing secondary fields", missing_optional.dump(), true, true, "filled homework", ""},
        {"missing goals", no_goals.dump(), true, false, "", "/goals"},
        {"a goal date that is not a date", bad_date.dump(), true, false, "", "/goals/0/target_date"},
        {"no tone in the AI guidance", no_tone.dump(), true, false, "", "/ai_guidance/tone"},
        {"a blank check-in cadence", blank_cadence.dump(), true, false, "", "/checkin_cadence"},
        {"an unknown instrument", wrong_instrument.dump(), true, false, "", "/assessment_schedule/0/instrument"},
        {"truncated JSON", good.substr(0, good.size() / 2), false, false, "", "parse"},
        {"not JSON at all", "Goals: feel better. Homework: walk.", false, false, "", "parse"},
        {"malformed JSON", "{\"goals\": [1, 2,, 3]}", false, false, "", "parse"},
        {"a refusal", "I'm sorry, but I can't help with creating a treatment plan.", false, false, "", "unavailable"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        auto parsed = parse_plan_reply(c.reply, in);
        REQUIRE(parsed.has_value() == c.parses);
        if (!c.parses) {
            CHECK(to_string(parsed.error().code) == std::string_view(c.field));
            continue;
        }
        if (*c.repair) {
            const auto& r = parsed->repairs;
            CHECK(std::find(r.begin(), r.end(), c.repair) != r.end());
        }
        const json record = make_plan_record(parsed->content, PlanMeta{"p1", "patient", 1, std::nullopt, std::nullopt,
                                                                       "2026-11-26T09:00:00.000Z"});
        auto valid = validate_plan_record(record);
        CHECK(valid.has_value() == c.valid);
        if (!c.valid && !valid) CHECK(valid.error().field == c.field);
    }
}

TEST_CASE("a refusal is recognised only without a JSON object", "[bridge][plans]") {
    CHECK(is_refusal("I can't help with that."));
    CHECK(is_refusal("As an AI, I am unable to provide medical treatment plans."));
    CHECK_FALSE(is_refusal("{\"homework\": [\"notice when I can't sleep\"]}"));
    CHECK_FALSE(is_refusal("Here is a draft."));
}

TEST_CASE("the offline companion proposes from condition templates chosen by registered conditions and intake cues",
          "[bridge][plans]") {
    struct Case {
        const char* name;
        ProposalInput in;
        std::vector<std::string> templates;
        const char* intervention;  // one the proposal must contain
    };
    const std::vector<Case> cases = {
        {"registered depression", intake({"Major depression"}, {"Hi"}), {"depression"}, "behavioural activation"},
        {"worry in the intake", intake({}, {"I'm worried all the time about work"}), {"anxiety"}, "worry postponement"},
        {"eating cues", intake({}, {"I've only been eating an apple a day to lose weight"}), {"eating_disorder_risk"},
         "regular eating"},
        {"two conditions", intake({"GAD"}, {"I feel hopeless and empty"}), {"depression", "anxiety"},
         "cognitive restructuring"},
        {"nothing recognisable", intake({}, {"My neighbour is noisy"}), {"default"},
         "reflective listening and problem solving"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        CHECK(inferred_templates(c.in) == c.templates);
        const json content = offline_plan_content(c.in);
        const json record = make_plan_record(content, PlanMeta{"p1", "patient", 1, std::nullopt, std::nullopt,
                                                               "2026-11-26T09:00:00.000Z"});
        auto valid = validate_plan_record(record);
        INFO((valid ? std::string() : valid.error().describe()));
        CHECK(valid.has_value());
        bool found = false;
        for (const auto& i : content["interventions"]) found = found || i["name"] == c.intervention;
        CHECK(found);
        // PHQ-9 and GAD-7 at weeks 0, 4 and 8, and the crisis lines in the safety plan.
        CHECK(content["assessment_schedule"].size() == 6);
        CHECK(content["safety_plan"]["professionals_and_crisis_lines"].dump().find("988") != std::string::npos);
    }
    const json ed = offline_plan_content(intake({}, {"I've been skipping meals to lose weight"}));
    CHECK(ed["ai_guidance"]["avoid_topics"].dump().find("calories") != std::string::npos);
    CHECK(ed["goals"][0]["target_date"] == "2027-01-07");  // 6 weeks after 2026-11-26
}

TEST_CASE("the patient plan frame comes only from an approved plan", "[bridge][plans]") {
    const Timestamp anchor = sys_days(year_month_day{year{2026}, month{11}, day{1}});
    const Timestamp now = sys_days(year_month_day{year{2026}, month{11}, day{26}});
    const json empty = patient_plan_payload(json(), anchor, now);
    CHECK(empty == json{{"homework", json::array()}, {"next_assessments", json::array()}});
    CHECK(SchemaRegistry::builtin().validate("wire/plan", empty).has_value());
    const json full = patient_plan_payload(approved(tandem::test::sample_plan_content()).record, anchor, now);
    CHECK(SchemaRegistry::builtin().validate("wire/plan", full).has_value());
    CHECK(full["homework"].size() == 2);
    CHECK(full["checkin_cadence"] == "every 2 to 3 days");
    // Week 0 (Nov 1) is long past; week 4 (Nov 29) and week 8 (Dec 27) are next.
    REQUIRE(full["next_assessments"].size() == 2);
    CHECK(full["next_assessments"][0] == json{{"instrument", "phq9"}, {"due_at", "2026-11-29T00:00:00.000Z"}});
    CHECK(full["next_assessments"][1]["instrument"] == "gad7");
}
