// The clinician side of treatment plans: fetch_plans and the plan_* actions. Members of
// ClinicianService kept in their own file; the plan logic itself is PlanService's.

#include "tandem/bridge/clinician_service.h"

#include "tandem/bridge/log.h"
#include "tandem/bridge/wire.h"
#include "tandem/domain/id.h"

namespace tandem::bridge {
namespace {

using json = nlohmann::json;

std::string text_field(const json& j, const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string error_frame(std::string_view code, std::string_view message, const std::string& ref) {
    return make_frame("error", {{"code", code}, {"message", message}, {"ref", ref}, {"request_id", ref}});
}

}  // namespace

void ClinicianService::handle_fetch_plans(const std::shared_ptr<Connection>& c, const PatientFrame& f) {
    const auto read = patient_read(c, f);
    if (!read) return;
    const auto& [account, patient_id] = *read;
    auto plans = patients_.plans().versions(patient_id);
    if (!plans) return (void)c->send(error_frame("unavailable", "could not read; try again", f.id));
    // Audited like a transcript read, and before the plans leave the bridge: no audit, no plans.
    if (!audit_read(c, f, *read, EventType::transcript_viewed, {{"what", "plans"}, {"count", plans->size()}})) return;
    c->send(make_frame("plans", {{"request_id", f.id}, {"patient_id", patient_id}, {"plans", std::move(*plans)}}));
}

void ClinicianService::handle_plan_action(const std::shared_ptr<Connection>& c, const PatientFrame& f,
                                          const ClinicianAccount& account, const std::string& action_id) {
    const auto& p = f.payload;
    const std::string kind = text_field(p, "kind");
    auto refuse = [&](std::string_view code, std::string_view message, std::string_view field = {}) {
        json err = {{"code", code}, {"message", message}};
        if (!field.empty()) err["field"] = "/payload/" + std::string(field);
        c->send(make_frame("action_result",
                           {{"request_id", f.id}, {"action_id", action_id}, {"ok", false}, {"error", std::move(err)}}));
    };
    PlanService& plans = patients_.plans();
    // Whose plan: named directly (request, write) or through the version acted on (decide, restore).
    std::string patient_id, target_id;
    if (kind == "plan_request" || kind == "plan_write") {
        patient_id = text_field(p, "patient_id");
        target_id = patient_id;
        auto found = store_.find_patient(patient_id);
        if (!found) return refuse("unavailable", "could not read; try again");
        if (!*found) return refuse("not_found", "no such patient", "patient_id");
    } else {
        target_id = text_field(p, "plan_id");
        auto owner = plans.patient_of_plan(target_id);
        if (!owner)
            return owner.error().code == ErrorCode::not_found ? refuse("not_found", "no such plan", "plan_id")
                                                              : refuse("unavailable", "could not read; try again");
        patient_id = *owner;
    }
    // The patient's therapist or a supervisor; an admin without the supervisor role acts on no patient.
    if (!may_see_patient(account, patient_id)) return refuse("permission_denied", "not your patient");

    const std::string key = account.id + ":" + action_id;
    NewEvent audit;
    audit.type = EventType::clinician_action;
    audit.patient_id = patient_id;
    audit.actor = Actor{ActorKind::clinician, account.id};
    audit.payload = {{"action", kind},           {"action_id", action_id}, {"clinician_id", account.id},
                     {"patient_id", patient_id}, {"target_id", target_id}, {"at", utc_now_text()}};
    if (const auto d = p.find("decision"); d != p.end() && d->is_string()) audit.payload["decision"] = *d;
    audit.dedupe_key = "audit:" + key;
    auto outcome = plans.apply(p, patient_id, account.id, "action:" + key, std::move(audit));
    if (!outcome) {
        const Error& e = outcome.error();
        const std::string code(to_string(e.code));
        if (e.code == ErrorCode::storage || e.code == ErrorCode::io)
            return refuse("unavailable", "could not save; retry with the same action_id");
        return refuse(code, e.message, e.field);
    }
    json result = {{"action_id", action_id}, {"ok", true}, {"seq", outcome->seq}};
    {
        const std::lock_guard lock(mutex_);
        action_results_[key] = result.dump();
    }
    log_event(LogLevel::info, "clinician_action", {{"clinician", account.id}, {"kind", kind}, {"seq", outcome->seq}});
    result["request_id"] = f.id;
    c->send(make_frame("action_result", std::move(result)));
}

}  // namespace tandem::bridge
