#pragma once
// `--password-file FILE`: logging in at start without typing, for the demo script and kiosks.
// The file must be the user's own and unreadable by anyone else, like an ssh key.

#include <filesystem>

#include "tandem/crypto/secret_buffer.h"
#include "tandem/domain/error.h"

namespace tandem::clinician {

/// The file's first line (without its newline) in a self-wiping buffer. Errors, each naming the
/// file: permission_denied (not a regular file, not owned by this user, or readable or writable
/// by group or others: "chmod 600"), io (cannot read), invalid_argument (empty first line). Any thread.
Result<SecretBuffer> read_password_file(const std::filesystem::path& path);

}  // namespace tandem::clinician
