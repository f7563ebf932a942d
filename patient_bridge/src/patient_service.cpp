#include "tandem/bridge/patient_service.h"

#include <algorithm>
#include <stdexcept>
#include <cctype>
#include <chrono>
#include <pthread.h>

#include "tandem/bridge/log.h"
#include "tandem/measures/measures.h"
#include "tandem/bridge/wire.h"
#include "tandem/crypto/hash.h"
#include "tandem/crypto/random.h"
#include "tandem/domain/json.h"
#include "tandem/domain/time.h"
#include "tandem/domain/id.h"

namespace tandem::bridge {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string sha256_hex(std::string_view text) { return to_hex(sha256(text)); }

// Administration commands build a PatientService to register patients and issue invites; they
// never screen text, so they need not spend seconds compiling the rule set. Screening through
// this instance is a programming error, never a silent "no risk".
class AdministrationOnlyScreener final : public RiskScreener {
public:
    RiskAssessment screen(std::string_view, ScreenRole, std::span<const ScreenTurn>) override {
        throw std::logic_error("an administration-only PatientService was asked to screen a message");
    }
    bool can_screen() const noexcept override { return false; }
};

}  // namespace

std::unique_ptr<RiskScreener> make_administration_only_screener() {
    return std::make_unique<AdministrationOnlyScreener>();
}

// ---------------------------------------------------------------------------------------------
SerialWorkers::SerialWorkers(int threads, const char* name) {
    for (int i = 0; i < std::max(1, threads); ++i)
        threads_.emplace_back([this, name] {
            pthread_setname_np(pthread_self(), name);
            run();
        });
}

SerialWorkers::~SerialWorkers() {
    drain();
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
}

void SerialWorkers::post(const std::string& key, std::function<void()> task) {
    {
        const std::lock_guard lock(mutex_);
        auto [it, inserted] = lanes_.try_emplace(key);
        it->second.push_back(std::move(task));
        // A lane in lanes_ is already ready or running, and its runner takes the new task.
        if (!inserted) return;
        ready_.push_back(key);
    }
    wake_.notify_one();
}

void SerialWorkers::drain() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] { return lanes_.empty() && busy_ == 0; });
}

void SerialWorkers::run() {
    std::unique_lock lock(mutex_);
    while (true) {
        wake_.wait(lock, [&] { return stopping_ || !ready_.empty(); });
        if (ready_.empty()) return;  // stopping and nothing left
        const std::string key = std::move(ready_.front());
        ready_.pop_front();
        ++busy_;
        // Run the lane's tasks one after another; the lane stays in lanes_ while running so
        // post() does not make it ready twice.
        while (true) {
            auto& lane = lanes_[key];
            if (lane.empty()) {
                lanes_.erase(key);
                break;
            }
            auto task = std::move(lane.front());
            lock.unlock();
            try {
                task();
            } catch (const std::exception& e) {
                log_event(LogLevel::error, "worker_task_failed", {{"error", e.what()}});
            }
            lock.lock();
            lanes_[key].pop_front();
        }
        --busy_;
        if (lanes_.empty() && busy_ == 0) idle_.notify_all();
    }
}

// ---------------------------------------------------------------------------------------------
PatientService::PatientService(Store& store, RiskScreener& screener, ChatModel& model, Metrics& metrics,
                               PatientServiceOptions options)
    : store_(store),
      screener_(screener),
      model_(model),
      metrics_(metrics),
      options_(std::move(options)),
      policy_([this] {
          // Until the log holds a clinic_configured event: the options' values, as en-US's list.
          ClinicSettings d;
          d.urgent_sla_minutes = options_.urgent_sla_minutes;
          d.crisis_resources["en-US"] = options_.crisis_resources;
          return std::make_shared<const ClinicSettings>(std::move(d));
      }()),
      assessments_(std::make_unique<AssessmentFlow>(
          store, options_.instruments != nullptr ? *options_.instruments : InstrumentRegistry::builtin(),
          AssessmentHooks{[this](NewEvent e) { return append(std::move(e)); },
                          [this](const std::string& patient, const std::string& frame) { send_to_patient(patient, frame); },
                          [this](const std::string& patient, const std::string& conversation, const std::string& id,
                                 const RiskAssessment& risk, bool urgent) {
                              return raise_assessment_risk(patient, conversation, id, risk, urgent);
                          }},
          ClinicSettings{})),
      workers_(options_.worker_threads, "tandem-turn") {
    PlanServiceOptions po = options_.plans;
    po.default_plan_id = options_.default_plan_id;
    po.default_plan_version = options_.default_plan_version;
    po.default_homework = options_.default_homework;
    po.crisis_resources = options_.crisis_resources;
    po.instruments = options_.instruments;
    plans_ = std::make_unique<PlanService>(store_, model_, std::move(po));
    plans_->set_patient_sink([this](const std::string& patient, const std::string& frame) { send_to_patient(patient, frame); });
}

PatientService::~PatientService() { workers_.drain(); }

Result<std::shared_ptr<PatientService>> PatientService::create(Store& store, RiskScreener& screener,
                                                               ChatModel& model, Metrics& metrics,
                                                               PatientServiceOptions options) {
    auto s = std::make_shared<PatientService>(store, screener, model, metrics, std::move(options));
    s->tracking_unscreened_ = screener.can_screen();
    if (auto r = s->replay(); !r) return std::unexpected(r.error());
    if (screener.can_screen()) s->resume_unscreened_turns();
    return s;
}

// Invites and devices live in the log as clinician_action events (there is no dedicated event
// type yet); the bridge rebuilds its index from the log at start, event-sourcing style.
// Incremental: called again on a cache miss, so invites issued by `tandem-bridge invite` in
// another process are found without a restart.
Result<void> PatientService::replay() {
    const std::lock_guard replay_lock(replay_mutex_);
    Principal all;
    all.supervisor = true;
    while (true) {
        auto page = store_.read_after(replayed_seq_, all, 1000);
        if (!page) return std::unexpected(page.error());
        if (page->empty()) return {};
        const std::lock_guard lock(mutex_);
        for (const auto& e : *page) {
            replayed_seq_ = e.seq;
            if (tracking_unscreened_) track_screening(e);
            if (e.type == EventType::clinic_configured) on_clinic_configured(e);
            if (e.type != EventType::clinician_action || !e.patient_id) continue;
            const auto action = e.payload.value("action", "");
            if (action == "invite_issued") invites_[e.payload.value("code_sha256", "")] = *e.patient_id;
            if (action == "device_registered") {
                devices_[e.payload.value("token_sha256", "")] = *e.patient_id;
                invites_.erase(e.payload.value("invite_sha256", ""));
            }
        }
    }
}

void PatientService::track_screening(const StoredEvent& e) {
    if (e.type == EventType::message_appended && e.payload.value("sender", "") == "patient") {
        const std::string id = e.payload.value("id", "");
        unscreened_index_[id] = unscreened_.size();
        unscreened_.push_back({id, e.payload.value("patient_id", ""), e.payload.value("conversation_id", ""),
                               e.payload.value("text", "")});
    } else if (e.type == EventType::risk_assessed) {
        if (const auto it = unscreened_index_.find(e.payload.value("message_id", "")); it != unscreened_index_.end()) {
            unscreened_[it->second] = Unscreened{};  // screened: its text is dropped at once
            unscreened_index_.erase(it);
        }
    }
}

std::string PatientService::lookup(const std::unordered_map<std::string, std::string>& map, const std::string& key) {
    for (int pass = 0; pass < 2; ++pass) {
        {
            const std::lock_guard lock(mutex_);
            if (const auto it = map.find(key); it != map.end()) return it->second;
        }
        if (pass == 0 && !replay()) break;
    }
    return {};
}

Result<AppendResult> PatientService::append(NewEvent e) {
    const auto start = Clock::now();
    auto r = store_.append(std::move(e));
    metrics_.store_latency.observe(Clock::now() - start);
    if (!r) log_event(LogLevel::error, "store_append_failed", {{"error", r.error().describe()}});
    return r;
}

Result<std::vector<AppendResult>> PatientService::append_batch(std::vector<NewEvent> events) {
    const auto start = Clock::now();
    auto r = store_.append_batch(std::move(events));
    metrics_.store_latency.observe(Clock::now() - start);
    if (!r) log_event(LogLevel::error, "store_append_failed", {{"error", r.error().describe()}});
    return r;
}

Result<std::string> PatientService::register_patient(const std::string& display_name, const std::string& locale) {
    if (display_name.empty() || display_name.size() > 200)
        return fail(ErrorCode::invalid_argument, "display name must be 1-200 bytes", "display_name");
    const std::string id = new_id();
    NewEvent e;
    e.type = EventType::patient_registered;
    e.patient_id = id;
    e.actor = Actor{ActorKind::system, std::nullopt};
    e.payload = {{"id", id},           {"clinic_id", "clinic"},           {"display_name", display_name},
                 {"conditions", json::array()}, {"locale", locale}, {"created_at", utc_now_text()}};
    if (auto r = append(std::move(e)); !r) return std::unexpected(r.error());
    return id;
}

Result<std::string> PatientService::issue_invite(const std::string& patient_id) {
    auto p = store_.find_patient(patient_id);
    if (!p) return std::unexpected(p.error());
    if (!*p) return fail(ErrorCode::not_found, "no such patient", "patient_id");
    // 10 bytes of randomness as lower-case hex, grouped for reading aloud over the phone.
    const std::string raw = random_token(10, TokenEncoding::hex);
    const std::string code = raw.substr(0, 5) + "-" + raw.substr(5, 5) + "-" + raw.substr(10, 5) + "-" + raw.substr(15);
    const std::string hash = sha256_hex(code);
    NewEvent e;
    e.type = EventType::clinician_action;
    e.patient_id = patient_id;
    e.actor = Actor{ActorKind::system, std::nullopt};
    e.payload = {{"action", "invite_issued"}, {"code_sha256", hash}, {"at", utc_now_text()}};
    if (auto r = append(std::move(e)); !r) return std::unexpected(r.error());
    const std::lock_guard lock(mutex_);
    invites_[hash] = patient_id;
    return code;
}

void PatientService::drain() { workers_.drain(); }

void PatientService::on_open(const std::shared_ptr<Connection>&) {}

void PatientService::on_close(const std::shared_ptr<Connection>& connection) {
    const std::lock_guard lock(mutex_);
    if (const auto it = sessions_.find(connection->id()); it != sessions_.end()) {
        auto [b, e] = connections_by_patient_.equal_range(it->second.patient_id);
        for (; b != e; ++b)
            if (b->second == it->first) {
                connections_by_patient_.erase(b);
                break;
            }
        sessions_.erase(it);
    }
}

void PatientService::on_frame(const std::shared_ptr<Connection>& connection, PatientFrame frame) {
    // One lane per connection: a patient's frames are handled in the order sent, and a slow
    // LLM reply for one patient never delays another.
    workers_.post("conn:" + std::to_string(connection->id()),
                  [this, connection, f = std::move(frame)] { handle(connection, f); });
}

void PatientService::handle(const std::shared_ptr<Connection>& c, const PatientFrame& f) {
    if (f.type == "redeem") return handle_redeem(c, f);
    if (f.type == "hello") return handle_hello(c, f);
    if (f.type == "send") return handle_send(c, f);
    if (f.type == "questionnaire_answers") {
        const auto session = session_of(c->id());
        if (!session) return (void)c->send(make_error_frame("unauthenticated", "send hello or redeem first", f.id));
        return assessments_->handle_answers({session->patient_id, session->conversation_id}, f.payload, f.id,
                                            [&c](const std::string& frame) { c->send(frame); });
    }
    c->send(make_error_frame("unknown_type", "unsupported message type", f.id));
}

std::optional<PatientService::Session> PatientService::session_of(std::uint64_t connection_id) {
    const std::lock_guard lock(mutex_);
    const auto it = sessions_.find(connection_id);
    if (it == sessions_.end()) return std::nullopt;
    return it->second;
}

void PatientService::handle_redeem(const std::shared_ptr<Connection>& c, const PatientFrame& f) {
    const auto code_it = f.payload.find("invite_code");
    if (code_it == f.payload.end() || !code_it->is_string() || code_it->get<std::string>().size() > 64)
        return (void)c->send(make_error_frame("schema", "payload.invite_code must be a string", f.id));
    std::string code = *code_it;
    std::transform(code.begin(), code.end(), code.begin(), [](unsigned char ch) { return std::tolower(ch); });
    const std::string invite_hash = sha256_hex(code);
    const std::string patient_id = lookup(invites_, invite_hash);
    // Unknown, mistyped and already used codes get the same answer: no oracle for guessing.
    if (patient_id.empty())
        return (void)c->send(make_error_frame("invalid_invite", "this invite code is not valid", f.id));
    const std::string token = random_token(32);
    NewEvent e;
    e.type = EventType::clinician_action;
    e.patient_id = patient_id;
    e.actor = Actor{ActorKind::patient, patient_id};
    e.payload = {{"action", "device_registered"},
                 {"invite_sha256", invite_hash},
                 {"token_sha256", sha256_hex(token)},
                 {"at", utc_now_text()}};
    e.dedupe_key = "invite:" + invite_hash;  // a second redemption, even racing, appends nothing
    auto r = append(std::move(e));
    if (!r) return (void)c->send(make_error_frame("unavailable", "could not save; please try again", f.id));
    if (r->duplicate)
        return (void)c->send(make_error_frame("invalid_invite", "this invite code is not valid", f.id));
    {
        const std::lock_guard lock(mutex_);
        invites_.erase(invite_hash);
        devices_[sha256_hex(token)] = patient_id;
    }
    log_event(LogLevel::info, "invite_redeemed", {{"patient", patient_id}, {"conn", c->id()}});
    if (auto s = start_session(c, patient_id, token, 0); !s)
        c->send(make_error_frame("unavailable", "could not start the session; please reconnect", f.id));
}

void PatientService::handle_hello(const std::shared_ptr<Connection>& c, const PatientFrame& f) {
    const auto tok = f.payload.find("device_token");
    if (tok == f.payload.end() || !tok->is_string() || tok->get<std::string>().size() > 128)
        return (void)c->send(make_error_frame("schema", "payload.device_token must be a string", f.id));
    std::int64_t last_seq = 0;
    if (const auto it = f.payload.find("last_seq"); it != f.payload.end()) {
        if (!it->is_number_integer() || it->get<std::int64_t>() < 0)
            return (void)c->send(make_error_frame("schema", "payload.last_seq must be a non-negative integer", f.id));
        last_seq = *it;
    }
    const std::string patient_id = lookup(devices_, sha256_hex(tok->get<std::string>()));
    if (patient_id.empty())
        return (void)c->send(make_error_frame("invalid_invite", "this device is not registered; use an invite code", f.id));
    if (auto s = start_session(c, patient_id, {}, last_seq); !s)
        c->send(make_error_frame("unavailable", "could not start the session; please reconnect", f.id));
}

Result<std::string> PatientService::current_conversation(const std::string& patient_id) {
    auto convs = store_.conversations(patient_id);
    if (!convs) return std::unexpected(convs.error());
    for (auto it = convs->rbegin(); it != convs->rend(); ++it)
        if (!it->ended_at) return it->id;
    const std::string id = new_id();
    NewEvent e;
    e.type = EventType::conversation_started;
    e.patient_id = patient_id;
    e.actor = Actor{ActorKind::system, std::nullopt};
    e.payload = {{"id", id}, {"patient_id", patient_id}, {"started_at", utc_now_text()}};
    // Two devices starting at once must not open two conversations.
    e.dedupe_key = "conversation:" + patient_id + ":" + std::to_string(convs->size());
    auto r = append(std::move(e));
    if (!r) return std::unexpected(r.error());
    return r->event.payload.value("id", id);
}

ClinicSettings PatientService::clinic_settings() const { return *clinic_policy(); }

std::shared_ptr<const ClinicSettings> PatientService::clinic_policy() const {
    const std::lock_guard lock(policy_mutex_);
    return policy_;
}

// A clinic_configured event reaches a running pipeline from two sides: replay() at start and on
// cache misses, and the clinician feed's shared read of every new event (ClinicianService::pump),
// which also sees `tandem-bridge policy set` run in another process. Either may come first, so
// only a newer event than the one in force applies. Rejected: re-reading the log for policy on
// every turn, which costs a read per message for a change made a few times a year.
void PatientService::on_clinic_configured(const StoredEvent& event) {
    if (event.type != EventType::clinic_configured) return;
    auto settings = settings_from_record(event.payload);
    if (!settings) {
        log_event(LogLevel::error, "clinic_policy_unreadable", {{"seq", event.seq}, {"error", settings.error().describe()}});
        return;
    }
    const std::lock_guard lock(policy_mutex_);
    if (event.seq <= policy_seq_) return;
    policy_seq_ = event.seq;
    policy_ = std::make_shared<const ClinicSettings>(std::move(*settings));
    log_event(LogLevel::info, "clinic_policy_applied", {{"seq", event.seq}, {"urgent_sla_minutes", policy_->urgent_sla_minutes}});
}

void PatientService::follow_log(std::span<const FeedEvent> events) {
    for (const auto& fe : events)
        if (fe.event.type == EventType::clinic_configured) on_clinic_configured(fe.event);
    plans_->follow_log(events);
}

Result<void> PatientService::start_session(const std::shared_ptr<Connection>& c, const std::string& patient_id,
                                           const std::string& device_token, std::int64_t last_seq) {
    auto conversation = current_conversation(patient_id);
    if (!conversation) return std::unexpected(conversation.error());
    auto patient = store_.find_patient(patient_id);
    if (!patient) return std::unexpected(patient.error());
    {
        const std::lock_guard lock(mutex_);
        auto& slot = sessions_[c->id()];
        if (slot.patient_id != patient_id) {  // a connection's first session (or a new patient on it)
            auto [b, e] = connections_by_patient_.equal_range(slot.patient_id);
            for (; b != e; ++b)
                if (b->second == c->id()) {
                    connections_by_patient_.erase(b);
                    break;
                }
            connections_by_patient_.emplace(patient_id, c->id());
        }
        slot = Session{c, patient_id, *conversation};
    }
    json payload = {{"patient_id", patient_id}, {"conversation_id", *conversation}};
    if (!device_token.empty()) payload["device_token"] = device_token;
    const bool in_crisis = *patient && (*patient)->in_crisis;
    if (in_crisis) payload["crisis"] = crisis_payload((*patient)->record.value("locale", "en-US"));
    c->send(make_frame("session", payload));
    c->send(make_frame("plan", plans_->patient_payload(patient_id)));  // the approved plan's homework, never a proposal
    // Resume: everything the patient may see after their cursor (their own messages included,
    // so a second device shows the whole conversation).
    auto msgs = store_.messages(*conversation);
    if (!msgs) return std::unexpected(msgs.error());
    for (const auto& m : *msgs) {
        if (m.seq <= last_seq || m.state != "delivered") continue;
        json p = {{"id", m.id}, {"sender", m.sender}, {"text", m.record.value("text", "")}, {"state", m.state}};
        if (m.record.contains("client_msg_id")) p["client_msg_id"] = m.record["client_msg_id"];
        c->send(make_frame("message", std::move(p), static_cast<std::uint64_t>(m.seq)));
    }
    // Questionnaires: the unfinished ones again (resume after a pause or on another device),
    // then whatever the schedule makes due now (sent to every device of the patient).
    if (auto r = assessments_->resend_open(patient_id, [&c](const std::string& frame) { c->send(frame); }); !r)
        log_event(LogLevel::error, "assessment_resend_failed", {{"patient", patient_id}});
    check_assessments_due(Session{c, patient_id, *conversation}, true);
    return {};
}

void PatientService::check_assessments_due(const Session& s, bool force) {
    if (!options_.offer_scheduled_assessments) return;
    {
        // Turns check at most once per interval: the schedule moves in weeks, not seconds.
        const std::lock_guard lock(mutex_);
        auto& last = assessments_checked_[s.patient_id];
        const auto now = Clock::now();
        if (!force && last != Clock::time_point{} && now - last < options_.assessment_check_interval) return;
        last = now;
    }
    if (auto r = assessments_->offer_due({s.patient_id, s.conversation_id}); !r)
        log_event(LogLevel::error, "assessment_offer_failed", {{"patient", s.patient_id}});
}

Result<void> PatientService::raise_assessment_risk(const std::string& patient_id, const std::string& conversation_id,
                                                   const std::string& assessment_id, const RiskAssessment& risk,
                                                   bool urgent) {
    // The very events a risky message gets (crisis message, urgent flag with the SLA deadline,
    // crisis state; or a review flag), in one batch; only the flag's source differs. Keys by
    // assessment: a form saved and then submitted raises one flag, not one per save.
    const Session s{{}, patient_id, conversation_id};
    auto patient = turn_patient(patient_id);
    const std::shared_ptr<const PatientView> view = patient ? std::move(*patient) : nullptr;
    const TurnKeys keys{std::nullopt, "flag:" + assessment_id, "crisis:" + assessment_id,
                        "crisis-message:" + assessment_id};
    std::vector<NewEvent> batch;
    const TurnPlan plan = add_protocol_events(batch, s, assessment_id, risk, urgent, view.get(), keys, "assessment_id");
    if (batch.empty()) return {};
    auto stored = append_batch(std::move(batch));
    if (!stored) return std::unexpected(stored.error());
    announce_protocol(s, risk, plan, *stored);
    return {};
}

bool PatientService::take_patient_token(const std::string& patient_id) {
    const std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    const double per_minute = options_.messages_per_minute;
    auto& b = patient_buckets_.try_emplace(patient_id, Bucket{per_minute, now}).first->second;
    b.tokens = std::min(per_minute, b.tokens + std::chrono::duration<double>(now - b.last).count() * per_minute / 60.0);
    b.last = now;
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
}

void PatientService::send_to_patient(const std::string& patient_id, const std::string& frame) {
    // Snapshot under the lock, send outside it (Connection::send only posts, but the rule keeps
    // lock order simple).
    std::vector<std::shared_ptr<Connection>> targets;
    {
        const std::lock_guard lock(mutex_);
        // Through the index: scanning every session cost 15% of the bridge's CPU with 2,000
        // patients connected (docs/PERFORMANCE.md, "Bridge under load").
        auto [b, e] = connections_by_patient_.equal_range(patient_id);
        for (; b != e; ++b)
            if (const auto it = sessions_.find(b->second); it != sessions_.end())
                if (auto c = it->second.connection.lock()) targets.push_back(std::move(c));
    }
    for (const auto& c : targets) c->send(frame);
}

}  // namespace tandem::bridge
