#pragma once
// JSON Schema (draft-07) validation at Tandem's boundaries. The schema files of schemas/ are
// compiled into the library, so no binary needs a data path at run time.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/domain/error.h"

namespace tandem {

/// The base of every schema's "$id"; a schema named "records/message" has the id
/// "https://tandem.invalid/schemas/records/message.schema.json", and $refs between files use
/// these absolute ids (the .invalid domain never resolves: nothing is fetched from a network).
inline constexpr std::string_view kSchemaBaseUri = "https://tandem.invalid/schemas/";

/// A set of compiled schemas, addressed by name ("records/message", "wire/envelope").
/// Immutable once built; validate() may be called from any number of threads at once.
class SchemaRegistry {
public:
    /// The schemas embedded from schemas/ at build time, compiled on first use (thread-safe).
    /// A broken embedded schema is a build defect and throws std::logic_error.
    static const SchemaRegistry& builtin();

    /// Compiles documents given as name -> JSON text (tests, tools). ErrorCode::parse names a
    /// document that is not JSON; ErrorCode::schema one that is not a usable schema or has a
    /// $ref to a document not in the set.
    static Result<std::unique_ptr<SchemaRegistry>> from_documents(
        const std::map<std::string, std::string>& documents);

    ~SchemaRegistry();
    SchemaRegistry(const SchemaRegistry&) = delete;
    SchemaRegistry& operator=(const SchemaRegistry&) = delete;

    /// Checks document against the named schema. ErrorCode::not_found for an unknown name;
    /// ErrorCode::schema on a mismatch, with Error::field the JSON pointer of the deepest
    /// failure ("/goals/2/target_date"; a missing property's pointer names the property) and
    /// Error::message the reason. Any thread.
    Result<void> validate(std::string_view name, const nlohmann::json& document) const;

    /// True when a schema of that name exists. Any thread.
    bool contains(std::string_view name) const;

    /// Every schema name, sorted. Any thread.
    std::vector<std::string> names() const;

    /// The schema document itself (for tools that print or export it); nullptr if unknown.
    const nlohmann::json* document(std::string_view name) const;

private:
    struct Impl;
    explicit SchemaRegistry(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace tandem
