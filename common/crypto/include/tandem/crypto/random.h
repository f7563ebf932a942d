#pragma once
// Cryptographically secure randomness (OpenSSL RAND_bytes) for keys, ids and session tokens.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tandem/crypto/secret_buffer.h"

namespace tandem {

/// `n` random bytes. Any thread; throws std::runtime_error if the CSPRNG fails (a broken machine).
std::vector<std::uint8_t> random_bytes(std::size_t n);
/// `n` random bytes straight into a self-wiping buffer, for key material. Any thread; throws as above.
SecretBuffer random_secret(std::size_t n);

enum class TokenEncoding { base64url, hex };
/// A token made of `n_bytes` random bytes, as unpadded URL-safe base64 ([A-Za-z0-9_-]) or lower-case
/// hex. Any thread; throws as random_bytes.
std::string random_token(std::size_t n_bytes, TokenEncoding encoding = TokenEncoding::base64url);

}  // namespace tandem
