#include "tandem/bridge/config.h"

#include <charconv>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace tandem::bridge {
namespace {

using nlohmann::json;

// One table drives the docs and the parser's list of accepted keys, so a key cannot be
// documented without being read or read without being documented.
const std::vector<ConfigKeyDoc> kKeys = {
    {"listen_host", "string", "Address to listen on. 127.0.0.1 keeps the bridge local; 0.0.0.0 serves the network."},
    {"listen_port", "integer", "TLS port for the chat page, /healthz, /metrics and the WebSockets."},
    {"tls_cert", "string", "PEM certificate chain; relative to the data dir. init writes a self-signed ECDSA P-256 one."},
    {"tls_key", "string", "PEM private key (mode 0600); relative to the data dir."},
    {"io_threads", "integer", "Threads running the network event loop (1 to 64)."},
    {"max_message_bytes", "integer", "Largest accepted text frame; larger ones get a too_large error and the connection stays."},
    {"max_frame_bytes", "integer", "Hard WebSocket frame limit; larger frames close the connection with status 1009."},
    {"send_queue_limit", "integer", "Frames queued to one client; a client this far behind is disconnected (it resumes on reconnect)."},
    {"handshake_timeout_seconds", "integer", "TLS and WebSocket handshake deadline."},
    {"idle_timeout_seconds", "integer", "A WebSocket peer silent this long (no data, no pong) is closed."},
    {"http_timeout_seconds", "integer", "Deadline for reading one HTTP request and writing its response."},
    {"turn_workers", "integer", "Threads that run patient turns. A turn waits on two durable commits (and on the LLM), so more threads let the store share each fsync among more turns."},
    {"read_cache_mb", "integer", "Memory (MiB) for the newest messages of each conversation, kept so a turn's context read touches no database page. Too small for the active conversations and every turn reads SQLCipher (about a fifth more CPU at 2,000 patients). 0: no cache."},
    {"rate_limit_per_minute", "integer", "Patient messages accepted per patient per minute; more get a rate_limited error."},
    {"urgent_sla_minutes", "integer", "Minutes a clinician has to acknowledge an urgent flag (safety protocol). Once `policy set` has run, the stored clinic policy wins."},
    {"second_escalation_minutes", "integer", "Minutes after an urgent flag's first escalation before it escalates again. Once `policy set` has run, the stored clinic policy wins."},
    {"session_idle_minutes", "integer", "A clinician session token unused this long expires (log in again)."},
    {"instruments_dir", "string", "Directory of extra questionnaire definitions (*.json, schemas/instrument.schema.json) added to the built-in PHQ-9, GAD-7, C-SSRS screener and WAI-SR; relative to the data dir. Empty: built-ins only. A bad file stops the bridge at start, naming it."},
    {"crisis_resources", "array", "Resources in the crisis message: [{name, contact, kind: phone|text|web|emergency}]. Once `policy set` has run, the stored clinic policy's en-US list wins."},
    {"log_level", "string", "debug | info | warn | error. Message text is never logged above debug."},
    {"plan_proposal_after_turns", "integer", "Patient turns of intake after which the AI (or the offline companion) proposes a treatment plan for clinician review; once per patient, a clinician's plan_request asks again. 0: only on request."},
    {"llm.base_url", "string", "OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434 (Ollama). Empty: offline companion."},
    {"llm.model", "string", "Model name sent to the provider."},
    {"llm.api_key_file", "string", "File holding the API key (first line). Never logged."},
    {"llm.api_key_env", "string", "Environment variable holding the API key when no file is given."},
    {"llm.connect_timeout_ms", "integer", "TCP/TLS connect deadline to the provider."},
    {"llm.idle_timeout_ms", "integer", "Give up when the provider sends no byte for this long (a hung stream)."},
    {"llm.total_timeout_ms", "integer", "Deadline for a whole reply."},
    {"llm.max_attempts", "integer", "Attempts per reply, retrying 429, 5xx and refused connections with backoff."},
    {"llm.backoff_initial_ms", "integer", "First retry delay; it doubles each retry (with jitter)."},
    {"llm.breaker_failures", "integer", "Consecutive failed replies that open the circuit breaker."},
    {"llm.breaker_cooldown_ms", "integer", "How long an open breaker fails fast before trying the provider again."},
    {"llm.max_tokens", "integer", "max_tokens sent with each request."},
    {"llm.temperature", "number", "Sampling temperature sent with each request."},
};

Result<std::int64_t> get_int(const json& j, std::string_view key, std::int64_t lo, std::int64_t hi) {
    if (!j.is_number_integer()) return fail(ErrorCode::invalid_argument, "expected an integer", std::string(key));
    const auto v = j.get<std::int64_t>();
    if (v < lo || v > hi)
        return fail(ErrorCode::invalid_argument,
                    "out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]", std::string(key));
    return v;
}

Result<std::string> get_string(const json& j, std::string_view key) {
    if (!j.is_string()) return fail(ErrorCode::invalid_argument, "expected a string", std::string(key));
    return j.get<std::string>();
}

// Applies one documented key; the caller has checked the key is in kKeys.
Result<void> apply(BridgeConfig& c, std::string_view key, const json& v) {
    auto set_int = [&](auto& field, std::int64_t lo, std::int64_t hi) -> Result<void> {
        auto r = get_int(v, key, lo, hi);
        if (!r) return std::unexpected(r.error());
        field = static_cast<std::remove_reference_t<decltype(field)>>(*r);
        return {};
    };
    auto set_ms = [&](std::chrono::milliseconds& field) -> Result<void> {
        auto r = get_int(v, key, 1, 3'600'000);
        if (!r) return std::unexpected(r.error());
        field = std::chrono::milliseconds(*r);
        return {};
    };
    auto set_s = [&](std::chrono::seconds& field) -> Result<void> {
        auto r = get_int(v, key, 1, 86'400);
        if (!r) return std::unexpected(r.error());
        field = std::chrono::seconds(*r);
        return {};
    };
    auto set_str = [&](std::string& field) -> Result<void> {
        auto r = get_string(v, key);
        if (!r) return std::unexpected(r.error());
        field = std::move(*r);
        return {};
    };
    if (key == "listen_host") return set_str(c.listen_host);
    if (key == "listen_port") return set_int(c.listen_port, 0, 65535);
    if (key == "tls_cert") return set_str(c.tls_cert);
    if (key == "tls_key") return set_str(c.tls_key);
    if (key == "io_threads") return set_int(c.io_threads, 1, 64);
    if (key == "max_message_bytes") return set_int(c.max_message_bytes, 256, 1 << 20);
    if (key == "max_frame_bytes") return set_int(c.max_frame_bytes, 1024, 16 << 20);
    if (key == "send_queue_limit") return set_int(c.send_queue_limit, 4, 1 << 16);
    if (key == "handshake_timeout_seconds") return set_s(c.handshake_timeout);
    if (key == "idle_timeout_seconds") return set_s(c.idle_timeout);
    if (key == "http_timeout_seconds") return set_s(c.http_timeout);
    if (key == "turn_workers") return set_int(c.turn_workers, 1, 1024);
    if (key == "read_cache_mb") return set_int(c.read_cache_mb, 0, 1 << 16);
    if (key == "rate_limit_per_minute") return set_int(c.rate_limit_per_minute, 1, 100'000);
    if (key == "urgent_sla_minutes") return set_int(c.urgent_sla_minutes, 1, 1440);
    if (key == "second_escalation_minutes") return set_int(c.second_escalation_minutes, 1, 1440);
    if (key == "session_idle_minutes") return set_int(c.session_idle_minutes, 1, 7 * 1440);
    if (key == "plan_proposal_after_turns") return set_int(c.plan_proposal_after_turns, 0, 1000);
    if (key == "instruments_dir") return set_str(c.instruments_dir);
    if (key == "log_level") {
        auto r = set_str(c.log_level);
        if (!r) return r;
        if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" && c.log_level != "error")
            return fail(ErrorCode::invalid_argument, "expected debug, info, warn or error", std::string(key));
        return {};
    }
    if (key == "crisis_resources") {
        if (!v.is_array() || v.empty())
            return fail(ErrorCode::invalid_argument, "expected a non-empty array", std::string(key));
        std::vector<CrisisResource> out;
        for (const auto& e : v) {
            if (!e.is_object() || !e.contains("name") || !e.contains("contact") || !e.contains("kind") ||
                !e["name"].is_string() || !e["contact"].is_string() || !e["kind"].is_string())
                return fail(ErrorCode::invalid_argument, "each entry needs string name, contact and kind",
                            std::string(key));
            CrisisResource r{e["name"], e["contact"], e["kind"]};
            if (r.kind != "phone" && r.kind != "text" && r.kind != "web" && r.kind != "emergency")
                return fail(ErrorCode::invalid_argument, "kind must be phone, text, web or emergency",
                            std::string(key));
            out.push_back(std::move(r));
        }
        c.crisis_resources = std::move(out);
        return {};
    }
    auto& l = c.llm;
    if (key == "llm.base_url") return set_str(l.base_url);
    if (key == "llm.model") return set_str(l.model);
    if (key == "llm.api_key_file") return set_str(l.api_key_file);
    if (key == "llm.api_key_env") return set_str(l.api_key_env);
    if (key == "llm.connect_timeout_ms") return set_ms(l.connect_timeout);
    if (key == "llm.idle_timeout_ms") return set_ms(l.idle_timeout);
    if (key == "llm.total_timeout_ms") return set_ms(l.total_timeout);
    if (key == "llm.max_attempts") return set_int(l.max_attempts, 1, 10);
    if (key == "llm.backoff_initial_ms") return set_ms(l.backoff_initial);
    if (key == "llm.breaker_failures") return set_int(l.breaker_failures, 1, 1000);
    if (key == "llm.breaker_cooldown_ms") return set_ms(l.breaker_cooldown);
    if (key == "llm.max_tokens") return set_int(l.max_tokens, 1, 32'768);
    if (key == "llm.temperature") {
        if (!v.is_number() || v.get<double>() < 0.0 || v.get<double>() > 2.0)
            return fail(ErrorCode::invalid_argument, "expected a number in [0, 2]", std::string(key));
        l.temperature = v.get<double>();
        return {};
    }
    return fail(ErrorCode::internal, "documented key without a reader", std::string(key));
}

bool is_known(std::string_view key) {
    for (const auto& k : kKeys)
        if (k.key == key) return true;
    return false;
}

}  // namespace

const std::vector<ConfigKeyDoc>& config_keys() { return kKeys; }

Result<BridgeConfig> parse_config(std::string_view json_text) {
    json root = json::parse(json_text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
    if (root.is_discarded()) return fail(ErrorCode::parse, "config is not valid JSON");
    if (!root.is_object()) return fail(ErrorCode::parse, "config must be a JSON object");
    BridgeConfig config;
    for (const auto& [key, value] : root.items()) {
        if (key == "_doc") continue;
        if (key == "llm") {
            if (!value.is_object()) return fail(ErrorCode::invalid_argument, "expected an object", "llm");
            for (const auto& [sub, sub_value] : value.items()) {
                if (sub == "_doc") continue;
                const std::string dotted = "llm." + sub;
                if (!is_known(dotted)) return fail(ErrorCode::invalid_argument, "unknown key", dotted);
                if (auto r = apply(config, dotted, sub_value); !r) return std::unexpected(r.error());
            }
            continue;
        }
        if (!is_known(key)) return fail(ErrorCode::invalid_argument, "unknown key", key);
        if (auto r = apply(config, key, value); !r) return std::unexpected(r.error());
    }
    return config;
}

Result<BridgeConfig> load_config(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return fail(ErrorCode::io, "cannot read config file", file.string());
    std::ostringstream text;
    text << in.rdbuf();
    auto r = parse_config(text.str());
    if (!r && r.error().field.empty()) r.error().field = file.string();
    return r;
}

std::string render_config(const BridgeConfig& c) {
    json doc = json::object();
    for (const auto& k : kKeys) doc[std::string(k.key)] = std::string(k.doc);
    json resources = json::array();
    for (const auto& r : c.crisis_resources)
        resources.push_back({{"name", r.name}, {"contact", r.contact}, {"kind", r.kind}});
    const auto& l = c.llm;
    json llm = {
        {"base_url", l.base_url},
        {"model", l.model},
        {"api_key_file", l.api_key_file},
        {"api_key_env", l.api_key_env},
        {"connect_timeout_ms", l.connect_timeout.count()},
        {"idle_timeout_ms", l.idle_timeout.count()},
        {"total_timeout_ms", l.total_timeout.count()},
        {"max_attempts", l.max_attempts},
        {"backoff_initial_ms", l.backoff_initial.count()},
        {"breaker_failures", l.breaker_failures},
        {"breaker_cooldown_ms", l.breaker_cooldown.count()},
        {"max_tokens", l.max_tokens},
        {"temperature", l.temperature},
    };
    json root = {
        {"_doc", doc},
        {"listen_host", c.listen_host},
        {"listen_port", c.listen_port},
        {"tls_cert", c.tls_cert},
        {"tls_key", c.tls_key},
        {"io_threads", c.io_threads},
        {"max_message_bytes", c.max_message_bytes},
        {"max_frame_bytes", c.max_frame_bytes},
        {"send_queue_limit", c.send_queue_limit},
        {"handshake_timeout_seconds", c.handshake_timeout.count()},
        {"idle_timeout_seconds", c.idle_timeout.count()},
        {"http_timeout_seconds", c.http_timeout.count()},
        {"turn_workers", c.turn_workers},
        {"read_cache_mb", c.read_cache_mb},
        {"rate_limit_per_minute", c.rate_limit_per_minute},
        {"urgent_sla_minutes", c.urgent_sla_minutes},
        {"second_escalation_minutes", c.second_escalation_minutes},
        {"session_idle_minutes", c.session_idle_minutes},
        {"instruments_dir", c.instruments_dir},
        {"crisis_resources", resources},
        {"log_level", c.log_level},
        {"plan_proposal_after_turns", c.plan_proposal_after_turns},
        {"llm", llm},
    };
    return root.dump(2) + "\n";
}

Result<std::pair<std::string, std::uint16_t>> parse_listen(std::string_view text) {
    std::string_view host;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return fail(ErrorCode::invalid_argument, "expected [IPV6]:PORT", "--listen");
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos) return fail(ErrorCode::invalid_argument, "expected HOST:PORT", "--listen");
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (host.empty() || ec != std::errc{} || end != port.data() + port.size() || value > 65535)
        return fail(ErrorCode::invalid_argument, "expected HOST:PORT with a port 0-65535", "--listen");
    return std::pair{std::string(host), static_cast<std::uint16_t>(value)};
}

}  // namespace tandem::bridge
