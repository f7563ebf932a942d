#pragma once
// The Store interface: the clinic's append-only event log and the views derived from it.
// Shaped so a PostgreSQL implementation can follow SqlcipherStore: no SQLite types, no SQL,
// sequence numbers and cursors are plain integers, visibility is decided inside the store.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/domain/error.h"
#include "tandem/store/event.h"

namespace tandem {

/// Who is reading. Roles come from the authenticated session, never from the client's word.
struct Principal {
    std::string clinician_id;
    bool therapist = false;
    bool supervisor = false;
    bool admin = false;
};

/// Result of one append: the event as stored, and whether it was an earlier event returned
/// because its dedupe_key matched (nothing was appended then). The event is shared, never changed,
/// with the store's read cache. Why: the cache's own copy of every appended event (payload tree
/// included) and its destruction were 4% of the bridge under load (docs/PERFORMANCE.md, "Bridge
/// under load"). As FeedEvent, `event` is a member reference so callers write `r.event.seq`; an
/// AppendResult is copy- and move-constructible but not assignable.
struct AppendResult {
    /// Shares `shared_event` (not null). Any thread.
    AppendResult(std::shared_ptr<const StoredEvent> shared_event, bool was_duplicate)
        : shared(std::move(shared_event)), event(*shared), duplicate(was_duplicate) {}
    /// Takes `stored` into a new shared event. Any thread.
    AppendResult(StoredEvent stored, bool was_duplicate)
        : AppendResult(std::make_shared<const StoredEvent>(std::move(stored)), was_duplicate) {}

    std::shared_ptr<const StoredEvent> shared;  ///< owns `event`
    const StoredEvent& event;                   ///< *shared
    bool duplicate = false;
};

/// The newest event of the log: seq 0 and genesis_hash for an empty log.
struct ChainHead {
    std::int64_t seq = 0;
    std::string hash = std::string(genesis_hash);
    bool operator==(const ChainHead&) const = default;
};

/// Outcome of verify_chain: ok, or the first sequence number where the chain breaks and why.
struct ChainReport {
    bool ok = true;
    std::int64_t checked = 0;                 ///< events whose hash was recomputed
    std::optional<std::int64_t> first_bad_seq;
    std::string reason;                       ///< e.g. "hash mismatch", "missing event"
};

/// The patients view: one row per registered patient with its current assignment and state.
struct PatientView {
    std::string id;
    std::string display_name;
    std::optional<std::string> assigned_therapist_id;
    bool in_crisis = false;   ///< from crisis_entered until crisis_cleared
    bool ai_paused = false;   ///< from ai_paused until ai_resumed
    std::int64_t last_seq = 0;
    nlohmann::json record;    ///< the Patient record as last written
};

/// The conversations view.
struct ConversationView {
    std::string id;
    std::string patient_id;
    std::string started_at;
    std::optional<std::string> ended_at;
    nlohmann::json record;
};

/// A JSON value that is never changed once made, shared by every copy: copying a view that holds
/// one copies a pointer, not the tree. Reads as a const nlohmann::json (value, contains, [], ->,
/// and converts to const json&); to change one, copy the json out and build a new SharedJson.
/// Why: the read cache hands the same message records to every turn, and copying their trees
/// was 7.5% of the bridge's CPU under load (docs/PERFORMANCE.md, "Bridge under load").
class SharedJson {
public:
    /// A null value.
    SharedJson() = default;
    /// Takes `value` (implicit, so a view is still built from a json as before).
    SharedJson(nlohmann::json value)  // NOLINT(google-explicit-constructor)
        : value_(std::make_shared<const nlohmann::json>(std::move(value))) {}

    /// The value (null when default-constructed); valid while this or a copy lives.
    const nlohmann::json& get() const noexcept { return value_ ? *value_ : null_value(); }
    /// As get(), so a SharedJson passes where a const json& is wanted.
    operator const nlohmann::json&() const noexcept { return get(); }  // NOLINT(google-explicit-constructor)
    /// As get().
    const nlohmann::json& operator*() const noexcept { return get(); }
    /// As get(), for any other const json member.
    const nlohmann::json* operator->() const noexcept { return &get(); }
    /// As nlohmann::json::value.
    template <class... Args>
    decltype(auto) value(Args&&... args) const {
        return get().value(std::forward<Args>(args)...);
    }
    /// As nlohmann::json::contains.
    template <class Key>
    bool contains(Key&& key) const {
        return get().contains(std::forward<Key>(key));
    }
    /// As the const nlohmann::json::operator[] (an absent key is undefined there too: check first).
    template <class Key>
    decltype(auto) operator[](Key&& key) const {
        return get()[std::forward<Key>(key)];
    }
    /// As nlohmann::json::is_object.
    bool is_object() const noexcept { return get().is_object(); }

private:
    static const nlohmann::json& null_value() noexcept;
    std::shared_ptr<const nlohmann::json> value_;
};

/// The messages view: each Message with its current state (delivered, held, withheld).
struct MessageView {
    std::string id;
    std::string conversation_id;
    std::string patient_id;
    std::string sender;
    std::string state;
    std::int64_t seq = 0;     ///< the message_appended event
    SharedJson record;        ///< the Message record with state (and text, if released edited) updated
};

/// The flags view (open_flags lists those not resolved).
struct FlagView {
    std::string id;
    std::string patient_id;
    std::string status;
    std::string severity;
    int escalation_level = 0;
    std::string sla_deadline;
    std::int64_t last_seq = 0;
    nlohmann::json record;    ///< the Flag record with status, notes and decisions merged in
};

/// One event of a feed read (Store::read_feed_after) with what visibility needs besides the event:
/// the current assignment of the event's patient. The event is shared and never changed: copying a
/// FeedEvent copies a pointer, and a cached read hands out the read cache's own event, not a copy.
/// Why: the feed reads every event once per pass, and copying each one (payload tree included)
/// was 1% of the bridge under load (docs/PERFORMANCE.md, "Bridge under load"). `event` stays a
/// member reference so readers write `fe.event.seq` as before; it is copy- and move-constructible
/// but not assignable (it refers to the event `shared` owns).
struct FeedEvent {
    /// Shares `shared_event` (not null). Any thread.
    FeedEvent(std::shared_ptr<const StoredEvent> shared_event, std::optional<std::string> therapist)
        : shared(std::move(shared_event)), event(*shared), assigned_therapist_id(std::move(therapist)) {}
    /// Takes `stored` into a new shared event (a read from SQL). Any thread.
    FeedEvent(StoredEvent stored, std::optional<std::string> therapist)
        : FeedEvent(std::make_shared<const StoredEvent>(std::move(stored)), std::move(therapist)) {}

    std::shared_ptr<const StoredEvent> shared;  ///< owns `event`
    const StoredEvent& event;                   ///< *shared
    std::optional<std::string> assigned_therapist_id;  ///< the patient's therapist as of the read; none if unassigned
};

/// Whether `principal` may read `event` whose patient is assigned to `assigned_therapist_id` now:
/// supervisor every event; therapist events of patients assigned to them; admin events without a
/// patient; everyone their own events (actor clinician with their id). The one rule behind
/// Store::read_after, for callers that filter one read_feed_after for many principals. Any thread.
bool may_read(const Principal& principal, const StoredEvent& event,
              const std::optional<std::string>& assigned_therapist_id) noexcept;

/// The plan versions view.
struct PlanView {
    std::string id;
    std::string patient_id;
    std::int64_t version = 0;
    std::string status;
    nlohmann::json record;
};

/// The assessments view: one row per offered (or directly scored) questionnaire.
struct AssessmentView {
    std::string id;
    std::string patient_id;
    std::string instrument;
    std::string status;          ///< offered | in_progress | completed
    std::int64_t first_seq = 0;  ///< the event that created the row (offer, or a score without one)
    std::int64_t last_seq = 0;
    nlohmann::json record;       ///< the Assessment record: items so far; score and band once completed
};

class Store {
public:
    virtual ~Store() = default;

    /// Appends one event and returns once it is durable (survives kill -9 and power loss), with its
    /// seq and hash; views are updated in the same transaction. A dedupe_key seen before returns the
    /// first event with duplicate=true. Errors: invalid_argument (payload lacks a field a view
    /// needs; nothing appended), storage. Any thread; concurrent calls are committed together.
    virtual Result<AppendResult> append(NewEvent event) = 0;

    /// Appends all events atomically (all or none) in order with consecutive seqs, durable on
    /// return. Errors and threads as append.
    virtual Result<std::vector<AppendResult>> append_batch(std::vector<NewEvent> events) = 0;

    /// Up to `limit` events with seq > after_seq that `principal` may see, in seq order: supervisor
    /// every event; therapist events of patients assigned to them now; admin events without a
    /// patient; everyone their own events (actor clinician with their id). Resume with the last
    /// returned seq. Errors: storage. Any thread.
    virtual Result<std::vector<StoredEvent>> read_after(std::int64_t after_seq, const Principal& principal,
                                                        std::size_t limit) = 0;

    /// Up to `limit` events with seq > after_seq, every one whatever its patient, in seq order, each
    /// with its patient's assignment as of the read. For a caller that serves many principals from
    /// one read (the clinician feed) by filtering with may_read: never send the result unfiltered.
    /// The default pages read_after as a supervisor and looks patients up. Errors: storage. Any thread.
    virtual Result<std::vector<FeedEvent>> read_feed_after(std::int64_t after_seq, std::size_t limit);

    /// The newest event's seq and hash. Errors: storage. Any thread.
    virtual Result<ChainHead> head() = 0;

    /// Recomputes every hash from seq 1 and checks seqs are gapless, links match and the log reaches
    /// the stored head checkpoint and `anchor` (a head recorded elsewhere, if given). A broken chain is
    /// a report with ok=false, not an error; errors are storage only. Any thread.
    virtual Result<ChainReport> verify_chain(const std::optional<ChainHead>& anchor) = 0;

    /// One patient from the patients view, nullopt if unknown. Errors: storage. Any thread.
    virtual Result<std::optional<PatientView>> find_patient(std::string_view patient_id) = 0;
    /// Patients `principal` may see (supervisor all, therapist assigned ones), by id. Any thread.
    virtual Result<std::vector<PatientView>> patients(const Principal& principal) = 0;
    /// A patient's conversations, oldest first. Errors: storage. Any thread.
    virtual Result<std::vector<ConversationView>> conversations(std::string_view patient_id) = 0;
    /// A conversation's messages in seq order. Errors: storage. Any thread.
    virtual Result<std::vector<MessageView>> messages(std::string_view conversation_id) = 0;
    /// The newest `limit` messages of a conversation, in seq order: the tail of messages(), for a
    /// caller that needs a window of a long conversation. The default reads messages() whole.
    /// Errors: storage. Any thread.
    virtual Result<std::vector<MessageView>> recent_messages(std::string_view conversation_id, std::size_t limit);
    /// Flags not yet resolved that `principal` may see, oldest first. Errors: storage. Any thread.
    virtual Result<std::vector<FlagView>> open_flags(const Principal& principal) = 0;
    /// Every plan version of a patient, by version. Errors: storage. Any thread.
    virtual Result<std::vector<PlanView>> plans(std::string_view patient_id) = 0;
    /// Every assessment of a patient (offered, in progress, completed), oldest offer first.
    /// Errors: storage. Any thread.
    virtual Result<std::vector<AssessmentView>> assessments(std::string_view patient_id) = 0;
};

}  // namespace tandem
