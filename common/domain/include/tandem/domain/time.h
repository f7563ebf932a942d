#pragma once
// UTC instants with millisecond precision, written "2026-11-26T03:06:19.123Z" everywhere
// (JSON, logs, the store). Calendar dates (plan goal target dates) are written "2026-12-31".

#include <chrono>
#include <string>
#include <string_view>

#include "tandem/domain/error.h"

namespace tandem {

using Timestamp = std::chrono::sys_time<std::chrono::milliseconds>;
using Date = std::chrono::year_month_day;

/// The system clock now, truncated to milliseconds. Any thread.
Timestamp now_utc();

/// "YYYY-MM-DDTHH:MM:SS.mmmZ"; years outside 0000..9999 are a broken invariant (throws
/// std::out_of_range). Any thread.
std::string format_timestamp(Timestamp t);

/// Parses exactly the format_timestamp form; any other offset, missing milliseconds, or an
/// impossible date or time gives ErrorCode::parse. Any thread.
Result<Timestamp> parse_timestamp(std::string_view text);

/// "YYYY-MM-DD"; throws std::out_of_range for an invalid date or a year outside 0000..9999.
std::string format_date(Date d);

/// Parses "YYYY-MM-DD" of a real calendar date; otherwise ErrorCode::parse. Any thread.
Result<Date> parse_date(std::string_view text);

}  // namespace tandem
