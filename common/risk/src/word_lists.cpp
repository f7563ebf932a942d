#include "word_lists.h"

#include <algorithm>
#include <array>
#include <bit>

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

// The hash of a key of two words (first, the non-word bytes between, second) from the words'
// own hashes, so a text's word is hashed once however many keys it is part of.
std::uint64_t pair_hash(std::uint64_t first, std::string_view between, std::uint64_t second) {
    std::uint64_t h = first * 0xff51afd7ed558ccdULL;
    for (const char c : between) h = (h ^ lower(c)) * kFnvPrime;
    return (h * 0xc4ceb9fe1a85ec53ULL) ^ second;
}

// The bytes of text from `at` equal `folded` (lowercase) with the text's case folded.
bool equal_folded(const char* text, std::string_view folded) {
    for (std::size_t k = 0; k < folded.size(); ++k) {
        if (lower(text[k]) != static_cast<unsigned char>(folded[k])) return false;
    }
    return true;
}

}  // namespace

// Inlined into reports(): called once or twice a word of every text scanned.
[[gnu::always_inline]] inline const PhraseIndex::Slot* PhraseIndex::Table::find(std::uint64_t h, std::string_view text_key, const std::vector<std::string>& keys) const {
    const std::size_t mask = slots.size() - 1;
    for (std::size_t at = slot_of(h); slots[at].used; at = (at + 1) & mask) {
        const Slot& slot = slots[at];
        if (slot.hash != h) continue;
        const std::string& key = keys[slot.key];
        if (key.size() == text_key.size() && equal_folded(text_key.data(), key)) return &slot;
    }
    return nullptr;
}

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
    // (A sorted vector, not a std::set: the load builds one per pattern, about 700.)
    std::vector<std::string_view> all(phrases.begin(), phrases.end());
    std::sort(all.begin(), all.end());
    bool may_repeat_end = false;
    for (const auto& p : phrases) {
        for (std::size_t k = 1; k < p.size() && !may_repeat_end; ++k) {
            if (!word_byte(p[k - 1]) && word_byte(p[k]) && std::binary_search(all.begin(), all.end(), std::string_view(p).substr(k))) {
                may_repeat_end = true;
            }
        }
    }
    for (const auto& p : phrases) {
        // The key: the first word, or the first word, the non-word bytes after it and the
        // second word. In a text these are whole runs: a phrase's word is followed by a non-word
        // byte or the phrase's end (then the closing \b), so the text's word must be it exactly.
        std::size_t w = 0;
        while (w < p.size() && word_byte(p[w])) ++w;
        bool two = false;
        if (w < p.size()) {
            two = true;
            while (w < p.size() && !word_byte(p[w])) ++w;
            while (w < p.size() && word_byte(p[w])) ++w;
        }
        pending_.push_back(Pending{p.substr(0, w), two, Phrase{p.substr(w), pattern, roles, may_repeat_end}});
    }
}

void PhraseIndex::Table::size_for(std::size_t keys) {
    // At most a quarter full, and indexed by the top bits of the hash times 2^64 / phi: FNV-1a
    // spreads a word's last byte poorly, so its own low bits (or its top bits) made a miss probe
    // about 7 slots.
    slots.assign(std::bit_ceil(std::max<std::size_t>(4 * keys, 16)), Slot{});
    shift = 64 - static_cast<unsigned>(std::countr_zero(slots.size()));
}

PhraseIndex::Slot& PhraseIndex::Table::insert(std::uint64_t h) {
    const std::size_t mask = slots.size() - 1;
    std::size_t at = slot_of(h);
    while (slots[at].used) at = (at + 1) & mask;
    slots[at].used = true;
    slots[at].hash = h;
    return slots[at];
}

void PhraseIndex::build() {
    // Grouped by key (stable: within a group, phrases keep the order they were added); an
    // order of indexes is sorted, not the entries and their strings.
    std::vector<std::uint32_t> order(pending_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::uint32_t>(i);
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t x, std::uint32_t y) {
        const Pending& a = pending_[x];
        const Pending& b = pending_[y];
        return a.two_words != b.two_words ? b.two_words : a.key < b.key;
    });
    std::vector<std::string_view> first_words;  // of every key, for the one-word table
    std::size_t two_keys = 0;
    for (std::size_t i = 0; i < order.size(); ++i) {
        const std::string& k = pending_[order[i]].key;
        std::size_t w = 0;
        while (w < k.size() && word_byte(k[w])) ++w;
        first_words.push_back(std::string_view(k).substr(0, w));
        two_keys += pending_[order[i]].two_words && (i == 0 || k != pending_[order[i - 1]].key) ? 1 : 0;
    }
    std::sort(first_words.begin(), first_words.end());
    first_words.erase(std::unique(first_words.begin(), first_words.end()), first_words.end());
    one_word_.size_for(first_words.size());
    two_words_.size_for(two_keys);
    phrases_.clear();
    keys_.clear();
    auto one_word_slot = [&](const std::string& word) -> Slot& {
        const std::uint64_t h = word_hash(word);
        if (const Slot* s = one_word_.find(h, word, keys_)) return const_cast<Slot&>(*s);
        Slot& s = one_word_.insert(h);
        s.key = static_cast<std::uint32_t>(keys_.size());
        keys_.push_back(word);
        return s;
    };
    for (std::size_t i = 0; i < order.size();) {
        const Pending& at = pending_[order[i]];
        std::size_t j = i;
        while (j < order.size() && pending_[order[j]].two_words == at.two_words && pending_[order[j]].key == at.key) ++j;
        const std::string& key = at.key;
        const auto first = static_cast<std::uint32_t>(phrases_.size());
        const auto count = static_cast<std::uint32_t>(j - i);
        if (at.two_words) {
            std::size_t w = 0;
            while (w < key.size() && word_byte(key[w])) ++w;
            one_word_slot(key.substr(0, w)).opens_longer = true;
            std::size_t w2 = w;
            while (w2 < key.size() && !word_byte(key[w2])) ++w2;
            const std::string_view k(key);
            Slot& s = two_words_.insert(pair_hash(word_hash(k.substr(0, w)), k.substr(w, w2 - w), word_hash(k.substr(w2))));
            s.key = static_cast<std::uint32_t>(keys_.size());
            keys_.push_back(key);
            s.first = first;
            s.count = count;
        } else {
            Slot& s = one_word_slot(key);
            s.first = first;
            s.count = count;
        }
        for (std::size_t k = i; k < j; ++k) phrases_.push_back(std::move(pending_[order[k]].phrase));
        i = j;
    }
    pending_.clear();
    pending_.shrink_to_fit();
}

void PhraseIndex::reports(std::string_view text, std::uint8_t roles, std::vector<RawReport>& raw) const {
    if (phrases_.empty()) return;
    const std::size_t first = raw.size();
    const std::size_t n = text.size();
    // The phrases of one slot that the text holds from s, the key's end at key_end.
    auto try_slot = [&](const Slot& slot, std::size_t s, std::size_t key_end) {
        for (std::uint32_t k = slot.first; k < slot.first + slot.count; ++k) {
            const Phrase& p = phrases_[k];
            if ((p.roles & roles) == 0) continue;
            const std::size_t e = key_end + p.rest.size();
            if (!p.rest.empty()) {
                // The rest opens with a non-word byte and closes with a word byte: the text
                // must hold it, then a word boundary.
                if (e > n || !equal_folded(text.data() + key_end, p.rest) || (e < n && word_byte(text[e]))) continue;
            }
            bool reported = false;  // this end already, from an earlier (leftmost) start
            if (p.may_repeat_end) {
                for (std::size_t i = first; i < raw.size() && !reported; ++i) reported = raw[i].id == p.pattern && raw[i].to == e;
            }
            if (!reported) raw.push_back(RawReport{p.pattern, s, e});
        }
    };
    // Each word is hashed once: the pair key of a word and the next is combined from their
    // hashes (pair_hash), so the next word's hash is carried over to its own turn.
    std::size_t s = 0;
    while (s < n && !word_byte(text[s])) ++s;
    std::size_t end = s;
    std::uint64_t h = kFnvBasis;
    while (end < n && word_byte(text[end])) h = (h ^ lower(text[end++])) * kFnvPrime;
    while (s < n) {
        // The word [s, end) with hash h; the next word [s2, end2) with hash h2, if any.
        std::size_t s2 = end;
        while (s2 < n && !word_byte(text[s2])) ++s2;
        std::size_t end2 = s2;
        std::uint64_t h2 = kFnvBasis;
        while (end2 < n && word_byte(text[end2])) h2 = (h2 ^ lower(text[end2++])) * kFnvPrime;
        if (const Slot* one = one_word_.find(h, text.substr(s, end - s), keys_)) {
            if (one->count != 0) try_slot(*one, s, end);
            if (one->opens_longer && s2 < n) {
                const std::uint64_t pair = pair_hash(h, text.substr(end, s2 - end), h2);
                if (const Slot* two = two_words_.find(pair, text.substr(s, end2 - s), keys_)) try_slot(*two, s, end2);
            }
        }
        s = s2;
        end = end2;
        h = h2;
    }
}

}  // namespace tandem::word_lists
