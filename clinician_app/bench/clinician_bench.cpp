// tandem-clinician-bench: the clinician app's presenters and encrypted local cache at issue 6's
// scale (5,000 patients, 50,000 flags, a 20,000-message transcript). Prints figures; it asserts
// nothing (speed targets are checked by reading these, never by timed unit tests).
//
// It first replays a generated feed into a model and saves it to a cache in a temp dir, then
// runs itself again (`--launch DIR`) to measure a launch from that cache in a clean process:
// key derivation, reading the cache, the caseload and flag queue, the large transcript, the
// re-sort, and that process's peak RSS.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <filesystem>
#include <fstream>

#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tandem/clinician/caseload.h"
#include "tandem/clinician/conversation.h"
#include "tandem/clinician/flag_queue.h"
#include "tandem/clinician/local_cache.h"
#include "tandem/clinician/outcome_demo.h"

using namespace tandem;
using namespace tandem::clinician;
using nlohmann::json;

namespace {

double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

StoredEvent event(std::uint64_t seq, const char* type, const std::string& patient_id, json payload, TimePoint t) {
    return parse_stored_event(json{{"seq", seq}, {"id", "e" + std::to_string(seq)}, {"type", type},
                                   {"time", format_utc(t)}, {"patient_id", patient_id},
                                   {"actor", {{"kind", "system"}}}, {"payload", std::move(payload)}})
        .value();
}

constexpr const char* kPassword = "bench password";

double peak_rss_mb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// The high-water mark of this process image's own memory. getrusage's ru_maxrss is kept across
// execve, so a spawned child would report its parent's peak; VmHWM belongs to the new image.
double image_peak_rss_mb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
    }
    return 0;
}

// The app's launch, from the cache alone: what a clinician waits for before the caseload answers.
// What the window needs before it is interactive: the caseload and the flag queue built, and
// the first screenful of caseload cells formatted.
void show_first_screen(const Model& model, CaseloadPresenter& caseload, FlagQueuePresenter& queue, TimePoint now) {
    caseload.refresh(model);
    queue.refresh(model);
    for (std::size_t i = 0; i < std::min<std::size_t>(40, caseload.size()); ++i) {
        for (int c = 0; c < 6; ++c) (void)caseload.cell(i, c, now);
    }
}

int launch(const std::filesystem::path& dir) {
    const auto t0 = std::chrono::steady_clock::now();
    auto start = t0;
    auto cache = LocalCache::open(dir, kPassword);
    if (!cache) {
        std::fprintf(stderr, "cannot open the cache: %s\n", cache.error().message.c_str());
        return 1;
    }
    const double kdf_ms = ms_since(start);
    start = std::chrono::steady_clock::now();
    Model model;
    // As the app does: questionnaires after the first screen.
    if (auto loaded = (*cache)->load(model, /*defer_questionnaires=*/true); !loaded) {
        std::fprintf(stderr, "cannot load the cache: %s\n", loaded.error().message.c_str());
        return 1;
    }
    const double read_ms = ms_since(start);
    start = std::chrono::steady_clock::now();
    const TimePoint now = now_ms();
    CaseloadPresenter caseload;
    FlagQueuePresenter queue;
    show_first_screen(model, caseload, queue, now);
    const double present_ms = ms_since(start);
    const double launch_ms = ms_since(t0);
    start = std::chrono::steady_clock::now();
    if (auto loaded = (*cache)->load_questionnaires(model); !loaded) {
        std::fprintf(stderr, "cannot load the questionnaires: %s\n", loaded.error().message.c_str());
        return 1;
    }
    const double questionnaires_ms = ms_since(start);

    start = std::chrono::steady_clock::now();
    ConversationPresenter conversation;
    conversation.open("p0");
    const auto lines = conversation.lines(model);
    const double transcript_ms = ms_since(start);

    start = std::chrono::steady_clock::now();
    queue.rank();
    const double rerank_ms = ms_since(start);

    std::printf("launch from the encrypted cache (%zu patients, %zu flags, %zu messages, %zu questionnaires; %s):\n",
                model.patients().size(), model.flags().size(), model.transcript("p0").size(),
                model.assessments().all().size(),
                std::to_string(std::filesystem::file_size(dir / "cache.db") / (1024 * 1024)).append(" MB file").c_str());
    std::printf("  derive the key (Argon2id, 64 MiB, t=3) and open:   %8.1f ms\n", kdf_ms);
    std::printf("  read every row into the model:                    %8.1f ms\n", read_ms);
    std::printf("  build caseload and flag queue, first rows:        %8.1f ms\n", present_ms);
    std::printf("  launch to an interactive caseload (sum):          %8.1f ms\n", launch_ms);
    std::printf("  then the cached questionnaires, after first paint: %8.1f ms\n", questionnaires_ms);
    std::printf("  open the large transcript (%zu lines):          %8.1f ms\n", lines.size(), transcript_ms);
    std::printf("  re-sort the flag queue in place:                  %8.1f ms\n", rerank_ms);
    std::printf("  peak RSS of the launched process (VmHWM):         %8.1f MB\n", image_peak_rss_mb());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 3 && std::string(argv[1]) == "--launch") return launch(argv[2]);
    const std::size_t patients = argc > 1 ? std::stoul(argv[1]) : 5000;
    const std::size_t flags = argc > 2 ? std::stoul(argv[2]) : 50000;
    const std::size_t messages = argc > 3 ? std::stoul(argv[3]) : 20000;
    const TimePoint now = now_ms();
    const char* severities[] = {"moderate", "high", "imminent", "low"};

    // Events are built first: their JSON cost is the bridge's, not the app's.
    std::vector<StoredEvent> log;
    std::uint64_t seq = 0;
    for (std::size_t i = 0; i < patients; ++i) {
        const std::string id = "p" + std::to_string(i);
        log.push_back(event(++seq, "patient_registered", id,
                            {{"id", id}, {"display_name", "Patient " + std::to_string(i)},
                             {"assigned_therapist_id", "t" + std::to_string(i % 40)}},
                            now));
    }
    for (std::size_t i = 0; i < messages; ++i) {
        const std::string id = "m" + std::to_string(i);
        json m{{"id", id}, {"patient_id", "p0"}, {"sender", i % 2 ? "ai" : "patient"},
               {"text", "A synthetic turn of ordinary length, about as long as a short chat message."},
               {"state", "delivered"}, {"created_at", format_utc(now - std::chrono::seconds(messages - i))}};
        if (i % 50 == 0) {
            m["risk"] = {{"severity", "moderate"}, {"categories", {"self_harm"}},
                         {"spans", {{{"begin", 2}, {"end", 11}, {"rule_id", "r"}, {"rationale", "why"}}}}};
        }
        log.push_back(event(++seq, "message_appended", "p0", m, now));
    }
    for (std::size_t i = 0; i < flags; ++i) {
        const std::string pid = "p" + std::to_string((i * 7) % patients);
        const TimePoint opened = now - std::chrono::seconds(static_cast<long>(i % 7200));
        log.push_back(event(++seq, "flag_opened", pid,
                            {{"id", "f" + std::to_string(i)}, {"patient_id", pid}, {"severity", severities[i % 4]},
                             {"categories", {"suicidal_ideation"}}, {"status", "open"},
                             {"opened_at", format_utc(opened)},
                             {"sla_deadline", format_utc(opened + std::chrono::minutes(5 + static_cast<long>(i % 60)))}},
                            now));
    }

    auto start = std::chrono::steady_clock::now();
    Model model;
    for (const auto& e : log) model.apply(e);
    CaseloadPresenter caseload;
    FlagQueuePresenter queue;
    show_first_screen(model, caseload, queue, now);
    const double load_ms = ms_since(start);

    start = std::chrono::steady_clock::now();
    ConversationPresenter conversation;
    conversation.open("p0");
    const auto lines = conversation.lines(model);
    const double transcript_ms = ms_since(start);

    double rank_best = 1e9;
    for (int round = 0; round < 5; ++round) {
        // refresh() rebuilds the rows from the model's id order, so each round sorts real disorder.
        start = std::chrono::steady_clock::now();
        queue.refresh(model);
        rank_best = std::min(rank_best, ms_since(start));
    }
    start = std::chrono::steady_clock::now();
    queue.rank();
    const double rerank_ms = ms_since(start);

    start = std::chrono::steady_clock::now();
    CaseloadFilter filter;
    filter.search = "patient 42";
    caseload.set_filter(filter);
    caseload.refresh(model);
    const double search_ms = ms_since(start);

    // Questionnaires too (issue 8): eight scored forms per patient, as a supervisor's cache keeps
    // them for everyone. Applied after the timing above so its figure stays comparable.
    const auto feed_events = model.applied_count();
    model.set_self(ClinicianInfo{"bench-sup", "sup", "Bench Supervisor", {Role::supervisor}, true});
    for (const auto& e : demo_assessment_events(model, now, patients)) model.apply(e);

    // Save the whole model to a fresh cache (what the first sync writes, in one transaction).
    const auto dir = std::filesystem::temp_directory_path() / ("tandem-clinician-bench-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    double save_ms = 0;
    {
        auto cache = LocalCache::open(dir, kPassword);
        if (!cache) {
            std::fprintf(stderr, "cannot create the cache: %s\n", cache.error().message.c_str());
            return 1;
        }
        start = std::chrono::steady_clock::now();
        if (auto saved = (*cache)->save(model); !saved) {
            std::fprintf(stderr, "cannot save: %s\n", saved.error().message.c_str());
            return 1;
        }
        save_ms = ms_since(start);
    }

    const double rss = peak_rss_mb();
    std::printf("clinician presenters: %zu patients, %zu flags, %zu-message transcript\n", patients, flags, messages);
    std::printf("  apply all events + build caseload and flag queue: %8.1f ms  (%llu events)\n", load_ms,
                static_cast<unsigned long long>(feed_events));
    std::printf("  open the large transcript (%zu lines):             %8.1f ms\n", lines.size(), transcript_ms);
    std::printf("  rebuild and rank the flag queue (best of 5):       %8.1f ms\n", rank_best);
    std::printf("  re-rank the flag queue in place:                   %8.1f ms\n", rerank_ms);
    std::printf("  caseload search refresh:                           %8.1f ms  (%zu rows)\n", search_ms, caseload.size());
    std::printf("  peak RSS (including the generated event log):      %8.1f MB\n", rss);
    std::printf("  save the whole model to a new cache (one commit):  %8.1f ms  (with %zu questionnaires)\n", save_ms,
                model.assessments().all().size());
    std::fflush(stdout);

    // A clean process for the launch, so its RSS is the app's and not the generator's.
    const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
    const std::string flag = "--launch";
    const std::string where = dir.string();
    char* args[] = {const_cast<char*>(self.c_str()), const_cast<char*>(flag.c_str()), const_cast<char*>(where.c_str()),
                    nullptr};
    pid_t child = 0;
    int status = 1;
    if (posix_spawn(&child, self.c_str(), nullptr, nullptr, args, environ) == 0) waitpid(child, &status, 0);
    std::filesystem::remove_all(dir);
    return status == 0 ? 0 : 1;
}
