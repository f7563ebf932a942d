#pragma once
// The AI side of a turn: a ChatModel is either the OpenAI-compatible HTTP client (Ollama,
// llama.cpp's server, vLLM, OpenAI) or the offline companion. Both are blocking calls made from
// a worker thread, never from an Asio thread.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "tandem/bridge/config.h"
#include "tandem/domain/error.h"

namespace tandem::bridge {

struct ChatMessage {
    std::string role;  ///< system | user | assistant
    std::string content;
};

struct ChatRequest {
    std::vector<ChatMessage> messages;   ///< system prompt first, then the conversation window
    std::vector<std::string> homework;   ///< from the approved plan; the offline companion suggests it
    /// The patient's last message screened moderate or above: the reply must respond to the
    /// risk (safety check, care team, crisis line), or the AI screen holds it as ignoring risk.
    bool risk_disclosed = false;
    /// Short titles ("PHQ-9") of questionnaires offered since the last turn: the same list the
    /// system prompt's questionnaire line names (AssessmentFlow::take_offered). The offline
    /// companion mentions them once; empty on a crisis or held turn, which leaves them for later.
    std::vector<std::string> offered_questionnaires;
    /// Ask the provider for a JSON object (response_format json_object): plan proposals.
    bool json_mode = false;
    /// Overrides llm.max_tokens when > 0 (a plan needs more room than a chat reply).
    int max_tokens = 0;
    /// The approved plan's guidance, for the offline companion (an LLM reads it in the system
    /// prompt). plan_version 0: no approved plan, the clinic default applies.
    struct PlanGuidance {
        int plan_version = 0;
        std::string tone;
        std::vector<std::string> interventions;  ///< names, e.g. "behavioural activation"
        std::vector<std::string> avoid_topics;
    } plan;
};

struct ChatReply {
    std::string text;
    std::string model;          ///< what produced it ("tandem-offline-companion/<version>" or the provider's model)
    std::string finish_reason;  ///< "stop", "length", ...
    int attempts = 1;
    bool offline = false;
};

/// Receives a reply as it comes: each piece as it streams, in order, and, from a model that
/// holds the whole reply before its first piece (the offline companion; a provider that answered
/// one JSON object), that whole text once, before any piece. The turn screens such a reply once,
/// whole, before any of it is shown, instead of re-screening the prefix at every sentence. Built
/// from a callable like the std::function it replaces, so `complete(request, lambda)`, `{}` and
/// `nullptr` read as before. Called on the model's thread.
class DeltaSink {
public:
    using Piece = std::function<void(std::string_view delta)>;
    using Whole = std::function<void(std::string_view text)>;

    /// No receiver: pieces and the whole text are dropped.
    DeltaSink() = default;
    /// No receiver, as `DeltaSink{}`.
    DeltaSink(std::nullptr_t) {}  // NOLINT(google-explicit-constructor)
    /// Pieces go to `piece`; a whole text announced first is dropped.
    template <class F>
        requires(!std::is_same_v<std::remove_cvref_t<F>, DeltaSink> && std::is_invocable_v<F&, std::string_view>)
    DeltaSink(F piece) : piece_(std::move(piece)) {}  // NOLINT(google-explicit-constructor)
    /// Pieces to `piece`, the whole text (when the model has it first) to `whole`.
    DeltaSink(Piece piece, Whole whole) : piece_(std::move(piece)), whole_(std::move(whole)) {}

    /// Hands on one piece (nothing without a receiver).
    void operator()(std::string_view delta) const {
        if (piece_) piece_(delta);
    }
    /// True when someone receives the pieces (a model may then skip splitting its text).
    explicit operator bool() const noexcept { return static_cast<bool>(piece_); }
    /// For a model that holds the whole reply before streaming it: call once, before the first
    /// piece, with exactly the text the pieces then add up to and the reply returns.
    void whole(std::string_view text) const {
        if (whole_) whole_(text);
    }

private:
    Piece piece_;
    Whole whole_;
};

class ChatModel {
public:
    virtual ~ChatModel() = default;
    /// Produces a reply, streaming pieces to on_delta. Blocking: call from a worker thread.
    /// `cancel` (optional) aborts promptly when set. Errors: unavailable (endpoint dead, 5xx/429
    /// after retries, breaker open), timeout (no byte for idle_timeout, or total_timeout),
    /// permission_denied (401/403), invalid_argument (other 4xx), parse (malformed stream),
    /// network (dropped mid-reply; on_delta may have seen part of it). Thread-safe.
    virtual Result<ChatReply> complete(const ChatRequest& request, const DeltaSink& on_delta,
                                       const std::atomic<bool>* cancel = nullptr) = 0;
    /// The model name recorded on AI messages. Any thread.
    virtual std::string model_name() const = 0;
    /// True for the offline companion, which cannot write free-form JSON: plan proposals then
    /// come from condition templates (plan_proposal.h). Any thread.
    virtual bool offline() const noexcept { return false; }
};

/// Splits a server-sent-events byte stream into events (the data lines of each, joined by
/// '\n'). Fed in arbitrary chunks. One per stream; not thread-safe.
class SseParser {
public:
    static constexpr std::size_t kMaxEventBytes = 1 << 20;
    /// Calls on_event for each complete event in `bytes`. Errors: parse when one event grows
    /// past kMaxEventBytes (a broken or hostile provider must not grow memory without bound).
    Result<void> feed(std::string_view bytes, const std::function<void(std::string_view data)>& on_event);

private:
    std::string line_;   // the incomplete line carried between chunks
    std::string data_;   // data lines of the current event
    bool has_data_ = false;
    bool skip_lf_ = false;  // the last chunk ended in '\r'; a leading '\n' belongs to it
};

/// Reads the API key: the first line of settings.api_key_file, else the environment variable
/// settings.api_key_env, else empty (local servers need none). Errors: io. Any thread.
Result<std::string> read_api_key(const LlmSettings& settings);

/// The OpenAI Chat Completions client (POST {base_url}/v1/chat/completions, stream: true) with
/// retries, backoff and a circuit breaker. The key is sent as a Bearer token and never logged.
std::unique_ptr<ChatModel> make_openai_client(LlmSettings settings, std::string api_key);

/// The offline companion: deterministic, supportive, CBT/behavioural-activation informed,
/// clearly labelled offline, never gives means or medication advice.
std::unique_ptr<ChatModel> make_offline_companion();

}  // namespace tandem::bridge
