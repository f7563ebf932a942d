// Frame helpers shared by the clinician endpoint's two source files (clinician_service.cpp:
// sessions and the feed; clinician_actions.cpp: transcripts and actions). Private to the bridge.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tandem/bridge/wire.h"

namespace tandem::bridge::clinician_frames {

/// An `error` frame; errors on this endpoint carry both `ref` (as on /patient) and `request_id`
/// (docs/PROTOCOL.md). Any thread.
inline std::string error_frame(std::string_view code, std::string_view message, const std::string& ref,
                               std::string_view field = {}) {
    nlohmann::json p = {{"code", code}, {"message", message}};
    if (!ref.empty()) {
        p["ref"] = ref;
        p["request_id"] = ref;
    }
    if (!field.empty()) p["field"] = field;
    return make_frame("error", std::move(p));
}

/// The string field `name` of `p` when present and at most `max_bytes` long; any thread.
inline std::optional<std::string> string_field(const nlohmann::json& p, const char* name, std::size_t max_bytes) {
    const auto it = p.find(name);
    if (it == p.end() || !it->is_string()) return std::nullopt;
    auto s = it->get<std::string>();
    if (s.size() > max_bytes) return std::nullopt;
    return s;
}

}  // namespace tandem::bridge::clinician_frames
