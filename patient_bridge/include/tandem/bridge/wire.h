#pragma once
// Small helpers for the WebSocket envelope {type, id, time, payload} (docs/ARCHITECTURE.md,
// schemas/wire/). Beast-free so every bridge file may build frames.

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tandem::bridge {

/// Now as "2026-11-26T03:06:19.123Z". Any thread.
std::string utc_now_text();

/// A time-ordered UUIDv7 in text form (tandem::new_uuid_v7: creation time, then 62 bits from the
/// kernel's CSPRNG): for anything stored or handed out (record ids, action ids). Any thread.
std::string new_id();

/// A unique envelope id in UUIDv4 text form: a per-process random prefix plus a counter, so
/// cheap but guessable; only for frame ids, never for anything stored or secret. Any thread.
std::string new_frame_id();

/// Serialises an envelope {type, id (new_frame_id), time (now), payload}; adds "seq" when seq > 0. Any thread.
std::string make_frame(std::string_view type, nlohmann::json payload, std::uint64_t seq = 0);

/// The envelope around a payload already serialised as JSON text, byte for byte what make_frame
/// writes for that payload (keys in make_frame's sorted order; "seq" when seq > 0). Any thread.
std::string frame_around(std::string_view type, std::string_view payload_text, std::uint64_t seq = 0);

/// Appends `text` as a JSON string literal, byte for byte as make_frame's serialiser writes it
/// (UTF-8 kept, control characters escaped, invalid UTF-8 replaced by U+FFFD). Any thread.
void append_json_string(std::string& out, std::string_view text);

/// A frame of a fixed shape written straight to text (the patient's ack, typing, segment,
/// reviewing and message frames: each was a json tree built, then dumped). Keys must be added in
/// ascending byte order, the order make_frame writes, so the text equals make_frame's for the
/// same payload; a key out of order throws std::logic_error (a programming error). One thread.
class FrameText {
public:
    /// Adds a string field. One thread.
    FrameText& text(std::string_view key, std::string_view value);
    /// Adds an integer field. One thread.
    FrameText& number(std::string_view key, std::int64_t value);
    /// Adds a boolean field. One thread.
    FrameText& boolean(std::string_view key, bool value);
    /// The envelope {id, payload, seq (when > 0), time, type} around the fields added; leaves
    /// the builder empty. One thread.
    std::string frame(std::string_view type, std::uint64_t seq = 0);

private:
    void key(std::string_view k);
    std::string body_;
    std::string last_key_;
};

/// A typed error frame: payload {code, message, ref?}; `ref` echoes the client's envelope id
/// when known. `message` must never contain patient text. Any thread.
std::string make_error_frame(std::string_view code, std::string_view message, std::string_view ref = {});

}  // namespace tandem::bridge
