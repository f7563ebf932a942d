#include "tandem/clinician/outcome_text.h"

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace tandem::clinician {
namespace {

constexpr std::array<const char*, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::chrono::year_month_day day_of(TimePoint t) {
    return std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(t)};
}

}  // namespace

std::string date_text(TimePoint t) {
    const auto d = day_of(t);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                  static_cast<unsigned>(d.day()));
    return buf;
}

std::string short_date_text(TimePoint t, bool month_only) {
    const auto d = day_of(t);
    const char* month = kMonths[(static_cast<unsigned>(d.month()) + 11) % 12];
    char buf[24];
    if (month_only) std::snprintf(buf, sizeof buf, "%s %04d", month, static_cast<int>(d.year()));
    else std::snprintf(buf, sizeof buf, "%u %s", static_cast<unsigned>(d.day()), month);
    return buf;
}

std::string signed_number(int value) {
    if (value > 0) return "+" + std::to_string(value);
    // U+2212 MINUS SIGN: a hyphen reads as a dash next to the arrow in the headline.
    if (value < 0) return "\u2212" + std::to_string(-value);
    return "0";
}

std::string signed_percent(double percent) {
    return signed_number(static_cast<int>(std::lround(percent))) + "%";
}

std::string format_number(double value) {
    char buf[32];
    if (std::abs(value - std::round(value)) < 1e-9) std::snprintf(buf, sizeof buf, "%.0f", value);
    else std::snprintf(buf, sizeof buf, "%.1f", value);
    return buf;
}

std::string rate_text(int count, int of) {
    if (of <= 0) return "\u2014";
    const auto pct = std::lround(100.0 * count / of);
    return std::to_string(pct) + "% (" + std::to_string(count) + " of " + std::to_string(of) + ")";
}

}  // namespace tandem::clinician
