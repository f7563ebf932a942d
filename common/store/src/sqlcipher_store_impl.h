#pragma once
// SqlcipherStore::Impl: the connections, writer queue, checkpoint thread and read cache behind
// the public SqlcipherStore, shared by sqlcipher_store.cpp (open, reads) and store_writer.cpp
// (group commit). Private to the store: <sqlite3.h> stays out of public headers.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "projections.h"
#include "read_cache.h"
#include "sqlite.h"
#include "tandem/store/sqlcipher_store.h"

namespace tandem {

// A queued append: one append() call or one append_batch(); the writer thread commits many of
// these in one transaction and then wakes every caller.
struct AppendRequest {
    std::vector<NewEvent> events;
    std::vector<std::string> payload_json;  // dumped by the caller, off the writer thread
    std::promise<Result<std::vector<AppendResult>>> done;
};

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
    std::deque<std::unique_ptr<AppendRequest>> queue;
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
    std::atomic<std::uint64_t> pages_written{0};

    // In-memory answers to the hot reads (read_cache.h); null when options.read_cache is off.
    std::unique_ptr<ReadCache> cache;
    void publish_to_cache(const std::vector<Result<std::vector<AppendResult>>>& results);

    static int on_wal_commit(void* self, sqlite3* db, const char* schema, int pages);
    void run_checkpoints();

    Result<void> prepare_writer();
    void run();
    void commit_group(std::vector<std::unique_ptr<AppendRequest>>& group);
    Result<std::vector<AppendResult>> apply_request(AppendRequest& request);
    Result<AppendResult> apply_event(NewEvent& event, std::string& payload_json);
    Result<std::vector<AppendResult>> submit(std::vector<NewEvent> events);
};

}  // namespace tandem
