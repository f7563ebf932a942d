#include "tandem/domain/error.h"

namespace tandem {

std::string_view to_string(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::invalid_argument: return "invalid_argument";
        case ErrorCode::parse: return "parse";
        case ErrorCode::schema: return "schema";
        case ErrorCode::not_found: return "not_found";
        case ErrorCode::permission_denied: return "permission_denied";
        case ErrorCode::conflict: return "conflict";
        case ErrorCode::wrong_key: return "wrong_key";
        case ErrorCode::not_a_database: return "not_a_database";
        case ErrorCode::too_new: return "too_new";
        case ErrorCode::storage: return "storage";
        case ErrorCode::io: return "io";
        case ErrorCode::network: return "network";
        case ErrorCode::timeout: return "timeout";
        case ErrorCode::unavailable: return "unavailable";
        case ErrorCode::internal: return "internal";
        case ErrorCode::too_large: return "too_large";
    }
    return "internal";
}

std::string Error::describe() const {
    return field.empty() ? message : field + ": " + message;
}

}  // namespace tandem
