#include "tandem/protocol/envelope.h"

#include "tandem/domain/id.h"
#include "tandem/schema/schema_registry.h"

namespace tandem {
namespace {

// Deepest nesting of objects and arrays in text, stopping early once over limit. A scan of
// the raw text was chosen over nlohmann's parser callback because the callback cannot stop
// the parse, and the point is to refuse before building a huge tree.
std::size_t nesting_depth(std::string_view text, std::size_t limit) {
    std::size_t depth = 0;
    std::size_t deepest = 0;
    bool in_string = false;
    bool escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            deepest = std::max(deepest, ++depth);
            if (deepest > limit) return deepest;
        } else if ((c == '}' || c == ']') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

}  // namespace

Result<Envelope> envelope_from_json(const nlohmann::json& document) {
    if (auto ok = SchemaRegistry::builtin().validate("wire/envelope", document); !ok) {
        return std::unexpected(ok.error());
    }
    // The schema checked the shape, so the reads below cannot throw; the time's calendar
    // check (no February 30) is beyond a pattern and is done here.
    Envelope envelope;
    envelope.type = document.at("type").get<std::string>();
    envelope.id = document.at("id").get<std::string>();
    auto time = parse_timestamp(document.at("time").get<std::string>());
    if (!time) return fail(ErrorCode::schema, time.error().message, "/time");
    envelope.time = *time;
    envelope.payload = document.at("payload");
    if (const auto it = document.find("seq"); it != document.end()) {
        envelope.seq = it->get<std::uint64_t>();
    }
    return envelope;
}

Result<Envelope> parse_envelope(std::string_view text, const EnvelopeLimits& limits) {
    if (text.size() > limits.max_bytes) {
        return fail(ErrorCode::too_large,
                    "message of " + std::to_string(text.size()) + " bytes is over the limit of " +
                        std::to_string(limits.max_bytes));
    }
    if (nesting_depth(text, limits.max_depth) > limits.max_depth) {
        return fail(ErrorCode::too_large,
                    "message nests deeper than " + std::to_string(limits.max_depth) + " levels");
    }
    nlohmann::json document;
    try {
        document = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        // e.byte locates the problem; e.what() could quote the peer's text, so it stays out.
        return fail(ErrorCode::parse, "not JSON (at byte " + std::to_string(e.byte) + ")");
    }
    return envelope_from_json(document);
}

nlohmann::json envelope_to_json(const Envelope& envelope) {
    nlohmann::json j{{"type", envelope.type},
                     {"id", envelope.id},
                     {"time", format_timestamp(envelope.time)},
                     {"payload", envelope.payload}};
    if (envelope.seq) j["seq"] = *envelope.seq;
    return j;
}

std::string serialize(const Envelope& envelope) {
    // Replacing invalid UTF-8 (U+FFFD) instead of throwing: a payload built from bad bytes
    // should still reach the peer in a form its JSON parser accepts.
    return envelope_to_json(envelope).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Envelope make_envelope(std::string type, nlohmann::json payload) {
    Envelope envelope;
    envelope.type = std::move(type);
    envelope.id = new_uuid_v4();
    envelope.time = now_utc();
    envelope.payload = std::move(payload);
    return envelope;
}

}  // namespace tandem
