#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>

#include <catch2/catch_test_macros.hpp>
#include <nlohmann/json.hpp>

#include "measures_test_support.h"
#include "tandem/domain/json.h"
#include "tandem/schema/schema_registry.h"

using namespace tandem;
using namespace tandem::testing;
using nlohmann::json;

namespace {

// A temporary directory removed when the test ends.
class TempDir {
public:
    TempDir() {
        std::random_device rd;
        path_ = std::filesystem::temp_directory_path() / ("tandem-measures-" + std::to_string(rd()) + std::to_string(rd()));
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    void write(const std::string& name, const std::string& text) const {
        std::ofstream(path_ / name, std::ios::binary) << text;
    }

private:
    std::filesystem::path path_;
};

// An eating-disorder screen a clinic might add: the SCOFF's five yes/no questions, 2 or more
// yes is a positive screen (Morgan, Reid & Lacey 1999).
json scoff() {
    const json yes_no = json::array({{{"value", 0}, {"label", "No"}}, {{"value", 1}, {"label", "Yes"}}});
    json items = json::array();
    const char* texts[] = {
        "Do you make yourself sick because you feel uncomfortably full?",
        "Do you worry you have lost control over how much you eat?",
        "Have you recently lost more than one stone in a 3 month period?",
        "Do you believe yourself to be fat when others say you are too thin?",
        "Would you say that food dominates your life?",
    };
    for (int i = 0; i < 5; ++i) {
        items.push_back({{"id", "q" + std::to_string(i + 1)}, {"text", texts[i]}, {"options", yes_no}});
    }
    return {
        {"id", "scoff"},
        {"title", "SCOFF eating disorder screen"},
        {"short_title", "SCOFF"},
        {"version", 1},
        {"instructions", "Please answer each question."},
        {"items", items},
        {"scoring",
         {{"method", "count_yes"},
          {"bands", json::array({{{"min", 0}, {"max", 1}, {"label", "negative"}},
                                 {{"min", 2}, {"max", 5}, {"label", "positive"}}})}}},
        {"risk_rules",
         json::array({{{"id", "scoff_purging"},
                       {"any", json::array({{{"item", "q1"}, {"equals", 1}}})},
                       {"severity", "moderate"},
                       {"urgent", false},
                       {"categories", json::array({"eating_disorder"})},
                       {"reason", "SCOFF: self-induced vomiting reported; clinician review."}}})},
        {"outcomes", {{"direction", "lower_is_better"}, {"reliable_change", 2}}},
    };
}

}  // namespace

TEST_CASE("the built-in registry holds the four instruments with their LOINC codes", "[measures][definitions]") {
    const auto& registry = InstrumentRegistry::builtin();
    CHECK(registry.ids() == std::vector<std::string>{"cssrs_screener", "gad7", "phq9", "wai_sr"});
    for (const auto& id : registry.ids()) {
        INFO(id);
        const auto instrument = Instrument::from_id(id);
        REQUIRE(instrument.has_value());
        CHECK(instrument->is_builtin());
        CHECK(registry.find(*instrument) == registry.find(id));
        CHECK(item_count(*instrument) ==
              static_cast<std::size_t>(std::count_if(registry.find(id)->items.begin(), registry.find(id)->items.end(),
                                                     [](const InstrumentItem& i) { return i.scored; })));
    }
    const auto& phq = *registry.find("phq9");
    CHECK(phq.loinc_panel == std::optional<std::string>("44249-1"));
    CHECK(phq.loinc_total == std::optional<std::string>("44261-6"));
    std::vector<std::string> codes;
    for (const auto& item : phq.items) codes.push_back(item.loinc.value_or(""));
    CHECK(codes == std::vector<std::string>{"44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2",
                                            "44252-5", "44253-3", "44260-8", "69722-7"});
    CHECK(phq.scoring.total_min == 0);
    CHECK(phq.scoring.total_max == 27);
    const auto& gad = *registry.find("gad7");
    CHECK(gad.loinc_panel == std::optional<std::string>("69737-5"));
    CHECK(gad.loinc_total == std::optional<std::string>("70274-6"));
    codes.clear();
    for (const auto& item : gad.items) codes.push_back(item.loinc.value_or(""));
    CHECK(codes == std::vector<std::string>{"69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"});
    CHECK(gad.scoring.total_max == 21);
    CHECK(registry.find("wai_sr")->scoring.total_min == 12);
    CHECK(registry.find("wai_sr")->scoring.total_max == 60);
    CHECK(registry.find("cssrs_screener")->scoring.total_max == 6);
    CHECK(registry.find("bdi_ii") == nullptr);
}

TEST_CASE("outcome thresholds come from the definition files", "[measures][definitions]") {
    const auto& phq = builtin_instrument("phq9").outcomes;
    CHECK(phq.lower_is_better);
    CHECK(phq.response_percent == std::optional<double>(50));
    CHECK(phq.remission_below == std::optional<int>(5));
    CHECK(phq.reliable_change == std::optional<int>(6));
    const auto& gad = builtin_instrument("gad7").outcomes;
    CHECK_FALSE(gad.response_percent.has_value());
    CHECK(gad.remission_below == std::optional<int>(5));
    CHECK(gad.reliable_change == std::optional<int>(4));
    CHECK_FALSE(builtin_instrument("wai_sr").outcomes.lower_is_better);
}

TEST_CASE("the instrument schema is registered with an absolute id", "[measures][definitions][schema]") {
    const auto& schemas = SchemaRegistry::builtin();
    REQUIRE(schemas.contains("instrument"));
    CHECK(schemas.document("instrument")->at("$id") == std::string(kSchemaBaseUri) + "instrument.schema.json");
}

TEST_CASE("the patient's form carries items and options but no scoring, risk rules or thresholds", "[measures][definitions]") {
    const json view = patient_view(builtin_instrument("cssrs_screener"));
    CHECK(view.at("id") == "cssrs_screener");
    CHECK(view.at("items").size() == 6);
    CHECK(view.at("items").at(2).at("show_if") == json{{"item", "q2"}, {"equals", 1}});
    for (const char* hidden : {"scoring", "risk_rules", "outcomes", "source"}) {
        INFO(hidden);
        CHECK_FALSE(view.contains(hidden));
    }
}

TEST_CASE("a clinic adds an instrument from a directory without code", "[measures][definitions][clinic]") {
    TempDir dir;
    dir.write("scoff.json", scoff().dump(2));
    dir.write("notes.txt", "not a definition, ignored");
    const auto registry = InstrumentRegistry::with_directory(dir.path());
    REQUIRE(registry.has_value());
    CHECK(registry->ids() == std::vector<std::string>{"cssrs_screener", "gad7", "phq9", "scoff", "wai_sr"});
    const auto* d = registry->find("scoff");
    REQUIRE(d != nullptr);
    const auto s = score(*d, {1, 1, 0, 0, 0});
    REQUIRE(s.has_value());
    CHECK(s->total == 2);
    CHECK(s->band == std::optional<std::string>("positive"));
    const auto risk = risk_from_answers(*d, {1, 0, 0, 0, 0});
    REQUIRE(risk.has_value());
    CHECK(risk->severity == Severity::moderate);
    CHECK_FALSE(risk->urgent);
    CHECK(risk->categories == std::vector<RiskCategory>{RiskCategory::eating_disorder});

    // The record of a clinic instrument passes the domain, its JSON schema and the definition.
    const auto instrument = Instrument::from_id("scoff");
    REQUIRE(instrument.has_value());
    CHECK_FALSE(instrument->is_builtin());
    auto a = assessment("asmt-9", *instrument, {1, 1, 0, 0, 0}, "2026-11-24T09:00:00.000Z");
    a.requested_by = "schedule";
    a.conversation_id = ConversationId("conv-1");
    const auto scored = scored_assessment(*registry, a);
    REQUIRE(scored.has_value());
    CHECK(check_assessment(*registry, *scored).has_value());
    CHECK(validate(*scored).has_value());
    const json j = *scored;
    CHECK(j.at("instrument") == "scoff");
    CHECK(SchemaRegistry::builtin().validate("records/assessment", j).has_value());
    const auto back = from_json_checked<Assessment>(j);
    REQUIRE(back.has_value());
    CHECK(*back == *scored);
    // The built-in registry is untouched.
    CHECK(InstrumentRegistry::builtin().find("scoff") == nullptr);
}

TEST_CASE("a malformed definition is refused naming the file and the JSON pointer", "[measures][definitions][clinic]") {
    struct Case {
        const char* name;
        std::function<void(json&)> mutate;
        std::string pointer;
        std::string words;
    };
    const Case cases[] = {
        {"no items", [](json& j) { j.erase("items"); }, "/items", ""},
        {"option value is text", [](json& j) { j["items"][0]["options"][1]["value"] = "yes"; }, "/items/0/options/1/value", ""},
        {"id with capitals", [](json& j) { j["id"] = "SCOFF"; }, "/id", ""},
        {"unknown scoring method", [](json& j) { j["scoring"]["method"] = "average"; }, "/scoring/method", ""},
        {"unknown property", [](json& j) { j["items"][2]["colour"] = "red"; }, "/items/2/colour", "colour"},
        {"repeated item id", [](json& j) { j["items"][1]["id"] = "q1"; }, "/items/1/id", "repeats item id"},
        {"repeated option value", [](json& j) { j["items"][3]["options"][1]["value"] = 0; }, "/items/3/options/1/value", "repeats"},
        {"skip logic on a later item", [](json& j) { j["items"][0]["show_if"] = {{"item", "q2"}, {"equals", 1}}; }, "/items/0/show_if/item", "earlier item"},
        {"skip logic on no item", [](json& j) { j["items"][1]["show_if"] = {{"item", "q9"}, {"equals", 1}}; }, "/items/1/show_if/item", "names no item"},
        {"bands with a gap", [](json& j) { j["scoring"]["bands"][1]["min"] = 3; }, "/scoring/bands/1/min", "must be 2"},
        {"bands short of the highest total", [](json& j) { j["scoring"]["bands"][1]["max"] = 4; }, "/scoring/bands/1/max", "must be 5"},
        {"bands not from the lowest total", [](json& j) { j["scoring"]["bands"][0]["min"] = 1; }, "/scoring/bands/0/min", "must be 0"},
        {"risk rule on no item", [](json& j) { j["risk_rules"][0]["any"][0]["item"] = "q7"; }, "/risk_rules/0/any/0/item", "names no item"},
        {"risk rule on a value no option has", [](json& j) { j["risk_rules"][0]["any"][0]["equals"] = 2; }, "/risk_rules/0/any/0/equals", "not an option"},
        {"unknown risk severity", [](json& j) { j["risk_rules"][0]["severity"] = "severe"; }, "/risk_rules/0/severity", ""},
        {"prorating a count of yes", [](json& j) { j["scoring"]["missing"] = {{"max_missing", 1}, {"prorate", true}}; }, "/scoring/missing/prorate", "cannot be prorated"},
        {"a subscale nobody uses", [](json& j) { j["scoring"]["subscales"] = json::array({{{"id", "purge"}, {"title", "Purging"}}}); }, "/scoring/subscales/0", "has no items"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        json doc = scoff();
        c.mutate(doc);
        TempDir dir;
        dir.write("a_good.json", [] { json g = scoff(); g["id"] = "scoff_ok"; return g.dump(); }());
        dir.write("scoff.json", doc.dump(2));
        const auto loaded = InstrumentRegistry::with_directory(dir.path());
        REQUIRE_FALSE(loaded.has_value());  // one bad file refuses the directory
        INFO(loaded.error().describe());
        CHECK(loaded.error().code == ErrorCode::schema);
        CHECK(loaded.error().field == c.pointer);
        CHECK(loaded.error().message.rfind("scoff.json: ", 0) == 0);
        CHECK(loaded.error().message.find(c.words) != std::string::npos);
        CHECK_FALSE(parse_instrument(doc, "scoff.json").has_value());
    }
}

TEST_CASE("a definition file that is not JSON, reuses an id or is missing is refused clearly", "[measures][definitions][clinic]") {
    {
        TempDir dir;
        dir.write("broken.json", "{\"id\": \"scoff\", ");
        const auto loaded = InstrumentRegistry::with_directory(dir.path());
        REQUIRE_FALSE(loaded.has_value());
        CHECK(loaded.error().code == ErrorCode::parse);
        CHECK(loaded.error().message.rfind("broken.json: not JSON", 0) == 0);
    }
    {
        TempDir dir;
        json phq = scoff();
        phq["id"] = "phq9";
        dir.write("my_phq9.json", phq.dump());
        const auto loaded = InstrumentRegistry::with_directory(dir.path());
        REQUIRE_FALSE(loaded.has_value());
        CHECK(loaded.error().code == ErrorCode::conflict);
        CHECK(loaded.error().field == "/id");
        CHECK(loaded.error().message.find("my_phq9.json") != std::string::npos);
        CHECK(loaded.error().message.find("built-in") != std::string::npos);
    }
    {
        TempDir dir;
        dir.write("a.json", scoff().dump());
        dir.write("b.json", scoff().dump());
        const auto loaded = InstrumentRegistry::with_directory(dir.path());
        REQUIRE_FALSE(loaded.has_value());
        CHECK(loaded.error().code == ErrorCode::conflict);
        CHECK(loaded.error().message.rfind("b.json: ", 0) == 0);
    }
    const auto missing = InstrumentRegistry::with_directory("/nonexistent/tandem-instruments");
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().code == ErrorCode::io);
    TempDir empty;
    const auto only_builtins = InstrumentRegistry::with_directory(empty.path());
    REQUIRE(only_builtins.has_value());
    CHECK(only_builtins->ids().size() == 4);
}

TEST_CASE("instrument ids follow the record pattern", "[measures][definitions][domain]") {
    struct Case {
        const char* id;
        bool ok;
    };
    const Case cases[] = {{"phq9", true}, {"scoff", true}, {"ede_q_short", true}, {"a1", true},
                          {"a", false}, {"", false}, {"1abc", false}, {"PHQ9", false}, {"phq-9", false},
                          {"abcdefghijklmnopqrstuvwxyz012345", true}, {"abcdefghijklmnopqrstuvwxyz0123456", false}};
    for (const auto& c : cases) {
        INFO(c.id);
        const auto instrument = Instrument::from_id(c.id);
        CHECK(instrument.has_value() == c.ok);
        if (instrument) CHECK(to_string(*instrument) == c.id);
        CHECK(from_string<Instrument>(c.id).has_value() == c.ok);
    }
}
