#pragma once
// Dates and numbers as the outcome charts, tables and reports print them. Pure functions.

#include <string>

#include "tandem/clinician/time_text.h"

namespace tandem::clinician {

/// "2026-11-26" (UTC). Any thread.
std::string date_text(TimePoint t);
/// "26 Nov" (UTC), or "Nov 2026" when `month_only`. Any thread.
std::string short_date_text(TimePoint t, bool month_only = false);
/// "+12%", "−57%", "0%": rounded to a whole percent, with a real minus sign. Any thread.
std::string signed_percent(double percent);
/// "+3", "−8", "0". Any thread.
std::string signed_number(int value);
/// "10", "2.5": whole numbers without decimals, others with one. Any thread.
std::string format_number(double value);
/// A rate 0..1 with its counts: "50% (2 of 4)"; "—" when `of` is 0. Any thread.
std::string rate_text(int count, int of);

}  // namespace tandem::clinician
