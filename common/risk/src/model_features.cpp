// The learned model's features (docs/RISK.md, "Learned model (third pass)"): words and character
// n-grams of normalised text hashed into buckets, the lexicon's terms, the context turns' words.
// Split from learned_model.cpp (loading and scoring): both sides must hash exactly as
// scripts/risk/train_model.py does.
#include "tandem/risk/learned_model.h"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "embedded.h"

namespace tandem {
namespace {

constexpr std::uint64_t kFnvOffset = 1469598103934665603ULL;
constexpr std::uint64_t kFnvPrime = 1099511628211ULL;
constexpr std::uint32_t kBucketMask = (1U << risk_model_hash_bits) - 1;
// Character n-grams of very long "words" (URLs, keyboard mashing) add cost and no signal.
constexpr std::size_t kMaxCharGramWord = 24;

// FNV-1a over a tag byte and the feature's bytes, then a murmur-style finaliser so the low
// bits used as the bucket depend on every input byte (plain FNV's low bits mix poorly).
struct FeatureHash {
    std::uint64_t h;
    explicit FeatureHash(char tag) : h((kFnvOffset ^ static_cast<unsigned char>(tag)) * kFnvPrime) {}
    FeatureHash& add(std::string_view s) {
        for (unsigned char c : s) {
            h ^= c;
            h *= kFnvPrime;
        }
        return *this;
    }
    FeatureHash& sep() {
        h ^= 0x1F;
        h *= kFnvPrime;
        return *this;
    }
    std::uint32_t bucket() const {
        std::uint64_t x = h;
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdULL;
        x ^= x >> 33;
        return static_cast<std::uint32_t>(x) & kBucketMask;
    }
};

// The hashes below, written out for the hot path: the same values as FeatureHash.
constexpr std::uint64_t fnv_step(std::uint64_t h, unsigned char c) { return (h ^ c) * kFnvPrime; }
constexpr std::uint64_t tag_state(char tag) { return fnv_step(kFnvOffset, static_cast<unsigned char>(tag)); }
inline std::uint32_t finish_bucket(std::uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return static_cast<std::uint32_t>(x) & kBucketMask;
}
template <std::size_t N>
inline std::uint32_t gram_bucket(const char* p) {
    std::uint64_t h = tag_state(static_cast<char>('0' + N));
    for (std::size_t k = 0; k < N; ++k) h = fnv_step(h, static_cast<unsigned char>(p[k]));
    return finish_bucket(h);
}

// Word bytes of normalised text: letters, digits and non-ASCII bytes. A table rather than
// three comparisons: every feature function walks the text through it.
constexpr std::array<bool, 256> kWordByte = [] {
    std::array<bool, 256> t{};
    for (int c = 0; c < 256; ++c) t[static_cast<std::size_t>(c)] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
    return t;
}();
bool word_byte(unsigned char c) { return kWordByte[c]; }

using Token = ModelToken;

// Words of normalised text (already lowercase): runs of letters, digits and non-ASCII bytes.
template <class F>
void for_each_token(std::string_view s, F&& f) {
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && !word_byte(static_cast<unsigned char>(s[i]))) ++i;
        const std::size_t b = i;
        while (i < s.size() && word_byte(static_cast<unsigned char>(s[i]))) ++i;
        if (i > b) f(Token{static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(i)});
    }
}

char role_tag(SpeakerRole role) {
    switch (role) {
        case SpeakerRole::patient: return 'p';
        case SpeakerRole::ai: return 'a';
        case SpeakerRole::clinician: return 'c';
    }
    return 'p';
}

// Hash of a word sequence, extended one word at a time (the same for terms and for text).
std::uint64_t extend_words(std::uint64_t h, std::string_view word) {
    for (unsigned char c : word) {
        h ^= c;
        h *= kFnvPrime;
    }
    h ^= 0x1F;
    h *= kFnvPrime;
    return h;
}

}  // namespace

Result<RiskLexicon> RiskLexicon::load(std::string_view json_text) {
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(json_text);
    } catch (const std::exception& e) {
        return fail(ErrorCode::parse, std::string("risk lexicon is not JSON: ") + e.what());
    }
    if (!doc.is_object() || !doc.contains("format") || doc["format"] != 1 || !doc.contains("constructs") ||
        !doc["constructs"].is_array() || !doc.contains("name") || !doc["name"].is_string() || !doc.contains("version") ||
        !doc["version"].is_string()) {
        return fail(ErrorCode::parse, "risk lexicon: expected {format: 1, name, version, constructs: [...]}");
    }
    RiskLexicon lex;
    lex.version_ = doc["name"].get<std::string>() + "@" + doc["version"].get<std::string>();
    // Terms are normalised like messages (apostrophes dropped, letters squeezed), without the
    // rule files' substitutions: a term is already written out in full.
    const Normalizer normalizer;
    std::vector<std::uint64_t> prefixes;
    for (const auto& c : doc["constructs"]) {
        if (!c.contains("name") || !c["name"].is_string() || !c.contains("terms") || !c["terms"].is_array()) {
            return fail(ErrorCode::parse, "risk lexicon: a construct needs a name and terms");
        }
        const std::uint32_t bucket = FeatureHash('K').add(c["name"].get<std::string>()).bucket();
        for (const auto& t : c["terms"]) {
            if (!t.is_string()) return fail(ErrorCode::parse, "risk lexicon: terms are strings");
            const std::string norm = normalizer.canonical(t.get<std::string>());
            std::uint64_t h = kFnvOffset;
            std::size_t words = 0;
            for_each_token(norm, [&](Token tok) {
                if (words > 0) prefixes.push_back(h);
                h = extend_words(h, std::string_view(norm).substr(tok.begin, tok.end - tok.begin));
                ++words;
            });
            if (words == 0) continue;
            lex.max_words_ = std::max(lex.max_words_, words);
            lex.terms_.push_back(Term{h, bucket});
        }
    }
    std::sort(lex.terms_.begin(), lex.terms_.end(), [](const Term& a, const Term& b) {
        return a.hash != b.hash ? a.hash < b.hash : a.bucket < b.bucket;
    });
    lex.terms_.erase(std::unique(lex.terms_.begin(), lex.terms_.end(),
                                 [](const Term& a, const Term& b) { return a.hash == b.hash && a.bucket == b.bucket; }),
                     lex.terms_.end());
    std::size_t size = 16;
    while (size < 2 * (lex.terms_.size() + prefixes.size())) size *= 2;
    lex.table_.assign(size, Slot{});
    for (std::size_t i = 0; i < lex.terms_.size();) {
        std::size_t j = i;
        while (j < lex.terms_.size() && lex.terms_[j].hash == lex.terms_[i].hash) ++j;
        Slot& slot = lex.insert(lex.terms_[i].hash);
        slot.first = static_cast<std::uint32_t>(i);
        slot.count = static_cast<std::uint16_t>(j - i);
        i = j;
    }
    for (std::uint64_t p : prefixes) lex.insert(p).prefix = true;
    return lex;
}

RiskLexicon::Slot& RiskLexicon::insert(std::uint64_t hash) {
    const std::size_t mask = table_.size() - 1;
    for (std::size_t i = static_cast<std::size_t>(hash ^ (hash >> 29)) & mask;; i = (i + 1) & mask) {
        Slot& s = table_[i];
        if (!s.used) {
            s.used = true;
            s.hash = hash;
            return s;
        }
        if (s.hash == hash) return s;
    }
}

const RiskLexicon::Slot* RiskLexicon::find(std::uint64_t hash) const {
    const std::size_t mask = table_.size() - 1;
    for (std::size_t i = static_cast<std::size_t>(hash ^ (hash >> 29)) & mask;; i = (i + 1) & mask) {
        const Slot& s = table_[i];
        if (!s.used) return nullptr;
        if (s.hash == hash) return &s;
    }
}

const RiskLexicon& RiskLexicon::builtin() {
    static const RiskLexicon lexicon = [] {
        auto l = load(embedded::risk_lexicon());
        if (!l) throw std::runtime_error("built-in risk lexicon does not load: " + l.error().describe());
        return std::move(*l);
    }();
    return lexicon;
}

void RiskLexicon::add_features(std::string_view s, std::vector<ModelFeatureHit>& out) const {
    if (table_.empty()) return;
    thread_local std::vector<Token> tokens;
    model_tokens(s, tokens);
    add_features(s, tokens, out);
}

void RiskLexicon::add_features(std::string_view s, std::span<const ModelToken> tokens, std::vector<ModelFeatureHit>& out) const {
    if (table_.empty()) return;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        std::uint64_t h = kFnvOffset;
        for (std::size_t n = 1; n <= max_words_ && i + n <= tokens.size(); ++n) {
            const Token& t = tokens[i + n - 1];
            h = extend_words(h, s.substr(t.begin, t.end - t.begin));
            const Slot* slot = find(h);
            if (!slot) break;  // neither a term nor the start of one
            for (std::uint32_t k = 0; k < slot->count; ++k) {
                out.push_back({terms_[slot->first + k].bucket, tokens[i].begin, t.end, true});
            }
            if (!slot->prefix) break;
        }
    }
}

void model_tokens(std::string_view s, std::vector<ModelToken>& out) {
    out.clear();
    for_each_token(s, [&](Token t) { out.push_back(t); });
}

void add_message_features(std::string_view s, SpeakerRole role, std::vector<ModelFeatureHit>& out) {
    thread_local std::vector<Token> tokens;
    model_tokens(s, tokens);
    add_message_features(s, tokens, role, out);
}

void add_message_features(std::string_view s, std::span<const ModelToken> tokens, SpeakerRole role,
                          std::vector<ModelFeatureHit>& out) {
    const char rt = role_tag(role);
    const char role_name[2] = {rt, 0};
    // The hits are written through a pointer into a per-thread buffer sized for the most a text
    // can yield (the role, then per word three word-level hits and at most three n-grams per
    // byte), then appended at once: push_back's capacity test per hit cost more than the store.
    thread_local std::vector<ModelFeatureHit> buffer;
    const std::size_t bound = 1 + 3 * tokens.size() + 3 * s.size();
    if (buffer.size() < bound) buffer.resize(bound);
    ModelFeatureHit* o = buffer.data();
    *o++ = {FeatureHash('r').add(std::string_view(role_name, 1)).bucket(), 0, 0, false};
    // The hashes are FeatureHash's, computed in place (same values, so the same model file):
    // the state after a constant prefix is computed once. This is the model's hot path (a few
    // hundred features per message). The four hashes that run over a whole word (word,
    // role-tagged word, bigram with the word before, and the next bigram's prefix) share one
    // pass over its bytes, and the 3-, 4- and 5-grams starting at one byte share its loads;
    // each kind is still written in the order the model was trained on (every 3-gram of a word,
    // then every 4-gram, then every 5-gram), since the score sums in that order.
    const std::uint64_t w_prefix = tag_state('w');
    const std::uint64_t x_prefix = fnv_step(fnv_step(tag_state('x'), static_cast<unsigned char>(rt)), 0x1F);
    const std::uint64_t b_tag = tag_state('b');
    std::uint64_t b_prefix = 0;  // FeatureHash('b').add(previous word).sep()
    for (std::size_t k = 0; k < tokens.size(); ++k) {
        const Token t = tokens[k];
        const auto* w = reinterpret_cast<const unsigned char*>(s.data()) + t.begin;
        const std::size_t len = t.end - t.begin;
        std::uint64_t hw = w_prefix, hx = x_prefix, hb = b_prefix, hn = b_tag;
        for (std::size_t i = 0; i < len; ++i) {
            hw = fnv_step(hw, w[i]);
            hx = fnv_step(hx, w[i]);
            hb = fnv_step(hb, w[i]);
            hn = fnv_step(hn, w[i]);
        }
        *o++ = {finish_bucket(hw), t.begin, t.end, true};
        // The same word means something else from the AI ("overdose" in a reply may be means
        // information) than from the patient.
        *o++ = {finish_bucket(hx), t.begin, t.end, false};
        if (k > 0) *o++ = {finish_bucket(hb), tokens[k - 1].begin, t.end, true};
        b_prefix = fnv_step(hn, 0x1F);
        // Character n-grams of the word padded with spaces: they carry misspellings, plurals
        // and word pieces ("overdos", "pils") that no whole-word feature has seen.
        if (len > kMaxCharGramWord) continue;
        unsigned char p[kMaxCharGramWord + 2];
        p[0] = ' ';
        std::memcpy(p + 1, w, len);
        p[len + 1] = ' ';
        const std::size_t n3 = len, n4 = len - 1, n5 = len >= 2 ? len - 2 : 0;
        ModelFeatureHit* o3 = o;
        ModelFeatureHit* o4 = o3 + n3;
        ModelFeatureHit* o5 = o4 + n4;
        constexpr std::uint64_t s3 = tag_state('3'), s4 = tag_state('4'), s5 = tag_state('5');
        std::size_t i = 0;
        for (; i < n5; ++i) {
            const unsigned char c0 = p[i], c1 = p[i + 1], c2 = p[i + 2], c3 = p[i + 3], c4 = p[i + 4];
            const std::uint64_t h3 = fnv_step(fnv_step(fnv_step(s3, c0), c1), c2);
            const std::uint64_t h4 = fnv_step(fnv_step(fnv_step(fnv_step(s4, c0), c1), c2), c3);
            const std::uint64_t h5 = fnv_step(fnv_step(fnv_step(fnv_step(fnv_step(s5, c0), c1), c2), c3), c4);
            o3[i] = {finish_bucket(h3), t.begin, t.end, false};
            o4[i] = {finish_bucket(h4), t.begin, t.end, false};
            o5[i] = {finish_bucket(h5), t.begin, t.end, false};
        }
        for (; i < n4; ++i) {
            o3[i] = {gram_bucket<3>(reinterpret_cast<const char*>(p) + i), t.begin, t.end, false};
            o4[i] = {gram_bucket<4>(reinterpret_cast<const char*>(p) + i), t.begin, t.end, false};
        }
        for (; i < n3; ++i) o3[i] = {gram_bucket<3>(reinterpret_cast<const char*>(p) + i), t.begin, t.end, false};
        o = o5 + n5;
    }
    out.insert(out.end(), buffer.data(), o);
}

std::size_t count_words(std::string_view s) {
    std::size_t n = 0;
    for_each_token(s, [&](Token) { ++n; });
    return n;
}

void add_context_features(std::string_view s, SpeakerRole role, int distance, std::vector<std::uint32_t>& out) {
    const char tag[2] = {role_tag(role), static_cast<char>('0' + distance)};
    const std::string_view t2(tag, 2);
    std::optional<Token> prev;
    for_each_token(s, [&](Token t) {
        const std::string_view w = s.substr(t.begin, t.end - t.begin);
        out.push_back(FeatureHash('u').add(t2).sep().add(w).bucket());
        if (prev) {
            const std::string_view pw = s.substr(prev->begin, prev->end - prev->begin);
            out.push_back(FeatureHash('v').add(t2).sep().add(pw).sep().add(w).bucket());
        }
        prev = t;
    });
}

}  // namespace tandem
