#pragma once
// The offline cache's key (private to local_cache.cpp): cache.key holds the Argon2id salt and
// cost and a SHA-256 check of the key derived from the password, never the key. The check is
// what tells a wrong password (nothing touched) from a damaged cache (set aside).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/clinician/local_cache.h"
#include "tandem/crypto/secret_buffer.h"
#include "tandem/domain/error.h"

namespace tandem::clinician::cache_key {

/// What cache.key holds (not secret: a salt, a cost and a check of a 256-bit key).
struct KeyFile {
    CacheKdf kdf;
    std::vector<std::uint8_t> salt;
    std::string check_hex;
};

/// A new cache's key file and the key it describes.
struct NewKey {
    KeyFile file;
    SecretBuffer key;
};

/// A fresh 16-byte salt for `kdf`, the key `password` derives with it, and its check. Throws
/// std::runtime_error when Argon2 fails (out of memory). Any thread.
NewKey new_key(std::string_view password, const CacheKdf& kdf);

/// The key `password` derives under `file`. Errors: wrong_key when its check differs (the
/// message names `db_path` and says nothing was changed). Throws as new_key. Any thread.
Result<SecretBuffer> unlock(std::string_view password, const KeyFile& file, const std::filesystem::path& db_path);

/// Writes `file` to `path` owner-only (0600) through a temporary file and a rename, so a crash
/// leaves the old file or the new one. Errors: io naming the file. Any thread.
Result<void> write(const std::filesystem::path& path, const KeyFile& file);

/// Reads `path`; nullopt when it is missing, unreadable, of another format or KDF, or its salt
/// or costs are implausible (the caller treats that as damage). Any thread.
std::optional<KeyFile> read(const std::filesystem::path& path);

}  // namespace tandem::clinician::cache_key
