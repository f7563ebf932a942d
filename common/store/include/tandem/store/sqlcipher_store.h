#pragma once
// The embedded Store: one SQLCipher 4 file (4 KiB cipher pages, WAL, synchronous=FULL), one
// writer thread that batches concurrent appends into one transaction (group commit), a few reader
// connections with their prepared statements cached. <sqlite3.h> stays in src/.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

#include "tandem/store/store.h"

namespace tandem {

/// How the bytes given to SqlcipherStore::open are used.
enum class StoreKeyKind {
    raw_key,      ///< 32 bytes (a key file's), used directly as the AES key: no KDF cost on open
    passphrase,   ///< any bytes, stretched by SQLCipher's PBKDF2-HMAC-SHA512 (256,000 rounds)
    unencrypted,  ///< no key: a plain SQLite file (benchmarks and tests only)
};

struct SqlcipherStoreOptions {
    StoreKeyKind key_kind = StoreKeyKind::raw_key;
    std::size_t max_batch_events = 4096;  ///< most events one group-commit transaction takes
    int checkpoint_pages = 8192;          ///< WAL size (4 KiB pages) that wakes the background checkpoint
    /// Answer find_patient, recent_messages, messages, plans, read_after and read_feed_after from
    /// memory kept in step with every commit (the same rows as SQL); false: every read is SQL.
    bool read_cache = true;
    std::size_t read_cache_events = 4096;       ///< newest events kept for read_after and read_feed_after
    std::size_t read_cache_messages = 32;       ///< newest messages kept per cached conversation (the bridge reads 32)
    std::size_t read_cache_bytes = 32u << 20;   ///< estimated memory for cached messages and plans (LRU beyond)
};

/// Schema version this code writes; open() migrates older files up to it.
inline constexpr int sqlcipher_store_schema_version = 3;

class SqlcipherStore final : public Store {
public:
    /// Opens or creates the store at `path`, runs pending migrations and starts the writer thread.
    /// Errors (each naming the file): wrong_key (the key does not open it; the file is left
    /// byte-identical), not_a_database (plain SQLite file when a key is given, not page-aligned,
    /// not a Tandem store), too_new (schema newer than this code), invalid_argument (empty key,
    /// raw key not 32 bytes), storage (keeps SQLite's extended code). Any thread.
    static Result<std::unique_ptr<SqlcipherStore>> open(const std::filesystem::path& path,
                                                        std::span<const std::byte> key,
                                                        const SqlcipherStoreOptions& options = {});

    /// Opens the store at `path` with the raw key in `key_file` (tandem/crypto/key_file.h). When
    /// neither exists, creates the key file (mode 0600) first, then the store. A missing key file
    /// for an existing store is ErrorCode::not_found (a new key would not open it); other errors
    /// as load_key_file and open. Any thread.
    static Result<std::unique_ptr<SqlcipherStore>> open_with_key_file(const std::filesystem::path& path,
                                                                      const std::filesystem::path& key_file,
                                                                      const SqlcipherStoreOptions& options = {});

    /// Stops the writer thread after it finishes the queued appends, then closes. Not from a thread
    /// blocked in one of this store's calls.
    ~SqlcipherStore() override;
    SqlcipherStore(const SqlcipherStore&) = delete;
    SqlcipherStore& operator=(const SqlcipherStore&) = delete;

    Result<AppendResult> append(NewEvent event) override;
    Result<std::vector<AppendResult>> append_batch(std::vector<NewEvent> events) override;
    Result<std::vector<StoredEvent>> read_after(std::int64_t after_seq, const Principal& principal,
                                                std::size_t limit) override;
    Result<std::vector<FeedEvent>> read_feed_after(std::int64_t after_seq, std::size_t limit) override;
    Result<ChainHead> head() override;
    Result<ChainReport> verify_chain(const std::optional<ChainHead>& anchor) override;
    Result<std::optional<PatientView>> find_patient(std::string_view patient_id) override;
    Result<std::vector<PatientView>> patients(const Principal& principal) override;
    Result<std::vector<ConversationView>> conversations(std::string_view patient_id) override;
    Result<std::vector<MessageView>> messages(std::string_view conversation_id) override;
    Result<std::vector<MessageView>> recent_messages(std::string_view conversation_id, std::size_t limit) override;
    Result<std::vector<FlagView>> open_flags(const Principal& principal) override;
    Result<std::vector<PlanView>> plans(std::string_view patient_id) override;
    Result<std::vector<AssessmentView>> assessments(std::string_view patient_id) override;

    /// Schema version of the open file (after migrations). Any thread.
    int schema_version() const noexcept;

    /// Writes a consistent snapshot of the store (every event committed when it starts) to `out`,
    /// a new file encrypted with this store's key and settings, fsynced; appends go on meanwhile
    /// (readers wait). Errors: conflict (`out` exists), storage (keeps SQLite's code; a partial
    /// `out` is removed), io. Any thread.
    Result<void> backup_to(const std::filesystem::path& out);

    /// Counters since open, for /metrics and the benchmark. Any thread.
    struct Stats {
        std::uint64_t commits = 0;          ///< group-commit transactions committed
        std::uint64_t events_appended = 0;  ///< new events (duplicates not counted)
        std::uint64_t checkpoints = 0;      ///< background WAL checkpoints run
        std::uint64_t cache_hits = 0;       ///< reads answered from the read cache
        std::uint64_t cache_misses = 0;     ///< cacheable reads that went to SQL
        std::uint64_t cache_reloads = 0;    ///< full loads of the read cache (first use, long gaps)
        std::uint64_t cache_catch_ups = 0;  ///< reads of events appended by another process
        std::uint64_t pages_written = 0;    ///< database pages the writer's commits wrote (WAL frames)
    };
    Stats stats() const noexcept;

    struct Impl;

private:
    explicit SqlcipherStore(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace tandem
