#include "word_lists.h"

#include <algorithm>
#include <array>
#include <bit>
#include <set>

namespace tandem::word_lists {
namespace {

// Vectorscan's \b without HS_FLAG_UCP: a word byte is an ASCII letter, digit or underscore;
// every byte of a multi-byte UTF-8 character is a non-word byte.
constexpr std::array<bool, 256> kWordByte = [] {
    std::array<bool, 256> t{};
    for (int b = 0; b < 256; ++b) t[static_cast<std::size_t>(b)] = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '_';
    return t;
}();
bool word_byte(char c) { return kWordByte[static_cast<unsigned char>(c)]; }

// ASCII case folding only, as the caseless databases fold (no UTF8 mode).
constexpr std::array<unsigned char, 256> kLower = [] {
    std::array<unsigned char, 256> t{};
    for (int b = 0; b < 256; ++b) t[static_cast<std::size_t>(b)] = static_cast<unsigned char>(b >= 'A' && b <= 'Z' ? b - 'A' + 'a' : b);
    return t;
}();
unsigned char lower(char c) { return kLower[static_cast<unsigned char>(c)]; }

// FNV-1a over the folded bytes of a word: the text's words are hashed as they are walked.
constexpr std::uint64_t kFnvBasis = 1469598103934665603ULL;
constexpr std::uint64_t kFnvPrime = 1099511628211ULL;
std::uint64_t word_hash(std::string_view w) {
    std::uint64_t h = kFnvBasis;
    for (const char c : w) h = (h ^ lower(c)) * kFnvPrime;
    return h;
}

// The bytes of text from `at` equal `folded` (lowercase) with the text's case folded.
bool equal_folded(const char* text, std::string_view folded) {
    for (std::size_t k = 0; k < folded.size(); ++k) {
        if (lower(text[k]) != static_cast<unsigned char>(folded[k])) return false;
    }
    return true;
}

}  // namespace

bool PhraseIndex::fits(const std::vector<std::string>& phrases) {
    if (phrases.empty()) return false;
    return std::all_of(phrases.begin(), phrases.end(),
                       [](const std::string& p) { return !p.empty() && word_byte(p.front()) && word_byte(p.back()); });
}

void PhraseIndex::add(unsigned int pattern, const std::vector<std::string>& phrases, std::uint8_t roles) {
    // Two phrases of one pattern end at one offset only when one is a tail of the other that
    // starts at a word start inside it ("sin embargo" and "embargo"); then the report of the
    // later start must be dropped, as Vectorscan reports each end once. Known here, so the
    // check costs nothing for the patterns without such a pair (nearly all).
    const std::set<std::string_view> all(phrases.begin(), phrases.end());
    bool may_repeat_end = false;
    for (const auto& p : phrases) {
        for (std::size_t k = 1; k < p.size() && !may_repeat_end; ++k) {
            if (!word_byte(p[k - 1]) && word_byte(p[k]) && all.contains(std::string_view(p).substr(k))) may_repeat_end = true;
        }
    }
    for (const auto& p : phrases) {
        std::size_t w = 0;
        while (w < p.size() && word_byte(p[w])) ++w;
        pending_.push_back(Pending{p.substr(0, w), Phrase{p.substr(w), pattern, roles, may_repeat_end}});
    }
}

void PhraseIndex::build() {
    // Grouped by first word (stable: within a group, phrases keep the order they were added).
    std::stable_sort(pending_.begin(), pending_.end(), [](const Pending& a, const Pending& b) { return a.first_word < b.first_word; });
    std::size_t groups = 0;
    for (std::size_t i = 0; i < pending_.size(); ++i) groups += i == 0 || pending_[i].first_word != pending_[i - 1].first_word ? 1 : 0;
    slots_.assign(std::bit_ceil(std::max<std::size_t>(2 * groups, 16)), Slot{});
    const std::size_t mask = slots_.size() - 1;
    phrases_.clear();
    first_words_.clear();
    for (std::size_t i = 0; i < pending_.size();) {
        std::size_t j = i;
        while (j < pending_.size() && pending_[j].first_word == pending_[i].first_word) ++j;
        const std::uint64_t h = word_hash(pending_[i].first_word);
        std::size_t at = h & mask;
        while (slots_[at].count != 0) at = (at + 1) & mask;
        slots_[at] = Slot{h, static_cast<std::uint32_t>(first_words_.size()), static_cast<std::uint32_t>(phrases_.size()),
                          static_cast<std::uint32_t>(j - i)};
        first_words_.push_back(pending_[i].first_word);
        for (std::size_t k = i; k < j; ++k) phrases_.push_back(std::move(pending_[k].phrase));
        i = j;
    }
    pending_.clear();
    pending_.shrink_to_fit();
}

void PhraseIndex::reports(std::string_view text, std::uint8_t roles, std::vector<RawReport>& raw) const {
    if (phrases_.empty()) return;
    const std::size_t first = raw.size();
    const std::size_t n = text.size();
    const std::size_t mask = slots_.size() - 1;
    std::size_t s = 0;
    while (s < n) {
        if (!word_byte(text[s])) {
            ++s;
            continue;
        }
        // A word of the text, [s, end), hashed as it is walked.
        std::uint64_t h = kFnvBasis;
        std::size_t end = s;
        while (end < n && word_byte(text[end])) h = (h ^ lower(text[end++])) * kFnvPrime;
        for (std::size_t at = h & mask; slots_[at].count != 0; at = (at + 1) & mask) {
            const Slot& slot = slots_[at];
            if (slot.hash != h) continue;
            const std::string& word = first_words_[slot.word];
            if (word.size() != end - s || !equal_folded(text.data() + s, word)) continue;
            for (std::uint32_t k = slot.first; k < slot.first + slot.count; ++k) {
                const Phrase& p = phrases_[k];
                if ((p.roles & roles) == 0) continue;
                const std::size_t e = end + p.rest.size();
                if (!p.rest.empty()) {
                    // The rest opens with a non-word byte and closes with a word byte: the text
                    // must hold it, then a word boundary.
                    if (e > n || !equal_folded(text.data() + end, p.rest) || (e < n && word_byte(text[e]))) continue;
                }
                bool reported = false;  // this end already, from an earlier (leftmost) start
                if (p.may_repeat_end) {
                    for (std::size_t i = first; i < raw.size() && !reported; ++i) reported = raw[i].id == p.pattern && raw[i].to == e;
                }
                if (!reported) raw.push_back(RawReport{p.pattern, s, e});
            }
            break;
        }
        s = end;
    }
}

}  // namespace tandem::word_lists
