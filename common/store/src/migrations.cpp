#include "migrations.h"

#include <iterator>

#include "projections.h"
#include "tandem/store/sqlcipher_store.h"

namespace tandem {

namespace {

// Version 1: the log itself. `seq` is the rowid, assigned by the single writer as head + 1, so it
// has no gaps (AUTOINCREMENT was rejected: it only promises increase, not density). The
// dedupe index is partial: most events carry no key and should not pay for an index entry.
// No index on patient_id: read_after scans by seq and filters, and with many conversations at
// once each extra index on a scattered key costs about one more 4 KiB page (encrypted, MACed,
// fsynced) per event; bench/store showed it.
constexpr const char* v1_sql = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO meta(key, value) VALUES('format', 'tandem-event-store');
CREATE TABLE events(
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  time TEXT NOT NULL,
  patient_id TEXT,
  actor_kind TEXT NOT NULL,
  actor_id TEXT,
  payload TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  dedupe_key TEXT
);
CREATE UNIQUE INDEX events_by_dedupe_key ON events(dedupe_key) WHERE dedupe_key IS NOT NULL;
)sql";

// Version 2: the views derived from the log, and a head checkpoint (seq and hash of the newest
// event, written with every append) so verify_chain can notice a truncated tail.
constexpr const char* v2_sql = R"sql(
CREATE TABLE patients(
  id TEXT PRIMARY KEY,
  display_name TEXT NOT NULL,
  assigned_therapist_id TEXT,
  in_crisis INTEGER NOT NULL DEFAULT 0,
  ai_paused INTEGER NOT NULL DEFAULT 0,
  last_seq INTEGER NOT NULL,
  record TEXT NOT NULL
);
CREATE INDEX patients_by_therapist ON patients(assigned_therapist_id);
CREATE TABLE conversations(
  id TEXT PRIMARY KEY,
  patient_id TEXT NOT NULL,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  last_seq INTEGER NOT NULL,
  record TEXT NOT NULL
);
CREATE INDEX conversations_by_patient ON conversations(patient_id, started_at);
CREATE TABLE messages(
  id TEXT PRIMARY KEY,
  conversation_id TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  sender TEXT NOT NULL,
  state TEXT NOT NULL,
  seq INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  edited_text TEXT
);
CREATE INDEX messages_by_conversation ON messages(conversation_id, seq);
CREATE TABLE flags(
  id TEXT PRIMARY KEY,
  patient_id TEXT NOT NULL,
  status TEXT NOT NULL,
  severity TEXT NOT NULL,
  escalation_level INTEGER NOT NULL,
  sla_deadline TEXT NOT NULL,
  opened_seq INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  record TEXT NOT NULL
);
CREATE INDEX flags_by_status ON flags(status, opened_seq);
CREATE TABLE plans(
  id TEXT PRIMARY KEY,
  patient_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  status TEXT NOT NULL,
  last_seq INTEGER NOT NULL,
  record TEXT NOT NULL
);
CREATE INDEX plans_by_patient ON plans(patient_id, version);
INSERT INTO meta(key, value)
  SELECT 'head_seq', CAST(coalesce(max(seq), 0) AS TEXT) FROM events;
INSERT INTO meta(key, value)
  SELECT 'head_hash', coalesce((SELECT hash FROM events ORDER BY seq DESC LIMIT 1),
                               '0000000000000000000000000000000000000000000000000000000000000000');
)sql";

// Fills the new views from the events already in the log. Events written before the views
// existed were never checked against them, so one a view cannot use is skipped, not fatal.
Result<void> replay_views(sqlite::Db& db) {
    // Assessment events are left to version 3, whose table does not exist yet at this step (in
    // version 2 they had no view, so skipping them changes nothing a version 2 store holds).
    auto select = sqlite::Stmt::prepare(db, std::string("SELECT ") + event_columns +
                                                " FROM events WHERE type NOT IN ('assessment_offered', "
                                                "'assessment_progress', 'assessment_scored') ORDER BY seq");
    if (!select) return std::unexpected(select.error());
    Projector projector(db);
    int rc = SQLITE_ROW;
    while ((rc = select->step()) == SQLITE_ROW) {
        auto event = read_event_row(*select);
        if (!event) continue;
        auto applied = projector.apply(*event);
        if (!applied && applied.error().code != ErrorCode::invalid_argument) return applied;
    }
    if (rc != SQLITE_DONE) return std::unexpected(sqlite::make_error(db.get(), rc, "cannot replay events"));
    return {};
}

// Version 3: the assessments view (issue 8: questionnaires offered, paused and scored in the
// conversation). Filled from the log's assessment events only: the other views exist already.
constexpr const char* v3_sql = R"sql(
CREATE TABLE assessments(
  id TEXT PRIMARY KEY,
  patient_id TEXT NOT NULL,
  instrument TEXT NOT NULL,
  status TEXT NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  record TEXT NOT NULL
);
CREATE INDEX assessments_by_patient ON assessments(patient_id, first_seq);
)sql";

Result<void> replay_assessments(sqlite::Db& db) {
    auto select = sqlite::Stmt::prepare(db, std::string("SELECT ") + event_columns +
                                                " FROM events WHERE type IN ('assessment_offered', "
                                                "'assessment_progress', 'assessment_scored') ORDER BY seq");
    if (!select) return std::unexpected(select.error());
    Projector projector(db);
    int rc = SQLITE_ROW;
    while ((rc = select->step()) == SQLITE_ROW) {
        auto event = read_event_row(*select);
        if (!event) continue;
        auto applied = projector.apply(*event);
        if (!applied && applied.error().code != ErrorCode::invalid_argument) return applied;
    }
    if (rc != SQLITE_DONE) return std::unexpected(sqlite::make_error(db.get(), rc, "cannot replay assessments"));
    return {};
}

struct Migration {
    int version;
    const char* sql;
    Result<void> (*after)(sqlite::Db&);
};

constexpr Migration migrations[] = {
    {1, v1_sql, nullptr},
    {2, v2_sql, replay_views},
    {3, v3_sql, replay_assessments},
};
static_assert(std::size(migrations) == sqlcipher_store_schema_version, "one migration per schema version");

}  // namespace

Result<int> check_store(sqlite::Db& db, const std::string& name) {
    auto version = db.query_int("PRAGMA user_version", "cannot read schema version");
    if (!version) return std::unexpected(version.error());
    if (*version > sqlcipher_store_schema_version) {
        return fail(ErrorCode::too_new, name + " has store schema version " + std::to_string(*version) +
                                            ", newer than this program's " +
                                            std::to_string(sqlcipher_store_schema_version) + "; upgrade Tandem");
    }
    if (*version == 0) {
        auto tables = db.query_int("SELECT count(*) FROM sqlite_schema", "cannot read schema");
        if (!tables) return std::unexpected(tables.error());
        if (*tables > 0) return fail(ErrorCode::not_a_database, name + " is an SQLite database but not a Tandem store");
    } else {
        auto marker = db.query_text("SELECT value FROM meta WHERE key='format'", "cannot read store format");
        if (!marker || !*marker || **marker != store_format_marker) {
            return fail(ErrorCode::not_a_database, name + " is an SQLite database but not a Tandem store");
        }
    }
    return static_cast<int>(*version);
}

Result<int> migrate(sqlite::Db& db, const std::string& name) {
    auto version = check_store(db, name);
    if (!version) return std::unexpected(version.error());
    for (const auto& m : migrations) {
        if (m.version <= *version) continue;
        auto tx = sqlite::Transaction::begin(db);
        if (!tx) return std::unexpected(tx.error());
        if (auto r = db.exec(m.sql, "cannot migrate to schema version " + std::to_string(m.version)); !r) {
            return std::unexpected(r.error());
        }
        if (m.after != nullptr) {
            if (auto r = m.after(db); !r) return std::unexpected(r.error());
        }
        const std::string bump = "PRAGMA user_version = " + std::to_string(m.version);
        if (auto r = db.exec(bump.c_str(), "cannot record schema version"); !r) return std::unexpected(r.error());
        if (auto r = tx->commit(); !r) return std::unexpected(r.error());
    }
    return sqlcipher_store_schema_version;
}

}  // namespace tandem
