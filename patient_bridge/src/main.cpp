// tandem-bridge: the clinic's server. Subcommands: init, serve, config. Errors go to stderr
// with exit status 1 (2 for bad usage); logs are JSON lines on stderr.

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
#include "tandem/bridge/server.h"

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

int usage_error(const std::string& message, const char* help) {
    std::cerr << "tandem-bridge: " << message << "\n\n" << help;
    return 2;
}

int error_exit(const Error& e) {
    std::cerr << "tandem-bridge: " << to_string(e.code) << ": " << e.describe() << "\n";
    return 1;
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

    Server server(so, metrics);
    // Until the turn pipeline lands (store dependency), /patient validates frames and answers ping.
    server.add_websocket_endpoint("/patient",
                                  std::make_shared<PatientEndpoint>(nullptr, metrics, config->rate_limit_per_minute));
    auto port = server.start();
    if (!port) return error_exit(port.error());
    log_event(LogLevel::info, "serving",
              {{"port", *port}, {"llm", config->llm.base_url.empty() ? "offline-companion" : "openai-compatible"}});
    server.wait_for_termination_signal();
    server.stop();
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
    } catch (const std::exception& e) {
        std::cerr << "tandem-bridge: internal error: " << e.what() << "\n";
        return 1;
    }
    return usage_error("unknown command '" + cmd + "'", kUsage);
}
