#include "tandem/domain/time.h"

#include <cstdio>
#include <optional>
#include <stdexcept>

namespace tandem {
namespace {

// Reads `count` ASCII digits at text[pos]; -1 when any is not a digit.
int digits(std::string_view text, std::size_t pos, std::size_t count) {
    int value = 0;
    for (std::size_t i = pos; i < pos + count; ++i) {
        const char c = text[i];
        if (c < '0' || c > '9') return -1;
        value = value * 10 + (c - '0');
    }
    return value;
}

// Parses "YYYY-MM-DD" at the start of text (which holds at least 10 characters).
std::optional<Date> date_prefix(std::string_view text) {
    if (text[4] != '-' || text[7] != '-') return std::nullopt;
    const int y = digits(text, 0, 4);
    const int m = digits(text, 5, 2);
    const int d = digits(text, 8, 2);
    if (y < 0 || m < 0 || d < 0) return std::nullopt;
    const Date date{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(m)},
                    std::chrono::day{static_cast<unsigned>(d)}};
    if (!date.ok()) return std::nullopt;
    return date;
}

}  // namespace

Timestamp now_utc() {
    return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

std::string format_timestamp(Timestamp t) {
    using namespace std::chrono;
    const auto day = floor<days>(t);
    const Date date{day};
    const hh_mm_ss<milliseconds> tod{t - day};
    const int year = static_cast<int>(date.year());
    if (year < 0 || year > 9999) throw std::out_of_range("timestamp year outside 0000..9999");
    // std::format is missing from g++ 12's library, so snprintf with fixed widths.
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02lldZ", year,
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                  static_cast<int>(tod.hours().count()), static_cast<int>(tod.minutes().count()),
                  static_cast<long long>(tod.seconds().count()));
    std::string out(buf);
    char ms[8];
    std::snprintf(ms, sizeof ms, ".%03lld", static_cast<long long>(tod.subseconds().count()));
    out.insert(out.size() - 1, ms);
    return out;
}

Result<Timestamp> parse_timestamp(std::string_view text) {
    using namespace std::chrono;
    constexpr std::string_view kExpected = "must be UTC time like 2026-11-26T03:06:19.123Z";
    if (text.size() != 24 || text[10] != 'T' || text[13] != ':' || text[16] != ':' ||
        text[19] != '.' || text[23] != 'Z') {
        return fail(ErrorCode::parse, std::string(kExpected));
    }
    const auto date = date_prefix(text);
    const int hh = digits(text, 11, 2);
    const int mm = digits(text, 14, 2);
    const int ss = digits(text, 17, 2);
    const int ms = digits(text, 20, 3);
    // Leap seconds (:60) are refused: sys_time cannot represent them and clients never send them.
    if (!date || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59 || ms < 0) {
        return fail(ErrorCode::parse, std::string(kExpected));
    }
    return Timestamp{sys_days{*date}} + hours{hh} + minutes{mm} + seconds{ss} + milliseconds{ms};
}

std::string format_date(Date d) {
    const int year = static_cast<int>(d.year());
    if (!d.ok() || year < 0 || year > 9999) throw std::out_of_range("invalid date");
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", year, static_cast<unsigned>(d.month()),
                  static_cast<unsigned>(d.day()));
    return buf;
}

Result<Date> parse_date(std::string_view text) {
    if (text.size() == 10) {
        if (auto date = date_prefix(text)) return *date;
    }
    return fail(ErrorCode::parse, "must be a calendar date like 2026-12-31");
}

}  // namespace tandem
