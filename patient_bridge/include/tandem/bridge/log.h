#pragma once
// Structured logs: one JSON object per line on stderr, for journald and log shippers.
// Callers pass ids, counts and codes; message text and key material are never fields
// (issue 4: no message text below debug, and we choose not to log it at all).

#include <string_view>

#include <nlohmann/json.hpp>

namespace tandem::bridge {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };

/// Sets the lowest level written; "debug" | "info" | "warn" | "error", others ignored. Any thread.
void set_log_level(std::string_view level) noexcept;

/// True when `level` would be written. Any thread.
bool log_enabled(LogLevel level) noexcept;

/// Writes {"time", "level", "event", ...fields} as one line; never throws. Any thread.
void log_event(LogLevel level, std::string_view event, const nlohmann::json& fields = nlohmann::json::object()) noexcept;

}  // namespace tandem::bridge
