#pragma once
// Small JSON helpers the FHIR mapping files share (fhir_resources.cpp, fhir_care.cpp,
// fhir_export.cpp). Not for use outside the FHIR export.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tandem/bridge/fhir_export.h"

namespace tandem::bridge::fhir::support {

/// system_base + path: one of Tandem's own identifier or code systems. Any thread.
inline std::string system_uri(std::string_view path) { return std::string(system_base) + std::string(path); }

/// An Identifier {system: <base>id/<kind>, value}. Any thread.
inline nlohmann::json identifier(std::string_view kind, std::string_view value) {
    return nlohmann::json{{"system", system_uri("id/") + std::string(kind)}, {"value", std::string(value)}};
}

/// j[key] when it is a string, else "" (records from the log may lack optional fields). Any thread.
inline std::string str(const nlohmann::json& j, const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

/// "moderately_severe" -> "moderately severe": band and category names read as words. Any thread.
inline std::string words(std::string s) {
    for (auto& c : s)
        if (c == '_') c = ' ';
    return s;
}

}  // namespace tandem::bridge::fhir::support
