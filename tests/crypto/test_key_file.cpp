#include "tandem/crypto/key_file.h"

#include <catch2/catch_test_macros.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "tandem/crypto/random.h"

using namespace tandem;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path = fs::temp_directory_path() / ("tandem-crypto-" + random_token(8, TokenEncoding::hex));
    TempDir() { fs::create_directories(path); }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

void write_text(const fs::path& p, const std::string& text, fs::perms perms) {
    std::ofstream(p) << text;
    fs::permissions(p, perms);
}

}  // namespace

TEST_CASE("a created key file is mode 0600 and loads back as 32 bytes", "[crypto][key_file]") {
    TempDir dir;
    const auto p = dir.path / "store.key";
    REQUIRE(create_key_file(p).has_value());
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    CHECK(fs::file_size(p) == 65);
    auto key = load_key_file(p);
    REQUIRE(key.has_value());
    CHECK(key->size() == 32);
    // Only the key file remains: the temporary was removed.
    CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
}

TEST_CASE("two created key files hold different keys", "[crypto][key_file]") {
    TempDir dir;
    REQUIRE(create_key_file(dir.path / "a.key").has_value());
    REQUIRE(create_key_file(dir.path / "b.key").has_value());
    auto a = load_key_file(dir.path / "a.key");
    auto b = load_key_file(dir.path / "b.key");
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    CHECK_FALSE(a->equals(b->bytes()));
}

TEST_CASE("creating a key file never replaces an existing file", "[crypto][key_file]") {
    TempDir dir;
    const auto p = dir.path / "store.key";
    REQUIRE(create_key_file(p).has_value());
    auto first = load_key_file(p);
    REQUIRE(first.has_value());
    auto again = create_key_file(p);
    REQUIRE_FALSE(again.has_value());
    CHECK(again.error().code == ErrorCode::conflict);
    CHECK(again.error().message.find(p.string()) != std::string::npos);
    auto still = load_key_file(p);
    REQUIRE(still.has_value());
    CHECK(still->equals(first->bytes()));
}

TEST_CASE("a key file that group or others may access is refused, naming the file", "[crypto][key_file]") {
    TempDir dir;
    struct Case {
        const char* name;
        fs::perms perms;
    };
    const Case cases[] = {
        {"group readable", fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read},
        {"world readable", fs::perms::owner_read | fs::perms::others_read},
        {"group writable", fs::perms::owner_read | fs::perms::group_write},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const auto p = dir.path / (std::string(c.name) + ".key");
        write_text(p, std::string(64, 'a') + "\n", c.perms);
        auto r = load_key_file(p);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == ErrorCode::permission_denied);
        CHECK(r.error().message.find(p.string()) != std::string::npos);
    }
}

TEST_CASE("malformed or missing key files are clear errors", "[crypto][key_file]") {
    TempDir dir;
    struct Case {
        const char* name;
        std::string content;
        ErrorCode code;
    };
    const Case cases[] = {
        {"too short", std::string(63, 'a'), ErrorCode::parse},
        {"too long", std::string(66, 'a'), ErrorCode::parse},
        {"non-hex", std::string(63, 'a') + "z", ErrorCode::parse},
        {"empty", "", ErrorCode::parse},
        {"trailing junk", std::string(64, 'a') + "\nextra", ErrorCode::parse},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const auto p = dir.path / (std::string(c.name) + ".key");
        write_text(p, c.content, fs::perms::owner_read | fs::perms::owner_write);
        auto r = load_key_file(p);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == c.code);
        CHECK(r.error().message.find(p.string()) != std::string::npos);
    }
    auto missing = load_key_file(dir.path / "absent.key");
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().code == ErrorCode::io);
}

TEST_CASE("a key written by hand with a CRLF ending loads", "[crypto][key_file]") {
    TempDir dir;
    const auto p = dir.path / "hand.key";
    write_text(p, std::string(64, 'F') + "\r\n", fs::perms::owner_read | fs::perms::owner_write);
    auto r = load_key_file(p);
    REQUIRE(r.has_value());
    CHECK(static_cast<unsigned>(r->bytes()[31]) == 0xff);
}
