#include "tandem/risk/normalizer.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace tandem {
namespace {

constexpr char32_t kInvalid = 0xFFFFFFFF;

// Decodes one UTF-8 code point at text[i]; sets len. Overlong forms and surrogates count as
// invalid so the scanner (compiled with HS_FLAG_UTF8) only ever sees valid UTF-8.
char32_t decode(std::string_view text, std::size_t i, std::size_t& len) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    if (b0 < 0x80) {
        len = 1;
        return b0;
    }
    std::size_t need = 0;
    char32_t cp = 0;
    if ((b0 & 0xE0) == 0xC0) {
        need = 1;
        cp = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
        need = 2;
        cp = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0) {
        need = 3;
        cp = b0 & 0x07;
    } else {
        len = 1;
        return kInvalid;
    }
    if (i + need >= text.size()) {
        len = 1;
        return kInvalid;
    }
    for (std::size_t k = 1; k <= need; ++k) {
        const auto b = static_cast<unsigned char>(text[i + k]);
        if ((b & 0xC0) != 0x80) {
            len = 1;
            return kInvalid;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    static constexpr std::array<char32_t, 4> kMin{0, 0x80, 0x800, 0x10000};
    if (cp < kMin[need] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        len = 1;
        return kInvalid;
    }
    len = need + 1;
    return cp;
}

// Latin-1 letters folded to ASCII (index cp - 0xC0). Spanish text is written with and without
// accents, so rules are written without them and the text loses them here.
constexpr std::string_view kLatin1Fold[64] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "y",
};

// Emoji people use in place of risk words; the word is matched by the same rules as text.
// At most 7 letters: with its two spaces a 3-byte emoji then yields at most 9 bytes, the 3 per
// input byte the Emitter sizes its buffers for.
std::string_view emoji_word(char32_t cp) {
    switch (cp) {
        case 0x1F52A: return "knife";
        case 0x1F52B: return "gun";
        case 0x1F48A: return "pills";
        case 0x1FA78: return "blood";
        case 0x26B0: return "coffin";
        case 0x1FAA6: return "grave";
        case 0x1FAA2: return "rope";
        case 0x1F309: return "bridge";
        case 0x2620: return "skull";
        case 0x1F480: return "skull";
        case 0x1F602:
        case 0x1F923:
        case 0x1F606:
        case 0x1F639: return "lol";
        case 0x1F62D: return "crying";
        default: return {};
    }
}

bool is_ascii_letter(char c) { return c >= 'a' && c <= 'z'; }

// Lowercase ASCII letters and digits, by byte: the substitution pass walks every byte of the
// text through this (a table lookup instead of two range tests a byte).
constexpr std::array<bool, 256> kWordByte = [] {
    std::array<bool, 256> t{};
    for (int b = 0; b < 256; ++b) t[static_cast<std::size_t>(b)] = (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9');
    return t;
}();
bool is_word_byte(char c) { return kWordByte[static_cast<unsigned char>(c)]; }

constexpr char unmask(char c) {
    switch (c) {
        case '!':
        case '1':
        case '*': return 'i';
        case '3': return 'e';
        case '0': return 'o';
        case '@': return 'a';
        case '$': return 's';
        default: return 0;
    }
}

// Writes normalised bytes and their map through raw pointers into buffers sized for the worst
// case up front (every byte of input can yield at most 3 normalised bytes: a 3-byte emoji
// becomes " coffin "); finish() trims them to what was written. Rejected: push_back on the
// three buffers, whose capacity checks and string terminators cost more than the work itself.
// ASCII bytes as the character pass emits them (lowercased; \r as \n; \t, \f and \v as a
// space), or 0 for the bytes that need the full path: apostrophes (dropped), the symbols that
// may mask a letter (they depend on their neighbours) and NUL. Most text is only these bytes,
// so the pass looks each up once instead of testing it case by case.
constexpr std::array<char, 128> kAsciiFast = [] {
    std::array<char, 128> t{};
    for (int b = 0; b < 128; ++b) {
        char c = static_cast<char>(b);
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c == '\r') c = '\n';
        if (c == '\t' || c == '\f' || c == '\v') c = ' ';
        if (c == '\'' || c == '`' || unmask(c) != 0) c = 0;
        t[static_cast<std::size_t>(b)] = c;
    }
    return t;
}();

class Emitter {
public:
    Emitter(NormalizedText& out, std::size_t input) : out_(out) {
        const std::size_t cap = 3 * input + 8;
        if (out.text.size() < cap) out.text.resize(cap);
        if (out.begin.size() < cap) out.begin.resize(cap);
        if (out.end.size() < cap) out.end.resize(cap);
        text_ = out.text.data();
        begin_ = out.begin.data();
        end_ = out.end.data();
    }

    // Emits one normalised byte that came from original bytes [b, e). Squeezes runs of the same
    // letter and of whitespace, extending the previous byte's source instead of adding one.
    void put(char c, std::uint32_t b, std::uint32_t e) {
        if (n_ != 0) {
            const char last = text_[n_ - 1];
            const bool same_letter = c == last && is_ascii_letter(c);  // equality first: rarely true
            const bool extra_space = c == ' ' && (last == ' ' || last == '\n');
            if (same_letter || extra_space) {
                end_[n_ - 1] = e;
                return;
            }
        } else if (c == ' ' || c == '\n') {
            return;
        }
        raw(c, b, e);
    }

    // Emits text[i...] while its bytes are ASCII that kAsciiFast maps on its own, as put()
    // would, one byte each; returns the index of the first byte it left. Most text is only such
    // bytes. The state lives in locals here: through the members, every char store (which may
    // alias anything) made the compiler reload the buffer pointers and count for the next byte.
    std::size_t put_ascii_run(std::string_view text, std::size_t i) {
        char* const t = text_;
        std::uint32_t* const bs = begin_;
        std::uint32_t* const es = end_;
        std::size_t n = n_;
        char last = n == 0 ? '\0' : t[n - 1];
        const std::size_t size = text.size();
        const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
        for (; i < size; ++i) {
            const unsigned char b0 = bytes[i];
            if (b0 >= 0x80) break;
            const char c = kAsciiFast[b0];
            if (c == 0) break;
            const auto b = static_cast<std::uint32_t>(i);
            if (n != 0) {
                if ((c == last && is_ascii_letter(c)) || (c == ' ' && (last == ' ' || last == '\n'))) {
                    es[n - 1] = b + 1;
                    continue;
                }
            } else if (c == ' ' || c == '\n') {
                continue;
            }
            t[n] = c;
            bs[n] = b;
            es[n] = b + 1;
            ++n;
            last = c;
        }
        n_ = n;
        return i;
    }

    void put_word(std::string_view word, std::uint32_t b, std::uint32_t e) {
        for (char c : word) put(c, b, e);
    }

    // Appends a byte as it is (no squeezing).
    void raw(char c, std::uint32_t b, std::uint32_t e) {
        text_[n_] = c;
        begin_[n_] = b;
        end_[n_] = e;
        ++n_;
    }

    // The last byte written, 0 when none.
    char last() const { return n_ == 0 ? '\0' : text_[n_ - 1]; }

    // Drops trailing whitespace and trims the buffers to the bytes written.
    void finish() {
        while (n_ != 0 && (text_[n_ - 1] == ' ' || text_[n_ - 1] == '\n')) --n_;
        out_.text.resize(n_);
        out_.begin.resize(n_);
        out_.end.resize(n_);
    }

private:
    NormalizedText& out_;
    char* text_ = nullptr;
    std::uint32_t* begin_ = nullptr;
    std::uint32_t* end_ = nullptr;
    std::size_t n_ = 0;
};

// Appends bytes [from, to) of src to out, with their map.
void append_range(const NormalizedText& src, std::size_t from, std::size_t to, NormalizedText& out) {
    if (from >= to) return;
    out.text.append(src.text, from, to - from);
    out.begin.insert(out.begin.end(), src.begin.begin() + static_cast<std::ptrdiff_t>(from),
                     src.begin.begin() + static_cast<std::ptrdiff_t>(to));
    out.end.insert(out.end.end(), src.end.begin() + static_cast<std::ptrdiff_t>(from),
                   src.end.begin() + static_cast<std::ptrdiff_t>(to));
}

}  // namespace

std::pair<std::size_t, std::size_t> NormalizedText::to_original(std::size_t b, std::size_t e) const {
    return {begin[b], end[e - 1]};
}

Normalizer::Normalizer(const std::vector<std::pair<std::string, std::string>>& substitutions) {
    NormalizedText from_chars;
    NormalizedText to_chars;
    for (const auto& [from, to] : substitutions) {
        characters(from, from_chars);
        characters(to, to_chars);
        const std::string& key = from_chars.text;
        if (!key.empty()) {
            // Bit 63 stands for every length from 63 up.
            const std::uint64_t length_bit = std::uint64_t{1} << std::min<std::size_t>(key.size(), 63);
            key_lengths_[static_cast<unsigned char>(key.front())] |= length_bit;
            key_last_lengths_[static_cast<unsigned char>(key.back())] |= length_bit;
        }
        substitutions_[key] = to_chars.text;
    }
}

bool Normalizer::may_substitute(std::string_view word) const noexcept {
    const std::size_t length = std::min<std::size_t>(word.size(), 63);
    return ((key_lengths_[static_cast<unsigned char>(word.front())] & key_last_lengths_[static_cast<unsigned char>(word.back())]) >>
                length & 1) != 0;
}

void Normalizer::characters(std::string_view text, NormalizedText& out) const {
    Emitter emit(out, text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t len = 1;
        const auto b0 = static_cast<unsigned char>(text[i]);
        if (b0 < 0x80 && kAsciiFast[b0] != 0) {
            i = emit.put_ascii_run(text, i);
            continue;
        }
        const char32_t cp = b0 < 0x80 ? char32_t{b0} : decode(text, i, len);
        const auto b = static_cast<std::uint32_t>(i);
        const auto e = static_cast<std::uint32_t>(i + len);
        i += len;
        if (cp == kInvalid) {
            emit.put(' ', b, e);
        } else if (cp < 0x80) {
            auto c = static_cast<char>(cp);
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            if (c == '\'' || c == '`') continue;  // "dont" and "don't" read the same
            // Masked letters inside a word ("d!e", "k*lling", "cutt1ng"): between two letters,
            // these symbols stand for the letter they look like.
            if (const char masked = unmask(c); masked != 0 && is_ascii_letter(emit.last()) &&
                i < text.size() && std::isalpha(static_cast<unsigned char>(text[i])) != 0) {
                c = masked;
            }
            if (c == '\n' || c == '\r') {
                emit.put('\n', b, e);
            } else if (c == '\t' || c == '\f' || c == '\v') {
                emit.put(' ', b, e);
            } else {
                emit.put(c, b, e);
            }
        } else if (cp >= 0xC0 && cp <= 0xFF) {
            emit.put_word(kLatin1Fold[cp - 0xC0], b, e);
        } else if (cp == 0x2018 || cp == 0x2019 || cp == 0x02BC || cp == 0xB4 || cp == 0x200B ||
                   cp == 0x200C || cp == 0x200D || cp == 0xFEFF || cp == 0xFE0F || cp == 0xFE0E) {
            continue;
        } else if (cp == 0xA0 || cp == 0xA1 || cp == 0xBF || cp == 0x2028 || cp == 0x3000) {
            emit.put(' ', b, e);
        } else if (cp == 0x201C || cp == 0x201D) {
            emit.put('"', b, e);
        } else if (cp == 0x2013 || cp == 0x2014) {
            emit.put('-', b, e);
        } else if (cp == 0x2026) {
            emit.put('.', b, e);
        } else if (auto word = emoji_word(cp); !word.empty()) {
            emit.put(' ', b, b);
            emit.put_word(word, b, e);
            emit.put(' ', e, e);
        } else {
            // Everything else (other scripts, other emoji) passes through unchanged; it is valid
            // UTF-8 and the scanner handles it.
            for (std::size_t k = 0; k < len; ++k) emit.raw(text[b + k], b, e);
        }
    }
    emit.finish();
}

NormalizedText Normalizer::normalize(std::string_view text) const {
    NormalizedText out;
    normalize(text, out);
    return out;
}

void Normalizer::normalize(std::string_view text, NormalizedText& out) const {
    // The character pass writes into a per-thread buffer; when no word is substituted (most
    // messages) the buffers are swapped rather than copied, and both keep their capacity.
    // Rejected: substituting during the character pass, since squeezing and the trailing trim
    // must see the text before substitution.
    thread_local NormalizedText chars;
    characters(text, chars);
    const std::string& t = chars.text;
    bool substituted = false;
    std::size_t copied = 0;  // chars[0, copied) is already in out
    std::size_t i = 0;
    while (!substitutions_.empty() && i < t.size()) {
        if (!is_word_byte(t[i])) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < t.size() && is_word_byte(t[j])) ++j;
        const std::string_view word(t.data() + i, j - i);
        if (may_substitute(word)) {
            if (auto it = substitutions_.find(word); it != substitutions_.end()) {
                if (!substituted) {
                    out.text.clear();
                    out.begin.clear();
                    out.end.clear();
                    substituted = true;
                }
                append_range(chars, copied, i, out);
                for (char c : it->second) {
                    out.text.push_back(c);
                    out.begin.push_back(chars.begin[i]);
                    out.end.push_back(chars.end[j - 1]);
                }
                copied = j;
            }
        }
        i = j;
    }
    if (!substituted) {
        std::swap(out, chars);
        return;
    }
    append_range(chars, copied, t.size(), out);
}

std::string Normalizer::canonical(std::string_view text) const { return normalize(text).text; }

bool normalize_pattern(std::string_view pattern, std::string& out, std::string& reason) {
    out.clear();
    out.reserve(pattern.size());
    char prev_letter = 0;  // last literal letter copied, 0 after anything else
    std::size_t i = 0;
    while (i < pattern.size()) {
        const char c = pattern[i];
        if (c == '\\') {
            // Escapes are copied as they are: "\bb" must not lose its second b.
            out.push_back(c);
            if (i + 1 < pattern.size()) out.push_back(pattern[i + 1]);
            i += 2;
            prev_letter = 0;
            continue;
        }
        if (c == '\'' || c == '`') {
            reason = "pattern contains an apostrophe; text is matched with apostrophes removed "
                     "(write \"dont\", not \"don't\")";
            return false;
        }
        std::size_t len = 1;
        const char32_t cp = decode(pattern, i, len);
        if (cp == kInvalid) {
            reason = "pattern is not valid UTF-8";
            return false;
        }
        if (cp == 0x2019 || cp == 0x2018) {
            reason = "pattern contains an apostrophe; text is matched with apostrophes removed";
            return false;
        }
        std::string_view piece(pattern.data() + i, len);
        // Case is left alone: the patterns compile caseless, and "\\p{Lu}" must survive.
        if (cp >= 0xC0 && cp <= 0xFF) piece = kLatin1Fold[cp - 0xC0];
        i += len;
        for (char p : piece) {
            if (is_ascii_letter(p)) {
                if (p == prev_letter) continue;
                prev_letter = p;
            } else {
                prev_letter = 0;
            }
            out.push_back(p);
        }
    }
    return true;
}

}  // namespace tandem
