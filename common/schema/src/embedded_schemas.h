#pragma once
// Private to tandem_schema: the schema files compiled into the library (see embed_schemas.cmake).

#include <span>
#include <string_view>

namespace tandem::detail {

struct EmbeddedSchema {
    std::string_view name;  ///< path under schemas/ without ".schema.json": "records/message"
    std::string_view text;  ///< the file's JSON text
};

/// Every embedded schema, sorted by name. Any thread.
std::span<const EmbeddedSchema> embedded_schemas() noexcept;

}  // namespace tandem::detail
