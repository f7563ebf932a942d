// bench_store: events/s appended durably (each append returns only after its transaction is
// fsynced) with 500-byte payloads from 1, 8 and 64 concurrent writers, then read back through
// read_after, for an encrypted store (raw 32-byte key) and an unencrypted one (same library,
// same schema, no key). Prints one line per run and the encrypted/plain time ratios.
//
// Usage: bench_store [--events N] [--single-events N] [--dir DIR] [--writers 1,8,64] [--rounds R]
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

struct Figures {
    double append_seconds = 0;
    double append_per_s = 0;
    double read_per_s = 0;
    long long events = 0;
};

Figures run(const Args& args, bool encrypted, int writers) {
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
    const int per_writer = total / writers;

    const auto t0 = Clock::now();
    std::vector<std::thread> pool;
    for (int w = 0; w < writers; ++w) {
        pool.emplace_back([&, w] {
            for (int i = 0; i < per_writer; ++i) {
                if (!store.append(message(w, i, text))) {
                    std::fprintf(stderr, "append failed\n");
                    std::exit(1);
                }
            }
        });
    }
    for (auto& t : pool) t.join();
    const double append_s = std::chrono::duration<double>(Clock::now() - t0).count();

    const Principal supervisor{"s1", false, true, false};
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

    Figures f;
    f.events = static_cast<long long>(per_writer) * writers;
    f.append_seconds = append_s;
    f.append_per_s = static_cast<double>(f.events) / append_s;
    f.read_per_s = static_cast<double>(read) / read_s;
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
    std::printf("%-10s %8s %8s %10s %12s %12s\n", "mode", "writers", "events", "append s", "append ev/s", "read ev/s");
    // Best of `rounds` per cell; modes interleaved so background load hits both alike.
    std::map<std::pair<int, bool>, Figures> best;
    for (int round = 0; round < args.rounds; ++round) {
        for (int w : args.writers) {
            for (bool encrypted : {true, false}) {
                const auto f = run(args, encrypted, w);
                std::printf("%-10s %8d %8lld %10.3f %12.0f %12.0f\n", encrypted ? "encrypted" : "plain", w, f.events,
                            f.append_seconds, f.append_per_s, f.read_per_s);
                std::fflush(stdout);
                auto& b = best[{w, encrypted}];
                if (b.events == 0 || f.append_per_s > b.append_per_s) b.append_per_s = f.append_per_s, b.events = f.events;
                b.read_per_s = std::max(b.read_per_s, f.read_per_s);
            }
        }
    }
    std::printf("\nbest of %d round(s); ratio = encrypted time / plain time\n", args.rounds);
    std::printf("%8s %16s %16s %12s %14s %14s %12s\n", "writers", "enc append ev/s", "plain append ev/s", "append ratio",
                "enc read ev/s", "plain read ev/s", "read ratio");
    for (int w : args.writers) {
        const auto& e = best[{w, true}];
        const auto& p = best[{w, false}];
        std::printf("%8d %16.0f %16.0f %12.2f %14.0f %14.0f %12.2f\n", w, e.append_per_s, p.append_per_s,
                    p.append_per_s / e.append_per_s, e.read_per_s, p.read_per_s, p.read_per_s / e.read_per_s);
    }
    return 0;
}
