#include <catch2/catch_test_macros.hpp>

#include "tandem/bridge/config.h"

using namespace tandem;
using namespace tandem::bridge;

TEST_CASE("rendered default config parses back to the same values", "[bridge][config]") {
    const BridgeConfig defaults;
    auto parsed = parse_config(render_config(defaults));
    REQUIRE(parsed);
    CHECK(parsed->listen_port == defaults.listen_port);
    CHECK(parsed->max_message_bytes == defaults.max_message_bytes);
    CHECK(parsed->llm.idle_timeout == defaults.llm.idle_timeout);
    CHECK(parsed->crisis_resources.size() == 3);
    CHECK(parsed->crisis_resources[0].contact == "988");
    CHECK(parsed->crisis_resources[2].contact == "911");
}

TEST_CASE("every documented key appears in the rendered file's _doc", "[bridge][config]") {
    const std::string text = render_config(BridgeConfig{});
    for (const auto& k : config_keys()) {
        INFO(k.key);
        CHECK(text.find("\"" + std::string(k.key) + "\"") != std::string::npos);
        CHECK(!k.doc.empty());
    }
}

TEST_CASE("bad config files are refused with the offending key named", "[bridge][config]") {
    struct Case {
        const char* name;
        const char* json;
        ErrorCode code;
        const char* field;
    };
    const Case cases[] = {
        {"not JSON", "{listen_port: 1", ErrorCode::parse, ""},
        {"not an object", "[1,2]", ErrorCode::parse, ""},
        {"typo in a key", R"({"listen_prot": 8443})", ErrorCode::invalid_argument, "listen_prot"},
        {"typo in an llm key", R"({"llm": {"base_ulr": "x"}})", ErrorCode::invalid_argument, "llm.base_ulr"},
        {"port as string", R"({"listen_port": "8443"})", ErrorCode::invalid_argument, "listen_port"},
        {"port out of range", R"({"listen_port": 70000})", ErrorCode::invalid_argument, "listen_port"},
        {"zero io threads", R"({"io_threads": 0})", ErrorCode::invalid_argument, "io_threads"},
        {"zero turn workers", R"({"turn_workers": 0})", ErrorCode::invalid_argument, "turn_workers"},
        {"negative read cache", R"({"read_cache_mb": -1})", ErrorCode::invalid_argument, "read_cache_mb"},
        {"unknown log level", R"({"log_level": "trace"})", ErrorCode::invalid_argument, "log_level"},
        {"empty crisis resources", R"({"crisis_resources": []})", ErrorCode::invalid_argument, "crisis_resources"},
        {"crisis resource bad kind", R"({"crisis_resources": [{"name":"a","contact":"b","kind":"fax"}]})",
         ErrorCode::invalid_argument, "crisis_resources"},
        {"temperature too high", R"({"llm": {"temperature": 9}})", ErrorCode::invalid_argument, "llm.temperature"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        auto r = parse_config(c.json);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == c.code);
        CHECK(r.error().field == c.field);
    }
}

TEST_CASE("a partial config keeps defaults for missing keys and allows comments", "[bridge][config]") {
    auto r = parse_config("// a comment\n{\"listen_port\": 9000, \"llm\": {\"base_url\": \"http://127.0.0.1:11434\"}}");
    REQUIRE(r);
    CHECK(r->listen_port == 9000);
    CHECK(r->llm.base_url == "http://127.0.0.1:11434");
    CHECK(r->listen_host == "127.0.0.1");
}

TEST_CASE("the turn workers and the read cache's size come from the config file", "[bridge][config]") {
    auto r = parse_config(R"({"turn_workers": 16, "read_cache_mb": 0})");
    REQUIRE(r);
    CHECK(r->turn_workers == 16);
    CHECK(r->read_cache_mb == 0);  // 0: every read goes to SQLCipher
    const BridgeConfig defaults;
    CHECK(defaults.turn_workers == 128);
    CHECK(defaults.read_cache_mb == 96);
}

TEST_CASE("listen addresses parse as HOST:PORT", "[bridge][config]") {
    struct Case {
        const char* text;
        bool ok;
        const char* host;
        int port;
    };
    const Case cases[] = {
        {"127.0.0.1:8443", true, "127.0.0.1", 8443}, {"[::1]:443", true, "::1", 443},
        {"0.0.0.0:0", true, "0.0.0.0", 0},          {"localhost", false, "", 0},
        {":8443", false, "", 0},                    {"127.0.0.1:99999", false, "", 0},
        {"127.0.0.1:84x3", false, "", 0},           {"[::1]8443", false, "", 0},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        auto r = parse_listen(c.text);
        REQUIRE(r.has_value() == c.ok);
        if (c.ok) {
            CHECK(r->first == c.host);
            CHECK(r->second == c.port);
        }
    }
}
