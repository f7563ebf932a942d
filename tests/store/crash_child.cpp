// Helper for the crash-consistency test: appends events in a loop from several threads and
// writes each acknowledged seq as one line to stdout (a pipe to the parent). The parent SIGKILLs
// it at a random moment. Usage: store_crash_child <db> <64-hex key>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tandem/crypto/hash.h"
#include "tandem/crypto/random.h"
#include "tandem/store/sqlcipher_store.h"

using namespace tandem;

int main(int argc, char** argv) {
    if (argc != 3) return 2;
    auto hex = from_hex(argv[2]);
    if (!hex || hex->size() != 32) return 2;
    auto key = SecretBuffer::copy_of(std::as_bytes(std::span<const std::uint8_t>(*hex)));
    auto opened = SqlcipherStore::open(argv[1], key.bytes());
    if (!opened) {
        std::fprintf(stderr, "open: %s\n", opened.error().describe().c_str());
        return 3;
    }
    auto& store = **opened;
    std::mutex out_mutex;
    auto report = [&](std::int64_t seq) {
        const std::string line = std::to_string(seq) + "\n";
        std::lock_guard lock(out_mutex);
        // One write per line, well under PIPE_BUF: a line reaches the parent whole or not at all.
        if (::write(STDOUT_FILENO, line.data(), line.size()) < 0) std::_Exit(4);
    };
    const std::string run = random_token(6, TokenEncoding::hex);
    {
        NewEvent reg;
        reg.type = EventType::patient_registered;
        reg.patient_id = "p-" + run;
        reg.actor = {ActorKind::system, std::nullopt};
        reg.payload = {{"id", "p-" + run}, {"display_name", "crash"}, {"assigned_therapist_id", "ther-a"}};
        auto r = store.append(reg);
        if (!r) return 5;
        report(r->event.seq);
    }
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t) {
        writers.emplace_back([&, t] {
            for (long i = 0;; ++i) {
                NewEvent m;
                m.type = EventType::message_appended;
                m.patient_id = "p-" + run;
                m.actor = {ActorKind::patient, "p-" + run};
                m.payload = {{"id", run + "-" + std::to_string(t) + "-" + std::to_string(i)},
                             {"conversation_id", "c-" + run}, {"sender", "patient"},
                             {"text", std::string(200, 'x')}, {"state", "delivered"}};
                if (i % 3 == 0) {
                    std::vector<NewEvent> batch{m, m};
                    batch[1].payload["id"] = batch[1].payload["id"].get<std::string>() + "b";
                    auto r = store.append_batch(std::move(batch));
                    if (!r) std::_Exit(6);
                    for (const auto& a : *r) report(a.event.seq);
                } else {
                    auto r = store.append(std::move(m));
                    if (!r) std::_Exit(6);
                    report(r->event.seq);
                }
            }
        });
    }
    for (auto& w : writers) w.join();
}
