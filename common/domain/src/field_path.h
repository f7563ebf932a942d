#pragma once
// Private to tandem_domain: field paths ("goals[2].target_date") and the internal exception
// that carries the first problem found up to the public Result-returning boundary.

#include <cstddef>
#include <string>
#include <string_view>

#include "tandem/domain/error.h"

namespace tandem::detail {

/// Thrown only inside tandem_domain and always caught at its public functions. Threading a
/// Result through each of the ~150 field reads and checks was the rejected alternative: it
/// tripled the code without changing what callers see.
struct FieldProblem {
    ErrorCode code;
    std::string message;
    std::string field;
};

inline std::string join(std::string_view base, std::string_view key) {
    if (base.empty()) return std::string(key);
    std::string out(base);
    out += '.';
    out += key;
    return out;
}

inline std::string join(std::string_view base, std::size_t index) {
    std::string out(base);
    out += '[';
    out += std::to_string(index);
    out += ']';
    return out;
}

[[noreturn]] inline void problem(ErrorCode code, std::string field, std::string message) {
    throw FieldProblem{code, std::move(message), std::move(field)};
}

}  // namespace tandem::detail
