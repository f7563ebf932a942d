// FrameText and append_json_string write frames straight to text; they must give the very bytes
// make_frame's serialiser gives for the same payload, or a client would see a different frame.
#include <catch2/catch_test_macros.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/bridge/wire.h"
#include "tandem/schema/schema_registry.h"

using namespace tandem;
using namespace tandem::bridge;
using namespace std::string_literals;

namespace {

struct TextCase {
    const char* name;
    std::string text;
};

std::string dumped(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

std::string literal(std::string_view text) {
    std::string out;
    append_json_string(out, text);
    return out;
}

// A frame with its random id and clock time taken out, so two frames of one payload compare.
nlohmann::json without_id_and_time(const std::string& frame) {
    auto j = nlohmann::json::parse(frame);
    j.erase("id");
    j.erase("time");
    return j;
}

}  // namespace

TEST_CASE("a JSON string literal is written byte for byte as nlohmann writes it", "[bridge][wire]") {
    const std::vector<TextCase> cases = {
        {"empty", ""},
        {"plain ASCII", "I had a rough day at work."},
        {"quotes and backslashes", R"(she said "no" \ then left)"},
        {"named control escapes", "a\bb\fc\nd\re\tf"},
        {"other control characters as \\u00xx", "\x01\x1f\x0b end"},
        {"a NUL byte inside the text", "before"s + '\0' + "after"},
        {"DEL is kept raw", "x\x7fy"},
        {"slash is not escaped", "either/or </script>"},
        {"two-byte UTF-8", "caf\xc3\xa9 na\xc3\xafve"},
        {"three-byte UTF-8", "\xe2\x80\x94 dash \xe2\x82\xac"},
        {"four-byte UTF-8 (emoji)", "ok \xf0\x9f\x99\x82 ok"},
        {"largest code point", "\xf4\x8f\xbf\xbf"},
        {"lone continuation byte", "bad \x80 byte"},
        {"truncated sequence at the end", "cut \xe2\x82"},
        {"overlong encoding", "\xc0\xaf"},
        {"UTF-16 surrogate encoded", "\xed\xa0\x80"},
        {"above U+10FFFF", "\xf4\x90\x80\x80"},
        {"invalid lead byte", "\xff\xfe text"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        CHECK(literal(c.text) == dumped(nlohmann::json(c.text)));
    }
}

TEST_CASE("a frame written as text equals make_frame's frame of the same payload", "[bridge][wire]") {
    const std::string text = "Thanks for telling me. \"That\" sounds\nhard \xf0\x9f\x99\x82";
    const std::string ai = FrameText{}
                               .text("id", "r-1")
                               .boolean("offline", true)
                               .text("reply_id", "r-1")
                               .text("sender", "ai")
                               .text("state", "delivered")
                               .text("text", text)
                               .frame("message", 42);
    const nlohmann::json ai_payload = {{"id", "r-1"}, {"sender", "ai"},    {"text", text},
                                       {"state", "delivered"}, {"offline", true}, {"reply_id", "r-1"}};
    CHECK(without_id_and_time(ai) == without_id_and_time(make_frame("message", ai_payload, 42)));
    // The same bytes, not only the same value: re-serialising the parsed frame changes nothing.
    CHECK(dumped(nlohmann::json::parse(ai)) == ai);

    const std::string segment = FrameText{}
                                    .number("index", 3)
                                    .text("reply_id", "r-1")
                                    .text("reply_to", "m-1")
                                    .text("text", "Hi. ")
                                    .frame("segment");
    CHECK(without_id_and_time(segment) ==
          without_id_and_time(make_frame(
              "segment", {{"reply_id", "r-1"}, {"reply_to", "m-1"}, {"index", 3}, {"text", "Hi. "}})));
    CHECK(dumped(nlohmann::json::parse(segment)) == segment);
    CHECK_FALSE(nlohmann::json::parse(segment).contains("seq"));  // seq 0: absent, as make_frame

    const std::string empty = FrameText{}.frame("pong");
    CHECK(without_id_and_time(empty) == without_id_and_time(make_frame("pong", nlohmann::json::object())));
    CHECK(SchemaRegistry::builtin().validate("wire/envelope", nlohmann::json::parse(ai)).has_value());
}

TEST_CASE("FrameText refuses keys out of order, which would differ from make_frame", "[bridge][wire]") {
    FrameText f;
    f.text("reply_to", "m-1");
    CHECK_THROWS_AS(f.text("reply_id", "r-1"), std::logic_error);
    FrameText g;
    g.text("a", "1");
    CHECK_THROWS_AS(g.number("a", 2), std::logic_error);  // a repeated key too
}
