#include <chrono>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch_test_macros.hpp>

#include "tandem/domain/id.h"
#include "tandem/domain/time.h"

using namespace tandem;

TEST_CASE("ids accept 1 to 64 characters from [A-Za-z0-9_.-] and nothing else", "[domain][id]") {
    struct Case {
        const char* name;
        std::string text;
        bool valid;
    };
    const Case cases[] = {
        {"short", "a", true},
        {"uuid", "0f8fad5b-d9cb-469f-a165-70867728950e", true},
        {"dots and underscores", "pat_7.v2", true},
        {"64 characters", std::string(64, 'x'), true},
        {"empty", "", false},
        {"65 characters", std::string(65, 'x'), false},
        {"space", "pat 7", false},
        {"slash", "a/b", false},
        {"non-ASCII", "p\xc3\xa9", false},
        {"NUL byte", std::string("a\0b", 3), false},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        CHECK(is_valid_id(c.text) == c.valid);
        CHECK(PatientId::parse(c.text).has_value() == c.valid);
    }
}

TEST_CASE("new ids are distinct lowercase UUIDv4 text", "[domain][id]") {
    std::set<std::string> seen;
    for (int i = 0; i < 200; ++i) {
        const auto id = MessageId::new_id();
        const std::string& s = id.str();
        REQUIRE(s.size() == 36);
        CHECK(s[8] == '-');
        CHECK(s[13] == '-');
        CHECK(s[14] == '4');
        CHECK((s[19] == '8' || s[19] == '9' || s[19] == 'a' || s[19] == 'b'));
        CHECK(s.find_first_not_of("0123456789abcdef-") == std::string::npos);
        seen.insert(s);
    }
    CHECK(seen.size() == 200);
}

TEST_CASE("time-ordered ids are valid UUIDv7 text, unique across threads", "[domain][id]") {
    constexpr int threads = 4;
    constexpr int per_thread = 5000;
    std::vector<std::vector<std::string>> made(threads);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
        workers.emplace_back([&made, t] {
            made[static_cast<std::size_t>(t)].reserve(per_thread);
            for (int i = 0; i < per_thread; ++i) made[static_cast<std::size_t>(t)].push_back(new_uuid_v7());
        });
    for (auto& w : workers) w.join();
    std::set<std::string> all;
    const std::regex v7("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
    for (const auto& ids : made)
        for (const auto& id : ids) {
            all.insert(id);
            CHECK(is_valid_id(id));
        }
    CHECK(all.size() == static_cast<std::size_t>(threads * per_thread));
    for (const auto& ids : made) {
        INFO(ids.front());
        CHECK(std::regex_match(ids.front(), v7));
        CHECK(std::regex_match(ids.back(), v7));
    }
}

TEST_CASE("time-ordered ids made later sort later and carry their Unix milliseconds", "[domain][id]") {
    struct Case {
        const char* name;
        std::chrono::milliseconds gap;
    };
    const Case cases[] = {{"2 ms apart", std::chrono::milliseconds(2)},
                          {"20 ms apart", std::chrono::milliseconds(20)},
                          {"no gap, one thread", std::chrono::milliseconds(0)}};
    for (const auto& c : cases) {
        INFO(c.name);
        const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
        const std::string first = new_uuid_v7();
        std::this_thread::sleep_for(c.gap);
        std::this_thread::sleep_for(std::chrono::microseconds(1));  // past the 244 ns fraction tick
        const std::string second = new_uuid_v7();
        // The time is the first 60 bits: 48 of milliseconds, the version nibble, 12 of fraction.
        CHECK(first.substr(0, 18) < second.substr(0, 18));
        const std::string ms_hex = first.substr(0, 8) + first.substr(9, 4);
        const auto ms = static_cast<long long>(std::stoull(ms_hex, nullptr, 16));
        CHECK(ms >= before);
        CHECK(ms <= before + 1000);
    }
}

TEST_CASE("random UUIDv4 ids stay distinct across threads", "[domain][id]") {
    std::vector<std::string> a, b;
    std::thread t([&] {
        for (int i = 0; i < 5000; ++i) b.push_back(new_uuid_v4());
    });
    for (int i = 0; i < 5000; ++i) a.push_back(new_uuid_v4());
    t.join();
    std::set<std::string> all(a.begin(), a.end());
    all.insert(b.begin(), b.end());
    CHECK(all.size() == 10000);
}

TEST_CASE("a default id is empty and a bad literal id throws", "[domain][id]") {
    CHECK(FlagId{}.empty());
    CHECK_THROWS_AS(FlagId("no spaces allowed"), std::invalid_argument);
}

TEST_CASE("timestamps round-trip through their millisecond UTC text", "[domain][time]") {
    const char* texts[] = {"2026-11-26T03:06:19.123Z", "1970-01-01T00:00:00.000Z",
                           "2024-02-29T23:59:59.999Z", "9999-12-31T23:59:59.999Z"};
    for (const char* text : texts) {
        INFO(text);
        const auto t = parse_timestamp(text);
        REQUIRE(t.has_value());
        CHECK(format_timestamp(*t) == text);
    }
    const auto now = now_utc();
    CHECK(parse_timestamp(format_timestamp(now)) == now);
}

TEST_CASE("timestamps in any other form are refused", "[domain][time]") {
    struct Case {
        const char* name;
        const char* text;
    };
    const Case cases[] = {
        {"offset instead of Z", "2026-11-26T03:06:19.123+01:00"},
        {"zero offset spelled out", "2026-11-26T03:06:19.123+00:00"},
        {"no milliseconds", "2026-11-26T03:06:19Z"},
        {"microseconds", "2026-11-26T03:06:19.123456Z"},
        {"lowercase z", "2026-11-26T03:06:19.123z"},
        {"space separator", "2026-11-26 03:06:19.123Z"},
        {"February 30", "2026-02-30T03:06:19.123Z"},
        {"not a leap year", "2025-02-29T00:00:00.000Z"},
        {"hour 24", "2026-11-26T24:00:00.000Z"},
        {"leap second", "2026-12-31T23:59:60.000Z"},
        {"month 13", "2026-13-01T00:00:00.000Z"},
        {"letters in digits", "2026-1a-26T03:06:19.123Z"},
        {"empty", ""},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const auto t = parse_timestamp(c.text);
        REQUIRE_FALSE(t.has_value());
        CHECK(t.error().code == ErrorCode::parse);
    }
}

TEST_CASE("dates parse only real calendar days", "[domain][time]") {
    const auto d = parse_date("2026-12-31");
    REQUIRE(d.has_value());
    CHECK(format_date(*d) == "2026-12-31");
    CHECK_FALSE(parse_date("2026-04-31").has_value());
    CHECK_FALSE(parse_date("2026-4-3").has_value());
    CHECK_FALSE(parse_date("2026-12-31T00:00:00.000Z").has_value());
}
