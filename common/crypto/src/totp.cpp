#include "tandem/crypto/totp.h"

#include <array>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace tandem {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

const EVP_MD* digest_of(TotpHash h) {
    switch (h) {
        case TotpHash::sha1: return EVP_sha1();
        case TotpHash::sha256: return EVP_sha256();
        case TotpHash::sha512: return EVP_sha512();
    }
    return EVP_sha1();
}

std::string_view hash_name(TotpHash h) {
    switch (h) {
        case TotpHash::sha1: return "SHA1";
        case TotpHash::sha256: return "SHA256";
        case TotpHash::sha512: return "SHA512";
    }
    return "SHA1";
}

int value_of(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a';
    if (c >= '2' && c <= '7') return c - '2' + 26;
    return -1;
}

void percent_encode(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                           c == '_' || c == '.' || c == '~';
        if (plain) {
            out += ch;
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0xf];
        }
    }
}

}  // namespace

std::string base32_encode(std::span<const std::byte> bytes) {
    std::string out;
    out.reserve((bytes.size() * 8 + 4) / 5);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (const std::byte b : bytes) {
        buffer = (buffer << 8) | std::to_integer<std::uint32_t>(b);
        bits += 8;
        while (bits >= 5) {
            out += kAlphabet[(buffer >> (bits - 5)) & 0x1f];
            bits -= 5;
        }
    }
    if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 0x1f];
    return out;
}

Result<SecretBuffer> base32_decode(std::string_view text) {
    std::size_t symbols = 0;
    for (const char c : text)
        if (c != ' ' && c != '=') ++symbols;
    SecretBuffer out(symbols * 5 / 8);
    auto bytes = out.mutable_bytes();
    std::uint32_t buffer = 0;
    int bits = 0;
    std::size_t n = 0;
    for (const char c : text) {
        if (c == ' ' || c == '=') continue;
        const int v = value_of(c);
        if (v < 0) return fail(ErrorCode::parse, "not base32 (A-Z, 2-7)");
        buffer = ((buffer << 5) | static_cast<std::uint32_t>(v)) & 0xfff;  // at most 12 live bits
        bits += 5;
        if (bits >= 8) {
            bytes[n++] = static_cast<std::byte>((buffer >> (bits - 8)) & 0xff);
            bits -= 8;
        }
    }
    // Leftover bits must be the zero padding of the last symbol, or the text was cut or altered.
    if ((buffer & ((1u << bits) - 1)) != 0) return fail(ErrorCode::parse, "base32 has non-zero trailing bits");
    return out;
}

std::string hotp_code(std::span<const std::byte> key, std::uint64_t counter, const TotpParams& params) {
    std::array<unsigned char, 8> message{};
    for (int i = 7; i >= 0; --i) {
        message[static_cast<std::size_t>(i)] = static_cast<unsigned char>(counter & 0xff);
        counter >>= 8;
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int mac_len = 0;
    if (HMAC(digest_of(params.hash), key.data(), static_cast<int>(key.size()), message.data(), message.size(),
             mac.data(), &mac_len) == nullptr)
        throw std::runtime_error("HMAC failed");  // broken invariant: OpenSSL itself failed
    const unsigned offset = mac[mac_len - 1] & 0x0f;
    std::uint32_t binary = (static_cast<std::uint32_t>(mac[offset] & 0x7f) << 24) |
                           (static_cast<std::uint32_t>(mac[offset + 1]) << 16) |
                           (static_cast<std::uint32_t>(mac[offset + 2]) << 8) | mac[offset + 3];
    OPENSSL_cleanse(mac.data(), mac.size());
    std::string code(static_cast<std::size_t>(params.digits), '0');
    for (int i = params.digits - 1; i >= 0; --i) {
        code[static_cast<std::size_t>(i)] = static_cast<char>('0' + binary % 10);
        binary /= 10;
    }
    return code;
}

std::int64_t totp_step(std::int64_t unix_seconds, const TotpParams& params) {
    // Floor division: times before 1970 are not expected, but must not round toward zero.
    const auto s = params.step_seconds;
    return unix_seconds >= 0 ? unix_seconds / s : -((-unix_seconds + s - 1) / s);
}

std::string totp_code(std::span<const std::byte> key, std::int64_t unix_seconds, const TotpParams& params) {
    return hotp_code(key, static_cast<std::uint64_t>(totp_step(unix_seconds, params)), params);
}

std::optional<std::int64_t> totp_verify(std::span<const std::byte> key, std::string_view code,
                                        std::int64_t unix_seconds, std::int64_t last_used_step,
                                        const TotpParams& params) {
    if (code.size() != static_cast<std::size_t>(params.digits)) return std::nullopt;
    for (const char c : code)
        if (c < '0' || c > '9') return std::nullopt;
    const std::int64_t now = totp_step(unix_seconds, params);
    std::optional<std::int64_t> matched;
    // Every step of the window is computed and compared, matched or not, so timing says nothing
    // about which step (if any) the code belongs to.
    for (std::int64_t step = now - params.window; step <= now + params.window; ++step) {
        if (step < 0) continue;
        const std::string expected = hotp_code(key, static_cast<std::uint64_t>(step), params);
        const bool same = CRYPTO_memcmp(expected.data(), code.data(), code.size()) == 0;
        if (same && step > last_used_step && !matched) matched = step;
    }
    return matched;
}

std::string totp_uri(std::string_view issuer, std::string_view account, std::string_view secret_base32,
                     const TotpParams& params) {
    std::string uri = "otpauth://totp/";
    percent_encode(uri, issuer);
    uri += ':';
    percent_encode(uri, account);
    uri += "?secret=";
    uri += secret_base32;
    uri += "&issuer=";
    percent_encode(uri, issuer);
    uri += "&algorithm=";
    uri += hash_name(params.hash);
    uri += "&digits=" + std::to_string(params.digits);
    uri += "&period=" + std::to_string(params.step_seconds);
    return uri;
}

}  // namespace tandem
