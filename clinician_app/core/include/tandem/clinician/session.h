#pragma once
// The clinician protocol conversation (docs/PROTOCOL.md), free of sockets: it turns frames from
// the bridge into model updates and decides what to send (login or resume, subscribe from the
// cursor, resent actions). The network thread only carries its frames; tests drive it directly.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/clinician/actions.h"
#include "tandem/clinician/model.h"

namespace tandem::clinician {

enum class SessionState { offline, connecting, authenticating, syncing, live };

/// What the session tells the app. Default handlers do nothing.
class SessionListener {
public:
    virtual ~SessionListener() = default;
    virtual void on_state(SessionState) {}
    virtual void on_logged_in(const ClinicianInfo&) {}
    /// After each applied stored event; `live` is false while the backlog replays.
    virtual void on_event(const StoredEvent&, ApplyOutcome, bool /*live*/) {}
    virtual void on_caught_up(std::uint64_t /*head_seq*/) {}
    virtual void on_action_result(const std::string& /*action_id*/, bool /*ok*/, const std::string& /*error*/) {}
    virtual void on_transcript(const std::string& /*patient_id*/, std::size_t /*count*/) {}
    /// A login failure or a protocol error; `fatal` means retrying will not help (bad password).
    virtual void on_error(const Error&, bool /*fatal*/) {}
    /// The bridge wants a one-time code with this login (`totp_required`): ask for it and call
    /// FeedSession::submit_totp. `message` is the bridge's explanation.
    virtual void on_totp_required(const std::string& /*message*/) {}
};

/// GUI thread only (the network thread posts frames to it through ui::post).
class FeedSession {
public:
    using Sender = std::function<void(std::string frame)>;

    FeedSession(Model& model, SessionListener& listener, Sender send);

    /// Credentials for the next login; the password is forgotten after login_ok or failure.
    void set_credentials(std::string username, std::string password, std::string totp = {});
    /// The transport connected (TLS and WebSocket up): logs in or resumes.
    void on_open();
    /// One text frame from the bridge.
    void on_frame(std::string_view text);
    /// The transport dropped; the model and cursor stay for the next on_open().
    void on_closed();
    /// Logs in again with a one-time code after on_totp_required; false when no code is awaited.
    bool submit_totp(std::string code);
    /// True between on_totp_required and the next answer to a login.
    bool awaiting_totp() const { return awaiting_totp_; }
    /// Sends an action now (online) and remembers it until its result (an `action_result`, or an
    /// envelope-level `error` naming the frame that carried it); false when offline.
    bool send_action(const ActionRequest& request);
    /// Stops waiting for an unanswered action (an export that gave up on its audit): it is not
    /// resent after a reconnect, and a late answer for it reaches no listener. False when it was
    /// not waiting (answered already, or unknown).
    bool withdraw_action(const std::string& action_id);
    /// Asks for a patient's transcript (older history before `before_seq` when given).
    bool fetch_transcript(const std::string& patient_id, std::optional<std::uint64_t> before_seq = {},
                          int limit = 200);

    /// Asks for a patient's scored questionnaires (`fetch_assessments`); the `assessments` reply
    /// goes into model().assessments(). False when offline.
    bool fetch_assessments(const std::string& patient_id);

    SessionState state() const { return state_; }
    bool online() const { return state_ == SessionState::syncing || state_ == SessionState::live; }
    const std::string& session_token() const { return token_; }
    std::uint64_t head_seq() const { return head_seq_; }
    /// True when the last `caught_up` put the bridge's head below the cursor the cache resumed
    /// from: not the log the cache was filled from (a bridge restored from an older backup), so
    /// what the cache shows past head_seq() may no longer exist on the bridge.
    bool log_behind_cache() const { return log_behind_cache_; }
    const PendingActions& pending() const { return pending_; }

private:
    void send(const std::string& type, nlohmann::json payload);
    void set_state(SessionState state);
    void send_login();
    void send_action_frame(const ActionRequest& request);
    void apply_event(const nlohmann::json& payload);  // one stored event of an event or events frame
    void forget_password();

    Model& model_;
    SessionListener& listener_;
    Sender send_;
    SessionState state_ = SessionState::offline;
    std::string username_;
    std::string password_;
    std::string totp_;
    std::string token_;
    std::uint64_t head_seq_ = 0;
    bool log_behind_cache_ = false;
    bool awaiting_totp_ = false;
    PendingActions pending_;
    // Envelope id -> action id: the bridge's envelope-level `error` names only the envelope.
    std::map<std::string, std::string> action_envelopes_;
};

/// Exponential backoff with jitter for reconnecting: 0.5 s doubling to 30 s. GUI or network thread.
class Backoff {
public:
    Backoff(std::chrono::milliseconds initial = std::chrono::milliseconds{500},
            std::chrono::milliseconds max = std::chrono::seconds{30})
        : initial_(initial), max_(max), next_(initial) {}
    /// The next delay; `jitter` in [0,1) scales it by 0.75..1.25 (pass a random value).
    std::chrono::milliseconds next(double jitter);
    void reset() { next_ = initial_; }

private:
    std::chrono::milliseconds initial_;
    std::chrono::milliseconds max_;
    std::chrono::milliseconds next_;
};

/// Status-bar text for a state: "Online", "Syncing…", "Offline — reconnecting in 4 s". Any thread.
std::string status_text(SessionState state, std::optional<std::chrono::milliseconds> retry_in = {});

}  // namespace tandem::clinician
