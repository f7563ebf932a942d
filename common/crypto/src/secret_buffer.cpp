#include "tandem/crypto/secret_buffer.h"

#include <openssl/crypto.h>

#include <cstring>
#include <utility>

namespace tandem {

SecretBuffer::SecretBuffer(std::size_t size) {
    if (size == 0) return;
    // Plain new[] rather than std::vector: a vector may reallocate and leave an unwiped copy behind.
    data_ = new std::byte[size]();
    size_ = size;
}

SecretBuffer SecretBuffer::copy_of(std::span<const std::byte> bytes) {
    SecretBuffer buffer(bytes.size());
    if (!bytes.empty()) std::memcpy(buffer.data_, bytes.data(), bytes.size());
    return buffer;
}

SecretBuffer SecretBuffer::copy_of(std::string_view text) {
    return copy_of(std::as_bytes(std::span<const char>(text.data(), text.size())));
}

SecretBuffer::~SecretBuffer() { release(); }

SecretBuffer::SecretBuffer(SecretBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SecretBuffer& SecretBuffer::operator=(SecretBuffer&& other) noexcept {
    if (this != &other) {
        release();
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

void SecretBuffer::wipe() noexcept {
    // OPENSSL_cleanse, not memset: the compiler may drop a memset of memory about to be freed.
    if (data_ != nullptr) OPENSSL_cleanse(data_, size_);
}

bool SecretBuffer::equals(std::span<const std::byte> other) const noexcept {
    if (other.size() != size_) return false;
    if (size_ == 0) return true;
    return CRYPTO_memcmp(data_, other.data(), size_) == 0;
}

void SecretBuffer::release() noexcept {
    wipe();
    delete[] data_;
    data_ = nullptr;
    size_ = 0;
}

}  // namespace tandem
