// TOTP against RFC 6238 appendix B and RFC 4226 appendix D, base32 against RFC 4648 section 10,
// and the verifier's window and replay rules.
#include <catch2/catch_test_macros.hpp>

#include <string>
#include <vector>

#include "tandem/crypto/hash.h"
#include "tandem/crypto/totp.h"

using namespace tandem;

namespace {

struct Rfc6238Case {
    std::int64_t time;
    TotpHash hash;
    const char* code;
};

std::string key_for(TotpHash h) {
    // Appendix B's seeds: the ASCII digits repeated to 20, 32 and 64 bytes.
    const std::string digits = "1234567890";
    std::string k;
    const std::size_t n = h == TotpHash::sha1 ? 20 : h == TotpHash::sha256 ? 32 : 64;
    while (k.size() < n) k += digits;
    return k.substr(0, n);
}

}  // namespace

TEST_CASE("TOTP codes match every RFC 6238 appendix B vector", "[crypto][totp]") {
    const std::vector<Rfc6238Case> cases = {
        {59, TotpHash::sha1, "94287082"},          {59, TotpHash::sha256, "46119246"},
        {59, TotpHash::sha512, "90693936"},        {1111111109, TotpHash::sha1, "07081804"},
        {1111111109, TotpHash::sha256, "68084774"}, {1111111109, TotpHash::sha512, "25091201"},
        {1111111111, TotpHash::sha1, "14050471"},   {1111111111, TotpHash::sha256, "67062674"},
        {1111111111, TotpHash::sha512, "99943326"}, {1234567890, TotpHash::sha1, "89005924"},
        {1234567890, TotpHash::sha256, "91819424"}, {1234567890, TotpHash::sha512, "93441116"},
        {2000000000, TotpHash::sha1, "69279037"},   {2000000000, TotpHash::sha256, "90698825"},
        {2000000000, TotpHash::sha512, "38618901"}, {20000000000, TotpHash::sha1, "65353130"},
        {20000000000, TotpHash::sha256, "77737706"}, {20000000000, TotpHash::sha512, "47863826"},
    };
    for (const auto& c : cases) {
        TotpParams p;
        p.hash = c.hash;
        p.digits = 8;
        const std::string key = key_for(c.hash);
        INFO("time " << c.time << " hash " << static_cast<int>(c.hash));
        CHECK(totp_code(as_bytes(key), c.time, p) == c.code);
    }
}

TEST_CASE("HOTP six-digit codes match RFC 4226 appendix D", "[crypto][totp]") {
    const std::vector<std::string> expected = {"755224", "287082", "359152", "969429", "338314",
                                               "254676", "287922", "162583", "399871", "520489"};
    const std::string key = "12345678901234567890";
    for (std::uint64_t i = 0; i < expected.size(); ++i) {
        INFO("counter " << i);
        CHECK(hotp_code(as_bytes(key), i) == expected[i]);
    }
}

TEST_CASE("base32 round-trips and matches RFC 4648 section 10", "[crypto][totp]") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", ""}, {"f", "MY"}, {"fo", "MZXQ"}, {"foo", "MZXW6"}, {"foob", "MZXW6YQ"},
        {"fooba", "MZXW6YTB"}, {"foobar", "MZXW6YTBOI"},
    };
    for (const auto& [plain, encoded] : cases) {
        INFO(plain);
        CHECK(base32_encode(as_bytes(plain)) == encoded);
        auto back = base32_decode(encoded);
        REQUIRE(back);
        CHECK(std::string(reinterpret_cast<const char*>(back->bytes().data()), back->size()) == plain);
    }
    auto lower = base32_decode("mzxw6ytboi======");
    REQUIRE(lower);
    CHECK(lower->size() == 6);
    CHECK(base32_decode("MZXW6YTB1").error().code == ErrorCode::parse);  // '1' is not base32
    CHECK(!base32_decode("MZ"+std::string("Z")));                          // trailing bits set
}

TEST_CASE("TOTP verify accepts one step of skew either way and refuses replays", "[crypto][totp]") {
    const std::string key = "12345678901234567890";
    const std::int64_t now = 1'700'000'015;  // inside step 56666667
    const std::int64_t step = totp_step(now);
    const auto code_at = [&](std::int64_t s) { return hotp_code(as_bytes(key), static_cast<std::uint64_t>(s)); };

    CHECK(totp_verify(as_bytes(key), code_at(step), now) == step);
    CHECK(totp_verify(as_bytes(key), code_at(step - 1), now) == step - 1);
    CHECK(totp_verify(as_bytes(key), code_at(step + 1), now) == step + 1);
    CHECK_FALSE(totp_verify(as_bytes(key), code_at(step - 2), now));
    CHECK_FALSE(totp_verify(as_bytes(key), code_at(step + 2), now));
    // A code once used (its step recorded) is refused, and so is any earlier one.
    CHECK_FALSE(totp_verify(as_bytes(key), code_at(step), now, step));
    CHECK_FALSE(totp_verify(as_bytes(key), code_at(step - 1), now, step));
    CHECK(totp_verify(as_bytes(key), code_at(step + 1), now, step) == step + 1);
    // Malformed codes never match.
    for (const char* bad : {"", "12345", "1234567", "12345a", " 123456"}) {
        INFO(bad);
        CHECK_FALSE(totp_verify(as_bytes(key), bad, now));
    }
}

TEST_CASE("the otpauth URI names issuer, account and the code shape", "[crypto][totp]") {
    CHECK(totp_uri("Tandem Clinic", "tara", "JBSWY3DPEHPK3PXP") ==
          "otpauth://totp/Tandem%20Clinic:tara?secret=JBSWY3DPEHPK3PXP&issuer=Tandem%20Clinic&algorithm=SHA1"
          "&digits=6&period=30");
}
