// The normaliser: one canonical form for many spellings, and a byte map back to the original.

#include <catch2/catch_test_macros.hpp>

#include <string>
#include <vector>

#include "tandem/risk/normalizer.h"

namespace {

struct NormCase {
    const char* name;
    std::string input;
    std::string expected;
};

}  // namespace

TEST_CASE("normaliser folds case, accents, apostrophes, repeated letters and emoji", "[risk][normalizer]") {
    const tandem::Normalizer n({{"kms", "kill myself"}, {"sewerslide", "suicide"}});
    const std::vector<NormCase> cases{
        {"uppercase becomes lowercase", "I WANT TO DIE", "i want to die"},
        {"straight apostrophes disappear", "I don't", "i dont"},
        {"curly apostrophes disappear", "I don\u2019t", "i dont"},
        {"repeated letters collapse to one", "diiiiie sooo", "die so"},
        {"doubled letters collapse too, so spellings agree", "kill", "kil"},
        {"Spanish accents fold", "Ojal\u00e1 me durmiera, ma\u00f1ana", "ojala me durmiera, manana"},
        {"whitespace runs collapse", "a  \t b", "a b"},
        {"shorthand is replaced as a whole word", "gonna kms tonight", "gona kil myself tonight"},
        {"shorthand inside a word is left alone", "kmsx", "kmsx"},
        {"emoji become words", "\xF0\x9F\x94\xAA", "knife"},
        {"invalid UTF-8 becomes a space", std::string("a\xff" "b"), "a b"},
        {"other scripts pass through", "\xE6\x97\xA5", "\xE6\x97\xA5"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        CHECK(n.canonical(c.input) == c.expected);
    }
}

TEST_CASE("normalised ranges map back to the original bytes, also after multibyte text", "[risk][normalizer]") {
    const tandem::Normalizer n(std::vector<std::pair<std::string, std::string>>{{"kms", "kill myself"}});
    const std::string text = "Caf\u00e9 \u2615 \u2014 I'll kms";
    const auto norm = n.normalize(text);
    const auto at = norm.text.find("kil myself");
    REQUIRE(at != std::string::npos);
    const auto [b, e] = norm.to_original(at, at + std::string("kil myself").size());
    CHECK(text.substr(b, e - b) == "kms");
    const auto ill = norm.text.find("il ");
    const auto [ib, ie] = norm.to_original(ill, ill + 2);
    CHECK(text.substr(ib, ie - ib) == "I'll");
}

TEST_CASE("rule patterns are rewritten to match normalised text", "[risk][normalizer]") {
    std::string out;
    std::string reason;
    REQUIRE(tandem::normalize_pattern("\\bkill myself\\b", out, reason));
    CHECK(out == "\\bkil myself\\b");
    REQUIRE(tandem::normalize_pattern("\\bbb ojal\u00e1", out, reason));
    CHECK(out == "\\bb ojala");  // the escape keeps its letter; the literal pair squeezes
    CHECK_FALSE(tandem::normalize_pattern("don't", out, reason));
    CHECK(reason.find("apostrophe") != std::string::npos);
}

TEST_CASE("runs of plain ASCII squeeze and map alike on both sides of bytes that need the full path", "[risk][normalizer]") {
    // The character pass emits runs of plain ASCII in a loop of its own and leaves it for
    // apostrophes, masking symbols and multibyte characters: squeezing must carry across.
    const tandem::Normalizer n;
    struct MapCase {
        const char* name;
        std::string input;
        std::string text;
        std::vector<std::uint32_t> begin, end;
    };
    const std::vector<MapCase> cases{
        {"a letter run and a space run squeeze onto their first byte", "Soooo   ok", "so ok", {0, 1, 5, 8, 9}, {1, 5, 8, 9, 10}},
        {"a letter after a dropped curly apostrophe joins the run before it", "a\u2019a", "a", {0}, {5}},
        {"leading whitespace is dropped, trailing trimmed", "  \thi\r\n", "hi", {3, 4}, {4, 5}},
        {"an apostrophe inside a run", "don't  stop", "dont stop", {0, 1, 2, 4, 5, 7, 8, 9, 10}, {1, 2, 3, 5, 7, 8, 9, 10, 11}},
        {"a masked letter between two letters joins the run after it", "k*lling", "kiling", {0, 1, 2, 4, 5, 6}, {1, 2, 4, 5, 6, 7}},
        {"line breaks are kept, spaces after them squeezed", "a\r\n  b", "a\n\nb", {0, 1, 2, 5}, {1, 2, 5, 6}},
    };
    tandem::NormalizedText out;
    for (const auto& c : cases) {
        INFO(c.name);
        n.normalize(c.input, out);
        CHECK(out.text == c.text);
        CHECK(out.begin == c.begin);
        CHECK(out.end == c.end);
    }
}
