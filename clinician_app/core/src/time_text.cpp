#include "tandem/clinician/time_text.h"

#include <charconv>
#include <cstdio>

namespace tandem::clinician {
namespace {

// Reads exactly `width` digits; std::from_chars alone would accept a shorter field.
bool read_digits(std::string_view text, std::size_t pos, std::size_t width, int& out) {
    if (pos + width > text.size()) return false;
    for (std::size_t i = pos; i < pos + width; ++i) {
        if (text[i] < '0' || text[i] > '9') return false;
    }
    auto [ptr, ec] = std::from_chars(text.data() + pos, text.data() + pos + width, out);
    return ec == std::errc{} && ptr == text.data() + pos + width;
}

}  // namespace

std::optional<TimePoint> parse_utc(std::string_view text) noexcept {
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
    if (text.size() < 20) return std::nullopt;
    if (!read_digits(text, 0, 4, year) || text[4] != '-' || !read_digits(text, 5, 2, month) ||
        text[7] != '-' || !read_digits(text, 8, 2, day) || text[10] != 'T' ||
        !read_digits(text, 11, 2, hour) || text[13] != ':' || !read_digits(text, 14, 2, minute) ||
        text[16] != ':' || !read_digits(text, 17, 2, second)) {
        return std::nullopt;
    }
    std::size_t pos = 19;
    if (text[pos] == '.') {
        if (!read_digits(text, pos + 1, 3, millis)) return std::nullopt;
        pos += 4;
    }
    if (pos + 1 != text.size() || text[pos] != 'Z') return std::nullopt;
    if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
    const std::chrono::year_month_day ymd{std::chrono::year{year},
                                          std::chrono::month{static_cast<unsigned>(month)},
                                          std::chrono::day{static_cast<unsigned>(day)}};
    if (!ymd.ok()) return std::nullopt;
    return TimePoint{std::chrono::sys_days{ymd}.time_since_epoch() + std::chrono::hours{hour} +
                     std::chrono::minutes{minute} + std::chrono::seconds{second} +
                     std::chrono::milliseconds{millis}};
}

std::string format_utc(TimePoint t) {
    const auto days = std::chrono::floor<std::chrono::days>(t);
    const std::chrono::year_month_day ymd{days};
    const std::chrono::hh_mm_ss hms{t - days};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
    return buf;
}

std::string format_clock(TimePoint t) {
    const auto days = std::chrono::floor<std::chrono::days>(t);
    const std::chrono::hh_mm_ss hms{t - days};
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02d:%02d", static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()));
    return buf;
}

std::string format_age(TimePoint then, TimePoint now) {
    using namespace std::chrono;
    const auto age = now - then;
    if (age < minutes{1}) return "just now";
    if (age < hours{1}) return std::to_string(duration_cast<minutes>(age).count()) + " min ago";
    if (age < days{1}) return std::to_string(duration_cast<hours>(age).count()) + " h ago";
    return std::to_string(duration_cast<days>(age).count()) + " d ago";
}

std::string format_duration(std::chrono::milliseconds d) {
    using namespace std::chrono;
    if (d < milliseconds{0}) d = -d;
    const auto total_seconds = duration_cast<seconds>(d).count();
    char buf[32];
    if (total_seconds < 3600) {
        std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(total_seconds / 60),
                      static_cast<long long>(total_seconds % 60));
    } else {
        std::snprintf(buf, sizeof buf, "%lld h %02lld min", static_cast<long long>(total_seconds / 3600),
                      static_cast<long long>((total_seconds % 3600) / 60));
    }
    return buf;
}

TimePoint now_ms() noexcept { return std::chrono::time_point_cast<std::chrono::milliseconds>(Clock::now()); }

}  // namespace tandem::clinician
