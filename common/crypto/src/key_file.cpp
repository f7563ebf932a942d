#include "tandem/crypto/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "tandem/crypto/random.h"

namespace tandem {

namespace {

std::string errno_text(int err) { return std::strerror(err); }

// Closes a file descriptor on every path out.
class Fd {
public:
    explicit Fd(int fd) noexcept : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const noexcept { return fd_; }
    int release() noexcept {
        const int fd = fd_;
        fd_ = -1;
        return fd;
    }

private:
    int fd_;
};

bool write_all(int fd, const std::byte* data, std::size_t n) {
    while (n > 0) {
        const ssize_t w = ::write(fd, data, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

int hex_digit(std::byte b) noexcept {
    const auto c = static_cast<char>(b);
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

Result<void> create_key_file(const std::filesystem::path& path) {
    const std::string name = path.string();
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::symlink_status(path, ec))) {
        return fail(ErrorCode::conflict, "key file " + name + " already exists; refusing to replace a key");
    }
    // Write a temporary file, fsync it, then link() it into place: link fails if the name exists,
    // so the key appears complete or not at all and never replaces another key. Opening the final
    // name with O_EXCL directly was rejected: a crash mid-write would leave a truncated key file.
    const std::string tmp = name + ".tmp-" + random_token(8, TokenEncoding::hex);
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (fd.get() < 0) return fail(ErrorCode::io, "cannot create key file " + name + ": " + errno_text(errno));
    // umask may have narrowed but never widened 0600; set it exactly anyway.
    ::fchmod(fd.get(), 0600);

    // Hex text is built in a SecretBuffer so no std::string copy of the key is ever made.
    SecretBuffer key = random_secret(key_file_key_size);
    SecretBuffer text(key_file_key_size * 2 + 1);
    static constexpr char digits[] = "0123456789abcdef";
    auto out = text.mutable_bytes();
    const auto in = key.bytes();
    for (std::size_t i = 0; i < in.size(); ++i) {
        const auto b = static_cast<unsigned>(in[i]);
        out[2 * i] = static_cast<std::byte>(digits[b >> 4]);
        out[2 * i + 1] = static_cast<std::byte>(digits[b & 0x0f]);
    }
    out[out.size() - 1] = std::byte{'\n'};

    const bool ok = write_all(fd.get(), text.bytes().data(), text.size()) && ::fsync(fd.get()) == 0;
    const int write_errno = errno;
    ::close(fd.release());
    if (!ok) {
        ::unlink(tmp.c_str());
        return fail(ErrorCode::io, "cannot write key file " + name + ": " + errno_text(write_errno));
    }
    if (::link(tmp.c_str(), name.c_str()) != 0) {
        const int link_errno = errno;
        ::unlink(tmp.c_str());
        if (link_errno == EEXIST) {
            return fail(ErrorCode::conflict, "key file " + name + " already exists; refusing to replace a key");
        }
        return fail(ErrorCode::io, "cannot create key file " + name + ": " + errno_text(link_errno));
    }
    ::unlink(tmp.c_str());
    // Make the new directory entry durable too.
    const auto dir = path.has_parent_path() ? path.parent_path().string() : std::string(".");
    Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd.get() >= 0) ::fsync(dir_fd.get());
    return {};
}

Result<SecretBuffer> load_key_file(const std::filesystem::path& path) {
    const std::string name = path.string();
    Fd fd(::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (fd.get() < 0) {
        const int err = errno;
        if (err == ELOOP) return fail(ErrorCode::permission_denied, "key file " + name + " is a symbolic link; refusing it");
        return fail(ErrorCode::io, "cannot open key file " + name + ": " + errno_text(err));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return fail(ErrorCode::io, "cannot stat key file " + name + ": " + errno_text(errno));
    if (!S_ISREG(st.st_mode)) return fail(ErrorCode::permission_denied, "key file " + name + " is not a regular file");
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return fail(ErrorCode::permission_denied,
                    "key file " + name + " has mode " + mode +
                        ": group or others may access it; run chmod 600 on it");
    }

    // 64 hex digits, optional trailing whitespace; read a little more to notice trailing junk.
    SecretBuffer text(key_file_key_size * 2 + 8);
    std::size_t got = 0;
    auto buf = text.mutable_bytes();
    while (got < buf.size()) {
        const ssize_t r = ::read(fd.get(), buf.data() + got, buf.size() - got);
        if (r < 0) {
            if (errno == EINTR) continue;
            return fail(ErrorCode::io, "cannot read key file " + name + ": " + errno_text(errno));
        }
        if (r == 0) break;
        got += static_cast<std::size_t>(r);
    }
    std::size_t end = got;
    while (end > 0) {
        const auto c = static_cast<char>(buf[end - 1]);
        if (c != '\n' && c != '\r' && c != ' ' && c != '\t') break;
        --end;
    }
    if (end != key_file_key_size * 2 || got == buf.size()) {
        return fail(ErrorCode::parse, "key file " + name + " must hold exactly " +
                                          std::to_string(key_file_key_size * 2) + " hex characters");
    }
    SecretBuffer key(key_file_key_size);
    auto k = key.mutable_bytes();
    for (std::size_t i = 0; i < key_file_key_size; ++i) {
        const int hi = hex_digit(buf[2 * i]);
        const int lo = hex_digit(buf[2 * i + 1]);
        if (hi < 0 || lo < 0) return fail(ErrorCode::parse, "key file " + name + " holds a non-hex character");
        k[i] = static_cast<std::byte>(hi * 16 + lo);
    }
    return key;
}

}  // namespace tandem
