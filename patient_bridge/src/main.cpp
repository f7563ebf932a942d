// tandem-bridge: the clinic's server. Subcommands: init, serve, config. Errors go to stderr
// with exit status 1 (2 for bad usage); logs are JSON lines on stderr.

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tandem/bridge/config.h"
#include "tandem/bridge/init.h"
#include "tandem/bridge/llm.h"
#include "tandem/bridge/log.h"
#include "tandem/bridge/metrics.h"
#include "tandem/bridge/patient_endpoint.h"
#include "tandem/bridge/patient_service.h"
#include "tandem/bridge/server.h"
#include "tandem/crypto/key_file.h"
#include "tandem/store/sqlcipher_store.h"

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
    "  patient  add a patient: patient add --data-dir DIR --name NAME [--locale en-US]\n"
    "  invite   issue a one-time invite code: invite --data-dir DIR --patient ID\n"
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
    "\n"
    "Registers a patient in the store and prints the new patient id.\n";

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
tandem::Result<std::unique_ptr<tandem::SqlcipherStore>> open_store(const std::filesystem::path& data_dir) {
    auto key = tandem::load_key_file(data_dir / "store.key");
    if (!key) return std::unexpected(key.error());
    return tandem::SqlcipherStore::open(data_dir / "tandem.db", key->bytes());
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

int cmd_init(const std::vector<std::string>& args) {
    std::string bad;
    auto flags = parse_flags(args, {"--data-dir", "--host", "--password-file"}, bad);
    if (!flags) return usage_error("unexpected or incomplete argument '" + bad + "'", kInitHelp);
    if (!flags->contains("--data-dir")) return usage_error("--data-dir is required", kInitHelp);
    InitOptions o;
    o.data_dir = flags->find("--data-dir")->second;
    for (auto [it, end] = flags->equal_range("--host"); it != end; ++it) o.hosts.push_back(it->second);
    if (auto it = flags->find("--password-file"); it != flags->end()) o.password_file = it->second;
    auto r = init_data_dir(o);
    if (!r) return error_exit(r.error());
    std::cout << "initialised " << o.data_dir.string() << "\n"
              << "  config:      " << r->config_file.string() << "\n"
              << "  certificate: " << r->cert_file.string() << "\n"
              << "  key:         " << r->key_file.string() << " (mode 0600)\n"
              << "  SHA-256 fingerprint: " << r->fingerprint << "\n"
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

    auto store = open_store(data_dir);
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
    PatientServiceOptions po;
    po.crisis_resources = config->crisis_resources;
    po.urgent_sla_minutes = config->urgent_sla_minutes;
    po.messages_per_minute = config->rate_limit_per_minute;
    auto service = PatientService::create(**store, **screener, *model, metrics, po);
    if (!service) return error_exit(service.error());

    Server server(so, metrics);
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
    return 0;
}

int cmd_patient(const std::vector<std::string>& args) {
    if (args.empty() || args[0] != "add") return usage_error("expected 'patient add'", kPatientHelp);
    std::string bad;
    auto flags = parse_flags({args.begin() + 1, args.end()}, {"--data-dir", "--name", "--locale"}, bad);
    if (!flags) return usage_error("unexpected or incomplete argument '" + bad + "'", kPatientHelp);
    if (!flags->contains("--data-dir") || !flags->contains("--name"))
        return usage_error("--data-dir and --name are required", kPatientHelp);
    auto store = open_store(flags->find("--data-dir")->second);
    if (!store) return error_exit(store.error());
    Metrics metrics;
    auto screener = make_placeholder_screener();
    auto model = make_offline_companion();
    auto service = PatientService::create(**store, *screener, *model, metrics, PatientServiceOptions{});
    if (!service) return error_exit(service.error());
    const auto locale = flags->contains("--locale") ? flags->find("--locale")->second : std::string("en-US");
    auto id = (*service)->register_patient(flags->find("--name")->second, locale);
    if (!id) return error_exit(id.error());
    std::cout << *id << "\n";
    return 0;
}

int cmd_invite(const std::vector<std::string>& args) {
    std::string bad;
    auto flags = parse_flags(args, {"--data-dir", "--patient"}, bad);
    if (!flags) return usage_error("unexpected or incomplete argument '" + bad + "'", kInviteHelp);
    if (!flags->contains("--data-dir") || !flags->contains("--patient"))
        return usage_error("--data-dir and --patient are required", kInviteHelp);
    auto store = open_store(flags->find("--data-dir")->second);
    if (!store) return error_exit(store.error());
    Metrics metrics;
    auto screener = make_placeholder_screener();
    auto model = make_offline_companion();
    auto service = PatientService::create(**store, *screener, *model, metrics, PatientServiceOptions{});
    if (!service) return error_exit(service.error());
    auto code = (*service)->issue_invite(flags->find("--patient")->second);
    if (!code) return error_exit(code.error());
    std::cout << *code << "\n";
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
