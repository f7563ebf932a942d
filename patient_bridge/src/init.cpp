#include "tandem/bridge/init.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "tandem/bridge/accounts.h"
#include "tandem/bridge/config.h"
#include "tandem/bridge/tls_identity.h"
#include "tandem/crypto/key_file.h"
#include "tandem/store/sqlcipher_store.h"

namespace tandem::bridge {
namespace {

Result<void> make_private_dir(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail(ErrorCode::io, "cannot create directory: " + ec.message(), dir.string());
    // 0700: the dir holds the TLS key and (soon) the store key; nobody else needs to list it.
    if (::chmod(dir.c_str(), 0700) != 0) return fail(ErrorCode::io, "cannot set mode 0700", dir.string());
    return {};
}

Result<void> write_file_exclusive(const std::filesystem::path& file, const std::string& text, mode_t mode) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) return fail(errno == EEXIST ? ErrorCode::conflict : ErrorCode::io, "cannot create file", file.string());
    const auto n = ::write(fd, text.data(), text.size());
    const bool ok = n == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return fail(ErrorCode::io, "write failed", file.string());
    return {};
}

}  // namespace

Result<InitResult> init_data_dir(const InitOptions& options) {
    if (options.data_dir.empty()) return fail(ErrorCode::invalid_argument, "a data dir is required", "--data-dir");
    if (!options.password_file.empty() && !std::filesystem::is_regular_file(options.password_file))
        return fail(ErrorCode::io, "password file not found", options.password_file.string());
    // The password is checked before anything is written, so a weak one leaves no half-made dir.
    std::string password = options.admin_password;
    if (password.empty() && !options.password_file.empty()) {
        std::ifstream in(options.password_file);
        std::getline(in, password);
        if (password.empty()) return fail(ErrorCode::invalid_argument, "password file is empty", options.password_file.string());
    }
    if (!password.empty() && password.size() < PasswordPolicy{}.min_length)
        return fail(ErrorCode::invalid_argument,
                    "admin password must be at least " + std::to_string(PasswordPolicy{}.min_length) + " bytes",
                    "password");
    InitResult out;
    out.config_file = options.data_dir / "config.json";
    out.cert_file = options.data_dir / "tls" / "cert.pem";
    out.key_file = options.data_dir / "tls" / "key.pem";
    std::error_code ec;
    if (std::filesystem::exists(out.config_file, ec))
        return fail(ErrorCode::conflict, "already initialised (config.json exists)", options.data_dir.string());
    if (auto r = make_private_dir(options.data_dir); !r) return std::unexpected(r.error());
    if (auto r = make_private_dir(options.data_dir / "tls"); !r) return std::unexpected(r.error());
    if (auto r = create_self_signed_identity(out.cert_file, out.key_file, options.hosts); !r)
        return std::unexpected(r.error());
    BridgeConfig config;
    if (auto r = write_file_exclusive(out.config_file, render_config(config), 0600); !r)
        return std::unexpected(r.error());
    out.store_key_file = options.data_dir / "store.key";
    out.store_file = options.data_dir / "tandem.db";
    if (auto r = create_key_file(out.store_key_file); !r) return std::unexpected(r.error());
    {
        auto key = load_key_file(out.store_key_file);
        if (!key) return std::unexpected(key.error());
        auto store = SqlcipherStore::open(out.store_file, key->bytes());  // creates and migrates
        if (!store) return std::unexpected(store.error());
        if (!password.empty()) {
            AccountDirectory accounts(**store);
            auto admin = accounts.add(options.admin_username, "Administrator", {"admin"}, password, PasswordPolicy{},
                                      Actor{ActorKind::system, std::string("init")});
            if (!admin) return std::unexpected(admin.error());
            out.admin_id = admin->id;
        }
    }
    auto fp = certificate_fingerprint(out.cert_file);
    if (!fp) return std::unexpected(fp.error());
    out.fingerprint = *fp;
    return out;
}

}  // namespace tandem::bridge
