#include "match_starts.h"

#include <algorithm>
#include <limits>

#include "vectorscan_runtime.h"

namespace tandem::match_starts {
namespace {

using word_lists::RawReport;

constexpr unsigned long long kUnset = std::numeric_limits<unsigned long long>::max();
constexpr std::size_t kMaxStrings = 256;

// Vectorscan's word characters without UCP: ASCII letters, digits and '_'.
bool is_word(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// The strings of a regular expression of the literal kind (literal_set()), by recursive
// descent; nullopt as soon as anything else, or too many strings, turns up.
class Expander {
public:
    explicit Expander(std::string_view p) : p_(p) {}

    std::optional<std::vector<std::string>> whole() {
        auto out = alternation();
        if (!out || at_ != p_.size()) return std::nullopt;
        return out;
    }

private:
    using Strings = std::vector<std::string>;

    std::optional<Strings> alternation() {
        Strings out;
        while (true) {
            auto branch = sequence();
            if (!branch) return std::nullopt;
            out.insert(out.end(), branch->begin(), branch->end());
            if (out.size() > kMaxStrings) return std::nullopt;
            if (at_ < p_.size() && p_[at_] == '|') {
                ++at_;
                continue;
            }
            return out;
        }
    }

    std::optional<Strings> sequence() {
        Strings out{std::string()};
        while (at_ < p_.size() && p_[at_] != '|' && p_[at_] != ')') {
            // A plain character not made optional: appended in place (most of a pattern).
            if (const char c = p_[at_]; std::string_view("()[]\\.^$*+?{}|").find(c) == std::string_view::npos &&
                                        (at_ + 1 >= p_.size() || std::string_view("?*+{").find(p_[at_ + 1]) == std::string_view::npos)) {
                for (auto& a : out) a += lower(c);
                ++at_;
                continue;
            }
            auto item = atom();
            if (!item) return std::nullopt;
            if (at_ < p_.size() && p_[at_] == '?') {
                ++at_;
                if (at_ < p_.size() && (p_[at_] == '?' || p_[at_] == '+')) return std::nullopt;  // lazy, possessive
                item->push_back(std::string());
            }
            if (at_ < p_.size() && (p_[at_] == '*' || p_[at_] == '+' || p_[at_] == '{')) return std::nullopt;
            if (item->size() == 1) {
                // One string (a plain character, mostly): appended in place, no new vector.
                for (auto& a : out) a += item->front();
                continue;
            }
            if (out.size() * item->size() > kMaxStrings) return std::nullopt;
            Strings next;
            next.reserve(out.size() * item->size());
            for (const auto& a : out) {
                for (const auto& b : *item) next.push_back(a + b);
            }
            out = std::move(next);
        }
        return out;
    }

    std::optional<Strings> atom() {
        const char c = p_[at_];
        if (c == '(') {
            ++at_;
            if (at_ < p_.size() && p_[at_] == '?') {
                if (at_ + 1 >= p_.size() || p_[at_ + 1] != ':') return std::nullopt;  // flags, lookaround
                at_ += 2;
            }
            auto inner = alternation();
            if (!inner || at_ >= p_.size() || p_[at_] != ')') return std::nullopt;
            ++at_;
            return inner;
        }
        if (c == '[') return char_class();
        if (c == '\\') {
            if (at_ + 1 >= p_.size()) return std::nullopt;
            const char e = p_[at_ + 1];
            // Escaped punctuation is itself; letters and digits are classes, assertions or codes.
            if (is_word(static_cast<unsigned char>(e)) || static_cast<unsigned char>(e) >= 0x80) return std::nullopt;
            at_ += 2;
            return Strings{std::string(1, e)};
        }
        if (c == '.' || c == '^' || c == '$' || c == '*' || c == '+' || c == '?' || c == '{' || c == '}' || c == ']') {
            return std::nullopt;
        }
        ++at_;
        return Strings{std::string(1, lower(c))};
    }

    // [abc], [a-c]: a few plain characters; no negation, escapes or classes inside.
    std::optional<Strings> char_class() {
        ++at_;
        Strings out;
        bool first = true;
        while (at_ < p_.size() && (p_[at_] != ']' || first)) {
            const char c = p_[at_];
            first = false;
            if (c == '^' || c == '\\' || c == '[' || static_cast<unsigned char>(c) >= 0x80) return std::nullopt;
            if (at_ + 2 < p_.size() && p_[at_ + 1] == '-' && p_[at_ + 2] != ']') {
                const char hi = p_[at_ + 2];
                if (hi < c || hi - c > 16 || hi == '\\') return std::nullopt;
                for (char x = c; x <= hi; ++x) out.emplace_back(1, lower(x));
                at_ += 3;
            } else {
                out.emplace_back(1, lower(c));
                ++at_;
            }
        }
        if (at_ >= p_.size() || out.empty()) return std::nullopt;
        ++at_;
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        return out;
    }

    std::string_view p_;
    std::size_t at_ = 0;
};

// The reverser (reversed_pattern()): one alternation of p_ from at_ to its closing ')' or the
// end, written backwards; nullopt for anything it has no reverse for.
class Reverser {
public:
    explicit Reverser(std::string_view p) : p_(p) {}

    std::optional<std::string> whole() {
        auto out = alternation();
        if (!out || at_ != p_.size()) return std::nullopt;
        return out;
    }
    bool anchored_start() const { return anchored_start_; }

private:
    std::optional<std::string> alternation() {
        std::string out;
        while (true) {
            auto branch = sequence();
            if (!branch) return std::nullopt;
            out += *branch;
            if (at_ < p_.size() && p_[at_] == '|') {
                ++at_;
                out += '|';
                continue;
            }
            return out;
        }
    }

    std::optional<std::string> sequence() {
        std::vector<std::string> items;
        while (at_ < p_.size() && p_[at_] != '|' && p_[at_] != ')') {
            auto item = atom();
            if (!item) return std::nullopt;
            // A quantifier stays with its atom; a lazy '?' after it too (it changes no match).
            if (at_ < p_.size() && (p_[at_] == '?' || p_[at_] == '*' || p_[at_] == '+')) {
                *item += p_[at_++];
            } else if (at_ < p_.size() && p_[at_] == '{') {
                const auto close = p_.find('}', at_);
                if (close == std::string_view::npos) return std::nullopt;
                *item += p_.substr(at_, close + 1 - at_);
                at_ = close + 1;
            } else {
                items.push_back(std::move(*item));
                continue;
            }
            if (at_ < p_.size() && p_[at_] == '?') *item += p_[at_++];
            if (at_ < p_.size() && p_[at_] == '+') return std::nullopt;  // possessive
            items.push_back(std::move(*item));
        }
        std::string out;
        for (auto it = items.rbegin(); it != items.rend(); ++it) out += *it;
        return out;
    }

    std::optional<std::string> atom() {
        const char c = p_[at_];
        if (c == '(') {
            ++at_;
            if (at_ < p_.size() && p_[at_] == '?') {
                if (at_ + 1 >= p_.size() || p_[at_ + 1] != ':') return std::nullopt;  // options, lookaround
                at_ += 2;
            }
            auto inner = alternation();
            if (!inner || at_ >= p_.size() || p_[at_] != ')') return std::nullopt;
            ++at_;
            return "(?:" + *inner + ")";
        }
        if (c == '[') {
            // A class reads the same both ways: copied up to its closing ']' (a ']' first in
            // the class, or escaped, is a member).
            std::size_t i = at_ + 1;
            if (i < p_.size() && p_[i] == '^') ++i;
            if (i < p_.size() && p_[i] == ']') ++i;
            while (i < p_.size() && p_[i] != ']') {
                if (p_[i] == '[' && i + 1 < p_.size() && p_[i + 1] == ':') return std::nullopt;  // [:alpha:]
                i += p_[i] == '\\' ? 2 : 1;
            }
            if (i >= p_.size()) return std::nullopt;
            std::string out(p_.substr(at_, i + 1 - at_));
            at_ = i + 1;
            return out;
        }
        if (c == '\\') {
            if (at_ + 1 >= p_.size()) return std::nullopt;
            const char e = p_[at_ + 1];
            // Word boundaries and classes read the same both ways; escaped punctuation and
            // control characters are one byte. Anchors, references, hex and named codes: no.
            const std::string_view same = "bBwWdDsSntrfve";
            if (same.find(e) == std::string_view::npos && is_word(static_cast<unsigned char>(e))) return std::nullopt;
            at_ += 2;
            return std::string{c, e};
        }
        if (c == '^') {
            anchored_start_ = true;
            ++at_;
            return std::string("\\z");
        }
        if (c == '$' || c == '*' || c == '+' || c == '?' || c == '{' || c == ')') return std::nullopt;
        ++at_;
        return std::string(1, c);
    }

    std::string_view p_;
    std::size_t at_ = 0;
    bool anchored_start_ = false;
};

// One window scan: the reports of one pattern whose starts it fills.
struct WindowScan {
    std::vector<RawReport>* raw = nullptr;
    const std::uint32_t* pending = nullptr;  // indexes into raw, by ascending end
    std::size_t count = 0;
    unsigned long long lo = 0;  // the window's first byte in the text
    std::size_t filled = 0;
};

// The one-pattern database reports, for each end in the window, the leftmost start of a match
// ending there; only the ends the main scan reported are wanted. Stops once all are filled.
int on_start(unsigned int, unsigned long long from, unsigned long long to, unsigned int, void* ctx) {
    auto& w = *static_cast<WindowScan*>(ctx);
    const unsigned long long end = w.lo + to;
    // Every report of this end still without a start (scan() without a role has one report
    // per role database of a rule for any role).
    for (std::size_t k = 0; k < w.count; ++k) {
        RawReport& r = (*w.raw)[w.pending[k]];
        if (r.to != end || r.from != kUnset) continue;
        r.from = w.lo + from;
        ++w.filled;
    }
    return w.filled == w.count ? 1 : 0;
}

// The first byte of the window for a match of greatest width `width` ending at `to`: one byte
// before the earliest possible start, so that a `\b` at the start sees its left neighbour as in
// the whole text. A match starting at that byte itself would be wider than `width`, so a `^`
// that the window's edge makes true there cannot give a wrong start.
unsigned long long window_begin(unsigned long long to, std::uint32_t width) {
    if (width == kUnbounded || to <= static_cast<unsigned long long>(width) + 1) return 0;
    return to - width - 1;
}

// One past the window's last byte: two bytes past the end, so a `\b` at the end sees the byte
// after it, and a `$` (which Vectorscan also takes before a final newline) cannot be true at
// the end unless it is in the whole text.
unsigned long long window_end(unsigned long long to, std::size_t size) {
    return std::min<unsigned long long>(to + 2, size);
}

// The longest match of a reversed pattern anchored at the reversed text's start: the greatest
// end of a report of the wanted expression.
struct ReversedScan {
    unsigned int want = 0;
    unsigned long long longest = 0;
    bool found = false;
};

int on_reversed(unsigned int id, unsigned long long, unsigned long long to, unsigned int, void* ctx) {
    auto& r = *static_cast<ReversedScan*>(ctx);
    if (id == r.want) {
        r.longest = std::max(r.longest, to);
        r.found = true;
    }
    return 0;
}

// The leftmost start of a match ending at `to`, from the pattern's reversed database: the text
// from the window's first byte to one byte past the end (when there is one), reversed, then
// the longest anchored match.
unsigned long long reversed_start(std::string_view text, hs_database_t* db, std::uint32_t width, unsigned long long to,
                                  hs_scratch_t* scratch) {
    thread_local std::string buffer;
    const unsigned long long lo = window_begin(to, width);
    const unsigned long long hi = std::min<unsigned long long>(to + 1, text.size());
    buffer.assign(text.data() + lo, text.data() + hi);
    std::reverse(buffer.begin(), buffer.end());
    ReversedScan r{hi > to ? 0u : 1u, 0, false};
    vectorscan::scan(db, buffer.data(), static_cast<unsigned int>(buffer.size()), scratch, on_reversed, &r);
    return r.found ? hi - r.longest : kUnset;
}

// The leftmost start of a match of set ending at `to`, or kUnset. The text's bytes are folded
// to lower case as they are compared (the scan is caseless), not copied first: a binary search
// mostly decides on the first byte or two.
unsigned long long literal_start(std::string_view text, const LiteralSet& set, unsigned long long to) {
    for (std::size_t k = 0; k < set.lengths.size(); ++k) {
        const std::size_t n = set.lengths[k];
        if (n > to) continue;
        const std::size_t s = static_cast<std::size_t>(to) - n;
        if (set.boundary_before) {
            const bool before = s > 0 && is_word(static_cast<unsigned char>(text[s - 1]));
            if (before == is_word(static_cast<unsigned char>(text[s]))) continue;
        }
        const char* piece = text.data() + s;
        // <0, 0, >0 as the set's string compares with the text's n bytes from s.
        auto compare = [&](const std::string& a) {
            for (std::size_t i = 0; i < n; ++i) {
                const auto x = static_cast<unsigned char>(a[i]);
                const auto y = static_cast<unsigned char>(lower(piece[i]));
                if (x != y) return x < y ? -1 : 1;
            }
            return 0;
        };
        const auto& strings = set.by_length[k];
        std::size_t lo = 0;
        std::size_t hi = strings.size();
        while (lo < hi) {
            const std::size_t mid = lo + (hi - lo) / 2;
            const int c = compare(strings[mid]);
            if (c == 0) return s;
            if (c < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
    }
    return kUnset;
}

}  // namespace

std::optional<LiteralSet> literal_set(std::string_view pattern) {
    LiteralSet out;
    if (pattern.starts_with("\\b")) {
        out.boundary_before = true;
        pattern.remove_prefix(2);
    }
    // A closing \b (not an escaped backslash followed by 'b'): it holds alike for every string
    // ending at one offset, so it is left to the scan that reported the end.
    if (pattern.ends_with("\\b")) {
        std::size_t slashes = 0;
        for (std::size_t i = pattern.size() - 1; i-- > 0 && pattern[i] == '\\';) ++slashes;
        if (slashes % 2 == 1) pattern.remove_suffix(2);
    }
    // Stripping the \b's above is right only if they bind the whole pattern, not one branch of
    // a top-level alternation ("\ba|b\b"): require one top-level branch. And turn away what
    // the expander would refuse anyway (classes of escapes, repeats, anchors) before it builds
    // strings: most of a rule set's patterns have one, and expanding up to it cost the load
    // 30 ms.
    int depth = 0;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '.' || c == '*' || c == '+' || c == '{' || c == '^' || c == '$') return std::nullopt;
        if (c == '\\') {
            if (i + 1 < pattern.size() && is_word(static_cast<unsigned char>(pattern[i + 1]))) return std::nullopt;
            ++i;
        } else if (c == '[') {
            while (i < pattern.size() && pattern[i] != ']') ++i;
        } else if (c == '(') {
            ++depth;
        } else if (c == ')') {
            --depth;
        } else if (c == '|' && depth == 0) {
            return std::nullopt;
        }
    }
    auto strings = Expander(pattern).whole();
    if (!strings || strings->empty()) return std::nullopt;
    std::sort(strings->begin(), strings->end(), [](const std::string& a, const std::string& b) {
        return a.size() != b.size() ? a.size() > b.size() : a < b;
    });
    strings->erase(std::unique(strings->begin(), strings->end()), strings->end());
    if (strings->back().empty()) return std::nullopt;  // matches the empty string: leave it to a scan
    for (auto& s : *strings) {
        if (out.lengths.empty() || out.lengths.back() != s.size()) {
            out.lengths.push_back(static_cast<std::uint32_t>(s.size()));
            out.by_length.emplace_back();
        }
        out.by_length.back().push_back(std::move(s));
    }
    return out;
}

std::optional<std::string> reversed_pattern(std::string_view pattern, bool& anchored_start) {
    Reverser r(pattern);
    auto out = r.whole();
    anchored_start = r.anchored_start();
    return out;
}

std::vector<std::string> reversed_expressions(const std::string& reversed) {
    return {"^[\\s\\S](?:" + reversed + ")", "^(?:" + reversed + ")"};
}

void fill_starts(std::string_view text, const StartPlan& plan, hs_scratch_t* scratch, std::vector<RawReport>& raw) {
    // Per thread so a warm scan does not allocate; a handful of entries a text.
    thread_local std::vector<std::uint32_t> pending;
    pending.clear();
    bool missed = false;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        RawReport& r = raw[i];
        const StartRule rule = plan.rules[r.id];
        switch (rule.how) {
            case StartHow::reported: break;
            case StartHow::fixed: r.from = r.to > rule.width ? r.to - rule.width : 0; break;
            case StartHow::literals:
                r.from = literal_start(text, plan.literals[r.id], r.to);
                missed = missed || r.from == kUnset;
                break;
            case StartHow::window:
                r.from = kUnset;
                pending.push_back(static_cast<std::uint32_t>(i));
                break;
            case StartHow::reversed:
                r.from = reversed_start(text, plan.windows[r.id], rule.width, r.to, scratch);
                missed = missed || r.from == kUnset;
                break;
        }
    }
    if (!pending.empty()) {
        // By pattern, then end, so one scan serves every report of a pattern whose windows touch.
        std::sort(pending.begin(), pending.end(), [&](std::uint32_t x, std::uint32_t y) {
            return raw[x].id != raw[y].id ? raw[x].id < raw[y].id : raw[x].to < raw[y].to;
        });
        for (std::size_t k = 0; k < pending.size();) {
            const unsigned int id = raw[pending[k]].id;
            const std::uint32_t width = plan.rules[id].width;
            const unsigned long long lo = window_begin(raw[pending[k]].to, width);
            unsigned long long hi = window_end(raw[pending[k]].to, text.size());
            std::size_t n = 1;
            while (k + n < pending.size() && raw[pending[k + n]].id == id &&
                   window_begin(raw[pending[k + n]].to, width) <= hi) {
                hi = window_end(raw[pending[k + n]].to, text.size());
                ++n;
            }
            WindowScan w{&raw, pending.data() + k, n, lo, 0};
            vectorscan::scan(plan.windows[id], text.data() + lo, static_cast<unsigned int>(hi - lo), scratch, on_start, &w);
            missed = missed || w.filled != n;
            k += n;
        }
    }
    // An end no start is found for is dropped: the database with start tracking would not have
    // reported it either. (The ends-only database and the start's way compile or read the same
    // expression; this guards against the two disagreeing, as Vectorscan 5.4.9 did once at a
    // buffer's end, docs/PERFORMANCE.md.)
    if (missed) std::erase_if(raw, [](const RawReport& r) { return r.from == kUnset; });
}

}  // namespace tandem::match_starts
