#pragma once
// Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP, HMAC via OpenSSL) and the base32
// text (RFC 4648) authenticator apps use for secrets. The clinician login's second factor.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "tandem/crypto/secret_buffer.h"
#include "tandem/domain/error.h"

namespace tandem {

enum class TotpHash { sha1, sha256, sha512 };

/// The shape of the codes. Defaults are what every authenticator app assumes (RFC 6238's
/// SHA-1, 30 s steps, 6 digits); the otpauth URI states them anyway.
struct TotpParams {
    TotpHash hash = TotpHash::sha1;
    std::int64_t step_seconds = 30;
    int digits = 6;   ///< 6 to 8
    int window = 1;   ///< steps accepted either side of now (clock skew)
};

/// RFC 4648 base32, upper case, without padding. Any thread.
std::string base32_encode(std::span<const std::byte> bytes);
/// Decodes base32 (either case; spaces and '=' padding ignored) into a self-wiping buffer.
/// Errors: parse (a character outside A-Z2-7, or trailing bits that are not zero). Any thread.
Result<SecretBuffer> base32_decode(std::string_view text);

/// The HOTP value (RFC 4226, dynamic truncation) of `counter` as `digits` decimal digits with
/// leading zeros. Any thread; throws std::runtime_error only if OpenSSL fails.
std::string hotp_code(std::span<const std::byte> key, std::uint64_t counter, const TotpParams& params = {});

/// The time step of a Unix time (seconds since 1970, UTC). Any thread.
std::int64_t totp_step(std::int64_t unix_seconds, const TotpParams& params = {});

/// The TOTP code for a Unix time. Any thread.
std::string totp_code(std::span<const std::byte> key, std::int64_t unix_seconds, const TotpParams& params = {});

/// Checks `code` against the steps within params.window of `unix_seconds`, refusing any step
/// at or before `last_used_step` (a code is good once). Returns the matching step, or nullopt
/// when none matches (wrong length, non-digits, wrong code or replay). Compares in constant
/// time per step. Any thread.
std::optional<std::int64_t> totp_verify(std::span<const std::byte> key, std::string_view code,
                                        std::int64_t unix_seconds, std::int64_t last_used_step = -1,
                                        const TotpParams& params = {});

/// "otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30",
/// with issuer and account percent-encoded, for authenticator apps. Any thread.
std::string totp_uri(std::string_view issuer, std::string_view account, std::string_view secret_base32,
                     const TotpParams& params = {});

}  // namespace tandem
