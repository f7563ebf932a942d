#pragma once
// Private RAII wrappers over the SQLCipher C API: a connection, a prepared statement, a
// transaction and a savepoint that roll back in their destructors. Errors keep SQLite's extended
// result code in the message. Never included by a public header.

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tandem/domain/error.h"

namespace tandem::sqlite {

/// Error{storage, "<what> on <file>: <sqlite message> (extended code N)"}; SQLITE_CONSTRAINT maps
/// to ErrorCode::conflict so a duplicate id reads as one.
Error make_error(sqlite3* db, int rc, std::string_view what);

class Db {
public:
    Db() noexcept = default;
    /// Opens (creating if asked) a connection; the handle is closed even when opening fails.
    static Result<Db> open(const std::string& path, bool create);
    ~Db();
    Db(Db&& other) noexcept;
    Db& operator=(Db&& other) noexcept;
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    sqlite3* get() const noexcept { return db_; }
    /// Runs SQL without results; `what` names the step in the error.
    Result<void> exec(const char* sql, std::string_view what);
    /// As exec, for one statement run again and again (BEGIN, COMMIT, SAVEPOINT, RELEASE on the
    /// writer): prepared on first use and kept by the connection, keyed by the literal's address.
    Result<void> exec_prepared(const char* sql, std::string_view what);
    /// Runs a query returning one text cell (a PRAGMA); nullopt when it returns no row.
    Result<std::optional<std::string>> query_text(const char* sql, std::string_view what);
    /// Runs a query returning one integer cell.
    Result<std::int64_t> query_int(const char* sql, std::string_view what);
    void close() noexcept;

private:
    sqlite3* db_ = nullptr;
    // exec_prepared's statements, finalized by close(); a few, so a vector beats a map.
    std::vector<std::pair<const char*, sqlite3_stmt*>> prepared_;
};

class Stmt {
public:
    Stmt() noexcept = default;
    static Result<Stmt> prepare(Db& db, std::string_view sql);
    ~Stmt();
    Stmt(Stmt&& other) noexcept;
    Stmt& operator=(Stmt&& other) noexcept;
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    /// Resets and clears bindings, ready for the next use.
    void reset() noexcept;
    void bind(int index, std::string_view text);
    void bind(int index, const std::optional<std::string>& text);
    void bind(int index, std::int64_t value);
    void bind_null(int index);
    /// One step: SQLITE_ROW, SQLITE_DONE or an error code.
    int step() noexcept;
    /// Steps to completion expecting no rows; error naming `what`.
    Result<void> run(std::string_view what);

    std::int64_t column_int(int i) const noexcept;
    std::string column_text(int i) const;
    std::optional<std::string> column_optional_text(int i) const;
    std::string_view column_view(int i) const noexcept;
    sqlite3* db() const noexcept;

private:
    sqlite3_stmt* stmt_ = nullptr;
};

/// BEGIN IMMEDIATE ... COMMIT; rolls back in the destructor unless committed.
class Transaction {
public:
    static Result<Transaction> begin(Db& db);
    ~Transaction();
    Transaction(Transaction&& other) noexcept;
    Transaction& operator=(Transaction&&) = delete;
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    Result<void> commit();

private:
    explicit Transaction(Db* db) noexcept : db_(db) {}
    Db* db_ = nullptr;
};

/// SAVEPOINT inside a transaction; rolls back to it (and releases it) unless released.
class Savepoint {
public:
    static Result<Savepoint> begin(Db& db);
    ~Savepoint();
    Savepoint(Savepoint&& other) noexcept;
    Savepoint& operator=(Savepoint&&) = delete;
    Savepoint(const Savepoint&) = delete;
    Savepoint& operator=(const Savepoint&) = delete;
    Result<void> release();

private:
    explicit Savepoint(Db* db) noexcept : db_(db) {}
    Db* db_ = nullptr;
};

}  // namespace tandem::sqlite
