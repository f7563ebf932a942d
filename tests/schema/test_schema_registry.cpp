#include <catch2/catch_test_macros.hpp>

#include "schema_cases.h"
#include "tandem/schema/schema_registry.h"

using namespace tandem;
using namespace tandem::testing;
using nlohmann::json;

TEST_CASE("the builtin registry holds a schema for every record and the envelope", "[schema]") {
    const auto& registry = SchemaRegistry::builtin();
    for (const char* name :
         {"records/common", "records/risk_assessment", "records/clinic", "records/clinician",
          "records/patient", "records/conversation", "records/message", "records/flag",
          "records/treatment_plan", "records/assessment", "records/audit_event", "records/event",
          "wire/envelope"}) {
        INFO(name);
        CHECK(registry.contains(name));
        REQUIRE(registry.document(name) != nullptr);
        CHECK(registry.document(name)->at("$id") ==
              std::string(kSchemaBaseUri) + name + ".schema.json");
    }
}

TEST_CASE("what the C++ code writes passes its schema", "[schema]") {
    const auto& registry = SchemaRegistry::builtin();
    for (const auto& doc : good_documents()) {
        INFO(doc.name << ": " << doc.document.dump());
        const auto result = registry.validate(doc.schema, doc.document);
        if (!result) INFO(result.error().describe());
        CHECK(result.has_value());
    }
}

TEST_CASE("crafted bad documents fail at the JSON pointer of the error", "[schema]") {
    const auto& registry = SchemaRegistry::builtin();
    for (const auto& bad : bad_documents()) {
        INFO(bad.name);
        json doc = sample_for(bad.schema);
        REQUIRE(registry.validate(bad.schema, doc).has_value());
        bad.mutate(doc);
        const auto result = registry.validate(bad.schema, doc);
        REQUIRE_FALSE(result.has_value());
        INFO(result.error().describe());
        CHECK(result.error().code == ErrorCode::schema);
        CHECK(result.error().field == bad.pointer);
        CHECK_FALSE(result.error().message.empty());
    }
}

TEST_CASE("the C++ record readers refuse the bad record documents too", "[schema][domain]") {
    for (const auto& bad : bad_documents()) {
        const std::string_view schema = bad.schema;
        json doc = sample_for(schema);
        bad.mutate(doc);
        INFO(bad.name);
        bool refused = true;
        if (schema == "records/patient") refused = !from_json_checked<Patient>(doc);
        if (schema == "records/message") refused = !from_json_checked<Message>(doc);
        if (schema == "records/conversation") refused = !from_json_checked<Conversation>(doc);
        if (schema == "records/audit_event") refused = !from_json_checked<AuditEvent>(doc);
        if (schema == "records/risk_assessment") refused = !from_json_checked<RiskAssessment>(doc);
        if (schema == "records/clinic") refused = !from_json_checked<Clinic>(doc);
        if (schema == "records/clinician") refused = !from_json_checked<Clinician>(doc);
        if (schema == "records/flag") refused = !from_json_checked<Flag>(doc);
        if (schema == "records/treatment_plan") refused = !from_json_checked<TreatmentPlan>(doc);
        if (schema == "records/assessment") refused = !from_json_checked<Assessment>(doc);
        CHECK(refused);
    }
}

TEST_CASE("an unknown schema name is not_found", "[schema]") {
    const auto result = SchemaRegistry::builtin().validate("records/nothing", json::object());
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().code == ErrorCode::not_found);
}

TEST_CASE("a pointer escapes / and ~ in property names", "[schema]") {
    auto registry = SchemaRegistry::from_documents(
        {{"t", R"({"type": "object", "additionalProperties": {"type": "integer"}})"}});
    REQUIRE(registry.has_value());
    const auto result = (*registry)->validate("t", json{{"a/b~c", "x"}});
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().field == "/a~1b~0c");
}

TEST_CASE("registries refuse documents that are not JSON or refer to missing files", "[schema]") {
    const auto not_json = SchemaRegistry::from_documents({{"broken", "{\"type\": "}});
    REQUIRE_FALSE(not_json.has_value());
    CHECK(not_json.error().code == ErrorCode::parse);
    CHECK(not_json.error().field == "broken");

    const auto dangling = SchemaRegistry::from_documents(
        {{"a", R"({"$ref": "https://tandem.invalid/schemas/missing.schema.json"})"}});
    REQUIRE_FALSE(dangling.has_value());
    CHECK(dangling.error().code == ErrorCode::schema);
    CHECK(dangling.error().field == "a");
}

TEST_CASE("$refs between documents given to from_documents resolve", "[schema]") {
    auto registry = SchemaRegistry::from_documents({
        {"defs", R"({"definitions": {"small": {"type": "integer", "maximum": 3}}})"},
        {"user", R"({"type": "object", "properties": {"n":
            {"$ref": "https://tandem.invalid/schemas/defs.schema.json#/definitions/small"}}})"},
    });
    REQUIRE(registry.has_value());
    CHECK((*registry)->validate("user", json{{"n", 2}}).has_value());
    const auto result = (*registry)->validate("user", json{{"n", 9}});
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().field == "/n");
}
