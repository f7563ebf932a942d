#pragma once
// The bridge's TLS identity: a self-signed ECDSA P-256 certificate made by `init`, so a
// new clinic has HTTPS at once; a real deployment swaps in its own PEM files.

#include <filesystem>
#include <string>
#include <vector>

#include "tandem/domain/error.h"

namespace tandem::bridge {

/// Writes a new P-256 key (mode 0600) and a self-signed certificate (mode 0644) whose SAN lists
/// `hosts` (IP literals become IP SANs, the rest DNS names). Refuses to overwrite either file.
/// Errors: invalid_argument (no hosts), conflict (a file exists), io, internal (OpenSSL). Any thread.
Result<void> create_self_signed_identity(const std::filesystem::path& cert_file,
                                         const std::filesystem::path& key_file,
                                         const std::vector<std::string>& hosts, int valid_days = 825);

/// The SHA-256 fingerprint of a PEM certificate as "AB:CD:..." for pinning in the clinician
/// app and for the user to compare. Errors: io, parse. Any thread.
Result<std::string> certificate_fingerprint(const std::filesystem::path& cert_file);

}  // namespace tandem::bridge
