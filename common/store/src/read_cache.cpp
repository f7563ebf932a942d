#include "read_cache.h"

#include <algorithm>
#include <chrono>
#include <tuple>

#include "projections.h"

namespace tandem {

namespace {

using nlohmann::json;

// The string at `key`, as the projector reads payload fields (a non-string is absent).
std::optional<std::string> text_of(const json& j, const char* key) {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
}

// Rough heap bytes of a JSON value (std::map nodes, long strings), for the memory budget only.
std::size_t approx_bytes(const json& j) {
    auto text = [](std::size_t n) -> std::size_t { return n > 15 ? n + 1 : 0; };
    switch (j.type()) {
        case json::value_t::object: {
            std::size_t n = 48;
            for (const auto& [key, value] : j.items()) n += 80 + text(key.size()) + approx_bytes(value);
            return n;
        }
        case json::value_t::array: {
            std::size_t n = 24;
            for (const auto& v : j) n += 16 + approx_bytes(v);
            return n;
        }
        case json::value_t::string: return 32 + text(j.get_ref<const std::string&>().size());
        default: return 0;
    }
}

std::size_t approx_bytes(const MessageView& m) {
    return sizeof(MessageView) + 64 + m.id.size() + m.conversation_id.size() + m.patient_id.size() +
           approx_bytes(m.record.get());
}

std::size_t approx_bytes(const std::vector<PlanView>& rows) {
    std::size_t n = 64;
    for (const auto& p : rows) n += sizeof(PlanView) + p.id.size() + p.patient_id.size() + approx_bytes(p.record);
    return n;
}

}  // namespace

PatientView read_patient_row(const sqlite::Stmt& s) {
    PatientView p;
    p.id = s.column_text(0);
    p.display_name = s.column_text(1);
    p.assigned_therapist_id = s.column_optional_text(2);
    p.in_crisis = s.column_int(3) != 0;
    p.ai_paused = s.column_int(4) != 0;
    p.last_seq = s.column_int(5);
    p.record = json::parse(s.column_view(6), nullptr, false);
    return p;
}

MessageView read_message_row(const sqlite::Stmt& s) {
    MessageView m{s.column_text(0), s.column_text(1), s.column_text(2), s.column_text(3), s.column_text(4),
                  s.column_int(5), {}};
    auto record = json::parse(s.column_view(7), nullptr, false);
    if (record.is_object()) {
        record["state"] = m.state;
        if (auto edited = s.column_optional_text(6)) record["text"] = *edited;
    }
    m.record = std::move(record);
    return m;
}

ReadCache::ReadCache(sqlite::Db watch, ReadCacheOptions options) : watch_(std::move(watch)), options_(options) {
    // A statement that cannot be prepared leaves the cache unloaded for good: every read goes to
    // SQL, which reports the real error.
    if (auto s = sqlite::Stmt::prepare(watch_, "SELECT seq FROM events ORDER BY seq DESC LIMIT 1")) {
        head_stmt_ = std::move(*s);
    } else {
        off_ = true;
    }
}

// Why a read of the head per cached answer: the writer thread knows every event this process
// commits, but not another process's (`tandem-bridge policy set`, `clinician add` beside a live
// bridge). The head read runs on the cache's own connection, whose page cache stays valid until
// someone commits, so it decrypts pages at most once per commit (not per read); callers arriving
// while a check runs share the next one. Rejected: trusting the writer's next commit to notice
// (an idle bridge would serve stale views indefinitely), and the writer connection's
// data_version (the writer thread holds that connection through every fsync).
Result<std::int64_t> ReadCache::watch_head() {
    const std::uint64_t need = checks_started_.load(std::memory_order_acquire) + 1;
    const std::lock_guard lock(watch_mutex_);
    if (checks_done_ >= need) return checked_head_;
    const std::uint64_t ticket = checks_started_.fetch_add(1, std::memory_order_acq_rel) + 1;
    head_stmt_.reset();
    const int rc = head_stmt_.step();
    std::int64_t head = 0;
    if (rc == SQLITE_ROW) {
        head = head_stmt_.column_int(0);
    } else if (rc != SQLITE_DONE) {
        auto error = sqlite::make_error(watch_.get(), rc, "cannot read head");
        head_stmt_.reset();
        return std::unexpected(std::move(error));
    }
    head_stmt_.reset();  // ends the read transaction: no snapshot is pinned between checks
    checks_done_ = ticket;
    checked_head_ = head;
    return head;
}

std::optional<std::int64_t> ReadCache::sync() {
    auto head = watch_head();
    if (!head) return std::nullopt;
    {
        const std::shared_lock lock(mutex_);
        if (off_) return std::nullopt;
        if (loaded_ && known_seq_ >= *head) return known_seq_;
    }
    // Behind because this process's writer has committed and is a moment from handing the events
    // over (on_commit runs right after COMMIT returns): wait for it. Reading those events back
    // from SQL here (catch_up: decrypt, parse every payload, then on_commit skips them) was a
    // third of sync()'s 3.5% of the bridge at 700 msg/s (docs/PERFORMANCE.md).
    if (wait_for_own_commit(*head)) {
        const std::shared_lock lock(mutex_);
        if (off_) return std::nullopt;
        if (loaded_ && known_seq_ >= *head) return known_seq_;
    }
    // Behind: first use, another process appended, or the writer's hand-over did not cover it.
    const std::lock_guard watch(watch_mutex_);
    bool reload_needed = false;
    {
        const std::shared_lock lock(mutex_);
        if (off_) return std::nullopt;
        if (loaded_ && known_seq_ >= *head) return known_seq_;
        reload_needed = !loaded_ || *head - known_seq_ > static_cast<std::int64_t>(options_.max_catch_up);
    }
    if (auto r = reload_needed ? reload() : catch_up(); !r) return std::nullopt;
    const std::shared_lock lock(mutex_);
    if (!off_ && loaded_ && known_seq_ >= *head) return known_seq_;
    return std::nullopt;
}

bool ReadCache::wait_for_own_commit(std::int64_t head) {
    if (own_upto_.load(std::memory_order_acquire) < head) return false;
    std::unique_lock lock(own_mutex_);
    if (own_upto_.load(std::memory_order_relaxed) < head) return false;
    own_waits_.fetch_add(1, std::memory_order_relaxed);
    // Bounded only as a guard: the writer always ends what it begins, right after on_commit.
    own_cv_.wait_for(lock, std::chrono::milliseconds(200),
                     [&] { return own_upto_.load(std::memory_order_relaxed) < head; });
    return true;
}

void ReadCache::own_commit_begins(std::int64_t last_seq) {
    const std::lock_guard lock(own_mutex_);
    own_upto_.store(last_seq, std::memory_order_release);
}

void ReadCache::own_commit_ends() {
    {
        const std::lock_guard lock(own_mutex_);
        own_upto_.store(0, std::memory_order_release);
    }
    own_cv_.notify_all();
}

Result<void> ReadCache::reload() {
    // One read transaction for the head and the patients, so they describe one moment.
    if (auto r = watch_.exec("BEGIN", "cannot begin read"); !r) return r;
    struct EndRead {
        sqlite::Db& db;
        ~EndRead() { sqlite3_exec(db.get(), "COMMIT", nullptr, nullptr, nullptr); }
    } end_read{watch_};
    std::int64_t head = 0;
    {
        head_stmt_.reset();
        const int rc = head_stmt_.step();
        if (rc == SQLITE_ROW) head = head_stmt_.column_int(0);
        head_stmt_.reset();
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return std::unexpected(sqlite::make_error(watch_.get(), rc, "cannot read head"));
    }
    std::unordered_map<std::string, std::shared_ptr<const PatientView>> patients;
    bool too_many = false;
    {
        auto stmt = sqlite::Stmt::prepare(watch_, std::string("SELECT ") + patient_view_columns + " FROM patients");
        if (!stmt) return std::unexpected(stmt.error());
        int rc = SQLITE_ROW;
        while ((rc = stmt->step()) == SQLITE_ROW) {
            if (patients.size() >= options_.max_patients) {
                too_many = true;
                break;
            }
            auto p = std::make_shared<PatientView>(read_patient_row(*stmt));
            const std::string id = p->id;
            patients.emplace(id, std::move(p));
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return std::unexpected(sqlite::make_error(watch_.get(), rc, "cannot read patients"));
    }
    const std::unique_lock lock(mutex_);
    reloads_.fetch_add(1, std::memory_order_relaxed);
    if (too_many) {
        off_ = true;
        patients_.clear();
        ring_.clear();
        conversations_.clear();
        message_conversation_.clear();
        plans_.clear();
        plan_patient_.clear();
        bytes_ = 0;
        return {};
    }
    if (loaded_ && known_seq_ >= head) return {};
    patients_ = std::move(patients);
    ring_.clear();
    conversations_.clear();
    message_conversation_.clear();
    plans_.clear();
    plan_patient_.clear();
    bytes_ = 0;
    known_seq_ = head;
    ring_first_ = head + 1;
    loaded_ = true;
    return {};
}

Result<void> ReadCache::catch_up() {
    std::int64_t from = 0;
    {
        const std::shared_lock lock(mutex_);
        from = known_seq_;
    }
    std::vector<std::shared_ptr<const StoredEvent>> events;
    {
        auto stmt = sqlite::Stmt::prepare(watch_, std::string("SELECT ") + event_columns +
                                                      " FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2");
        if (!stmt) return std::unexpected(stmt.error());
        stmt->bind(1, from);
        stmt->bind(2, static_cast<std::int64_t>(options_.max_catch_up) + 1);
        int rc = SQLITE_ROW;
        while ((rc = stmt->step()) == SQLITE_ROW) {
            auto e = read_event_row(*stmt);
            if (!e) return std::unexpected(e.error());
            events.push_back(std::make_shared<const StoredEvent>(std::move(*e)));
        }
        if (rc != SQLITE_DONE) return std::unexpected(sqlite::make_error(watch_.get(), rc, "cannot read events"));
    }
    if (events.size() > options_.max_catch_up) return reload();
    const std::unique_lock lock(mutex_);
    catch_ups_.fetch_add(1, std::memory_order_relaxed);
    for (auto& e : events) {
        if (!loaded_ || off_) break;
        if (e->seq <= known_seq_) continue;  // the writer's hook applied it meanwhile
        if (e->seq != known_seq_ + 1) break;
        apply(std::move(e));
    }
    evict();
    return {};
}

// The writer's own events, shared with its callers (AppendResult): never changed once stored, so
// the cache keeps them without a copy. The events that fall off the ring are freed after the
// exclusive lock is released, so readers of the cache (every turn, the feed) wait for the pointer
// pushes only.
void ReadCache::on_commit(const std::vector<std::shared_ptr<const StoredEvent>>& events) {
    std::vector<std::shared_ptr<const StoredEvent>> dropped;  // freed after the lock
    const std::unique_lock lock(mutex_);
    if (!loaded_ || off_) return;
    for (const auto& e : events) {
        if (e->seq <= known_seq_) continue;  // a reader's catch-up read it first
        if (e->seq != known_seq_ + 1) return;  // another process appended before: the next sync reads the gap
        apply(e, &dropped);
        if (!loaded_) return;
    }
    evict();
}

void ReadCache::apply(std::shared_ptr<const StoredEvent> event, std::vector<std::shared_ptr<const StoredEvent>>* dropped) {
    const StoredEvent& e = *event;
    if (options_.ring_events > 0) {
        ring_.push_back(std::move(event));
        while (ring_.size() > options_.ring_events) {
            if (dropped) dropped->push_back(std::move(ring_.front()));
            ring_.pop_front();
        }
        ring_first_ = ring_.front()->seq;
    } else {
        ring_first_ = e.seq + 1;
    }
    switch (e.type) {
        case EventType::patient_registered:
        case EventType::patient_assigned:
        case EventType::crisis_entered:
        case EventType::crisis_cleared:
        case EventType::ai_paused:
        case EventType::ai_resumed: apply_patient(e); break;
        case EventType::message_appended:
        case EventType::message_state_changed: apply_message(e); break;
        case EventType::plan_proposed:
        case EventType::plan_approved:
        case EventType::plan_rejected: apply_plan(e); break;
        default: break;
    }
    if (loaded_) known_seq_ = e.seq;
}

void ReadCache::apply_plan(const StoredEvent& e) {
    if (e.type == EventType::plan_proposed) {
        if (auto p = text_of(e.payload, "patient_id")) drop_plans_of(*p);
    } else {
        // The projector finds the plan's patient in the plans view; the cache knows the owner of
        // every plan it holds, and a plan it does not hold changes nothing it holds.
        auto id = text_of(e.payload, "plan_id");
        if (!id) id = text_of(e.payload, "id");
        if (id) {
            if (const auto it = plan_patient_.find(*id); it != plan_patient_.end()) drop_plans_of(std::string(it->second));
        }
    }
    if (e.patient_id) drop_plans_of(*e.patient_id);
}

// A fill read at `position` while the cache moved on to known_seq_: the newest events hold every
// event in between, so they are applied to the new entry as the hook would have applied them
// (appends by seq, state changes and plan drops are idempotent, so events the read already saw
// change nothing). Without this, under load nearly every fill lost the race with the next commit.
bool ReadCache::replayable(std::int64_t position) const { return position >= known_seq_ || position + 1 >= ring_first_; }

void ReadCache::replay_since(std::int64_t position, bool messages) {
    if (position >= known_seq_) return;
    for (auto i = static_cast<std::size_t>(position + 1 - ring_first_); i < ring_.size(); ++i) {
        const StoredEvent& e = *ring_[i];
        if (messages && (e.type == EventType::message_appended || e.type == EventType::message_state_changed)) {
            apply_message(e);
        } else if (!messages && (e.type == EventType::plan_proposed || e.type == EventType::plan_approved ||
                                 e.type == EventType::plan_rejected)) {
            apply_plan(e);
        }
        if (!loaded_) return;
    }
}

// The patients view as projections.cpp writes it: registration upserts (crisis and pause state
// survive a re-registration), assignment edits the record, the four state events flip a column;
// each sets last_seq. Rejected: dropping the row and re-reading it, which would send every feed
// read after an assignment to SQL for the assignment of one patient.
void ReadCache::apply_patient(const StoredEvent& e) {
    std::optional<std::string> id;
    if (e.type == EventType::patient_registered) {
        id = text_of(e.payload, "id");
    } else if (e.type == EventType::patient_assigned) {
        id = e.patient_id ? e.patient_id : text_of(e.payload, "patient_id");
        if (!id) id = text_of(e.payload, "id");
    } else {
        id = e.patient_id;
    }
    if (!id) return poison();
    const auto it = patients_.find(*id);
    if (e.type == EventType::patient_registered) {
        auto p = std::make_shared<PatientView>();
        p->id = *id;
        p->display_name = text_of(e.payload, "display_name").value_or("");
        p->assigned_therapist_id = text_of(e.payload, "assigned_therapist_id");
        if (it != patients_.end()) {
            p->in_crisis = it->second->in_crisis;
            p->ai_paused = it->second->ai_paused;
        }
        p->last_seq = e.seq;
        p->record = e.payload;
        if (it == patients_.end() && patients_.size() >= options_.max_patients) return poison();
        patients_[*id] = std::move(p);
        return;
    }
    if (it == patients_.end()) return poison();  // the projector refuses an unknown patient
    auto p = std::make_shared<PatientView>(*it->second);
    p->last_seq = e.seq;
    switch (e.type) {
        case EventType::patient_assigned: {
            p->assigned_therapist_id = text_of(e.payload, "assigned_therapist_id");
            if (p->assigned_therapist_id) {
                p->record["assigned_therapist_id"] = *p->assigned_therapist_id;
            } else {
                p->record.erase("assigned_therapist_id");
            }
            break;
        }
        case EventType::crisis_entered: p->in_crisis = true; break;
        case EventType::crisis_cleared: p->in_crisis = false; break;
        case EventType::ai_paused: p->ai_paused = true; break;
        case EventType::ai_resumed: p->ai_paused = false; break;
        default: break;
    }
    it->second = std::move(p);
}

// The messages view as projections.cpp writes it and read_message_row reads it: the payload with
// its state, and a released edit's text. Only conversations already cached are followed; their
// tail stays contiguous because every later message of theirs passes through here.
void ReadCache::apply_message(const StoredEvent& e) {
    if (e.type == EventType::message_appended) {
        const auto conversation = text_of(e.payload, "conversation_id");
        if (!conversation) return poison();
        const auto it = conversations_.find(*conversation);
        if (it == conversations_.end()) return;
        Conversation& c = *it->second;
        if (!c.messages.empty() && c.messages.back()->seq >= e.seq) return;  // a fill already holds it
        auto id = text_of(e.payload, "id");
        auto patient = text_of(e.payload, "patient_id");
        if (!patient) patient = e.patient_id;
        auto sender = text_of(e.payload, "sender");
        if (!id || !patient || !sender) return poison();
        auto m = std::make_shared<MessageView>();
        m->id = *id;
        m->conversation_id = *conversation;
        m->patient_id = *patient;
        m->sender = *sender;
        m->state = text_of(e.payload, "state").value_or("delivered");
        m->seq = e.seq;
        json record = e.payload;
        if (record.is_object()) record["state"] = m->state;
        m->record = std::move(record);
        const std::size_t n = approx_bytes(*m);
        c.bytes += n;
        bytes_ += n;
        message_conversation_[*id] = *conversation;
        c.messages.push_back(std::move(m));
        c.used.store(++clock_, std::memory_order_relaxed);
        trim(c);
        return;
    }
    auto id = text_of(e.payload, "message_id");
    if (!id) id = text_of(e.payload, "id");
    const auto state = text_of(e.payload, "state");
    if (!id || !state) return poison();
    const auto where = message_conversation_.find(*id);
    if (where == message_conversation_.end()) return;  // not in any cached tail
    const auto it = conversations_.find(where->second);
    if (it == conversations_.end()) return;
    Conversation& c = *it->second;
    for (auto m = c.messages.rbegin(); m != c.messages.rend(); ++m) {
        if ((*m)->id != *id) continue;
        auto changed = std::make_shared<MessageView>(**m);
        changed->state = *state;
        if (changed->record.is_object()) {
            json record = changed->record.get();  // shared with earlier readers: a new one, not an edit
            record["state"] = *state;
            if (auto text = text_of(e.payload, "text")) record["text"] = *text;
            changed->record = std::move(record);
        }
        const std::size_t before = approx_bytes(**m);
        const std::size_t after = approx_bytes(*changed);
        c.bytes = c.bytes - before + after;
        bytes_ = bytes_ - before + after;
        *m = std::move(changed);
        return;
    }
}

void ReadCache::trim(Conversation& c) {
    while (c.messages.size() > options_.conversation_messages) {
        const std::size_t n = approx_bytes(*c.messages.front());
        c.bytes -= n;
        bytes_ -= n;
        message_conversation_.erase(c.messages.front()->id);
        c.messages.pop_front();
        c.whole = false;
    }
}

void ReadCache::drop_conversation(std::unordered_map<std::string, std::unique_ptr<Conversation>>::iterator it) {
    for (const auto& m : it->second->messages) message_conversation_.erase(m->id);
    bytes_ -= it->second->bytes;
    conversations_.erase(it);
}

void ReadCache::drop_plans_of(const std::string& patient_id) {
    const auto it = plans_.find(patient_id);
    if (it == plans_.end()) return;
    for (const auto& p : *it->second->rows) plan_patient_.erase(p.id);
    bytes_ -= it->second->bytes;
    plans_.erase(it);
}

// Least recently used conversations and plan lists go first, down to three quarters of the
// budget so that eviction runs in batches rather than on every append.
void ReadCache::evict() {
    if (bytes_ <= options_.budget_bytes) return;
    std::vector<std::tuple<std::uint64_t, bool, std::string>> order;  // (last use, is plans, key)
    order.reserve(conversations_.size() + plans_.size());
    for (const auto& [key, c] : conversations_) order.emplace_back(c->used.load(std::memory_order_relaxed), false, key);
    for (const auto& [key, p] : plans_) order.emplace_back(p->used.load(std::memory_order_relaxed), true, key);
    std::sort(order.begin(), order.end());
    const std::size_t target = options_.budget_bytes / 4 * 3;
    for (const auto& [used, is_plans, key] : order) {
        if (bytes_ <= target) break;
        if (is_plans) {
            drop_plans_of(key);
        } else if (const auto it = conversations_.find(key); it != conversations_.end()) {
            drop_conversation(it);
        }
    }
}

void ReadCache::poison() {
    loaded_ = false;
    ring_.clear();
    patients_.clear();
    conversations_.clear();
    message_conversation_.clear();
    plans_.clear();
    plan_patient_.clear();
    bytes_ = 0;
}

std::optional<std::optional<PatientView>> ReadCache::find_patient(std::string_view patient_id) {
    std::shared_ptr<const PatientView> found;
    if (!sync()) {
        misses_.fetch_add(1, std::memory_order_relaxed);
        return std::nullopt;
    }
    {
        const std::shared_lock lock(mutex_);
        if (!loaded_ || off_) {
            misses_.fetch_add(1, std::memory_order_relaxed);
            return std::nullopt;
        }
        if (const auto it = patients_.find(std::string(patient_id)); it != patients_.end()) found = it->second;
    }
    hits_.fetch_add(1, std::memory_order_relaxed);
    if (!found) return std::optional<PatientView>{};
    return std::optional<PatientView>(*found);
}

bool ReadCache::counted(bool served) {
    (served ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
    return served;
}

std::optional<std::vector<MessageView>> ReadCache::recent_messages(std::string_view conversation_id, std::size_t limit,
                                                                   std::optional<std::int64_t>& position) {
    return conversation_tail(conversation_id, limit, position);
}

std::optional<std::vector<MessageView>> ReadCache::messages(std::string_view conversation_id,
                                                            std::optional<std::int64_t>& position) {
    return conversation_tail(conversation_id, std::nullopt, position);
}

std::optional<std::vector<MessageView>> ReadCache::conversation_tail(std::string_view conversation_id,
                                                                     std::optional<std::size_t> limit,
                                                                     std::optional<std::int64_t>& position) {
    std::vector<std::shared_ptr<const MessageView>> picked;
    bool served = false;
    if (sync()) {
        const std::shared_lock lock(mutex_);
        if (loaded_ && !off_) {
            const auto it = conversations_.find(std::string(conversation_id));
            // A partial tail serves only a limit it covers; the whole conversation needs all of it.
            if (it != conversations_.end() && (it->second->whole || (limit && it->second->messages.size() >= *limit))) {
                const auto& all = it->second->messages;
                const std::size_t n = limit ? std::min(*limit, all.size()) : all.size();
                picked.assign(all.end() - static_cast<std::ptrdiff_t>(n), all.end());
                it->second->used.store(++clock_, std::memory_order_relaxed);
                served = true;
            } else {
                position = known_seq_;
            }
        }
    }
    if (!counted(served)) return std::nullopt;
    std::vector<MessageView> out;
    out.reserve(picked.size());
    for (const auto& m : picked) out.push_back(*m);
    return out;
}

std::optional<std::vector<PlanView>> ReadCache::plans(std::string_view patient_id, std::optional<std::int64_t>& position) {
    std::shared_ptr<const std::vector<PlanView>> rows;
    if (sync()) {
        const std::shared_lock lock(mutex_);
        if (loaded_ && !off_) {
            if (const auto it = plans_.find(std::string(patient_id)); it != plans_.end()) {
                rows = it->second->rows;
                it->second->used.store(++clock_, std::memory_order_relaxed);
            } else {
                position = known_seq_;
            }
        }
    }
    if (!counted(rows != nullptr)) return std::nullopt;
    return *rows;
}

template <typename Visit>
bool ReadCache::visit_ring_after(std::int64_t after_seq, Visit&& visit) const {
    // Every event after after_seq up to known_seq_ must be in the ring; none exists past
    // known_seq_ (sync saw the head there or before).
    if (!loaded_ || off_ || !replayable(after_seq)) return false;
    if (after_seq >= known_seq_) return true;
    for (auto i = static_cast<std::size_t>(after_seq + 1 - ring_first_); i < ring_.size(); ++i) {
        if (!visit(ring_[i])) break;
    }
    return true;
}

const std::optional<std::string>& ReadCache::therapist_of(const StoredEvent& e) const {
    static const std::optional<std::string> none;
    if (!e.patient_id) return none;
    const auto it = patients_.find(*e.patient_id);
    return it == patients_.end() ? none : it->second->assigned_therapist_id;
}

std::optional<std::vector<FeedEvent>> ReadCache::read_feed_after(std::int64_t after_seq, std::size_t limit) {
    std::vector<std::pair<std::shared_ptr<const StoredEvent>, std::optional<std::string>>> picked;
    bool served = false;
    if (sync()) {
        const std::shared_lock lock(mutex_);
        served = visit_ring_after(after_seq, [&](const std::shared_ptr<const StoredEvent>& e) {
            if (picked.size() >= limit) return false;
            picked.emplace_back(e, therapist_of(*e));
            return true;
        });
    }
    if (!counted(served)) return std::nullopt;
    std::vector<FeedEvent> out;
    out.reserve(picked.size());
    // The ring's own events, shared: a read copies no event (they are never changed once ringed).
    for (auto& [e, therapist] : picked) out.emplace_back(std::move(e), std::move(therapist));
    return out;
}

std::optional<std::vector<StoredEvent>> ReadCache::read_after(std::int64_t after_seq, const Principal& principal,
                                                              std::size_t limit) {
    std::vector<std::shared_ptr<const StoredEvent>> picked;
    bool served = false;
    if (sync()) {
        const std::shared_lock lock(mutex_);
        served = visit_ring_after(after_seq, [&](const std::shared_ptr<const StoredEvent>& e) {
            if (picked.size() >= limit) return false;
            if (principal.supervisor || may_read(principal, *e, therapist_of(*e))) picked.push_back(e);
            return true;
        });
    }
    if (!counted(served)) return std::nullopt;
    std::vector<StoredEvent> out;
    out.reserve(picked.size());
    for (const auto& e : picked) out.push_back(*e);
    return out;
}

void ReadCache::fill_messages(std::int64_t position, std::string_view conversation_id,
                              const std::vector<MessageView>& tail, bool whole) {
    if (tail.empty() && !whole) return;
    auto c = std::make_unique<Conversation>();
    const std::size_t keep = std::min(tail.size(), options_.conversation_messages);
    for (auto it = tail.end() - static_cast<std::ptrdiff_t>(keep); it != tail.end(); ++it) {
        c->bytes += approx_bytes(*it);
        c->messages.push_back(std::make_shared<const MessageView>(*it));
    }
    c->whole = whole && keep == tail.size();
    const std::unique_lock lock(mutex_);
    // The read began after every event up to `position` was applied here, and may also hold a
    // few newer ones, which the replay and the hook then find already there.
    if (!loaded_ || off_ || position > known_seq_ || !replayable(position)) return;
    const std::string key(conversation_id);
    if (const auto it = conversations_.find(key); it != conversations_.end()) drop_conversation(it);
    for (const auto& m : c->messages) message_conversation_[m->id] = key;
    bytes_ += c->bytes;
    c->used.store(++clock_, std::memory_order_relaxed);
    conversations_.emplace(key, std::move(c));
    replay_since(position, true);
    evict();
}

void ReadCache::fill_plans(std::int64_t position, std::string_view patient_id, const std::vector<PlanView>& rows) {
    auto p = std::make_unique<Plans>();
    p->rows = std::make_shared<const std::vector<PlanView>>(rows);
    p->bytes = approx_bytes(rows);
    const std::unique_lock lock(mutex_);
    if (!loaded_ || off_ || position > known_seq_ || !replayable(position)) return;
    const std::string key(patient_id);
    drop_plans_of(key);
    for (const auto& row : rows) plan_patient_[row.id] = key;
    bytes_ += p->bytes;
    p->used.store(++clock_, std::memory_order_relaxed);
    plans_.emplace(key, std::move(p));
    replay_since(position, false);
    evict();
}

ReadCache::Stats ReadCache::stats() const noexcept {
    return Stats{hits_.load(std::memory_order_relaxed), misses_.load(std::memory_order_relaxed),
                 reloads_.load(std::memory_order_relaxed), catch_ups_.load(std::memory_order_relaxed)};
}

}  // namespace tandem
