// The turn of one patient message (docs/ARCHITECTURE.md, "The turn pipeline"): screen, store
// with what the screen decides, the safety protocol, then the AI reply streamed in screened
// sentences and held when unsafe. Sessions, invites and the patient index stay in
// patient_service.cpp.
#include "tandem/bridge/patient_service.h"

#include <algorithm>
#include <chrono>

#include "tandem/bridge/log.h"
#include "tandem/bridge/notifying_store.h"
#include "tandem/bridge/wire.h"
#include "tandem/domain/json.h"
#include "tandem/domain/time.h"
#include "tandem/domain/id.h"

namespace tandem::bridge {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kCrisisText =
    "It sounds like you are going through something really painful right now, and your safety matters most. "
    "Your care team has been alerted and will reach out to you. If you might act on these thoughts, please "
    "contact one of these now:";
constexpr std::string_view kFallbackText =
    "I'm sorry, I can't reply right now. Your message is saved and your care team can see it. If you need "
    "help urgently, call or text 988, or call 911.";

json risk_json(const RiskAssessment& r) {
    json j;
    to_json(j, r);
    return j;
}

ScreenRole screen_role(const std::string& sender) {
    if (sender == "patient") return ScreenRole::patient;
    if (sender == "clinician") return ScreenRole::clinician;
    return ScreenRole::ai;
}

// The messages a prompt or a screen may see: delivered ones from the patient, the AI and
// clinicians (held AI drafts and system notices never feed the next turn).
bool conversational(const MessageView& m) {
    return m.state == "delivered" && (m.sender == "patient" || m.sender == "ai" || m.sender == "clinician");
}

// Where the streamed text may be cut: just past the last '.', '!', '?' or newline after `from`
// that is followed by whitespace. Requiring the following character means "3.5" and a
// sentence still being typed are never split; a reply without such a boundary goes out whole
// at the end.
std::size_t sentence_cut(std::string_view text, std::size_t from) {
    std::size_t cut = from;
    for (std::size_t i = from; i + 1 < text.size(); ++i) {
        const char c = text[i];
        const char next = text[i + 1];
        if ((c == '.' || c == '!' || c == '?' || c == '\n') && (next == ' ' || next == '\n' || next == '\t'))
            cut = i + 1;
    }
    return cut;
}

// A prefix of a reply is unsafe when the screen found something in it. Ignoring disclosed risk
// (ai_risk_ignorance) is about what the whole reply lacks, and the safety support may come in a
// later sentence, so on its own it does not stop the stream; the final screen still holds a
// reply that never gives it. Any other category at moderate or above stops it (also when the
// severity came from the ignorance: holding too much is the safe side).
bool unsafe_as_prefix(const RiskAssessment& r) {
    if (r.severity < Severity::moderate) return false;
    return r.categories.empty() || std::any_of(r.categories.begin(), r.categories.end(),
                       [](RiskCategory c) { return c != RiskCategory::ai_risk_ignorance; });
}

// The system message that stands in for a failed AI reply; reply_id tells the page to drop any
// segments of that reply.
std::string fallback_frame(const std::string& ai_id, std::uint64_t seq) {
    return FrameText{}
        .text("reply_id", ai_id)
        .text("sender", "system")
        .text("state", "delivered")
        .text("text", kFallbackText)
        .frame("message", seq);
}

std::vector<std::string> category_names(const RiskAssessment& r) {
    std::vector<std::string> out;
    for (auto c : r.categories) out.emplace_back(to_string(c));
    return out;
}
}  // namespace

nlohmann::json PatientService::crisis_payload(const std::string& locale) const {
    json resources = json::array();
    for (const auto& r : clinic_policy()->resources_for(locale))
        resources.push_back({{"name", r.name}, {"contact", r.contact}, {"kind", r.kind}});
    return {{"text", kCrisisText}, {"resources", resources}};
}

Result<std::shared_ptr<const PatientView>> PatientService::turn_patient(const std::string& patient_id) {
    if (patient_cache_ != nullptr) return patient_cache_->find_patient_cached(patient_id);
    auto read = store_.find_patient(patient_id);
    if (!read) return std::unexpected(read.error());
    if (!*read) return std::shared_ptr<const PatientView>();
    return std::make_shared<const PatientView>(std::move(**read));
}

void PatientService::handle_send(const std::shared_ptr<Connection>& c, const PatientFrame& f) {
    auto session = session_of(c->id());
    if (!session) return (void)c->send(make_error_frame("unauthenticated", "send hello or redeem first", f.id));
    const auto cid = f.payload.find("client_msg_id");
    const auto txt = f.payload.find("text");
    if (cid == f.payload.end() || !cid->is_string() || !is_valid_id(cid->get<std::string>()))
        return (void)c->send(make_error_frame("schema", "payload.client_msg_id must be an id", f.id));
    if (txt == f.payload.end() || !txt->is_string() || txt->get<std::string>().empty())
        return (void)c->send(make_error_frame("schema", "payload.text must be a non-empty string", f.id));
    const std::string& text = txt->get_ref<const std::string&>();
    if (text.size() > options_.max_text_bytes)
        return (void)c->send(make_error_frame("too_large", "message text is too long", f.id));
    const std::string client_msg_id = *cid;

    const std::string message_id = new_id();
    NewEvent e;
    e.type = EventType::message_appended;
    e.patient_id = session->patient_id;
    e.actor = Actor{ActorKind::patient, session->patient_id};
    e.payload = {{"id", message_id},
                 {"conversation_id", session->conversation_id},
                 {"patient_id", session->patient_id},
                 {"sender", "patient"},
                 {"text", text},
                 {"state", "delivered"},
                 {"client_msg_id", client_msg_id},
                 {"created_at", utc_now_text()}};
    e.dedupe_key = "msg:" + session->patient_id + ":" + client_msg_id;
    // Per patient, across devices: reconnecting does not reset it (the endpoint's limit is per
    // connection).
    if (!take_patient_token(session->patient_id)) {
        metrics_.frames_rejected.fetch_add(1);
        return (void)c->send(make_error_frame("rate_limited", "too many messages; wait a moment", f.id));
    }
    // The screen runs before the message is stored, so the message and everything its screen
    // decides (assessment, flag, crisis message, crisis state) are one atomic append: one durable
    // commit per turn instead of up to five in a row, and no crash can leave a risky message
    // stored without its flag. The screen costs tens of microseconds against a commit's
    // milliseconds. Rejected: storing first and screening after (what this did before), whose
    // crash window needed a replay at start to close.
    // Shared, not copied: the copy (a record tree per turn) was 0.3% of the bridge; held by the
    // notifying store once the feed runs, since reading it from the store each turn was 2.7%.
    auto patient = turn_patient(session->patient_id);
    const std::shared_ptr<const PatientView> patient_view = patient ? std::move(*patient) : nullptr;
    // One read of the conversation's tail serves the screen's context now and, with this message
    // added once stored, the LLM window: two reads per turn were 9% of the bridge's CPU.
    auto recent = store_.recent_messages(session->conversation_id, conversation_tail_size(options_));
    std::vector<MessageView> window = recent ? std::move(*recent) : std::vector<MessageView>{};
    const auto context = turns_of(window, {});
    const RiskAssessment risk = screener_.screen(text, ScreenRole::patient, context);
    std::vector<NewEvent> batch;
    batch.push_back(std::move(e));
    const std::string& key = *batch.front().dedupe_key;
    // Keys that sort right after the message's own: a resend appends none of them again, and
    // their index entries land on the leaf page the message's key already dirtied.
    const TurnKeys keys{key + "/risk", key + "/flag", key + "/crisis", key + "/crisis_message"};
    const TurnPlan plan = add_screened_events(batch, *session, message_id, risk, patient_view.get(), keys);
    auto stored = append_batch(std::move(batch));
    if (!stored) return (void)c->send(make_error_frame("unavailable", "could not save; please resend", f.id));
    auto& ev = stored->front().event;
    const std::string stored_id = ev.payload.value("id", message_id);
    // Fixed-shape frames go straight to text (FrameText, wire.h): building a json tree per
    // frame, then dumping it, was most of make_frame's 3.7% of the bridge's CPU.
    c->send(FrameText{}
                .text("client_msg_id", client_msg_id)
                .text("message_id", stored_id)
                .number("seq", ev.seq)
                .frame("ack", static_cast<std::uint64_t>(ev.seq)));
    if (stored->front().duplicate) return;  // the first copy was (or is being) processed
    metrics_.patient_messages.fetch_add(1);
    // The stored record moves into the window: nothing after this reads the batch's payloads
    // (finish_turn looks at seqs and duplicates only), and a deep copy of it was 1% of the bridge.
    window.push_back(MessageView{stored_id, session->conversation_id, session->patient_id, "patient", "delivered",
                                 ev.seq, std::move(ev.payload)});
    finish_turn(*session, stored_id, risk, plan, *stored, recent ? &window : nullptr, patient_view.get());
}

// The turn of a message stored without its screen (a crash between the two, under the code
// before the screen moved ahead of the store): the same events as a new turn, in one batch after
// the message. Keys as the earlier code wrote them, so a turn it half finished is not doubled.
void PatientService::process_turn(const Session& session, const std::string& stored_id, const std::string& text) {
    const auto context = recent_turns(session.conversation_id, stored_id);
    const RiskAssessment risk = screener_.screen(text, ScreenRole::patient, context);
    auto patient = turn_patient(session.patient_id);
    const std::shared_ptr<const PatientView> patient_view = patient ? std::move(*patient) : nullptr;
    std::vector<NewEvent> batch;
    const TurnKeys keys{std::nullopt, "flag:" + stored_id, "crisis:" + stored_id, std::nullopt};
    TurnPlan plan = add_screened_events(batch, session, stored_id, risk, patient_view.get(), keys);
    auto stored = append_batch(std::move(batch));
    if (!stored) {
        log_event(LogLevel::error, "safety_protocol_store_failed", {{"patient", session.patient_id}});
        plan.hold = plan.hold || risk.severity >= Severity::high;
        reply_with_ai(session, stored_id, plan.hold, risk.severity >= Severity::moderate);
        return;
    }
    finish_turn(session, stored_id, risk, plan, *stored, nullptr, patient_view.get());
}

// Appends to `batch` (after the message, when the batch holds it) what the screen decides, in the
// safety protocol's order: the assessment; at moderate a review flag; at high/imminent the crisis
// message (a system message naming the resources for the patient's locale), the urgent flag and
// crisis_entered (unless already in crisis). The plan's indexes are positions in `batch`.
PatientService::TurnPlan PatientService::add_screened_events(std::vector<NewEvent>& batch, const Session& s,
                                                             const std::string& message_id,
                                                             const RiskAssessment& risk,
                                                             const PatientView* patient, const TurnKeys& keys) {
    NewEvent assessed;
    assessed.type = EventType::risk_assessed;
    assessed.patient_id = s.patient_id;
    assessed.actor = Actor{ActorKind::system, std::nullopt};
    assessed.payload = risk_json(risk);
    assessed.payload["message_id"] = message_id;
    assessed.payload["patient_id"] = s.patient_id;
    assessed.dedupe_key = keys.risk;
    batch.push_back(std::move(assessed));
    return add_protocol_events(batch, s, message_id, risk, risk.severity >= Severity::high, patient, keys, "message_id");
}

// What the safety protocol adds for a risky source (a message, or a questionnaire's answers,
// named by `source_field`): with `crisis`, the crisis message (a system message naming the
// resources for the patient's locale), the urgent flag and crisis_entered (unless already in
// crisis); else at moderate a review flag.
PatientService::TurnPlan PatientService::add_protocol_events(std::vector<NewEvent>& batch, const Session& s,
                                                             const std::string& source_id,
                                                             const RiskAssessment& risk, bool crisis,
                                                             const PatientView* patient,
                                                             const TurnKeys& keys, const char* source_field) {
    const auto policy = clinic_policy();
    TurnPlan plan;
    plan.locale = patient != nullptr ? patient->record.value("locale", "en-US") : "en-US";
    const bool was_in_crisis = patient != nullptr && patient->in_crisis;
    plan.hold = was_in_crisis || (patient != nullptr && patient->ai_paused);
    if (crisis) {
        // The crisis message comes first in the batch: the transcript a clinician reads later,
        // and a page that missed the crisis frame, show what the patient was told to call.
        plan.hold = true;
        std::string crisis_text(kCrisisText);
        for (const auto& r : policy->resources_for(plan.locale)) crisis_text += "\n- " + r.name + ": " + r.contact;
        NewEvent m = system_message_event(s, crisis_text);
        m.dedupe_key = keys.crisis_message;
        plan.crisis_message = batch.size();
        batch.push_back(std::move(m));
        plan.flag = batch.size();
        batch.push_back(flag_event(s, source_id, risk, policy->urgent_sla_minutes, keys.flag, source_field));
        if (!was_in_crisis) {
            NewEvent e;
            e.type = EventType::crisis_entered;
            e.patient_id = s.patient_id;
            e.actor = Actor{ActorKind::system, std::nullopt};
            e.payload = {{"patient_id", s.patient_id}, {source_field, source_id}, {"at", utc_now_text()}};
            e.dedupe_key = keys.crisis;
            batch.push_back(std::move(e));
        }
    } else if (risk.severity >= Severity::moderate) {
        plan.flag = batch.size();
        batch.push_back(flag_event(s, source_id, risk, options_.moderate_sla_minutes, keys.flag, source_field));
    }
    return plan;
}

// After the turn's batch is durable: the crisis frame, then the AI reply.
void PatientService::finish_turn(const Session& s, const std::string& message_id, const RiskAssessment& risk,
                                 const TurnPlan& plan, const std::vector<AppendResult>& stored,
                                 const std::vector<MessageView>* window, const PatientView* patient) {
    announce_protocol(s, risk, plan, stored);
    check_assessments_due(s, false);
    reply_with_ai(s, message_id, plan.hold, risk.severity >= Severity::moderate, window, patient);
    plans_->after_patient_turn(s.patient_id);  // queues the intake proposal; never waits for it
}

void PatientService::resume_unscreened_turns() {
    // A crash between the ack and the screen leaves a stored, acknowledged patient message that
    // nobody screened: a crisis in it would raise no flag. At start, every patient message
    // without a risk_assessed event gets its turn now (screen, safety protocol, AI reply), on a
    // worker, so serving is not delayed. Rejected: screening before the ack (a slow screen
    // would delay every ack, and the crash window would only move).
    std::vector<Unscreened> pending;
    {
        const std::lock_guard lock(mutex_);
        tracking_unscreened_ = false;
        pending.swap(unscreened_);
        unscreened_index_.clear();
    }
    for (auto& u : pending) {
        if (u.message_id.empty()) continue;  // screened later in the log
        log_event(LogLevel::warn, "turn_resumed", {{"patient", u.patient_id}, {"message", u.message_id}});
        const std::string lane = "resume:" + u.patient_id;  // in log order per patient
        workers_.post(lane, [this, u = std::move(u)] {
            process_turn(Session{{}, u.patient_id, u.conversation_id}, u.message_id, u.text);
        });
    }
}

// After the protocol's events are durable: count the flag, and send the crisis frame (once: not
// for a crisis message that was already stored).
void PatientService::announce_protocol(const Session& s, const RiskAssessment& risk, const TurnPlan& plan,
                                       const std::vector<AppendResult>& stored) {
    if (plan.flag && *plan.flag < stored.size() && !stored[*plan.flag].duplicate)
        metrics_.flags_by_severity[static_cast<std::size_t>(risk.severity)].fetch_add(1);
    if (plan.crisis_message && *plan.crisis_message < stored.size() && !stored[*plan.crisis_message].duplicate) {
        const auto seq = stored[*plan.crisis_message].event.seq;
        send_to_patient(s.patient_id, make_frame("crisis", crisis_payload(plan.locale), static_cast<std::uint64_t>(seq)));
        log_event(LogLevel::warn, "safety_protocol", {{"patient", s.patient_id}, {"severity", to_string(risk.severity)}});
    }
}

NewEvent PatientService::flag_event(const Session& s, const std::string& message_id, const RiskAssessment& risk,
                                    int sla_minutes, std::optional<std::string> dedupe_key,
                                    const char* source_field) {
    NewEvent e;
    e.type = EventType::flag_opened;
    e.patient_id = s.patient_id;
    e.actor = Actor{ActorKind::system, std::nullopt};
    e.payload = {{"id", new_id()},
                 {"patient_id", s.patient_id},
                 {"conversation_id", s.conversation_id},
                 {source_field, message_id},
                 {"severity", to_string(risk.severity)},
                 {"categories", category_names(risk)},
                 {"status", "open"},
                 {"opened_at", utc_now_text()},
                 {"sla_deadline", format_timestamp(now_utc() + std::chrono::minutes(sla_minutes))},
                 {"escalation_level", 0},
                 {"notes", json::array()}};
    e.dedupe_key = std::move(dedupe_key);
    return e;
}

NewEvent PatientService::system_message_event(const Session& s, const std::string& text) {
    NewEvent e;
    e.type = EventType::message_appended;
    e.patient_id = s.patient_id;
    e.actor = Actor{ActorKind::system, std::nullopt};
    e.payload = {{"id", new_id()},         {"conversation_id", s.conversation_id},
                 {"patient_id", s.patient_id}, {"sender", "system"},
                 {"text", text},     {"state", "delivered"},
                 {"created_at", utc_now_text()}};
    return e;
}

Result<std::int64_t> PatientService::deliver_system_message(const Session& s, const std::string& text) {
    auto r = append(system_message_event(s, text));
    if (!r) return std::unexpected(r.error());
    return r->event.seq;
}

// Never the whole conversation: re-reading it every turn was 13% of the bridge's CPU and grew
// with its length. Eight spare rather than twice the window (as before, 32 messages): the read
// cache holds this many of every active conversation, and at 2,000 patients 32 did not fit its
// budget, so every turn read SQLCipher (docs/PERFORMANCE.md, "Bridge memory").
std::size_t conversation_tail_size(const PatientServiceOptions& options) {
    return std::max(options.history_window, options.screen_context) + 8;
}

std::vector<ScreenTurn> PatientService::turns_of(const std::vector<MessageView>& window, const std::string& exclude_id) const {
    // Only the newest screen_context turns have their text copied out of the records: the window
    // holds about three times as many.
    std::vector<const MessageView*> picked;
    for (auto it = window.rbegin(); it != window.rend() && picked.size() < options_.screen_context; ++it)
        if (it->id != exclude_id && conversational(*it)) picked.push_back(&*it);
    std::vector<ScreenTurn> out;
    out.reserve(picked.size());
    for (auto it = picked.rbegin(); it != picked.rend(); ++it)
        out.push_back({screen_role((*it)->sender), (*it)->record.value("text", "")});
    return out;
}

std::vector<ScreenTurn> PatientService::recent_turns(const std::string& conversation_id, const std::string& exclude_id) {
    auto msgs = store_.recent_messages(conversation_id, conversation_tail_size(options_));
    if (!msgs) return {};  // a screen without context is still a screen
    return turns_of(*msgs, exclude_id);
}

void PatientService::reply_with_ai(const Session& s, const std::string& message_id, bool hold_for_review,
                                   bool risk_disclosed, const std::vector<MessageView>* window_read,
                                   const PatientView* patient) {
    // PlanService keeps it current (an approval lands on the very next turn).
    const std::shared_ptr<const PromptPlan> shared_plan = plans_->active_plan_shared(s.patient_id);
    const PromptPlan& plan = *shared_plan;
    PromptContext prompt_context = plans_->prompt_context(patient, s.patient_id, risk_disclosed);
    ChatRequest request;
    // One source for the prompt's line and the offline companion's sentence. A crisis or held
    // turn leaves the offer for the next ordinary one: a form is not what a person in distress
    // should be pointed to, but it must still be mentioned once.
    if (!hold_for_review && !risk_disclosed) {
        request.offered_questionnaires = assessments_->take_offered(s.patient_id);
        prompt_context.questionnaire_note = questionnaire_prompt_note(request.offered_questionnaires);
    }
    request.homework = plan_homework(plan);
    request.risk_disclosed = risk_disclosed;
    request.plan = companion_guidance(plan);
    request.messages.push_back({"system", build_system_prompt(default_safety_rules(), plan, prompt_context)});
    std::vector<ScreenTurn> context;  // what the AI reply answers, for its screen
    // The turn's own read when it made one (see handle_send), else the conversation's tail now.
    Result<std::vector<MessageView>> read_now;
    if (window_read == nullptr) read_now = store_.recent_messages(s.conversation_id, conversation_tail_size(options_));
    const std::vector<MessageView>* msgs = window_read != nullptr ? window_read : read_now ? &*read_now : nullptr;
    if (msgs != nullptr) {
        std::vector<const MessageView*> window;
        for (const auto& m : *msgs)
            if (conversational(m)) window.push_back(&m);
        // Each message's text is looked up once, for the prompt and the screen's context alike:
        // the lookups in the cached records (cold memory, one map search each) were 1.5% of the
        // bridge when each list made its own.
        const std::size_t first =
            window.size() - std::min(window.size(), std::max(options_.history_window, options_.screen_context));
        const std::size_t first_prompt = window.size() - std::min(window.size(), options_.history_window);
        const std::size_t first_ctx = window.size() - std::min(window.size(), options_.screen_context);
        context.reserve(window.size() - first_ctx);
        for (auto i = first; i < window.size(); ++i) {
            const auto t = window[i]->record->find("text");
            const std::string* text = t != window[i]->record->end() && t->is_string()
                                          ? &t->get_ref<const std::string&>()
                                          : nullptr;
            static const std::string none;
            if (i >= first_prompt)
                request.messages.push_back(
                    {window[i]->sender == "patient" ? "user" : "assistant", text != nullptr ? *text : none});
            if (i >= first_ctx) context.push_back({screen_role(window[i]->sender), text != nullptr ? *text : none});
        }
    }
    // The reply's id is chosen now so segments, the final message and a hold all name it.
    const std::string ai_id = new_id();
    if (!hold_for_review)
        send_to_patient(s.patient_id, FrameText{}.text("reply_id", ai_id).text("reply_to", message_id).frame("typing"));

    // Streaming without ever showing unscreened text: as the reply streams, each time a
    // sentence completes the whole prefix so far is screened (in the conversation's context)
    // and only then does the new sentence go out as a `segment`. The first unsafe prefix stops
    // the segments; the reply is then held whatever the final screen says. Rejected: sending
    // deltas and retracting on a bad screen (the patient would already have read it), and
    // screening each sentence alone (a sentence can be unsafe only after the one before it).
    //
    // A model that holds the whole reply before its first piece (the offline companion, a
    // provider's one-object answer) says so through DeltaSink::whole: that text is screened
    // once, whole, before anything streams. Unsafe as a whole, nothing streams and it is held;
    // safe, its sentences go out as segments unscreened, since each is part of exactly the text
    // that passed, and the final screen reuses the verdict. At least as strict as the prefixes
    // (a prefix the per-sentence path would show is never shown from a reply held whole) at one
    // screen instead of one per sentence plus one; the re-screens were about half of the
    // bridge's screening CPU under the load benchmark. A model that streams as it generates
    // keeps the per-sentence path: its later text does not exist when the first sentence is due.
    std::string streamed;
    std::size_t shown = 0;
    int segment_index = 0;
    std::optional<RiskAssessment> unsafe_prefix;
    std::optional<std::string> whole_text;        // announced before any piece, and screened
    std::optional<RiskAssessment> whole_verdict;  // its screen
    DeltaSink sink;
    if (!hold_for_review && options_.stream_segments) {
        auto on_piece = [&](std::string_view delta) {
            streamed.append(delta);
            if (unsafe_prefix) return;
            if (whole_text && !whole_text->starts_with(streamed)) {
                // The pieces left the announced text (a broken model): from here every prefix is
                // screened as for a streamed reply. What was shown was part of the screened text.
                whole_text.reset();
                whole_verdict.reset();
            }
            if (whole_verdict && whole_verdict->severity >= Severity::moderate) return;  // held whole
            const auto cut = sentence_cut(streamed, shown);
            if (cut <= shown) return;
            if (!whole_verdict) {
                auto verdict = screener_.screen(std::string_view(streamed).substr(0, cut), ScreenRole::ai, context);
                if (unsafe_as_prefix(verdict)) {
                    unsafe_prefix = std::move(verdict);
                    return;
                }
            }
            send_to_patient(s.patient_id, FrameText{}
                                              .number("index", segment_index++)
                                              .text("reply_id", ai_id)
                                              .text("reply_to", message_id)
                                              .text("text", std::string_view(streamed).substr(shown, cut - shown))
                                              .frame("segment"));
            shown = cut;
        };
        auto on_whole = [&](std::string_view text) {
            if (!streamed.empty() || whole_text) return;  // late or repeated: the pieces decide
            whole_verdict = screener_.screen(text, ScreenRole::ai, context);
            whole_text.emplace(text);
        };
        sink = DeltaSink(std::move(on_piece), std::move(on_whole));
    }

    metrics_.llm_requests.fetch_add(1);
    const auto start = Clock::now();
    auto reply = model_.complete(request, sink);
    metrics_.llm_latency.observe(Clock::now() - start);
    if (!reply || reply->text.empty()) {
        metrics_.llm_errors.fetch_add(1);
        const Error err = reply ? Error{ErrorCode::parse, "empty reply", {}} : reply.error();
        NewEvent e;
        e.type = EventType::llm_failed;
        e.patient_id = s.patient_id;
        e.actor = Actor{ActorKind::system, std::nullopt};
        e.payload = {{"patient_id", s.patient_id},   {"conversation_id", s.conversation_id},
                     {"message_id", message_id},     {"code", to_string(err.code)},
                     {"error", err.message},         {"model", model_.model_name()},
                     {"at", utc_now_text()}};
        (void)append(std::move(e));
        log_event(LogLevel::warn, "llm_failed", {{"patient", s.patient_id}, {"code", to_string(err.code)}});
        // reply_id tells the page to drop any segments of the failed reply.
        if (auto seq = deliver_system_message(s, std::string(kFallbackText)))
            send_to_patient(s.patient_id, fallback_frame(ai_id, static_cast<std::uint64_t>(*seq)));
        return;
    }

    // The verdict of the text screened whole, when the reply is exactly that text; else a screen.
    RiskAssessment risk = whole_verdict && reply->text == *whole_text
                              ? std::move(*whole_verdict)
                              : screener_.screen(reply->text, ScreenRole::ai, context);
    // Keep the prefix's verdict when it was worse; its spans lie inside the full text only if
    // the streamed text is a prefix of it (it is, unless a provider's final text differs).
    if (unsafe_prefix && unsafe_prefix->severity > risk.severity && reply->text.starts_with(streamed))
        risk = *unsafe_prefix;
    const bool unsafe = risk.severity >= Severity::moderate || unsafe_prefix.has_value();
    const bool held = unsafe || hold_for_review;
    const std::string model = reply->model.empty() ? model_.model_name() : reply->model;
    NewEvent e;
    e.type = EventType::message_appended;
    e.patient_id = s.patient_id;
    e.actor = Actor{ActorKind::ai, std::nullopt};
    e.payload = {{"id", ai_id},
                 {"conversation_id", s.conversation_id},
                 {"patient_id", s.patient_id},
                 {"sender", "ai"},
                 {"text", reply->text},
                 {"state", held ? "held" : "delivered"},
                 {"plan_id", plan.id},
                 {"plan_version", plan.version},
                 {"model", model},
                 {"created_at", utc_now_text()},
                 {"risk", risk_json(risk)}};
    // An unsafe reply and its flag in one commit: the flag cannot be lost between the two.
    std::vector<NewEvent> batch;
    batch.push_back(std::move(e));
    if (unsafe) batch.push_back(flag_event(s, ai_id, risk, options_.moderate_sla_minutes, "flag:" + ai_id));
    auto appended = append_batch(std::move(batch));
    if (!appended) {
        // Not saved, so not shown (no clinician could find it later): the fallback, unsaved
        // too, and reply_id drops any segments already on the page.
        send_to_patient(s.patient_id, fallback_frame(ai_id, 0));
        return;
    }
    const AppendResult* stored = &appended->front();
    if (unsafe && appended->size() > 1 && !(*appended)[1].duplicate)
        metrics_.flags_by_severity[static_cast<std::size_t>(risk.severity)].fetch_add(1);
    if (held) {
        metrics_.ai_messages_held.fetch_add(1);
        send_to_patient(s.patient_id,
                        FrameText{}.text("reply_id", ai_id).text("reply_to", message_id).frame("reviewing"));
        return;
    }
    metrics_.ai_messages_delivered.fetch_add(1);
    send_to_patient(s.patient_id, FrameText{}
                                      .text("id", ai_id)
                                      .boolean("offline", reply->offline)
                                      .text("reply_id", ai_id)
                                      .text("sender", "ai")
                                      .text("state", "delivered")
                                      .text("text", reply->text)
                                      .frame("message", static_cast<std::uint64_t>(stored->event.seq)));
}

}  // namespace tandem::bridge
