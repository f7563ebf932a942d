// FHIR R4 resources, part 2: risk (Flag, RiskAssessment), care (CarePlan), the conversation
// (Communication) and the audit trail (AuditEvent). Part 1 is fhir_resources.cpp; field choices
// and codes are tabled in docs/FHIR.md.

#include <string>

#include "tandem/bridge/fhir_export.h"
#include "tandem/bridge/fhir_support.h"

namespace tandem::bridge::fhir {
namespace {

using nlohmann::json;
using support::identifier;
using support::str;
using support::words;
const auto sys = support::system_uri;

// FHIR's risk-probability codes have no "imminent": it maps to high, and the text keeps the word.
std::string risk_probability(const std::string& severity) {
    if (severity == "none") return "negligible";
    if (severity == "imminent") return "high";
    return severity;  // low, moderate, high are FHIR codes too
}

// The Device or Practitioner an event's actor stands for.
json actor_reference(const Actor& actor) {
    if (actor.kind == ActorKind::clinician && actor.id) return reference("Practitioner", *actor.id);
    if (actor.kind == ActorKind::ai) return reference("Device", "ai");
    return reference("Device", "bridge");
}

}  // namespace

json flag_resource(const json& flag) {
    const auto id = str(flag, "id");
    const auto status = str(flag, "status");
    const auto severity = str(flag, "severity");
    std::string categories;
    json category_codings = json::array();
    for (const auto& c : flag.value("categories", json::array())) {
        if (!c.is_string()) continue;
        if (!categories.empty()) categories += ", ";
        categories += words(c.get<std::string>());
        category_codings.push_back({{"system", sys("CodeSystem/risk-category")}, {"code", c.get<std::string>()}});
    }
    json code = {{"text", "Risk flag: " + severity + (categories.empty() ? std::string() : " (" + categories + ")")}};
    if (!category_codings.empty()) code["coding"] = std::move(category_codings);
    json r = {{"resourceType", "Flag"},
              {"id", resource_uuid("Flag", id)},
              {"identifier", json::array({identifier("flag", id)})},
              {"status", status == "resolved" ? "inactive" : "active"},
              {"category", json::array({{{"coding",
                                          {{{"system", "http://terminology.hl7.org/CodeSystem/flag-category"},
                                            {"code", "safety"},
                                            {"display", "Safety"}}}},
                                         {"text", "Safety: " + severity + " risk"}}})},
              {"code", std::move(code)},
              {"subject", reference("Patient", str(flag, "patient_id"))},
              {"author", reference("Device", "bridge")}};
    json period = {{"start", str(flag, "opened_at")}};
    if (status == "resolved" && !str(flag, "resolved_at").empty()) period["end"] = str(flag, "resolved_at");
    r["period"] = std::move(period);
    return r;
}

json risk_assessment_resource(const json& risk, std::string_view key, std::string_view patient_id,
                              std::string_view time, const json& basis) {
    const auto severity = str(risk, "severity");
    // One risk verdict per screened message or questionnaire: its id names the verdict.
    json r = {{"resourceType", "RiskAssessment"},
              {"id", resource_uuid("RiskAssessment", key)},
              {"identifier", json::array({identifier("risk-assessment", key)})},
              {"status", "final"},
              {"subject", reference("Patient", patient_id)},
              {"occurrenceDateTime", std::string(time)},
              {"performer", reference("Device", "bridge")}};
    std::string method = "Tandem risk engine";
    if (const auto v = str(risk, "engine_version"); !v.empty()) method += " " + v;
    if (const auto v = str(risk, "ruleset_version"); !v.empty()) method += ", rules " + v;
    r["method"] = {{"text", method}};
    std::string outcome = "Risk of harm";
    const auto categories = risk.value("categories", json::array());
    if (!categories.empty()) {
        outcome += ": ";
        bool first = true;
        for (const auto& c : categories) {
            if (!c.is_string()) continue;
            outcome += (first ? "" : ", ") + words(c.get<std::string>());
            first = false;
        }
    }
    json prediction = {{"outcome", {{"text", outcome}}},
                       {"qualitativeRisk",
                        {{"coding",
                          {{{"system", "http://terminology.hl7.org/CodeSystem/risk-probability"},
                            {"code", risk_probability(severity)}}}},
                         {"text", severity}}}};
    if (const auto c = risk.find("cssrs_level"); c != risk.end() && c->is_number_integer())
        prediction["rationale"] = "C-SSRS level " + std::to_string(c->get<int>());
    r["prediction"] = json::array({std::move(prediction)});
    // The engine's rationale and each rule's explanation are clinic text, not the patient's;
    // the spans' byte offsets point into message text and would leak its shape, so they stay out.
    json notes = json::array();
    if (const auto why = str(risk, "rationale"); !why.empty()) notes.push_back({{"text", why}});
    for (const auto& s : risk.value("spans", json::array()))
        if (s.is_object() && !str(s, "rule_id").empty())
            notes.push_back({{"text", "rule " + str(s, "rule_id") + ": " + str(s, "rationale")}});
    if (!notes.empty()) r["note"] = std::move(notes);
    if (basis.is_array() && !basis.empty()) r["basis"] = basis;
    return r;
}

json care_plan_resource(const json& plan, const std::optional<std::string>& replaces_plan_id) {
    const auto id = str(plan, "id");
    const auto status = str(plan, "status");
    const bool active = status == "approved";
    const int version = plan.value("version", 0);
    const auto patient = str(plan, "patient_id");
    json r = {{"resourceType", "CarePlan"},
              {"id", resource_uuid("CarePlan", id)},
              {"identifier", json::array({identifier("plan", id), identifier("plan-version", patient + "/" + std::to_string(version))})},
              // Superseded = ended before completion by a newer version: FHIR's "revoked".
              {"status", active ? "active" : "revoked"},
              {"intent", "plan"},
              {"title", "Treatment plan version " + std::to_string(version)},
              {"subject", reference("Patient", patient)}};
    if (const auto created = str(plan, "created_at"); !created.empty()) r["created"] = created;
    if (const auto decided = str(plan, "decided_at"); !decided.empty()) r["period"] = {{"start", decided}};
    if (replaces_plan_id) r["replaces"] = json::array({reference("CarePlan", *replaces_plan_id)});
    const auto proposer = plan.value("proposer", json::object());
    if (str(proposer, "kind") == "ai") {
        r["contributor"] = json::array({reference("Device", "ai")});
    } else if (const auto c = str(proposer, "clinician_id"); !c.empty()) {
        r["contributor"] = json::array({reference("Practitioner", c)});
    }
    if (const auto approver = str(plan, "approver_id"); !approver.empty()) r["author"] = reference("Practitioner", approver);
    auto joined = [&](const char* key) {
        std::string out;
        for (const auto& s : plan.value(key, json::array()))
            if (s.is_string()) out += (out.empty() ? "" : "; ") + s.get<std::string>();
        return out;
    };
    std::string description;
    if (const auto p = joined("presenting_problems"); !p.empty()) description = "Presenting problems: " + p + ".";
    if (const auto c = joined("conditions"); !c.empty()) description += (description.empty() ? "" : " ") + ("Conditions: " + c + ".");
    if (!description.empty()) r["description"] = description;

    json contained = json::array(), goals = json::array();
    int n = 0;
    for (const auto& g : plan.value("goals", json::array())) {
        const std::string local = "goal" + std::to_string(++n);
        json goal = {{"resourceType", "Goal"},
                     {"id", local},
                     {"lifecycleStatus", active ? "active" : "cancelled"},
                     {"description", {{"text", str(g, "description")}}},
                     {"subject", reference("Patient", patient)}};
        json target;
        if (const auto m = str(g, "measure"); !m.empty()) target["measure"] = {{"text", m}};
        if (const auto d = str(g, "target_date"); !d.empty()) target["dueDate"] = d;
        if (!target.empty()) goal["target"] = json::array({std::move(target)});
        goals.push_back({{"reference", "#" + local}});
        contained.push_back(std::move(goal));
    }
    if (!contained.empty()) {
        r["contained"] = std::move(contained);
        r["goal"] = std::move(goals);
    }
    const std::string activity_status = active ? "in-progress" : "stopped";
    json activities = json::array();
    for (const auto& i : plan.value("interventions", json::array()))
        activities.push_back({{"detail",
                               {{"status", activity_status},
                                {"code", {{"text", str(i, "name")}}},
                                {"description", str(i, "how_ai_uses_it")}}}});
    for (const auto& h : plan.value("homework", json::array()))
        if (h.is_string())
            activities.push_back({{"detail", {{"status", activity_status}, {"code", {{"text", "Homework"}}}, {"description", h}}}});
    for (const auto& a : plan.value("assessment_schedule", json::array()))
        activities.push_back({{"detail",
                               {{"status", activity_status},
                                {"code", {{"text", "Questionnaire " + str(a, "instrument")}}},
                                {"description", str(a, "instrument") + " in week " + std::to_string(a.value("week", 0))}}}});
    if (!activities.empty()) r["activity"] = std::move(activities);

    json notes = json::array();
    notes.push_back({{"text", "Tandem plan version " + std::to_string(version) + " (" + status + ")" +
                                  (plan.contains("based_on_version")
                                       ? ", based on version " + std::to_string(plan.value("based_on_version", 0))
                                       : std::string())}});
    if (const auto c = str(plan, "checkin_cadence"); !c.empty()) notes.push_back({{"text", "Check-in cadence: " + c}});
    const auto safety = plan.value("safety_plan", json::object());
    std::string safety_text;
    for (const char* key : {"warning_signs", "internal_coping", "distraction_people_places", "people_to_ask",
                            "professionals_and_crisis_lines", "environment_safety"}) {
        std::string line;
        for (const auto& s : safety.value(key, json::array()))
            if (s.is_string()) line += (line.empty() ? "" : "; ") + s.get<std::string>();
        if (!line.empty()) safety_text += (safety_text.empty() ? "" : "\n") + words(key) + ": " + line;
    }
    if (!safety_text.empty()) notes.push_back({{"text", "Safety plan\n" + safety_text}});
    const auto guidance = plan.value("ai_guidance", json::object());
    if (const auto tone = str(guidance, "tone"); !tone.empty()) notes.push_back({{"text", "AI guidance: tone " + tone}});
    if (const auto why = str(plan, "reason"); !why.empty()) notes.push_back({{"text", "Decision reason: " + why}});
    r["note"] = std::move(notes);
    return r;
}

json communication_resource(const json& message) {
    const auto id = str(message, "id");
    const auto patient = str(message, "patient_id");
    const auto sender = str(message, "sender");
    const auto state = str(message, "state");
    json sender_ref, recipient;
    if (sender == "patient") {
        sender_ref = reference("Patient", patient);
        recipient = reference("Device", "ai");
    } else {
        if (sender == "clinician" && !str(message, "sender_id").empty()) {
            sender_ref = reference("Practitioner", str(message, "sender_id"));
        } else {
            sender_ref = reference("Device", sender == "ai" ? "ai" : "bridge");
        }
        recipient = reference("Patient", patient);
    }
    // held: waiting for a clinician; withheld: a clinician discarded it, the patient never saw it.
    const std::string status = state == "held" ? "on-hold" : state == "withheld" ? "not-done" : "completed";
    json r = {{"resourceType", "Communication"},
              {"id", resource_uuid("Communication", id)},
              {"identifier", json::array({identifier("message", id)})},
              {"status", status},
              {"subject", reference("Patient", patient)},
              {"sender", std::move(sender_ref)},
              {"recipient", json::array({std::move(recipient)})},
              {"payload", json::array({{{"contentString", str(message, "text")}}})}};
    if (status == "completed") r["sent"] = str(message, "created_at");
    if (const auto conv = str(message, "conversation_id"); !conv.empty())
        r["identifier"].push_back(identifier("conversation", conv));
    return r;
}

std::optional<json> audit_event_resource(
    const StoredEvent& event, const std::function<std::optional<std::string>(std::string_view)>& resolvable) {
    std::string action_code, subtype, type_code = "110110", type_display = "Patient Record";
    if (event.type == EventType::transcript_viewed) {
        action_code = "R";
        subtype = "transcript_viewed";
    } else if (event.type == EventType::clinician_action) {
        subtype = str(event.payload, "action");
        if (subtype.empty()) return std::nullopt;
        if (subtype == "fhir_export") {
            action_code = "R";
            type_code = "110106";
            type_display = "Export";
        } else {
            action_code = subtype.starts_with("fetch_") ? "R" : "U";
        }
    } else if (event.type == EventType::plan_approved || event.type == EventType::plan_rejected) {
        action_code = "U";
        subtype = event.type == EventType::plan_approved ? "plan_approved" : "plan_rejected";
    } else {
        return std::nullopt;
    }
    const auto patient = event.patient_id.value_or(str(event.payload, "patient_id"));
    if (patient.empty()) return std::nullopt;  // logins and account changes belong to no patient's record
    json agent = {{"who", actor_reference(event.actor)}, {"requestor", true}};
    if (event.actor.kind != ActorKind::clinician) {
        // The CLI runs as an operating-system user; its name is the only "who" there is.
        std::string name = event.actor.id.value_or("system");
        if (const auto by = str(event.payload, "requested_by"); !by.empty()) name += " (" + by + ")";
        agent["name"] = name;
    }
    json entities = json::array({{{"what", reference("Patient", patient)},
                                  {"type", {{"system", "http://terminology.hl7.org/CodeSystem/audit-entity-type"},
                                            {"code", "1"},
                                            {"display", "Person"}}}}});
    std::string target = str(event.payload, "target_id");
    if (target.empty()) target = str(event.payload, "plan_id");
    if (target.empty()) target = str(event.payload, "conversation_id");
    if (!target.empty() && target != patient) {
        if (auto kind = resolvable(target)) {
            entities.push_back({{"what", reference(*kind, target)}});
        } else {
            entities.push_back({{"what", {{"identifier", identifier("record", target)}}}});
        }
    }
    return json{{"resourceType", "AuditEvent"},
                {"id", resource_uuid("AuditEvent", event.id)},
                {"type", {{"system", "http://dicom.nema.org/resources/ontology/DCM"},
                          {"code", type_code},
                          {"display", type_display}}},
                {"subtype", json::array({{{"system", sys("CodeSystem/audit-action")}, {"code", subtype}}})},
                {"action", action_code},
                {"recorded", event.time},
                {"outcome", "0"},
                {"agent", json::array({std::move(agent)})},
                {"source", {{"site", "Tandem"}, {"observer", reference("Device", "bridge")}}},
                {"entity", std::move(entities)}};
}

}  // namespace tandem::bridge::fhir
