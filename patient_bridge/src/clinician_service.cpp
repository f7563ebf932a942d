#include "tandem/bridge/clinician_service.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <pthread.h>

#include "clinician_frames.h"
#include "tandem/bridge/log.h"
#include "tandem/bridge/wire.h"
#include "tandem/crypto/hash.h"
#include "tandem/crypto/random.h"
#include "tandem/crypto/totp.h"
#include "tandem/schema/schema_registry.h"
#include "tandem/domain/time.h"
#include "tandem/domain/id.h"

namespace tandem::bridge {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using clinician_frames::error_frame;
using clinician_frames::string_field;

// Client message types of this endpoint; each has its payload schema in schemas/wire/.
constexpr std::string_view kRequestTypes[] = {"login", "resume", "subscribe", "fetch_transcript", "action",
                                              "fetch_plans", "fetch_assessments"};

std::string sha256_hex(std::string_view text) { return to_hex(sha256(text)); }

// Payload fields that never leave the bridge, not even as hashes.
constexpr const char* kSecretFields[] = {"password_hash", "token_sha256", "totp_secret"};

std::string dumped(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Collects event texts into one `events` frame (docs/PROTOCOL.md) for a subscriber that asked
// for batches; the envelope's seq is the last event's.
class BatchFrame {
public:
    void add(std::string_view text, std::int64_t seq) {
        body_.append(body_.empty() ? R"({"events":[)" : ",").append(text);
        last_seq_ = seq;
    }
    bool empty() const { return body_.empty(); }
    std::int64_t last_seq() const { return last_seq_; }
    std::string take() { return frame_around("events", body_.append("]}"), static_cast<std::uint64_t>(last_seq_)); }

private:
    std::string body_;
    std::int64_t last_seq_ = 0;
};

}  // namespace

// Written field by field in the order nlohmann's dump of to_json(e) gives (sorted keys, absent
// optionals left out), so clients see the bytes they saw when the event was a json tree built
// and dumped per pass (tests/bridge/test_clinician_service.cpp compares the two). Only the
// payload goes through nlohmann, dumped in place: copying it into a tree first (to_json) and
// dumping that was most of the feed's serialisation cost. An event from the store carries the
// payload's text as the log holds it (StoredEvent::payload_text, nlohmann's dump too), which is
// sent as it is unless a secret field must be taken out.
std::string feed_event_text(const StoredEvent& e) {
    const json* payload = &e.payload;
    json redacted;
    if (e.payload.is_object()) {
        for (const char* field : kSecretFields) {
            if (!e.payload.contains(field)) continue;
            if (payload == &e.payload) redacted = e.payload;
            redacted.erase(field);
            payload = &redacted;
        }
    }
    std::string out;
    out.reserve(320 + (e.payload.is_object() ? 64 * e.payload.size() : 16));
    out.append(R"({"actor":{)");
    if (e.actor.id) {
        out.append(R"("id":)");
        append_json_string(out, *e.actor.id);
        out.push_back(',');
    }
    out.append(R"("kind":)");
    append_json_string(out, to_string(e.actor.kind));
    out.append(R"(},"hash":)");
    append_json_string(out, e.hash);
    out.append(R"(,"id":)");
    append_json_string(out, e.id);
    if (e.patient_id) {
        out.append(R"(,"patient_id":)");
        append_json_string(out, *e.patient_id);
    }
    out.append(R"(,"payload":)");
    if (payload == &e.payload && !e.payload_text.empty())
        out.append(e.payload_text);
    else
        out.append(dumped(*payload));
    out.append(R"(,"prev_hash":)");
    append_json_string(out, e.prev_hash);
    out.append(R"(,"seq":)");
    out.append(std::to_string(e.seq));
    out.append(R"(,"time":)");
    append_json_string(out, e.time);
    out.append(R"(,"type":)");
    append_json_string(out, to_string(e.type));
    out.push_back('}');
    return out;
}

ClinicianService::ClinicianService(NotifyingStore& store, AccountDirectory& accounts, PatientService& patients,
                                   Metrics& metrics, ClinicianServiceOptions options)
    : store_(store),
      accounts_(accounts),
      patients_(patients),
      metrics_(metrics),
      options_(std::move(options)),
      policy_(store, [&] {
          ClinicSettings d;
          d.urgent_sla_minutes = options_.urgent_sla_minutes;
          d.second_escalation_minutes = options_.second_escalation_minutes;
          d.idle_lock_minutes = options_.idle_lock_minutes;
          d.require_totp = options_.require_totp;
          return d;
      }()),
      workers_(options_.worker_threads, "tandem-feed") {}

Result<std::shared_ptr<ClinicianService>> ClinicianService::create(NotifyingStore& store, AccountDirectory& accounts,
                                                                   PatientService& patients, Metrics& metrics,
                                                                   ClinicianServiceOptions options) {
    auto s = std::make_shared<ClinicianService>(store, accounts, patients, metrics, std::move(options));
    if (auto r = accounts.refresh(); !r) return std::unexpected(r.error());
    if (auto r = s->policy_.refresh(); !r) return std::unexpected(r.error());
    if (auto r = s->restore(); !r) return std::unexpected(r.error());
    // The shared feed read starts at the head before the listener is installed, so no append
    // after this point is missed (subscribers with older cursors page from the store).
    auto head = store.head();
    if (!head) return std::unexpected(head.error());
    s->feed_cursor_ = head->seq;
    // A raw pointer is safe: the destructor removes the listener before anything it uses goes.
    ClinicianService* self = s.get();
    store.set_listener([self](std::int64_t seq) { self->on_appended(seq); });
    s->ticker_ = std::thread([self] {
        pthread_setname_np(pthread_self(), "tandem-ticker");
        self->ticker();
    });
    return s;
}

ClinicianService::~ClinicianService() {
    store_.set_listener(nullptr);
    {
        const std::lock_guard lock(tick_mutex_);
        stopping_ = true;
    }
    tick_wake_.notify_all();
    if (ticker_.joinable()) ticker_.join();
    workers_.drain();
}

void ClinicianService::drain() { workers_.drain(); }

// What must survive a restart is rebuilt from the log: sessions (session_opened, token hashes
// only; idle time restarts from the bridge's start, the conservative direction), failed-login
// lockouts (login_failed), used TOTP steps, and the results of clinicians' actions (every action
// event carries its action_id, so a resent action gets its old seq, not `conflict`).
Result<void> ClinicianService::restore() {
    Principal all;
    all.supervisor = true;
    std::int64_t cursor = 0;
    while (true) {
        auto page = store_.read_after(cursor, all, 1000);
        if (!page) return std::unexpected(page.error());
        if (page->empty()) return {};
        const std::lock_guard lock(mutex_);
        for (const auto& e : *page) {
            cursor = e.seq;
            const std::string action = e.type == EventType::clinician_action ? e.payload.value("action", "") : "";
            if (action == "session_opened") {
                const auto clinician_id = e.payload.value("clinician_id", "");
                sessions_[e.payload.value("token_sha256", "")] = Session{clinician_id, Clock::now()};
                lockouts_.erase(e.payload.value("username", ""));
                if (const auto step = e.payload.find("totp_step"); step != e.payload.end() && step->is_number_integer())
                    totp_last_step_[clinician_id] = std::max(totp_last_step_[clinician_id], step->get<std::int64_t>());
            } else if (action == "login_failed") {
                const auto at = parse_timestamp(e.time);
                note_failed_login(e.payload.value("username", ""),
                                  at ? std::chrono::system_clock::time_point(*at) : std::chrono::system_clock::now());
            } else if ((e.type != EventType::clinician_action || action == "report_exported") &&
                       e.actor.kind == ActorKind::clinician && e.actor.id &&
                       e.payload.contains("action_id") && e.payload["action_id"].is_string()) {
                const auto action_id = e.payload["action_id"].get<std::string>();
                action_results_[*e.actor.id + ":" + action_id] =
                    json{{"action_id", action_id}, {"ok", true}, {"seq", e.seq}}.dump();
            }
        }
    }
}

void ClinicianService::on_open(const std::shared_ptr<Connection>&) {}

void ClinicianService::on_close(const std::shared_ptr<Connection>& connection) {
    const auto id = connection->id();
    {
        const std::lock_guard lock(mutex_);
        logged_in_.erase(id);
    }
    workers_.post("feed", [this, id] { subscribers_.erase(id); });
}

// Every request is checked against its wire schema before any handler reads it, so the
// handlers' own checks are a second line, and the refusal names the JSON pointer that failed.
bool ClinicianService::payload_ok(const std::shared_ptr<Connection>& c, const PatientFrame& f) {
    if (std::find(std::begin(kRequestTypes), std::end(kRequestTypes), f.type) == std::end(kRequestTypes)) {
        c->send(error_frame("unknown_type", "unsupported message type", f.id, "/type"));
        return false;
    }
    const auto ok = SchemaRegistry::builtin().validate("wire/" + f.type, f.payload);
    if (ok) return true;
    const std::string field = "/payload" + ok.error().field;
    const auto action_id = f.payload.find("action_id");
    if (f.type == "action" && action_id != f.payload.end() && action_id->is_string() &&
        is_valid_id(action_id->get<std::string>())) {
        // An action keeps its answer type: the app matches refusals to pending actions by action_id.
        c->send(make_frame("action_result", {{"request_id", f.id},
                                             {"action_id", *action_id},
                                             {"ok", false},
                                             {"error", {{"code", "schema"}, {"message", ok.error().message},
                                                        {"field", field}}}}));
    } else {
        c->send(error_frame("schema", ok.error().message, f.id, field));
    }
    return false;
}

void ClinicianService::on_frame(const std::shared_ptr<Connection>& connection, PatientFrame frame) {
    if (!payload_ok(connection, frame)) return;
    // subscribe runs on the feed lane (it must not interleave with live delivery); everything
    // else on the connection's own lane, so a slow Argon2 check never delays another clinician.
    if (frame.type == "subscribe") {
        workers_.post("feed", [this, connection, f = std::move(frame)] { handle_subscribe(connection, f); });
        return;
    }
    workers_.post("conn:" + std::to_string(connection->id()),
                  [this, connection, f = std::move(frame)] { handle(connection, f); });
}

void ClinicianService::handle(const std::shared_ptr<Connection>& c, const PatientFrame& f) {
    if (f.type == "login") return handle_login(c, f);
    if (f.type == "resume") return handle_resume(c, f);
    if (f.type == "fetch_transcript") return handle_transcript(c, f);
    if (f.type == "action") return handle_action(c, f);
    if (f.type == "fetch_plans") return handle_fetch_plans(c, f);
    if (f.type == "fetch_assessments") return handle_fetch_assessments(c, f);
    c->send(error_frame("unknown_type", "unsupported message type", f.id));
}

// ---------------------------------------------------------------------------------------------
// Login, resume, sessions

ClinicSettings ClinicianService::policy() {
    // A failed refresh keeps the last policy read: logins must not fail because of it.
    if (auto r = policy_.refresh(); !r)
        log_event(LogLevel::error, "policy_read_failed", {{"error", r.error().describe()}});
    return policy_.current();
}

void ClinicianService::send_login_ok(const std::shared_ptr<Connection>& c, const ClinicianAccount& a,
                                     const std::string& token, const std::string& ref) {
    const auto p = policy();
    json clinic_policy = {{"urgent_sla_minutes", p.urgent_sla_minutes},
                          {"second_escalation_minutes", p.second_escalation_minutes},
                          {"idle_lock_minutes", p.idle_lock_minutes},
                          {"session_idle_minutes", options_.session_idle.count()},
                          {"require_totp", p.require_totp}};
    c->send(make_frame("login_ok", {{"request_id", ref},
                                    {"session_token", token},
                                    {"clinician", a.record()},
                                    {"clinic_policy", std::move(clinic_policy)}}));
}

void ClinicianService::note_failed_login(const std::string& username, std::chrono::system_clock::time_point at) {
    auto& l = lockouts_[username];
    ++l.failures;
    if (l.failures >= options_.max_failed_logins) {
        auto backoff = options_.lockout_base;
        for (int i = options_.max_failed_logins; i < l.failures && backoff < options_.lockout_max; ++i) backoff *= 2;
        l.until = at + std::min(backoff, options_.lockout_max);
    }
}

// Each failure is a login_failed event, so a restart does not hand an attacker fresh attempts;
// the refusal goes out even if the write fails (the in-memory count still holds).
void ClinicianService::record_failed_login(const std::string& username, const char* reason) {
    const auto now = std::chrono::system_clock::now();
    {
        const std::lock_guard lock(mutex_);
        note_failed_login(username, now);
    }
    NewEvent e;
    e.type = EventType::clinician_action;
    e.actor = Actor{ActorKind::system, std::nullopt};
    e.payload = {{"action", "login_failed"}, {"username", username}, {"reason", reason}, {"at", utc_now_text()}};
    if (auto r = store_.append(std::move(e)); !r)
        log_event(LogLevel::error, "login_failure_not_saved", {{"error", r.error().describe()}});
    log_event(LogLevel::warn, "clinician_login_failed", {{"username", username}, {"reason", reason}});
}

void ClinicianService::handle_login(const std::shared_ptr<Connection>& c, const PatientFrame& f) {
    const auto username = string_field(f.payload, "username", 64);
    const auto password = string_field(f.payload, "password", 1024);
    if (!username || !password)
        return (void)c->send(error_frame("schema", "payload needs username and password strings", f.id, "/payload"));
    {
        const std::lock_guard lock(mutex_);
        const auto now = std::chrono::system_clock::now();
        const auto it = lockouts_.find(*username);
        if (it != lockouts_.end() && now < it->second.until) {
            const auto wait = std::chrono::duration_cast<std::chrono::seconds>(it->second.until - now).count() + 1;
            json p = {{"code", "locked"},
                      {"message", "too many failed logins; try again in " + std::to_string(wait) + " s"},
                      {"ref", f.id},
                      {"request_id", f.id},
                      {"retry_after_seconds", wait}};
            c->send(make_frame("error", std::move(p)));
            return;
        }
    }
    (void)accounts_.refresh();
    const auto account = accounts_.by_username(*username);
    // Unknown users cost the same Argon2 work as known ones, so timing does not list accounts.
    static const std::string dummy = hash_password("not-a-real-password-0", options_.password_policy).value_or("");
    const bool ok = account ? verify_password(account->password_hash, *password) && account->active
                            : (verify_password(dummy, *password), false);
    if (!ok) {
        record_failed_login(*username, "password");
        c->send(error_frame("permission_denied", "wrong username or password", f.id));
        return;
    }
    // The second factor, when the clinic requires it. Asking for a missing code is not a failure
    // (the app first sends without one, then shows the field); a wrong or reused code is.
    std::optional<std::int64_t> totp_step_used;
    if (policy().require_totp) {
        if (account->totp_secret.empty())
            return (void)c->send(error_frame("permission_denied",
                                             "the clinic requires a one-time code and this account has none set up; "
                                             "ask an administrator to run clinician totp-enroll",
                                             f.id));
        const auto code = string_field(f.payload, "totp", 16);
        if (!code)
            return (void)c->send(error_frame("totp_required", "enter the one-time code from your authenticator app",
                                             f.id, "/payload/totp"));
        auto key = base32_decode(account->totp_secret);
        std::int64_t last = -1;
        {
            const std::lock_guard lock(mutex_);
            if (const auto it = totp_last_step_.find(account->id); it != totp_last_step_.end()) last = it->second;
        }
        const auto unix_now =
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
        if (key) totp_step_used = totp_verify(key->bytes(), *code, unix_now.count(), last);
        bool fresh = false;
        if (totp_step_used) {
            // Claimed under the lock: two logins racing with one code cannot both pass.
            const std::lock_guard lock(mutex_);
            auto& used = totp_last_step_.try_emplace(account->id, -1).first->second;
            fresh = *totp_step_used > used;
            if (fresh) used = *totp_step_used;
        }
        if (!fresh) {
            record_failed_login(*username, "totp");
            return (void)c->send(error_frame("unauthenticated", "wrong or already used one-time code", f.id,
                                             "/payload/totp"));
        }
    }
    const std::string token = random_token(32);
    const std::string token_hash = sha256_hex(token);
    NewEvent e;
    e.type = EventType::clinician_action;
    e.actor = Actor{ActorKind::clinician, account->id};
    e.payload = {{"action", "session_opened"},
                 {"clinician_id", account->id},
                 {"username", account->username},
                 {"token_sha256", token_hash},
                 {"at", utc_now_text()}};
    if (totp_step_used) e.payload["totp_step"] = *totp_step_used;
    if (auto r = store_.append(std::move(e)); !r)
        return (void)c->send(error_frame("unavailable", "could not save the session; try again", f.id));
    {
        const std::lock_guard lock(mutex_);
        lockouts_.erase(*username);
        sessions_[token_hash] = Session{account->id, Clock::now()};
        logged_in_[c->id()] = token_hash;
    }
    log_event(LogLevel::info, "clinician_login", {{"clinician", account->id}});
    send_login_ok(c, *account, token, f.id);
}

void ClinicianService::handle_resume(const std::shared_ptr<Connection>& c, const PatientFrame& f) {
    const auto token = string_field(f.payload, "session_token", 256);
    if (!token) return (void)c->send(error_frame("schema", "payload.session_token must be a string", f.id, "/payload/session_token"));
    const std::string hash = sha256_hex(*token);
    std::string clinician_id;
    {
        const std::lock_guard lock(mutex_);
        const auto it = sessions_.find(hash);
        if (it != sessions_.end() && Clock::now() - it->second.last_used > options_.session_idle) sessions_.erase(it);
        else if (it != sessions_.end()) {
            it->second.last_used = Clock::now();
            clinician_id = it->second.clinician_id;
            logged_in_[c->id()] = hash;
        }
    }
    (void)accounts_.refresh();
    const auto account = clinician_id.empty() ? std::nullopt : accounts_.by_id(clinician_id);
    if (!account || !account->active) {
        const std::lock_guard lock(mutex_);
        logged_in_.erase(c->id());
        return (void)c->send(error_frame("permission_denied", "session expired; log in again", f.id));
    }
    send_login_ok(c, *account, *token, f.id);
}

std::optional<ClinicianAccount> ClinicianService::clinician_of(const std::shared_ptr<Connection>& c) {
    std::string clinician_id;
    {
        const std::lock_guard lock(mutex_);
        const auto li = logged_in_.find(c->id());
        if (li == logged_in_.end()) return std::nullopt;
        const auto it = sessions_.find(li->second);
        if (it == sessions_.end() || Clock::now() - it->second.last_used > options_.session_idle) {
            if (it != sessions_.end()) sessions_.erase(it);
            logged_in_.erase(li);
            return std::nullopt;
        }
        it->second.last_used = Clock::now();
        clinician_id = it->second.clinician_id;
    }
    // Re-read on every request: a disabled account stops working at once, roles changes apply.
    auto a = accounts_.by_id(clinician_id);
    if (!a || !a->active) return std::nullopt;
    return a;
}

bool ClinicianService::may_see_patient(const ClinicianAccount& a, const std::string& patient_id) {
    auto p = store_.find_patient(patient_id);
    if (!p || !*p) return false;
    if (a.has_role("supervisor")) return true;
    return a.has_role("therapist") && (*p)->assigned_therapist_id == a.id;
}

// ---------------------------------------------------------------------------------------------
// The feed

void ClinicianService::on_appended(std::int64_t seq) {
    for (auto seen = notified_head_.load(); seq > seen && !notified_head_.compare_exchange_weak(seen, seq);) {
    }
    // Coalesced: the appends that arrive while a pass is queued or running cost one more pass.
    if (!pump_queued_.exchange(true)) workers_.post("feed", [this] { pump(); });
}

// One pass: one read of the new events shared by every live subscriber, each event serialised
// once, filtered per subscriber with the store's own visibility rule (may_read); subscribers
// still paging through a backlog get one page of their own from read_after. Measured before
// this (docs/PERFORMANCE.md): every append (about 4 per patient message) woke a pass that ran
// one read_after per subscriber and parsed and serialised every event once per subscriber, a
// fixed cost that dominated at low rates.
// A pass starts as soon as the feed lane takes it and flushes what it read at once: the appends
// that land while it runs are the next pass's batch, so batches grow with the load by
// themselves. Rejected (measured, docs/PERFORMANCE.md "Feed path"): a pass at most once per
// feed_coalesce (5 ms before), a timer that every event waited out for a few ms however idle
// the feed lane was, on a worker thread it held asleep; it stays as an option, 0 by default.
// Also rejected: forwarding appended events from NotifyingStore straight to subscribers, which
// loses seq order across concurrent appenders and misses other processes' appends.
void ClinicianService::pump() {
    if (options_.feed_coalesce.count() > 0) {
        const auto due = last_pass_ + options_.feed_coalesce;
        if (Clock::now() < due) std::this_thread::sleep_until(due);
        last_pass_ = Clock::now();
    }
    pump_queued_.store(false);

    const std::int64_t batch_from = feed_cursor_;
    // Several appends of one group commit each notify; the first pass reads all their events, so
    // the passes their later notices queue have nothing new: they skip the read (and its head
    // check) and only serve subscribers paging through a backlog. Another process's appends are
    // noticed by the ticker's head poll, which raises notified_head_ too.
    const bool news = notified_head_.load() > feed_cursor_;
    auto batch = news ? store_.read_feed_after(feed_cursor_, options_.page_events)
                      : Result<std::vector<FeedEvent>>(std::vector<FeedEvent>{});
    if (!batch) {
        log_event(LogLevel::error, "feed_read_failed", {{"error", batch.error().describe()}});
        batch = std::vector<FeedEvent>{};
        pump_more_.store(true);
    }
    if (!batch->empty()) feed_cursor_ = batch->back().event.seq;
    // The bridge's own indexes follow this read instead of re-reading every event themselves
    // (log_tail.h); it also carries other processes' appends (the ticker polls the head).
    policy_.follow(batch_from, *batch);
    store_.follow_log(*batch);
    patients_.follow_log(*batch);
    if (accounts_.follow(batch_from, *batch)) recheck_subscribers();  // before this pass's frames

    // Serialised on first use, then shared: each event's text, and its `event` frame.
    SharedFrames frames{std::vector<std::string>(batch->size()), std::vector<std::string>(batch->size())};
    for (auto it = subscribers_.begin(); it != subscribers_.end();) {
        Subscriber& s = it->second;
        if (s.live && s.cursor >= batch_from) {
            send_shared(s, *batch, frames);
        } else if (const auto now = Clock::now(); now < s.next_page) {
            pump_more_.store(true);  // the ticker's pass pages it
        } else {
            s.next_page = now + options_.backlog_page_interval;
            if (!deliver(it->first, s)) pump_more_.store(true);
        }
        if (s.connection.expired()) {
            it = subscribers_.erase(it);
        } else {
            ++it;
        }
    }
    // A full batch means the feed is behind: the ticker schedules the next pass (every 20 ms),
    // which paces a catch-up at one batch per tick so a client's send queue is not flooded. Rejected:
    // the next pass at once (after feed_coalesce), which under load dropped many more slow clients.
    if (batch->size() >= options_.page_events) pump_more_.store(true);
}

// A batching subscriber gets this pass's events for it as one `events` frame: one TLS record
// and one write instead of one per event (docs/PERFORMANCE.md measured the per-event writes).
void ClinicianService::send_shared(Subscriber& s, const std::vector<FeedEvent>& batch, SharedFrames& frames) {
    auto c = s.connection.lock();
    if (!c) return;
    BatchFrame out;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const auto& fe = batch[i];
        if (fe.event.seq <= s.cursor || !may_read(s.principal, fe.event, fe.assigned_therapist_id)) continue;
        if (frames.texts[i].empty()) frames.texts[i] = feed_event_text(fe.event);
        if (s.batch) {
            out.add(frames.texts[i], fe.event.seq);
            continue;
        }
        if (frames.events[i].empty())
            frames.events[i] = frame_around("event", frames.texts[i], static_cast<std::uint64_t>(fe.event.seq));
        if (!c->send(frames.events[i])) {
            // The server dropped a client that fell too far behind; it resumes from its cursor.
            s.connection.reset();
            return;
        }
        s.cursor = fe.event.seq;
    }
    if (!out.empty()) {
        const auto last = out.last_seq();
        if (!c->send(out.take())) {
            s.connection.reset();
            return;
        }
        s.cursor = last;
    }
    s.cursor = std::max(s.cursor, feed_cursor_);
}

// A subscriber behind the shared read pages through the store, one page per pass, which keeps
// each clinician's queue under the server's send limit and lets the others have their turn.
bool ClinicianService::deliver(std::uint64_t, Subscriber& s) {
    auto c = s.connection.lock();
    if (!c) return true;
    auto page = store_.read_after(s.cursor, s.principal, options_.page_events);
    if (!page) {
        log_event(LogLevel::error, "feed_read_failed", {{"error", page.error().describe()}});
        return false;
    }
    BatchFrame out;
    for (const auto& e : *page) {
        if (s.batch) {
            out.add(feed_event_text(e), e.seq);
            continue;
        }
        if (!c->send(frame_around("event", feed_event_text(e), static_cast<std::uint64_t>(e.seq)))) {
            s.connection.reset();
            return true;
        }
        s.cursor = e.seq;
    }
    if (!out.empty()) {
        const auto last = out.last_seq();
        if (!c->send(out.take())) {
            s.connection.reset();
            return true;
        }
        s.cursor = last;
    }
    if (page->size() >= options_.page_events) return false;
    // A short page read after this pass's shared read saw everything committed before it, so
    // the subscriber has every event it may see up to the shared cursor and joins the live group.
    s.cursor = std::max(s.cursor, feed_cursor_);
    if (!s.live) {
        s.live = true;
        // The log's head, never the subscriber's own cursor: a client that asked from past the
        // head (its cache filled from another log, or from this one before a restore) must see
        // that the log ends before it.
        c->send(make_frame("caught_up", {{"head_seq", std::max(feed_cursor_, s.head_at_subscribe)}}));
    }
    return true;
}

void ClinicianService::handle_subscribe(const std::shared_ptr<Connection>& c, const PatientFrame& f) {
    const auto account = clinician_of(c);
    if (!account) return (void)c->send(error_frame("unauthenticated", "log in first", f.id));
    const auto after = f.payload.find("after_seq");
    if (after == f.payload.end() || !after->is_number_integer() || after->get<std::int64_t>() < 0)
        return (void)c->send(error_frame("schema", "payload.after_seq must be an integer >= 0", f.id, "/payload/after_seq"));
    auto head = store_.head();
    Subscriber s;
    s.connection = c;
    s.principal = account->principal();
    s.cursor = after->get<std::int64_t>();
    const auto batch = f.payload.find("batch");
    s.batch = batch != f.payload.end() && batch->is_boolean() && batch->get<bool>();
    s.head_at_subscribe = head ? head->seq : 0;
    auto& slot = subscribers_[c->id()];
    slot = std::move(s);
    if (!deliver(c->id(), slot)) pump_more_.store(true);
}

// A feed follows its clinician's account: disabled (or removed) stops it at once, with an
// error first; changed roles apply from the next page. Rejected: fixing the principal at
// subscribe, which kept a disabled clinician's live feed running until they disconnected.
void ClinicianService::recheck_subscribers() {
    for (auto it = subscribers_.begin(); it != subscribers_.end();) {
        const auto account = accounts_.by_id(it->second.principal.clinician_id);
        if (account && account->active) {
            it->second.principal = account->principal();
            ++it;
            continue;
        }
        if (auto c = it->second.connection.lock()) {
            {
                const std::lock_guard lock(mutex_);
                logged_in_.erase(c->id());
            }
            c->send(error_frame("unauthenticated", "this account was disabled", {}));
            c->close();
        }
        it = subscribers_.erase(it);
    }
}

void ClinicianService::ticker() {
    auto next_sweep = Clock::now() + options_.sweep_interval;
    auto next_refresh = Clock::now() + options_.refresh_interval;
    std::unique_lock lock(tick_mutex_);
    while (!stopping_) {
        tick_wake_.wait_for(lock, std::chrono::milliseconds(20));
        if (stopping_) break;
        lock.unlock();
        if (pump_more_.exchange(false)) on_appended(0);
        if (Clock::now() >= next_refresh) {
            // Another process's appends notify nobody here: polling the head finds them.
            if (auto h = store_.head(); h && h->seq > notified_head_.load()) on_appended(h->seq);
            if (auto r = accounts_.refresh(); r) workers_.post("feed", [this] { recheck_subscribers(); });
            next_refresh = Clock::now() + options_.refresh_interval;
        }
        if (Clock::now() >= next_sweep) {
            if (auto r = sweep_escalations(); !r)
                log_event(LogLevel::error, "escalation_sweep_failed", {{"error", r.error().describe()}});
            next_sweep = Clock::now() + options_.sweep_interval;
        }
        lock.lock();
    }
}

// Deadlines are the flags' own sla_deadline (and next_deadline after a first escalation), read
// from the store on each sweep, so a restart loses none: the first sweep after it catches up.
Result<int> ClinicianService::sweep_escalations() {
    Principal all;
    all.supervisor = true;
    auto flags = store_.open_flags(all);
    if (!flags) return std::unexpected(flags.error());
    const std::string now = utc_now_text();  // same fixed-width format: text order is time order
    const int second_minutes = policy().second_escalation_minutes;
    int appended = 0;
    for (const auto& fl : *flags) {
        if (fl.severity != "high" && fl.severity != "imminent") continue;
        if (fl.status != "open" && fl.status != "escalated") continue;
        int level = 0;
        if (fl.escalation_level == 0 && !fl.sla_deadline.empty() && fl.sla_deadline < now) level = 1;
        const std::string next = fl.record.value("next_deadline", "");
        if (fl.escalation_level == 1 && !next.empty() && next < now) level = 2;
        if (level == 0) continue;
        NewEvent e;
        e.type = EventType::flag_escalated;
        e.patient_id = fl.patient_id;
        e.actor = Actor{ActorKind::system, std::nullopt};
        e.payload = {{"flag_id", fl.id}, {"escalation_level", level}, {"reason", "sla_missed"}, {"at", now}};
        if (level == 1)
            e.payload["next_deadline"] =
                format_timestamp(now_utc() + std::chrono::minutes(second_minutes));
        e.dedupe_key = "escalate:" + fl.id + ":" + std::to_string(level);
        auto r = store_.append(std::move(e));
        if (!r) return std::unexpected(r.error());
        if (!r->duplicate) {
            ++appended;
            log_event(LogLevel::warn, "flag_escalated", {{"flag", fl.id}, {"level", level}});
        }
    }
    return appended;
}

}  // namespace tandem::bridge
