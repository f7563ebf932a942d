#pragma once
// The one envelope of every WebSocket message: {type, id, time, payload, seq?}
// (schemas/wire/envelope.schema.json). Message types add their payload schemas on top.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tandem/domain/error.h"
#include "tandem/domain/time.h"

namespace tandem {

struct Envelope {
    std::string type;  ///< snake_case message type: "patient_message", "ack", "event"
    std::string id;    ///< the sender's id for this message (id rule); acks echo it
    Timestamp time{};  ///< when the sender made it, UTC
    nlohmann::json payload = nlohmann::json::object();  ///< always a JSON object
    std::optional<std::uint64_t> seq;  ///< server-to-client events: the event log's seq

    bool operator==(const Envelope&) const = default;
};

/// Limits applied before anything else is read, so a hostile peer cannot make us parse a
/// huge or absurdly nested document.
struct EnvelopeLimits {
    std::size_t max_bytes = 64 * 1024;  ///< whole message text, in bytes
    std::size_t max_depth = 32;         ///< nesting of objects and arrays, the envelope being 1
};

/// Parses and checks one message. ErrorCode::too_large over a limit (field empty);
/// ErrorCode::parse for text that is not JSON (the message gives the byte offset);
/// ErrorCode::schema for JSON that is not an envelope (field = JSON pointer, "/time").
/// Never throws. Any thread.
Result<Envelope> parse_envelope(std::string_view text, const EnvelopeLimits& limits = {});

/// Checks an already-parsed document as parse_envelope does (without the size limit).
Result<Envelope> envelope_from_json(const nlohmann::json& document);

/// The envelope as JSON / as compact JSON text; seq only when present. Any thread.
nlohmann::json envelope_to_json(const Envelope& envelope);
std::string serialize(const Envelope& envelope);

/// A new envelope of the given type with a fresh UUIDv4 id and the current time.
Envelope make_envelope(std::string type, nlohmann::json payload);

}  // namespace tandem
