#include "tandem/crypto/hash.h"

#include <catch2/catch_test_macros.hpp>

#include <string>

using namespace tandem;

TEST_CASE("sha256 matches the FIPS 180-2 test vectors", "[crypto][hash]") {
    struct Case {
        const char* name;
        std::string input;
        const char* hex;
    };
    const Case cases[] = {
        {"empty string", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"two blocks", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"million a", std::string(1000000, 'a'),
         "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        CHECK(to_hex(sha256(c.input)) == c.hex);
    }
}

TEST_CASE("incremental sha256 equals one-shot over the concatenation and restarts after finish",
          "[crypto][hash]") {
    Sha256 h;
    h.update("ab").update("c");
    CHECK(to_hex(h.finish()) == to_hex(sha256("abc")));
    h.update("abc");
    CHECK(to_hex(h.finish()) == to_hex(sha256("abc")));
}

TEST_CASE("hex round-trips and rejects malformed text", "[crypto][hash]") {
    const std::vector<std::uint8_t> bytes{0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff};
    CHECK(to_hex(std::span<const std::uint8_t>(bytes)) == "00017f80feff");
    auto back = from_hex("00017F80FEff");
    REQUIRE(back.has_value());
    CHECK(*back == bytes);
    struct Bad {
        const char* name;
        const char* text;
    };
    for (const auto& bad : {Bad{"odd length", "abc"}, Bad{"non-hex letter", "0g"}, Bad{"space", "0 "}}) {
        INFO(bad.name);
        auto r = from_hex(bad.text);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == ErrorCode::parse);
    }
}
