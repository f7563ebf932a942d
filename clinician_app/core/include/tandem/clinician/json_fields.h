#pragma once
// Reading optional fields of bridge JSON the way every view wants them: a missing, null or
// mistyped field reads as empty rather than throwing, because one odd event must not stop a
// clinician's screen from drawing the rest.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "tandem/clinician/time_text.h"

namespace tandem::clinician {

/// The string at `key`, or "" when absent, null or not a string. Any thread.
inline std::string str(const nlohmann::json& object, const char* key) {
    const auto it = object.find(key);
    if (it == object.end() || !it->is_string()) return {};
    return it->get<std::string>();
}

/// The UTC time at `key` ("2026-11-26T03:06:19.123Z"), or nullopt when absent or unparseable. Any thread.
inline std::optional<TimePoint> time_field(const nlohmann::json& object, const char* key) {
    const auto it = object.find(key);
    if (it == object.end() || !it->is_string()) return std::nullopt;
    return parse_utc(it->get_ref<const std::string&>());
}

}  // namespace tandem::clinician
