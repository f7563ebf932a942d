#include "sqlite.h"

#include <fcntl.h>
#include <unistd.h>

#include <utility>

namespace tandem::sqlite {

Error make_error(sqlite3* db, int rc, std::string_view what) {
    const int extended = db != nullptr ? sqlite3_extended_errcode(db) : rc;
    std::string message(what);
    if (db != nullptr) {
        if (const char* file = sqlite3_db_filename(db, "main"); file != nullptr && *file != '\0') {
            message += " on ";
            message += file;
        }
    }
    message += ": ";
    message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    message += " (extended code " + std::to_string(extended) + ")";
    const ErrorCode code = (rc & 0xff) == SQLITE_CONSTRAINT ? ErrorCode::conflict : ErrorCode::storage;
    return Error{code, std::move(message), {}};
}

Result<Db> Db::open(const std::string& path, bool create) {
    Db db;
    // NOMUTEX: each connection is used by one thread at a time (the writer thread, or readers
    // under the store's reader mutex), so SQLite's own per-call mutex would be pure cost.
    const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
    if (create) {
        // SQLite would create the file with the process umask (often 0644) and gives its -wal and
        // -shm files the same mode; create it ourselves, owner-only, so no transcript page is ever
        // readable by another user even before the key is applied. An existing file is left alone.
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) ::close(fd);
    }
    const int rc = sqlite3_open_v2(path.c_str(), &db.db_, flags, nullptr);
    if (rc != SQLITE_OK) {
        auto err = make_error(db.db_, rc, "cannot open");
        if (err.message.find(path) == std::string::npos) err.message += " [" + path + "]";
        return std::unexpected(std::move(err));
    }
    sqlite3_extended_result_codes(db.db_, 1);
    return db;
}

Db::~Db() { close(); }

Db::Db(Db&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), prepared_(std::exchange(other.prepared_, {})) {}

Db& Db::operator=(Db&& other) noexcept {
    if (this != &other) {
        close();
        db_ = std::exchange(other.db_, nullptr);
        prepared_ = std::exchange(other.prepared_, {});
    }
    return *this;
}

void Db::close() noexcept {
    for (auto& [sql, stmt] : prepared_) sqlite3_finalize(stmt);
    prepared_.clear();
    if (db_ != nullptr) {
        // close_v2 defers the close until any statement still alive is finalized.
        sqlite3_close_v2(db_);
        db_ = nullptr;
    }
}

Result<void> Db::exec(const char* sql, std::string_view what) {
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return std::unexpected(make_error(db_, rc, what));
    return {};
}

// sqlite3_exec parses its text on every call: for the writer's BEGIN, SAVEPOINT, RELEASE and
// COMMIT (two per append request, two per group) that parsing was 0.6% of the bridge's CPU.
Result<void> Db::exec_prepared(const char* sql, std::string_view what) {
    sqlite3_stmt* stmt = nullptr;
    for (const auto& [text, s] : prepared_)
        if (text == sql) stmt = s;
    if (stmt == nullptr) {
        const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
        if (rc != SQLITE_OK) return std::unexpected(make_error(db_, rc, what));
        prepared_.emplace_back(sql, stmt);
    }
    const int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        auto error = make_error(db_, rc, what);
        sqlite3_reset(stmt);
        return std::unexpected(std::move(error));
    }
    sqlite3_reset(stmt);
    return {};
}

Result<std::optional<std::string>> Db::query_text(const char* sql, std::string_view what) {
    auto stmt = Stmt::prepare(*this, sql);
    if (!stmt) return std::unexpected(stmt.error());
    const int rc = stmt->step();
    if (rc == SQLITE_ROW) return stmt->column_optional_text(0);
    if (rc == SQLITE_DONE) return std::optional<std::string>{};
    return std::unexpected(make_error(db_, rc, what));
}

Result<std::int64_t> Db::query_int(const char* sql, std::string_view what) {
    auto stmt = Stmt::prepare(*this, sql);
    if (!stmt) return std::unexpected(stmt.error());
    const int rc = stmt->step();
    if (rc == SQLITE_ROW) return stmt->column_int(0);
    if (rc == SQLITE_DONE) return std::int64_t{0};
    return std::unexpected(make_error(db_, rc, what));
}

Result<Stmt> Stmt::prepare(Db& db, std::string_view sql) {
    Stmt s;
    const int rc = sqlite3_prepare_v3(db.get(), sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &s.stmt_, nullptr);
    if (rc != SQLITE_OK) return std::unexpected(make_error(db.get(), rc, "cannot prepare statement"));
    return s;
}

Stmt::~Stmt() { sqlite3_finalize(stmt_); }

Stmt::Stmt(Stmt&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}

Stmt& Stmt::operator=(Stmt&& other) noexcept {
    if (this != &other) {
        sqlite3_finalize(stmt_);
        stmt_ = std::exchange(other.stmt_, nullptr);
    }
    return *this;
}

void Stmt::reset() noexcept {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

void Stmt::bind(int index, std::string_view text) {
    sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

void Stmt::bind(int index, const std::optional<std::string>& text) {
    if (text) {
        bind(index, std::string_view(*text));
    } else {
        bind_null(index);
    }
}

void Stmt::bind(int index, std::int64_t value) { sqlite3_bind_int64(stmt_, index, value); }

void Stmt::bind_null(int index) { sqlite3_bind_null(stmt_, index); }

int Stmt::step() noexcept { return sqlite3_step(stmt_); }

Result<void> Stmt::run(std::string_view what) {
    int rc = SQLITE_ROW;
    while (rc == SQLITE_ROW) rc = step();
    if (rc != SQLITE_DONE) {
        auto err = make_error(db(), rc, what);
        sqlite3_reset(stmt_);
        return std::unexpected(std::move(err));
    }
    return {};
}

std::int64_t Stmt::column_int(int i) const noexcept { return sqlite3_column_int64(stmt_, i); }

std::string_view Stmt::column_view(int i) const noexcept {
    const auto* text = sqlite3_column_text(stmt_, i);
    const int n = sqlite3_column_bytes(stmt_, i);
    if (text == nullptr) return {};
    return {reinterpret_cast<const char*>(text), static_cast<std::size_t>(n)};
}

std::string Stmt::column_text(int i) const { return std::string(column_view(i)); }

std::optional<std::string> Stmt::column_optional_text(int i) const {
    if (sqlite3_column_type(stmt_, i) == SQLITE_NULL) return std::nullopt;
    return column_text(i);
}

sqlite3* Stmt::db() const noexcept { return sqlite3_db_handle(stmt_); }

namespace {
// One address per text: exec_prepared keys its statements by it.
constexpr const char* begin_immediate = "BEGIN IMMEDIATE";
constexpr const char* commit_sql = "COMMIT";
constexpr const char* savepoint_sql = "SAVEPOINT tandem_request";
constexpr const char* release_sql = "RELEASE tandem_request";
}  // namespace

Result<Transaction> Transaction::begin(Db& db) {
    // IMMEDIATE takes the write lock now, so a busy database fails here and not at COMMIT.
    if (auto r = db.exec_prepared(begin_immediate, "cannot begin transaction"); !r) return std::unexpected(r.error());
    return Transaction(&db);
}

Transaction::~Transaction() {
    if (db_ != nullptr) sqlite3_exec(db_->get(), "ROLLBACK", nullptr, nullptr, nullptr);
}

Transaction::Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Result<void> Transaction::commit() {
    auto r = db_->exec_prepared(commit_sql, "cannot commit");
    if (r) db_ = nullptr;  // on failure the destructor still rolls back
    return r;
}

Result<Savepoint> Savepoint::begin(Db& db) {
    if (auto r = db.exec_prepared(savepoint_sql, "cannot begin savepoint"); !r) return std::unexpected(r.error());
    return Savepoint(&db);
}

Savepoint::~Savepoint() {
    if (db_ != nullptr) {
        sqlite3_exec(db_->get(), "ROLLBACK TO tandem_request; RELEASE tandem_request", nullptr, nullptr, nullptr);
    }
}

Savepoint::Savepoint(Savepoint&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Result<void> Savepoint::release() {
    auto r = db_->exec_prepared(release_sql, "cannot release savepoint");
    if (r) db_ = nullptr;
    return r;
}

}  // namespace tandem::sqlite
