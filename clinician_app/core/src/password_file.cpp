#include "tandem/clinician/password_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace tandem::clinician {

Result<SecretBuffer> read_password_file(const std::filesystem::path& path) {
    const std::string name = path.string();
    // Opened first and checked through the descriptor (fstat), so the file checked is the file
    // read; O_NOFOLLOW refuses a symlink someone else could point elsewhere.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return fail(ErrorCode::io, "cannot open the password file " + name + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return fail(ErrorCode::permission_denied, "the password file " + name + " is not a regular file");
    }
    if (st.st_uid != ::getuid()) {
        ::close(fd);
        return fail(ErrorCode::permission_denied, "the password file " + name + " belongs to another user");
    }
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        ::close(fd);
        return fail(ErrorCode::permission_denied,
                    "the password file " + name + " may be read by others; refusing it (chmod 600 " + name + ")");
    }
    SecretBuffer content(4096);
    std::size_t used = 0;
    while (used < content.size()) {
        const auto n = ::read(fd, content.mutable_bytes().data() + used, content.size() - used);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            ::close(fd);
            return fail(ErrorCode::io, "cannot read the password file " + name);
        }
        if (n == 0) break;
        used += static_cast<std::size_t>(n);
    }
    ::close(fd);
    std::size_t len = 0;
    while (len < used && content.bytes()[len] != std::byte{'\n'} && content.bytes()[len] != std::byte{'\r'}) ++len;
    if (len == 0) return fail(ErrorCode::invalid_argument, "the password file " + name + " has an empty first line");
    return SecretBuffer::copy_of(content.bytes().first(len));
}

}  // namespace tandem::clinician
