// bench_store: events/s appended durably (each append returns only after its transaction is
// fsynced) with 500-byte payloads from 1, 8 and 64 concurrent writers, then read back through
// read_after, for an encrypted store (raw 32-byte key) and an unencrypted one (same library,
// same schema, no key). Prints one line per run and the encrypted/plain time ratios.
//
// It also measures the disk's raw fsync rate: with one append in flight per writer, a group
// commit holds at most `writers` events, so writers x fsyncs/s is the ceiling for any durable
// store on this disk. A last row lets each writer append_batch several events at once.
//
// Usage: bench_store [--events N] [--single-events N] [--dir DIR] [--writers 1,8,64] [--rounds R]
//                    [--batch B]   (the batched row: 64 writers, B events per append_batch; 0 skips it)
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "tandem/crypto/random.h"
#include "tandem/store/sqlcipher_store.h"

using namespace tandem;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
    int events = 20000;        // per run with several writers
    int single_events = 2000;  // per run with one writer: each append pays a whole fsync
    fs::path dir = fs::temp_directory_path();
    std::vector<int> writers{1, 8, 64};
    int rounds = 1;
    int batch = 16;
};

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        const std::string v = argv[i + 1];
        if (k == "--events") a.events = std::stoi(v);
        else if (k == "--single-events") a.single_events = std::stoi(v);
        else if (k == "--dir") a.dir = v;
        else if (k == "--rounds") a.rounds = std::stoi(v);
        else if (k == "--batch") a.batch = std::stoi(v);
        else if (k == "--writers") {
            a.writers.clear();
            std::size_t start = 0;
            while (start <= v.size()) {
                const auto comma = v.find(',', start);
                a.writers.push_back(std::stoi(v.substr(start, comma - start)));
                if (comma == std::string::npos) break;
                start = comma + 1;
            }
        } else {
            std::fprintf(stderr, "unknown option %s\n", k.c_str());
            std::exit(2);
        }
    }
    return a;
}

NewEvent message(int writer, int i, const std::string& text) {
    NewEvent e;
    e.type = EventType::message_appended;
    e.patient_id = "p" + std::to_string(writer);
    e.actor = {ActorKind::patient, *e.patient_id};
    e.payload = {{"id", "m" + std::to_string(writer) + "-" + std::to_string(i)},
                 {"conversation_id", "c" + std::to_string(writer)},
                 {"patient_id", *e.patient_id},
                 {"sender", "patient"},
                 {"state", "delivered"},
                 {"created_at", "2026-11-26T03:06:19.123Z"},
                 {"text", text}};
    return e;
}

// Process CPU seconds (user + system), all threads: unlike wall time, barely moved by other
// processes sharing the two cores.
double cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct Figures {
    double append_seconds = 0;
    double append_per_s = 0;
    double read_per_s = 0;
    long long events = 0;
    double append_cpu_us = 0;  // process CPU per appended event
    double read_cpu_us = 0;    // process CPU per event read back
    double events_per_commit = 0;
};

// 4 KiB write + fdatasync at the start of a file, 200 times: what one WAL commit costs at least.
double fsyncs_per_second(const fs::path& dir) {
    const auto path = dir / ("bench-fsync-" + random_token(6, TokenEncoding::hex));
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return 0;
    char page[4096] = {};
    const int n = 200;
    const auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
        if (::pwrite(fd, page, sizeof page, 0) != static_cast<ssize_t>(sizeof page) || ::fdatasync(fd) != 0) break;
    }
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    ::close(fd);
    fs::remove(path);
    return n / s;
}

Figures run(const Args& args, bool encrypted, int writers, int batch = 1) {
    const fs::path path = args.dir / ("bench-store-" + random_token(6, TokenEncoding::hex) + ".db");
    const auto key = random_secret(32);
    SqlcipherStoreOptions options;
    options.key_kind = encrypted ? StoreKeyKind::raw_key : StoreKeyKind::unencrypted;
    auto opened = SqlcipherStore::open(path, encrypted ? key.bytes() : std::span<const std::byte>{}, options);
    if (!opened) {
        std::fprintf(stderr, "open: %s\n", opened.error().describe().c_str());
        std::exit(1);
    }
    auto& store = **opened;
    for (int w = 0; w < writers; ++w) {
        NewEvent reg;
        reg.type = EventType::patient_registered;
        reg.patient_id = "p" + std::to_string(w);
        reg.payload = {{"id", *reg.patient_id}, {"display_name", "Bench"}, {"assigned_therapist_id", "t1"}};
        if (!store.append(reg)) std::exit(1);
    }
    // Text sized so the payload's JSON is 500 bytes.
    const std::string probe = message(0, 0, "").payload.dump();
    const std::string text(500 - probe.size(), 'x');
    const int total = writers == 1 ? args.single_events : args.events;
    const int per_writer = total / writers / batch * batch;

    const auto stats0 = store.stats();
    const double c0 = cpu_seconds();
    const auto t0 = Clock::now();
    std::vector<std::thread> pool;
    for (int w = 0; w < writers; ++w) {
        pool.emplace_back([&, w] {
            for (int i = 0; i < per_writer; i += batch) {
                bool ok = true;
                if (batch == 1) {
                    ok = store.append(message(w, i, text)).has_value();
                } else {
                    std::vector<NewEvent> events;
                    for (int j = 0; j < batch; ++j) events.push_back(message(w, i + j, text));
                    ok = store.append_batch(std::move(events)).has_value();
                }
                if (!ok) {
                    std::fprintf(stderr, "append failed\n");
                    std::exit(1);
                }
            }
        });
    }
    for (auto& t : pool) t.join();
    const double append_s = std::chrono::duration<double>(Clock::now() - t0).count();
    const double append_cpu = cpu_seconds() - c0;
    const auto stats1 = store.stats();

    const Principal supervisor{"s1", false, true, false};
    const double rc0 = cpu_seconds();
    const auto r0 = Clock::now();
    long long read = 0;
    std::int64_t cursor = 0;
    for (;;) {
        auto page = store.read_after(cursor, supervisor, 1000);
        if (!page) std::exit(1);
        if (page->empty()) break;
        read += static_cast<long long>(page->size());
        cursor = page->back().seq;
    }
    const double read_s = std::chrono::duration<double>(Clock::now() - r0).count();
    const double read_cpu = cpu_seconds() - rc0;

    Figures f;
    f.events = static_cast<long long>(per_writer) * writers;
    f.append_seconds = append_s;
    f.append_per_s = static_cast<double>(f.events) / append_s;
    f.read_per_s = static_cast<double>(read) / read_s;
    f.append_cpu_us = append_cpu * 1e6 / static_cast<double>(f.events);
    f.read_cpu_us = read_cpu * 1e6 / static_cast<double>(read);
    f.events_per_commit = static_cast<double>(stats1.events_appended - stats0.events_appended) /
                          static_cast<double>(std::max<std::uint64_t>(1, stats1.commits - stats0.commits));
    opened->reset();
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path.string() + suffix, ec);
    return f;
}

}  // namespace

int main(int argc, char** argv) {
    const Args args = parse(argc, argv);
    std::printf("bench_store: durable appends (WAL, synchronous=FULL, group commit), 500-byte payloads\n");
    std::printf("dir %s, %u hardware threads\n", args.dir.c_str(), std::thread::hardware_concurrency());
    const double fsync_rate = fsyncs_per_second(args.dir);
    std::printf("raw disk: %.0f fsyncs/s (4 KiB pwrite + fdatasync); ceiling with 64 writers = %.0f ev/s\n\n",
                fsync_rate, 64 * fsync_rate);
    std::printf("%-10s %8s %8s %10s %12s %12s %14s %12s %10s\n", "mode", "writers", "events", "append s",
                "append ev/s", "read ev/s", "append cpu us", "read cpu us", "ev/commit");
    // Best of `rounds` per cell; modes interleaved so background load hits both alike.
    std::map<std::pair<int, bool>, Figures> best;
    for (int round = 0; round < args.rounds; ++round) {
        for (int w : args.writers) {
            for (bool encrypted : {true, false}) {
                const auto f = run(args, encrypted, w);
                std::printf("%-10s %8d %8lld %10.3f %12.0f %12.0f %14.1f %12.1f %10.1f\n", encrypted ? "encrypted" : "plain", w,
                            f.events, f.append_seconds, f.append_per_s, f.read_per_s, f.append_cpu_us, f.read_cpu_us,
                            f.events_per_commit);
                std::fflush(stdout);
                auto& b = best[{w, encrypted}];
                if (b.events == 0 || f.append_per_s > b.append_per_s) b.append_per_s = f.append_per_s, b.events = f.events;
                b.read_per_s = std::max(b.read_per_s, f.read_per_s);
            }
        }
        if (args.batch > 1) {
            for (bool encrypted : {true, false}) {
                Args more = args;
                more.events = args.events * 4;  // so each writer still makes dozens of batches
                const auto f = run(more, encrypted, 64, args.batch);
                std::printf("%-10s %5dx%-2d %8lld %10.3f %12.0f %12.0f %14.1f %12.1f %10.1f\n", encrypted ? "encrypted" : "plain",
                            64, args.batch, f.events, f.append_seconds, f.append_per_s, f.read_per_s, f.append_cpu_us,
                            f.read_cpu_us, f.events_per_commit);
                std::fflush(stdout);
                auto& b = best[{-1, encrypted}];
                if (b.events == 0 || f.append_per_s > b.append_per_s) b.append_per_s = f.append_per_s, b.events = f.events;
                b.read_per_s = std::max(b.read_per_s, f.read_per_s);
            }
        }
    }
    std::printf("\nbest of %d round(s); ratio = encrypted time / plain time\n", args.rounds);
    std::printf("%8s %16s %16s %12s %14s %14s %12s\n", "writers", "enc append ev/s", "plain append ev/s", "append ratio",
                "enc read ev/s", "plain read ev/s", "read ratio");
    auto rows = args.writers;
    if (args.batch > 1) rows.push_back(-1);
    for (int w : rows) {
        const auto& e = best[{w, true}];
        const auto& p = best[{w, false}];
        if (w == -1) {
            std::printf("%5dx%-2d", 64, args.batch);
        } else {
            std::printf("%8d", w);
        }
        std::printf(" %16.0f %16.0f %12.2f %14.0f %14.0f %12.2f\n", e.append_per_s, p.append_per_s,
                    p.append_per_s / e.append_per_s, e.read_per_s, p.read_per_s, p.read_per_s / e.read_per_s);
    }
    return 0;
}
