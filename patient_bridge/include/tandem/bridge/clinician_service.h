#pragma once
// wss /clinician (docs/PROTOCOL.md): login and resume with session tokens, the resumable event
// feed, transcript reads and clinician actions, and the SLA escalation sweep. Beast-free: it is
// a PatientHandler behind a PatientEndpoint (the envelope checks are the same for both sides).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "tandem/bridge/accounts.h"
#include "tandem/bridge/clinic_policy.h"
#include "tandem/bridge/notifying_store.h"
#include "tandem/bridge/patient_service.h"

namespace tandem::bridge {

struct ClinicianServiceOptions {
    PasswordPolicy password_policy;
    std::chrono::minutes session_idle{30};          ///< a token unused this long stops working
    int max_failed_logins = 5;                      ///< consecutive failures before a lockout
    std::chrono::milliseconds lockout_base{30'000}; ///< first lockout; doubles per further failure
    std::chrono::milliseconds lockout_max{15 * 60'000};
    // Clinic policy until the log holds a clinic_configured event (`tandem-bridge policy set`);
    // after that the stored policy wins and is re-read at each login and escalation sweep.
    int urgent_sla_minutes = 5;                     ///< only reported at login: the patient side opens flags
    int second_escalation_minutes = 15;             ///< after the SLA deadline, to escalation level 2
    int idle_lock_minutes = 10;                     ///< sent at login: the app locks after this idle time
    bool require_totp = false;                      ///< logins need a one-time code (RFC 6238)
    std::chrono::milliseconds sweep_interval{5'000};///< how often deadlines are checked
    /// How often accounts and the store's head are re-read: disabled clinicians' feeds stop,
    /// role changes apply to feeds, and events appended by another process (the admin CLI) are sent.
    std::chrono::milliseconds refresh_interval{1'000};
    std::size_t page_events = 100;                  ///< events per feed page and per shared read (below the send queue limit)
    /// Feed passes start at most this often (0: as soon as the feed lane is free, which is what
    /// the bridge runs: appends that land during a pass share the next one). A wait here delays
    /// every event by up to this much; kept for measuring against.
    std::chrono::milliseconds feed_coalesce{0};
    /// A subscriber paging through a backlog gets at most one page per this interval (passes
    /// come with every commit now; a page per pass would flood a slow client's send queue).
    std::chrono::milliseconds backlog_page_interval{5};
    std::size_t max_transcript = 200;               ///< most messages per fetch_transcript
    int worker_threads = 2;
};

/// An event as the feed sends it inside `event` and `events` frames: byte for byte nlohmann's
/// dump of to_json(event) (sorted keys, invalid UTF-8 replaced), with the payload's credential
/// fields (password_hash, token_sha256, totp_secret) left out. Any thread.
std::string feed_event_text(const StoredEvent& event);

class ClinicianService final : public PatientHandler {
public:
    /// store (the NotifyingStore the patient service also appends through), accounts, patients
    /// and metrics must outlive the service; it installs itself as the store's listener and
    /// starts the sweep thread. Restores sessions from the log. Errors: storage. Main thread.
    static Result<std::shared_ptr<ClinicianService>> create(NotifyingStore& store, AccountDirectory& accounts,
                                                            PatientService& patients, Metrics& metrics,
                                                            ClinicianServiceOptions options);
    ~ClinicianService() override;  ///< stops the sweep, finishes queued work

    void on_open(const std::shared_ptr<Connection>& connection) override;
    void on_frame(const std::shared_ptr<Connection>& connection, PatientFrame frame) override;
    void on_close(const std::shared_ptr<Connection>& connection) override;

    /// Escalates urgent flags past their deadlines now (the sweep thread calls it too); returns
    /// the number of escalation events appended. Errors: storage. Any thread.
    Result<int> sweep_escalations();
    /// Blocks until queued work has run (tests, shutdown). Not from a worker.
    void drain();

    ClinicianService(NotifyingStore& store, AccountDirectory& accounts, PatientService& patients, Metrics& metrics,
                     ClinicianServiceOptions options);  ///< use create()

private:
    struct Session {
        std::string clinician_id;
        std::chrono::steady_clock::time_point last_used;
    };
    struct Subscriber {
        std::weak_ptr<Connection> connection;
        Principal principal;
        std::int64_t cursor = 0;
        bool live = false;  // caught_up was sent
        std::int64_t head_at_subscribe = 0;
        bool batch = false;  // subscribe {batch: true}: events go out as `events` frames
        std::chrono::steady_clock::time_point next_page{};  // backlog pages no sooner than this
    };
    struct SharedFrames {  // one pass's serialised events, by index in the shared read
        std::vector<std::string> texts;   // the event payloads
        std::vector<std::string> events;  // their single `event` frames
    };
    struct Lockout {  // wall-clock times: lockouts are rebuilt from the log after a restart
        int failures = 0;
        std::chrono::system_clock::time_point until{};
    };
    struct Target {  // what an id in an action refers to
        std::string patient_id;
        std::string conversation_id;
        std::string state;  // messages: held / delivered / withheld
        std::string text;   // held messages: the draft, for release
        std::string sender;
    };

    Result<void> restore();
    void note_failed_login(const std::string& username, std::chrono::system_clock::time_point at);  // mutex_ held
    void record_failed_login(const std::string& username, const char* reason);
    ClinicSettings policy();
    bool payload_ok(const std::shared_ptr<Connection>& c, const PatientFrame& f);  // refuses when not
    void handle(const std::shared_ptr<Connection>& c, const PatientFrame& f);
    void handle_login(const std::shared_ptr<Connection>& c, const PatientFrame& f);
    void handle_resume(const std::shared_ptr<Connection>& c, const PatientFrame& f);
    void handle_subscribe(const std::shared_ptr<Connection>& c, const PatientFrame& f);
    void handle_transcript(const std::shared_ptr<Connection>& c, const PatientFrame& f);
    void handle_action(const std::shared_ptr<Connection>& c, const PatientFrame& f);
    // Treatment plans (plan_actions.cpp): fetch_plans, and the plan_* action kinds once the
    // action's schema and idempotency checks passed.
    void handle_fetch_plans(const std::shared_ptr<Connection>& c, const PatientFrame& f);
    void handle_plan_action(const std::shared_ptr<Connection>& c, const PatientFrame& f, const ClinicianAccount& account,
                            const std::string& action_id);
    void handle_fetch_assessments(const std::shared_ptr<Connection>& c, const PatientFrame& f);
    // The reader and patient of a per-patient read (transcript, plans, assessments), or nullopt
    // once the refusal (not logged in, bad id, not their patient) has been sent.
    struct PatientRead {
        ClinicianAccount account;
        std::string patient_id;
    };
    std::optional<PatientRead> patient_read(const std::shared_ptr<Connection>& c, const PatientFrame& f);
    // Appends the audit event of a per-patient read (`details` plus who, whose and when) before the
    // records leave the bridge; false once the refusal has been sent: no audit, no records.
    bool audit_read(const std::shared_ptr<Connection>& c, const PatientFrame& f, const PatientRead& read,
                    EventType type, nlohmann::json details);
    void send_login_ok(const std::shared_ptr<Connection>& c, const ClinicianAccount& a, const std::string& token,
                       const std::string& ref);
    std::optional<ClinicianAccount> clinician_of(const std::shared_ptr<Connection>& c);
    bool may_see_patient(const ClinicianAccount& a, const std::string& patient_id);
    std::optional<Target> find_target(const std::string& id);
    Result<void> refresh_index();

    void on_appended(std::int64_t seq);
    void pump();  // feed lane only
    bool deliver(std::uint64_t connection_id, Subscriber& s);  // feed lane only; false: more to send
    void send_shared(Subscriber& s, const std::vector<FeedEvent>& batch, SharedFrames& frames);  // feed lane
    void ticker();
    void recheck_subscribers();  // feed lane only

    NotifyingStore& store_;
    AccountDirectory& accounts_;
    PatientService& patients_;
    Metrics& metrics_;
    const ClinicianServiceOptions options_;

    std::mutex mutex_;  // guards the maps below; never held across store calls
    std::unordered_map<std::string, Session> sessions_;               // sha256(token) -> session
    std::unordered_map<std::uint64_t, std::string> logged_in_;        // connection id -> clinician id
    std::unordered_map<std::string, Lockout> lockouts_;               // by username
    std::unordered_map<std::string, std::string> action_results_;     // clinician:action_id -> result json
    std::unordered_map<std::string, std::int64_t> totp_last_step_;    // clinician id -> last TOTP step used

    ClinicPolicySource policy_;

    std::mutex index_mutex_;  // guards the target index; held across its store reads
    std::int64_t index_cursor_ = 0;
    std::unordered_map<std::string, Target> targets_;  // flag and held-message ids

    // Feed state: touched only on the "feed" lane of workers_.
    std::map<std::uint64_t, Subscriber> subscribers_;
    std::atomic<bool> pump_queued_{false};
    std::atomic<bool> pump_more_{false};
    std::atomic<std::int64_t> notified_head_{0};  // newest seq a pump was scheduled for
    std::int64_t feed_cursor_ = 0;                // last seq of the shared reads (the head at create)
    std::chrono::steady_clock::time_point last_pass_{};

    std::mutex tick_mutex_;
    std::condition_variable tick_wake_;
    bool stopping_ = false;
    SerialWorkers workers_;
    std::thread ticker_;
};

}  // namespace tandem::bridge
