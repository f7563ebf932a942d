#include "tandem/crypto/secret_buffer.h"

#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <type_traits>

using namespace tandem;

TEST_CASE("secret buffer is move-only", "[crypto][secret]") {
    STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<SecretBuffer>);
    STATIC_REQUIRE_FALSE(std::is_copy_assignable_v<SecretBuffer>);
    STATIC_REQUIRE(std::is_nothrow_move_constructible_v<SecretBuffer>);
    STATIC_REQUIRE(std::is_nothrow_move_assignable_v<SecretBuffer>);
}

TEST_CASE("secret buffer holds a copy and moving leaves the source empty", "[crypto][secret]") {
    auto a = SecretBuffer::copy_of(std::string_view("correct horse"));
    REQUIRE(a.size() == 13);
    CHECK(static_cast<char>(a.bytes()[0]) == 'c');
    SecretBuffer b = std::move(a);
    CHECK(a.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is the contract
    CHECK(b.size() == 13);
    SecretBuffer c;
    c = std::move(b);
    CHECK(b.empty());  // NOLINT(bugprone-use-after-move)
    CHECK(c.equals(SecretBuffer::copy_of(std::string_view("correct horse")).bytes()));
    CHECK_FALSE(c.equals(SecretBuffer::copy_of(std::string_view("correct horsf")).bytes()));
}

TEST_CASE("wipe zeroes every byte and keeps the size", "[crypto][secret]") {
    auto s = SecretBuffer::copy_of(std::string_view("0123456789abcdef"));
    s.wipe();
    REQUIRE(s.size() == 16);
    CHECK(std::all_of(s.bytes().begin(), s.bytes().end(), [](std::byte b) { return b == std::byte{0}; }));
}

TEST_CASE("a sized secret buffer starts zero-filled", "[crypto][secret]") {
    SecretBuffer s(32);
    CHECK(s.size() == 32);
    CHECK(std::all_of(s.bytes().begin(), s.bytes().end(), [](std::byte b) { return b == std::byte{0}; }));
    CHECK(SecretBuffer(0).empty());
}
