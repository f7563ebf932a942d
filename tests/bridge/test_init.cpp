#include <catch2/catch_test_macros.hpp>

#include <sys/stat.h>

#include <fstream>

#include "tandem/bridge/config.h"
#include "tandem/bridge/init.h"
#include "tandem/bridge/tls_identity.h"
#include "test_support.h"

using namespace tandem;
using namespace tandem::bridge;
using tandem::test::run_command;
using tandem::test::TempDir;

namespace {
unsigned mode_of(const std::filesystem::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 0777;
}
}  // namespace

TEST_CASE("init creates a private data dir, a 0600 key, a certificate and a loadable config", "[bridge][init]") {
    TempDir tmp;
    InitOptions o;
    o.data_dir = tmp.path() / "clinic";
    o.hosts.push_back("bridge.example.org");
    auto r = init_data_dir(o);
    REQUIRE(r);
    CHECK(mode_of(o.data_dir) == 0700);
    CHECK(mode_of(r->key_file) == 0600);
    CHECK(mode_of(r->config_file) == 0600);
    CHECK(mode_of(r->cert_file) == 0644);
    CHECK(mode_of(r->store_key_file) == 0600);
    CHECK(std::filesystem::exists(r->store_file));
    CHECK(r->fingerprint.size() == 32 * 3 - 1);
    CHECK(load_config(r->config_file));
    // The certificate is what OpenSSL's own CLI calls P-256 with our SANs.
    auto [status, text] = run_command({"/usr/bin/openssl", "x509", "-in", r->cert_file.string(), "-noout", "-text"});
    CHECK(status == 0);
    CHECK(text.find("prime256v1") != std::string::npos);
    CHECK(text.find("DNS:localhost") != std::string::npos);
    CHECK(text.find("IP Address:127.0.0.1") != std::string::npos);
    CHECK(text.find("DNS:bridge.example.org") != std::string::npos);
}

TEST_CASE("init refuses to overwrite an initialised data dir", "[bridge][init]") {
    // Bad input tried: running init twice on the same dir (would replace the TLS key).
    TempDir tmp;
    InitOptions o;
    o.data_dir = tmp.path();
    REQUIRE(init_data_dir(o));
    auto again = init_data_dir(o);
    REQUIRE_FALSE(again);
    CHECK(again.error().code == ErrorCode::conflict);
}

TEST_CASE("TLS identity refuses bad host names and existing files", "[bridge][init]") {
    // Bad input tried: no hosts, a host with a comma (SAN injection), an existing key file.
    TempDir tmp;
    CHECK(create_self_signed_identity(tmp.path() / "c.pem", tmp.path() / "k.pem", {}).error().code ==
          ErrorCode::invalid_argument);
    CHECK(create_self_signed_identity(tmp.path() / "c.pem", tmp.path() / "k.pem", {"a,DNS:evil"}).error().code ==
          ErrorCode::invalid_argument);
    std::ofstream(tmp.path() / "k2.pem") << "x";
    CHECK(create_self_signed_identity(tmp.path() / "c2.pem", tmp.path() / "k2.pem", {"localhost"}).error().code ==
          ErrorCode::conflict);
}

TEST_CASE("tandem-bridge CLI: --help succeeds, bad usage and errors exit non-zero on stderr", "[bridge][cli]") {
    const std::string bin = TANDEM_BRIDGE_BIN;
    struct Case {
        const char* name;
        std::vector<std::string> args;
        int status;
        const char* expect;
    };
    TempDir tmp;
    const Case cases[] = {
        {"top-level help", {"--help"}, 0, "commands:"},
        {"init help", {"init", "--help"}, 0, "--data-dir DIR"},
        {"serve help", {"serve", "--help"}, 0, "--listen HOST:PORT"},
        {"config help lists keys", {"config", "--help"}, 0, "llm.base_url"},
        {"no command", {}, 2, "usage:"},
        {"unknown command", {"frobnicate"}, 2, "unknown command"},
        {"init without data dir", {"init"}, 2, "--data-dir is required"},
        {"init with stray argument", {"init", "--data-dir"}, 2, "unexpected or incomplete"},
        {"serve on a missing data dir", {"serve", "--data-dir", (tmp.path() / "nope").string()}, 1, "io:"},
        {"serve with a bad listen", {"serve", "--data-dir", tmp.path().string(), "--listen", "nope"}, 1, ""},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        std::vector<std::string> argv{bin};
        argv.insert(argv.end(), c.args.begin(), c.args.end());
        auto [status, text] = run_command(argv);
        CHECK(status == c.status);
        CHECK(text.find(c.expect) != std::string::npos);
    }
}

TEST_CASE("tandem-bridge CLI: init, patient add and invite work together", "[bridge][cli]") {
    const std::string bin = TANDEM_BRIDGE_BIN;
    TempDir tmp;
    const std::string dir = (tmp.path() / "clinic").string();
    auto [init_status, init_text] = run_command({bin, "init", "--data-dir", dir});
    REQUIRE(init_status == 0);
    CHECK(init_text.find("SHA-256 fingerprint") != std::string::npos);
    auto [add_status, id] = run_command({bin, "patient", "add", "--data-dir", dir, "--name", "Sam"});
    REQUIRE(add_status == 0);
    while (!id.empty() && id.back() == '\n') id.pop_back();
    CHECK(id.size() == 36);
    auto [invite_status, code] = run_command({bin, "invite", "--data-dir", dir, "--patient", id});
    CHECK(invite_status == 0);
    CHECK(code.size() == 24);  // xxxxx-xxxxx-xxxxx-xxxxx and a newline
    // Bad input tried: an invite for a patient that does not exist.
    auto [bad_status, bad_text] = run_command({bin, "invite", "--data-dir", dir, "--patient", "nobody"});
    CHECK(bad_status == 1);
    CHECK(bad_text.find("not_found") != std::string::npos);
}
