#pragma once
// Where matches start, worked out after a scan that reported only where they end. Private to
// common/risk: rule_set.cpp plans each pattern's way at compile time and calls fill_starts()
// after every scan of its ends-only databases.
//
// Why: start-of-match tracking (HS_FLAG_SOM_LEFTMOST) was the largest single cost of a scan
// (a throwaway build without it took a patient scan from 69.4k to 45.9k instructions), and a
// start is needed only for the few patterns that matched. The first attempt (docs/PERFORMANCE.md,
// "Ends-only scan with starts afterwards") found starts with a trie of reversed literals and
// one-pattern scans from the text's beginning, which cost most of what it saved; here a start
// costs nothing for a pattern of fixed width, and otherwise one scan of a one-pattern database
// over only the bytes a match ending there can span.

#include <hs.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "word_lists.h"

namespace tandem::match_starts {

/// How a pattern's start offsets are found.
enum class StartHow : std::uint8_t {
    reported,  ///< the scan reports them (start tracking compiled in, a word list, or a wide
               ///< `.{0,N}` pattern whose span order_reports() derives from its width)
    fixed,     ///< every match has the same width: start = end - width
    literals,  ///< a finite set of strings between word boundaries: the longest that ends there
    window,    ///< a one-pattern database with start tracking, scanned over the window a match
               ///< ending there can span: [end - max width - 1, end + 2)
    reversed,  ///< the pattern written backwards, anchored, scanned backwards from the end over
               ///< the same window: its longest match reaches the leftmost start
};

/// How many values StartHow has (for reading a cache file).
inline constexpr std::uint32_t kStartHows = 5;

/// A pattern's way to its start offsets.
struct StartRule {
    StartHow how = StartHow::reported;
    std::uint32_t width = 0;  ///< fixed: the width; window: the greatest width (kUnbounded: none)
};

/// A window pattern's greatest width when it has none (`+`, `*`): the window opens at byte 0.
inline constexpr std::uint32_t kUnbounded = 0xffffffffu;

/// A pattern that is a finite set of strings, `\b(?:one|two (?:three|four)?)\b`: the leftmost
/// start of a match ending at an offset is that of the longest string of the set the text ends
/// with there (with a word boundary before it if the pattern opens with `\b`; a closing `\b`
/// holds alike for every string ending there, and the scan has shown that one does). Cheaper
/// than any scan: a few comparisons of the bytes before the end.
struct LiteralSet {
    bool boundary_before = false;
    std::vector<std::uint32_t> lengths;            ///< distinct lengths, longest first
    std::vector<std::vector<std::string>> by_length; ///< lengths[k]'s strings, lowercase, sorted
};

/// The strings of pattern if it is literals, escaped punctuation, groups, alternation, `?` and
/// small character classes, with `\b` only first and last (at most 4,096 strings); nullopt for
/// anything else (`\w`, `.`, `*`, `+`, repeats, anchors): those take a window scan. Any thread.
std::optional<LiteralSet> literal_set(std::string_view pattern);

/// The pattern written backwards (a match of it on the reversed text is a match of the pattern
/// on the text): each sequence's items in reverse order, groups reversed inside, `^` (the text's
/// start) becoming `\z`; nullopt for what has no reverse here (`$`, `\A`, `\z`, back
/// references, options, lookaround, \Q..\E): those take the forward window scan. Sets
/// anchored_start when the pattern holds `^`, so its window must open at byte 0. Any thread.
std::optional<std::string> reversed_pattern(std::string_view pattern, bool& anchored_start);

/// The two expressions of a reversed pattern's database, both anchored at the reversed text's
/// start: id 0 first steps over one byte (the byte after the end, there when the end is not the
/// text's end, so a `\b` at the end sees it), id 1 does not.
std::vector<std::string> reversed_expressions(const std::string& reversed);

/// Everything fill_starts() needs, per compiled pattern index.
struct StartPlan {
    std::span<const StartRule> rules;
    std::span<const LiteralSet> literals;    ///< filled for literals patterns
    std::span<hs_database_t* const> windows; ///< the one-pattern database of window and reversed patterns
};

/// Sets `from` of every report of raw (reports as the ends-only database delivered them, before
/// ordering) whose pattern is fixed or window, to the leftmost start of a match of that pattern
/// ending at `to`: exactly what the same pattern compiled with HS_FLAG_SOM_LEFTMOST reports.
/// scratch must fit every window database. A report no way confirms is dropped (see the .cpp).
/// Any thread (scratch is the caller's).
void fill_starts(std::string_view text, const StartPlan& plan, hs_scratch_t* scratch, std::vector<word_lists::RawReport>& raw);

}  // namespace tandem::match_starts
