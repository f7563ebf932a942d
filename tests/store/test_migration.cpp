#include <catch2/catch_test_macros.hpp>

#include "store_test_support.h"

using namespace tandem;
using namespace tandem::test;

namespace {

// Schema version 1 exactly as released: the log only, no views, no head checkpoint. Frozen
// here on purpose so that editing the migration list cannot silently change what is tested.
constexpr const char* v1_ddl = R"sql(
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
PRAGMA user_version = 1;
)sql";

void insert_v1(RawDb& raw, StoredEvent& e, std::string& prev) {
    e.prev_hash = prev;
    e.hash = event_hash(prev, canonical_bytes(e));
    prev = e.hash;
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(raw.get(),
                               "INSERT INTO events(seq,id,type,time,patient_id,actor_kind,actor_id,payload,prev_hash,hash)"
                               " VALUES(?,?,?,?,?,?,?,?,?,?)",
                               -1, &s, nullptr) == SQLITE_OK);
    const std::string type(to_string(e.type));
    const std::string kind(to_string(e.actor.kind));
    const std::string payload = e.payload.dump();
    sqlite3_bind_int64(s, 1, e.seq);
    sqlite3_bind_text(s, 2, e.id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, type.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, e.time.c_str(), -1, SQLITE_TRANSIENT);
    if (e.patient_id) sqlite3_bind_text(s, 5, e.patient_id->c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 6, kind.c_str(), -1, SQLITE_TRANSIENT);
    if (e.actor.id) sqlite3_bind_text(s, 7, e.actor.id->c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 8, payload.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 9, e.prev_hash.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 10, e.hash.c_str(), -1, SQLITE_TRANSIENT);
    REQUIRE(sqlite3_step(s) == SQLITE_DONE);
    sqlite3_finalize(s);
}

StoredEvent v1_event(std::int64_t seq, EventType type, std::optional<std::string> patient, nlohmann::json payload) {
    StoredEvent e;
    e.seq = seq;
    e.id = "v1-" + std::to_string(seq);
    e.type = type;
    e.time = "2026-01-01T00:00:00.000Z";
    e.patient_id = std::move(patient);
    e.actor = {ActorKind::clinician, "ther-a"};
    e.payload = std::move(payload);
    return e;
}

}  // namespace

TEST_CASE("a version 1 store is migrated on open: views rebuilt from its events, chain intact", "[store][migration]") {
    TempDir dir;
    auto key = random_secret(32);
    const auto p = dir.path / "old.db";
    {
        RawDb raw(p, key);
        raw.exec(v1_ddl);
        std::string prev(genesis_hash);
        std::vector<StoredEvent> events{
            v1_event(1, EventType::patient_registered, "p1",
                     {{"id", "p1"}, {"display_name", "Old patient"}, {"assigned_therapist_id", "ther-a"}}),
            v1_event(2, EventType::conversation_started, "p1", {{"id", "c1"}, {"patient_id", "p1"}, {"started_at", "2026-01-01T00:00:00.000Z"}}),
            v1_event(3, EventType::message_appended, "p1",
                     {{"id", "m1"}, {"conversation_id", "c1"}, {"patient_id", "p1"}, {"sender", "patient"}, {"text", "old"}}),
            v1_event(4, EventType::crisis_entered, "p1", nlohmann::json::object()),
            // Written before views existed and unusable by them: kept in the log, skipped by the view.
            v1_event(5, EventType::message_state_changed, "p1", {{"message_id", "gone"}, {"state", "held"}}),
            // A score from before the assessments view (version 3) appears in it after the migration.
            v1_event(6, EventType::assessment_scored, "p1",
                     {{"id", "a1"}, {"patient_id", "p1"}, {"instrument", "phq9"},
                      {"items", {1, 1, 1, 1, 1, 1, 1, 1, 0}}, {"score", 8}, {"band", "mild"},
                      {"administered_at", "2026-01-01T00:00:00.000Z"}}),
        };
        for (auto& e : events) insert_v1(raw, e, prev);
    }
    auto store = open_store(p, key);
    CHECK(store->schema_version() == sqlcipher_store_schema_version);
    auto patient = store->find_patient("p1");
    REQUIRE(patient.has_value());
    REQUIRE(patient->has_value());
    CHECK((*patient)->display_name == "Old patient");
    CHECK((*patient)->in_crisis);
    auto msgs = store->messages("c1");
    REQUIRE(msgs.has_value());
    REQUIRE(msgs->size() == 1);
    CHECK(msgs->front().record["text"] == "old");
    auto report = store->verify_chain(std::nullopt);
    REQUIRE(report.has_value());
    CHECK(report->ok);
    CHECK(report->checked == 6);
    auto assessments = store->assessments("p1");
    REQUIRE(assessments.has_value());
    REQUIRE(assessments->size() == 1);
    CHECK(assessments->front().status == "completed");
    CHECK(assessments->front().record["score"] == 8);
    auto next = store->append(clinic_configured());
    REQUIRE(next.has_value());
    CHECK(next->event.seq == 7);

    SECTION("and opening it again migrates nothing more") {
        store.reset();
        auto again = open_store(p, key);
        CHECK(again->schema_version() == sqlcipher_store_schema_version);
        CHECK(again->head()->seq == 7);
    }
}
