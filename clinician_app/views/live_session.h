#pragma once
// The live app around one main window: the feed session, the connection to the bridge and the
// encrypted local cache, wired as the app runs them (and as the GUI tests run them against a
// real bridge). The window is built from the cache first, so it opens without the bridge.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include <wx/timer.h>

#include "tandem/clinician/auto_lock.h"
#include "tandem/clinician/connection.h"
#include "tandem/clinician/local_cache.h"
#include "tandem/clinician/model.h"
#include "tandem/clinician/outcome_report.h"
#include "tandem/crypto/secret_buffer.h"

namespace tandem::clinician {
class FeedSession;
}

namespace tandem::clinician::views {

class MainFrame;
class SessionRelay;

struct LiveOptions {
    Endpoint endpoint;
    std::string pinned_fingerprint;  ///< hex SHA-256 of the bridge's certificate (already trusted)
    std::string username;
    SecretBuffer password;
    std::string totp;                ///< optional one-time code typed at login
    std::filesystem::path cache_dir; ///< empty: no local cache (tests that want none)
    CacheKdf cache_kdf;
    /// How long an export waits for the bridge's audit answer before it gives up and says so.
    std::chrono::milliseconds export_audit_timeout = kExportAuditTimeout;
};

/// GUI thread only. Owns everything but the frame, which wx owns; call stop() before the frame
/// is destroyed (the app does it from the frame's close handler).
class LiveSession {
public:
    /// Opens the cache (Argon2: a fraction of a second), loads it into `model`, and builds the
    /// window; nothing touches the network until start().
    LiveSession(Model& model, PasswordVerifier& verifier, LiveOptions options);
    ~LiveSession();
    LiveSession(const LiveSession&) = delete;
    LiveSession& operator=(const LiveSession&) = delete;

    MainFrame* frame() const { return frame_; }
    /// Connects (and keeps reconnecting with backoff) to the bridge.
    void start();
    /// Stops the network and writes the cache once more; idempotent.
    void stop();
    /// Writes what changed to the cache now (also done every two seconds and after catching up).
    void save_cache();
    /// What happened to the cache at open, for the status bar and tests ("" when all is well).
    const std::string& cache_note() const { return cache_note_; }
    LocalCache* cache() const { return cache_.get(); }
    FeedSession& session() const { return *session_; }

private:
    friend class SessionRelay;
    void open_cache();
    /// Adds the cached questionnaires once, after the first screen (or before the first frame
    /// from the bridge, whichever comes first).
    void load_questionnaires();
    void on_logged_in();
    void on_totp_required(const std::string& message);
    void on_fatal();

    Model& model_;
    PasswordVerifier& verifier_;
    LiveOptions options_;
    bool cache_wrong_password_ = false;
    std::string cache_note_;
    std::unique_ptr<LocalCache> cache_;
    MainFrame* frame_ = nullptr;
    std::unique_ptr<SessionRelay> relay_;
    std::unique_ptr<FeedSession> session_;
    std::unique_ptr<Connection> connection_;
    wxTimer save_timer_;
    bool stopped_ = false;
    bool questionnaires_pending_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // the deferred load's guard
};

}  // namespace tandem::clinician::views
