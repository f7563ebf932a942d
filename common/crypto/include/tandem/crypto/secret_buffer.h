#pragma once
// Key material (store keys, passphrases) lives only in a SecretBuffer: it wipes itself with
// OPENSSL_cleanse when destroyed or moved from, cannot be copied by accident, and is handed
// on as std::span<const std::byte>, never as a std::string that would leave copies behind.

#include <cstddef>
#include <span>
#include <string_view>

namespace tandem {

class SecretBuffer {
public:
    /// An empty buffer. Any thread.
    SecretBuffer() noexcept = default;
    /// A zero-filled buffer of `size` bytes; throws std::bad_alloc. Any thread.
    explicit SecretBuffer(std::size_t size);
    /// A buffer holding a copy of `bytes` (the caller wipes its own copy). Any thread.
    static SecretBuffer copy_of(std::span<const std::byte> bytes);
    /// A buffer holding a copy of a passphrase's bytes; prefer reading straight into a buffer. Any thread.
    static SecretBuffer copy_of(std::string_view text);

    /// Wipes and frees. Never throws.
    ~SecretBuffer();
    SecretBuffer(const SecretBuffer&) = delete;
    SecretBuffer& operator=(const SecretBuffer&) = delete;
    /// Takes `other`'s bytes; `other` is left empty. Never throws.
    SecretBuffer(SecretBuffer&& other) noexcept;
    /// Wipes this buffer's bytes, then takes `other`'s. Never throws.
    SecretBuffer& operator=(SecretBuffer&& other) noexcept;

    /// Read-only view of the bytes; valid until this buffer is wiped, moved or destroyed. Same thread as owner.
    std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }
    /// Writable view, for filling the buffer in place. Same thread as owner.
    std::span<std::byte> mutable_bytes() noexcept { return {data_, size_}; }
    /// Number of bytes held. Any thread that may read the buffer.
    std::size_t size() const noexcept { return size_; }
    /// True when no bytes are held.
    bool empty() const noexcept { return size_ == 0; }
    /// Overwrites every byte with zeros now (the size is kept). Never throws.
    void wipe() noexcept;
    /// Constant-time comparison of contents (sizes may leak). Never throws.
    bool equals(std::span<const std::byte> other) const noexcept;

private:
    void release() noexcept;

    std::byte* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace tandem
