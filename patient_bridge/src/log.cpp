#include "tandem/bridge/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "tandem/bridge/wire.h"

namespace tandem::bridge {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::info)};
std::mutex g_write_mutex;  // one line at a time, so lines from io threads never interleave

const char* name(LogLevel level) {
    switch (level) {
        case LogLevel::debug: return "debug";
        case LogLevel::info: return "info";
        case LogLevel::warn: return "warn";
        case LogLevel::error: return "error";
    }
    return "info";
}
}  // namespace

void set_log_level(std::string_view level) noexcept {
    if (level == "debug") g_level = 0;
    else if (level == "info") g_level = 1;
    else if (level == "warn") g_level = 2;
    else if (level == "error") g_level = 3;
}

bool log_enabled(LogLevel level) noexcept { return static_cast<int>(level) >= g_level.load(); }

void log_event(LogLevel level, std::string_view event, const nlohmann::json& fields) noexcept {
    if (!log_enabled(level)) return;
    try {
        nlohmann::json line = {{"time", utc_now_text()}, {"level", name(level)}, {"event", event}};
        if (fields.is_object())
            for (const auto& [k, v] : fields.items()) line[k] = v;
        const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        const std::lock_guard lock(g_write_mutex);
        std::fwrite(text.data(), 1, text.size(), stderr);
        std::fflush(stderr);
    } catch (...) {
        // Logging must never take the bridge down; a lost log line is the lesser harm.
    }
}

}  // namespace tandem::bridge
