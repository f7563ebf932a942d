#include "cache_key.h"

#include <argon2.h>
#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "tandem/crypto/hash.h"
#include "tandem/crypto/random.h"

namespace tandem::clinician::cache_key {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kFormat = 1;  // of cache.key
constexpr std::string_view kCheckLabel = "tandem clinician cache key check v1";

SecretBuffer derive_key(std::string_view password, const KeyFile& k) {
    SecretBuffer key(32);
    const int rc = argon2id_hash_raw(k.kdf.t_cost, k.kdf.m_cost_kib, k.kdf.parallelism, password.data(), password.size(),
                                     k.salt.data(), k.salt.size(), key.mutable_bytes().data(), key.size());
    if (rc != ARGON2_OK) throw std::runtime_error(std::string("argon2: ") + argon2_error_message(rc));
    return key;
}

// A labelled hash of the key, not the key: it proves a password without opening the database,
// so a wrong one changes nothing (a failed SQLCipher open cannot tell wrong key from damage).
std::string check_of(const SecretBuffer& key) {
    Sha256 h;
    h.update(kCheckLabel);
    h.update(key.bytes());
    return to_hex(h.finish());
}

}  // namespace

NewKey new_key(std::string_view password, const CacheKdf& kdf) {
    NewKey out;
    out.file.kdf = kdf;
    out.file.salt = random_bytes(16);
    out.key = derive_key(password, out.file);
    out.file.check_hex = check_of(out.key);
    return out;
}

Result<SecretBuffer> unlock(std::string_view password, const KeyFile& file, const fs::path& db_path) {
    SecretBuffer key = derive_key(password, file);
    if (check_of(key) != file.check_hex) {
        return fail(ErrorCode::wrong_key, "the password does not open this computer's offline cache (" +
                                              db_path.string() + "); nothing was changed");
    }
    return key;
}

// Not secret (a salt and a check of a 256-bit key), but owner-only like everything of the app's.
Result<void> write(const fs::path& path, const KeyFile& k) {
    const json j{{"format", kFormat}, {"kdf", "argon2id"}, {"t_cost", k.kdf.t_cost}, {"m_cost_kib", k.kdf.m_cost_kib},
                 {"parallelism", k.kdf.parallelism}, {"salt", to_hex(std::span<const std::uint8_t>(k.salt))},
                 {"check", k.check_hex}};
    const std::string text = j.dump() + "\n";
    const fs::path tmp = path.string() + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return fail(ErrorCode::io, "cannot write " + tmp.string());
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    std::error_code ec;
    if (!ok) {
        fs::remove(tmp, ec);
        return fail(ErrorCode::io, "cannot write " + tmp.string());
    }
    fs::rename(tmp, path, ec);
    if (ec) return fail(ErrorCode::io, "cannot rename " + tmp.string() + ": " + ec.message());
    return {};
}

std::optional<KeyFile> read(const fs::path& path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::stringstream ss;
    ss << in.rdbuf();
    const json j = json::parse(ss.str(), nullptr, false);
    if (!j.is_object() || j.value("format", 0) != kFormat || j.value("kdf", std::string{}) != "argon2id") {
        return std::nullopt;
    }
    KeyFile k;
    try {
        k.kdf.t_cost = j.at("t_cost").get<std::uint32_t>();
        k.kdf.m_cost_kib = j.at("m_cost_kib").get<std::uint32_t>();
        k.kdf.parallelism = j.at("parallelism").get<std::uint32_t>();
        auto salt = from_hex(j.at("salt").get<std::string>());
        if (!salt || salt->size() < 16) return std::nullopt;
        k.salt = std::move(*salt);
        k.check_hex = j.at("check").get<std::string>();
    } catch (const json::exception&) {
        return std::nullopt;
    }
    if (k.check_hex.size() != 64 || k.kdf.t_cost == 0 || k.kdf.m_cost_kib < 8 || k.kdf.parallelism == 0) {
        return std::nullopt;
    }
    return k;
}

}  // namespace tandem::clinician::cache_key
