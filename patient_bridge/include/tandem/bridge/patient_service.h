#pragma once
// The patient side of the bridge: invite redemption, device tokens, resume, and the turn
// pipeline of docs/DESIGN.md (persist, ack, screen, safety protocol, LLM, screen the reply,
// deliver or hold). Beast-free: it sees connections only through Connection.

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "tandem/bridge/clinic_policy.h"
#include "tandem/bridge/assessment_flow.h"
#include "tandem/bridge/config.h"
#include "tandem/bridge/llm.h"
#include "tandem/bridge/metrics.h"
#include "tandem/bridge/patient_endpoint.h"
#include "tandem/bridge/plan_service.h"
#include "tandem/domain/risk_assessment.h"
#include "tandem/store/store.h"

namespace tandem::bridge {

enum class ScreenRole { patient, ai, clinician };

/// One earlier turn of the conversation, given to the screen as context.
struct ScreenTurn {
    ScreenRole role = ScreenRole::patient;
    std::string text;
};

/// The risk screen the pipeline calls: make_rule_engine_screener() in serve, the same or a
/// stand-in in tests.
class RiskScreener {
public:
    virtual ~RiskScreener() = default;
    /// The assessment of one message's text written by role, given the turns before it (oldest
    /// first; the screen may use only the newest few). The context lets the engine read "yes"
    /// after an AI's risk question. Any thread, concurrently; must not throw.
    virtual RiskAssessment screen(std::string_view text, ScreenRole role, std::span<const ScreenTurn> context) = 0;
    /// False for a screener that refuses to screen (administration commands): a service built
    /// on it runs no turns, not even those a crash left unscreened. Any thread.
    virtual bool can_screen() const noexcept { return true; }
};

/// For administration commands that never screen text (patient add, invite): screen() throws
/// std::logic_error. Serving always uses make_rule_engine_screener(). Any thread.
std::unique_ptr<RiskScreener> make_administration_only_screener();

/// Runs tasks on a few worker threads, serially per key (tasks with one key never overlap and
/// run in post order), so blocking store and LLM calls never run on an Asio thread.
class SerialWorkers {
public:
    /// `name` (at most 15 characters) names the threads for top -H, perf and
    /// bench/loadgen/thread_times.sh.
    SerialWorkers(int threads, const char* name);
    ~SerialWorkers();  ///< finishes queued tasks, then joins
    SerialWorkers(const SerialWorkers&) = delete;
    SerialWorkers& operator=(const SerialWorkers&) = delete;
    /// Queues `task` on `key`'s lane. Any thread.
    void post(const std::string& key, std::function<void()> task);
    /// Blocks until every queued task has run. Not from a worker.
    void drain();

private:
    void run();
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable idle_;
    std::deque<std::string> ready_;  // lanes with work and no worker
    std::unordered_map<std::string, std::deque<std::function<void()>>> lanes_;
    std::size_t busy_ = 0;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

struct PatientServiceOptions {
    /// Until the log holds a clinic_configured event (then its policy applies, at once):
    /// the crisis resources for every locale, and the urgent flags' deadline.
    std::vector<CrisisResource> crisis_resources = BridgeConfig{}.crisis_resources;
    int urgent_sla_minutes = 5;
    int moderate_sla_minutes = 60;     ///< review deadline for moderate flags and held AI replies
    std::size_t max_text_bytes = 4000;
    int messages_per_minute = 30;      ///< per patient, across all their devices
    std::size_t history_window = 12;   ///< earlier messages sent to the LLM
    std::size_t screen_context = 6;    ///< earlier messages given to the risk screen as context
    /// The plan used until the patient has an approved one; recorded on AI messages as
    /// plan_id and plan_version.
    std::string default_plan_id = "default-clinic-plan";
    int default_plan_version = 1;
    /// Send screened AI text in `segment` frames sentence by sentence while the reply streams
    /// (each prefix is screened before its segment goes out). Off: the whole reply at the end.
    bool stream_segments = true;
    int worker_threads = 4;
    /// Questionnaires offered, scored and risk-checked (issue 8); null: the built-in instruments.
    /// Must outlive the service.
    const InstrumentRegistry* instruments = nullptr;
    /// Offer questionnaires by schedule (the approved plan's, else PHQ-9 and GAD-7 at intake, week 4
    /// and week 8). `serve` turns it on; off, only clinicians' requests offer them.
    bool offer_scheduled_assessments = false;
    /// How often a connected patient's questionnaire schedule is checked during turns (it is
    /// always checked when a session starts).
    std::chrono::minutes assessment_check_interval{60};
    std::vector<std::string> default_homework = {
        "a short daily walk or other small pleasant activity, logged in a mood diary",
        "one thought record (situation, thought, evidence for and against, balanced thought)",
    };
    /// Treatment plans (proposals, patient frames); default_plan_*, default_homework and
    /// crisis_resources above override the fields of the same name.
    PlanServiceOptions plans;
};

/// How many of a conversation's newest messages a turn reads: the larger of the LLM window and
/// the screen's context, and eight more for the held drafts and system notices it skips. The
/// store's read cache keeps this many per conversation (SqlcipherStoreOptions::read_cache_messages).
std::size_t conversation_tail_size(const PatientServiceOptions& options);

class NotifyingStore;

class PatientService final : public PatientHandler {
public:
    /// store, screener, model and metrics must outlive the service. Replays the log for invites
    /// and devices. Errors: storage. Main thread.
    static Result<std::shared_ptr<PatientService>> create(Store& store, RiskScreener& screener, ChatModel& model,
                                                          Metrics& metrics, PatientServiceOptions options);
    ~PatientService() override;  ///< finishes queued turns

    void on_open(const std::shared_ptr<Connection>& connection) override;
    void on_frame(const std::shared_ptr<Connection>& connection, PatientFrame frame) override;
    void on_close(const std::shared_ptr<Connection>& connection) override;

    /// Registers a patient (patient_registered) and returns its id. Blocking. Errors: storage,
    /// invalid_argument.
    Result<std::string> register_patient(const std::string& display_name, const std::string& locale = "en-US");
    /// A one-time invite code for the patient; only its SHA-256 is stored. Blocking.
    /// Errors: not_found (no such patient), storage.
    Result<std::string> issue_invite(const std::string& patient_id);
    /// Blocks until every queued turn has finished (tests, shutdown). Not from a worker.
    void drain();
    /// Applies a clinic_configured event's policy (urgent SLA, crisis resources per locale) to turns
    /// from now on; an event older than the one in force, or unreadable, changes nothing. The
    /// clinician feed calls it for each new event, replay() at start. Any thread.
    void on_clinic_configured(const StoredEvent& event);
    /// Every new event of the log, in order, page by page (the clinician feed's shared read):
    /// applies clinic policy and keeps the active plans of PlanService::follow_log current.
    /// Any thread.
    void follow_log(std::span<const FeedEvent> events);
    /// Turns read their patient through `cache` (NotifyingStore::find_patient_cached; it must be
    /// the store this service appends through, or wrap it, and outlive the service) instead of
    /// find_patient. Call once, before serving. Main thread.
    void set_patient_cache(NotifyingStore& cache) { patient_cache_ = &cache; }
    /// The clinic policy turns apply now (urgent SLA, crisis resources). Any thread.
    ClinicSettings clinic_settings() const;
    /// Sends one frame to every live connection of the patient (clinician releases and
    /// messages reach the patient this way). Any thread; never blocks.
    void send_to_patient(const std::string& patient_id, const std::string& frame);
    /// The treatment plans of this service's patients (the clinician service's plan actions
    /// use it). Any thread.
    PlanService& plans() { return *plans_; }
    /// The questionnaire flow (clinicians' assessment_request goes through it). Any thread.
    AssessmentFlow& assessments() { return *assessments_; }

    PatientService(Store& store, RiskScreener& screener, ChatModel& model, Metrics& metrics,
                   PatientServiceOptions options);  ///< use create()

private:
    struct Session {
        std::weak_ptr<Connection> connection;
        std::string patient_id;
        std::string conversation_id;
    };
    Result<void> replay();
    std::string lookup(const std::unordered_map<std::string, std::string>& map, const std::string& key);
    void handle(const std::shared_ptr<Connection>& c, const PatientFrame& f);
    void handle_redeem(const std::shared_ptr<Connection>& c, const PatientFrame& f);
    void handle_hello(const std::shared_ptr<Connection>& c, const PatientFrame& f);
    void handle_send(const std::shared_ptr<Connection>& c, const PatientFrame& f);
    void process_turn(const Session& session, const std::string& stored_id, const std::string& text);
    void track_screening(const StoredEvent& e);
    void resume_unscreened_turns();
    Result<void> start_session(const std::shared_ptr<Connection>& c, const std::string& patient_id,
                               const std::string& device_token, std::int64_t last_seq);
    Result<std::string> current_conversation(const std::string& patient_id);
    Result<AppendResult> append(NewEvent e);
    Result<std::vector<AppendResult>> append_batch(std::vector<NewEvent> events);
    // Dedupe keys of the events a screen adds (none: the event has no key).
    struct TurnKeys {
        std::optional<std::string> risk, flag, crisis, crisis_message;
    };
    // What add_screened_events put in a turn's batch; indexes are positions in that batch.
    struct TurnPlan {
        bool hold = false;  // AI replies held for review (crisis or AI paused)
        std::string locale = "en-US";
        std::optional<std::size_t> flag;
        std::optional<std::size_t> crisis_message;
    };
    TurnPlan add_screened_events(std::vector<NewEvent>& batch, const Session& s, const std::string& message_id,
                                 const RiskAssessment& risk, const PatientView* patient, const TurnKeys& keys);
    TurnPlan add_protocol_events(std::vector<NewEvent>& batch, const Session& s, const std::string& source_id,
                                 const RiskAssessment& risk, bool crisis, const PatientView* patient,
                                 const TurnKeys& keys, const char* source_field);
    void announce_protocol(const Session& s, const RiskAssessment& risk, const TurnPlan& plan,
                           const std::vector<AppendResult>& stored);
    void finish_turn(const Session& s, const std::string& message_id, const RiskAssessment& risk,
                     const TurnPlan& plan, const std::vector<AppendResult>& stored,
                     const std::vector<MessageView>* window = nullptr, const PatientView* patient = nullptr);
    // source_field: what message_id names ("message_id", or "assessment_id" for risky answers).
    NewEvent flag_event(const Session& s, const std::string& message_id, const RiskAssessment& risk, int sla_minutes,
                        std::optional<std::string> dedupe_key, const char* source_field = "message_id");
    NewEvent system_message_event(const Session& s, const std::string& text);
    std::vector<ScreenTurn> turns_of(const std::vector<MessageView>& window, const std::string& exclude_id) const;
    Result<void> raise_assessment_risk(const std::string& patient_id, const std::string& conversation_id,
                                       const std::string& assessment_id, const RiskAssessment& risk, bool urgent);
    void check_assessments_due(const Session& s, bool force);
    std::vector<ScreenTurn> recent_turns(const std::string& conversation_id, const std::string& exclude_id);
    // window: the conversation's tail read by this turn, or null to read it now; patient: the
    // patient as this turn read it, or null to read it now.
    void reply_with_ai(const Session& s, const std::string& message_id, bool hold_for_review, bool risk_disclosed,
                       const std::vector<MessageView>* window = nullptr, const PatientView* patient = nullptr);
    Result<std::int64_t> deliver_system_message(const Session& s, const std::string& text);
    std::optional<Session> session_of(std::uint64_t connection_id);
    bool take_patient_token(const std::string& patient_id);
    nlohmann::json crisis_payload(const std::string& locale) const;
    std::shared_ptr<const ClinicSettings> clinic_policy() const;

    // The patient a turn runs for (null patient: none). Errors: storage.
    Result<std::shared_ptr<const PatientView>> turn_patient(const std::string& patient_id);

    Store& store_;
    NotifyingStore* patient_cache_ = nullptr;  // set_patient_cache
    RiskScreener& screener_;
    ChatModel& model_;
    Metrics& metrics_;
    const PatientServiceOptions options_;

    mutable std::mutex policy_mutex_;  // guards the two below; taken after mutex_, never before
    std::int64_t policy_seq_ = 0;      // the clinic_configured event in force (0: the options')
    std::shared_ptr<const ClinicSettings> policy_;

    std::mutex replay_mutex_;  // one replay at a time; taken before mutex_
    std::int64_t replayed_seq_ = 0;
    std::mutex mutex_;  // guards the maps below; never held across store or LLM calls
    std::unordered_map<std::string, std::string> invites_;       // sha256(code) -> patient id (unused)
    std::unordered_map<std::string, std::string> devices_;       // sha256(token) -> patient id
    std::unordered_map<std::uint64_t, Session> sessions_;        // by connection id
    std::unordered_multimap<std::string, std::uint64_t> connections_by_patient_;  // index of sessions_
    struct Bucket {
        double tokens;
        std::chrono::steady_clock::time_point last;
    };
    std::unordered_map<std::string, Bucket> patient_buckets_;
    // Patient messages without a risk_assessed event, found by the replay in create() (a crash
    // between ack and screen); their turns run again at start. Empty message_id: screened.
    struct Unscreened {
        std::string message_id;
        std::string patient_id;
        std::string conversation_id;
        std::string text;
    };
    bool tracking_unscreened_ = true;  // only the replay in create() tracks
    std::vector<Unscreened> unscreened_;
    std::unordered_map<std::string, std::size_t> unscreened_index_;
    std::unique_ptr<AssessmentFlow> assessments_;
    std::unordered_map<std::string, std::chrono::steady_clock::time_point> assessments_checked_;  // by patient
    SerialWorkers workers_;
    std::unique_ptr<PlanService> plans_;  // last: destroyed (and drained) first
};

}  // namespace tandem::bridge

namespace tandem::bridge {

/// The risk screen over tandem_risk's rule engine with the project's built-in rules (compiled
/// database cached on disk after the first load). Errors: as RuleSet::load_builtin. Main thread.
Result<std::unique_ptr<RiskScreener>> make_rule_engine_screener();

}  // namespace tandem::bridge
