#include <catch2/catch_test_macros.hpp>

#include <string>
#include <vector>

#include "tandem/bridge/llm.h"

using namespace tandem::bridge;

namespace {
// Feeds the chunks in order and returns the events seen (or "ERROR" on a parse error).
std::vector<std::string> events_of(const std::vector<std::string>& chunks) {
    SseParser p;
    std::vector<std::string> out;
    for (const auto& c : chunks) {
        if (!p.feed(c, [&](std::string_view d) { out.emplace_back(d); })) {
            out.emplace_back("ERROR");
            break;
        }
    }
    return out;
}
}  // namespace

TEST_CASE("SSE parser splits streams into events whatever the chunking", "[bridge][llm][sse]") {
    struct Case {
        const char* name;
        std::vector<std::string> chunks;
        std::vector<std::string> events;
    };
    const std::vector<Case> cases = {
        {"two events in one chunk", {"data: a\n\ndata: b\n\n"}, {"a", "b"}},
        {"event split mid-line", {"da", "ta: he", "llo\n", "\n"}, {"hello"}},
        {"CRLF line ends", {"data: x\r\n\r\n"}, {"x"}},
        {"CRLF split between chunks", {"data: x\r", "\n\r", "\n"}, {"x"}},
        {"bare CR line ends", {"data: y\r\r"}, {"y"}},
        {"multi-line data joined by LF", {"data: one\ndata: two\n\n"}, {"one\ntwo"}},
        {"comments and other fields ignored", {": keep-alive\nevent: msg\nid: 7\ndata: z\n\n"}, {"z"}},
        {"no space after colon", {"data:tight\n\n"}, {"tight"}},
        {"blank lines without data dispatch nothing", {"\n\n\n"}, {}},
        {"unterminated event is not dispatched", {"data: partial\n"}, {}},
        {"DONE marker is passed through as data", {"data: [DONE]\n\n"}, {"[DONE]"}},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        CHECK(events_of(c.chunks) == c.events);
    }
}

TEST_CASE("SSE parser refuses an event larger than its limit (hostile provider)", "[bridge][llm][sse]") {
    // Bad input tried: 1 MiB + 1 byte of data with no line end.
    const std::string huge = "data: " + std::string(SseParser::kMaxEventBytes + 1, 'x');
    CHECK(events_of({huge}) == std::vector<std::string>{"ERROR"});
}
