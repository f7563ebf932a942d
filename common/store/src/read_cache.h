#pragma once
// SqlcipherStore's in-memory answers to the reads a patient turn and the clinician feed make
// every time (find_patient, recent_messages, plans, read_feed_after, read_after): filled from what
// the writer thread has just committed, so the common read touches no SQLCipher page. Every
// answer is the one the SQL read would give at some moment after the call began, or none (the
// caller then reads SQL). Private to the store: <sqlite3.h> stays out of public headers.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sqlite.h"
#include "tandem/store/store.h"

namespace tandem {

/// The patients view's columns in the order read_patient_row expects.
inline constexpr const char* patient_view_columns =
    "id, display_name, assigned_therapist_id, in_crisis, ai_paused, last_seq, record";
/// A PatientView from a row selected with patient_view_columns: the one row reader of the SQL
/// path and of the cache's load, so both give the same fields.
PatientView read_patient_row(const sqlite::Stmt& row);

/// The messages view's columns (messages m JOIN events e) in the order read_message_row expects.
inline constexpr const char* message_view_columns =
    "m.id, m.conversation_id, m.patient_id, m.sender, m.state, m.seq, m.edited_text, e.payload";
/// A MessageView from a row selected with message_view_columns.
MessageView read_message_row(const sqlite::Stmt& row);

struct ReadCacheOptions {
    std::size_t ring_events = 4096;               ///< newest events kept for read_after and read_feed_after
    std::size_t conversation_messages = 32;       ///< newest messages kept per conversation
    std::size_t budget_bytes = 32u << 20;         ///< estimated memory for cached messages and plans
    std::size_t max_patients = 100000;            ///< more registered patients than this: the cache turns itself off
    std::size_t max_catch_up = 4096;              ///< more events appended elsewhere than this: reload instead
};

class ReadCache {
public:
    /// `watch` is a read-only connection of the store's file, used only by the cache: to learn the
    /// log's head before each cached answer, and to load or catch up.
    ReadCache(sqlite::Db watch, ReadCacheOptions options);
    ReadCache(const ReadCache&) = delete;
    ReadCache& operator=(const ReadCache&) = delete;

    /// The cache's position (its newest applied seq) when it is exact as of a moment after the call
    /// began: checks the log's head, catches up with events another process appended, loads on first
    /// use. nullopt when it cannot be made exact now (read SQL). Any thread.
    std::optional<std::int64_t> sync();

    /// The patient, or nullopt-in-optional if none; outer nullopt: not served (read SQL). Any thread.
    std::optional<std::optional<PatientView>> find_patient(std::string_view patient_id);
    /// The tail of a conversation when cached; else nullopt, with `position` set when the caller
    /// may fill the cache from its SQL read (fill_messages). Any thread.
    std::optional<std::vector<MessageView>> recent_messages(std::string_view conversation_id, std::size_t limit,
                                                            std::optional<std::int64_t>& position);
    /// A whole conversation when the cache holds all of it; else as recent_messages. Any thread.
    std::optional<std::vector<MessageView>> messages(std::string_view conversation_id,
                                                     std::optional<std::int64_t>& position);
    /// Every plan of a patient when cached; else as recent_messages. Any thread.
    std::optional<std::vector<PlanView>> plans(std::string_view patient_id, std::optional<std::int64_t>& position);
    /// As Store::read_feed_after when the newest events hold every event after `after_seq`. Any thread.
    std::optional<std::vector<FeedEvent>> read_feed_after(std::int64_t after_seq, std::size_t limit);
    /// As Store::read_after, under the same condition. Any thread.
    std::optional<std::vector<StoredEvent>> read_after(std::int64_t after_seq, const Principal& principal,
                                                       std::size_t limit);

    /// Keeps what an SQL read at `position` (from the miss) returned: the newest messages of a
    /// conversation (`whole`: all of it), with the events the cache applied since `position`
    /// replayed onto it; dropped when the newest events no longer reach back that far. Any thread.
    void fill_messages(std::int64_t position, std::string_view conversation_id, const std::vector<MessageView>& tail,
                       bool whole);
    /// Keeps a patient's plans read at `position`, as fill_messages. Any thread.
    void fill_plans(std::int64_t position, std::string_view patient_id, const std::vector<PlanView>& plans);

    /// The events one transaction appended, in seq order, after its COMMIT succeeded (never for a
    /// rolled-back one). Applied when they follow the cache's position; otherwise left for the next
    /// sync() to read. Writer thread.
    void on_commit(const std::vector<std::shared_ptr<const StoredEvent>>& events);
    /// The writer is about to COMMIT its own events up to `last_seq`: until own_commit_ends(), a
    /// sync() that sees them in the log before on_commit has applied them waits for on_commit
    /// instead of reading them back from SQL. Writer thread.
    void own_commit_begins(std::int64_t last_seq);
    /// That COMMIT is over: applied by on_commit, or failed. Wakes the syncs waiting. Writer thread.
    void own_commit_ends();

    struct Stats {
        std::uint64_t hits = 0;     ///< reads answered from memory
        std::uint64_t misses = 0;   ///< reads sent to SQL
        std::uint64_t reloads = 0;  ///< full loads (first use, long gaps, a view the cache could not follow)
        std::uint64_t catch_ups = 0;  ///< reads of events another process (or a lagging hook) appended
    };
    /// Counters since open. Any thread.
    Stats stats() const noexcept;

private:
    // Counts a lookup as a hit or a miss (Stats) and returns `served`.
    bool counted(bool served);
    // recent_messages (limit) and messages (nullopt: the whole conversation) share this.
    std::optional<std::vector<MessageView>> conversation_tail(std::string_view conversation_id,
                                                              std::optional<std::size_t> limit,
                                                              std::optional<std::int64_t>& position);
    struct Conversation {
        std::deque<std::shared_ptr<const MessageView>> messages;  // seq order, contiguous to the newest
        bool whole = false;                                       // holds every message of the conversation
        std::size_t bytes = 0;
        std::atomic<std::uint64_t> used{0};
    };
    struct Plans {
        std::shared_ptr<const std::vector<PlanView>> rows;
        std::size_t bytes = 0;
        std::atomic<std::uint64_t> used{0};
    };

    Result<std::int64_t> watch_head();
    // Waits while `head` is within the writer's own COMMIT in progress; false at once when not.
    bool wait_for_own_commit(std::int64_t head);
    Result<void> reload();          // under watch_mutex_
    Result<void> catch_up();        // under watch_mutex_
    // Rings `event` and applies it to the views; events falling off the ring go to `dropped` (to
    // be freed after the lock) when given. Under mutex_ exclusive.
    void apply(std::shared_ptr<const StoredEvent> event,
               std::vector<std::shared_ptr<const StoredEvent>>* dropped = nullptr);
    void apply_patient(const StoredEvent& event);
    void apply_message(const StoredEvent& event);
    void apply_plan(const StoredEvent& event);
    bool replayable(std::int64_t position) const;               // under mutex_
    // Calls `visit` with each ringed event after `after_seq`, in order, until it returns false;
    // false when the ring cannot answer for `after_seq` (then nothing is visited). Under mutex_.
    template <typename Visit>
    bool visit_ring_after(std::int64_t after_seq, Visit&& visit) const;
    // The patient's current therapist for an event (none for no patient or an unknown one). Under mutex_.
    const std::optional<std::string>& therapist_of(const StoredEvent& e) const;
    void replay_since(std::int64_t position, bool messages);  // under mutex_ exclusive
    void drop_plans_of(const std::string& patient_id);
    void drop_conversation(std::unordered_map<std::string, std::unique_ptr<Conversation>>::iterator it);
    void trim(Conversation& c);
    void evict();
    void poison();                  // a view the cache cannot follow: reload on next sync

    sqlite::Db watch_;
    sqlite::Stmt head_stmt_;
    ReadCacheOptions options_;

    // Coalesced head checks: a caller may use a check that started after it arrived.
    std::mutex watch_mutex_;
    std::atomic<std::uint64_t> checks_started_{0};
    std::uint64_t checks_done_ = 0;   // under watch_mutex_
    std::int64_t checked_head_ = 0;   // under watch_mutex_

    // The writer's own COMMIT in progress (own_commit_begins): its last seq, 0 when none.
    std::mutex own_mutex_;
    std::condition_variable own_cv_;
    std::atomic<std::int64_t> own_upto_{0};  // written under own_mutex_

    mutable std::shared_mutex mutex_;
    bool loaded_ = false;
    bool off_ = false;                // too many patients: every read goes to SQL
    std::int64_t known_seq_ = 0;      // every event <= this is applied, none after
    std::int64_t ring_first_ = 1;     // the ring holds every event from here to known_seq_
    std::deque<std::shared_ptr<const StoredEvent>> ring_;
    std::unordered_map<std::string, std::shared_ptr<const PatientView>> patients_;
    std::unordered_map<std::string, std::unique_ptr<Conversation>> conversations_;
    std::unordered_map<std::string, std::string> message_conversation_;  // cached message id -> conversation
    std::unordered_map<std::string, std::unique_ptr<Plans>> plans_;
    std::unordered_map<std::string, std::string> plan_patient_;          // cached plan id -> patient
    std::size_t bytes_ = 0;
    std::atomic<std::uint64_t> clock_{0};

    std::atomic<std::uint64_t> hits_{0};
    std::atomic<std::uint64_t> misses_{0};
    std::atomic<std::uint64_t> reloads_{0};
    std::atomic<std::uint64_t> catch_ups_{0};
    std::atomic<std::uint64_t> own_waits_{0};
};

}  // namespace tandem
