#pragma once
// Expected failures as values: every fallible Tandem call returns Result<T>.

#include <expected>
#include <string>
#include <string_view>

namespace tandem {

enum class ErrorCode {
    invalid_argument,   ///< a value broke a rule; Error::field names it
    parse,              ///< text was not well-formed (JSON, a rule file, a config file)
    schema,             ///< a document did not match its JSON Schema; field holds the JSON pointer
    not_found,
    permission_denied,
    conflict,           ///< a duplicate or a stale version
    wrong_key,          ///< the store's key does not open the file
    not_a_database,     ///< the file is not a Tandem store at all
    too_new,            ///< the data was written by newer code than this
    storage,            ///< SQLite/SQLCipher failed; message keeps the extended code
    io,
    network,
    timeout,
    unavailable,        ///< a dependency (LLM, bridge) is down
    internal,
    too_large,          ///< input over a configured size or nesting limit; refused unread
};

/// Names an ErrorCode in snake_case, as it appears on the wire ("wrong_key"). Any thread.
std::string_view to_string(ErrorCode code) noexcept;

struct Error {
    ErrorCode code = ErrorCode::internal;
    std::string message;  ///< human-readable, never contains message text or key material
    std::string field;    ///< the offending field or JSON pointer, empty when none applies

    /// "field: message" or just "message". Any thread.
    std::string describe() const;

    bool operator==(const Error&) const = default;
};

template <class T>
using Result = std::expected<T, Error>;

/// Shorthand for returning a failure: `return fail(ErrorCode::parse, "bad line");`
inline std::unexpected<Error> fail(ErrorCode code, std::string message, std::string field = {}) {
    return std::unexpected<Error>(Error{code, std::move(message), std::move(field)});
}

}  // namespace tandem
