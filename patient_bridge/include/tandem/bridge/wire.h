#pragma once
// Small helpers for the WebSocket envelope {type, id, time, payload} (docs/ARCHITECTURE.md,
// schemas/wire/). Beast-free so every bridge file may build frames.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tandem::bridge {

/// Now as "2026-11-26T03:06:19.123Z". Any thread.
std::string utc_now_text();

/// A random UUIDv4 in text form, from OpenSSL's CSPRNG: for anything stored or handed out
/// (record ids, action ids). Any thread.
std::string new_id();

/// A unique envelope id in UUIDv4 text form: a per-process random prefix plus a counter, so
/// cheap but guessable; only for frame ids, never for anything stored or secret. Any thread.
std::string new_frame_id();

/// Serialises an envelope {type, id (new_frame_id), time (now), payload}; adds "seq" when seq > 0. Any thread.
std::string make_frame(std::string_view type, nlohmann::json payload, std::uint64_t seq = 0);

/// A typed error frame: payload {code, message, ref?}; `ref` echoes the client's envelope id
/// when known. `message` must never contain patient text. Any thread.
std::string make_error_frame(std::string_view code, std::string_view message, std::string_view ref = {});

}  // namespace tandem::bridge
