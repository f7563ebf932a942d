#include "tandem/bridge/plan_service.h"

#include <algorithm>
#include <chrono>

#include "tandem/bridge/log.h"
#include "tandem/bridge/log_tail.h"
#include "tandem/bridge/patient_service.h"
#include "tandem/bridge/plan_proposal.h"
#include "tandem/bridge/wire.h"
#include "tandem/domain/time.h"

namespace tandem::bridge {
namespace {

using json = nlohmann::json;

std::string text_field(const json& j, const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool blank(const std::string& s) { return s.find_first_not_of(" \t\r\n") == std::string::npos; }

// The messages a proposal may read: what the patient, the AI and clinicians said and the
// patient saw (held drafts and system notices are not the patient's story).
bool conversational(const MessageView& m) {
    return m.state == "delivered" && (m.sender == "patient" || m.sender == "ai" || m.sender == "clinician");
}

}  // namespace

PlanService::PlanService(Store& store, ChatModel& model, PlanServiceOptions options)
    : store_(store),
      model_(model),
      options_(std::move(options)),
      workers_(std::make_unique<SerialWorkers>(options_.worker_threads, "tandem-plan")),
      default_plan_(std::make_shared<const PromptPlan>(default_prompt_plan(
          options_.default_plan_id, options_.default_plan_version, options_.default_homework))) {}

PlanService::~PlanService() { workers_->drain(); }

void PlanService::set_patient_sink(std::function<void(const std::string&, const std::string&)> sink) {
    sink_ = std::move(sink);
}

void PlanService::drain() { workers_->drain(); }

PromptPlan PlanService::active_plan(const std::string& patient_id) { return *active_plan_shared(patient_id); }

std::shared_ptr<const PromptPlan> PlanService::active_plan_shared(const std::string& patient_id) {
    // Reading the plans view every AI turn was a store read (and a parse of every version) per
    // message for something a clinician changes a few times per patient; handing out a copy of
    // the kept plan (its record tree) was 0.3% of the bridge more.
    std::uint64_t generation = 0;
    {
        const std::lock_guard lock(active_mutex_);
        if (const auto it = active_.find(patient_id); it != active_.end()) return it->second;
        generation = generation_;
    }
    auto plans = store_.plans(patient_id);
    const PlanView* best = nullptr;
    if (plans)
        for (const auto& p : *plans)
            if (p.status == "approved" && (best == nullptr || p.version > best->version)) best = &p;
    std::shared_ptr<const PromptPlan> out = default_plan_;
    if (best != nullptr) {
        PromptPlan plan;
        plan.id = best->id;
        plan.version = static_cast<int>(best->version);
        plan.is_default = false;
        plan.record = best->record;
        out = std::make_shared<const PromptPlan>(std::move(plan));
    }
    if (plans) {
        const std::lock_guard lock(active_mutex_);
        if (following_ && generation == generation_) active_.insert_or_assign(patient_id, out);
    }
    return out;
}

void PlanService::follow_log(std::span<const FeedEvent> events) {
    const std::lock_guard lock(active_mutex_);
    // Enabling it with an empty map is safe at any point: what is read from now on is checked
    // against the events that follow it.
    following_ = true;
    for (const auto& fe : events) {
        // Only a decision changes which version is approved. A proposal alone (the AI's, once
        // per patient under load) dropped the kept plan and cost a plans read on the next turn;
        // a clinician's version approved at once comes with its plan_approved.
        const auto t = fe.event.type;
        if (t != EventType::plan_approved && t != EventType::plan_rejected) continue;
        ++generation_;
        if (fe.event.patient_id) active_.erase(*fe.event.patient_id);
        else active_.clear();  // a plan event always names its patient; if not, drop them all
    }
}

void PlanService::forget_active_plan(const std::string& patient_id) {
    const std::lock_guard lock(active_mutex_);
    ++generation_;
    active_.erase(patient_id);
}

PromptContext PlanService::prompt_context(const std::string& patient_id, bool risk_disclosed) {
    return prompt_context(nullptr, patient_id, risk_disclosed);
}

PromptContext PlanService::prompt_context(const PatientView* patient, const std::string& patient_id,
                                          bool risk_disclosed) {
    PromptContext out;
    out.risk_disclosed = risk_disclosed;
    Result<std::optional<PatientView>> read;
    if (patient == nullptr) {
        read = store_.find_patient(patient_id);
        if (read && *read) patient = &**read;
    }
    if (patient != nullptr)
        if (const auto c = patient->record.find("conditions"); c != patient->record.end() && c->is_array())
            for (const auto& v : *c)
                if (v.is_string()) out.conditions.push_back(v.get<std::string>());
    return out;
}

json PlanService::patient_payload(const std::string& patient_id) {
    const PromptPlan plan = active_plan(patient_id);
    const Timestamp now = now_utc();
    Timestamp anchor = now;
    // Week 0 of the assessment schedule is the patient's registration (intake).
    if (auto p = store_.find_patient(patient_id); p && *p)
        if (auto at = parse_timestamp(text_field((*p)->record, "created_at"))) anchor = *at;
    return patient_plan_payload(plan.is_default ? json() : plan.record, anchor, now);
}

void PlanService::push_plan_frame(const std::string& patient_id) {
    if (sink_) sink_(patient_id, make_frame("plan", patient_payload(patient_id)));
}

void PlanService::after_patient_turn(const std::string& patient_id) {
    if (options_.proposal_after_turns <= 0) return;
    {
        // The common case: the count kept here says this turn cannot make a proposal due, so no
        // store read and no task (reading the conversation per turn was 7% of bridge CPU).
        const std::lock_guard lock(queued_mutex_);
        if (auto_queued_.contains(patient_id)) return;
        TurnCount& tc = turn_counts_[patient_id];
        ++tc.calls;
        if (tc.seeded && tc.offset + static_cast<std::int64_t>(tc.calls) < options_.proposal_after_turns) return;
        if (tc.check_queued) return;
        tc.check_queued = true;
    }
    // The exact check reads the store, so it runs on the plan lane: the patient's reply path
    // only pays for a queue push. It runs once to seed the count and again only when the
    // count says the threshold is reached.
    workers_->post("plan:" + patient_id, [this, patient_id] { check_proposal_due(patient_id); });
}

void PlanService::check_proposal_due(const std::string& patient_id) {
    std::uint64_t calls_before = 0;
    {
        const std::lock_guard lock(queued_mutex_);
        if (auto_queued_.contains(patient_id)) return;
        TurnCount& tc = turn_counts_[patient_id];
        tc.check_queued = false;
        calls_before = tc.calls;
    }
    auto plans = store_.plans(patient_id);
    if (!plans) return;     // stays unseeded: the next turn checks again
    if (!plans->empty()) {  // a plan exists (proposed or written): intake proposals are done
        const std::lock_guard lock(queued_mutex_);
        auto_queued_.insert(patient_id);
        turn_counts_.erase(patient_id);
        return;
    }
    auto messages = all_messages(patient_id);
    if (!messages) return;
    const int turns = static_cast<int>(std::count_if(messages->begin(), messages->end(),
                                                     [](const MessageView& m) { return m.sender == "patient"; }));
    {
        const std::lock_guard lock(queued_mutex_);
        if (turns < options_.proposal_after_turns) {
            // Turns are stored before they are counted here, so a turn stored while the store
            // was read may be counted twice (an early exact check), never missed (a late proposal).
            TurnCount& tc = turn_counts_[patient_id];
            tc.offset = static_cast<std::int64_t>(turns) - static_cast<std::int64_t>(calls_before);
            tc.seeded = true;
            return;
        }
        auto_queued_.insert(patient_id);
        turn_counts_.erase(patient_id);
    }
    log_event(LogLevel::info, "plan_proposal_due", {{"patient", patient_id}, {"turns", turns}});
    // The proposal reads the same messages: they were just read (the second read of every
    // conversation was most of the due check's cost).
    (void)propose_with(patient_id, &*messages);
}

Result<std::vector<MessageView>> PlanService::all_messages(const std::string& patient_id) {
    auto convs = store_.conversations(patient_id);
    if (!convs) return std::unexpected(convs.error());
    std::vector<MessageView> out;
    for (const auto& cv : *convs)
        if (auto msgs = store_.messages(cv.id))  // one unreadable conversation leaves out its part, as before
            out.insert(out.end(), std::make_move_iterator(msgs->begin()), std::make_move_iterator(msgs->end()));
    return out;
}

void PlanService::request_proposal(const std::string& patient_id) {
    {
        const std::lock_guard lock(queued_mutex_);
        auto_queued_.insert(patient_id);  // a clinician asked: no automatic one on top
        turn_counts_.erase(patient_id);
    }
    workers_->post("plan:" + patient_id, [this, patient_id] { (void)propose(patient_id); });
}

void PlanService::report_failure(const std::string& patient_id, const Error& error, int attempts) {
    NewEvent e;
    e.type = EventType::llm_failed;
    e.patient_id = patient_id;
    e.actor = Actor{ActorKind::system, std::nullopt};
    e.payload = {{"patient_id", patient_id}, {"purpose", "plan_proposal"},     {"reason", error.message},
                 {"code", to_string(error.code)}, {"attempts", attempts}, {"model", model_.model_name()},
                 {"at", utc_now_text()}};
    if (!error.field.empty()) e.payload["field"] = error.field;
    if (auto r = store_.append(std::move(e)); !r)
        log_event(LogLevel::error, "store_append_failed", {{"error", r.error().describe()}});
    log_event(LogLevel::warn, "plan_proposal_failed",
              {{"patient", patient_id}, {"code", to_string(error.code)}, {"attempts", attempts}});
}

Result<std::string> PlanService::propose(const std::string& patient_id) { return propose_with(patient_id, nullptr); }

Result<std::string> PlanService::propose_with(const std::string& patient_id, const std::vector<MessageView>* messages) {
    auto patient = store_.find_patient(patient_id);
    if (!patient) return std::unexpected(patient.error());
    if (!*patient) return fail(ErrorCode::not_found, "no such patient", "patient_id");
    ProposalInput in;
    if (const auto c = (*patient)->record.find("conditions"); c != (*patient)->record.end() && c->is_array())
        for (const auto& s : *c)
            if (s.is_string()) in.conditions.push_back(s.get<std::string>());
    in.today = Date(std::chrono::floor<std::chrono::days>(now_utc()));
    in.crisis_resources = options_.crisis_resources;
    Result<std::vector<MessageView>> read_now;
    if (messages == nullptr) {
        read_now = all_messages(patient_id);
        if (read_now) messages = &*read_now;
    }
    if (messages != nullptr)
        for (const auto& m : *messages)
            if (conversational(m)) in.conversation.push_back({m.sender, text_field(m.record, "text")});
    if (in.conversation.size() > options_.conversation_window)
        in.conversation.erase(in.conversation.begin(),
                              in.conversation.end() - static_cast<std::ptrdiff_t>(options_.conversation_window));

    json content;
    int attempts = 0;
    std::size_t repairs = 0;
    if (model_.offline()) {
        content = offline_plan_content(in);
        attempts = 1;
    } else {
        // Bounded: each retry tells the model what was wrong with its last reply. Rejected:
        // storing the best-effort plan with the bad fields blanked (a clinician could approve a
        // plan nobody wrote), and retrying without feedback (models repeat their mistakes).
        ChatRequest request = plan_proposal_request(in, options_.proposal_max_tokens);
        Error last{ErrorCode::parse, "no attempt made", {}};
        bool ok = false;
        for (int attempt = 1; attempt <= std::max(1, options_.proposal_attempts); ++attempt) {
            attempts = attempt;
            auto reply = model_.complete(request, DeltaSink{});
            if (!reply) {  // the client already retried transport failures
                last = reply.error();
                break;
            }
            std::string problem;
            auto parsed = parse_plan_reply(reply->text, in);
            if (!parsed) {
                last = parsed.error();
                problem = parsed.error().code == ErrorCode::unavailable
                              ? "you declined, but this is a draft for a licensed therapist to review, not advice to the "
                                "patient"
                              : parsed.error().message;
            } else {
                const json trial = make_plan_record(
                    parsed->content, PlanMeta{"pending", patient_id, 1, std::nullopt, std::nullopt, utc_now_text()});
                auto valid = validate_plan_record(trial, instruments());
                if (valid) {
                    content = std::move(parsed->content);
                    repairs = parsed->repairs.size();
                    ok = true;
                    break;
                }
                last = valid.error();
                problem = "the field " + (valid.error().field.empty() ? std::string("(root)") : valid.error().field) +
                          " is wrong: " + valid.error().message;
            }
            request.messages.push_back({"assistant", reply->text});
            request.messages.push_back(
                {"user", "That reply cannot be used: " + problem + ". Reply again with the whole corrected JSON object only."});
        }
        if (!ok) {
            report_failure(patient_id, last, attempts);
            return std::unexpected(last);
        }
    }

    const std::lock_guard lock(mutex_);
    auto version = next_version(patient_id);
    if (!version) return std::unexpected(version.error());
    const json record =
        make_plan_record(content, PlanMeta{new_id(), patient_id, *version, std::nullopt, std::nullopt, utc_now_text()});
    if (auto valid = validate_plan_record(record, instruments()); !valid) {  // templates are ours: a defect, still never stored
        report_failure(patient_id, valid.error(), attempts);
        return std::unexpected(valid.error());
    }
    NewEvent e;
    e.type = EventType::plan_proposed;
    e.patient_id = patient_id;
    e.actor = Actor{ActorKind::ai, std::nullopt};
    e.payload = record;
    e.dedupe_key = "plan:" + patient_id + ":v" + std::to_string(*version);
    auto r = store_.append(std::move(e));
    if (!r) return std::unexpected(r.error());
    const std::string id = record["id"];
    remember(id, patient_id);
    log_event(LogLevel::info, "plan_proposed",
              {{"patient", patient_id}, {"version", *version}, {"attempts", attempts}, {"repairs", repairs},
               {"offline", model_.offline()}});
    return id;
}

Result<int> PlanService::next_version(const std::string& patient_id) {
    auto plans = store_.plans(patient_id);
    if (!plans) return std::unexpected(plans.error());
    std::int64_t top = 0;
    for (const auto& p : *plans) top = std::max(top, p.version);
    return static_cast<int>(top + 1);
}

void PlanService::remember(const std::string& plan_id, const std::string& patient_id) {
    const std::lock_guard lock(index_mutex_);
    plan_patient_[plan_id] = patient_id;
}

Result<void> PlanService::refresh_index() {
    return read_log_after(store_, index_cursor_, [this](const StoredEvent& e) {
        if (e.type == EventType::plan_proposed && e.patient_id) plan_patient_[text_field(e.payload, "id")] = *e.patient_id;
    });
}

Result<std::string> PlanService::patient_of_plan(const std::string& plan_id) {
    const std::lock_guard lock(index_mutex_);
    if (const auto it = plan_patient_.find(plan_id); it != plan_patient_.end()) return it->second;
    if (auto r = refresh_index(); !r) return std::unexpected(r.error());
    if (const auto it = plan_patient_.find(plan_id); it != plan_patient_.end()) return it->second;
    return fail(ErrorCode::not_found, "no such plan", "plan_id");
}

Result<json> PlanService::versions(const std::string& patient_id) {
    auto plans = store_.plans(patient_id);
    if (!plans) return std::unexpected(plans.error());
    json out = json::array();
    for (const auto& p : *plans) {
        json r = p.record;
        r["status"] = p.status;
        out.push_back(std::move(r));
    }
    return out;
}

Result<PlanActionOutcome> PlanService::apply(const json& action, const std::string& patient_id,
                                             const std::string& clinician_id, const std::string& action_key,
                                             NewEvent audit) {
    const std::string kind = text_field(action, "kind");
    const std::string action_id = text_field(action, "action_id");
    const std::string now = utc_now_text();
    const std::string reason = text_field(action, "reason");
    auto event = [&](EventType type, json payload) {
        NewEvent e;
        e.type = type;
        e.patient_id = patient_id;
        e.actor = Actor{ActorKind::clinician, clinician_id};
        e.payload = std::move(payload);
        return e;
    };
    auto decision = [&](EventType type, const std::string& plan_id, const std::string& why) {
        json p = {{"plan_id", plan_id},      {"patient_id", patient_id}, {"approver_id", clinician_id},
                  {"decided_at", now},        {"action_id", action_id}};
        if (!why.empty()) p["reason"] = why;
        return event(type, std::move(p));
    };
    // A clinician's version: validated as a whole record before anything is stored, so an
    // invalid edit is refused with the pointer into `plan`.
    auto new_version = [&](const json& content, std::optional<int> based_on, int version) -> Result<json> {
        json record = make_plan_record(content, PlanMeta{new_id(), patient_id, version, based_on, clinician_id, now});
        if (auto valid = validate_plan_record(record, instruments()); !valid) {
            const std::string& f = valid.error().field;
            return fail(ErrorCode::schema, valid.error().message, "plan" + f);
        }
        return record;
    };

    const std::lock_guard lock(mutex_);  // versions are numbered and decided one action at a time
    std::vector<NewEvent> batch;
    bool approves = false;
    if (kind == "plan_decide" || kind == "plan_restore") {
        const std::string plan_id = text_field(action, "plan_id");
        auto all = versions(patient_id);
        if (!all) return std::unexpected(all.error());
        const auto it = std::find_if(all->begin(), all->end(), [&](const json& r) { return r.value("id", "") == plan_id; });
        if (it == all->end()) return fail(ErrorCode::not_found, "no such plan", "plan_id");
        const json source = *it;
        const int source_version = source.value("version", 1);
        if (kind == "plan_restore") {
            if (blank(reason)) return fail(ErrorCode::schema, "a reason is required", "reason");
            auto version = next_version(patient_id);
            if (!version) return std::unexpected(version.error());
            auto record = new_version(plan_content(source), source_version, *version);
            if (!record) return std::unexpected(record.error());
            const std::string id = (*record)["id"];
            batch.push_back(event(EventType::plan_proposed, *record));
            batch.push_back(decision(EventType::plan_approved, id, reason));
            approves = true;
        } else {
            if (source.value("status", "") != "proposed")
                return fail(ErrorCode::conflict, "only a proposed version can be decided; this one is " +
                                                     source.value("status", std::string("unknown")));
            const std::string choice = text_field(action, "decision");
            if (choice == "approve") {
                batch.push_back(decision(EventType::plan_approved, plan_id, reason));
                approves = true;
            } else if (choice == "reject") {
                if (blank(reason)) return fail(ErrorCode::schema, "a reason is required to reject", "reason");
                batch.push_back(decision(EventType::plan_rejected, plan_id, reason));
            } else if (choice == "approve_with_changes") {
                const auto edited = action.find("plan");
                if (edited == action.end() || !edited->is_object())
                    return fail(ErrorCode::schema, "the edited plan is required", "plan");
                auto version = next_version(patient_id);
                if (!version) return std::unexpected(version.error());
                auto record = new_version(*edited, source_version, *version);
                if (!record) return std::unexpected(record.error());
                const std::string id = (*record)["id"];
                batch.push_back(event(EventType::plan_proposed, *record));
                // The proposal stays in the history, rejected in favour of the edited version;
                // the approval comes last, so its seq is the action's result (also after a restart).
                batch.push_back(decision(EventType::plan_rejected, plan_id,
                                         "superseded by version " + std::to_string(*version) + " with changes"));
                batch.push_back(decision(EventType::plan_approved, id, reason));
                approves = true;
            } else {
                return fail(ErrorCode::schema, "decision must be approve, approve_with_changes or reject", "decision");
            }
        }
    } else if (kind == "plan_write") {
        const auto written = action.find("plan");
        if (written == action.end() || !written->is_object()) return fail(ErrorCode::schema, "plan is required", "plan");
        auto version = next_version(patient_id);
        if (!version) return std::unexpected(version.error());
        auto record = new_version(*written, std::nullopt, *version);
        if (!record) return std::unexpected(record.error());
        const std::string id = (*record)["id"];
        batch.push_back(event(EventType::plan_proposed, *record));
        if (action.value("approve", false)) {
            batch.push_back(decision(EventType::plan_approved, id, reason));
            approves = true;
        }
    } else if (kind != "plan_request") {
        return fail(ErrorCode::schema, "unknown plan action", "kind");
    }

    // The result's seq: the last decision event (they carry action_id, which is what a restart
    // rebuilds results from), else the first event.
    std::size_t result_index = 0;
    for (std::size_t i = 0; i < batch.size(); ++i)
        if (batch[i].payload.contains("action_id")) result_index = i;
    std::vector<std::pair<std::string, std::string>> new_plans;
    for (const auto& e : batch)
        if (e.type == EventType::plan_proposed) new_plans.emplace_back(text_field(e.payload, "id"), patient_id);
    // Every event of the batch is keyed, so a resent action appends none of them.
    for (std::size_t i = 0; i < batch.size(); ++i)
        batch[i].dedupe_key = i == 0 ? action_key : action_key + "#" + std::to_string(i);
    batch.push_back(std::move(audit));
    auto r = store_.append_batch(std::move(batch));
    if (!r) return std::unexpected(r.error());
    PlanActionOutcome out;
    out.duplicate = r->front().duplicate;
    out.seq = (*r)[result_index].event.seq;
    if (out.duplicate) return out;
    forget_active_plan(patient_id);  // before the plan frame below and the patient's next turn
    for (const auto& [id, patient] : new_plans) remember(id, patient);
    if (approves) push_plan_frame(patient_id);
    if (kind == "plan_request") request_proposal(patient_id);
    return out;
}

}  // namespace tandem::bridge
