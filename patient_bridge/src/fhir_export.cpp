// FHIR export: folds one patient's events into records and maps them (fhir_resources.cpp) into a
// Bundle. Reading the log rather than the store's views keeps the export complete: the views keep
// only open flags and current states, the log keeps everything. Files: fhir_export_command.cpp.

#include "tandem/bridge/fhir_export.h"
#include "tandem/bridge/fhir_support.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

namespace tandem::bridge {
namespace fhir {
namespace {

using nlohmann::json;

using support::str;

// A record kept in first-seen order, so the bundle lists resources as they happened.
template <typename T>
struct Ordered {
    std::vector<std::string> order;
    std::map<std::string, T> by_id;
    T& at(const std::string& id) {
        if (!by_id.contains(id)) order.push_back(id);
        return by_id[id];
    }
    T* find(const std::string& id) {
        const auto it = by_id.find(id);
        return it == by_id.end() ? nullptr : &it->second;
    }
};

struct RiskEvent {
    json payload;
    std::string time;
    std::string key;  // the screened message's id, else the assessment's, else the event's
};

// Everything of one patient's log that the bundle shows, folded event by event like the store's
// projections (common/store/src/projections.cpp), but keeping resolved flags and old plans.
struct PatientFold {
    json patient;
    Ordered<json> messages, flags, plans, assessments;
    std::vector<std::string> approved_order;   // plan ids in order of approval
    std::map<std::string, std::string> replaced;  // plan id -> the approved plan it replaced
    Ordered<RiskEvent> risks;  // by screened message or assessment: a re-screen replaces the verdict
    std::vector<const StoredEvent*> audits;

    void add(const StoredEvent& e) {
        const auto& p = e.payload;
        switch (e.type) {
            case EventType::patient_registered: patient = p; break;
            case EventType::patient_assigned:
                if (p.contains("assigned_therapist_id") && p["assigned_therapist_id"].is_string())
                    patient["assigned_therapist_id"] = p["assigned_therapist_id"];
                else
                    patient.erase("assigned_therapist_id");
                break;
            case EventType::message_appended:
                if (!str(p, "id").empty()) messages.at(str(p, "id")) = p;
                break;
            case EventType::message_state_changed:
                if (auto* m = messages.find(p.contains("message_id") ? str(p, "message_id") : str(p, "id"))) {
                    if (!str(p, "state").empty()) (*m)["state"] = p["state"];
                    if (p.contains("text") && p["text"].is_string()) (*m)["text"] = p["text"];
                }
                break;
            case EventType::risk_assessed: {
                std::string key = str(p, "message_id");
                if (key.empty()) key = str(p, "assessment_id");
                if (key.empty()) key = e.id;
                risks.at(key) = {p, e.time, key};
                break;
            }
            case EventType::flag_opened:
                if (!str(p, "id").empty()) {
                    auto& f = flags.at(str(p, "id"));
                    f = p;
                    if (!f.contains("status")) f["status"] = "open";
                }
                break;
            case EventType::flag_acknowledged:
            case EventType::flag_annotated:
            case EventType::flag_escalated:
            case EventType::flag_resolved:
                if (auto* f = flags.find(p.contains("flag_id") ? str(p, "flag_id") : str(p, "id"))) {
                    for (const auto& [k, v] : p.items())
                        if (k != "flag_id" && k != "note" && k != "id") (*f)[k] = v;
                    if (e.type == EventType::flag_acknowledged) (*f)["status"] = "acknowledged";
                    if (e.type == EventType::flag_escalated) (*f)["status"] = "escalated";
                    if (e.type == EventType::flag_resolved) (*f)["status"] = "resolved";
                }
                break;
            case EventType::plan_proposed:
                if (!str(p, "id").empty()) {
                    auto& plan = plans.at(str(p, "id"));
                    plan = p;
                    plan["status"] = "proposed";
                }
                break;
            case EventType::plan_approved:
            case EventType::plan_rejected:
                if (auto* plan = plans.find(p.contains("plan_id") ? str(p, "plan_id") : str(p, "id"))) {
                    for (const char* k : {"approver_id", "reason", "decided_at"})
                        if (!str(p, k).empty()) (*plan)[k] = p[k];
                    const std::string id = str(*plan, "id");
                    if (e.type == EventType::plan_approved) {
                        for (const auto& other : plans.order) {
                            auto& o = plans.by_id[other];
                            if (other != id && str(o, "status") == "approved") {
                                o["status"] = "superseded";
                                replaced[id] = other;
                            }
                        }
                        (*plan)["status"] = "approved";
                        approved_order.push_back(id);
                    } else {
                        (*plan)["status"] = "rejected";
                    }
                }
                audits.push_back(&e);
                break;
            case EventType::assessment_scored:
                if (!str(p, "id").empty()) assessments.at(str(p, "id")) = p;
                break;
            case EventType::transcript_viewed:
            case EventType::clinician_action: audits.push_back(&e); break;
            default: break;
        }
    }
};

}  // namespace

Result<json> build_patient_bundle(std::string_view patient_id, const std::vector<StoredEvent>& events,
                                  const std::vector<FhirClinician>& clinicians, const FhirInstrumentLookup& instruments,
                                  const FhirExportOptions& options) {
    PatientFold fold;
    for (const auto& e : events)
        if (e.patient_id.value_or("") == patient_id) fold.add(e);
    if (!fold.patient.is_object() || str(fold.patient, "id") != patient_id)
        return fail(ErrorCode::not_found, "no such patient", std::string(patient_id));

    json entries = json::array();
    std::map<std::string, std::string> kind_of;  // Tandem id -> resource kind, for audit targets
    auto add = [&](const std::string& kind, const std::string& tandem_id, json resource) {
        kind_of.emplace(tandem_id, kind);
        entries.push_back({{"fullUrl", full_url(kind, tandem_id)}, {"resource", std::move(resource)}});
    };
    add("Patient", std::string(patient_id), patient_resource(fold.patient));

    for (const auto& id : fold.assessments.order) {
        const auto& a = fold.assessments.by_id[id];
        const FhirInstrument* def = instruments ? instruments(str(a, "instrument")) : nullptr;
        add("QuestionnaireResponse", id, questionnaire_response_resource(a, def));
        entries.push_back({{"fullUrl", full_url("Observation", id)}, {"resource", assessment_observation_resource(a, def)}});
    }
    for (const auto& id : fold.flags.order) {
        const auto& flag = fold.flags.by_id[id];
        add("Flag", id, flag_resource(flag));
        // A flag raised without a risk_assessed event (a questionnaire's answers go straight to
        // the safety protocol) is still a risk finding: its evidence becomes the verdict.
        std::string key = str(flag, "message_id");
        if (key.empty()) key = str(flag, "assessment_id");
        if (key.empty()) key = id;
        if (fold.risks.find(key)) continue;
        json evidence = {{"severity", flag.value("severity", json("moderate"))},
                         {"categories", flag.value("categories", json::array())},
                         {"rationale", "risk flag opened" + std::string(flag.contains("assessment_id") ? " from questionnaire answers" : "")}};
        for (const char* k : {"message_id", "assessment_id"})
            if (!str(flag, k).empty()) evidence[k] = flag[k];
        fold.risks.at(key) = {std::move(evidence), str(flag, "opened_at"), key};
    }
    for (const auto& k : fold.risks.order) {
        const auto& r = fold.risks.by_id[k];
        // "none" verdicts are every ordinary message: exporting them would only say "we screened".
        if (str(r.payload, "severity") == "none") continue;
        const auto message_id = str(r.payload, "message_id");
        const auto assessment_id = str(r.payload, "assessment_id");
        const std::string& key = r.key;
        json basis = json::array();
        if (!message_id.empty() && options.include_transcripts && fold.messages.find(message_id))
            basis.push_back(reference("Communication", message_id));
        if (!assessment_id.empty() && fold.assessments.find(assessment_id))
            basis.push_back(reference("QuestionnaireResponse", assessment_id));
        entries.push_back({{"fullUrl", full_url("RiskAssessment", key)},
                           {"resource", risk_assessment_resource(r.payload, key, patient_id, r.time, basis)}});
    }
    for (const auto& id : fold.plans.order) {
        const auto& plan = fold.plans.by_id[id];
        const auto status = str(plan, "status");
        if (status != "approved" && status != "superseded") continue;  // proposals and rejections: docs/FHIR.md
        const auto r = fold.replaced.find(id);
        add("CarePlan", id, care_plan_resource(plan, r == fold.replaced.end() ? std::nullopt : std::optional(r->second)));
    }
    if (options.include_transcripts)
        for (const auto& id : fold.messages.order) add("Communication", id, communication_resource(fold.messages.by_id[id]));

    // A plan decision made through a clinician action is audited twice in the log (the decision
    // and its clinician_action record): one AuditEvent, from the clinician_action, is enough.
    std::set<std::string> audited_actions;
    for (const auto* e : fold.audits)
        if (e->type == EventType::clinician_action && !str(e->payload, "action_id").empty())
            audited_actions.insert(str(e->payload, "action_id"));
    const auto resolvable = [&](std::string_view target) -> std::optional<std::string> {
        const auto it = kind_of.find(std::string(target));
        if (it == kind_of.end()) return std::nullopt;
        return it->second;
    };
    for (const auto* e : fold.audits) {
        if (e->type != EventType::clinician_action && e->type != EventType::transcript_viewed &&
            audited_actions.contains(str(e->payload, "action_id")))
            continue;
        if (auto r = audit_event_resource(*e, resolvable))
            entries.push_back({{"fullUrl", full_url("AuditEvent", e->id)}, {"resource", std::move(*r)}});
    }

    // Practitioners and Devices for every reference made, so each one resolves in the bundle.
    std::set<std::string> urls;
    for (const auto& e : entries) urls.insert(e["fullUrl"].get<std::string>());
    const auto missing = unresolved_references({{"entry", entries}});
    std::set<std::string> wanted(missing.begin(), missing.end());
    // A clinician the events name but the accounts do not (a log cut for a test, an account
    // from before accounts were logged) still gets a Practitioner: its id, no name.
    std::vector<FhirClinician> named = clinicians;
    auto note_clinician = [&](const std::string& id) {
        if (!id.empty() && std::none_of(named.begin(), named.end(), [&](const auto& c) { return c.id == id; }))
            named.push_back({id, "", true});
    };
    for (const auto& e : events) {
        if (e.patient_id.value_or("") != patient_id) continue;
        if (e.actor.kind == ActorKind::clinician && e.actor.id) note_clinician(*e.actor.id);
        for (const char* k : {"assigned_therapist_id", "approver_id", "sender_id", "clinician_id"})
            note_clinician(str(e.payload, k));
        note_clinician(str(e.payload.value("proposer", json::object()), "clinician_id"));
    }
    for (const auto& c : named)
        if (wanted.contains(full_url("Practitioner", c.id)) && urls.insert(full_url("Practitioner", c.id)).second)
            entries.push_back({{"fullUrl", full_url("Practitioner", c.id)}, {"resource", practitioner_resource(c)}});
    for (const char* device : {"bridge", "ai"})
        if (wanted.contains(full_url("Device", device)) && urls.insert(full_url("Device", device)).second)
            entries.push_back({{"fullUrl", full_url("Device", device)}, {"resource", device_resource(device)}});

    return json{{"resourceType", "Bundle"},
                {"id", resource_uuid("Bundle", std::string(patient_id) + "@" + options.exported_at)},
                {"meta",
                 {{"security",
                   {{{"system", "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"},
                     {"code", "R"},
                     {"display", "restricted"}}}}}},
                {"type", "collection"},
                {"timestamp", options.exported_at},
                {"entry", std::move(entries)}};
}

std::vector<std::string> unresolved_references(const json& bundle) {
    std::set<std::string> urls;
    for (const auto& e : bundle.value("entry", json::array()))
        if (e.contains("fullUrl")) urls.insert(e["fullUrl"].get<std::string>());
    std::vector<std::string> out;
    const std::function<void(const json&)> walk = [&](const json& j) {
        if (j.is_object()) {
            for (const auto& [k, v] : j.items()) {
                if (k == "reference" && v.is_string()) {
                    const auto ref = v.get<std::string>();
                    if (!ref.starts_with("#") && !urls.contains(ref) &&
                        std::find(out.begin(), out.end(), ref) == out.end())
                        out.push_back(ref);
                } else {
                    walk(v);
                }
            }
        } else if (j.is_array()) {
            for (const auto& v : j) walk(v);
        }
    };
    walk(bundle);
    return out;
}

}  // namespace fhir
}  // namespace tandem::bridge
