#include <random>
#include <string>

#include <catch2/catch_test_macros.hpp>

#include "tandem/protocol/envelope.h"

using namespace tandem;
using nlohmann::json;

namespace {

const char* kValid =
    R"({"type":"patient_message","id":"c-0001","time":"2026-11-26T03:06:19.123Z",)"
    R"("payload":{"text":"hello","client_msg_id":"c-0001"}})";

}  // namespace

TEST_CASE("an envelope survives serialize and parse unchanged", "[protocol]") {
    Envelope e = make_envelope("event", json{{"text", "caf\xc3\xa9"}, {"n", 3}});
    e.seq = 42;
    const auto back = parse_envelope(serialize(e));
    REQUIRE(back.has_value());
    CHECK(*back == e);

    e.seq.reset();
    const std::string text = serialize(e);
    CHECK(text.find("\"seq\"") == std::string::npos);
    const auto again = parse_envelope(text);
    REQUIRE(again.has_value());
    CHECK(*again == e);
}

TEST_CASE("a client envelope is read field by field", "[protocol]") {
    const auto e = parse_envelope(kValid);
    REQUIRE(e.has_value());
    CHECK(e->type == "patient_message");
    CHECK(e->id == "c-0001");
    CHECK(format_timestamp(e->time) == "2026-11-26T03:06:19.123Z");
    CHECK(e->payload.at("text") == "hello");
    CHECK_FALSE(e->seq.has_value());
}

TEST_CASE("malformed envelopes are refused with a typed error and the field's pointer", "[protocol]") {
    struct Case {
        const char* name;
        std::string text;
        ErrorCode code;
        const char* field;
    };
    const Case cases[] = {
        {"empty text", "", ErrorCode::parse, ""},
        {"truncated JSON", R"({"type":"ack","id":"a1")", ErrorCode::parse, ""},
        {"invalid UTF-8", "{\"type\":\"ack\",\"id\":\"a1\",\"time\":\"2026-11-26T03:06:19.123Z\",\"payload\":{\"t\":\"\xff\"}}", ErrorCode::parse, ""},
        {"not an object", R"(["ack"])", ErrorCode::schema, ""},
        {"missing type", R"({"id":"a1","time":"2026-11-26T03:06:19.123Z","payload":{}})", ErrorCode::schema, "/type"},
        {"missing payload", R"({"type":"ack","id":"a1","time":"2026-11-26T03:06:19.123Z"})", ErrorCode::schema, "/payload"},
        {"payload not an object", R"({"type":"ack","id":"a1","time":"2026-11-26T03:06:19.123Z","payload":[]})", ErrorCode::schema, "/payload"},
        {"type not snake_case", R"({"type":"Ack","id":"a1","time":"2026-11-26T03:06:19.123Z","payload":{}})", ErrorCode::schema, "/type"},
        {"id with a space", R"({"type":"ack","id":"a 1","time":"2026-11-26T03:06:19.123Z","payload":{}})", ErrorCode::schema, "/id"},
        {"time with an offset", R"({"type":"ack","id":"a1","time":"2026-11-26T03:06:19.123+02:00","payload":{}})", ErrorCode::schema, "/time"},
        {"time on February 30", R"({"type":"ack","id":"a1","time":"2026-02-30T03:06:19.123Z","payload":{}})", ErrorCode::schema, "/time"},
        {"seq of zero", R"({"type":"ack","id":"a1","time":"2026-11-26T03:06:19.123Z","payload":{},"seq":0})", ErrorCode::schema, "/seq"},
        {"seq as text", R"({"type":"ack","id":"a1","time":"2026-11-26T03:06:19.123Z","payload":{},"seq":"1"})", ErrorCode::schema, "/seq"},
        {"unknown field", R"({"type":"ack","id":"a1","time":"2026-11-26T03:06:19.123Z","payload":{},"token":"x"})", ErrorCode::schema, "/token"},
        {"over 64 KiB", std::string(R"({"type":"ack","id":"a1","time":"2026-11-26T03:06:19.123Z","payload":{"t":")") + std::string(70000, 'x') + "\"}}", ErrorCode::too_large, ""},
        {"nested 40 deep", std::string(R"({"type":"ack","id":"a1","time":"2026-11-26T03:06:19.123Z","payload":{"t":)") + std::string(40, '[') + std::string(40, ']') + "}}", ErrorCode::too_large, ""},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const auto e = parse_envelope(c.text);
        REQUIRE_FALSE(e.has_value());
        INFO(e.error().describe());
        CHECK(e.error().code == c.code);
        CHECK(e.error().field == c.field);
    }
}

TEST_CASE("the size limit is configurable and counts bytes", "[protocol]") {
    const std::string text = kValid;
    CHECK(parse_envelope(text, EnvelopeLimits{text.size(), 32}).has_value());
    const auto over = parse_envelope(text, EnvelopeLimits{text.size() - 1, 32});
    REQUIRE_FALSE(over.has_value());
    CHECK(over.error().code == ErrorCode::too_large);
}

TEST_CASE("brackets inside strings do not count as nesting", "[protocol]") {
    const std::string text = std::string(R"({"type":"ack","id":"a1","time":"2026-11-26T03:06:19.123Z","payload":{"t":")") +
                             std::string(100, '[') + "\\\"" + std::string(100, '{') + "\"}}";
    CHECK(parse_envelope(text).has_value());
}

TEST_CASE("mutated envelopes never crash the parser", "[protocol][fuzz]") {
    // A cheap, deterministic stand-in for a fuzzer (g++ has no libFuzzer): byte flips,
    // truncations and insertions of JSON punctuation around a valid envelope.
    std::mt19937 rng(20261126);
    const std::string base = kValid;
    const std::string punctuation = "{}[]\",:\\0-e.tfn \x80\xff";
    int accepted = 0;
    for (int i = 0; i < 3000; ++i) {
        std::string text = base;
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < edits && !text.empty(); ++k) {
            const std::size_t pos = rng() % text.size();
            switch (rng() % 3) {
                case 0: text[pos] = punctuation[rng() % punctuation.size()]; break;
                case 1: text.erase(pos, 1 + rng() % 8); break;
                default: text.insert(pos, 1, punctuation[rng() % punctuation.size()]); break;
            }
        }
        const auto e = parse_envelope(text);
        if (e) {
            ++accepted;
            CHECK(parse_envelope(serialize(*e)) == e);
        } else {
            CHECK_FALSE(e.error().message.empty());
        }
    }
    CHECK(accepted < 3000);
}
