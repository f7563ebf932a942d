#pragma once
// Versioned schema migrations, run on open: PRAGMA user_version holds the version; each step
// runs in its own transaction and bumps it. Steps are never edited once released: a change is a
// new step.

#include <string>

#include "sqlite.h"

namespace tandem {

/// Identifies a Tandem store in its meta table (key 'format').
inline constexpr const char* store_format_marker = "tandem-event-store";

/// Read-only check that the open, readable database is empty or a Tandem store this code can
/// open; returns its schema version. Runs before anything is written (WAL mode included), so a
/// refused file stays byte-identical. not_a_database, too_new, storage.
Result<int> check_store(sqlite::Db& db, const std::string& name);

/// Checks that the open, readable database is a Tandem store (or empty) and migrates it to
/// sqlcipher_store_schema_version. not_a_database, too_new, storage; `name` is the file for messages.
Result<int> migrate(sqlite::Db& db, const std::string& name);

}  // namespace tandem
