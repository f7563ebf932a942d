#include "tandem/store/event.h"

#include <catch2/catch_test_macros.hpp>

using namespace tandem;

namespace {

StoredEvent sample() {
    StoredEvent e;
    e.seq = 1;
    e.id = "ev-1";
    e.type = EventType::message_appended;
    e.time = "2026-11-26T03:06:19.123Z";
    e.patient_id = "p-1";
    e.actor = {ActorKind::patient, "p-1"};
    e.payload = {{"text", "hello"}, {"id", "m-1"}};
    e.prev_hash = std::string(genesis_hash);
    return e;
}

}  // namespace

TEST_CASE("canonical bytes are sorted keys without whitespace and without the hash", "[store][event]") {
    auto e = sample();
    e.hash = "ignored";
    CHECK(canonical_bytes(e) ==
          R"({"actor":{"id":"p-1","kind":"patient"},"id":"ev-1","patient_id":"p-1","payload":{"id":"m-1","text":"hello"},)"
          R"("prev_hash":"0000000000000000000000000000000000000000000000000000000000000000","seq":1,)"
          R"("time":"2026-11-26T03:06:19.123Z","type":"message_appended"})");
}

TEST_CASE("absent optional fields are omitted from canonical bytes, not written as null", "[store][event]") {
    auto e = sample();
    e.patient_id.reset();
    e.actor = {ActorKind::system, std::nullopt};
    const auto c = canonical_bytes(e);
    CHECK(c.find("patient_id") == std::string::npos);
    CHECK(c.find(R"("actor":{"kind":"system"})") != std::string::npos);
    CHECK(c.find("null") == std::string::npos);
}

TEST_CASE("event hash is SHA-256 of the prev_hash hex then the canonical bytes", "[store][event]") {
    const auto e = sample();
    const auto c = canonical_bytes(e);
    CHECK(event_hash(e.prev_hash, c) == to_hex(sha256(std::string(genesis_hash) + c)));
    CHECK(event_hash(e.prev_hash, c).size() == 64);
}

TEST_CASE("stored events round-trip through JSON", "[store][event]") {
    auto e = sample();
    e.hash = event_hash(e.prev_hash, canonical_bytes(e));
    auto back = stored_event_from_json(to_json(e));
    REQUIRE(back.has_value());
    CHECK(*back == e);
}

TEST_CASE("every event type name parses back to itself and unknown names are refused", "[store][event]") {
    for (int i = 0; i <= static_cast<int>(EventType::assessment_progress); ++i) {
        const auto t = static_cast<EventType>(i);
        REQUIRE(parse_event_type(to_string(t)) == t);
    }
    CHECK_FALSE(parse_event_type("message_deleted").has_value());
    auto bad = to_json(sample());
    bad["type"] = "message_deleted";
    auto r = stored_event_from_json(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().field == "type");
}

TEST_CASE("the fast canonical bytes equal nlohmann's dump of the event object", "[store][event]") {
    struct Case {
        const char* name;
        StoredEvent event;
    };
    auto escapes = sample();
    escapes.id = "ev-\"quoted\"\\";
    escapes.time = "2026-11-26T03:06:19.123Z";
    escapes.payload = {{"text", "line\nbreak\ttab \u00e9\u4e2d \xf0\x9f\x98\x80 \x01"}, {"n", 1.5}, {"neg", -3},
                       {"nested", {{"b", {1, 2}}, {"a", nullptr}}}, {"Z", true}};
    auto no_optionals = sample();
    no_optionals.patient_id.reset();
    no_optionals.actor = {ActorKind::ai, std::nullopt};
    no_optionals.seq = 9007199254740993;
    const Case cases[] = {{"plain", sample()}, {"escapes and unicode", escapes}, {"no optionals, big seq", no_optionals}};
    for (const auto& c : cases) {
        INFO(c.name);
        nlohmann::json j = to_json(c.event);
        j.erase("hash");
        CHECK(canonical_bytes(c.event) == j.dump());
        CHECK(canonical_bytes(c.event, c.event.payload.dump()) == j.dump());
    }
}
