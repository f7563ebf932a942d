#include "live_session.h"

#include <wx/msgdlg.h>
#include <wx/textdlg.h>

#include "main_frame.h"
#include "tandem/clinician/plan_history.h"
#include "outcome_pane.h"
#include "tandem/clinician/session.h"

namespace tandem::clinician::views {
namespace {

wxString u8(const std::string& s) { return wxString::FromUTF8(s.data(), s.size()); }

std::string_view text_of(const SecretBuffer& b) {
    return {reinterpret_cast<const char*>(b.bytes().data()), b.size()};
}

}  // namespace

/// Forwards the session's news to the window and to the LiveSession (cache, one-time code).
class SessionRelay : public SessionListener {
public:
    explicit SessionRelay(LiveSession& live) : live_(live) {}
    void on_state(SessionState s) override { live_.frame_->on_state(s); }
    void on_logged_in(const ClinicianInfo& c) override {
        live_.frame_->on_logged_in(c);
        live_.on_logged_in();
    }
    void on_event(const StoredEvent& e, ApplyOutcome o, bool live) override { live_.frame_->on_event(e, o, live); }
    void on_caught_up(std::uint64_t head) override {
        live_.frame_->on_caught_up(head);
        if (live_.session_->log_behind_cache()) {
            // In the connection field, which stays until the state changes: the first status
            // field is rewritten with the flag counts on every refresh.
            live_.frame_->set_online(true, status_text(SessionState::live) +
                                               "  \u2014  the bridge's log is behind this cache (restored from a "
                                               "backup?); ask your administrator");
        }
        live_.save_cache();
    }
    void on_action_result(const std::string& id, bool ok, const std::string& error) override {
        live_.frame_->on_action_result(id, ok, error);
    }
    void on_transcript(const std::string& patient_id, std::size_t count) override {
        live_.frame_->on_transcript(patient_id, count);
    }
    void on_totp_required(const std::string& message) override { live_.on_totp_required(message); }
    void on_error(const Error& error, bool fatal) override {
        if (fatal) live_.on_fatal();
        live_.frame_->on_error(error, fatal);
    }

private:
    LiveSession& live_;
};

LiveSession::LiveSession(Model& model, PasswordVerifier& verifier, LiveOptions options)
    : model_(model), verifier_(verifier), options_(std::move(options)) {
    verifier_.set(text_of(options_.password));
    open_cache();
    frame_ = new MainFrame(model_, verifier_, false);
    relay_ = std::make_unique<SessionRelay>(*this);
    session_ = std::make_unique<FeedSession>(model_, *relay_, [this](std::string frame) {
        if (connection_) connection_->send(std::move(frame));
    });
    session_->set_credentials(options_.username, std::string(text_of(options_.password)), options_.totp);
    frame_->set_action_sink([this](const ActionRequest& a) { return session_->send_action(a); });
    frame_->set_action_withdrawer([this](const std::string& id) { session_->withdraw_action(id); });
    frame_->outcomes_panel()->set_audit_timeout(options_.export_audit_timeout);
    frame_->set_patient_opener([this](const std::string& patient_id) {
        session_->fetch_transcript(patient_id);
        session_->fetch_assessments(patient_id);
    });
    frame_->supervisor_outcomes_panel()->set_fetcher(
        [this](const std::string& patient_id) { return session_->fetch_assessments(patient_id); });
    frame_->set_plan_fetcher([this](const std::string& patient_id) {
        if (!session_->online() || !connection_) return false;
        connection_->send(fetch_plans_frame(patient_id, new_uuid(), now_ms()));
        return true;
    });
    ConnectionEvents events;
    events.on_open = [this] { session_->on_open(); };
    events.on_frame = [this](std::string text) {
        // The feed must apply on top of what the cache held, never under it.
        load_questionnaires();
        // Plan versions (`plans`) are the one reply the feed session does not know: the plan
        // book takes them, then the dialog and caseload redraw.
        if (auto plans = read_plans_frame(text)) {
            model_.plans().replace(plans->patient_id, std::move(plans->plans));
            frame_->on_plans(plans->patient_id);
            return;
        }
        session_->on_frame(text);
    };
    events.on_closed = [this](const Error& error, bool will_retry, std::chrono::milliseconds retry_in) {
        session_->on_closed();
        frame_->set_online(false, will_retry ? status_text(SessionState::offline, retry_in) + " \u00b7 cached data"
                                             : "Disconnected: " + error.message);
        if (!will_retry) wxMessageBox(u8(error.message), "Connection refused", wxOK | wxICON_ERROR, frame_);
    };
    connection_ = std::make_unique<Connection>(options_.endpoint, options_.pinned_fingerprint, std::move(events));
    frame_->set_online(false, status_text(SessionState::connecting) +
                                  (cache_note_.empty() ? std::string{} : "  \u2014  " + cache_note_));
    frame_->refresh_all();
    // A timer owned by the frame's event loop: writes coalesce to one transaction every 2 s
    // instead of one per event (a backlog of thousands of events would otherwise mean
    // thousands of commits on the GUI thread).
    save_timer_.SetOwner(frame_);
    frame_->Bind(wxEVT_TIMER, [this](wxTimerEvent&) { save_cache(); }, save_timer_.GetId());
    save_timer_.Start(2000);
    // Questionnaires are most of a long-running clinic's cached rows: the caseload is shown
    // first and they follow on the next turn of the event loop (the Outcomes views redraw when
    // the book's revision moves).
    frame_->CallAfter([this, alive = std::weak_ptr<bool>(alive_)] {
        if (alive.lock()) load_questionnaires();
    });
}

LiveSession::~LiveSession() {
    alive_.reset();
    stop();
}

void LiveSession::load_questionnaires() {
    if (!questionnaires_pending_ || !cache_) return;
    questionnaires_pending_ = false;
    if (auto loaded = cache_->load_questionnaires(model_); !loaded) {
        frame_->SetStatusText(u8("Could not read the cached questionnaires: " + loaded.error().message), 0);
    }
    frame_->mark_dirty();
}

void LiveSession::open_cache() {
    if (options_.cache_dir.empty()) return;
    auto opened = LocalCache::open(options_.cache_dir, text_of(options_.password), options_.cache_kdf);
    if (!opened) {
        cache_wrong_password_ = opened.error().code == ErrorCode::wrong_key;
        cache_note_ = cache_wrong_password_
                          ? "this password does not open the offline cache; it will be replaced if the bridge accepts it"
                          : "offline cache unavailable: " + opened.error().message;
        return;
    }
    cache_ = std::move(*opened);
    if (cache_->report().set_aside) {
        cache_note_ = "the offline cache was damaged (" + cache_->report().reason + "); set aside as " +
                      cache_->report().set_aside->filename().string() + ", rebuilding from the bridge";
    } else if (cache_->report().migrated_from) {
        cache_note_ = cache_->report().reason;
    }
    if (auto loaded = cache_->load(model_, /*defer_questionnaires=*/true); !loaded) {
        cache_note_ = "offline cache unreadable: " + loaded.error().message;
        cache_.reset();
        return;
    }
    questionnaires_pending_ = true;
}

void LiveSession::on_logged_in() {
    // The bridge accepted this password, so a cache it does not open was keyed from an older one
    // (changed on the bridge since): keep it aside and start a new one from the feed.
    if (cache_wrong_password_ && !options_.password.empty()) {
        auto fresh = LocalCache::recreate(options_.cache_dir, text_of(options_.password),
                                          "the password changed on the bridge", options_.cache_kdf);
        if (fresh) {
            cache_ = std::move(*fresh);
            cache_wrong_password_ = false;
            cache_note_.clear();
            // What is in memory came from the bridge already: all of it goes to the new cache.
            model_.mark_all_changed();
        }
    }
    options_.password = SecretBuffer{};  // move-assignment wipes the old bytes
}

void LiveSession::on_totp_required(const std::string& message) {
    wxTextEntryDialog ask(frame_, u8(message + "\n\nEnter the 6-digit code from your authenticator app:"),
                          "One-time code required");
    if (ask.ShowModal() == wxID_OK && !ask.GetValue().IsEmpty() && session_->submit_totp(ask.GetValue().utf8_string())) {
        return;
    }
    on_fatal();
    frame_->set_online(false, "Not logged in: this clinic requires a one-time code (restart to log in again)");
}

void LiveSession::on_fatal() {
    // A refused login or an expired session: stop reconnecting; the person logs in again.
    if (connection_) connection_->stop();
    options_.password = SecretBuffer{};  // move-assignment wipes the old bytes
}

void LiveSession::start() {
    stopped_ = false;
    connection_->start();
}

void LiveSession::stop() {
    if (stopped_) return;
    stopped_ = true;
    save_timer_.Stop();
    if (connection_) connection_->stop();
    save_cache();
}

void LiveSession::save_cache() {
    if (!cache_ || !model_.has_changes()) return;
    if (auto saved = cache_->save(model_); !saved && frame_ != nullptr) {
        frame_->SetStatusText(u8("Could not write the offline cache: " + saved.error().message), 0);
    }
}

}  // namespace tandem::clinician::views
