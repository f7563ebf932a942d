#pragma once
// The word lists of a rule set (first-person and clause-break rules of plain words) matched at
// word starts outside Vectorscan, and the raw report both kinds of scan produce. Private to
// common/risk: rule_set.cpp builds the index at load and merges these reports with the
// database's before ordering them.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/risk/rule_set.h"

namespace tandem::word_lists {

/// One report as Vectorscan delivered it (or word_reports() made it), before ordering and merging.
struct RawReport {
    unsigned int id;
    unsigned long long from;
    unsigned long long to;
};

/// The first-person and clause-break rules are lists of whole words ("\\b(?:i|im|me)\\b") that
/// match several times in nearly every text, which costs Vectorscan's database more than
/// comparing words at word starts does (the wordlists experiment measured -3.1% a message).
/// Their reports are made here, as Vectorscan makes them with start tracking (for each end, the
/// leftmost start), and join the database's reports before order_reports(), so the matches,
/// and their order, are the same as when the patterns were in the database. Other kinds stay in
/// Vectorscan.
struct WordList {
    unsigned int pattern = 0;
    std::vector<std::string> words;  // lowercased
    bool multi_word = false;         // a word with a space: two starts may reach one end
};

/// One word of a list, filed under its first byte (both cases): a word start looks only at the
/// words that begin with its byte.
struct WordEntry {
    std::string word;
    unsigned int pattern = 0;
    std::uint8_t list = 0;  // bit in the role masks
    bool multi_word = false;
};
/// A rule set's words by their first byte.
using WordIndex = std::array<std::vector<WordEntry>, 256>;

/// The alternatives of a pattern of the form \b(?:w1|w2|...)\b or \bw\b, each w ASCII letters
/// and digits with single spaces between words, lowercased (the patterns compile caseless);
/// nullopt for any other pattern.
std::optional<std::vector<std::string>> word_alternatives(std::string_view p);

/// Whether rules of this kind are matched as word lists when their pattern is plain words.
bool word_list_kind(RuleKind kind);

/// Appends the reports of the word lists whose bit is in lists, in one pass over the word starts
/// of text (starts ascending, so the first report of an end has its leftmost start).
void word_reports(std::string_view text, const WordIndex& index, std::uint64_t lists, std::vector<RawReport>& raw);

}  // namespace tandem::word_lists
