#include "word_lists.h"

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

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

// The alternatives of a pattern of the form \b(?:w1|w2|...)\b or \bw\b, each w ASCII letters
// and digits with single spaces between words, lowercased (the patterns compile caseless);
// nullopt for any other pattern.
std::optional<std::vector<std::string>> word_alternatives(std::string_view p) {
    if (!p.starts_with("\\b") || !p.ends_with("\\b") || p.size() < 5) return std::nullopt;
    p = p.substr(2, p.size() - 4);
    if (p.starts_with("(?:") && p.ends_with(")")) p = p.substr(3, p.size() - 4);
    std::vector<std::string> words(1);
    for (const char c : p) {
        if (c == '|') {
            words.emplace_back();
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ') {
            words.back().push_back(ascii_lower(c));
        } else {
            return std::nullopt;
        }
    }
    for (const auto& w : words) {
        // A word starts and ends with a word byte (so \b is its edge) and has no double space.
        if (w.empty() || w.front() == ' ' || w.back() == ' ' || w.find("  ") != std::string::npos) return std::nullopt;
    }
    return words;
}

bool word_list_kind(RuleKind kind) { return kind == RuleKind::first_person || kind == RuleKind::boundary; }

// Appends the reports of the word lists whose bit is in lists, in one pass over the word starts
// of text (starts ascending, so the first report of an end has its leftmost start).
void word_reports(std::string_view text, const WordIndex& index, std::uint64_t lists, std::vector<RawReport>& raw) {
    const std::size_t first = raw.size();
    const std::size_t n = text.size();
    std::size_t s = 0;
    while (s < n) {
        if (!word_byte(text[s])) {
            ++s;
            continue;
        }
        // A word of the text: [s, end). A listed word of one token must be exactly it; one of
        // several tokens ("sin embargo") starts with it and runs on.
        std::size_t end = s + 1;
        while (end < n && word_byte(text[end])) ++end;
        for (const WordEntry& w : index[static_cast<unsigned char>(text[s])]) {
            const std::size_t e = s + w.word.size();
            if (w.multi_word ? (e > n || (e < n && word_byte(text[e]))) : e != end) continue;
            if (((lists >> w.list) & 1U) == 0) continue;
            bool same = true;
            for (std::size_t k = 1; k < w.word.size() && same; ++k) same = ascii_lower(text[s + k]) == w.word[k];
            if (!same) continue;
            bool reported = false;  // this end already, from an earlier (leftmost) start
            if (w.multi_word) {
                for (std::size_t i = first; i < raw.size() && !reported; ++i) reported = raw[i].id == w.pattern && raw[i].to == e;
            }
            if (!reported) raw.push_back(RawReport{w.pattern, s, e});
        }
        s = end;
    }
}


}  // namespace tandem::word_lists
