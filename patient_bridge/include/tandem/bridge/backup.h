#pragma once
// Backup and restore of a data dir's encrypted store, and the lock that keeps a restore away from
// a serving bridge. A backup is a SQLCipher file encrypted with the data dir's store.key: it opens
// only with that key, so the key must be kept (elsewhere) as long as the backups.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tandem/domain/error.h"

namespace tandem::bridge {

/// An exclusive advisory lock (flock) on DATA_DIR/bridge.lock, held for the object's lifetime.
/// `serve` holds it while it runs; `restore` holds it while it swaps the store file.
class DataDirLock {
public:
    /// Takes the lock without waiting and writes this process's id into the file. Errors: conflict
    /// (another process holds it; the message names its pid and says to stop the bridge), io. Any thread.
    static Result<DataDirLock> acquire(const std::filesystem::path& data_dir);
    /// Releases the lock (closing the file; the pid note stays until the next holder). Any thread.
    ~DataDirLock();
    /// Moves the held lock; `other` then holds nothing. Any thread.
    DataDirLock(DataDirLock&& other) noexcept;
    /// Releases this lock, then takes over `other`'s. Any thread.
    DataDirLock& operator=(DataDirLock&& other) noexcept;
    DataDirLock(const DataDirLock&) = delete;
    DataDirLock& operator=(const DataDirLock&) = delete;

private:
    explicit DataDirLock(int fd) noexcept : fd_(fd) {}
    int fd_ = -1;
};

/// What a verified backup or restored store holds.
struct StoreCopySummary {
    std::filesystem::path file;       ///< the backup written, or the store restored
    std::int64_t events = 0;          ///< events whose hashes were verified
    std::string head_hash;            ///< hash of the last event (empty when there is none)
    std::filesystem::path previous;   ///< restore only: where the replaced store was moved (empty if none)
};

/// Writes a snapshot of DATA_DIR/tandem.db to `out` (mode 0600) while a bridge may be serving it:
/// written to `out`.partial, reopened with the key, its hash chain verified and checked to reach
/// at least the head seen before the copy, then renamed. Errors: not_found (no store), conflict
/// (`out` exists), wrong_key, storage, io, internal (the copy failed verification). Any thread.
Result<StoreCopySummary> backup_data_dir(const std::filesystem::path& data_dir, const std::filesystem::path& out);

/// Replaces DATA_DIR/tandem.db with the backup `from` after checking that DATA_DIR/store.key
/// opens it and its hash chain verifies; the replaced store (and its WAL) is kept beside it as
/// tandem.db.pre-restore-TIME. Refused with conflict while a bridge serves the dir (DataDirLock).
/// Run as root, the restored file gets the data dir's owner. Errors: conflict, not_found,
/// wrong_key, not_a_database, internal (chain broken), storage, io; on any error DATA_DIR is as it
/// was. Any thread.
Result<StoreCopySummary> restore_data_dir(const std::filesystem::path& data_dir, const std::filesystem::path& from);

/// `tandem-bridge backup` with its arguments (after the command word); prints a summary and
/// returns the process exit status (0 ok, 1 failed, 2 bad usage). Main thread.
int backup_command(const std::vector<std::string>& args);

/// `tandem-bridge restore` with its arguments; as backup_command. Main thread.
int restore_command(const std::vector<std::string>& args);

}  // namespace tandem::bridge
