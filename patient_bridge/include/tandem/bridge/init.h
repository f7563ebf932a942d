#pragma once
// `tandem-bridge init`: lays out a new data dir. Kept out of main() so tests call it directly.

#include <filesystem>
#include <string>
#include <vector>

#include "tandem/domain/error.h"

namespace tandem::bridge {

struct InitOptions {
    std::filesystem::path data_dir;
    std::vector<std::string> hosts = {"localhost", "127.0.0.1"};  ///< certificate SANs; --host adds
    std::filesystem::path password_file;  ///< first admin's password (its first line)
    std::string admin_password;           ///< or the password itself (main's prompt); neither: no admin
    std::string admin_username = "admin";
};

struct InitResult {
    std::filesystem::path config_file;
    std::filesystem::path cert_file;
    std::filesystem::path key_file;
    std::filesystem::path store_key_file;  ///< 32 random bytes, hex, mode 0600
    std::filesystem::path store_file;      ///< the SQLCipher event store
    std::string fingerprint;  ///< SHA-256 of the certificate, for the user to pin
    std::string admin_id;     ///< the first admin clinician's id; empty when none was made
};

/// Creates DIR (mode 0700) with config.json, tls/cert.pem, tls/key.pem (0600), store.key (0600)
/// and the encrypted store tandem.db, plus the first admin clinician (roles admin) when a
/// password is given (Argon2id; clinician_added). Refuses a dir
/// that already holds a config. Errors: conflict (already initialised), io, invalid_argument.
/// Main thread.
Result<InitResult> init_data_dir(const InitOptions& options);

}  // namespace tandem::bridge
