#pragma once
// Text normalisation for risk matching: rules are written against one canonical form of the
// text, and every byte of that form remembers where it came from in the original UTF-8, so
// evidence spans always point into the text the patient or the AI actually wrote.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tandem {

/// Normalised text plus a byte map back to the original UTF-8 text.
struct NormalizedText {
    std::string text;                  ///< lowercase, accents folded, no apostrophes, letters squeezed
    std::vector<std::uint32_t> begin;  ///< for each byte of text: first original byte it came from
    std::vector<std::uint32_t> end;    ///< for each byte of text: one past the last original byte

    /// Maps a normalised byte range [b, e) (b < e <= text.size()) to an original range. Any thread.
    std::pair<std::size_t, std::size_t> to_original(std::size_t b, std::size_t e) const;
};

/// Lowercases, folds Latin accents, drops apostrophes, collapses repeated letters ("soooo" and
/// "so" both become "so", "kill" becomes "kil"), maps emoji to words, replaces invalid UTF-8 by
/// spaces, collapses whitespace, then replaces whole words from the rule files' substitution
/// table (shorthand like "kms"). Immutable after construction: any thread may call normalize.
class Normalizer {
public:
    Normalizer() = default;
    /// substitutions: word -> replacement, both given in plain text (normalised here).
    explicit Normalizer(const std::vector<std::pair<std::string, std::string>>& substitutions);

    /// The canonical form of text with its byte map. Never fails. Any thread.
    NormalizedText normalize(std::string_view text) const;
    /// As normalize(text), written into out (its previous content replaced, its buffers reused:
    /// no allocation once they are large enough). Any thread.
    void normalize(std::string_view text, NormalizedText& out) const;

    /// The canonical form without the map (for substitution keys and tests). Any thread.
    std::string canonical(std::string_view text) const;

private:
    void characters(std::string_view text, NormalizedText& out) const;
    bool may_substitute(std::string_view word) const noexcept;
    // Transparent hashing: words are looked up as string_views, without allocating.
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, std::string, Hash, std::equal_to<>> substitutions_;
    // Per first byte, the lengths of the substitution keys starting with it (bit n: n bytes),
    // and likewise per last byte: nearly every word fails one of the two tests and is never
    // hashed (the first byte alone let through about one word in three).
    std::uint64_t key_lengths_[256] = {};
    std::uint64_t key_last_lengths_[256] = {};
};

/// Rewrites a rule pattern so it matches normalised text: folds accents and squeezes doubled
/// letters outside escapes ("kill" -> "kil"). Returns false with a reason when the pattern
/// contains something that can never match normalised text (an apostrophe). Any thread.
bool normalize_pattern(std::string_view pattern, std::string& out, std::string& reason);

}  // namespace tandem
