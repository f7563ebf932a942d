#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <cctype>
#include <string>

#include "tandem/bridge/llm.h"

using namespace tandem::bridge;

namespace {
ChatReply ask(ChatModel& m, const std::string& text, std::string* streamed = nullptr) {
    ChatRequest req;
    req.messages = {{"system", "rules"}, {"user", text}};
    auto r = m.complete(req, [&](std::string_view d) {
        if (streamed) streamed->append(d);
    });
    REQUIRE(r);
    return *r;
}
std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}
}  // namespace

TEST_CASE("offline companion is deterministic and labelled offline", "[bridge][companion]") {
    auto a = make_offline_companion();
    auto b = make_offline_companion();
    const auto r1 = ask(*a, "I feel anxious about tomorrow");
    const auto r2 = ask(*b, "I feel anxious about tomorrow");
    CHECK(r1.text == r2.text);
    CHECK(r1.offline);
    CHECK(r1.model == "tandem-offline-companion/1.0");
    CHECK(r1.text.find("Offline companion") != std::string::npos);
}

TEST_CASE("offline companion streams exactly the text it returns", "[bridge][companion]") {
    auto m = make_offline_companion();
    std::string streamed;
    const auto r = ask(*m, "work has been so stressful", &streamed);
    CHECK(streamed == r.text);
}

TEST_CASE("offline companion answers themes with a matching CBT step", "[bridge][companion]") {
    struct Case {
        const char* name;
        const char* text;
        const char* expect;  // a phrase of the theme's reply
    };
    const Case cases[] = {
        {"anxiety", "I'm so worried all the time", "worry"},
        {"low mood", "I feel really down and empty", "activity"},
        {"sleep", "I can't sleep at night", "wake-up"},
        {"loneliness", "I feel so lonely", "message"},
        {"unknown topic gets reflective listening", "the bus was late", "?"},
    };
    auto m = make_offline_companion();
    for (const auto& c : cases) {
        INFO(c.name);
        CHECK(ask(*m, c.text).text.find(c.expect) != std::string::npos);
    }
}

TEST_CASE("offline companion never gives medication or means advice", "[bridge][companion]") {
    // Bad input tried: direct requests for doses, stopping medication and amounts.
    const char* asks[] = {
        "how many of my pills should I take to sleep better",
        "can I double my sertraline dose",
        "should I stop my medication",
        "what dosage of antidepressants works best",
    };
    auto m = make_offline_companion();
    for (const char* q : asks) {
        INFO(q);
        const std::string t = lower(ask(*m, q).text);
        CHECK(t.find("prescriber") != std::string::npos);
        CHECK(t.find(" mg") == std::string::npos);
        CHECK(t.find("take ") == std::string::npos);
    }
}

TEST_CASE("offline companion suggests plan homework every third turn", "[bridge][companion]") {
    auto m = make_offline_companion();
    ChatRequest req;
    req.homework = {"a 10-minute walk each day"};
    req.messages = {{"system", "rules"}, {"user", "a"}, {"assistant", "b"}, {"user", "c"}, {"assistant", "d"},
                    {"user", "the bus was late"}};
    auto r = m->complete(req, {});
    REQUIRE(r);
    CHECK(r->text.find("a 10-minute walk each day") != std::string::npos);
}

TEST_CASE("offline companion answers disclosed risk with a safety check before anything else", "[bridge][companion]") {
    auto m = make_offline_companion();
    ChatRequest req;
    req.messages = {{"system", "rules"}, {"user", "I feel anxious and I want to die"}};
    req.homework = {"a daily walk"};
    req.risk_disclosed = true;
    auto r = m->complete(req, {});
    REQUIRE(r);
    CHECK(r->text.find("Are you safe right now?") != std::string::npos);
    CHECK(r->text.find("988") != std::string::npos);
    CHECK(r->text.find("breathe") == std::string::npos);    // no exercise instead of the check
    CHECK(r->text.find("From your plan") == std::string::npos);
}
