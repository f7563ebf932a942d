#include "tandem/bridge/backup.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <span>
#include <utility>

#include "tandem/crypto/key_file.h"
#include "tandem/domain/time.h"
#include "tandem/store/sqlcipher_store.h"

namespace tandem::bridge {
namespace {

namespace fs = std::filesystem;

// The names main.cpp's open_store uses; a data dir is laid out by init_data_dir.
constexpr const char* kStoreName = "tandem.db";
constexpr const char* kKeyName = "store.key";
constexpr const char* kLockName = "bridge.lock";

Result<void> fsync_path(const fs::path& path, int flags) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    const bool ok = fd >= 0 && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (!ok) return fail(ErrorCode::io, "cannot fsync", path.string());
    return {};
}

// A rename is durable only once the directory holding it is synced.
Result<void> fsync_dir_of(const fs::path& file) {
    return fsync_path(file.has_parent_path() ? file.parent_path() : fs::path("."), O_RDONLY | O_DIRECTORY);
}

void remove_quietly(const fs::path& p) {
    std::error_code ec;
    fs::remove(p, ec);
}

// Opens `file` with the data dir's key and checks its hash chain. The store is closed on return,
// which checkpoints and removes the WAL it made, leaving one self-contained file.
Result<StoreCopySummary> open_and_verify(const fs::path& file, std::span<const std::byte> key) {
    auto store = SqlcipherStore::open(file, key);
    if (!store) return std::unexpected(store.error());
    auto report = (*store)->verify_chain(std::nullopt);
    if (!report) return std::unexpected(report.error());
    if (!report->ok) {
        return fail(ErrorCode::internal, "the copy's hash chain is broken at seq " +
                                             std::to_string(report->first_bad_seq.value_or(0)) + ": " + report->reason,
                    file.string());
    }
    auto head = (*store)->head();
    if (!head) return std::unexpected(head.error());
    StoreCopySummary out;
    out.file = file;
    out.events = head->seq;
    out.head_hash = head->seq > 0 ? head->hash : std::string();
    return out;
}

// Who holds the lock, from the pid written into the lock file ("" when unreadable).
std::string lock_holder(const fs::path& lock_file) {
    std::ifstream in(lock_file);
    std::string pid;
    std::getline(in, pid);
    return pid;
}

// "--flag value" pairs, each flag at most once; nullopt names the bad argument in `bad`.
std::optional<std::map<std::string, std::string>> parse_pairs(const std::vector<std::string>& args,
                                                               const std::vector<std::string>& allowed,
                                                               std::string& bad) {
    std::map<std::string, std::string> out;
    for (std::size_t i = 0; i < args.size(); i += 2) {
        const bool known = std::find(allowed.begin(), allowed.end(), args[i]) != allowed.end();
        if (!known || i + 1 >= args.size() || out.contains(args[i])) {
            bad = args[i];
            return std::nullopt;
        }
        out[args[i]] = args[i + 1];
    }
    return out;
}

constexpr const char* kBackupHelp =
    "usage: tandem-bridge backup --data-dir DIR --out FILE\n"
    "\n"
    "Writes a consistent copy of DIR's store to FILE (mode 0600), also while the bridge is serving.\n"
    "The copy stays encrypted with DIR/store.key and opens only with it: keep a copy of that key\n"
    "somewhere safe, apart from the backups. The copy's hash chain is verified before FILE appears.\n";

constexpr const char* kRestoreHelp =
    "usage: tandem-bridge restore --data-dir DIR --from FILE\n"
    "\n"
    "Replaces DIR's store with the backup FILE after checking that DIR/store.key opens it and its\n"
    "hash chain verifies. The bridge must be stopped first (systemctl stop tandem-bridge); the\n"
    "replaced store is kept beside it as tandem.db.pre-restore-TIME.\n";

int usage(const std::string& message, const char* help) {
    std::cerr << "tandem-bridge: " << message << "\n\n" << help;
    return 2;
}

int failed(const Error& e) {
    std::cerr << "tandem-bridge: " << to_string(e.code) << ": " << e.describe() << "\n";
    return 1;
}

}  // namespace

Result<DataDirLock> DataDirLock::acquire(const fs::path& data_dir) {
    const fs::path file = data_dir / kLockName;
    int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    // flock works on a read-only descriptor too: a lock file another user made (root running
    // restore) must not keep the service from starting; only the pid note is lost then.
    const bool writable = fd >= 0;
    if (fd < 0) fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(ErrorCode::io, "cannot open the lock file", file.string());
    // Made by root (restore, backup): give it the data dir's owner, as every other file there.
    struct stat dir_stat {};
    if (::geteuid() == 0 && ::stat(data_dir.c_str(), &dir_stat) == 0 &&
        ::fchown(fd, dir_stat.st_uid, dir_stat.st_gid) != 0) {
        ::close(fd);
        return fail(ErrorCode::io, "cannot give the lock file the data dir's owner", file.string());
    }
    // flock rather than a pid file checked by hand: the kernel drops it when the holder dies, so
    // a crashed bridge never leaves a stale lock behind. (SQLite's own POSIX locks cannot say
    // "someone has the store open" under WAL, where readers and writers coexist.)
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        ::close(fd);
        if (err != EWOULDBLOCK) return fail(ErrorCode::io, "cannot lock", file.string());
        const auto pid = lock_holder(file);
        return fail(ErrorCode::conflict,
                    "a running bridge (pid " + (pid.empty() ? std::string("unknown") : pid) + ") holds " +
                        data_dir.string() + "; stop it first (systemctl stop tandem-bridge)",
                    file.string());
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (!writable) return DataDirLock(fd);
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
        ::close(fd);
        return fail(ErrorCode::io, "cannot write the lock file", file.string());
    }
    return DataDirLock(fd);
}

DataDirLock::~DataDirLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

DataDirLock::DataDirLock(DataDirLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

DataDirLock& DataDirLock::operator=(DataDirLock&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

Result<StoreCopySummary> backup_data_dir(const fs::path& data_dir, const fs::path& out) {
    const fs::path store_file = data_dir / kStoreName;
    std::error_code ec;
    if (!fs::is_regular_file(store_file, ec)) return fail(ErrorCode::not_found, "no store in the data dir", store_file.string());
    if (fs::exists(fs::symlink_status(out, ec))) return fail(ErrorCode::conflict, "the backup file already exists", out.string());
    auto key = load_key_file(data_dir / kKeyName);
    if (!key) return std::unexpected(key.error());

    fs::path partial = out;
    partial += ".partial";
    remove_quietly(partial);  // left by an interrupted backup: never a valid one
    ChainHead before;
    {
        auto store = SqlcipherStore::open(store_file, key->bytes());
        if (!store) return std::unexpected(store.error());
        auto head = (*store)->head();
        if (!head) return std::unexpected(head.error());
        before = *head;
        if (auto r = (*store)->backup_to(partial); !r) return std::unexpected(r.error());
    }
    // Until it reopens with the key and its chain verifies, the copy is only a file of bytes.
    auto summary = open_and_verify(partial, key->bytes());
    const bool reaches_head = summary && summary->events >= before.seq;
    if (!summary || !reaches_head) {
        remove_quietly(partial);
        if (!summary) return std::unexpected(summary.error());
        return fail(ErrorCode::internal, "the copy ends before the store's head at the start of the backup", out.string());
    }
    if (::chmod(partial.c_str(), 0600) != 0) {
        remove_quietly(partial);
        return fail(ErrorCode::io, "cannot set mode 0600", partial.string());
    }
    fs::rename(partial, out, ec);
    if (ec) {
        remove_quietly(partial);
        return fail(ErrorCode::io, "cannot rename the backup into place: " + ec.message(), out.string());
    }
    if (auto r = fsync_dir_of(out); !r) return std::unexpected(r.error());
    summary->file = out;
    return summary;
}

Result<StoreCopySummary> restore_data_dir(const fs::path& data_dir, const fs::path& from) {
    std::error_code ec;
    if (!fs::is_regular_file(from, ec)) return fail(ErrorCode::not_found, "no backup file", from.string());
    struct stat dir_stat {};
    if (::stat(data_dir.c_str(), &dir_stat) != 0 || !S_ISDIR(dir_stat.st_mode))
        return fail(ErrorCode::not_found, "no data dir", data_dir.string());
    // Held to the end: a bridge started meanwhile refuses to serve rather than open a half-swapped store.
    auto lock = DataDirLock::acquire(data_dir);
    if (!lock) return std::unexpected(lock.error());
    auto key = load_key_file(data_dir / kKeyName);
    if (!key) return std::unexpected(key.error());

    // Checked on a copy inside the data dir, so the final step is one rename on one file system
    // and the backup file itself is never opened for writing (open() may migrate a store).
    const fs::path store_file = data_dir / kStoreName;
    fs::path incoming = store_file;
    incoming += ".restoring";
    remove_quietly(incoming);
    fs::copy_file(from, incoming, ec);
    if (ec) return fail(ErrorCode::io, "cannot copy the backup: " + ec.message(), incoming.string());
    ::chmod(incoming.c_str(), 0600);
    // Run as root, keep the service user able to open it (and what open() creates beside it).
    if (::geteuid() == 0 && ::chown(incoming.c_str(), dir_stat.st_uid, dir_stat.st_gid) != 0) {
        remove_quietly(incoming);
        return fail(ErrorCode::io, "cannot give the restored store the data dir's owner", incoming.string());
    }
    auto summary = open_and_verify(incoming, key->bytes());
    if (!summary) {
        remove_quietly(incoming);
        Error e = summary.error();
        if (e.code == ErrorCode::wrong_key) {
            e.message = "this data dir's store.key does not open " + from.string() +
                        " (a backup opens only with the key of the data dir it was made from)";
        }
        return std::unexpected(e);
    }
    if (auto r = fsync_path(incoming, O_RDONLY); !r) return std::unexpected(r.error());

    fs::path previous;
    if (fs::exists(store_file, ec)) {
        // Kept, never deleted: a restore over the wrong store must be undoable.
        std::string stamp = format_timestamp(now_utc());
        for (char& c : stamp) c = c == ':' ? '-' : c;
        previous = store_file;
        previous += ".pre-restore-" + stamp;
        fs::rename(store_file, previous, ec);
        if (ec) {
            remove_quietly(incoming);
            return fail(ErrorCode::io, "cannot move the current store aside: " + ec.message(), store_file.string());
        }
        // A WAL left by an unclean stop holds committed events: it moves with its database.
        for (const char* suffix : {"-wal", "-shm"}) {
            fs::path side = store_file;
            side += suffix;
            if (!fs::exists(side, ec)) continue;
            fs::path moved = previous;
            moved += suffix;
            fs::rename(side, moved, ec);
        }
    }
    fs::rename(incoming, store_file, ec);
    if (ec) return fail(ErrorCode::io, "cannot move the restored store into place: " + ec.message(), store_file.string());
    if (auto r = fsync_dir_of(store_file); !r) return std::unexpected(r.error());
    summary->file = store_file;
    summary->previous = previous;
    return summary;
}

int backup_command(const std::vector<std::string>& args) {
    if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) return std::cout << kBackupHelp, 0;
    std::string bad;
    auto flags = parse_pairs(args, {"--data-dir", "--out"}, bad);
    if (!flags) return usage("unexpected or incomplete argument '" + bad + "'", kBackupHelp);
    if (!flags->contains("--data-dir") || !flags->contains("--out"))
        return usage("--data-dir and --out are required", kBackupHelp);
    const fs::path data_dir = flags->at("--data-dir");
    auto r = backup_data_dir(data_dir, flags->at("--out"));
    if (!r) return failed(r.error());
    std::cout << "backup written: " << r->file.string() << " (" << r->events << " events, chain verified)\n"
              << "it opens only with " << (data_dir / kKeyName).string()
              << ": keep a copy of that key apart from the backups\n";
    return 0;
}

int restore_command(const std::vector<std::string>& args) {
    if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) return std::cout << kRestoreHelp, 0;
    std::string bad;
    auto flags = parse_pairs(args, {"--data-dir", "--from"}, bad);
    if (!flags) return usage("unexpected or incomplete argument '" + bad + "'", kRestoreHelp);
    if (!flags->contains("--data-dir") || !flags->contains("--from"))
        return usage("--data-dir and --from are required", kRestoreHelp);
    auto r = restore_data_dir(flags->at("--data-dir"), flags->at("--from"));
    if (!r) return failed(r.error());
    std::cout << "restored " << r->file.string() << " (" << r->events << " events, chain verified)\n";
    if (!r->previous.empty()) std::cout << "the replaced store was kept as " << r->previous.string() << "\n";
    return 0;
}

}  // namespace tandem::bridge
