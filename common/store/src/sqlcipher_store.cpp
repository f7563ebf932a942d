#include "tandem/store/sqlcipher_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "migrations.h"
#include "projections.h"
#include "read_cache.h"
#include "sqlite.h"
#include "tandem/crypto/key_file.h"
#include "tandem/crypto/random.h"
#include "tandem/crypto/secret_buffer.h"
#include "tandem/domain/time.h"

namespace tandem {

namespace {

using nlohmann::json;

constexpr std::size_t raw_key_size = 32;

// The writer's wait for a fuller group (see Impl::run): at most this long, ended early by this
// many events. Constants rather than SqlcipherStoreOptions fields so the public header and its
// ABI stay as they were; measured, not tuned per deployment.
constexpr std::chrono::microseconds group_wait{2000};
constexpr std::size_t group_target_events = 24;

std::string now_text() { return format_timestamp(tandem::now_utc()); }


// Event ids the store assigns are time-ordered (the RFC 9562 UUIDv7 layout: 48 bits of Unix
// milliseconds, then 74 random bits): the events.id unique index then grows at its right edge,
// so a group commit dirties one index leaf instead of one random leaf per event (each a 4 KiB
// page encrypted, MACed, written to the WAL and fsynced; 3 of a turn's ~13 pages before).
// Random UUIDv4 ids were the first design; they are still accepted from callers. The id's
// time is not a secret: the event carries its time in clear beside it.
std::string new_uuid() {
    auto b = random_bytes(16);
    const auto ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
    for (int i = 0; i < 6; ++i) b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ms >> (40 - 8 * i));
    b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x70);  // version 7
    b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 9562 variant
    const auto hex = to_hex(std::span<const std::uint8_t>(b));
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
           hex.substr(20);
}

bool valid_id(std::string_view id) {
    if (id.empty() || id.size() > 64) return false;
    for (char c : id) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                        c == '.' || c == '-';
        if (!ok) return false;
    }
    return true;
}

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

// What the file's first bytes say, before any key is tried: lets a plain SQLite file or a file
// that cannot be a SQLCipher database be named as such instead of as a wrong key.
Result<void> precheck_file(const std::string& name, bool encrypted) {
    struct stat st {};
    if (::stat(name.c_str(), &st) != 0) return {};  // new file
    if (!S_ISREG(st.st_mode)) return fail(ErrorCode::not_a_database, name + " is not a regular file");
    if (st.st_size == 0) return {};
    char header[16] = {};
    std::ifstream in(name, std::ios::binary);
    in.read(header, sizeof header);
    const bool plain_sqlite = in.gcount() == 16 && std::memcmp(header, "SQLite format 3", 16) == 0;
    if (encrypted) {
        if (plain_sqlite) {
            return fail(ErrorCode::not_a_database, name + " is an unencrypted SQLite database, not a Tandem store");
        }
        // A SQLCipher file is whole 4 KiB pages; anything else was never one (a text file, a
        // truncated copy). A page-aligned file of random bytes cannot be told from a wrong key.
        if (st.st_size % 4096 != 0) return fail(ErrorCode::not_a_database, name + " is not a Tandem store");
    } else if (!plain_sqlite) {
        return fail(ErrorCode::not_a_database, name + " is not an unencrypted SQLite database (encrypted? give its key)");
    }
    return {};
}

// Opens one connection, keys it and proves the key by reading the schema. Nothing is written
// before that read succeeds, so a wrong key leaves the file as it was.
Result<sqlite::Db> open_connection(const std::string& name, std::span<const std::byte> key, StoreKeyKind kind,
                                   bool create) {
    auto db = sqlite::Db::open(name, create);
    if (!db) return std::unexpected(db.error());
    if (kind != StoreKeyKind::unencrypted) {
        int rc = SQLITE_OK;
        if (kind == StoreKeyKind::raw_key) {
            // SQLCipher's raw-key form x'<64 hex>' skips PBKDF2; built in a self-wiping buffer
            // rather than a std::string, which would leave the hex key on the heap.
            static constexpr char digits[] = "0123456789abcdef";
            SecretBuffer text(3 + 2 * key.size());
            auto out = text.mutable_bytes();
            out[0] = std::byte{'x'};
            out[1] = std::byte{'\''};
            for (std::size_t i = 0; i < key.size(); ++i) {
                const auto b = static_cast<unsigned>(key[i]);
                out[2 + 2 * i] = static_cast<std::byte>(digits[b >> 4]);
                out[3 + 2 * i] = static_cast<std::byte>(digits[b & 0x0f]);
            }
            out[out.size() - 1] = std::byte{'\''};
            rc = sqlite3_key(db->get(), text.bytes().data(), static_cast<int>(text.size()));
        } else {
            rc = sqlite3_key(db->get(), key.data(), static_cast<int>(key.size()));
        }
        if (rc != SQLITE_OK) return std::unexpected(sqlite::make_error(db->get(), rc, "cannot set key"));
        if (auto r = db->exec("PRAGMA cipher_page_size = 4096", "cannot set cipher page size"); !r) {
            return std::unexpected(r.error());
        }
    }
    const int rc = sqlite3_exec(db->get(), "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
        if ((rc & 0xff) == SQLITE_NOTADB) {
            if (kind == StoreKeyKind::unencrypted) return fail(ErrorCode::not_a_database, name + " is not a Tandem store");
            return fail(ErrorCode::wrong_key, "the key does not open " + name +
                                                  " (wrong key or passphrase, or not a Tandem store)");
        }
        return std::unexpected(sqlite::make_error(db->get(), rc, "cannot read"));
    }
    auto cipher = db->query_text("PRAGMA cipher_version", "cannot read cipher version");
    if (!cipher) return std::unexpected(cipher.error());
    if (!*cipher || (*cipher)->empty() || (**cipher)[0] != '4') {
        return fail(ErrorCode::storage, "SQLCipher 4 is required; this process has " +
                                            (*cipher ? **cipher : std::string("plain SQLite")));
    }
    // 16 MiB page cache (default 2 MiB): every page read from disk costs a decryption and an
    // HMAC check, so re-reading the hot part of the log is worth the memory.
    if (auto r = db->exec("PRAGMA busy_timeout = 10000; PRAGMA cache_size = -16384", "cannot set connection options"); !r) {
        return std::unexpected(r.error());
    }
    return db;
}

Error wrap(Error e, const std::string& name) {
    if (e.message.find(name) == std::string::npos) e.message += " [" + name + "]";
    return e;
}

// A queued append: one append() call or one append_batch(); the writer thread commits many of
// these in one transaction and then wakes every caller.
struct Request {
    std::vector<NewEvent> events;
    std::vector<std::string> payload_json;  // dumped by the caller, off the writer thread
    std::promise<Result<std::vector<AppendResult>>> done;
};

}  // namespace

struct SqlcipherStore::Impl {
    std::string name;
    SqlcipherStoreOptions options;
    int schema_version = 0;

    // Writer thread only (after open).
    sqlite::Db writer;
    std::unique_ptr<Projector> projector;
    sqlite::Stmt insert_event;
    sqlite::Stmt find_dedupe;
    sqlite::Stmt select_by_seq;
    sqlite::Stmt update_head_seq;
    sqlite::Stmt update_head_hash;
    ChainHead head_state;

    // Readers: a few connections that WAL lets read side by side, each lent to one call at a
    // time. One shared connection was the first design ("reads are short"), but under the load
    // benchmark 47 of the bridge's 64 pipeline threads were found queued on its mutex behind the
    // long reads (a conversation's messages, a feed page, the escalation sweep's open flags).
    // More connections than cores buys little CPU; it stops a tiny read waiting on a long one.
    static constexpr std::size_t reader_count = 4;
    struct Reader {
        sqlite::Db db;
        // Prepared statements by SQL text, kept for the connection's life: preparing each read
        // anew was 8% of the bridge's CPU under load (docs/PERFORMANCE.md, "Bridge under load").
        std::unordered_map<std::string, sqlite::Stmt> statements;
    };
    std::mutex reader_mutex;
    std::condition_variable reader_free;
    std::vector<Reader> readers;
    std::vector<Reader*> idle_readers;

    // A reader connection for the lifetime of this object; any thread.
    class ReaderLease {
    public:
        explicit ReaderLease(Impl& impl) : impl_(impl) {
            std::unique_lock lock(impl_.reader_mutex);
            impl_.reader_free.wait(lock, [&] { return !impl_.idle_readers.empty(); });
            reader_ = impl_.idle_readers.back();
            impl_.idle_readers.pop_back();
        }
        ~ReaderLease() {
            // A statement left mid-result holds its read transaction (and WAL snapshot) open.
            for (auto* s : used_) s->reset();
            {
                const std::lock_guard lock(impl_.reader_mutex);
                impl_.idle_readers.push_back(reader_);
            }
            impl_.reader_free.notify_one();
        }
        ReaderLease(const ReaderLease&) = delete;
        ReaderLease& operator=(const ReaderLease&) = delete;
        sqlite::Db& operator*() const { return reader_->db; }
        /// The connection's prepared statement for `sql` (prepared on first use), reset and unbound.
        Result<sqlite::Stmt*> statement(const std::string& sql) {
            auto it = reader_->statements.find(sql);
            if (it == reader_->statements.end()) {
                auto prepared = sqlite::Stmt::prepare(reader_->db, sql);
                if (!prepared) return std::unexpected(prepared.error());
                it = reader_->statements.emplace(sql, std::move(*prepared)).first;
            }
            it->second.reset();
            used_.push_back(&it->second);
            return &it->second;
        }

    private:
        Impl& impl_;
        Reader* reader_ = nullptr;
        std::vector<sqlite::Stmt*> used_;
    };

    std::mutex queue_mutex;
    std::condition_variable queue_cv;
    std::deque<std::unique_ptr<Request>> queue;
    bool stopping = false;
    bool backlog_at_commit = false;  // writer thread only: see commit_group
    std::thread thread;

    // Checkpoints run on their own connection and thread. SQLite's automatic checkpoint was
    // rejected: it runs inside the commit that crosses the threshold, so every appender waiting
    // on that group would also wait for 4 MB of page copies and two more fsyncs.
    sqlite::Db checkpointer;
    std::mutex checkpoint_mutex;
    std::condition_variable checkpoint_cv;
    bool checkpoint_wanted = false;
    bool checkpoint_stopping = false;
    std::thread checkpoint_thread;

    std::atomic<std::uint64_t> commits{0};
    std::atomic<std::uint64_t> events_appended{0};
    std::atomic<std::uint64_t> checkpoints{0};

    // In-memory answers to the hot reads (read_cache.h); null when options.read_cache is off.
    std::unique_ptr<ReadCache> cache;
    void publish_to_cache(const std::vector<Result<std::vector<AppendResult>>>& results);

    static int on_wal_commit(void* self, sqlite3* db, const char* schema, int pages);
    void run_checkpoints();

    Result<void> prepare_writer();
    void run();
    void commit_group(std::vector<std::unique_ptr<Request>>& group);
    Result<std::vector<AppendResult>> apply_request(Request& request);
    Result<AppendResult> apply_event(NewEvent& event, const std::string& payload_json);
    Result<std::vector<AppendResult>> submit(std::vector<NewEvent> events);
};

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

Result<AppendResult> SqlcipherStore::Impl::apply_event(NewEvent& ne, const std::string& payload_json) {
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
    return AppendResult{std::move(e), false};
}

Result<std::vector<AppendResult>> SqlcipherStore::Impl::apply_request(Request& request) {
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
    std::vector<const StoredEvent*> appended;
    for (const auto& r : results)
        if (r)
            for (const auto& a : *r)
                if (!a.duplicate) appended.push_back(&a.event);
    if (!appended.empty()) cache->on_commit(appended);
}

void SqlcipherStore::Impl::commit_group(std::vector<std::unique_ptr<Request>>& group) {
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
    if (auto r = tx->commit(); !r) return fail_all(r.error());
    if (cache) publish_to_cache(results);  // before any caller returns: a read after append sees it
    {
        // Appends that queued while this group committed, before any caller of it was woken,
        // mean more appenders than a group held: only then can run()'s short wait gather more.
        // Checked after waking the callers instead, a lone caller's next append would count and
        // it would wait for nobody on every append (tests/store/test_writer.cpp caught it).
        const std::lock_guard lock(queue_mutex);
        backlog_at_commit = !queue.empty();
    }
    commits.fetch_add(1, std::memory_order_relaxed);
    events_appended.fetch_add(static_cast<std::uint64_t>(head_state.seq - start.seq), std::memory_order_relaxed);
    for (std::size_t i = 0; i < group.size(); ++i) group[i]->done.set_value(std::move(results[i]));
}

void SqlcipherStore::Impl::run() {
    std::vector<std::unique_ptr<Request>> group;
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
    auto request = std::make_unique<Request>();
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

SqlcipherStore::SqlcipherStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SqlcipherStore::~SqlcipherStore() {
    {
        std::lock_guard lock(impl_->queue_mutex);
        impl_->stopping = true;
    }
    impl_->queue_cv.notify_all();
    if (impl_->thread.joinable()) impl_->thread.join();
    {
        std::lock_guard lock(impl_->checkpoint_mutex);
        impl_->checkpoint_stopping = true;
    }
    impl_->checkpoint_cv.notify_all();
    if (impl_->checkpoint_thread.joinable()) impl_->checkpoint_thread.join();
}

Result<std::unique_ptr<SqlcipherStore>> SqlcipherStore::open(const std::filesystem::path& path,
                                                             std::span<const std::byte> key,
                                                             const SqlcipherStoreOptions& options) {
    const std::string name = path.string();
    const bool encrypted = options.key_kind != StoreKeyKind::unencrypted;
    if (encrypted && key.empty()) return fail(ErrorCode::invalid_argument, "an encrypted store needs a key", "key");
    if (options.key_kind == StoreKeyKind::raw_key && key.size() != raw_key_size) {
        return fail(ErrorCode::invalid_argument, "a raw store key is 32 bytes", "key");
    }
    if (auto r = precheck_file(name, encrypted); !r) return std::unexpected(r.error());

    auto impl = std::make_unique<Impl>();
    impl->name = name;
    impl->options = options;
    if (impl->options.max_batch_events == 0) impl->options.max_batch_events = 1;

    auto writer = open_connection(name, key, options.key_kind, true);
    if (!writer) return std::unexpected(wrap(writer.error(), name));
    impl->writer = std::move(*writer);
    if (auto checked = check_store(impl->writer, name); !checked) return std::unexpected(wrap(checked.error(), name));
    // WAL: readers never block the writer. synchronous=FULL: with WAL, NORMAL skips the fsync at
    // each commit, so a power cut could lose acknowledged events; FULL fsyncs the WAL per commit,
    // and group commit shares that fsync among every append waiting at the time.
    auto mode = impl->writer.query_text("PRAGMA journal_mode = WAL", "cannot set WAL mode");
    if (!mode) return std::unexpected(wrap(mode.error(), name));
    if (!*mode || **mode != "wal") return fail(ErrorCode::storage, name + ": WAL mode refused");
    if (auto r = impl->writer.exec("PRAGMA synchronous = FULL", "cannot set synchronous"); !r) {
        return std::unexpected(wrap(r.error(), name));
    }
    auto version = migrate(impl->writer, name);
    if (!version) return std::unexpected(wrap(version.error(), name));
    impl->schema_version = *version;
    if (auto r = impl->prepare_writer(); !r) return std::unexpected(wrap(r.error(), name));

    impl->readers.reserve(Impl::reader_count);  // never reallocated: idle_readers points into it
    for (std::size_t i = 0; i < Impl::reader_count; ++i) {
        auto reader = open_connection(name, key, options.key_kind, false);
        if (!reader) return std::unexpected(wrap(reader.error(), name));
        if (auto r = reader->exec("PRAGMA query_only = ON", "cannot make reader read-only"); !r) {
            return std::unexpected(wrap(r.error(), name));
        }
        impl->readers.push_back(Impl::Reader{std::move(*reader), {}});
        impl->idle_readers.push_back(&impl->readers.back());
    }

    if (options.read_cache) {
        auto watch = open_connection(name, key, options.key_kind, false);
        if (!watch) return std::unexpected(wrap(watch.error(), name));
        if (auto r = watch->exec("PRAGMA query_only = ON", "cannot make reader read-only"); !r) {
            return std::unexpected(wrap(r.error(), name));
        }
        ReadCacheOptions cache_options;
        cache_options.ring_events = options.read_cache_events;
        cache_options.conversation_messages = options.read_cache_messages;
        cache_options.budget_bytes = options.read_cache_bytes;
        impl->cache = std::make_unique<ReadCache>(std::move(*watch), cache_options);
    }

    auto checkpointer = open_connection(name, key, options.key_kind, false);
    if (!checkpointer) return std::unexpected(wrap(checkpointer.error(), name));
    impl->checkpointer = std::move(*checkpointer);
    if (auto r = impl->writer.exec("PRAGMA wal_autocheckpoint = 0", "cannot move checkpoints off the commit path"); !r) {
        return std::unexpected(wrap(r.error(), name));
    }

    auto* raw = impl.get();
    sqlite3_wal_hook(impl->writer.get(), &Impl::on_wal_commit, raw);
    impl->checkpoint_thread = std::thread([raw] { raw->run_checkpoints(); });
    impl->thread = std::thread([raw] { raw->run(); });
    return std::unique_ptr<SqlcipherStore>(new SqlcipherStore(std::move(impl)));
}

Result<std::unique_ptr<SqlcipherStore>> SqlcipherStore::open_with_key_file(const std::filesystem::path& path,
                                                                           const std::filesystem::path& key_file,
                                                                           const SqlcipherStoreOptions& options) {
    std::error_code ec;
    const bool have_key = std::filesystem::exists(std::filesystem::symlink_status(key_file, ec));
    if (!have_key) {
        if (std::filesystem::exists(path, ec)) {
            return fail(ErrorCode::not_found, "key file " + key_file.string() + " is missing for the existing store " +
                                                  path.string() + "; restore the key file (a new key cannot open it)");
        }
        if (auto created = create_key_file(key_file); !created) return std::unexpected(created.error());
    }
    auto key = load_key_file(key_file);
    if (!key) return std::unexpected(key.error());
    SqlcipherStoreOptions raw = options;
    raw.key_kind = StoreKeyKind::raw_key;
    return open(path, key->bytes(), raw);
}

int SqlcipherStore::schema_version() const noexcept { return impl_->schema_version; }

SqlcipherStore::Stats SqlcipherStore::stats() const noexcept {
    Stats out{impl_->commits.load(std::memory_order_relaxed), impl_->events_appended.load(std::memory_order_relaxed),
              impl_->checkpoints.load(std::memory_order_relaxed)};
    if (impl_->cache) {
        const auto c = impl_->cache->stats();
        out.cache_hits = c.hits;
        out.cache_misses = c.misses;
        out.cache_reloads = c.reloads;
        out.cache_catch_ups = c.catch_ups;
    }
    return out;
}

Result<AppendResult> SqlcipherStore::append(NewEvent event) {
    std::vector<NewEvent> one;
    one.push_back(std::move(event));
    auto r = impl_->submit(std::move(one));
    if (!r) return std::unexpected(r.error());
    return std::move(r->front());
}

Result<std::vector<AppendResult>> SqlcipherStore::append_batch(std::vector<NewEvent> events) {
    if (events.empty()) return std::vector<AppendResult>{};
    return impl_->submit(std::move(events));
}

namespace {

// Every event after ?1 with its patient's assignment now: read_after filters these rows with
// may_read (the one visibility rule, tandem/store/store.h) before it parses a payload, and
// read_feed_after returns them all for the feed to filter per subscriber. The LEFT JOIN keeps
// events as the outer loop (by seq, the rowid) with one primary-key lookup per patient event.
const std::string kFeedSql =
    "SELECT e.seq, e.id, e.type, e.time, e.patient_id, e.actor_kind, e.actor_id, e.payload, e.prev_hash, e.hash, "
    "p.assigned_therapist_id FROM events e LEFT JOIN patients p ON p.id = e.patient_id WHERE e.seq > ?1 "
    "ORDER BY e.seq";
constexpr int kFeedAssignedColumn = 10;

// The columns visibility looks at, without parsing the payload.
StoredEvent visibility_probe(const sqlite::Stmt& row) {
    StoredEvent e;
    e.patient_id = row.column_optional_text(4);
    const auto kind = parse_actor_kind(row.column_view(5));
    e.actor.kind = kind.value_or(ActorKind::system);
    e.actor.id = row.column_optional_text(6);
    return e;
}

}  // namespace

Result<std::vector<StoredEvent>> SqlcipherStore::read_after(std::int64_t after_seq, const Principal& principal,
                                                            std::size_t limit) {
    // Visibility is decided before a payload is parsed, so an event a principal may not see costs
    // a row step, never JSON work; the therapist's patient set is read from the patients view at
    // query time, which is what "as of the current assignment" means. The cache's newest events
    // answer the same way from memory when they reach back to after_seq.
    if (impl_->cache)
        if (auto hit = impl_->cache->read_after(after_seq, principal, limit)) return std::move(*hit);
    Impl::ReaderLease lease(*impl_);
    auto stmt = lease.statement(kFeedSql);
    if (!stmt) return std::unexpected(stmt.error());
    (*stmt)->bind(1, after_seq);
    std::vector<StoredEvent> out;
    int rc = SQLITE_ROW;
    while (out.size() < limit && (rc = (*stmt)->step()) == SQLITE_ROW) {
        if (!principal.supervisor &&
            !may_read(principal, visibility_probe(**stmt), (*stmt)->column_optional_text(kFeedAssignedColumn)))
            continue;
        auto e = read_event_row(**stmt);
        if (!e) return fail(ErrorCode::storage, "event " + std::to_string((*stmt)->column_int(0)) + " in " +
                                                    impl_->name + " is unreadable: " + e.error().describe());
        out.push_back(std::move(*e));
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return std::unexpected(sqlite::make_error((*lease).get(), rc, "cannot read events"));
    return out;
}

Result<std::vector<FeedEvent>> SqlcipherStore::read_feed_after(std::int64_t after_seq, std::size_t limit) {
    if (impl_->cache)
        if (auto hit = impl_->cache->read_feed_after(after_seq, limit)) return std::move(*hit);
    Impl::ReaderLease lease(*impl_);
    auto stmt = lease.statement(kFeedSql);
    if (!stmt) return std::unexpected(stmt.error());
    (*stmt)->bind(1, after_seq);
    std::vector<FeedEvent> out;
    int rc = SQLITE_ROW;
    while (out.size() < limit && (rc = (*stmt)->step()) == SQLITE_ROW) {
        auto e = read_event_row(**stmt);
        if (!e) return fail(ErrorCode::storage, "event " + std::to_string((*stmt)->column_int(0)) + " in " +
                                                    impl_->name + " is unreadable: " + e.error().describe());
        out.push_back(FeedEvent{std::move(*e), (*stmt)->column_optional_text(kFeedAssignedColumn)});
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return std::unexpected(sqlite::make_error((*lease).get(), rc, "cannot read events"));
    return out;
}

Result<void> SqlcipherStore::backup_to(const std::filesystem::path& out) {
    const std::string target = out.string();
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::symlink_status(out, ec))) {
        return fail(ErrorCode::conflict, "the backup file already exists", target);
    }
    {
        const Impl::ReaderLease lease(*impl_);
        sqlite::Db& reader = *lease;
        // VACUUM INTO on a keyed connection writes the copy with the same key and cipher settings,
        // as one read transaction (a snapshot) that never blocks the writer under WAL. The online
        // backup API was rejected: it needs a second connection keyed by the caller, and it
        // restarts whenever another connection writes, which a busy bridge does all the time.
        // The reader is query_only, which SQLite applies to the attached target too; it is lifted
        // for this one statement only.
        if (auto r = reader.exec("PRAGMA query_only = OFF", "cannot prepare the backup"); !r) {
            return std::unexpected(r.error());
        }
        auto vacuum = [&reader, &target]() -> Result<void> {  // the statement is finalised before the pragma below
            auto stmt = sqlite::Stmt::prepare(reader, "VACUUM INTO ?1");
            if (!stmt) return std::unexpected(stmt.error());
            stmt->bind(1, std::string_view(target));
            return stmt->run("cannot write the backup");
        };
        const auto ran = vacuum();
        auto restored = reader.exec("PRAGMA query_only = ON", "cannot make reader read-only");
        if (!ran || !restored) {
            std::filesystem::remove(out, ec);
            return std::unexpected(wrap(!ran ? ran.error() : restored.error(), impl_->name));
        }
    }
    // SQLite does not fsync what VACUUM INTO writes; a backup that a power cut can empty is no backup.
    const int fd = ::open(target.c_str(), O_RDONLY | O_CLOEXEC);
    const bool synced = fd >= 0 && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (!synced) return fail(ErrorCode::io, "cannot fsync the backup", target);
    return {};
}

Result<ChainHead> SqlcipherStore::head() {
    Impl::ReaderLease lease(*impl_);
    static const std::string sql = "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1";
    auto stmt = lease.statement(sql);
    if (!stmt) return std::unexpected(stmt.error());
    const int rc = (*stmt)->step();
    if (rc == SQLITE_DONE) return ChainHead{};
    if (rc != SQLITE_ROW) return std::unexpected(sqlite::make_error((*lease).get(), rc, "cannot read head"));
    return ChainHead{(*stmt)->column_int(0), (*stmt)->column_text(1)};
}

Result<ChainReport> SqlcipherStore::verify_chain(const std::optional<ChainHead>& anchor) {
    const Impl::ReaderLease lease(*impl_);
    sqlite::Db& reader = *lease;
    // One read transaction for the scan and the checkpoint, so a concurrent append cannot make
    // them disagree.
    if (auto r = reader.exec("BEGIN", "cannot begin read"); !r) return std::unexpected(r.error());
    struct EndRead {
        sqlite::Db& db;
        ~EndRead() { sqlite3_exec(db.get(), "COMMIT", nullptr, nullptr, nullptr); }
    } end_read{reader};

    ChainReport report;
    auto broken = [&](std::int64_t seq, std::string reason) {
        report.ok = false;
        report.first_bad_seq = seq;
        report.reason = std::move(reason);
        return report;
    };
    auto stmt = sqlite::Stmt::prepare(reader, std::string("SELECT ") + event_columns + " FROM events ORDER BY seq");
    if (!stmt) return std::unexpected(stmt.error());
    std::int64_t expected = 1;
    std::string prev(genesis_hash);
    std::optional<std::string> anchor_hash_seen;
    int rc = SQLITE_ROW;
    while ((rc = stmt->step()) == SQLITE_ROW) {
        const std::int64_t seq = stmt->column_int(0);
        if (seq != expected) return broken(expected, "missing event (seq " + std::to_string(expected) + " absent)");
        auto e = read_event_row(*stmt);
        if (!e) return broken(seq, "unreadable event: " + e.error().describe());
        if (e->prev_hash != prev) return broken(seq, "prev_hash does not match the previous event's hash");
        if (event_hash(e->prev_hash, canonical_bytes(*e)) != e->hash) return broken(seq, "hash mismatch: event altered");
        if (anchor && seq == anchor->seq) anchor_hash_seen = e->hash;
        prev = e->hash;
        ++report.checked;
        ++expected;
    }
    if (rc != SQLITE_DONE) return std::unexpected(sqlite::make_error(reader.get(), rc, "cannot read events"));
    const std::int64_t last = expected - 1;

    auto head_seq = reader.query_text("SELECT value FROM meta WHERE key='head_seq'", "cannot read head");
    auto head_hash = reader.query_text("SELECT value FROM meta WHERE key='head_hash'", "cannot read head");
    if (!head_seq) return std::unexpected(head_seq.error());
    if (!head_hash) return std::unexpected(head_hash.error());
    if (!*head_seq || !*head_hash) return broken(last + 1, "head checkpoint missing");
    const std::int64_t checkpoint = std::strtoll((*head_seq)->c_str(), nullptr, 10);
    if (checkpoint > last) return broken(last + 1, "log ends at " + std::to_string(last) + " before its recorded head " +
                                                       std::to_string(checkpoint) + ": tail truncated");
    if (checkpoint < last) return broken(checkpoint + 1, "events after the recorded head");
    if (last > 0 && **head_hash != prev) return broken(last, "newest event differs from the recorded head");

    if (anchor && anchor->seq > 0) {
        if (anchor->seq > last) return broken(last + 1, "log ends before the given anchor: tail truncated");
        if (anchor_hash_seen != anchor->hash) return broken(anchor->seq, "event differs from the given anchor");
    }
    return report;
}

namespace {

constexpr const char* message_columns = message_view_columns;
constexpr const char* patient_columns = patient_view_columns;

template <class T, class Read>
Result<std::vector<T>> collect(sqlite::Stmt& stmt, Read read) {
    std::vector<T> out;
    int rc = SQLITE_ROW;
    while ((rc = stmt.step()) == SQLITE_ROW) out.push_back(read(stmt));
    if (rc != SQLITE_DONE) return std::unexpected(sqlite::make_error(stmt.db(), rc, "cannot read view"));
    return out;
}

}  // namespace

Result<std::optional<PatientView>> SqlcipherStore::find_patient(std::string_view patient_id) {
    if (impl_->cache)
        if (auto hit = impl_->cache->find_patient(patient_id)) return std::move(*hit);
    Impl::ReaderLease lease(*impl_);
    static const std::string sql = std::string("SELECT ") + patient_columns + " FROM patients WHERE id=?1";
    auto prepared = lease.statement(sql);
    if (!prepared) return std::unexpected(prepared.error());
    sqlite::Stmt* stmt = *prepared;
    stmt->bind(1, patient_id);
    auto rows = collect<PatientView>(*stmt, read_patient_row);
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) return std::optional<PatientView>{};
    return std::optional<PatientView>(std::move(rows->front()));
}

Result<std::vector<PatientView>> SqlcipherStore::patients(const Principal& principal) {
    Impl::ReaderLease lease(*impl_);
    static const std::string sql = std::string("SELECT ") + patient_columns +
                                   " FROM patients WHERE ?1 = 1 OR (?2 = 1 AND assigned_therapist_id = ?3) ORDER BY id";
    auto prepared = lease.statement(sql);
    if (!prepared) return std::unexpected(prepared.error());
    sqlite::Stmt* stmt = *prepared;
    stmt->bind(1, std::int64_t{principal.supervisor ? 1 : 0});
    stmt->bind(2, std::int64_t{principal.therapist ? 1 : 0});
    stmt->bind(3, std::string_view(principal.clinician_id));
    return collect<PatientView>(*stmt, read_patient_row);
}

Result<std::vector<ConversationView>> SqlcipherStore::conversations(std::string_view patient_id) {
    Impl::ReaderLease lease(*impl_);
    static const std::string sql =
        "SELECT id, patient_id, started_at, ended_at, record FROM conversations WHERE patient_id=?1 ORDER BY started_at, id";
    auto prepared = lease.statement(sql);
    if (!prepared) return std::unexpected(prepared.error());
    sqlite::Stmt* stmt = *prepared;
    stmt->bind(1, patient_id);
    return collect<ConversationView>(*stmt, [](const sqlite::Stmt& s) {
        return ConversationView{s.column_text(0), s.column_text(1), s.column_text(2), s.column_optional_text(3),
                                json::parse(s.column_view(4), nullptr, false)};
    });
}

Result<std::vector<MessageView>> SqlcipherStore::messages(std::string_view conversation_id) {
    std::optional<std::int64_t> position;  // set on a miss the SQL answer may fill
    if (impl_->cache)
        if (auto hit = impl_->cache->messages(conversation_id, position)) return std::move(*hit);
    Impl::ReaderLease lease(*impl_);
    static const std::string sql = std::string("SELECT ") + message_columns +
                                   " FROM messages m JOIN events e ON e.seq = m.seq WHERE m.conversation_id=?1 "
                                   "ORDER BY m.seq";
    auto prepared = lease.statement(sql);
    if (!prepared) return std::unexpected(prepared.error());
    sqlite::Stmt* stmt = *prepared;
    stmt->bind(1, conversation_id);
    auto rows = collect<MessageView>(*stmt, read_message_row);
    if (rows && position) impl_->cache->fill_messages(*position, conversation_id, *rows, true);
    return rows;
}

Result<std::vector<MessageView>> SqlcipherStore::recent_messages(std::string_view conversation_id, std::size_t limit) {
    // Newest first through the (conversation_id, seq) index, so a long conversation costs only
    // its window: the turn pipeline re-read whole conversations on every turn before (13% of the
    // bridge's CPU, growing with the conversation). A conversation the cache holds costs no SQL.
    std::optional<std::int64_t> position;
    if (impl_->cache)
        if (auto hit = impl_->cache->recent_messages(conversation_id, limit, position)) return std::move(*hit);
    Impl::ReaderLease lease(*impl_);
    static const std::string sql = std::string("SELECT ") + message_columns +
                                   " FROM messages m JOIN events e ON e.seq = m.seq WHERE m.conversation_id=?1 "
                                   "ORDER BY m.seq DESC LIMIT ?2";
    auto prepared = lease.statement(sql);
    if (!prepared) return std::unexpected(prepared.error());
    sqlite::Stmt* stmt = *prepared;
    stmt->bind(1, conversation_id);
    stmt->bind(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
    auto rows = collect<MessageView>(*stmt, read_message_row);
    if (rows) std::reverse(rows->begin(), rows->end());
    if (rows && position) impl_->cache->fill_messages(*position, conversation_id, *rows, rows->size() < limit);
    return rows;
}

Result<std::vector<FlagView>> SqlcipherStore::open_flags(const Principal& principal) {
    Impl::ReaderLease lease(*impl_);
    static const std::string sql = "SELECT id, patient_id, status, severity, escalation_level, sla_deadline, last_seq, record FROM flags "
        "WHERE status <> 'resolved' AND (?1 = 1 OR (?2 = 1 AND patient_id IN "
        "(SELECT id FROM patients WHERE assigned_therapist_id = ?3))) ORDER BY opened_seq";
    auto prepared = lease.statement(sql);
    if (!prepared) return std::unexpected(prepared.error());
    sqlite::Stmt* stmt = *prepared;
    stmt->bind(1, std::int64_t{principal.supervisor ? 1 : 0});
    stmt->bind(2, std::int64_t{principal.therapist ? 1 : 0});
    stmt->bind(3, std::string_view(principal.clinician_id));
    return collect<FlagView>(*stmt, [](const sqlite::Stmt& s) {
        return FlagView{s.column_text(0),
                        s.column_text(1),
                        s.column_text(2),
                        s.column_text(3),
                        static_cast<int>(s.column_int(4)),
                        s.column_text(5),
                        s.column_int(6),
                        json::parse(s.column_view(7), nullptr, false)};
    });
}

Result<std::vector<PlanView>> SqlcipherStore::plans(std::string_view patient_id) {
    std::optional<std::int64_t> position;
    if (impl_->cache)
        if (auto hit = impl_->cache->plans(patient_id, position)) return std::move(*hit);
    Impl::ReaderLease lease(*impl_);
    static const std::string sql = "SELECT id, patient_id, version, status, record FROM plans WHERE patient_id=?1 ORDER BY version, id";
    auto prepared = lease.statement(sql);
    if (!prepared) return std::unexpected(prepared.error());
    sqlite::Stmt* stmt = *prepared;
    stmt->bind(1, patient_id);
    auto rows = collect<PlanView>(*stmt, [](const sqlite::Stmt& s) {
        return PlanView{s.column_text(0), s.column_text(1), s.column_int(2), s.column_text(3),
                        json::parse(s.column_view(4), nullptr, false)};
    });
    if (rows && position) impl_->cache->fill_plans(*position, patient_id, *rows);
    return rows;
}

Result<std::vector<AssessmentView>> SqlcipherStore::assessments(std::string_view patient_id) {
    const Impl::ReaderLease lease(*impl_);
    sqlite::Db& reader = *lease;
    auto stmt = sqlite::Stmt::prepare(reader,
                                      "SELECT id, patient_id, instrument, status, first_seq, last_seq, record "
                                      "FROM assessments WHERE patient_id=?1 ORDER BY first_seq, id");
    if (!stmt) return std::unexpected(stmt.error());
    stmt->bind(1, patient_id);
    return collect<AssessmentView>(*stmt, [](const sqlite::Stmt& s) {
        return AssessmentView{s.column_text(0), s.column_text(1), s.column_text(2), s.column_text(3),
                              s.column_int(4),  s.column_int(5),  json::parse(s.column_view(6), nullptr, false)};
    });
}

}  // namespace tandem
