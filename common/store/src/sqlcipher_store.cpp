#include "tandem/store/sqlcipher_store.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "migrations.h"
#include "sqlcipher_store_impl.h"
#include "tandem/crypto/key_file.h"
#include "tandem/crypto/secret_buffer.h"

namespace tandem {

namespace {

using nlohmann::json;

constexpr std::size_t raw_key_size = 32;

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

}  // namespace


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
    impl->checkpoint_thread = std::thread([raw] {
        pthread_setname_np(pthread_self(), "tandem-ckpt");
        raw->run_checkpoints();
    });
    impl->thread = std::thread([raw] {
        pthread_setname_np(pthread_self(), "tandem-writer");
        raw->run();
    });
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
    out.pages_written = impl_->pages_written.load(std::memory_order_relaxed);
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
