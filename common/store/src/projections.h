#pragma once
// Keeps the views (patients, conversations, messages, flags, plans, assessments) in step with the log. Runs
// on the writer connection inside the append's transaction, so a view never disagrees with the
// events it was derived from. Reads the payload field names of docs/ARCHITECTURE.md's records.

#include <map>
#include <string>

#include "sqlite.h"
#include "tandem/store/event.h"

namespace tandem {

/// The events table's columns in the order read_event_row expects.
inline constexpr const char* event_columns =
    "seq, id, type, time, patient_id, actor_kind, actor_id, payload, prev_hash, hash";

/// Builds a StoredEvent from a row selected with event_columns; invalid_argument when a stored
/// value is not what the log allows (an unknown type, unparsable payload): a sign of tampering.
Result<StoredEvent> read_event_row(const sqlite::Stmt& row);

class Projector {
public:
    explicit Projector(sqlite::Db& db) : db_(&db) {}

    /// Updates the views for one event already inserted in the current transaction.
    /// invalid_argument (naming the payload field) when the payload lacks what a view needs or
    /// names an unknown patient, message, flag or plan; storage on SQLite failure.
    Result<void> apply(const StoredEvent& event);

private:
    Result<sqlite::Stmt*> stmt(const char* sql);
    Result<void> patient_registered(const StoredEvent& e);
    Result<void> patient_assigned(const StoredEvent& e);
    Result<void> patient_flag(const StoredEvent& e, const char* column, bool value);
    Result<void> conversation_started(const StoredEvent& e);
    Result<void> message_appended(const StoredEvent& e);
    Result<void> message_state_changed(const StoredEvent& e);
    Result<void> flag_opened(const StoredEvent& e);
    Result<void> flag_changed(const StoredEvent& e);
    Result<void> plan_proposed(const StoredEvent& e);
    Result<void> plan_decided(const StoredEvent& e);
    Result<void> assessment_offered(const StoredEvent& e);
    Result<void> assessment_progress(const StoredEvent& e);
    Result<void> assessment_scored(const StoredEvent& e);

    sqlite::Db* db_;
    std::map<const char*, sqlite::Stmt> cache_;  // keyed by the SQL literal's address
};

}  // namespace tandem
