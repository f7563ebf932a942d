#include "tandem/crypto/hash.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace tandem {

struct Sha256::Ctx {
    EVP_MD_CTX* md = nullptr;
    ~Ctx() { EVP_MD_CTX_free(md); }
};

namespace {

void init(EVP_MD_CTX* md) {
    if (EVP_DigestInit_ex(md, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("OpenSSL: EVP_DigestInit_ex(sha256) failed");
    }
}

}  // namespace

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
    ctx_->md = EVP_MD_CTX_new();
    if (ctx_->md == nullptr) throw std::runtime_error("OpenSSL: EVP_MD_CTX_new failed");
    init(ctx_->md);
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

Sha256& Sha256::update(std::span<const std::byte> bytes) {
    if (!bytes.empty() && EVP_DigestUpdate(ctx_->md, bytes.data(), bytes.size()) != 1) {
        throw std::runtime_error("OpenSSL: EVP_DigestUpdate failed");
    }
    return *this;
}

Sha256& Sha256::update(std::string_view text) { return update(as_bytes(text)); }

Sha256Digest Sha256::finish() {
    Sha256Digest digest{};
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(ctx_->md, digest.data(), &length) != 1 || length != digest.size()) {
        throw std::runtime_error("OpenSSL: EVP_DigestFinal_ex failed");
    }
    init(ctx_->md);
    return digest;
}

Sha256Digest sha256(std::span<const std::byte> bytes) {
    Sha256Digest digest{};
    unsigned int length = 0;
    // One-shot EVP_Digest: no context to manage for the common single-piece case.
    if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 ||
        length != digest.size()) {
        throw std::runtime_error("OpenSSL: EVP_Digest(sha256) failed");
    }
    return digest;
}

Sha256Digest sha256(std::string_view text) { return sha256(as_bytes(text)); }

std::string to_hex(std::span<const std::uint8_t> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (std::uint8_t b : bytes) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 0x0f]);
    }
    return out;
}

std::string to_hex(std::span<const std::byte> bytes) {
    return to_hex(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

std::string to_hex(const Sha256Digest& digest) { return to_hex(std::span<const std::uint8_t>(digest)); }

namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

Result<std::vector<std::uint8_t>> from_hex(std::string_view hex) {
    if (hex.size() % 2 != 0) return fail(ErrorCode::parse, "hex text has an odd number of characters");
    std::vector<std::uint8_t> out;
    out.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        const int hi = hex_value(hex[i]);
        const int lo = hex_value(hex[i + 1]);
        if (hi < 0 || lo < 0) {
            return fail(ErrorCode::parse, "non-hex character at offset " + std::to_string(hi < 0 ? i : i + 1));
        }
        out.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
    }
    return out;
}

}  // namespace tandem
