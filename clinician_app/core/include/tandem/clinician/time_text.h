#pragma once
// Times as the clinician sees them: parsed from the wire's UTC text, shown as countdowns and
// "3 min ago". Pure functions, so countdown rules are tested without a clock.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tandem::clinician {

using Clock = std::chrono::system_clock;
using TimePoint = std::chrono::time_point<Clock, std::chrono::milliseconds>;

/// Parses "2026-11-26T03:06:19.123Z" (milliseconds optional); nullopt for anything else. Any thread.
std::optional<TimePoint> parse_utc(std::string_view text) noexcept;
/// Writes "2026-11-26T03:06:19.123Z". Any thread.
std::string format_utc(TimePoint t);
/// "HH:MM" of the UTC time, for transcript lines. Any thread.
std::string format_clock(TimePoint t);
/// "just now", "4 min ago", "3 h ago", "2 d ago"; times in the future read "just now". Any thread.
std::string format_age(TimePoint then, TimePoint now);
/// A duration as "4:05" under an hour, "1 h 05 min" above; negative values use their magnitude. Any thread.
std::string format_duration(std::chrono::milliseconds d);
/// Current time truncated to milliseconds. Any thread.
TimePoint now_ms() noexcept;

}  // namespace tandem::clinician
