// tandem-bridge: the clinic's server. Subcommands: init, serve, config. Errors go to stderr
// with exit status 1 (2 for bad usage); logs are JSON lines on stderr.

#include <algorithm>
#include <charconv>
#include <functional>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <termios.h>
#include <unistd.h>

#include <fstream>

#include "tandem/bridge/accounts.h"
#include "tandem/bridge/backup.h"
#include "tandem/bridge/clinic_policy.h"
#include "tandem/bridge/clinician_service.h"
#include "tandem/bridge/config.h"
#include "tandem/bridge/fhir_export.h"
#include "tandem/bridge/init.h"
#include "tandem/bridge/llm.h"
#include "tandem/bridge/log.h"
#include "tandem/bridge/metrics.h"
#include "tandem/bridge/notifying_store.h"
#include "tandem/bridge/patient_endpoint.h"
#include "tandem/bridge/patient_service.h"
#include "tandem/bridge/server.h"
#include "tandem/crypto/key_file.h"
#include "tandem/crypto/totp.h"
#include "tandem/store/sqlcipher_store.h"

// jemalloc's options for the bridge, read at its first allocation (MALLOC_CONF still overrides):
// an arena per CPU, picked by the CPU a thread runs on, instead of four per CPU. The bridge runs
// about 130 threads, and with 8 arenas on 2 cores each kept free pages of its own: at 1,000
// msg/s VmHWM fell from 500-513 MB to about 455-462 MB with fewer arenas, at the same throughput
// (docs/PERFORMANCE.md, "Bridge memory").
extern "C" {
const char* malloc_conf = "percpu_arena:percpu";
}

namespace {

using namespace tandem;
using namespace tandem::bridge;

constexpr const char* kUsage =
    "usage: tandem-bridge <command> [options]\n"
    "\n"
    "commands:\n"
    "  init     create a data dir: TLS certificate and key, config file\n"
    "  serve    run the bridge in the foreground (systemd Type=simple); SIGTERM stops it cleanly\n"
    "  config   print the documented config keys (config --help)\n"
    "  patient  add a patient, or assign one to a therapist (patient add|assign)\n"
    "  clinician  manage clinician accounts (clinician add|disable|enable|reset-password|totp-enroll|list)\n"
    "  policy   show or set the clinic policy: SLA deadlines, idle lock, TOTP, crisis resources\n"
    "  audit    check the hash chain or list clinician actions and reads (audit verify|list)\n"
    "  invite   issue a one-time invite code: invite --data-dir DIR --patient ID\n"
    "  backup   copy the encrypted store, also while serving: backup --data-dir DIR --out FILE\n"
    "  restore  replace the store with a backup (bridge stopped): restore --data-dir DIR --from FILE\n"
    "  export   FHIR R4 bundles (contain PHI): export fhir --data-dir DIR --patient ID|--all --out DIR\n"
    "\n"
    "Run 'tandem-bridge <command> --help' for a command's options.\n";

constexpr const char* kInitHelp =
    "usage: tandem-bridge init --data-dir DIR [--host NAME]... [--password-file FILE]\n"
    "\n"
    "Creates DIR (mode 0700) with config.json (every key documented in its \"_doc\" object),\n"
    "tls/cert.pem (self-signed ECDSA P-256) and tls/key.pem (mode 0600).\n"
    "\n"
    "  --data-dir DIR        where the bridge keeps its state (e.g. /var/lib/tandem)\n"
    "  --host NAME           add a certificate name (DNS name or IP); default localhost and 127.0.0.1\n"
    "  --password-file FILE  the first admin clinician's password (otherwise prompted)\n";

constexpr const char* kServeHelp =
    "usage: tandem-bridge serve --data-dir DIR [--listen HOST:PORT] [--config FILE]\n"
    "\n"
    "Serves the patient chat page (GET /), /healthz, /metrics and wss /patient on one TLS port.\n"
    "Runs in the foreground; SIGTERM or SIGINT stop it after in-flight writes finish.\n"
    "\n"
    "  --data-dir DIR       the dir made by init\n"
    "  --listen HOST:PORT   overrides listen_host and listen_port from the config\n"
    "  --config FILE        config file (default DIR/config.json)\n";

constexpr const char* kPatientHelp =
    "usage: tandem-bridge patient add --data-dir DIR --name NAME [--locale LOCALE]\n"
    "       tandem-bridge patient assign --data-dir DIR --patient ID --therapist ID|USERNAME\n"
    "\n"
    "add registers a patient and prints the new patient id; assign makes a therapist responsible\n"
    "for the patient (the therapist then sees the patient's events and may act on them).\n";

constexpr const char* kClinicianHelp =
    "usage: tandem-bridge clinician add --data-dir DIR --username NAME --role ROLE [--role ROLE]...\n"
    "                                   [--name DISPLAY] [--password-file FILE]\n"
    "       tandem-bridge clinician disable|enable --data-dir DIR --clinician ID|USERNAME\n"
    "       tandem-bridge clinician reset-password --data-dir DIR --clinician ID|USERNAME [--password-file FILE]\n"
    "       tandem-bridge clinician totp-enroll --data-dir DIR --username NAME\n"
    "       tandem-bridge clinician list --data-dir DIR\n"
    "\n"
    "Roles: therapist (assigned patients), supervisor (the clinic), admin (accounts, no transcripts).\n"
    "Passwords (at least 10 bytes) come from the first line of --password-file or a prompt, and are\n"
    "stored as Argon2id hashes only. add prints the new clinician id.\n"
    "totp-enroll gives the clinician a new one-time-code secret (replacing any earlier one) and prints\n"
    "it once, as an otpauth:// URI and in base32, for an authenticator app; policy set --require-totp yes\n"
    "then makes logins ask for the code.\n";

constexpr const char* kPolicyHelp =
    "usage: tandem-bridge policy show --data-dir DIR\n"
    "       tandem-bridge policy set --data-dir DIR [--sla-urgent-minutes N] [--sla-second-minutes N]\n"
    "                                [--idle-lock-minutes N] [--require-totp yes|no] [--share-trends yes|no]\n"
    "                                [--crisis-resources LOCALE=FILE.json]... [--clinic-name NAME] [--timezone TZ]\n"
    "\n"
    "The clinic policy is a clinic_configured event in the store; a running bridge applies a new one\n"
    "at once: to logins (idle lock, TOTP), escalations, new flags' deadlines and the crisis resources\n"
    "(per patient locale, en-US when the locale has none). Until the first 'policy set', the config\n"
    "file's values apply.\n"
    "\n"
    "  --sla-urgent-minutes N   time to acknowledge a high/imminent flag before it escalates (1-1440)\n"
    "  --sla-second-minutes N   after the first escalation, time to the second (1-1440)\n"
    "  --idle-lock-minutes N    the clinician app locks after this idle time (1-1440)\n"
    "  --share-trends yes|no    patients see their own questionnaire score trend with each result\n"
    "                           (default no; a running bridge applies it at the next result)\n"
    "  --require-totp yes|no    logins need a one-time code (clinician totp-enroll first)\n"
    "  --crisis-resources LOCALE=FILE.json  resources shown to patients of LOCALE (en-US): a JSON\n"
    "                           array of {\"name\", \"contact\", \"kind\": phone|text|web|emergency}\n";

constexpr const char* kAuditHelp =
    "usage: tandem-bridge audit verify --data-dir DIR\n"
    "       tandem-bridge audit list --data-dir DIR [--clinician ID] [--patient ID] [--since TIME]\n"
    "\n"
    "verify recomputes every hash of the event log and exits 1 if the chain is broken.\n"
    "list prints one JSON line per clinician action, transcript read and login (no message text);\n"
    "TIME is UTC like 2026-11-26T03:00:00.000Z (a prefix such as 2026-11-26 works).\n";

constexpr const char* kInviteHelp =
    "usage: tandem-bridge invite --data-dir DIR --patient ID\n"
    "\n"
    "Prints a one-time invite code for the patient to enter on the chat page. Only its SHA-256\n"
    "is stored; a running bridge picks it up without a restart.\n";

int usage_error(const std::string& message, const char* help) {
    std::cerr << "tandem-bridge: " << message << "\n\n" << help;
    return 2;
}

int error_exit(const Error& e) {
    std::cerr << "tandem-bridge: " << to_string(e.code) << ": " << e.describe() << "\n";
    return 1;
}

// The store of a data dir, opened with its key file.
tandem::Result<std::unique_ptr<tandem::SqlcipherStore>> open_store(const std::filesystem::path& data_dir,
                                                                    const tandem::SqlcipherStoreOptions& options = {}) {
    auto key = tandem::load_key_file(data_dir / "store.key");
    if (!key) return std::unexpected(key.error());
    return tandem::SqlcipherStore::open(data_dir / "tandem.db", key->bytes(), options);
}

// Parses "--flag value" pairs; repeated flags accumulate. nullopt on a stray argument.
std::optional<std::multimap<std::string, std::string>> parse_flags(const std::vector<std::string>& args,
                                                                  const std::vector<std::string>& allowed,
                                                                  std::string& bad) {
    std::multimap<std::string, std::string> out;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        if (std::find(allowed.begin(), allowed.end(), a) == allowed.end() || i + 1 >= args.size()) {
            bad = a;
            return std::nullopt;
        }
        out.emplace(a, args[++i]);
    }
    return out;
}

// Reads a password from the terminal without echo (twice, to catch typos).
tandem::Result<std::string> prompt_password(const std::string& prompt) {
    auto read_once = [](const std::string& text) {
        std::cerr << text << std::flush;
        termios old{};
        const bool tty = ::tcgetattr(0, &old) == 0;
        if (tty) {
            termios quiet = old;
            quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
            ::tcsetattr(0, TCSANOW, &quiet);
        }
        std::string line;
        std::getline(std::cin, line);
        if (tty) ::tcsetattr(0, TCSANOW, &old);
        std::cerr << "\n";
        return line;
    };
    const auto first = read_once(prompt);
    if (::isatty(0) && read_once("again: ") != first) return fail(ErrorCode::invalid_argument, "passwords differ");
    return first;
}

tandem::Result<std::string> password_from(const std::multimap<std::string, std::string>& flags) {
    if (auto it = flags.find("--password-file"); it != flags.end()) {
        std::ifstream in(it->second);
        std::string line;
        if (!in || !std::getline(in, line) || line.empty())
            return fail(ErrorCode::io, "cannot read a password from the file", it->second);
        return line;
    }
    return prompt_password("password: ");
}

const tandem::Actor kCliActor{tandem::ActorKind::system, std::string("cli")};

int cmd_init(const std::vector<std::string>& args) {
    std::string bad;
    auto flags = parse_flags(args, {"--data-dir", "--host", "--password-file"}, bad);
    if (!flags) return usage_error("unexpected or incomplete argument '" + bad + "'", kInitHelp);
    if (!flags->contains("--data-dir")) return usage_error("--data-dir is required", kInitHelp);
    InitOptions o;
    o.data_dir = flags->find("--data-dir")->second;
    for (auto [it, end] = flags->equal_range("--host"); it != end; ++it) o.hosts.push_back(it->second);
    if (auto it = flags->find("--password-file"); it != flags->end()) o.password_file = it->second;
    if (o.password_file.empty() && ::isatty(0)) {
        auto pw = prompt_password("password for the first admin clinician 'admin': ");
        if (!pw) return error_exit(pw.error());
        o.admin_password = std::move(*pw);
    }
    auto r = init_data_dir(o);
    if (!r) return error_exit(r.error());
    std::cout << "initialised " << o.data_dir.string() << "\n"
              << "  config:      " << r->config_file.string() << "\n"
              << "  certificate: " << r->cert_file.string() << "\n"
              << "  key:         " << r->key_file.string() << " (mode 0600)\n"
              << "  SHA-256 fingerprint: " << r->fingerprint << "\n"
              << (r->admin_id.empty() ? std::string("  no admin clinician yet: tandem-bridge clinician add --role admin ...\n")
                                      : "  admin clinician: admin (" + r->admin_id + ")\n")
              << "next: tandem-bridge serve --data-dir " << o.data_dir.string() << "\n";
    return 0;
}

int cmd_serve(const std::vector<std::string>& args) {
    std::string bad;
    auto flags = parse_flags(args, {"--data-dir", "--listen", "--config"}, bad);
    if (!flags) return usage_error("unexpected or incomplete argument '" + bad + "'", kServeHelp);
    if (!flags->contains("--data-dir")) return usage_error("--data-dir is required", kServeHelp);
    const std::filesystem::path data_dir = flags->find("--data-dir")->second;
    std::filesystem::path config_file = data_dir / "config.json";
    if (auto it = flags->find("--config"); it != flags->end()) config_file = it->second;
    auto config = load_config(config_file);
    if (!config) return error_exit(config.error());
    if (auto it = flags->find("--listen"); it != flags->end()) {
        auto hp = parse_listen(it->second);
        if (!hp) return error_exit(hp.error());
        config->listen_host = hp->first;
        config->listen_port = hp->second;
    }
    set_log_level(config->log_level);
    auto under_data = [&](const std::string& p) {
        const std::filesystem::path path(p);
        return path.is_absolute() ? path : data_dir / path;
    };

    Metrics metrics;
    ServerOptions so;
    so.host = config->listen_host;
    so.port = config->listen_port;
    so.cert_file = under_data(config->tls_cert);
    so.key_file = under_data(config->tls_key);
    so.io_threads = config->io_threads;
    so.max_message_bytes = config->max_message_bytes;
    so.max_frame_bytes = config->max_frame_bytes;
    so.send_queue_limit = config->send_queue_limit;
    so.handshake_timeout = config->handshake_timeout;
    so.idle_timeout = config->idle_timeout;
    so.http_timeout = config->http_timeout;

    // Held while serving: restore refuses to swap the store under a running bridge, and a second
    // bridge on the same data dir refuses to start.
    auto data_dir_lock = DataDirLock::acquire(data_dir);
    if (!data_dir_lock) return error_exit(data_dir_lock.error());
    // The read cache sized for what turns read: every active conversation's tail in memory.
    SqlcipherStoreOptions store_options;
    store_options.read_cache = config->read_cache_mb > 0;
    store_options.read_cache_messages = conversation_tail_size(PatientServiceOptions{});
    store_options.read_cache_bytes = static_cast<std::size_t>(config->read_cache_mb) << 20;
    auto store = open_store(data_dir, store_options);
    if (!store) return error_exit(store.error());
    std::unique_ptr<ChatModel> model;
    if (config->llm.base_url.empty()) {
        model = make_offline_companion();
    } else {
        auto key = read_api_key(config->llm);
        if (!key) return error_exit(key.error());
        model = make_openai_client(config->llm, std::move(*key));
    }
    // Refuse to serve without the real risk screen: a weaker screen would silently miss crises.
    auto screener = make_rule_engine_screener();
    if (!screener) return error_exit(screener.error());
    // The clinic policy of the log (policy set) wins over the config file's values.
    ClinicPolicySource clinic_policy(**store, settings_from_config(*config));
    if (auto r = clinic_policy.refresh(); !r) return error_exit(r.error());
    const auto clinic = clinic_policy.current();
    PatientServiceOptions po;
    po.crisis_resources = clinic.resources_for("en-US");
    po.urgent_sla_minutes = clinic.urgent_sla_minutes;
    po.messages_per_minute = config->rate_limit_per_minute;
    po.plans.proposal_after_turns = config->plan_proposal_after_turns;
    po.offer_scheduled_assessments = true;  // questionnaires at intake, week 4, week 8 (issue 8)
    // A clinic's own questionnaires: a bad definition stops the start rather than silently
    // dropping a measure the clinic relies on.
    std::shared_ptr<const InstrumentRegistry> instruments;
    if (!config->instruments_dir.empty()) {
        auto r = load_instruments(under_data(config->instruments_dir));
        if (!r) return error_exit(r.error());
        instruments = std::move(*r);
        po.instruments = instruments.get();
    }
    // Turns block on durable appends (an fsync each) and on the LLM: with 4 threads the bridge
    // topped out near 80 turns/s, with 64 near 860 at 2,000 patients (docs/PERFORMANCE.md,
    // "Bridge under load", "Bridge memory"); more threads let the store group-commit more turns
    // per fsync and let slow LLM replies wait side by side.
    po.worker_threads = config->turn_workers;
    // Everything appends through the notifying wrapper, so the clinician feed hears of each event.
    NotifyingStore notifying(**store);
    auto service = PatientService::create(notifying, **screener, *model, metrics, po);
    if (!service) return error_exit(service.error());
    // Turns read their patient from the notifying store's memory, which every append here and
    // the clinician feed's passes keep current.
    (*service)->set_patient_cache(notifying);
    AccountDirectory accounts(notifying);
    ClinicianServiceOptions co;
    co.urgent_sla_minutes = config->urgent_sla_minutes;  // defaults; the service reads the log's policy
    co.second_escalation_minutes = config->second_escalation_minutes;
    co.session_idle = std::chrono::minutes(config->session_idle_minutes);
    auto clinicians = ClinicianService::create(notifying, accounts, **service, metrics, co);
    if (!clinicians) return error_exit(clinicians.error());

    Server server(so, metrics);
    server.add_websocket_endpoint("/clinician", std::make_shared<PatientEndpoint>(*clinicians, metrics, 600));
    // The endpoint's per-connection frame limit is looser than the pipeline's per-patient one:
    // it only stops floods of pings and malformed frames.
    server.add_websocket_endpoint("/patient", std::make_shared<PatientEndpoint>(
                                                  *service, metrics, config->rate_limit_per_minute * 4));
    auto port = server.start();
    if (!port) return error_exit(port.error());
    log_event(LogLevel::info, "serving",
              {{"port", *port}, {"llm", config->llm.base_url.empty() ? "offline-companion" : "openai-compatible"}});
    // One line on stdout with the bound port, for scripts and tests that ask for port 0.
    std::cout << "listening on " << so.host << ":" << *port << std::endl;
    server.wait_for_termination_signal();
    // Order matters: no new frames, then finish queued turns (durable writes), then close the store.
    server.stop();
    (*service)->drain();
    (*clinicians)->drain();
    return 0;
}

// patient add and invite use a PatientService for its bookkeeping only: it never screens or replies,
// so it gets no rule set (seconds to compile) and no LLM.
// (A std::function, not a template parameter: g++ 12.2 has an internal error on the template.)
int with_admin_patient_service(const std::string& data_dir, const std::function<int(PatientService&)>& work) {
    auto store = open_store(data_dir);
    if (!store) return error_exit(store.error());
    Metrics metrics;
    auto screener = make_administration_only_screener();
    auto model = make_offline_companion();
    auto service = PatientService::create(**store, *screener, *model, metrics, PatientServiceOptions{});
    if (!service) return error_exit(service.error());
    return work(**service);
}

int cmd_patient(const std::vector<std::string>& args) {
    if (!args.empty() && args[0] == "assign") {
        std::string bad;
        auto flags = parse_flags({args.begin() + 1, args.end()}, {"--data-dir", "--patient", "--therapist"}, bad);
        if (!flags) return usage_error("unexpected or incomplete argument '" + bad + "'", kPatientHelp);
        if (!flags->contains("--data-dir") || !flags->contains("--patient") || !flags->contains("--therapist"))
            return usage_error("--data-dir, --patient and --therapist are required", kPatientHelp);
        auto store = open_store(flags->find("--data-dir")->second);
        if (!store) return error_exit(store.error());
        AccountDirectory accounts(**store);
        auto r = assign_patient(**store, accounts, flags->find("--patient")->second,
                                flags->find("--therapist")->second, kCliActor);
        if (!r) return error_exit(r.error());
        std::cout << "assigned (seq " << r->event.seq << ")\n";
        return 0;
    }
    if (args.empty() || args[0] != "add") return usage_error("expected 'patient add' or 'patient assign'", kPatientHelp);
    std::string bad;
    auto flags = parse_flags({args.begin() + 1, args.end()}, {"--data-dir", "--name", "--locale"}, bad);
    if (!flags) return usage_error("unexpected or incomplete argument '" + bad + "'", kPatientHelp);
    if (!flags->contains("--data-dir") || !flags->contains("--name"))
        return usage_error("--data-dir and --name are required", kPatientHelp);
    const auto locale = flags->contains("--locale") ? flags->find("--locale")->second : std::string("en-US");
    return with_admin_patient_service(flags->find("--data-dir")->second, [&](PatientService& service) {
        auto id = service.register_patient(flags->find("--name")->second, locale);
        if (!id) return error_exit(id.error());
        std::cout << *id << "\n";
        return 0;
    });
}

int cmd_invite(const std::vector<std::string>& args) {
    std::string bad;
    auto flags = parse_flags(args, {"--data-dir", "--patient"}, bad);
    if (!flags) return usage_error("unexpected or incomplete argument '" + bad + "'", kInviteHelp);
    if (!flags->contains("--data-dir") || !flags->contains("--patient"))
        return usage_error("--data-dir and --patient are required", kInviteHelp);
    return with_admin_patient_service(flags->find("--data-dir")->second, [&](PatientService& service) {
        auto code = service.issue_invite(flags->find("--patient")->second);
        if (!code) return error_exit(code.error());
        std::cout << *code << "\n";
        return 0;
    });
}

int cmd_clinician(const std::vector<std::string>& args) {
    if (args.empty()) return usage_error("expected a clinician subcommand", kClinicianHelp);
    const std::string sub = args[0];
    std::string bad;
    auto flags = parse_flags({args.begin() + 1, args.end()},
                             {"--data-dir", "--username", "--name", "--role", "--password-file", "--clinician"}, bad);
    if (sub == "totp-enroll" && flags && flags->contains("--username") && !flags->contains("--clinician"))
        flags->emplace("--clinician", flags->find("--username")->second);
    if (!flags) return usage_error("unexpected or incomplete argument '" + bad + "'", kClinicianHelp);
    if (!flags->contains("--data-dir")) return usage_error("--data-dir is required", kClinicianHelp);
    auto store = open_store(flags->find("--data-dir")->second);
    if (!store) return error_exit(store.error());
    AccountDirectory accounts(**store);
    if (auto r = accounts.refresh(); !r) return error_exit(r.error());
    if (sub == "add") {
        if (!flags->contains("--username") || !flags->contains("--role"))
            return usage_error("--username and at least one --role are required", kClinicianHelp);
        std::vector<std::string> roles;
        for (auto [it, end] = flags->equal_range("--role"); it != end; ++it) roles.push_back(it->second);
        auto pw = password_from(*flags);
        if (!pw) return error_exit(pw.error());
        const auto name = flags->contains("--name") ? flags->find("--name")->second : std::string();
        auto a = accounts.add(flags->find("--username")->second, name, roles, *pw, PasswordPolicy{}, kCliActor);
        if (!a) return error_exit(a.error());
        std::cout << a->id << "\n";
        return 0;
    }
    if (sub == "list") {
        for (const auto& a : accounts.all()) std::cout << a.record().dump() << "\n";
        return 0;
    }
    if (!flags->contains("--clinician")) return usage_error("--clinician is required", kClinicianHelp);
    const std::string who = flags->find("--clinician")->second;
    if (sub == "disable" || sub == "enable") {
        if (auto r = accounts.set_active(who, sub == "enable", kCliActor); !r) return error_exit(r.error());
        std::cout << who << (sub == "enable" ? " enabled\n" : " disabled\n");
        return 0;
    }
    if (sub == "totp-enroll") {
        auto secret = accounts.enroll_totp(who, kCliActor);
        if (!secret) return error_exit(secret.error());
        ClinicPolicySource policy(**store, ClinicSettings{});
        if (auto r = policy.refresh(); !r) return error_exit(r.error());
        const auto account = accounts.by_id(who) ? accounts.by_id(who) : accounts.by_username(who);
        // Shown once: the store keeps it (encrypted with the store), nothing prints it again.
        std::cout << totp_uri(policy.current().name, account ? account->username : who, *secret) << "\n"
                  << "secret (base32): " << *secret << "\n";
        return 0;
    }
    if (sub == "reset-password") {
        auto pw = password_from(*flags);
        if (!pw) return error_exit(pw.error());
        if (auto r = accounts.reset_password(who, *pw, PasswordPolicy{}, kCliActor); !r) return error_exit(r.error());
        std::cout << "password reset for " << who << "\n";
        return 0;
    }
    return usage_error("unknown clinician subcommand '" + sub + "'", kClinicianHelp);
}

// policy show|set: the clinic_configured event. Values not given keep the current policy's.
int cmd_policy(const std::vector<std::string>& args) {
    if (args.empty() || (args[0] != "show" && args[0] != "set"))
        return usage_error("expected 'policy show' or 'policy set'", kPolicyHelp);
    const std::string sub = args[0];
    std::string bad;
    auto flags = parse_flags({args.begin() + 1, args.end()},
                             {"--data-dir", "--sla-urgent-minutes", "--sla-second-minutes", "--idle-lock-minutes",
                              "--require-totp", "--crisis-resources", "--clinic-name", "--timezone",
                              "--share-trends"},
                             bad);
    if (!flags) return usage_error("unexpected or incomplete argument '" + bad + "'", kPolicyHelp);
    if (!flags->contains("--data-dir")) return usage_error("--data-dir is required", kPolicyHelp);
    const std::filesystem::path data_dir = flags->find("--data-dir")->second;
    // The defaults are what a bridge on this data dir runs with before any policy set.
    BridgeConfig defaults;
    if (std::filesystem::exists(data_dir / "config.json")) {
        auto c = load_config(data_dir / "config.json");
        if (!c) return error_exit(c.error());
        defaults = *c;
    }
    auto store = open_store(data_dir);
    if (!store) return error_exit(store.error());
    ClinicPolicySource source(**store, settings_from_config(defaults));
    if (auto r = source.refresh(); !r) return error_exit(r.error());
    auto settings = source.current();
    if (sub == "show") {
        std::cout << nlohmann::json{{"source", source.configured() ? "store" : "config"},
                                    {"clinic", settings.record()}}
                         .dump(2)
                  << "\n";
        return 0;
    }
    auto minutes = [&](const char* flag, int& into) -> std::optional<int> {
        const auto it = flags->find(flag);
        if (it == flags->end()) return std::nullopt;
        const auto& text = it->second;
        int value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc() || end != text.data() + text.size() || value < 1 || value > 1440)
            return usage_error(std::string(flag) + " must be a whole number of minutes from 1 to 1440", kPolicyHelp);
        into = value;
        return std::nullopt;
    };
    if (auto e = minutes("--sla-urgent-minutes", settings.urgent_sla_minutes)) return *e;
    if (auto e = minutes("--sla-second-minutes", settings.second_escalation_minutes)) return *e;
    if (auto e = minutes("--idle-lock-minutes", settings.idle_lock_minutes)) return *e;
    if (auto it = flags->find("--require-totp"); it != flags->end()) {
        if (it->second != "yes" && it->second != "no") return usage_error("--require-totp takes yes or no", kPolicyHelp);
        settings.require_totp = it->second == "yes";
    }
    if (auto it = flags->find("--share-trends"); it != flags->end()) {
        if (it->second != "yes" && it->second != "no") return usage_error("--share-trends takes yes or no", kPolicyHelp);
        settings.share_trends_with_patients = it->second == "yes";
    }
    if (auto it = flags->find("--clinic-name"); it != flags->end()) settings.name = it->second;
    if (auto it = flags->find("--timezone"); it != flags->end()) settings.timezone = it->second;
    for (auto [it, end] = flags->equal_range("--crisis-resources"); it != end; ++it) {
        const auto eq = it->second.find('=');
        if (eq == std::string::npos || eq == 0)
            return usage_error("--crisis-resources takes LOCALE=FILE.json", kPolicyHelp);
        const std::string locale = it->second.substr(0, eq);
        const std::string file = it->second.substr(eq + 1);
        std::ifstream in(file);
        if (!in) return error_exit(Error{ErrorCode::io, "cannot read " + file, "--crisis-resources"});
        const auto list = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
        if (!list.is_array()) return error_exit(Error{ErrorCode::parse, file + " must hold a JSON array", "--crisis-resources"});
        std::vector<bridge::CrisisResource> resources;
        for (const auto& r : list) {
            if (!r.is_object() || !r.contains("name") || !r.contains("contact") || !r.contains("kind") ||
                !r["name"].is_string() || !r["contact"].is_string() || !r["kind"].is_string())
                return error_exit(Error{ErrorCode::invalid_argument,
                                        file + ": each resource needs name, contact and kind strings",
                                        "--crisis-resources"});
            resources.push_back({r["name"], r["contact"], r["kind"]});
        }
        settings.crisis_resources[locale] = std::move(resources);  // the schema check below does the rest
    }
    auto r = write_clinic_settings(**store, settings, kCliActor);
    if (!r) return error_exit(r.error());
    std::cout << settings.record().dump(2) << "\n" << "saved (seq " << r->event.seq << ")\n";
    return 0;
}

int cmd_audit(const std::vector<std::string>& args) {
    if (args.empty()) return usage_error("expected 'audit verify' or 'audit list'", kAuditHelp);
    const std::string sub = args[0];
    std::string bad;
    auto flags = parse_flags({args.begin() + 1, args.end()}, {"--data-dir", "--clinician", "--patient", "--since"}, bad);
    if (!flags) return usage_error("unexpected or incomplete argument '" + bad + "'", kAuditHelp);
    if (!flags->contains("--data-dir")) return usage_error("--data-dir is required", kAuditHelp);
    auto store = open_store(flags->find("--data-dir")->second);
    if (!store) return error_exit(store.error());
    if (sub == "verify") {
        auto report = (*store)->verify_chain(std::nullopt);
        if (!report) return error_exit(report.error());
        if (report->ok) {
            std::cout << "chain ok: " << report->checked << " events verified\n";
            return 0;
        }
        std::cout << "chain BROKEN at seq " << report->first_bad_seq.value_or(0) << ": " << report->reason << " ("
                  << report->checked << " events checked)\n";
        return 1;
    }
    if (sub != "list") return usage_error("unknown audit subcommand '" + sub + "'", kAuditHelp);
    auto opt = [&](const char* name) {
        const auto it = flags->find(name);
        return it == flags->end() ? std::string() : it->second;
    };
    const auto clinician = opt("--clinician"), patient = opt("--patient"), since = opt("--since");
    Principal all;
    all.supervisor = true;
    std::int64_t cursor = 0;
    while (true) {
        auto page = (*store)->read_after(cursor, all, 1000);
        if (!page) return error_exit(page.error());
        if (page->empty()) break;
        for (const auto& e : *page) {
            cursor = e.seq;
            // The audit trail is what clinicians did: every event a clinician caused.
            if (e.actor.kind != ActorKind::clinician) continue;
            if (!clinician.empty() && e.actor.id.value_or("") != clinician) continue;
            if (!patient.empty() && e.patient_id.value_or("") != patient) continue;
            if (!since.empty() && e.time < since) continue;
            nlohmann::json line = {{"seq", e.seq},   {"time", e.time},
                                   {"type", to_string(e.type)}, {"clinician_id", e.actor.id.value_or("")}};
            if (e.patient_id) line["patient_id"] = *e.patient_id;
            // Never message text or notes: only what kind of thing was done to what.
            for (const char* k : {"action", "action_id", "target_id", "flag_id", "message_id", "state", "count",
                                  "conversation_id", "assigned_therapist_id", "instrument", "format",
                                  "instruments", "assessment_count"})
                if (e.payload.contains(k)) line[k] = e.payload[k];
            std::cout << line.dump() << "\n";
        }
    }
    return 0;
}

int cmd_config(const std::vector<std::string>& args) {
    if (args.size() != 1 || (args[0] != "--help" && args[0] != "-h"))
        return usage_error("usage: tandem-bridge config --help", kUsage);
    std::cout << "Config file keys (JSON; llm.* keys live in the \"llm\" object):\n\n";
    for (const auto& k : config_keys()) {
        std::cout << "  " << k.key << " (" << k.type << ")\n      " << k.doc << "\n";
    }
    std::cout << "\nDefaults:\n" << render_config(BridgeConfig{});
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        std::cerr << kUsage;
        return 2;
    }
    const std::string cmd = args.front();
    args.erase(args.begin());
    const bool help = args.size() == 1 && (args[0] == "--help" || args[0] == "-h");
    try {
        if (cmd == "--help" || cmd == "-h" || cmd == "help") {
            std::cout << kUsage;
            return 0;
        }
        if (cmd == "--version") return std::cout << "tandem-bridge " << TANDEM_VERSION << "\n", 0;
        if (cmd == "backup") return backup_command(args);
        if (cmd == "restore") return restore_command(args);
        if (cmd == "export") return export_command(args);
        if (cmd == "init") {
            if (help) return std::cout << kInitHelp, 0;
            return cmd_init(args);
        }
        if (cmd == "serve") {
            if (help) return std::cout << kServeHelp, 0;
            return cmd_serve(args);
        }
        if (cmd == "config") return cmd_config(args);
        if (cmd == "patient") {
            if (help) return std::cout << kPatientHelp, 0;
            return cmd_patient(args);
        }
        if (cmd == "clinician") {
            if (help) return std::cout << kClinicianHelp, 0;
            return cmd_clinician(args);
        }
        if (cmd == "policy") {
            if (help) return std::cout << kPolicyHelp, 0;
            return cmd_policy(args);
        }
        if (cmd == "audit") {
            if (help) return std::cout << kAuditHelp, 0;
            return cmd_audit(args);
        }
        if (cmd == "invite") {
            if (help) return std::cout << kInviteHelp, 0;
            return cmd_invite(args);
        }
    } catch (const std::exception& e) {
        std::cerr << "tandem-bridge: internal error: " << e.what() << "\n";
        return 1;
    }
    return usage_error("unknown command '" + cmd + "'", kUsage);
}
