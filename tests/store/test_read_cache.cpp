// The read cache (common/store/src/read_cache.*) against the SQL path: a store with the cache and
// a second instance on the same file without it must answer every cached read alike, after
// appends, a failed batch, another instance's appends, a reopen, and at the cache's bounds.
#include "tandem/store/sqlcipher_store.h"

#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <thread>

#include "store_test_support.h"

using namespace tandem;
using namespace tandem::test;
using nlohmann::json;

namespace {

const Principal supervisor{"sup-1", false, true, false};
const Principal therapist_a{"ther-a", true, false, false};
const Principal therapist_b{"ther-b", true, false, false};
const Principal admin{"admin-1", false, false, true};
const Principal nobody{"nobody", false, false, false};

std::unique_ptr<SqlcipherStore> open_with(const std::filesystem::path& p, const SecretBuffer& key,
                                          SqlcipherStoreOptions options) {
    auto s = SqlcipherStore::open(p, key.bytes(), options);
    if (!s) throw std::runtime_error("open failed: " + s.error().describe());
    return std::move(*s);
}

SqlcipherStoreOptions uncached() {
    SqlcipherStoreOptions o;
    o.read_cache = false;
    return o;
}

// Views as JSON with every field, so a difference names the field.
json as_json(const PatientView& p) {
    return {{"id", p.id}, {"display_name", p.display_name}, {"assigned", p.assigned_therapist_id ? json(*p.assigned_therapist_id) : json()},
            {"in_crisis", p.in_crisis}, {"ai_paused", p.ai_paused}, {"last_seq", p.last_seq}, {"record", p.record}};
}
json as_json(const MessageView& m) {
    return {{"id", m.id}, {"conversation_id", m.conversation_id}, {"patient_id", m.patient_id}, {"sender", m.sender},
            {"state", m.state}, {"seq", m.seq}, {"record", m.record}};
}
json as_json(const PlanView& p) {
    return {{"id", p.id}, {"patient_id", p.patient_id}, {"version", p.version}, {"status", p.status}, {"record", p.record}};
}
json as_json(const FeedEvent& f) {
    return {{"event", to_json(f.event)}, {"assigned", f.assigned_therapist_id ? json(*f.assigned_therapist_id) : json()}};
}
json as_json(const StoredEvent& e) { return to_json(e); }
template <class T>
json as_json(const std::vector<T>& rows) {
    json out = json::array();
    for (const auto& r : rows) out.push_back(as_json(r));
    return out;
}
template <class T>
json as_json(const Result<T>& r) {
    REQUIRE(r.has_value());
    return as_json(*r);
}
json as_json(const Result<std::optional<PatientView>>& r) {
    REQUIRE(r.has_value());
    return r->has_value() ? as_json(**r) : json();
}

struct Reads {
    std::vector<std::string> patients;
    std::vector<std::string> conversations;
};

// Every cached read, asked of both stores; limits around the bounds a test sets.
void expect_same(SqlcipherStore& cached, SqlcipherStore& sql, const Reads& reads) {
    for (const auto& p : reads.patients) {
        INFO("patient " << p);
        CHECK(as_json(cached.find_patient(p)) == as_json(sql.find_patient(p)));
        CHECK(as_json(cached.plans(p)) == as_json(sql.plans(p)));
    }
    for (const auto& c : reads.conversations) {
        INFO("conversation " << c);
        for (std::size_t limit : {0, 1, 2, 3, 4, 5, 32, 1000}) {
            INFO("limit " << limit);
            CHECK(as_json(cached.recent_messages(c, limit)) == as_json(sql.recent_messages(c, limit)));
        }
        CHECK(as_json(cached.messages(c)) == as_json(sql.messages(c)));
    }
    const auto head = sql.head();
    REQUIRE(head.has_value());
    for (std::int64_t after = -1; after <= head->seq + 1; ++after) {
        INFO("after " << after);
        for (std::size_t limit : {1, 3, 1000}) {
            INFO("limit " << limit);
            CHECK(as_json(cached.read_feed_after(after, limit)) == as_json(sql.read_feed_after(after, limit)));
            for (const auto& who : {supervisor, therapist_a, therapist_b, admin, nobody}) {
                INFO("principal " << who.clinician_id);
                CHECK(as_json(cached.read_after(after, who, limit)) == as_json(sql.read_after(after, who, limit)));
            }
        }
    }
}

NewEvent conversation_started(const std::string& patient, const std::string& id) {
    NewEvent e;
    e.type = EventType::conversation_started;
    e.patient_id = patient;
    e.payload = {{"id", id}, {"patient_id", patient}, {"started_at", "2026-11-26T03:00:00.000Z"}};
    return e;
}

NewEvent ai_message(const std::string& patient, const std::string& conversation, const std::string& id,
                    const std::string& text, const std::string& state) {
    NewEvent e = message(patient, conversation, id, text, state);
    e.actor = {ActorKind::ai, std::nullopt};
    e.payload["sender"] = "ai";
    e.payload["risk"] = {{"severity", "none"}, {"categories", json::array()}, {"spans", json::array()}};
    return e;
}

NewEvent state_changed(const std::string& patient, const std::string& message_id, const std::string& state,
                       const std::optional<std::string>& text = std::nullopt) {
    NewEvent e;
    e.type = EventType::message_state_changed;
    e.patient_id = patient;
    e.actor = {ActorKind::clinician, "ther-a"};
    e.payload = {{"message_id", message_id}, {"state", state}};
    if (text) e.payload["text"] = *text;
    return e;
}

NewEvent patient_event(EventType type, const std::string& patient, json payload = json::object()) {
    NewEvent e;
    e.type = type;
    e.patient_id = patient;
    e.actor = {ActorKind::clinician, "sup-1"};
    e.payload = std::move(payload);
    return e;
}

void append_ok(Store& store, NewEvent e) { REQUIRE(store.append(std::move(e)).has_value()); }

// Patients p0.. with a conversation each (c<patient>), every one assigned to ther-a or every
// other one, listed for expect_same.
Reads register_patients(SqlcipherStore& store, int count, bool every_one_assigned) {
    Reads reads;
    for (int t = 0; t < count; ++t) {
        const std::string p = "p" + std::to_string(t);
        const bool assigned = every_one_assigned || t % 2 == 0;
        append_ok(store, patient_registered(p, assigned ? std::optional<std::string>("ther-a") : std::nullopt));
        append_ok(store, conversation_started(p, "c" + p));
        reads.patients.push_back(p);
        reads.conversations.push_back("c" + p);
    }
    return reads;
}

// `count` messages from patient `p`, each read back at once as its conversation's newest: a
// failed append or a tail without the message counts in `stale`.
void append_reading_back(SqlcipherStore& store, const std::string& p, int count, std::atomic<int>& stale) {
    for (int i = 0; i < count; ++i) {
        const std::string id = p + "-" + std::to_string(i);
        if (!store.append(message(p, "c" + p, id, "text"))) {
            stale.fetch_add(1);
            continue;
        }
        auto tail = store.recent_messages("c" + p, 1);
        if (!tail || tail->empty() || tail->back().id != id) stale.fetch_add(1);
    }
}

}  // namespace

TEST_CASE("cached reads answer as SQL after every kind of append that changes a cached view", "[store][cache]") {
    TempDir dir;
    const auto key = random_secret(32);
    const auto file = dir.path / "store.db";
    auto cached = open_with(file, key, {});
    auto sql = open_with(file, key, uncached());
    const Reads reads{{"pa", "pb", "pc", "unknown"}, {"ca", "cb", "none"}};

    append_ok(*cached, clinic_configured());
    append_ok(*cached, patient_registered("pa", "ther-a"));
    append_ok(*cached, patient_registered("pb", std::nullopt));
    expect_same(*cached, *sql, reads);  // loads the cache, fills conversations and plans
    append_ok(*cached, conversation_started("pa", "ca"));
    append_ok(*cached, conversation_started("pb", "cb"));
    expect_same(*cached, *sql, reads);

    // Appends to conversations the cache holds (whole), then past its window.
    for (int i = 0; i < 6; ++i) {
        append_ok(*cached, message("pa", "ca", "ma" + std::to_string(i), "hello " + std::to_string(i)));
        append_ok(*cached, ai_message("pa", "ca", "ra" + std::to_string(i), "reply " + std::to_string(i),
                                      i % 2 == 0 ? "delivered" : "held"));
    }
    append_ok(*cached, message("pb", "cb", "mb0", "other"));
    expect_same(*cached, *sql, reads);

    // A held reply released with an edit, one withheld, one released as written.
    append_ok(*cached, state_changed("pa", "ra5", "delivered", "edited reply"));
    append_ok(*cached, state_changed("pa", "ra3", "withheld"));
    append_ok(*cached, state_changed("pa", "ra1", "delivered"));
    append_ok(*cached, state_changed("pa", "ra5", "withheld"));  // an earlier edit stays in the view
    expect_same(*cached, *sql, reads);

    // Patients: assignment, reassignment, unassignment, crisis and pause, re-registration.
    append_ok(*cached, patient_event(EventType::patient_assigned, "pb", {{"patient_id", "pb"}, {"assigned_therapist_id", "ther-b"}}));
    append_ok(*cached, patient_event(EventType::patient_assigned, "pa", {{"patient_id", "pa"}, {"assigned_therapist_id", "ther-b"}}));
    append_ok(*cached, patient_event(EventType::crisis_entered, "pa"));
    append_ok(*cached, patient_event(EventType::ai_paused, "pb"));
    expect_same(*cached, *sql, reads);
    append_ok(*cached, patient_event(EventType::patient_assigned, "pa", {{"patient_id", "pa"}, {"assigned_therapist_id", nullptr}}));
    append_ok(*cached, patient_event(EventType::crisis_cleared, "pa"));
    append_ok(*cached, patient_registered("pb", "ther-a"));  // keeps ai_paused
    append_ok(*cached, patient_registered("pc", "ther-a"));
    expect_same(*cached, *sql, reads);

    // Plans: proposed, approved (superseding the earlier approval), rejected.
    append_ok(*cached, patient_event(EventType::plan_proposed, "pa", {{"id", "plan1"}, {"patient_id", "pa"}, {"version", 1}}));
    expect_same(*cached, *sql, reads);
    append_ok(*cached, patient_event(EventType::plan_approved, "pa", {{"plan_id", "plan1"}, {"approver_id", "ther-a"}}));
    expect_same(*cached, *sql, reads);
    append_ok(*cached, patient_event(EventType::plan_proposed, "pa", {{"id", "plan2"}, {"patient_id", "pa"}, {"version", 2}}));
    append_ok(*cached, patient_event(EventType::plan_approved, "pa", {{"plan_id", "plan2"}, {"approver_id", "ther-a"}}));
    expect_same(*cached, *sql, reads);
    NewEvent rejected = patient_event(EventType::plan_rejected, "pa", {{"plan_id", "plan1"}, {"reason", "old"}});
    rejected.patient_id.reset();  // the projector finds the plan's patient itself
    append_ok(*cached, std::move(rejected));
    expect_same(*cached, *sql, reads);

    const auto stats = cached->stats();
    CHECK(stats.cache_hits > 100);
    CHECK(stats.cache_reloads == 1);
}

TEST_CASE("a failed append or batch changes no cached answer", "[store][cache]") {
    TempDir dir;
    const auto key = random_secret(32);
    const auto file = dir.path / "store.db";
    auto cached = open_with(file, key, {});
    auto sql = open_with(file, key, uncached());
    const Reads reads{{"pa"}, {"ca"}};
    append_ok(*cached, patient_registered("pa", "ther-a"));
    append_ok(*cached, conversation_started("pa", "ca"));
    append_ok(*cached, message("pa", "ca", "m0", "first"));
    expect_same(*cached, *sql, reads);
    const auto before = cached->head();

    struct Case {
        const char* name;
        std::vector<NewEvent> batch;
    };
    std::vector<Case> cases;
    cases.push_back({"a message then a state change of an unknown message",
                     {message("pa", "ca", "m1", "lost"), state_changed("pa", "no-such-message", "delivered")}});
    cases.push_back({"an assignment then a crisis of an unknown patient",
                     {patient_event(EventType::patient_assigned, "pa", {{"patient_id", "pa"}, {"assigned_therapist_id", "ther-b"}}),
                      patient_event(EventType::crisis_entered, "nobody-registered")}});
    cases.push_back({"a state change then a message without a conversation",
                     {state_changed("pa", "m0", "withheld"), patient_event(EventType::message_appended, "pa", {{"id", "m2"}})}});
    for (auto& c : cases) {
        INFO(c.name);
        CHECK_FALSE(cached->append_batch(std::move(c.batch)).has_value());
        CHECK(cached->head() == before);
        expect_same(*cached, *sql, reads);
    }

    // Failing and succeeding appenders committed in the same groups: only the good ones count.
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 10; ++i) {
                const std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
                if (t % 2 == 0) {
                    (void)cached->append(message("pa", "ca", id, "ok"));
                } else {
                    (void)cached->append_batch({message("pa", "ca", id, "lost"), state_changed("pa", "nope", "held")});
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    expect_same(*cached, *sql, reads);
    auto all = cached->messages("ca");
    REQUIRE(all.has_value());
    CHECK(all->size() == 21);
}

TEST_CASE("another instance's appends are in the next cached answer", "[store][cache]") {
    TempDir dir;
    const auto key = random_secret(32);
    const auto file = dir.path / "store.db";
    auto cached = open_with(file, key, {});
    auto other = open_with(file, key, uncached());  // as `tandem-bridge clinician add` beside a bridge
    const Reads reads{{"pa", "pb"}, {"ca"}};
    append_ok(*cached, patient_registered("pa", "ther-a"));
    append_ok(*cached, conversation_started("pa", "ca"));
    append_ok(*cached, message("pa", "ca", "m0", "first"));
    expect_same(*cached, *other, reads);

    // Each read right after the other's append, with nothing committed here in between.
    append_ok(*other, patient_event(EventType::patient_assigned, "pa", {{"patient_id", "pa"}, {"assigned_therapist_id", "ther-b"}}));
    auto p = cached->find_patient("pa");
    REQUIRE(p.has_value());
    REQUIRE(p->has_value());
    CHECK((*p)->assigned_therapist_id == std::optional<std::string>("ther-b"));
    append_ok(*other, message("pa", "ca", "m1", "from elsewhere"));
    auto tail = cached->recent_messages("ca", 1);
    REQUIRE(tail.has_value());
    REQUIRE(tail->size() == 1);
    CHECK(tail->front().id == "m1");
    append_ok(*other, patient_registered("pb", "ther-a"));
    auto feed = cached->read_feed_after(0, 1000);
    REQUIRE(feed.has_value());
    REQUIRE_FALSE(feed->empty());
    CHECK(feed->back().event.payload.value("id", "") == "pb");
    expect_same(*cached, *other, reads);

    // Interleaved: this instance's commits after the other's must not leave a gap in the cache.
    for (int i = 0; i < 5; ++i) {
        append_ok(*other, message("pa", "ca", "o" + std::to_string(i), "other"));
        append_ok(*cached, message("pa", "ca", "c" + std::to_string(i), "cached"));
        append_ok(*other, state_changed("pa", "c" + std::to_string(i), "held"));
    }
    expect_same(*cached, *other, reads);
    CHECK(cached->stats().cache_catch_ups > 0);
}

TEST_CASE("a reopened store's cache answers as SQL", "[store][cache]") {
    TempDir dir;
    const auto key = random_secret(32);
    const auto file = dir.path / "store.db";
    const Reads reads{{"pa"}, {"ca"}};
    {
        auto cached = open_with(file, key, {});
        append_ok(*cached, patient_registered("pa", "ther-a"));
        append_ok(*cached, conversation_started("pa", "ca"));
        for (int i = 0; i < 40; ++i) append_ok(*cached, message("pa", "ca", "m" + std::to_string(i), "text"));
        append_ok(*cached, patient_event(EventType::plan_proposed, "pa", {{"id", "plan1"}, {"patient_id", "pa"}, {"version", 1}}));
    }
    auto cached = open_with(file, key, {});
    auto sql = open_with(file, key, uncached());
    expect_same(*cached, *sql, reads);
    append_ok(*cached, message("pa", "ca", "after-reopen", "text"));
    append_ok(*cached, patient_event(EventType::plan_approved, "pa", {{"plan_id", "plan1"}}));
    expect_same(*cached, *sql, reads);
}

TEST_CASE("answers at the cache's bounds (newest events, messages per conversation, memory) are SQL's", "[store][cache]") {
    TempDir dir;
    const auto key = random_secret(32);
    const auto file = dir.path / "store.db";
    SqlcipherStoreOptions small;
    small.read_cache_events = 4;
    small.read_cache_messages = 3;
    small.read_cache_bytes = 12 * 1024;  // a few conversations' worth: eviction in every round
    auto cached = open_with(file, key, small);
    auto sql = open_with(file, key, uncached());
    Reads reads{{"pa", "pb"}, {}};
    append_ok(*cached, patient_registered("pa", "ther-a"));
    append_ok(*cached, patient_registered("pb", "ther-b"));
    for (int c = 0; c < 6; ++c) {
        const std::string conv = "c" + std::to_string(c);
        append_ok(*cached, conversation_started(c % 2 == 0 ? "pa" : "pb", conv));
        reads.conversations.push_back(conv);
    }
    expect_same(*cached, *sql, reads);
    for (int round = 0; round < 5; ++round) {
        for (int c = 0; c < 6; ++c) {
            const std::string conv = "c" + std::to_string(c);
            const std::string patient = c % 2 == 0 ? "pa" : "pb";
            const std::string id = conv + "-m" + std::to_string(round);
            append_ok(*cached, message(patient, conv, id, std::string(200, 'x')));
            if (round % 2 == 1) append_ok(*cached, state_changed(patient, conv + "-m" + std::to_string(round - 1), "held"));
        }
        expect_same(*cached, *sql, reads);
    }
    const auto stats = cached->stats();
    CHECK(stats.cache_hits > 0);
    CHECK(stats.cache_misses > 0);
}

TEST_CASE("a read after an append returns includes it, with appenders and readers on many threads", "[store][cache]") {
    TempDir dir;
    const auto key = random_secret(32);
    const auto file = dir.path / "store.db";
    auto cached = open_with(file, key, {});
    auto sql = open_with(file, key, uncached());
    const Reads reads = register_patients(*cached, 6, false);
    std::atomic<int> stale{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t) {
        threads.emplace_back([&, t] {
            const std::string p = "p" + std::to_string(t);
            for (int i = 0; i < 15; ++i) {
                const std::string id = p + "-" + std::to_string(i);
                auto r = cached->append(message(p, "c" + p, id, "text"));
                if (!r) continue;
                auto tail = cached->recent_messages("c" + p, 4);
                if (!tail || tail->empty() || tail->back().id != id) stale.fetch_add(1);
                auto feed = cached->read_feed_after(r->event.seq - 1, 1);
                if (!feed || feed->empty() || feed->front().event.seq != r->event.seq) stale.fetch_add(1);
            }
        });
    }
    for (auto& t : threads) t.join();
    CHECK(stale.load() == 0);
    expect_same(*cached, *sql, reads);
}

// A reader whose head check lands between the writer's COMMIT and its hand-over to the cache waits
// for the hand-over: this process's own events are never read back from SQL (a catch-up), which
// under load was a third of the cache's head-check cost. Readers spin while four threads append.
TEST_CASE("reads racing this store's own commits wait for the writer's hand-over and never read its events back",
          "[store][cache]") {
    TempDir dir;
    const auto key = random_secret(32);
    const auto file = dir.path / "store.db";
    auto cached = open_with(file, key, {});
    auto sql = open_with(file, key, uncached());
    const Reads reads = register_patients(*cached, 4, true);
    REQUIRE(cached->find_patient("p0").has_value());  // loaded before the race: a load is not a catch-up
    std::atomic<bool> done{false};
    std::atomic<int> stale{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < 3; ++r) {
        readers.emplace_back([&] {
            std::int64_t seen = 0;
            while (!done.load()) {
                auto feed = cached->read_feed_after(0, 100000);
                if (!feed) {
                    stale.fetch_add(1);
                    continue;
                }
                const std::int64_t newest = feed->empty() ? 0 : feed->back().event.seq;
                if (newest < seen) stale.fetch_add(1);  // never older than an earlier answer
                seen = newest;
            }
        });
    }
    std::vector<std::thread> appenders;
    for (int t = 0; t < 4; ++t) {
        appenders.emplace_back([&, t] { append_reading_back(*cached, "p" + std::to_string(t), 40, stale); });
    }
    for (auto& t : appenders) t.join();
    done.store(true);
    for (auto& t : readers) t.join();
    CHECK(stale.load() == 0);
    CHECK(cached->stats().cache_catch_ups == 0);
    expect_same(*cached, *sql, reads);
}

// The cache checks the head checkpoint (one page) before each answer, but loads from the log's
// own newest seq: after the log's tail was cut under a checkpoint left ahead of it (a tampering
// verify_chain reports), the writer's next events must still reach the cache, not be skipped as
// already applied.
TEST_CASE("a cache opened on a log cut behind its head checkpoint still shows the writer's next appends",
          "[store][cache]") {
    TempDir dir;
    const auto key = random_secret(32);
    const auto file = dir.path / "store.db";
    {
        auto store = open_with(file, key, {});
        append_ok(*store, patient_registered("pa", "ther-a"));
        append_ok(*store, conversation_started("pa", "ca"));
        for (int i = 0; i < 8; ++i) append_ok(*store, message("pa", "ca", "m" + std::to_string(i), "text"));
    }
    {
        RawDb raw(file, key);
        // The views cut with it (as a rebuild from the cut log would leave them); the checkpoint still says 10.
        raw.exec("DELETE FROM events WHERE seq > 8");
        raw.exec("DELETE FROM messages WHERE seq > 8");
    }
    auto cached = open_with(file, key, {});
    auto sql = open_with(file, key, uncached());
    const Reads reads{{"pa"}, {"ca"}};
    expect_same(*cached, *sql, reads);
    for (int i = 0; i < 3; ++i) {
        const std::string id = "n" + std::to_string(i);
        auto appended = cached->append(message("pa", "ca", id, "after the cut"));
        REQUIRE(appended.has_value());
        CHECK(appended->event.seq == 9 + i);
        auto tail = cached->recent_messages("ca", 1);
        REQUIRE(tail.has_value());
        REQUIRE(tail->size() == 1);
        CHECK(tail->front().id == id);
        expect_same(*cached, *sql, reads);
    }
    CHECK(cached->stats().cache_hits > 0);  // served from memory again once the writer caught up
}

TEST_CASE("fills that race with commits (evicted conversations and plans read again under appends) answer as SQL",
          "[store][cache]") {
    TempDir dir;
    const auto key = random_secret(32);
    const auto file = dir.path / "store.db";
    SqlcipherStoreOptions small;
    small.read_cache_messages = 4;
    small.read_cache_bytes = 6 * 1024;  // about two conversations: most reads miss and fill
    auto cached = open_with(file, key, small);
    auto sql = open_with(file, key, uncached());
    const Reads reads = register_patients(*cached, 4, true);
    std::atomic<bool> done{false};
    std::vector<std::thread> readers;
    for (int r = 0; r < 3; ++r) {
        readers.emplace_back([&, r] {
            for (int i = 0; !done.load(); ++i) {
                const std::string p = "p" + std::to_string((i + r) % 4);
                (void)cached->recent_messages("c" + p, 3);
                (void)cached->messages("c" + p);
                (void)cached->plans(p);
            }
        });
    }
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t) {
        writers.emplace_back([&, t] {
            const std::string p = "p" + std::to_string(t);
            for (int i = 0; i < 12; ++i) {
                const std::string id = p + "-" + std::to_string(i);
                (void)cached->append(ai_message(p, "c" + p, id, std::string(100, 'y'), "held"));
                if (i % 3 == 2) (void)cached->append(state_changed(p, p + "-" + std::to_string(i - 1), "delivered", "edit"));
                if (i == 5)
                    (void)cached->append(patient_event(EventType::plan_proposed, p, {{"id", "plan-" + p}, {"patient_id", p}, {"version", 1}}));
                if (i == 9) (void)cached->append(patient_event(EventType::plan_approved, p, {{"plan_id", "plan-" + p}}));
            }
        });
    }
    for (auto& w : writers) w.join();
    done.store(true);
    for (auto& r : readers) r.join();
    expect_same(*cached, *sql, reads);
}

TEST_CASE("a cached message's record is shared by every read and never changed under an earlier reader",
          "[store][cache]") {
    TempDir dir;
    const auto key = random_secret(32);
    auto cached = open_with(dir.path / "store.db", key, {});
    append_ok(*cached, patient_registered("pa", "ther-a"));
    append_ok(*cached, conversation_started("pa", "ca"));
    append_ok(*cached, message("pa", "ca", "m0", "first"));
    auto before = cached->recent_messages("ca", 1);  // a miss: fills the cache
    auto first = cached->recent_messages("ca", 1);
    auto second = cached->recent_messages("ca", 1);
    REQUIRE(before.has_value());
    REQUIRE(first.has_value());
    REQUIRE(second.has_value());
    REQUIRE(first->size() == 1);
    REQUIRE(second->size() == 1);
    // Two hits hand out one record, not two copies of its tree.
    CHECK(&first->front().record.get() == &second->front().record.get());
    CHECK(first->front().record.value("text", "") == "first");

    // A state change makes a new record for later reads; what an earlier read holds stays as read.
    append_ok(*cached, state_changed("pa", "m0", "held"));
    auto after = cached->recent_messages("ca", 1);
    REQUIRE(after.has_value());
    REQUIRE(after->size() == 1);
    CHECK(after->front().state == "held");
    CHECK(after->front().record["state"] == "held");
    CHECK(first->front().record["state"] == "delivered");
    CHECK(&after->front().record.get() != &first->front().record.get());
}

TEST_CASE("SharedJson reads as the json it holds, and a default one is null", "[store][cache]") {
    const SharedJson empty;
    CHECK(empty->is_null());
    CHECK_FALSE(empty.is_object());
    const SharedJson record(json{{"text", "hi"}, {"n", 3}});
    const SharedJson copy = record;
    CHECK(&copy.get() == &record.get());
    CHECK(record.value("text", "") == "hi");
    CHECK(record.value("missing", 7) == 7);
    CHECK(record.contains("n"));
    CHECK(record["n"] == 3);
    const json& as_ref = record;
    CHECK(as_ref.dump() == R"({"n":3,"text":"hi"})");
}

TEST_CASE("a cached feed read shares the cache's events: no copy per read, and later appends change none",
          "[store][cache]") {
    TempDir dir;
    const auto key = random_secret(32);
    auto cached = open_with(dir.path / "store.db", key, {});
    auto sql = open_with(dir.path / "store.db", key, uncached());
    REQUIRE(cached->read_feed_after(0, 1000).has_value());  // loads the cache: what follows is ringed
    append_ok(*cached, patient_registered("pa", "ther-a"));
    append_ok(*cached, conversation_started("pa", "ca"));
    append_ok(*cached, message("pa", "ca", "m0", "first"));
    auto first = cached->read_feed_after(0, 1000);
    auto second = cached->read_feed_after(1, 1000);
    REQUIRE(first.has_value());
    REQUIRE(second.has_value());
    REQUIRE(first->size() == 3);
    REQUIRE(second->size() == 2);
    // Two reads hand out the same events, and a copied FeedEvent shares it too.
    CHECK(first->at(1).shared.get() == second->at(0).shared.get());
    CHECK(&first->at(2).event == second->at(1).shared.get());
    const FeedEvent copy = first->at(2);
    CHECK(&copy.event == &first->at(2).event);
    CHECK(copy.assigned_therapist_id == std::optional<std::string>("ther-a"));

    // A reassignment and a state change after the read: the events read stay as they were; the
    // assignment travels beside the event, so the next read carries the new one.
    append_ok(*cached, patient_event(EventType::patient_assigned, "pa", {{"patient_id", "pa"}, {"assigned_therapist_id", "ther-b"}}));
    append_ok(*cached, state_changed("pa", "m0", "held"));
    CHECK(copy.event.payload.value("state", "") == "delivered");
    CHECK(copy.assigned_therapist_id == std::optional<std::string>("ther-a"));
    auto later = cached->read_feed_after(2, 1000);
    REQUIRE(later.has_value());
    REQUIRE(later->size() == 3);
    CHECK(later->at(0).shared.get() == copy.shared.get());
    CHECK(later->at(0).assigned_therapist_id == std::optional<std::string>("ther-b"));
    CHECK(as_json(*later) == as_json(sql->read_feed_after(2, 1000)));
}
