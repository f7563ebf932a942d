#pragma once
// SHA-256 (OpenSSL) and hex text, for the event log's hash chain and key files.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/domain/error.h"

namespace tandem {

using Sha256Digest = std::array<std::uint8_t, 32>;

/// SHA-256 of `bytes`. Any thread; throws std::runtime_error only if OpenSSL itself fails.
Sha256Digest sha256(std::span<const std::byte> bytes);
/// SHA-256 of the bytes of `text` (no terminator). Any thread.
Sha256Digest sha256(std::string_view text);

/// Incremental SHA-256, for hashing pieces without concatenating them. One thread per object.
class Sha256 {
public:
    /// Starts a fresh digest; throws std::runtime_error if OpenSSL cannot allocate one.
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    Sha256(Sha256&&) noexcept;
    Sha256& operator=(Sha256&&) noexcept;

    /// Adds bytes; returns *this for chaining.
    Sha256& update(std::span<const std::byte> bytes);
    /// Adds the bytes of `text`.
    Sha256& update(std::string_view text);
    /// Finishes and returns the digest; the object then starts over, empty.
    Sha256Digest finish();

private:
    struct Ctx;
    std::unique_ptr<Ctx> ctx_;
};

/// Lower-case hex text of `bytes` (two characters per byte). Any thread.
std::string to_hex(std::span<const std::uint8_t> bytes);
/// Lower-case hex text of `bytes`. Any thread.
std::string to_hex(std::span<const std::byte> bytes);
/// Lower-case hex text of a digest (64 characters). Any thread.
std::string to_hex(const Sha256Digest& digest);
/// Decodes hex (either case); ErrorCode::parse on odd length or a non-hex character. Any thread.
Result<std::vector<std::uint8_t>> from_hex(std::string_view hex);

/// Views text as bytes without copying (for hashing, writing). Any thread.
inline std::span<const std::byte> as_bytes(std::string_view text) noexcept {
    return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

}  // namespace tandem
