#pragma once
// The phrase patterns of a rule set (finite sets of words and phrases between word boundaries,
// "\\b(?:i|im|me)\\b", "\\b(?:kill|end) (?:myself|my life)\\b") matched at word starts outside
// Vectorscan, and the raw report both kinds of scan produce. Private to common/risk:
// rule_set.cpp builds the index at load and merges these reports with the database's before
// ordering them.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::word_lists {

/// One report as Vectorscan delivered it (or PhraseIndex::reports() made it), before ordering
/// and merging.
struct RawReport {
    unsigned int id;
    unsigned long long from;
    unsigned long long to;
};

/// Every phrase pattern of a rule set, by the first word of its phrases. Why outside
/// Vectorscan: these patterns are most of a rule set (about 700 of 1,174 today) and their
/// short words ("i", "me", "no", "my") hit Vectorscan's literal matcher all through a text,
/// while here a text costs one hash and one table probe per word whatever the number of
/// phrases. Reports are made as Vectorscan makes them with start tracking (for each end, the
/// leftmost start) and join the database's before order_reports(), so the matches, and their
/// order, are the same as when the patterns were in the database. Immutable once built: any
/// thread may call reports().
class PhraseIndex {
public:
    /// Whether every phrase of a set can be matched here: non-empty, starting and ending with a
    /// word byte (ASCII letter, digit, '_'), so the pattern's \b's are the phrase's edges.
    static bool fits(const std::vector<std::string>& phrases);

    /// Adds the phrases (lowercase, fits()) of compiled pattern `pattern`, scanned for the roles
    /// whose bit (1 << SpeakerRole) is in `roles`. Before build() only.
    void add(unsigned int pattern, const std::vector<std::string>& phrases, std::uint8_t roles);

    /// Makes the lookup table; call once after the last add().
    void build();

    /// Whether no phrase was added.
    bool empty() const noexcept { return phrases_.empty(); }

    /// Appends the reports of the patterns for `roles` matching in text, in one pass over its
    /// word starts (starts ascending, so the first report of a pattern's end has its leftmost
    /// start). Case is folded for ASCII letters, as the caseless databases do.
    void reports(std::string_view text, std::uint8_t roles, std::vector<RawReport>& raw) const;

private:
    struct Phrase {
        std::string rest;           ///< the bytes after the key (empty, or from a non-word byte)
        unsigned int pattern = 0;
        std::uint8_t roles = 0;
        bool may_repeat_end = false;  ///< another phrase of the pattern can end where this one does
    };
    /// A key's phrases. Keys are a phrase's first word, or for a phrase of several words its
    /// first two words with what stands between them ("i want", "mother-in"): a common first
    /// word ("i", "my") opens hundreds of phrases, and trying each at every "i" of a text cost
    /// more than the scan it replaced.
    struct Slot {
        std::uint64_t hash = 0;
        std::uint32_t key = 0;    ///< keys_ index
        std::uint32_t first = 0;  ///< phrases_[first, first + count) have this key
        std::uint32_t count = 0;
        bool used = false;
        bool opens_longer = false;  ///< one-word tables: some phrase of several words starts with it
    };
    struct Pending {
        std::string key;
        bool two_words = false;
        Phrase phrase;
    };
    struct Table {
        std::vector<Slot> slots;  // open addressing, a power of two, at most a quarter full
        unsigned shift = 60;      // slot of a hash: the top bits of its Fibonacci product
        std::size_t slot_of(std::uint64_t h) const { return static_cast<std::size_t>((h * 0x9E3779B97F4A7C15ULL) >> shift); }
        void size_for(std::size_t keys);
        const Slot* find(std::uint64_t h, std::string_view text_key, const std::vector<std::string>& keys) const;
        Slot& insert(std::uint64_t h);
    };

    std::vector<Pending> pending_;  // until build()
    std::vector<Phrase> phrases_;   // grouped by key
    std::vector<std::string> keys_;
    Table one_word_;   // keyed by the first word
    Table two_words_;  // keyed by the first two words and their separator
};

}  // namespace tandem::word_lists
