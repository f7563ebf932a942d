#pragma once
// The bridge's configuration: one JSON file, every key documented (config_keys()), each
// overridable by a command-line flag. Plain values only, so tests build one in code.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/domain/error.h"

namespace tandem::bridge {

/// One crisis resource shown to a patient in the safety protocol.
struct CrisisResource {
    std::string name;     ///< "988 Suicide & Crisis Lifeline"
    std::string contact;  ///< "988"
    std::string kind;     ///< phone | text | web | emergency
};

struct LlmSettings {
    std::string base_url;          ///< empty: the offline companion answers
    std::string model = "llama3";
    std::string api_key_file;      ///< read at start; the key is never logged
    std::string api_key_env = "TANDEM_LLM_API_KEY";
    std::chrono::milliseconds connect_timeout{3000};
    std::chrono::milliseconds idle_timeout{15000};   ///< no byte from the provider this long: give up
    std::chrono::milliseconds total_timeout{60000};
    int max_attempts = 3;                             ///< 1 + retries on 429, 5xx, refused
    std::chrono::milliseconds backoff_initial{250};
    int breaker_failures = 5;                         ///< consecutive failures that open the breaker
    std::chrono::milliseconds breaker_cooldown{30000};
    int max_tokens = 400;
    double temperature = 0.7;
};

struct BridgeConfig {
    std::string listen_host = "127.0.0.1";
    std::uint16_t listen_port = 8443;
    std::string tls_cert = "tls/cert.pem";  ///< relative paths are under the data dir
    std::string tls_key = "tls/key.pem";
    int io_threads = 2;
    std::size_t max_message_bytes = 8192;        ///< larger text frames get error "too_large"
    std::size_t max_frame_bytes = 1 << 20;       ///< larger frames close the socket (1009)
    std::size_t send_queue_limit = 256;          ///< frames queued to one client before it is dropped
    std::chrono::seconds handshake_timeout{10};
    std::chrono::seconds idle_timeout{60};       ///< WebSocket: no pong this long closes
    std::chrono::seconds http_timeout{15};
    int turn_workers = 128;                      ///< threads running patient turns (each blocks on commits)
    int read_cache_mb = 96;                      ///< the store's cache of conversation tails; 0: off
    int rate_limit_per_minute = 30;              ///< patient messages per patient per minute
    int urgent_sla_minutes = 5;
    int second_escalation_minutes = 15;          ///< after the first escalation, to the second
    int session_idle_minutes = 30;               ///< a clinician session token unused this long expires
    std::string instruments_dir;                 ///< extra questionnaire definitions (*.json); empty: built-ins only
    std::vector<CrisisResource> crisis_resources = {
        {"988 Suicide & Crisis Lifeline", "988", "phone"},
        {"988 Suicide & Crisis Lifeline (text)", "988", "text"},
        {"Emergency services", "911", "emergency"},
    };
    std::string log_level = "info";  ///< debug | info | warn | error
    int plan_proposal_after_turns = 6;  ///< intake turns before the first plan proposal; 0: on request only
    LlmSettings llm;
};

/// One documented key of the config file, for `config --help`, docs/CONFIG.md and the "_doc"
/// object init writes into the file.
struct ConfigKeyDoc {
    std::string_view key;   ///< dotted path, "llm.base_url"
    std::string_view type;  ///< "string", "integer", ...
    std::string_view doc;
};

/// Every key the config file accepts, in file order. Any thread.
const std::vector<ConfigKeyDoc>& config_keys();

/// Parses a config file's text. Unknown keys are an error (a typo must not be silently
/// ignored); missing keys keep their defaults. Errors: parse, invalid_argument (field = key).
Result<BridgeConfig> parse_config(std::string_view json_text);

/// Reads and parses a config file. Errors: io, parse, invalid_argument.
Result<BridgeConfig> load_config(const std::filesystem::path& file);

/// The config as JSON text with a "_doc" object documenting each key. Any thread.
std::string render_config(const BridgeConfig& config);

/// Parses "HOST:PORT" ("127.0.0.1:8443", "[::1]:8443"). Errors: invalid_argument.
Result<std::pair<std::string, std::uint16_t>> parse_listen(std::string_view text);

}  // namespace tandem::bridge
