#include "tandem/bridge/assessment_flow.h"

#include <algorithm>

#include "tandem/bridge/log.h"
#include "tandem/measures/measures.h"
#include "tandem/bridge/wire.h"
#include "tandem/schema/schema_registry.h"

namespace tandem::bridge {
namespace {

using json = nlohmann::json;

constexpr auto kWeek = std::chrono::weeks(1);

bool is_open(const AssessmentView& v) { return v.status == "offered" || v.status == "in_progress"; }

std::optional<Timestamp> timestamp_of(const json& record, const char* key) {
    const auto it = record.find(key);
    if (it == record.end() || !it->is_string()) return std::nullopt;
    auto t = parse_timestamp(it->get<std::string>());
    if (!t) return std::nullopt;
    return *t;
}

json answers_json(const json& items) {
    json out = json::array();
    if (items.is_array())
        for (const auto& v : items) out.push_back(v.is_number_integer() ? v : json(nullptr));
    return out;
}

Answers answers_of(const json& items) {
    Answers out;
    for (const auto& v : items) {
        if (v.is_number_integer()) out.emplace_back(v.get<int>());
        else out.emplace_back(std::nullopt);
    }
    return out;
}

// check_answers names an item "items[3]"; the wire names fields by JSON pointer.
std::string wire_field(const std::string& field) {
    if (field.starts_with("items[") && field.ends_with("]"))
        return "/payload/items/" + field.substr(6, field.size() - 7);
    if (field.empty() || field == "items") return "/payload/items";
    return "/payload/" + field;
}

std::string error_with_field(std::string_view code, std::string_view message, std::string_view ref,
                             const std::string& field) {
    json p = {{"code", code}, {"message", message}};
    if (!ref.empty()) p["ref"] = ref;
    if (!field.empty()) p["field"] = field;
    return make_frame("error", std::move(p));
}

std::string display_name(const InstrumentDefinition& d) { return d.short_title.empty() ? d.title : d.short_title; }

}  // namespace

std::vector<ScheduledInstrument> default_assessment_schedule() {
    std::vector<ScheduledInstrument> out;
    for (const int week : {0, 4, 8})
        for (const char* instrument : {"phq9", "gad7"}) out.push_back({instrument, week});
    return out;
}

std::vector<DueAssessment> due_assessments(const std::vector<ScheduledInstrument>& schedule, Timestamp start,
                                           const std::string& basis, Timestamp now,
                                           const std::vector<AssessmentView>& existing) {
    // Only the newest passed point per instrument: a patient back after eight weeks away gets
    // one PHQ-9, not three. A point counts as met by any offer of the instrument made at or
    // after it (a clinician's request in week 4 stands for week 4's point), so nothing is asked
    // twice; one still open blocks new offers of its instrument (it is re-sent instead).
    std::vector<DueAssessment> out;
    for (const auto& s : schedule) {
        const Timestamp due_at = start + s.week * kWeek;
        if (due_at > now) continue;
        auto same = std::find_if(out.begin(), out.end(), [&](const DueAssessment& d) { return d.instrument == s.instrument; });
        if (same != out.end() && same->due_at >= due_at) continue;
        DueAssessment d{s.instrument, basis + ":" + s.instrument + ":w" + std::to_string(s.week), due_at};
        if (same != out.end()) *same = std::move(d);
        else out.push_back(std::move(d));
    }
    std::erase_if(out, [&](const DueAssessment& d) {
        return std::any_of(existing.begin(), existing.end(), [&](const AssessmentView& v) {
            if (v.instrument != d.instrument) return false;
            if (is_open(v)) return true;
            const auto at = timestamp_of(v.record, "administered_at");
            return at && *at >= d.due_at;
        });
    });
    return out;
}

Result<std::shared_ptr<const InstrumentRegistry>> load_instruments(const std::filesystem::path& dir) {
    auto r = InstrumentRegistry::with_directory(dir);
    if (!r) return std::unexpected(r.error());
    return std::make_shared<const InstrumentRegistry>(std::move(*r));
}

Result<json> assessments_payload(Store& store, const std::string& patient_id) {
    auto rows = store.assessments(patient_id);
    if (!rows) return std::unexpected(rows.error());
    json out = json::array();
    for (const auto& v : *rows) {
        json r = v.record.is_object() ? v.record : json::object();
        r["id"] = v.id;
        r["patient_id"] = v.patient_id;
        r["instrument"] = v.instrument;
        if (!r.contains("items")) r["items"] = json::array();
        r["status"] = v.status;
        out.push_back(std::move(r));
    }
    return out;
}

RiskAssessment risk_from_answer_risk(const AnswerRisk& risk, const InstrumentDefinition& definition) {
    RiskAssessment r;
    r.severity = risk.severity;
    r.categories = risk.categories;
    std::sort(r.categories.begin(), r.categories.end());
    r.categories.erase(std::unique(r.categories.begin(), r.categories.end()), r.categories.end());
    r.rationale = risk.reason;
    r.engine_version = "tandem-measures";
    r.ruleset_version = definition.id + "@" + std::to_string(definition.version) + ":" + risk.rule_id;
    return r;
}

AssessmentFlow::AssessmentFlow(Store& store, const InstrumentRegistry& registry, AssessmentHooks hooks,
                               ClinicSettings defaults)
    : store_(store), registry_(registry), hooks_(std::move(hooks)), policy_(store, std::move(defaults)) {}

bool AssessmentFlow::share_trends() {
    // Read at each result, so `policy set --share-trends` applies without a restart; a failed
    // read keeps the last policy (off until one was read).
    if (auto r = policy_.refresh(); !r)
        log_event(LogLevel::error, "policy_read_failed", {{"error", r.error().describe()}});
    return policy_.current().share_trends_with_patients;
}

Result<std::vector<ScheduledInstrument>> AssessmentFlow::schedule_for(const std::string& patient_id, Timestamp& start,
                                                                     std::string& basis) {
    auto plans = store_.plans(patient_id);
    if (!plans) return std::unexpected(plans.error());
    const PlanView* best = nullptr;
    for (const auto& p : *plans)
        if (p.status == "approved" && (best == nullptr || p.version > best->version)) best = &p;
    if (best != nullptr) {
        // Weeks count from the approval; a plan without decided_at (older logs) from its creation.
        auto at = timestamp_of(best->record, "decided_at");
        if (!at) at = timestamp_of(best->record, "created_at");
        if (at) {
            std::vector<ScheduledInstrument> out;
            if (const auto s = best->record.find("assessment_schedule"); s != best->record.end() && s->is_array())
                for (const auto& item : *s)
                    if (item.is_object() && item.contains("instrument") && item["instrument"].is_string())
                        out.push_back({item["instrument"].get<std::string>(), item.value("week", 0)});
            start = *at;
            basis = best->id;
            return out;
        }
    }
    auto patient = store_.find_patient(patient_id);
    if (!patient) return std::unexpected(patient.error());
    if (!*patient) return std::vector<ScheduledInstrument>{};
    const auto registered = timestamp_of((*patient)->record, "created_at");
    if (!registered) return std::vector<ScheduledInstrument>{};
    start = *registered;
    basis = "default";
    return default_assessment_schedule();
}

Result<int> AssessmentFlow::offer_due(const AssessmentPatient& patient) {
    Timestamp start{};
    std::string basis;
    auto schedule = schedule_for(patient.patient_id, start, basis);
    if (!schedule) return std::unexpected(schedule.error());
    if (schedule->empty()) return 0;
    auto existing = store_.assessments(patient.patient_id);
    if (!existing) return std::unexpected(existing.error());
    int offered_now = 0;
    for (const auto& due : due_assessments(*schedule, start, basis, now_utc(), *existing)) {
        if (registry_.find(due.instrument) == nullptr) {
            // A plan may name an instrument this clinic has not installed: say so, offer the rest.
            log_event(LogLevel::warn, "assessment_unknown_instrument",
                      {{"patient", patient.patient_id}, {"instrument", due.instrument}});
            continue;
        }
        NewEvent e;
        e.type = EventType::assessment_offered;
        e.patient_id = patient.patient_id;
        e.actor = Actor{ActorKind::system, std::nullopt};
        e.payload = {{"assessment_id", new_id()},        {"patient_id", patient.patient_id},
                     {"instrument", due.instrument},    {"requested_by", "schedule"},
                     {"offered_at", utc_now_text()},    {"due", due.due_key}};
        if (!patient.conversation_id.empty()) e.payload["conversation_id"] = patient.conversation_id;
        // Two devices connecting at once must not offer one due point twice.
        e.dedupe_key = "assessment_due:" + patient.patient_id + ":" + due.due_key;
        auto r = hooks_.append(std::move(e));
        if (!r) return std::unexpected(r.error());
        if (r->duplicate) continue;
        ++offered_now;
        offered(r->event);
    }
    return offered_now;
}

std::optional<std::string> AssessmentFlow::questionnaire_frame(const AssessmentView& view) {
    const auto* def = registry_.find(view.instrument);
    if (def == nullptr) return std::nullopt;
    json payload = {{"assessment_id", view.id},
                    {"instrument", patient_view(*def)},
                    {"answers", answers_json(view.record.value("items", json::array()))}};
    if (const auto by = view.record.find("requested_by"); by != view.record.end() && by->is_string())
        payload["requested_by"] = *by == "schedule" ? "schedule" : "care_team";  // no clinician ids to patients
    return make_frame("questionnaire", std::move(payload));
}

void AssessmentFlow::offered(const StoredEvent& event) {
    const std::string patient_id = event.payload.value("patient_id", event.patient_id.value_or(""));
    const std::string id = event.payload.value("assessment_id", "");
    const std::string instrument = event.payload.value("instrument", "");
    const auto* def = registry_.find(instrument);
    if (def == nullptr || patient_id.empty()) return;
    {
        const std::lock_guard lock(mutex_);
        mention_.insert({patient_id, display_name(*def)});
    }
    AssessmentView view{id, patient_id, instrument, "offered", event.seq, event.seq,
                        {{"id", id}, {"items", json::array()}, {"requested_by", event.payload.value("requested_by", "")}}};
    if (auto frame = questionnaire_frame(view)) hooks_.send_to_patient(patient_id, *frame);
    log_event(LogLevel::info, "assessment_offered", {{"patient", patient_id}, {"instrument", instrument}});
}

Result<void> AssessmentFlow::resend_open(const std::string& patient_id,
                                         const std::function<void(const std::string&)>& send) {
    auto rows = store_.assessments(patient_id);
    if (!rows) return std::unexpected(rows.error());
    for (const auto& v : *rows)
        if (is_open(v))
            if (auto frame = questionnaire_frame(v)) send(*frame);
    return {};
}

Result<NewEvent> AssessmentFlow::request_event(const std::string& patient_id, const std::string& instrument,
                                               const std::string& clinician_id) {
    if (registry_.find(instrument) == nullptr)
        return fail(ErrorCode::invalid_argument, "not an instrument this clinic has", "instrument");
    auto rows = store_.assessments(patient_id);
    if (!rows) return std::unexpected(rows.error());
    for (const auto& v : *rows)
        if (v.instrument == instrument && is_open(v))
            return fail(ErrorCode::conflict, "one of this questionnaire is still waiting for the patient", "instrument");
    NewEvent e;
    e.type = EventType::assessment_offered;
    e.patient_id = patient_id;
    e.actor = Actor{ActorKind::clinician, clinician_id};
    e.payload = {{"assessment_id", new_id()}, {"patient_id", patient_id},     {"instrument", instrument},
                 {"requested_by", clinician_id}, {"offered_at", utc_now_text()}};
    return e;
}

std::vector<std::string> AssessmentFlow::take_offered(const std::string& patient_id) {
    std::vector<std::string> names;
    const std::lock_guard lock(mutex_);
    for (auto it = mention_.lower_bound({patient_id, ""}); it != mention_.end() && it->first == patient_id;) {
        names.push_back(it->second);
        it = mention_.erase(it);
    }
    return names;
}

std::string questionnaire_prompt_note(const std::vector<std::string>& titles) {
    if (titles.empty()) return {};
    std::string list;
    for (const auto& n : titles) list += (list.empty() ? "" : ", ") + n;
    return "The care team has asked the person to fill in a short questionnaire (" + list +
           "), shown as a form below the chat. Mention it in one short, friendly sentence at the end of your reply; "
           "do not ask the questions yourself.";
}

void AssessmentFlow::handle_answers(const AssessmentPatient& patient, const json& payload, const std::string& ref,
                                    const std::function<void(const std::string&)>& send) {
    if (auto ok = SchemaRegistry::builtin().validate("wire/questionnaire_answers", payload); !ok)
        return send(error_with_field("schema", ok.error().message, ref, "/payload" + ok.error().field));
    const std::string id = payload["assessment_id"];
    const bool final = payload["final"];
    auto rows = store_.assessments(patient.patient_id);
    if (!rows) return send(make_error_frame("unavailable", "could not read; please try again", ref));
    // Only the patient's own: another patient's id is "not found", never "not yours".
    const auto row = std::find_if(rows->begin(), rows->end(), [&](const AssessmentView& v) { return v.id == id; });
    if (row == rows->end())
        return send(error_with_field("not_found", "no such questionnaire", ref, "/payload/assessment_id"));
    if (row->status == "completed")
        return send(error_with_field("conflict", "this questionnaire was already submitted", ref,
                                     "/payload/assessment_id"));
    const auto* def = registry_.find(row->instrument);
    if (def == nullptr) return send(make_error_frame("unavailable", "this questionnaire is not available", ref));
    const Answers answers = answers_of(payload["items"]);
    // Refused answers change nothing: the answers saved before stay as they were.
    if (auto ok = check_answers(*def, answers, final); !ok)
        return send(error_with_field("invalid_answers", ok.error().message, ref, wire_field(ok.error().field)));
    std::optional<Score> scored;
    if (final) {
        auto s = score(*def, answers);
        if (!s) return send(error_with_field("invalid_answers", s.error().message, ref, wire_field(s.error().field)));
        scored = std::move(*s);
    }

    NewEvent e;
    e.patient_id = patient.patient_id;
    e.actor = Actor{ActorKind::patient, patient.patient_id};
    const std::string now = utc_now_text();
    if (!final) {
        e.type = EventType::assessment_progress;
        e.payload = {{"assessment_id", id},
                     {"patient_id", patient.patient_id},
                     {"instrument", row->instrument},
                     {"items", answers_json(payload["items"])},
                     {"at", now}};
    } else {
        e.type = EventType::assessment_scored;
        e.payload = {{"id", id},
                     {"patient_id", patient.patient_id},
                     {"instrument", row->instrument},
                     {"items", answers_json(payload["items"])},
                     {"score", scored->total},
                     {"administered_at", row->record.value("administered_at", now)},
                     {"completed_at", now}};
        if (scored->band) e.payload["band"] = *scored->band;
        for (const char* key : {"requested_by", "conversation_id"})
            if (const auto it = row->record.find(key); it != row->record.end() && it->is_string()) e.payload[key] = *it;
        e.dedupe_key = "assessment_scored:" + id;
    }
    auto stored = hooks_.append(std::move(e));
    if (!stored) {
        // The store refuses a second score of one questionnaire (two devices racing): say so.
        const bool raced = stored.error().code == ErrorCode::invalid_argument;
        return send(raced ? error_with_field("conflict", "this questionnaire was already submitted", ref,
                                             "/payload/assessment_id")
                          : make_error_frame("unavailable", "could not save; please try again", ref));
    }

    // Risk from the answers, partial ones too: a paused form that already says yes to PHQ-9
    // item 9 must not wait for the submit. Same path as a risky message; the flag's dedupe key
    // (the assessment id) opens it once however often the form is saved.
    if (const auto risk = risk_from_answers(*def, answers); risk && risk->severity >= Severity::moderate) {
        const auto r = risk_from_answer_risk(*risk, *def);
        if (auto raised = hooks_.raise_risk(patient.patient_id, patient.conversation_id, id, r, risk->urgent); !raised)
            log_event(LogLevel::error, "assessment_risk_not_saved", {{"patient", patient.patient_id}});
        log_event(LogLevel::warn, "assessment_risk",
                  {{"patient", patient.patient_id}, {"rule", risk->rule_id}, {"severity", to_string(risk->severity)}});
    }

    if (!final) {
        const auto answered = std::count_if(answers.begin(), answers.end(), [](const auto& a) { return a.has_value(); });
        return send(make_frame("questionnaire_saved", {{"assessment_id", id}, {"answered", answered}},
                               static_cast<std::uint64_t>(stored->event.seq)));
    }
    json result = {{"assessment_id", id},
                   {"instrument", row->instrument},
                   {"title", display_name(*def)},
                   {"score", scored->total}};
    if (scored->band) {
        result["band"] = *scored->band;
        for (const auto& b : def->scoring.bands)
            if (b.label == *scored->band) result["band_title"] = b.title;
    }
    if (share_trends()) {
        json trend = json::array();
        if (auto all = store_.assessments(patient.patient_id))
            for (const auto& v : *all)
                if (v.instrument == row->instrument && v.status == "completed" && v.record.contains("score") &&
                    v.record.contains("completed_at"))
                    trend.push_back({{"completed_at", v.record["completed_at"]}, {"score", v.record["score"]}});
        result["trend"] = std::move(trend);
        // What the page needs to draw the trend as a chart: the possible range and the bands,
        // from the definition (so a clinic's own instrument is drawn like a built-in), and
        // which way is better, so the page never hard-codes an instrument.
        json bands = json::array();
        for (const auto& b : def->scoring.bands)
            bands.push_back({{"min", b.min}, {"max", b.max}, {"label", b.label}, {"title", b.title}});
        result["scale"] = {{"min", def->scoring.total_min},
                           {"max", def->scoring.total_max},
                           {"lower_is_better", def->outcomes.lower_is_better},
                           {"bands", std::move(bands)}};
    }
    log_event(LogLevel::info, "assessment_scored", {{"patient", patient.patient_id}, {"instrument", row->instrument}});
    send(make_frame("questionnaire_result", std::move(result), static_cast<std::uint64_t>(stored->event.seq)));
}

}  // namespace tandem::bridge
