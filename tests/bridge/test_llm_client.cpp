// The OpenAI-compatible client against a real HTTP server process on 127.0.0.1
// (fake_llm.py), scripted per model name.
#include <catch2/catch_test_macros.hpp>

#include <nlohmann/json.hpp>

#include "tandem/bridge/llm.h"
#include "test_support.h"

using namespace std::chrono_literals;
using namespace tandem;
using namespace tandem::bridge;
using tandem::test::ChildProcess;

namespace {

struct FakeProvider {
    ChildProcess process{{"/usr/bin/python3", TANDEM_FAKE_LLM}};
    int port = 0;
    FakeProvider() {
        const auto line = process.read_line(10s);
        REQUIRE(line.rfind("PORT ", 0) == 0);
        port = std::stoi(line.substr(5));
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
};

LlmSettings settings_for(const std::string& url, const std::string& model) {
    LlmSettings s;
    s.base_url = url;
    s.model = model;
    s.connect_timeout = 1000ms;
    s.idle_timeout = 400ms;
    s.total_timeout = 5000ms;
    s.max_attempts = 3;
    s.backoff_initial = 20ms;
    s.breaker_failures = 100;
    return s;
}

ChatRequest hello() {
    ChatRequest r;
    r.messages = {{"system", "be kind"}, {"user", "hi"}};
    return r;
}

struct Outcome {
    Result<ChatReply> reply;
    std::string streamed;
    std::chrono::milliseconds took;
};

Outcome run(ChatModel& m) {
    Outcome o{fail(ErrorCode::internal, "not run"), {}, {}};
    const auto start = std::chrono::steady_clock::now();
    o.reply = m.complete(hello(), [&](std::string_view d) { o.streamed += d; });
    o.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    return o;
}

}  // namespace

TEST_CASE("LLM client streams a reply and reports model and finish reason", "[bridge][llm]") {
    FakeProvider fake;
    for (const char* model : {"ok", "slow-ok"}) {
        INFO(model);
        auto client = make_openai_client(settings_for(fake.url(), model), "");
        auto o = run(*client);
        REQUIRE(o.reply);
        CHECK(o.reply->text == "Hello there.");
        CHECK(o.streamed == "Hello there.");
        CHECK(o.reply->finish_reason == "stop");
        CHECK(o.reply->model == "fake-model");
        CHECK(o.reply->attempts == 1);
    }
}

TEST_CASE("LLM client accepts a base URL ending in /v1 and a non-streaming JSON reply", "[bridge][llm]") {
    FakeProvider fake;
    auto client = make_openai_client(settings_for(fake.url() + "/v1/", "json"), "");
    auto o = run(*client);
    REQUIRE(o.reply);
    CHECK(o.reply->text == "Whole reply.");
}

TEST_CASE("LLM client retries 429 with backoff, then succeeds", "[bridge][llm]") {
    FakeProvider fake;
    auto client = make_openai_client(settings_for(fake.url(), "429-then-ok"), "");
    auto o = run(*client);
    REQUIRE(o.reply);
    CHECK(o.reply->attempts == 2);
}

TEST_CASE("LLM client sends the API key as a Bearer token", "[bridge][llm]") {
    FakeProvider fake;
    auto good = make_openai_client(settings_for(fake.url(), "auth-check"), "sekrit");
    CHECK(run(*good).reply);
    // Bad input tried: a wrong key gives permission_denied, not a retry loop.
    auto bad = make_openai_client(settings_for(fake.url(), "auth-check"), "wrong");
    auto o = run(*bad);
    REQUIRE_FALSE(o.reply);
    CHECK(o.reply.error().code == ErrorCode::permission_denied);
}

TEST_CASE("LLM client failures are typed errors, bounded in time", "[bridge][llm]") {
    FakeProvider fake;
    struct Case {
        const char* name;
        std::string url;
        std::string model;
        ErrorCode code;
        std::chrono::milliseconds max_time;
    };
    const Case cases[] = {
        {"dead endpoint (nothing listening)", "http://127.0.0.1:1", "ok", ErrorCode::unavailable, 3000ms},
        {"HTTP 500 on every attempt", fake.url(), "500", ErrorCode::unavailable, 3000ms},
        {"hangs after the first chunk", fake.url(), "hang", ErrorCode::timeout, 3000ms},
        {"never sends headers", fake.url(), "hang-headers", ErrorCode::timeout, 3000ms},
        {"malformed JSON chunk", fake.url(), "malformed", ErrorCode::parse, 3000ms},
        {"connection dropped mid-stream", fake.url(), "drop", ErrorCode::network, 3000ms},
        {"unknown model (404)", fake.url(), "no-such-model", ErrorCode::invalid_argument, 3000ms},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        auto client = make_openai_client(settings_for(c.url, c.model), "");
        auto o = run(*client);
        REQUIRE_FALSE(o.reply);
        CHECK(o.reply.error().code == c.code);
        CHECK(o.took < c.max_time);
    }
}

TEST_CASE("LLM client does not retry once part of a reply was streamed", "[bridge][llm]") {
    // Bad input tried: the provider drops the connection after "Partial"; a retry would show
    // the patient a second, different reply.
    FakeProvider fake;
    auto client = make_openai_client(settings_for(fake.url(), "drop"), "");
    auto o = run(*client);
    REQUIRE_FALSE(o.reply);
    CHECK(o.streamed == "Partial");
    auto [status, count] = tandem::test::run_command(
        {"/usr/bin/python3", "-c",
         "import urllib.request,sys;print(urllib.request.urlopen(sys.argv[1]).read().decode())",
         fake.url() + "/count?model=drop"});
    REQUIRE(status == 0);
    CHECK(nlohmann::json::parse(count)["count"] == 1);
}

TEST_CASE("LLM circuit breaker fails fast after repeated failures", "[bridge][llm]") {
    FakeProvider fake;
    auto s = settings_for(fake.url(), "500");
    s.max_attempts = 1;
    s.breaker_failures = 2;
    s.breaker_cooldown = 60'000ms;
    auto client = make_openai_client(s, "");
    CHECK_FALSE(run(*client).reply);
    CHECK_FALSE(run(*client).reply);
    auto third = run(*client);
    REQUIRE_FALSE(third.reply);
    CHECK(third.reply.error().code == ErrorCode::unavailable);
    CHECK(third.reply.error().message.find("breaker") != std::string::npos);
}
