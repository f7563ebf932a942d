#pragma once
// tandem-loadgen's parts, shared by its three translation units: main.cpp (arguments, report),
// prepare.cpp (data-dir setup through the bridge's own library, no Beast) and client.cpp (the
// one Beast TU: simulated patients and clinician subscribers over TLS WebSockets).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/domain/error.h"

namespace tandem::loadgen {

/// One patient the loadgen plays: its id, invite code (empty once redeemed) and device token
/// (empty until redeemed).
struct PatientSeat {
    std::string patient_id;
    std::string display_name;
    std::string therapist;     ///< username
    std::string invite_code;
    std::string device_token;
};

/// A clinician account the loadgen may log in as.
struct ClinicianSeat {
    std::string username;
    std::string display_name;
    std::string role;  ///< therapist | supervisor
};

/// What prepare writes under DATA_DIR/loadgen/ and run/play read back.
struct Roster {
    std::vector<ClinicianSeat> clinicians;
    std::vector<PatientSeat> patients;      ///< played by the loadgen
    std::vector<PatientSeat> spare_invites; ///< for a human to redeem on the chat page (demo)
    std::string password;                   ///< every loadgen clinician's password
};

struct PrepareOptions {
    std::filesystem::path data_dir;
    int patients = 0;                ///< bench: this many patients "Load Patient N"
    int therapists = 10;             ///< bench: lg-therapist-NN accounts
    int rate_limit_per_minute = 0;   ///< > 0: written into config.json
    std::string password;            ///< clinicians' password (the admin's too on init)
    nlohmann::json scenario;         ///< demo: clinic and patients come from here instead
    int threads = 32;                ///< concurrent appends (the store commits them in groups)
};

/// Creates the data dir if needed (tandem-bridge init), the clinicians, patients, assignments
/// and invite codes, and writes DATA_DIR/loadgen/roster.json. Idempotent for clinicians (an
/// existing username is kept); patients are added only when the roster has fewer. Blocking;
/// the bridge may be running. Errors: io, storage, invalid_argument. Main thread.
Result<Roster> prepare(const PrepareOptions& options);

/// Reads DATA_DIR/loadgen/roster.json. Errors: io, parse.
Result<Roster> load_roster(const std::filesystem::path& data_dir);
/// Writes it back (device tokens learnt by redeeming), mode 0600. Errors: io.
Result<void> save_roster(const std::filesystem::path& data_dir, const Roster& roster);

/// The store's newest seq, read from the data dir beside a running bridge (WAL allows it), so
/// clinician subscribers start live instead of replaying the whole log. Errors: storage.
Result<std::int64_t> store_head(const std::filesystem::path& data_dir);

/// Everything a load run needs.
struct RunOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8443;
    std::filesystem::path data_dir;   ///< roster, certificate to pin
    int patients = 2000;
    int clinicians = 10;              ///< subscribers
    int supervisors = 2;              ///< of them, logged in as the supervisor (sees everything)
    double rate = 1000;               ///< patient messages per second, over all patients
    double warmup_s = 5;
    double duration_s = 30;
    double drain_s = 5;
    double connect_rate = 100;        ///< new connections per second while connecting (500 timed out TLS handshakes on a busy 2-core bridge)
    int threads = 2;                  ///< client io threads
    double risky_percent = 1.0;       ///< messages that screen moderate or higher
    int bridge_pid = 0;
    std::int64_t head_seq = 0;        ///< subscribe after this seq
    bool feed_batch = true;           ///< subscribe {batch: true}: the feed comes as `events` frames
};

/// Percentiles and counts of one run, for main's report.
struct RunReport {
    int patients_connected = 0;       ///< sessions established
    int patients_held = 0;            ///< still open at the end of the measured window
    int clinicians_live = 0;          ///< subscribed and caught up
    int clinicians_held = 0;
    std::uint64_t sent_window = 0;    ///< sends in the measured window
    std::uint64_t acked_window = 0;   ///< acks received in the measured window
    std::uint64_t acked_total = 0;
    std::uint64_t sent_total = 0;
    std::uint64_t errors = 0;         ///< error frames (any code)
    std::uint64_t rate_limited = 0;
    std::uint64_t clinician_events = 0;
    std::uint64_t screened_window = 0;   ///< risk_assessed events seen by the first supervisor in the window
    std::uint64_t ai_replies_window = 0; ///< delivered AI replies patients received in the window
    std::uint64_t connect_failures = 0;
    std::uint64_t clinician_reconnects = 0; ///< subscribers the bridge dropped (they resumed)
    std::vector<double> ack_ms;       ///< send -> ack, messages sent in the window
    std::vector<double> feed_ms;      ///< send -> clinician event, per receiving clinician
    double measured_s = 0;
    double connect_s = 0;
    long rss_peak_kb = 0;
    long rss_end_kb = 0;
    long hwm_kb = 0;
    double bridge_cpu_s = 0;          ///< the bridge's user + system CPU over the window
    double loadgen_cpu_s = 0;         ///< this process's, same window
};

/// Connects, drives the rate, measures. Blocking. Errors: network (nothing connected).
Result<RunReport> run_load(const RunOptions& options, Roster& roster);

/// Plays a scenario's scripted conversations at their pace with the roster's patients, then
/// stays connected (answering pings) until SIGINT/SIGTERM; reconnects after a drop. Prints one
/// line per turn sent (never the text). Blocking. Errors: network, invalid_argument.
Result<void> play_scenario(const std::string& host, std::uint16_t port, const std::filesystem::path& data_dir,
                           const nlohmann::json& scenario, Roster& roster, double speed);

/// VmRSS and VmHWM of a process in KiB (0 when unreadable).
struct Memory {
    long rss_kb = 0;
    long hwm_kb = 0;
};
Memory read_memory(int pid);

/// User + system CPU time of a process so far (0 when unreadable).
struct Cpu {
    double seconds = 0;
};
Cpu read_cpu(int pid);

}  // namespace tandem::loadgen
