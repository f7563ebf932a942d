// The store's writer: one thread that commits queued appends in groups (one transaction and one
// fsync for many callers), applies each event to the views, publishes to the read cache, and a
// checkpoint thread that copies the WAL back off the commit path.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "sqlcipher_store_impl.h"
#include "tandem/domain/id.h"
#include "tandem/domain/time.h"

namespace tandem {

namespace {

// The writer's wait for a fuller group (see Impl::run): at most this long, ended early by this
// many events. Constants rather than SqlcipherStoreOptions fields so the public header and its
// ABI stay as they were; measured, not tuned per deployment.
constexpr std::chrono::microseconds group_wait{2000};
constexpr std::size_t group_target_events = 24;

std::string now_text() { return format_timestamp(tandem::now_utc()); }


// Event ids the store assigns are time-ordered (UUIDv7, tandem/domain/id.h): the events.id
// unique index then grows at its right edge, so a group commit dirties one index leaf instead of
// one random leaf per event (each a 4 KiB page encrypted, MACed, written to the WAL and fsynced;
// 3 of a turn's ~13 pages before). Random UUIDv4 ids were the first design; they are still
// accepted from callers. The id's time is not a secret: the event carries its time in clear
// beside it. new_uuid_v7 draws from a per-thread buffer; RAND_bytes per event and five string
// pieces were 0.5% of the bridge inside the writer's transaction.
std::string new_uuid() { return new_uuid_v7(); }

bool valid_id(std::string_view id) { return is_valid_id(id); }

Result<void> check_new_event(const NewEvent& e) {
    if (!e.id.empty() && !valid_id(e.id)) return fail(ErrorCode::invalid_argument, "must be 1 to 64 of [A-Za-z0-9_.-]", "id");
    if (e.patient_id && !valid_id(*e.patient_id)) {
        return fail(ErrorCode::invalid_argument, "must be 1 to 64 of [A-Za-z0-9_.-]", "patient_id");
    }
    if (e.actor.id && !valid_id(*e.actor.id)) {
        return fail(ErrorCode::invalid_argument, "must be 1 to 64 of [A-Za-z0-9_.-]", "actor.id");
    }
    if (!e.time.empty() && (e.time.size() != 24 || e.time[10] != 'T' || e.time.back() != 'Z')) {
        return fail(ErrorCode::invalid_argument, "must be UTC like 2026-11-26T03:06:19.123Z", "time");
    }
    if (!e.payload.is_object()) return fail(ErrorCode::invalid_argument, "must be a JSON object", "payload");
    if (e.dedupe_key && e.dedupe_key->empty()) return fail(ErrorCode::invalid_argument, "must not be empty", "dedupe_key");
    return {};
}

}  // namespace

Result<void> SqlcipherStore::Impl::prepare_writer() {
    auto prep = [&](sqlite::Stmt& s, std::string_view sql) -> Result<void> {
        auto r = sqlite::Stmt::prepare(writer, sql);
        if (!r) return std::unexpected(r.error());
        s = std::move(*r);
        return {};
    };
    if (auto r = prep(insert_event,
                      "INSERT INTO events(seq, id, type, time, patient_id, actor_kind, actor_id, payload, prev_hash, "
                      "hash, dedupe_key) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)");
        !r)
        return r;
    if (auto r = prep(find_dedupe, std::string("SELECT ") + event_columns + " FROM events WHERE dedupe_key=?1"); !r) {
        return r;
    }
    if (auto r = prep(select_by_seq, "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1"); !r) return r;
    if (auto r = prep(update_head_seq, "UPDATE meta SET value=?1 WHERE key='head_seq'"); !r) return r;
    if (auto r = prep(update_head_hash, "UPDATE meta SET value=?1 WHERE key='head_hash'"); !r) return r;
    projector = std::make_unique<Projector>(writer);
    select_by_seq.reset();
    if (select_by_seq.step() == SQLITE_ROW) {
        head_state.seq = select_by_seq.column_int(0);
        head_state.hash = select_by_seq.column_text(1);
    }
    select_by_seq.reset();
    return {};
}

Result<AppendResult> SqlcipherStore::Impl::apply_event(NewEvent& ne, std::string& payload_json) {
    if (ne.dedupe_key) {
        find_dedupe.reset();
        find_dedupe.bind(1, std::string_view(*ne.dedupe_key));
        const int rc = find_dedupe.step();
        if (rc == SQLITE_ROW) {
            auto first = read_event_row(find_dedupe);
            find_dedupe.reset();
            if (!first) return std::unexpected(first.error());
            return AppendResult{std::move(*first), true};
        }
        find_dedupe.reset();
        if (rc != SQLITE_DONE) return std::unexpected(sqlite::make_error(writer.get(), rc, "cannot look up dedupe_key"));
    }
    StoredEvent e;
    e.seq = head_state.seq + 1;
    e.id = ne.id.empty() ? new_uuid() : std::move(ne.id);
    e.type = ne.type;
    e.time = ne.time.empty() ? now_text() : std::move(ne.time);
    e.patient_id = std::move(ne.patient_id);
    e.actor = std::move(ne.actor);
    e.payload = std::move(ne.payload);
    e.prev_hash = head_state.hash;
    e.hash = event_hash(e.prev_hash, canonical_bytes(e, payload_json));

    insert_event.reset();
    insert_event.bind(1, e.seq);
    insert_event.bind(2, std::string_view(e.id));
    insert_event.bind(3, to_string(e.type));
    insert_event.bind(4, std::string_view(e.time));
    insert_event.bind(5, e.patient_id);
    insert_event.bind(6, to_string(e.actor.kind));
    insert_event.bind(7, e.actor.id);
    insert_event.bind(8, std::string_view(payload_json));
    insert_event.bind(9, std::string_view(e.prev_hash));
    insert_event.bind(10, std::string_view(e.hash));
    insert_event.bind(11, ne.dedupe_key);
    if (auto r = insert_event.run("cannot append event"); !r) return std::unexpected(r.error());
    if (auto r = projector->apply(e); !r) return std::unexpected(r.error());
    head_state = ChainHead{e.seq, e.hash};
    e.payload_text = std::move(payload_json);  // bound and hashed above; not read again
    return AppendResult{std::move(e), false};
}

Result<std::vector<AppendResult>> SqlcipherStore::Impl::apply_request(AppendRequest& request) {
    std::vector<AppendResult> out;
    out.reserve(request.events.size());
    for (std::size_t i = 0; i < request.events.size(); ++i) {
        auto r = apply_event(request.events[i], request.payload_json[i]);
        if (!r) return std::unexpected(r.error());
        out.push_back(std::move(*r));
    }
    return out;
}

// The events this group appended (duplicates name earlier events and are left out), in seq order:
// requests were applied in order and a failed one gave its seqs back.
void SqlcipherStore::Impl::publish_to_cache(const std::vector<Result<std::vector<AppendResult>>>& results) {
    std::vector<std::shared_ptr<const StoredEvent>> appended;
    for (const auto& r : results)
        if (r)
            for (const auto& a : *r)
                if (!a.duplicate) appended.push_back(a.shared);
    if (!appended.empty()) cache->on_commit(appended);
}

void SqlcipherStore::Impl::commit_group(std::vector<std::unique_ptr<AppendRequest>>& group) {
    std::vector<Result<std::vector<AppendResult>>> results;
    results.reserve(group.size());
    ChainHead start = head_state;
    auto fail_all = [&](const Error& error) {
        head_state = start;
        backlog_at_commit = false;
        for (auto& request : group) request->done.set_value(std::unexpected(error));
    };
    auto tx = sqlite::Transaction::begin(writer);
    if (!tx) return fail_all(tx.error());
    // Another process (an admin command such as `policy set` or `clinician add` beside a live
    // bridge) may have appended since our last commit; with the write lock held (BEGIN
    // IMMEDIATE) the newest row is the true head. Trusting the cached head instead would make
    // every later append of this process collide on seq. One primary-key lookup per group.
    select_by_seq.reset();
    if (select_by_seq.step() == SQLITE_ROW) {
        head_state.seq = select_by_seq.column_int(0);
        head_state.hash = select_by_seq.column_text(1);
    }
    select_by_seq.reset();
    start = head_state;
    for (auto& request : group) {
        // Each caller's events succeed or fail together without sinking the others in the group.
        const ChainHead before = head_state;
        auto sp = sqlite::Savepoint::begin(writer);
        if (!sp) return fail_all(sp.error());
        auto r = apply_request(*request);
        if (r) {
            if (auto rel = sp->release(); !rel) return fail_all(rel.error());
        } else {
            head_state = before;  // the savepoint's destructor rolls the rows back
        }
        results.push_back(std::move(r));
    }
    if (head_state.seq != start.seq) {
        update_head_seq.reset();
        update_head_seq.bind(1, std::string_view(std::to_string(head_state.seq)));
        update_head_hash.reset();
        update_head_hash.bind(1, std::string_view(head_state.hash));
        if (auto r = update_head_seq.run("cannot record head"); !r) return fail_all(r.error());
        if (auto r = update_head_hash.run("cannot record head"); !r) return fail_all(r.error());
    }
    // Readers that see this commit in the log before publish_to_cache hands it over wait for the
    // hand-over rather than reading the group back from SQL (ReadCache::own_commit_begins).
    const bool announced = cache && head_state.seq != start.seq;
    if (announced) cache->own_commit_begins(head_state.seq);
    if (auto r = tx->commit(); !r) {
        if (announced) cache->own_commit_ends();
        return fail_all(r.error());
    }
    if (cache) publish_to_cache(results);  // before any caller returns: a read after append sees it
    if (announced) cache->own_commit_ends();
    {
        // Appends that queued while this group committed, before any caller of it was woken,
        // mean more appenders than a group held: only then can run()'s short wait gather more.
        // Checked after waking the callers instead, a lone caller's next append would count and
        // it would wait for nobody on every append (tests/store/test_writer.cpp caught it).
        const std::lock_guard lock(queue_mutex);
        backlog_at_commit = !queue.empty();
    }
    commits.fetch_add(1, std::memory_order_relaxed);
    // Pages are what a commit costs (each one encrypted, MACed, written to the WAL and fsynced),
    // so they are counted for the write-path measurements and tests; reset on every read.
    int written = 0, highwater = 0;
    if (sqlite3_db_status(writer.get(), SQLITE_DBSTATUS_CACHE_WRITE, &written, &highwater, 1) == SQLITE_OK && written > 0)
        pages_written.fetch_add(static_cast<std::uint64_t>(written), std::memory_order_relaxed);
    events_appended.fetch_add(static_cast<std::uint64_t>(head_state.seq - start.seq), std::memory_order_relaxed);
    for (std::size_t i = 0; i < group.size(); ++i) group[i]->done.set_value(std::move(results[i]));
}

void SqlcipherStore::Impl::run() {
    std::vector<std::unique_ptr<AppendRequest>> group;
    std::size_t events = 0;
    // Moves waiting appends into the group up to the batch cap; false once the cap is reached.
    auto take = [&] {
        while (!queue.empty()) {
            if (!group.empty() && events + queue.front()->events.size() > options.max_batch_events) return false;
            events += queue.front()->events.size();
            group.push_back(std::move(queue.front()));
            queue.pop_front();
        }
        return true;
    };
    for (;;) {
        {
            std::unique_lock lock(queue_mutex);
            queue_cv.wait(lock, [&] { return stopping || !queue.empty(); });
            if (queue.empty()) return;  // stopping, and every queued append is done
            // Take everything waiting: while one group commits (fsync), the next group queues up,
            // which is where group commit gets its throughput.
            bool room = take();
            // Under moderate load the writer is free again before many appends have queued, so it
            // committed groups of 1 to 3 turns (each commit rewrites the log's tail, the head
            // checkpoint and index edges, then fsyncs). A short wait for a fuller group cut the
            // pages written per turn by about 15% and commits by half in the write-path
            // measurements of docs/PERFORMANCE.md, for up to group_wait (2 ms) more latency. Rejected: a
            // fixed wait before every commit (it taxes a lone caller, an admin command or a test,
            // who waits for nobody).
            if (backlog_at_commit && group_wait.count() > 0) {
                const auto deadline = std::chrono::steady_clock::now() + group_wait;
                while (room && !stopping && events < group_target_events) {
                    if (queue.empty() && queue_cv.wait_until(lock, deadline) == std::cv_status::timeout) {
                        room = take();
                        break;
                    }
                    room = take();
                }
            }
        }
        commit_group(group);
        group.clear();
        events = 0;
    }
}

Result<std::vector<AppendResult>> SqlcipherStore::Impl::submit(std::vector<NewEvent> events) {
    for (std::size_t i = 0; i < events.size(); ++i) {
        if (auto r = check_new_event(events[i]); !r) {
            auto e = r.error();
            if (events.size() > 1) e.field = "[" + std::to_string(i) + "]." + e.field;
            return std::unexpected(std::move(e));
        }
    }
    auto request = std::make_unique<AppendRequest>();
    request->payload_json.reserve(events.size());
    for (const auto& e : events) request->payload_json.push_back(e.payload.dump());
    request->events = std::move(events);
    auto future = request->done.get_future();
    {
        std::lock_guard lock(queue_mutex);
        if (stopping) return fail(ErrorCode::unavailable, "store " + name + " is closing");
        queue.push_back(std::move(request));
    }
    queue_cv.notify_one();
    return future.get();
}

int SqlcipherStore::Impl::on_wal_commit(void* self, sqlite3*, const char*, int pages) {
    // 8192 pages (32 MiB) rather than SQLite's default 1000: index pages on scattered keys are
    // rewritten by nearly every commit, and a longer window copies each of them to the database
    // once instead of many times.
    auto* impl = static_cast<Impl*>(self);
    if (pages >= impl->options.checkpoint_pages) {
        {
            std::lock_guard lock(impl->checkpoint_mutex);
            impl->checkpoint_wanted = true;
        }
        impl->checkpoint_cv.notify_one();
    }
    return SQLITE_OK;
}

void SqlcipherStore::Impl::run_checkpoints() {
    for (;;) {
        {
            std::unique_lock lock(checkpoint_mutex);
            checkpoint_cv.wait(lock, [&] { return checkpoint_stopping || checkpoint_wanted; });
            if (checkpoint_stopping) return;
            checkpoint_wanted = false;
        }
        // PASSIVE never blocks the writer; pages it cannot copy yet are copied next time, and
        // closing the last connection checkpoints whatever remains.
        sqlite3_wal_checkpoint_v2(checkpointer.get(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        checkpoints.fetch_add(1, std::memory_order_relaxed);
    }
}

}  // namespace tandem
