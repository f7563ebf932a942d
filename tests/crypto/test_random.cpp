#include "tandem/crypto/random.h"

#include <catch2/catch_test_macros.hpp>

#include <set>

using namespace tandem;

TEST_CASE("random bytes have the requested length and differ between calls", "[crypto][random]") {
    CHECK(random_bytes(0).empty());
    const auto a = random_bytes(32);
    const auto b = random_bytes(32);
    CHECK(a.size() == 32);
    CHECK(a != b);
    CHECK(random_secret(32).size() == 32);
}

TEST_CASE("random tokens use only URL-safe characters and the expected length", "[crypto][random]") {
    struct Case {
        std::size_t n_bytes;
        std::size_t base64_length;
    };
    for (auto c : {Case{1, 2}, Case{2, 3}, Case{3, 4}, Case{16, 22}, Case{32, 43}}) {
        INFO("n_bytes = " << c.n_bytes);
        const auto t = random_token(c.n_bytes);
        CHECK(t.size() == c.base64_length);
        CHECK(t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
              std::string::npos);
        const auto h = random_token(c.n_bytes, TokenEncoding::hex);
        CHECK(h.size() == 2 * c.n_bytes);
        CHECK(h.find_first_not_of("0123456789abcdef") == std::string::npos);
    }
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) seen.insert(random_token(16));
    CHECK(seen.size() == 100);
}
