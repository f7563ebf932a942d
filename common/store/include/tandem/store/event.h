#pragma once
// The event log's record: what an appender supplies (NewEvent) and what the log holds
// (StoredEvent), with the canonical bytes and hash chain of docs/ARCHITECTURE.md "The event log".
// Shared by every Store implementation and by anything that verifies a chain offline.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tandem/crypto/hash.h"

namespace tandem {

/// The event types of docs/ARCHITECTURE.md; the wire name is the enumerator's name.
enum class EventType {
    clinic_configured, clinician_added, clinician_updated, patient_registered, patient_assigned,
    conversation_started, message_appended, message_state_changed, risk_assessed, flag_opened,
    flag_acknowledged, flag_annotated, flag_escalated, flag_resolved, crisis_entered, crisis_cleared,
    ai_paused, ai_resumed, plan_proposed, plan_approved, plan_rejected, assessment_scored,
    transcript_viewed, clinician_action, llm_failed,
    // Measurement-based care (issue 8); appended last so existing values keep their numbers.
    assessment_offered, assessment_progress,
};

/// Wire name of an event type ("message_appended"). Any thread.
std::string_view to_string(EventType type) noexcept;
/// Parses a wire name; nullopt for anything else. Any thread.
std::optional<EventType> parse_event_type(std::string_view name) noexcept;

enum class ActorKind { patient, ai, clinician, system };
/// Wire name of an actor kind ("clinician"). Any thread.
std::string_view to_string(ActorKind kind) noexcept;
/// Parses a wire name; nullopt for anything else. Any thread.
std::optional<ActorKind> parse_actor_kind(std::string_view name) noexcept;

/// Who caused an event; `id` is absent for the system and may be absent for the AI.
struct Actor {
    ActorKind kind = ActorKind::system;
    std::optional<std::string> id;
    bool operator==(const Actor&) const = default;
};

/// An event to append. The store assigns seq, prev_hash and hash; it fills `id` (a time-ordered UUIDv7) and
/// `time` (now, UTC, milliseconds) when they are empty.
struct NewEvent {
    EventType type = EventType::clinician_action;
    std::optional<std::string> patient_id;  ///< set for every event about a patient: drives visibility
    Actor actor;
    nlohmann::json payload = nlohmann::json::object();  ///< the record's JSON (docs/ARCHITECTURE.md)
    std::optional<std::string> dedupe_key;  ///< same key again: the first event is returned, nothing appended
    std::string id;                         ///< empty: the store makes one
    std::string time;                       ///< empty: the store stamps it "2026-11-26T03:06:19.123Z"
};

/// An event as the log holds it.
struct StoredEvent {
    std::int64_t seq = 0;
    std::string id;
    EventType type = EventType::clinician_action;
    std::string time;
    std::optional<std::string> patient_id;
    Actor actor;
    nlohmann::json payload = nlohmann::json::object();
    std::string prev_hash;  ///< 64 lower-case hex characters; 64 zeros for seq 1
    std::string hash;       ///< 64 lower-case hex characters
    /// `payload` as the log holds it (the text that was hashed and stored), on events the store
    /// made or read; empty on an event built elsewhere, and it must be cleared by whoever changes
    /// `payload`. Why: the clinician feed sends every event's payload, and dumping the tree again
    /// was 3% of the bridge under load (docs/PERFORMANCE.md, "Bridge under load"). Not compared:
    /// it is the payload's other form.
    std::string payload_text;

    /// Field by field, `payload_text` left out. Any thread.
    bool operator==(const StoredEvent& other) const {
        return seq == other.seq && id == other.id && type == other.type && time == other.time &&
               patient_id == other.patient_id && actor == other.actor && payload == other.payload &&
               prev_hash == other.prev_hash && hash == other.hash;
    }
};

/// prev_hash of the first event: 64 zeros.
inline constexpr std::string_view genesis_hash =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// The event as a JSON object with every field, `hash` included (absent optionals omitted). Any thread.
nlohmann::json to_json(const StoredEvent& event);
/// Parses an event written by to_json; ErrorCode::parse or invalid_argument naming the field. Any thread.
Result<StoredEvent> stored_event_from_json(const nlohmann::json& json);

/// Canonical bytes: nlohmann dump() (sorted keys, no whitespace) of the event object without
/// `hash`; absent optionals are omitted, not null. Any thread.
std::string canonical_bytes(const StoredEvent& event);
/// The same bytes as canonical_bytes, given the payload already dumped (`payload_json` must be
/// event.payload.dump()); lets the store dump each payload once, on the caller's thread. Any thread.
std::string canonical_bytes(const StoredEvent& event, std::string_view payload_json);

/// SHA-256 over the 64 hex characters of prev_hash followed by the canonical bytes, as lower-case
/// hex. (The hex text, not the 32 raw bytes, is hashed: it is what the event carries.) Any thread.
std::string event_hash(std::string_view prev_hash_hex, std::string_view canonical);

}  // namespace tandem
