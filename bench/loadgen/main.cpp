// tandem-loadgen: simulated patients and clinicians against a running tandem-bridge.
//
//   tandem-loadgen prepare --data-dir DIR --patients N [--therapists T] [--rate-limit PER_MIN]
//                          [--password-file FILE]
//   tandem-loadgen prepare --data-dir DIR --scenario FILE [--password-file FILE]
//   tandem-loadgen run --data-dir DIR [--server HOST:PORT] [--patients N] [--clinicians M]
//                      [--supervisors S] [--rate MSG_PER_S] [--warmup S] [--duration S]
//                      [--drain S] [--threads T] [--risky-percent P] [--bridge-pid PID]
//   tandem-loadgen play --data-dir DIR --scenario FILE [--server HOST:PORT] [--speed X]
//
// `run` prints the figures of issue 5's load benchmark (docs/PERFORMANCE.md, "Bridge under
// load"); `play` is the demo's simulated patients (scripts/run-demo.sh).

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "loadgen.h"

namespace {

using namespace tandem;
using namespace tandem::loadgen;

constexpr const char* kUsage =
    "usage: tandem-loadgen prepare --data-dir DIR (--patients N [--therapists T] [--rate-limit PER_MIN]\n"
    "                              | --scenario FILE) [--password-file FILE]\n"
    "       tandem-loadgen run --data-dir DIR [--server HOST:PORT] [--patients N] [--clinicians M]\n"
    "                          [--supervisors S] [--rate MSG_PER_S] [--warmup S] [--duration S] [--drain S]\n"
    "                          [--threads T] [--risky-percent P] [--connect-rate PER_S] [--bridge-pid PID]\n"
    "                          [--feed-frames batch|single]\n"
    "       tandem-loadgen play --data-dir DIR --scenario FILE [--server HOST:PORT] [--speed X]\n"
    "\n"
    "prepare  creates DIR if needed (like tandem-bridge init), therapists, a supervisor, patients\n"
    "         with invite codes, and DIR/loadgen/roster.json (the bridge may be running)\n"
    "run      connects N patients and M clinician subscribers, sends MSG_PER_S patient messages/s\n"
    "         for warm-up + duration seconds and prints connections held, messages/s acknowledged,\n"
    "         send->ack and send->clinician latency percentiles and the bridge's memory\n"
    "play     plays a scenario's scripted conversations at a human pace and stays connected\n"
    "\n"
    "The password (first line of --password-file, default DIR/loadgen/password or 'loadgen-password')\n"
    "is every loadgen clinician's. Defaults: --server 127.0.0.1:8443, --patients 2000, --clinicians\n"
    "10 (--supervisors 2 of them), --rate 1000, --warmup 5, --duration 30, --drain 5, --threads 2,\n"
    "--feed-frames batch (subscribers ask for `events` frames; single: one `event` frame per event).\n";

int usage(const std::string& why) {
    std::fprintf(stderr, "tandem-loadgen: %s\n\n%s", why.c_str(), kUsage);
    return 2;
}

int error_exit(const Error& e) {
    std::fprintf(stderr, "tandem-loadgen: %s\n", e.describe().c_str());
    return 1;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return NAN;
    const auto k = static_cast<std::size_t>(std::min<double>(static_cast<double>(v.size()) - 1,
                                                             std::ceil(p / 100.0 * static_cast<double>(v.size())) - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

std::string read_first_line(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    return line;
}

Result<nlohmann::json> read_json(const std::string& file) {
    std::ifstream in(file);
    if (!in) return fail(ErrorCode::io, "cannot read", file);
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return fail(ErrorCode::parse, "not a JSON object", file);
    return j;
}

bool parse_server(const std::string& text, std::string& host, std::uint16_t& port) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) return false;
    host = text.substr(0, colon);
    const int p = std::atoi(text.c_str() + colon + 1);
    if (p <= 0 || p > 65535) return false;
    port = static_cast<std::uint16_t>(p);
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return usage("a command is required");
    const std::string cmd = argv[1];
    if (cmd == "--help" || cmd == "-h") return std::printf("%s", kUsage), 0;
    std::map<std::string, std::string> flags;
    for (int i = 2; i < argc; i += 2) {
        const std::string k = argv[i];
        if (k.rfind("--", 0) != 0 || i + 1 >= argc) return usage("unexpected or incomplete argument '" + k + "'");
        flags[k] = argv[i + 1];
    }
    auto flag = [&](const char* k, const std::string& def = {}) {
        const auto it = flags.find(k);
        return it == flags.end() ? def : it->second;
    };
    auto number = [&](const char* k, double def) {
        const auto it = flags.find(k);
        return it == flags.end() ? def : std::atof(it->second.c_str());
    };
    if (!flags.contains("--data-dir")) return usage("--data-dir is required");
    const std::filesystem::path data_dir = flag("--data-dir");
    std::string password = flags.contains("--password-file") ? read_first_line(flag("--password-file"))
                                                             : read_first_line(data_dir / "loadgen" / "password");
    if (password.empty()) password = "loadgen-password";
    nlohmann::json scenario;
    if (flags.contains("--scenario")) {
        auto s = read_json(flag("--scenario"));
        if (!s) return error_exit(s.error());
        scenario = std::move(*s);
    }
    std::string host = "127.0.0.1";
    std::uint16_t port = 8443;
    if (flags.contains("--server") && !parse_server(flag("--server"), host, port))
        return usage("--server must be HOST:PORT");

    try {
        if (cmd == "prepare") {
            PrepareOptions o;
            o.data_dir = data_dir;
            o.password = password;
            o.scenario = scenario;
            o.patients = static_cast<int>(number("--patients", 0));
            o.therapists = static_cast<int>(number("--therapists", 10));
            o.rate_limit_per_minute = static_cast<int>(number("--rate-limit", 0));
            if (!o.scenario.is_object() && o.patients <= 0) return usage("prepare needs --patients N or --scenario FILE");
            const auto start = std::chrono::steady_clock::now();
            auto roster = prepare(o);
            if (!roster) return error_exit(roster.error());
            std::printf("prepared %s: %zu clinicians, %zu patients, %zu spare invites in %.1f s\n", data_dir.c_str(),
                        roster->clinicians.size(), roster->patients.size(), roster->spare_invites.size(),
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
            return 0;
        }
        auto roster = load_roster(data_dir);
        if (!roster) return error_exit(roster.error());
        if (cmd == "play") {
            if (!scenario.is_object()) return usage("play needs --scenario FILE");
            auto r = play_scenario(host, port, data_dir, scenario, *roster, number("--speed", 1.0));
            if (!r) return error_exit(r.error());
            return 0;
        }
        if (cmd != "run") return usage("unknown command '" + cmd + "'");
        RunOptions o;
        o.host = host;
        o.port = port;
        o.data_dir = data_dir;
        o.patients = static_cast<int>(number("--patients", std::min<double>(2000, static_cast<double>(roster->patients.size()))));
        o.clinicians = static_cast<int>(number("--clinicians", 10));
        o.supervisors = static_cast<int>(number("--supervisors", 2));
        o.rate = number("--rate", 1000);
        o.warmup_s = number("--warmup", 5);
        o.duration_s = number("--duration", 30);
        o.drain_s = number("--drain", 5);
        o.threads = static_cast<int>(number("--threads", 2));
        o.risky_percent = number("--risky-percent", 1.0);
        o.connect_rate = number("--connect-rate", 100);
        o.bridge_pid = static_cast<int>(number("--bridge-pid", 0));
        const auto frames = flag("--feed-frames", "batch");
        if (frames != "batch" && frames != "single") return usage("--feed-frames must be batch or single");
        o.feed_batch = frames == "batch";
        auto head = store_head(data_dir);
        if (!head) return error_exit(head.error());
        o.head_seq = *head;
        auto r = run_load(o, *roster);
        if (!r) return error_exit(r.error());
        const auto& x = *r;
        std::printf("tandem-loadgen run: %d patients offered %.0f msg/s for %.0f s (after %.0f s warm-up), %d clinician "
                    "subscribers (%d supervisors, %s feed frames), %.1f%% risky messages\n",
                    o.patients, o.rate, o.duration_s, o.warmup_s, o.clinicians, o.supervisors,
                    o.feed_batch ? "batched" : "single", o.risky_percent);
        std::printf("  connections held:        %d/%d patients (connected in %.1f s), %d/%d clinicians live\n",
                    x.patients_held, o.patients, x.connect_s, x.clinicians_held, o.clinicians);
        std::printf("  messages sent in window: %llu (%.0f/s)\n", static_cast<unsigned long long>(x.sent_window),
                    static_cast<double>(x.sent_window) / x.measured_s);
        std::printf("  acknowledged in window:  %llu (%.0f msg/s sustained; an ack means durably stored)\n",
                    static_cast<unsigned long long>(x.acked_window), static_cast<double>(x.acked_window) / x.measured_s);
        std::printf("  screened in window:      %llu (%.0f msg/s; risk_assessed events stored and fanned out)\n",
                    static_cast<unsigned long long>(x.screened_window),
                    static_cast<double>(x.screened_window) / x.measured_s);
        std::printf("  AI replies in window:    %llu (%.0f/s delivered to patients)\n",
                    static_cast<unsigned long long>(x.ai_replies_window),
                    static_cast<double>(x.ai_replies_window) / x.measured_s);
        std::printf("  unacknowledged at end:   %llu of %llu sent (after %.0f s drain)\n",
                    static_cast<unsigned long long>(x.sent_total - std::min(x.sent_total, x.acked_total)),
                    static_cast<unsigned long long>(x.sent_total), o.drain_s);
        std::printf("  send -> ack:             p50 %.1f ms  p99 %.1f ms  max %.1f ms  (n=%zu)\n", percentile(x.ack_ms, 50),
                    percentile(x.ack_ms, 99), percentile(x.ack_ms, 100), x.ack_ms.size());
        std::printf("  send -> clinician event: p50 %.1f ms  p99 %.1f ms  max %.1f ms  (n=%zu receipts)\n",
                    percentile(x.feed_ms, 50), percentile(x.feed_ms, 99), percentile(x.feed_ms, 100), x.feed_ms.size());
        std::printf("  clinician events:        %llu received (%.0f/s per subscriber)\n",
                    static_cast<unsigned long long>(x.clinician_events),
                    static_cast<double>(x.clinician_events) / std::max(1, o.clinicians) /
                        (o.warmup_s + o.duration_s + o.drain_s));
        std::printf("  errors:                  %llu error frames (%llu rate_limited), %llu failed connects, %llu "
                    "clinician reconnects\n",
                    static_cast<unsigned long long>(x.errors), static_cast<unsigned long long>(x.rate_limited),
                    static_cast<unsigned long long>(x.connect_failures),
                    static_cast<unsigned long long>(x.clinician_reconnects));
        if (o.bridge_pid > 0) {
            const double acked = std::max<double>(1, static_cast<double>(x.acked_window));
            std::printf("  bridge CPU in window:    %.1f s (%.0f%% of one core), %.2f ms per acknowledged message; "
                        "tandem-loadgen %.1f s\n",
                        x.bridge_cpu_s, 100 * x.bridge_cpu_s / x.measured_s, 1000 * x.bridge_cpu_s / acked,
                        x.loadgen_cpu_s);
        }
        if (o.bridge_pid > 0)
            std::printf("  bridge memory:           RSS %.0f MB at end of window, peak sampled %.0f MB, VmHWM %.0f MB\n",
                        static_cast<double>(x.rss_end_kb) / 1024, static_cast<double>(x.rss_peak_kb) / 1024,
                        static_cast<double>(x.hwm_kb) / 1024);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tandem-loadgen: internal error: %s\n", e.what());
        return 1;
    }
}
