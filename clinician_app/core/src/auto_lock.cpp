#include "tandem/clinician/auto_lock.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace tandem::clinician {
namespace {

// Enough to make an offline guess against a memory dump slow, short enough that unlocking
// feels instant (about 20 ms here). The bridge keeps the real Argon2id hash.
constexpr int kIterations = 100'000;

std::array<std::uint8_t, 32> derive(std::string_view password, const std::vector<std::uint8_t>& salt) {
    std::array<std::uint8_t, 32> out{};
    if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(),
                          static_cast<int>(salt.size()), kIterations, EVP_sha256(), static_cast<int>(out.size()),
                          out.data()) != 1) {
        throw std::runtime_error("PBKDF2 failed");
    }
    return out;
}

}  // namespace

void PasswordVerifier::set(std::string_view password) {
    salt_.assign(16, 0);
    if (RAND_bytes(salt_.data(), static_cast<int>(salt_.size())) != 1) throw std::runtime_error("RAND_bytes failed");
    digest_ = derive(password, salt_);
}

bool PasswordVerifier::verify(std::string_view password) const {
    if (salt_.empty()) return false;
    const auto candidate = derive(password, salt_);
    return CRYPTO_memcmp(candidate.data(), digest_.data(), digest_.size()) == 0;
}

void AutoLock::set_idle(std::chrono::minutes idle) { idle_ = std::max(idle, std::chrono::minutes{1}); }

void AutoLock::activity(TimePoint now) {
    if (!locked_) last_activity_ = now;
}

bool AutoLock::tick(TimePoint now) {
    if (locked_) return false;
    if (!last_activity_) {
        last_activity_ = now;
        return false;
    }
    if (now - *last_activity_ >= idle_) {
        locked_ = true;
        return true;
    }
    return false;
}

bool AutoLock::unlock(const PasswordVerifier& verifier, std::string_view password, TimePoint now) {
    if (!locked_) return true;
    if (!verifier.verify(password)) return false;
    locked_ = false;
    last_activity_ = now;
    return true;
}

std::chrono::milliseconds AutoLock::remaining(TimePoint now) const {
    if (locked_ || !last_activity_) return locked_ ? std::chrono::milliseconds{0} : idle_;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*last_activity_ + idle_ - now);
    return std::max(left, std::chrono::milliseconds{0});
}

}  // namespace tandem::clinician
