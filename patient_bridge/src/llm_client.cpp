#include "tandem/bridge/llm.h"

#include <curl/curl.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include "tandem/bridge/log.h"

namespace tandem::bridge {

// ---------------------------------------------------------------------------------------------
// SSE (https://html.spec.whatwg.org/multipage/server-sent-events.html): lines end in LF, CR or
// CRLF; "data:" lines accumulate; a blank line dispatches; lines starting with ':' are comments.
Result<void> SseParser::feed(std::string_view bytes, const std::function<void(std::string_view)>& on_event) {
    auto end_line = [&]() -> Result<void> {
        if (line_.empty()) {
            if (has_data_) on_event(data_);
            data_.clear();
            has_data_ = false;
            return {};
        }
        std::string_view line = line_;
        std::string_view field = line;
        std::string_view value;
        if (const auto colon = line.find(':'); colon != std::string_view::npos) {
            field = line.substr(0, colon);
            value = line.substr(colon + 1);
            if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        }
        if (field == "data") {
            if (has_data_) data_ += '\n';
            data_ += value;
            has_data_ = true;
        }
        // event:, id:, retry: and comments are irrelevant to chat completions.
        line_.clear();
        return {};
    };
    for (const char c : bytes) {
        if (skip_lf_) {
            skip_lf_ = false;
            if (c == '\n') continue;
        }
        if (c == '\r' || c == '\n') {
            skip_lf_ = c == '\r';
            if (auto r = end_line(); !r) return r;
            continue;
        }
        line_ += c;
        if (line_.size() + data_.size() > kMaxEventBytes) return fail(ErrorCode::parse, "SSE event too large");
    }
    return {};
}

Result<std::string> read_api_key(const LlmSettings& settings) {
    if (!settings.api_key_file.empty()) {
        std::ifstream in(settings.api_key_file);
        if (!in) return fail(ErrorCode::io, "cannot read API key file", settings.api_key_file);
        std::string key;
        std::getline(in, key);
        while (!key.empty() && (key.back() == '\r' || key.back() == ' ')) key.pop_back();
        return key;
    }
    if (!settings.api_key_env.empty())
        if (const char* v = std::getenv(settings.api_key_env.c_str()); v != nullptr) return std::string(v);
    return std::string();
}

namespace {

using Clock = std::chrono::steady_clock;

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlFree { void operator()(CURL* c) const { curl_easy_cleanup(c); } };
struct SlistFree { void operator()(curl_slist* s) const { curl_slist_free_all(s); } };

// State of one HTTP attempt, reached from curl's callbacks.
struct Attempt {
    CURL* curl = nullptr;
    const DeltaSink* on_delta = nullptr;
    const std::atomic<bool>* cancel = nullptr;
    std::chrono::milliseconds idle_timeout{};
    Clock::time_point last_byte = Clock::now();
    bool idle_expired = false;
    long status = 0;
    bool sse = false;            // content type text/event-stream
    std::string raw;             // non-SSE body (errors, non-streaming replies), bounded
    SseParser parser;
    std::string text;
    std::string model;
    std::string finish_reason;
    bool done = false;           // saw [DONE]
    std::optional<Error> stream_error;
    std::size_t deltas = 0;

    void on_event(std::string_view data) {
        if (stream_error || done) return;
        if (data == "[DONE]") {
            done = true;
            return;
        }
        auto j = nlohmann::json::parse(data, nullptr, false);
        if (j.is_discarded() || !j.is_object()) {
            stream_error = Error{ErrorCode::parse, "malformed chunk from the LLM provider", {}};
            return;
        }
        if (j.contains("error")) {
            stream_error = Error{ErrorCode::unavailable, "the LLM provider reported an error mid-stream", {}};
            return;
        }
        if (j.contains("model") && j["model"].is_string()) model = j["model"];
        if (!j.contains("choices") || !j["choices"].is_array()) {
            stream_error = Error{ErrorCode::parse, "chunk without choices", {}};
            return;
        }
        if (j["choices"].empty()) return;  // usage-only chunks
        const auto& choice = j["choices"][0];
        if (!choice.is_object()) {
            stream_error = Error{ErrorCode::parse, "chunk choice is not an object", {}};
            return;
        }
        if (choice.contains("delta") && choice["delta"].is_object() && choice["delta"].contains("content") &&
            choice["delta"]["content"].is_string()) {
            const std::string piece = choice["delta"]["content"];
            if (!piece.empty()) {
                text += piece;
                ++deltas;
                if (*on_delta) (*on_delta)(piece);
            }
        }
        if (choice.contains("finish_reason") && choice["finish_reason"].is_string())
            finish_reason = choice["finish_reason"];
    }
};

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
    auto* a = static_cast<Attempt*>(user);
    std::string_view h(data, size * n);
    a->last_byte = Clock::now();
    constexpr std::string_view kType = "content-type:";
    if (h.size() > kType.size()) {
        std::string lower(h.substr(0, kType.size()));
        for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (lower == kType) a->sse = h.find("text/event-stream") != std::string_view::npos;
    }
    return size * n;
}

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
    auto* a = static_cast<Attempt*>(user);
    const std::string_view bytes(data, size * n);
    a->last_byte = Clock::now();
    if (a->status == 0) curl_easy_getinfo(a->curl, CURLINFO_RESPONSE_CODE, &a->status);
    if (a->status == 200 && a->sse) {
        auto r = a->parser.feed(bytes, [a](std::string_view ev) { a->on_event(ev); });
        if (!r && !a->stream_error) a->stream_error = r.error();
        return a->stream_error ? 0 : bytes.size();  // 0 aborts the transfer: nothing more is useful
    }
    if (a->raw.size() + bytes.size() > (1u << 20)) return 0;
    a->raw.append(bytes);
    return bytes.size();
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* a = static_cast<Attempt*>(user);
    if (a->cancel != nullptr && a->cancel->load()) return 1;
    // Our own idle timer: curl's LOW_SPEED_TIME has one-second granularity and counts slow
    // trickles as alive; a provider that stops sending must be given up on promptly.
    if (Clock::now() - a->last_byte > a->idle_timeout) {
        a->idle_expired = true;
        return 1;
    }
    return 0;
}

class OpenAiClient final : public ChatModel {
public:
    OpenAiClient(LlmSettings s, std::string key) : settings_(std::move(s)), key_(std::move(key)) { global_init(); }
    ~OpenAiClient() override { OPENSSL_cleanse(key_.data(), key_.size()); }

    std::string model_name() const override { return settings_.model; }

    Result<ChatReply> complete(const ChatRequest& request, const DeltaSink& on_delta,
                               const std::atomic<bool>* cancel) override {
        if (breaker_open()) return fail(ErrorCode::unavailable, "LLM circuit breaker open");
        std::chrono::milliseconds backoff = settings_.backoff_initial;
        Error last{ErrorCode::unavailable, "no attempt made", {}};
        for (int attempt = 1; attempt <= settings_.max_attempts; ++attempt) {
            bool retryable = false;
            bool streamed = false;
            auto r = attempt_once(request, on_delta, cancel, retryable, streamed);
            if (r) {
                r->attempts = attempt;
                record(true);
                return r;
            }
            last = r.error();
            // Never retry once the patient has seen part of a reply: a second stream would
            // repeat or contradict it.
            if (!retryable || streamed || attempt == settings_.max_attempts) break;
            log_event(LogLevel::info, "llm_retry", {{"attempt", attempt}, {"error", to_string(last.code)}});
            if (!sleep_for(backoff + jitter(backoff), cancel)) break;
            backoff *= 2;
        }
        record(false);
        return std::unexpected(last);
    }

private:
    Result<ChatReply> attempt_once(const ChatRequest& request, const DeltaSink& on_delta,
                                   const std::atomic<bool>* cancel, bool& retryable, bool& streamed) {
        std::unique_ptr<CURL, CurlFree> curl(curl_easy_init());
        if (!curl) return fail(ErrorCode::internal, "curl_easy_init failed");
        nlohmann::json messages = nlohmann::json::array();
        for (const auto& m : request.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
        nlohmann::json request_body{{"model", settings_.model},
                                    {"messages", messages},
                                    {"stream", true},
                                    {"max_tokens", request.max_tokens > 0 ? request.max_tokens : settings_.max_tokens},
                                    {"temperature", settings_.temperature}};
        // Plan proposals: OpenAI, Ollama, llama.cpp's server and vLLM all accept json_object;
        // the reply is still validated (and repaired or retried) by the proposer.
        if (request.json_mode) request_body["response_format"] = {{"type", "json_object"}};
        const std::string body = request_body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        std::string base = settings_.base_url;
        while (!base.empty() && base.back() == '/') base.pop_back();
        // Accept both "http://host:11434" and "http://host:11434/v1" as the base URL.
        const std::string url = base.ends_with("/v1") ? base + "/chat/completions" : base + "/v1/chat/completions";

        curl_slist* raw_headers = nullptr;
        raw_headers = curl_slist_append(raw_headers, "Content-Type: application/json");
        raw_headers = curl_slist_append(raw_headers, "Accept: text/event-stream");
        if (!key_.empty()) {
            std::string auth = "Authorization: Bearer " + key_;
            raw_headers = curl_slist_append(raw_headers, auth.c_str());
            OPENSSL_cleanse(auth.data(), auth.size());
        }
        std::unique_ptr<curl_slist, SlistFree> headers(raw_headers);

        Attempt a;
        a.curl = curl.get();
        a.on_delta = &on_delta;
        a.cancel = cancel;
        a.idle_timeout = settings_.idle_timeout;
        CURL* c = curl.get();
        curl_easy_setopt(c, CURLOPT_URL, url.c_str());
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // signals are unsafe with threads
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings_.connect_timeout.count()));
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.total_timeout.count()));
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &a);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, &a);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);

        a.last_byte = Clock::now();
        const CURLcode rc = curl_easy_perform(c);
        streamed = a.deltas > 0;
        if (a.status == 0) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a.status);

        if (a.stream_error) return std::unexpected(*a.stream_error);
        if (rc != CURLE_OK) {
            if (a.idle_expired) return fail(ErrorCode::timeout, "the LLM provider stopped sending");
            if (cancel != nullptr && cancel->load()) return fail(ErrorCode::unavailable, "cancelled");
            if (rc == CURLE_OPERATION_TIMEDOUT) return fail(ErrorCode::timeout, "the LLM provider timed out");
            if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST) {
                retryable = true;
                return fail(ErrorCode::unavailable, std::string("cannot reach the LLM provider: ") + curl_easy_strerror(rc));
            }
            if (streamed) return fail(ErrorCode::network, "the LLM reply dropped mid-stream");
            retryable = true;
            return fail(ErrorCode::network, std::string("LLM transfer failed: ") + curl_easy_strerror(rc));
        }
        if (a.status == 429 || a.status >= 500) {
            retryable = true;
            return fail(ErrorCode::unavailable, "the LLM provider answered HTTP " + std::to_string(a.status));
        }
        if (a.status == 401 || a.status == 403) return fail(ErrorCode::permission_denied, "the LLM provider refused the API key");
        if (a.status != 200) return fail(ErrorCode::invalid_argument, "the LLM provider answered HTTP " + std::to_string(a.status));

        if (!a.sse) {
            // A provider that ignores stream:true answers one JSON object.
            auto j = nlohmann::json::parse(a.raw, nullptr, false);
            if (j.is_discarded() || !j.contains("choices") || !j["choices"].is_array() || j["choices"].empty() ||
                !j["choices"][0].contains("message") || !j["choices"][0]["message"].contains("content") ||
                !j["choices"][0]["message"]["content"].is_string())
                return fail(ErrorCode::parse, "malformed reply from the LLM provider");
            a.text = j["choices"][0]["message"]["content"];
            if (on_delta && !a.text.empty()) {
                on_delta.whole(a.text);  // known whole before any of it is shown: one screen
                on_delta(a.text);
            }
            a.done = true;
        }
        if (!a.done && a.finish_reason.empty())
            return fail(streamed ? ErrorCode::network : ErrorCode::parse, "the LLM stream ended without finishing");
        ChatReply reply;
        reply.text = std::move(a.text);
        reply.model = a.model.empty() ? settings_.model : a.model;
        reply.finish_reason = a.finish_reason.empty() ? "stop" : a.finish_reason;
        return reply;
    }

    bool breaker_open() {
        const std::lock_guard lock(mutex_);
        return consecutive_failures_ >= settings_.breaker_failures && Clock::now() < open_until_;
    }

    void record(bool ok) {
        const std::lock_guard lock(mutex_);
        if (ok) {
            consecutive_failures_ = 0;
            return;
        }
        if (++consecutive_failures_ >= settings_.breaker_failures) {
            open_until_ = Clock::now() + settings_.breaker_cooldown;
            log_event(LogLevel::warn, "llm_breaker_open", {{"failures", consecutive_failures_}});
        }
    }

    std::chrono::milliseconds jitter(std::chrono::milliseconds base) {
        const std::lock_guard lock(mutex_);
        std::uniform_int_distribution<long> d(0, std::max<long>(1, static_cast<long>(base.count() / 4)));
        return std::chrono::milliseconds(d(rng_));
    }

    // Sleeps in small steps so a cancel (shutdown) is honoured; false when cancelled.
    static bool sleep_for(std::chrono::milliseconds d, const std::atomic<bool>* cancel) {
        const auto until = Clock::now() + d;
        while (Clock::now() < until) {
            if (cancel != nullptr && cancel->load()) return false;
            std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::milliseconds(20), until - Clock::now()));
        }
        return true;
    }

    const LlmSettings settings_;
    std::string key_;  // wiped in the destructor; curl keeps its own copy of the header
    std::mutex mutex_;
    int consecutive_failures_ = 0;
    Clock::time_point open_until_{};
    std::minstd_rand rng_{std::random_device{}()};
};

}  // namespace

std::unique_ptr<ChatModel> make_openai_client(LlmSettings settings, std::string api_key) {
    return std::make_unique<OpenAiClient>(std::move(settings), std::move(api_key));
}

}  // namespace tandem::bridge
