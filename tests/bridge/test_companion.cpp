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
    CHECK(r1.model == "tandem-offline-companion/1.1");
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

TEST_CASE("offline companion mentions an offered questionnaire once, warmly, and never beside a safety check",
          "[bridge][companion][assessments]") {
    auto m = make_offline_companion();
    auto reply = [&](const char* text, std::vector<std::string> offered, bool risk) {
        ChatRequest req;
        req.messages = {{"system", "rules"}, {"user", text}};
        req.offered_questionnaires = std::move(offered);
        req.risk_disclosed = risk;
        auto r = m->complete(req, nullptr);
        REQUIRE(r);
        return r->text;
    };
    struct Case {
        const char* name;
        std::vector<std::string> offered;
        bool risk;
        const char* expect;  // nullptr: no mention
    };
    const std::vector<Case> cases{
        {"one form", {"PHQ-9"},
         false,
         "Your care team asked for a short check-in questionnaire (PHQ-9); it's just below when you're ready."},
        {"two forms", {"GAD-7", "PHQ-9"}, false,
         "Your care team asked for a few short check-in questionnaires (GAD-7 and PHQ-9); they're just below when "
         "you're ready."},
        {"nothing offered", {}, false, nullptr},
        {"a risky turn: the safety check alone", {"PHQ-9"}, true, nullptr},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const auto text = reply("I had a long day at work", c.offered, c.risk);
        if (c.expect) {
            CHECK(text.find(c.expect) != std::string::npos);
            CHECK(text.ends_with("when you're ready."));  // after the reply, not instead of it
        } else {
            CHECK(text.find("questionnaire") == std::string::npos);
        }
    }
}
