#pragma once
// A JSON Schema embedded in the binary, parsed for valijson (the rule files' schema and the
// learned model header's).

#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>

namespace tandem::embedded {

struct ParsedSchema {
    valijson::Schema schema;
    bool ok = false;
    std::string error;  ///< why it did not parse, when !ok
};

/// Parses a draft-07 schema; never throws (a broken schema is `ok == false` with the reason).
/// Returned by pointer because valijson::Schema can be neither copied nor moved; callers keep
/// one in a function-local static, since a populated schema is immutable and safe to share.
inline std::unique_ptr<ParsedSchema> parse_schema(std::string_view text) {
    auto s = std::make_unique<ParsedSchema>();
    try {
        const auto doc = nlohmann::json::parse(text);
        valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
        valijson::adapters::NlohmannJsonAdapter adapter(doc);
        parser.populateSchema(adapter, s->schema);
        s->ok = true;
    } catch (const std::exception& e) {
        s->error = e.what();
    }
    return s;
}

}  // namespace tandem::embedded
