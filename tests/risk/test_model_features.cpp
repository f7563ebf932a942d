// The learned model's feature extraction, fast path against a plain reference: the hot path
// hashes a word's whole-word features in one pass and its 3-, 4- and 5-grams together, and the
// message's words are found once and shared with the lexicon. The model file was trained on
// the plain order of features and scores by summing in it, so the hits must be the same, in
// the same order, bucket for bucket.
#include <catch2/catch_test_macros.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/risk/learned_model.h"

namespace {

// FNV-1a 64 over the bytes, then the murmur-style finaliser's low hash bits: the feature hash
// as docs/RISK.md and scripts/risk/train_model.py define it, written out without shortcuts.
struct PlainHash {
    std::uint64_t h = 1469598103934665603ULL;
    PlainHash& add(std::string_view s) {
        for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
        return *this;
    }
    PlainHash& sep() { return add(std::string_view("\x1F", 1)); }
    std::uint32_t bucket() const {
        std::uint64_t x = h;
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdULL;
        x ^= x >> 33;
        return static_cast<std::uint32_t>(x) & ((1U << tandem::risk_model_hash_bits) - 1);
    }
};

bool word_byte(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80; }

// The features in the order the model was trained on: the role; then per word its unigram, its
// role-tagged unigram, its bigram with the word before, and (words up to 24 bytes) every
// character 3-gram of the word padded with spaces, then every 4-gram, then every 5-gram.
std::vector<tandem::ModelFeatureHit> plain_features(std::string_view s, char role_tag) {
    std::vector<tandem::ModelFeatureHit> out;
    out.push_back({PlainHash{}.add("r").add(std::string_view(&role_tag, 1)).bucket(), 0, 0, false});
    std::vector<std::pair<std::uint32_t, std::uint32_t>> words;
    for (std::size_t i = 0; i < s.size();) {
        while (i < s.size() && !word_byte(static_cast<unsigned char>(s[i]))) ++i;
        const std::size_t b = i;
        while (i < s.size() && word_byte(static_cast<unsigned char>(s[i]))) ++i;
        if (i > b) words.emplace_back(static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(i));
    }
    for (std::size_t k = 0; k < words.size(); ++k) {
        const auto [b, e] = words[k];
        const std::string_view w = s.substr(b, e - b);
        out.push_back({PlainHash{}.add("w").add(w).bucket(), b, e, true});
        out.push_back({PlainHash{}.add("x").add(std::string_view(&role_tag, 1)).sep().add(w).bucket(), b, e, false});
        if (k > 0) {
            const std::string_view prev = s.substr(words[k - 1].first, words[k - 1].second - words[k - 1].first);
            out.push_back({PlainHash{}.add("b").add(prev).sep().add(w).bucket(), words[k - 1].first, e, true});
        }
        if (w.size() > 24) continue;
        const std::string padded = " " + std::string(w) + " ";
        for (std::size_t n = 3; n <= 5; ++n) {
            const char tag = static_cast<char>('0' + n);
            for (std::size_t i = 0; i + n <= padded.size(); ++i) {
                out.push_back({PlainHash{}.add(std::string_view(&tag, 1)).add(std::string_view(padded).substr(i, n)).bucket(), b, e, false});
            }
        }
    }
    return out;
}

struct FeatureCase {
    const char* name;
    std::string text;  // already normalised
};

}  // namespace

TEST_CASE("message features from shared words equal the plain feature order, hit for hit", "[risk][model][fast]") {
    const std::vector<FeatureCase> cases = {
        {"one-letter words (no 4- or 5-grams)", "i a x"},
        {"two- and three-letter words", "im so ok ya no"},
        {"a sentence", "ive been thinking about killing myself again, its there all the time now."},
        {"a word of exactly 24 bytes keeps its n-grams", "abcdefghijklmnopqrstuvwx y"},
        {"a word of 25 bytes loses them", "abcdefghijklmnopqrstuvwxy z"},
        {"digits and punctuation between words", "took 20 pills... at 3am!! 988?"},
        {"non-ASCII bytes are word bytes", "me siento sin esperanza \xe2\x9c\xa8 ya no quiero vivir"},
        {"leading and trailing separators", "  ...hello there...  "},
        {"no words at all", " ... !!! "},
        {"empty", ""},
    };
    for (const auto& c : cases) {
        for (const auto role : {tandem::SpeakerRole::patient, tandem::SpeakerRole::ai, tandem::SpeakerRole::clinician}) {
            const char tag = role == tandem::SpeakerRole::patient ? 'p' : role == tandem::SpeakerRole::ai ? 'a' : 'c';
            INFO(c.name << " (role " << tag << ")");
            const auto want = plain_features(c.text, tag);
            std::vector<tandem::ModelToken> tokens;
            tandem::model_tokens(c.text, tokens);
            CHECK(tokens.size() == tandem::count_words(c.text));
            std::vector<tandem::ModelFeatureHit> from_tokens = {{7, 1, 2, true}};  // appended after what is there
            tandem::add_message_features(c.text, tokens, role, from_tokens);
            std::vector<tandem::ModelFeatureHit> from_text;
            tandem::add_message_features(c.text, role, from_text);
            REQUIRE(from_tokens.size() == want.size() + 1);
            REQUIRE(from_text.size() == want.size());
            CHECK(from_tokens[0].bucket == 7);
            for (std::size_t i = 0; i < want.size(); ++i) {
                INFO("hit " << i);
                CHECK(from_tokens[i + 1].bucket == want[i].bucket);
                CHECK(from_tokens[i + 1].begin == want[i].begin);
                CHECK(from_tokens[i + 1].end == want[i].end);
                CHECK(from_tokens[i + 1].word_level == want[i].word_level);
                CHECK(from_text[i].bucket == want[i].bucket);
            }
        }
    }
}

TEST_CASE("lexicon hits from shared words equal those from the text", "[risk][model][fast]") {
    const auto& lexicon = tandem::RiskLexicon::builtin();
    for (const std::string text : {"i want to die, i am a burden", "no reason to live anymore", "kill myself tonight", "", "hello"}) {
        INFO(text);
        std::vector<tandem::ModelToken> tokens;
        tandem::model_tokens(text, tokens);
        std::vector<tandem::ModelFeatureHit> a, b;
        lexicon.add_features(text, a);
        lexicon.add_features(text, tokens, b);
        REQUIRE(a.size() == b.size());
        for (std::size_t i = 0; i < a.size(); ++i) {
            CHECK(a[i].bucket == b[i].bucket);
            CHECK(a[i].begin == b[i].begin);
            CHECK(a[i].end == b[i].end);
        }
    }
}
