#include "tandem/clinician/session.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace tandem::clinician {
namespace {

using nlohmann::json;

std::string error_text(const json& error) {
    if (error.is_string()) return error.get<std::string>();
    if (error.is_object()) {
        std::string code = error.value("code", std::string{});
        std::string message = error.value("message", std::string{});
        return code.empty() ? message : code + ": " + message;
    }
    return {};
}

ErrorCode code_of(const std::string& name) {
    static constexpr ErrorCode kAll[] = {
        ErrorCode::invalid_argument, ErrorCode::parse,       ErrorCode::schema,   ErrorCode::not_found,
        ErrorCode::permission_denied, ErrorCode::conflict,   ErrorCode::wrong_key, ErrorCode::not_a_database,
        ErrorCode::too_new,          ErrorCode::storage,     ErrorCode::io,       ErrorCode::network,
        ErrorCode::timeout,          ErrorCode::unavailable, ErrorCode::internal};
    for (auto c : kAll) {
        if (to_string(c) == name) return c;
    }
    return ErrorCode::internal;
}

}  // namespace

FeedSession::FeedSession(Model& model, SessionListener& listener, Sender send)
    : model_(model), listener_(listener), send_(std::move(send)) {}

void FeedSession::set_credentials(std::string username, std::string password, std::string totp) {
    username_ = std::move(username);
    password_ = std::move(password);
    totp_ = std::move(totp);
    token_.clear();
}

void FeedSession::set_state(SessionState state) {
    if (state_ == state) return;
    state_ = state;
    listener_.on_state(state);
}

void FeedSession::send(const std::string& type, json payload) {
    if (!send_) return;
    send_(json{{"type", type}, {"id", new_uuid()}, {"time", format_utc(now_ms())}, {"payload", std::move(payload)}}.dump());
}

void FeedSession::on_open() {
    set_state(SessionState::authenticating);
    // A live session token survives a dropped socket: resume avoids sending the password again.
    if (!token_.empty()) {
        send("resume", {{"session_token", token_}});
        return;
    }
    if (password_.empty()) {
        // After a refused login the password is gone: resending an empty one would only earn
        // another refusal (and count towards the bridge's lockout).
        listener_.on_error(Error{ErrorCode::permission_denied, "log in again", {}}, true);
        return;
    }
    send_login();
}

void FeedSession::send_login() {
    json payload{{"username", username_}, {"password", password_}};
    if (!totp_.empty()) payload["totp"] = totp_;
    send("login", std::move(payload));
}

bool FeedSession::submit_totp(std::string code) {
    if (!awaiting_totp_ || state_ != SessionState::authenticating || password_.empty()) return false;
    awaiting_totp_ = false;
    totp_ = std::move(code);
    send_login();
    return true;
}

void FeedSession::forget_password() {
    std::fill(password_.begin(), password_.end(), '\0');
    password_.clear();
    // A one-time code is single use: never resend it with a later login.
    totp_.clear();
}

void FeedSession::send_action_frame(const ActionRequest& request) {
    if (!send_) return;
    std::string envelope = new_uuid();
    action_envelopes_[envelope] = request.action_id;
    send_(request.to_frame(envelope, now_ms()));
}

void FeedSession::on_closed() { set_state(SessionState::offline); }

void FeedSession::apply_event(const json& payload) {
    auto event = parse_stored_event(payload);
    if (!event) {
        listener_.on_error(event.error(), false);
        return;
    }
    const auto outcome = model_.apply(*event);
    listener_.on_event(*event, outcome, state_ == SessionState::live);
}

void FeedSession::on_frame(std::string_view text) {
    const json frame = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!frame.is_object() || !frame.contains("type") || !frame["type"].is_string()) {
        listener_.on_error(Error{ErrorCode::parse, "unreadable frame from the bridge", {}}, false);
        return;
    }
    const std::string type = frame["type"].get<std::string>();
    const json empty = json::object();
    const json& payload = frame.contains("payload") && frame["payload"].is_object() ? frame["payload"] : empty;
    try {
        if (type == "login_ok") {
            token_ = payload.value("session_token", std::string{});
            awaiting_totp_ = false;
            // The password has done its job; do not keep it around in memory.
            forget_password();
            if (payload.contains("clinician")) {
                if (auto self = parse_clinician(payload["clinician"])) model_.set_self(std::move(*self));
            }
            if (payload.contains("clinic_policy")) model_.set_policy(parse_policy(payload["clinic_policy"]));
            listener_.on_logged_in(model_.self());
            set_state(SessionState::syncing);
            // Batched: a backlog page or a live pass of the feed is one `events` frame, not one
            // frame (and TLS record) per event (docs/PERFORMANCE.md).
            send("subscribe", {{"after_seq", model_.cursor()}, {"batch", true}});
            // Actions sent before a drop may or may not have reached the bridge; the same
            // action_id makes the resend safe.
            action_envelopes_.clear();  // frames of the dropped connection get no answer now
            for (const auto& a : pending_.unanswered()) send_action_frame(a);
        } else if (type == "event") {
            apply_event(payload);
        } else if (type == "events") {
            // The same events a run of `event` frames would carry, in order; one that does not
            // parse is reported and skipped, as its own frame would be.
            if (!payload.contains("events") || !payload["events"].is_array()) {
                listener_.on_error(Error{ErrorCode::schema, "an 'events' frame without its events", "events"}, false);
                return;
            }
            for (const auto& e : payload["events"]) apply_event(e.is_object() ? e : empty);
        } else if (type == "caught_up") {
            head_seq_ = payload.value("head_seq", std::uint64_t{0});
            log_behind_cache_ = head_seq_ < model_.cursor();
            set_state(SessionState::live);
            listener_.on_caught_up(head_seq_);
        } else if (type == "action_result") {
            const std::string id = payload.value("action_id", std::string{});
            action_envelopes_.erase(payload.value("request_id", std::string{}));
            if (!pending_.complete(id)) return;  // a repeated result for a resent action
            const bool ok = payload.value("ok", false);
            listener_.on_action_result(id, ok, payload.contains("error") ? error_text(payload["error"]) : std::string{});
        } else if (type == "transcript") {
            std::vector<MessageInfo> messages;
            const std::string patient_id = payload.value("patient_id", std::string{});
            if (payload.contains("messages") && payload["messages"].is_array()) {
                for (const auto& m : payload["messages"]) {
                    if (auto parsed = parse_message(m)) {
                        if (parsed->patient_id.empty()) parsed->patient_id = patient_id;
                        messages.push_back(std::move(*parsed));
                    }
                }
            }
            model_.merge_transcript(messages);
            listener_.on_transcript(patient_id, messages.size());
        } else if (type == "assessments") {
            // No listener call: the outcome views redraw when the book's revision moves.
            model_.assessments().merge_reply(payload);
        } else if (type == "error") {
            const std::string code = payload.value("code", std::string{});
            Error error{code_of(code), payload.value("message", std::string{}), payload.value("field", std::string{})};
            std::string ref = payload.value("request_id", std::string{});
            if (ref.empty()) ref = payload.value("ref", std::string{});
            if (const auto it = action_envelopes_.find(ref); it != action_envelopes_.end()) {
                // The bridge refused the envelope carrying an action (schema, rate limit...): the
                // action will get no action_result, so it is answered here, or it would stay
                // pending and be resent after every reconnect.
                const std::string action_id = it->second;
                action_envelopes_.erase(it);
                if (pending_.complete(action_id)) {
                    listener_.on_action_result(action_id, false, code.empty() ? error.message : code + ": " + error.message);
                }
                return;
            }
            const bool authenticating = state_ == SessionState::authenticating;
            if (authenticating && code == "totp_required" && !password_.empty()) {
                // Keep the password for the second attempt; the person types the code.
                awaiting_totp_ = true;
                listener_.on_totp_required(error.message.empty() ? "This clinic requires a one-time code." : error.message);
                return;
            }
            if (authenticating) {
                // A refused login or an expired session: retrying the same thing cannot help,
                // the person has to log in again.
                token_.clear();
                awaiting_totp_ = false;
                forget_password();
            }
            listener_.on_error(error, authenticating);
        }
        // pong and unknown types need nothing.
    } catch (const json::exception&) {
        listener_.on_error(Error{ErrorCode::schema, "a field of a '" + type + "' frame had the wrong type", {}}, false);
    }
}

bool FeedSession::send_action(const ActionRequest& request) {
    if (!online()) return false;
    pending_.add(request);
    send_action_frame(request);
    return true;
}

bool FeedSession::withdraw_action(const std::string& action_id) {
    if (!pending_.complete(action_id)) return false;
    // Its envelopes too, so an envelope-level error about it later is not taken for an answer.
    std::erase_if(action_envelopes_, [&](const auto& entry) { return entry.second == action_id; });
    return true;
}

bool FeedSession::fetch_transcript(const std::string& patient_id, std::optional<std::uint64_t> before_seq, int limit) {
    if (!online()) return false;
    json payload{{"patient_id", patient_id}, {"limit", limit}};
    if (before_seq) payload["before_seq"] = *before_seq;
    send("fetch_transcript", std::move(payload));
    return true;
}

bool FeedSession::fetch_assessments(const std::string& patient_id) {
    if (!online()) return false;
    send("fetch_assessments", json{{"patient_id", patient_id}});
    return true;
}

std::chrono::milliseconds Backoff::next(double jitter) {
    jitter = std::clamp(jitter, 0.0, 1.0);
    const auto base = next_;
    next_ = std::min(next_ * 2, max_);
    return std::chrono::milliseconds{static_cast<std::int64_t>(static_cast<double>(base.count()) * (0.75 + 0.5 * jitter))};
}

std::string status_text(SessionState state, std::optional<std::chrono::milliseconds> retry_in) {
    switch (state) {
        case SessionState::offline: {
            std::string s = "Offline";
            if (retry_in) {
                const auto secs = std::chrono::ceil<std::chrono::seconds>(*retry_in).count();
                s += " \u2014 reconnecting in " + std::to_string(secs) + " s";
            }
            return s;
        }
        case SessionState::connecting: return "Connecting\u2026";
        case SessionState::authenticating: return "Logging in\u2026";
        case SessionState::syncing: return "Online \u2014 syncing\u2026";
        case SessionState::live: return "Online";
    }
    return "";
}

}  // namespace tandem::clinician
