#pragma once
// A store key on disk: 32 random bytes as 64 hex characters and a newline, mode 0600.

#include <filesystem>

#include "tandem/crypto/secret_buffer.h"
#include "tandem/domain/error.h"

namespace tandem {

/// Size of a Tandem store key in bytes.
inline constexpr std::size_t key_file_key_size = 32;

/// Creates `path` holding a fresh random key, mode 0600, atomically: it appears complete or not at
/// all, and never replaces an existing file (ErrorCode::conflict if `path` exists; ErrorCode::io
/// for other failures, naming the file). Any thread.
Result<void> create_key_file(const std::filesystem::path& path);

/// Reads a key written by create_key_file. Refuses (ErrorCode::permission_denied, naming the file)
/// a file that group or others may read or write, or that is not a regular file; ErrorCode::io
/// when it cannot be read; ErrorCode::parse when it does not hold exactly 64 hex characters
/// (a trailing newline is allowed). Any thread.
Result<SecretBuffer> load_key_file(const std::filesystem::path& path);

}  // namespace tandem
