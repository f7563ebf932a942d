// Envelope ids: new_frame_id is a per-process random prefix plus a counter, so it must still be
// unique across threads and valid wherever an id is checked (is_valid_id, the wire schemas).
// Envelope times: utc_now_text keeps the text up to the second per thread.
#include <catch2/catch_test_macros.hpp>

#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/bridge/wire.h"
#include "tandem/domain/id.h"
#include "tandem/domain/time.h"
#include "tandem/schema/schema_registry.h"

using namespace tandem;
using namespace tandem::bridge;

TEST_CASE("frame ids are UUIDv4-shaped, valid ids and unique across threads", "[bridge][wire]") {
    constexpr int kPerThread = 20000;
    std::vector<std::string> a, b;
    a.reserve(kPerThread);
    b.reserve(kPerThread);
    std::thread t([&] {
        for (int i = 0; i < kPerThread; ++i) b.push_back(new_frame_id());
    });
    for (int i = 0; i < kPerThread; ++i) a.push_back(new_frame_id());
    t.join();
    std::set<std::string> all(a.begin(), a.end());
    all.insert(b.begin(), b.end());
    CHECK(all.size() == 2 * kPerThread);
    const std::regex uuid4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
    for (const auto& id : {a.front(), a.back(), b.front(), b.back()}) {
        CHECK(std::regex_match(id, uuid4));
        CHECK(is_valid_id(id));
    }
    const auto frame = nlohmann::json::parse(make_frame("pong", nlohmann::json::object()));
    CHECK(SchemaRegistry::builtin().validate("wire/envelope", frame).has_value());
    CHECK(all.count(new_id()) == 0);  // stored ids still come from the CSPRNG
}

TEST_CASE("the bridge's current time text is format_timestamp's form of now, to the millisecond", "[bridge][wire]") {
    // Calls across several seconds' boundaries would be slow to wait for; consecutive calls and a
    // round trip through parse_timestamp check the kept second and the written milliseconds.
    Timestamp previous{};
    for (int i = 0; i < 2000; ++i) {
        const Timestamp low = now_utc();
        const std::string text = utc_now_text();
        const Timestamp high = now_utc();
        const auto parsed = parse_timestamp(text);
        REQUIRE(parsed);
        CHECK(format_timestamp(*parsed) == text);
        CHECK(*parsed >= low);
        CHECK(*parsed <= high);
        CHECK(*parsed >= previous);
        previous = *parsed;
    }
}
