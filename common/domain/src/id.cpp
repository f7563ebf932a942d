#include "tandem/domain/id.h"

#include <pthread.h>
#include <sys/random.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace tandem {

bool is_valid_id(std::string_view text) noexcept {
    if (text.empty() || text.size() > 64) return false;
    for (char c : text) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                        c == '_' || c == '.' || c == '-';
        if (!ok) return false;
    }
    return true;
}

namespace {

// Ids draw their random bits from a per-thread buffer of the kernel's CSPRNG output, refilled by
// one getrandom() call per 2 KiB (about 200 ids). Rejected: a syscall or OpenSSL RAND_bytes per
// id (RAND_bytes was 2.2% of the bridge's CPU at 1,000 msg/s, every id taking its DRBG lock and
// a generate call), and a per-thread PRNG seeded once (cheap too, but its later outputs follow
// from earlier ones; nothing needs ids to be secret, yet the buffer keeps them unguessable for
// the same cost).
constexpr std::size_t pool_size = 2048;

struct RandomPool {
    std::array<std::uint8_t, pool_size> bytes{};
    std::size_t used = pool_size;  // empty until the first draw
    unsigned generation = 0;
};

// A forked child inherits its parent's buffers; without this the two would hand out the same
// ids. Bumped in the child by pthread_atfork, checked (one relaxed load) on every draw.
std::atomic<unsigned> fork_generation{1};

void on_fork_child() { fork_generation.fetch_add(1, std::memory_order_relaxed); }

void fill_from_kernel(std::uint8_t* out, std::size_t n) {
    while (n > 0) {
        const ssize_t got = getrandom(out, n, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error("getrandom failed");  // broken invariant: no entropy source
        }
        out += got;
        n -= static_cast<std::size_t>(got);
    }
}

void random_fill(std::uint8_t* out, std::size_t n) {
    static const bool registered = [] { return pthread_atfork(nullptr, nullptr, on_fork_child) == 0; }();
    (void)registered;
    thread_local RandomPool pool;
    const unsigned generation = fork_generation.load(std::memory_order_relaxed);
    if (pool.used + n > pool.bytes.size() || pool.generation != generation) {
        fill_from_kernel(pool.bytes.data(), pool.bytes.size());
        pool.used = 0;
        pool.generation = generation;
    }
    std::memcpy(out, pool.bytes.data() + pool.used, n);
    // Wiped once handed out, so a later memory disclosure does not reveal ids already made.
    std::memset(pool.bytes.data() + pool.used, 0, n);
    pool.used += n;
}

std::string uuid_text(const std::array<std::uint8_t, 16>& b) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out(36, '-');
    std::size_t o = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) ++o;  // the dash already there
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 0x0F];
    }
    return out;
}

}  // namespace

std::string new_uuid_v4() {
    std::array<std::uint8_t, 16> b{};
    random_fill(b.data(), b.size());
    b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x40);  // version 4
    b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
    return uuid_text(b);
}

std::string new_uuid_v7() {
    // RFC 9562 section 6.2 method 3: the 12 bits after the version hold the sub-millisecond
    // fraction, so ids made on different threads within one millisecond still mostly sort by
    // time. Rejected: a per-thread counter there (method 1): it orders one thread's ids
    // strictly but not the threads' among themselves, which is what the index sees.
    const auto ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
    const std::uint64_t ms = ns / 1'000'000;
    const std::uint64_t sub = ((ns % 1'000'000) << 12) / 1'000'000;  // 0..4095
    std::array<std::uint8_t, 16> b{};
    random_fill(b.data() + 8, 8);
    for (std::size_t i = 0; i < 6; ++i) b[i] = static_cast<std::uint8_t>(ms >> (40 - 8 * i));
    b[6] = static_cast<std::uint8_t>(0x70 | (sub >> 8));       // version 7, fraction's top 4 bits
    b[7] = static_cast<std::uint8_t>(sub & 0xFF);
    b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);    // RFC 9562 variant
    return uuid_text(b);
}

}  // namespace tandem
