#include "tandem/bridge/wire.h"

#include "tandem/domain/id.h"
#include "tandem/domain/time.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include <openssl/rand.h>

namespace tandem::bridge {

std::string utc_now_text() {
    // Called about ten times a turn (record times, every frame's envelope): two snprintf calls
    // each were 0.7% of the bridge under load. The text up to the second is kept per thread and
    // only the milliseconds are written; format_timestamp stays the one definition of the form.
    using namespace std::chrono;
    const Timestamp now = now_utc();
    const auto second = floor<seconds>(now);
    thread_local sys_seconds cached_second{};
    thread_local std::string cached;
    if (cached.empty() || second != cached_second) {
        cached = format_timestamp(time_point_cast<milliseconds>(second));
        cached_second = second;
    }
    std::string out = cached;
    const auto ms = static_cast<unsigned>((now - second).count());  // 0..999
    // "YYYY-MM-DDTHH:MM:SS.mmmZ": the milliseconds are the three characters before the 'Z'.
    const std::size_t at = out.size() - 4;
    out[at] = static_cast<char>('0' + ms / 100);
    out[at + 1] = static_cast<char>('0' + ms / 10 % 10);
    out[at + 2] = static_cast<char>('0' + ms % 10);
    return out;
}

std::string new_id() {
    // Time-ordered (UUIDv7): every id made here keys a store index (messages, flags, plans,
    // assessments, conversations, patients, clinicians), and random UUIDv4 keys put each new row
    // on a random 4 KiB leaf of that index, which the commit then encrypts, MACs and fsyncs (two
    // random leaves per turn in the messages index alone). The bits come from a per-thread buffer
    // of the kernel's CSPRNG; RAND_bytes per id was 2.2% of the bridge's CPU. Nothing relies on an
    // id being secret (every read is checked by may_read or the patient's own session), and the
    // creation time it reveals is in the record beside it.
    return new_uuid_v7();
}

std::string new_frame_id() {
    // Frame ids must be unique, not secret: one CSPRNG draw per process for the prefix, then a
    // counter. Rejected: RAND_bytes per frame (3% of bridge CPU at 300 msg/s, one frame per
    // subscriber per event). The prefix makes ids from two runs of the bridge differ.
    static const std::uint64_t prefix = [] {
        unsigned char b[8];
        if (RAND_bytes(b, sizeof b) != 1) throw std::runtime_error("RAND_bytes failed");  // broken invariant
        std::uint64_t v = 0;
        for (const unsigned char c : b) v = (v << 8) | c;
        return v;
    }();
    static std::atomic<std::uint64_t> counter{0};
    const std::uint64_t n = counter.fetch_add(1, std::memory_order_relaxed);
    // UUIDv4 layout like new_id: version nibble in the prefix, variant bits over the counter's
    // top two bits (62 bits of counter never wrap).
    const std::uint64_t hi = (prefix & ~0xf000ULL) | 0x4000ULL;
    const std::uint64_t lo = (n & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
    char out[37];
    std::snprintf(out, sizeof out, "%08llx-%04llx-%04llx-%04llx-%012llx", static_cast<unsigned long long>(hi >> 32),
                  static_cast<unsigned long long>((hi >> 16) & 0xffff), static_cast<unsigned long long>(hi & 0xffff),
                  static_cast<unsigned long long>(lo >> 48), static_cast<unsigned long long>(lo & 0xffffffffffffULL));
    return out;
}

std::string make_frame(std::string_view type, nlohmann::json payload, std::uint64_t seq) {
    nlohmann::json env = {{"type", type}, {"id", new_frame_id()}, {"time", utc_now_text()}, {"payload", std::move(payload)}};
    if (seq > 0) env["seq"] = seq;
    return env.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string frame_around(std::string_view type, std::string_view payload_text, std::uint64_t seq) {
    std::string out;
    out.reserve(payload_text.size() + 140);
    out.append(R"({"id":")").append(new_frame_id()).append(R"(","payload":)").append(payload_text);
    if (seq > 0) out.append(R"(,"seq":)").append(std::to_string(seq));
    out.append(R"(,"time":")").append(utc_now_text()).append(R"(","type":)");
    append_json_string(out, type);
    out.push_back('}');
    return out;
}

namespace {

// Length of the well-formed UTF-8 sequence at text[i] (Unicode's table 3-7: no overlong forms,
// no surrogates, nothing above U+10FFFF: what nlohmann's decoder accepts), or 0 when it is not.
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char b = byte(i);
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // the allowed range of the second byte
    if (b >= 0xc2 && b <= 0xdf) n = 2;
    else if (b == 0xe0) n = 3, lo = 0xa0;
    else if (b == 0xed) n = 3, hi = 0x9f;
    else if (b >= 0xe1 && b <= 0xef) n = 3;
    else if (b == 0xf0) n = 4, lo = 0x90;
    else if (b == 0xf4) n = 4, hi = 0x8f;
    else if (b >= 0xf1 && b <= 0xf3) n = 4;
    else return 0;
    if (i + n > text.size()) return 0;
    if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
    for (std::size_t k = 2; k < n; ++k)
        if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
    return n;
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
    const std::size_t start = out.size();
    out.reserve(out.size() + text.size() + 2);
    out.push_back('"');
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x80) {
            const std::size_t n = utf8_sequence(text, i);
            if (n == 0) {
                // Rare (clients send valid UTF-8; the schema check parsed it): the serialiser's
                // own replacement rules, whatever they are, rather than a second copy of them.
                out.resize(start);
                out.append(nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
                return;
            }
            out.append(text.substr(i, n));
            i += n;
            continue;
        }
        switch (c) {
            case '"': out.append("\\\""); break;
            case '\\': out.append("\\\\"); break;
            case '\b': out.append("\\b"); break;
            case '\f': out.append("\\f"); break;
            case '\n': out.append("\\n"); break;
            case '\r': out.append("\\r"); break;
            case '\t': out.append("\\t"); break;
            default:
                if (c < 0x20) {
                    char esc[7];
                    std::snprintf(esc, sizeof esc, "\\u%04x", static_cast<unsigned>(c));
                    out.append(esc, 6);
                } else {
                    out.push_back(static_cast<char>(c));
                }
        }
        ++i;
    }
    out.push_back('"');
}

void FrameText::key(std::string_view k) {
    if (!body_.empty() && k <= last_key_) throw std::logic_error("FrameText keys must be added in ascending order");
    last_key_.assign(k);
    body_.push_back(body_.empty() ? '{' : ',');
    append_json_string(body_, k);
    body_.push_back(':');
}

FrameText& FrameText::text(std::string_view k, std::string_view value) {
    key(k);
    append_json_string(body_, value);
    return *this;
}

FrameText& FrameText::number(std::string_view k, std::int64_t value) {
    key(k);
    body_.append(std::to_string(value));
    return *this;
}

FrameText& FrameText::boolean(std::string_view k, bool value) {
    key(k);
    body_.append(value ? "true" : "false");
    return *this;
}

std::string FrameText::frame(std::string_view type, std::uint64_t seq) {
    if (body_.empty()) body_.push_back('{');
    body_.push_back('}');
    std::string out = frame_around(type, body_, seq);
    body_.clear();
    last_key_.clear();
    return out;
}

std::string make_error_frame(std::string_view code, std::string_view message, std::string_view ref) {
    nlohmann::json payload = {{"code", code}, {"message", message}};
    if (!ref.empty()) payload["ref"] = ref;
    return make_frame("error", std::move(payload));
}

}  // namespace tandem::bridge
