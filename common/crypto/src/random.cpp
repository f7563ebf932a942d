#include "tandem/crypto/random.h"

#include <openssl/rand.h>

#include <climits>
#include <stdexcept>

#include "tandem/crypto/hash.h"

namespace tandem {

namespace {

void fill(void* out, std::size_t n) {
    auto* p = static_cast<unsigned char*>(out);
    // RAND_bytes takes an int length; feed large requests in chunks.
    while (n > 0) {
        const int chunk = n > static_cast<std::size_t>(INT_MAX) ? INT_MAX : static_cast<int>(n);
        if (RAND_bytes(p, chunk) != 1) throw std::runtime_error("OpenSSL: RAND_bytes failed");
        p += chunk;
        n -= static_cast<std::size_t>(chunk);
    }
}

std::string base64url(std::span<const std::uint8_t> bytes) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    out.reserve((bytes.size() * 4 + 2) / 3);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
        out.push_back(alphabet[(v >> 6) & 63]);
        out.push_back(alphabet[v & 63]);
    }
    const std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        const std::uint32_t v = std::uint32_t{bytes[i]} << 16;
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
    } else if (rest == 2) {
        const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8);
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
        out.push_back(alphabet[(v >> 6) & 63]);
    }
    return out;
}

}  // namespace

std::vector<std::uint8_t> random_bytes(std::size_t n) {
    std::vector<std::uint8_t> out(n);
    if (n > 0) fill(out.data(), n);
    return out;
}

SecretBuffer random_secret(std::size_t n) {
    SecretBuffer out(n);
    if (n > 0) fill(out.mutable_bytes().data(), n);
    return out;
}

std::string random_token(std::size_t n_bytes, TokenEncoding encoding) {
    const auto bytes = random_bytes(n_bytes);
    return encoding == TokenEncoding::hex ? to_hex(std::span<const std::uint8_t>(bytes)) : base64url(bytes);
}

}  // namespace tandem
