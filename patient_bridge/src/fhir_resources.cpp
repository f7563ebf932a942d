// FHIR R4 resources from Tandem records and events: one pure function per resource type.
// Field choices and codes are tabled in docs/FHIR.md; the official R4 JSON schema checks the
// output in tests/e2e/test_fhir_export.py.

#include <cstdio>
#include <string>

#include "tandem/bridge/fhir_export.h"
#include "tandem/crypto/hash.h"

namespace tandem::bridge::fhir {
namespace {

using nlohmann::json;

std::string sys(std::string_view path) { return std::string(system_base) + std::string(path); }

json identifier(std::string_view kind, std::string_view value) {
    return json{{"system", sys("id/") + std::string(kind)}, {"value", std::string(value)}};
}

std::string str(const json& j, const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "moderately_severe" -> "moderately severe": band and category names read as words.
std::string words(std::string s) {
    for (auto& c : s)
        if (c == '_') c = ' ';
    return s;
}

// FHIR's risk-probability codes have no "imminent": it maps to high, and the text keeps the word.
std::string risk_probability(const std::string& severity) {
    if (severity == "none") return "negligible";
    if (severity == "imminent") return "high";
    return severity;  // low, moderate, high are FHIR codes too
}

const FhirInstrument::Item* item_at(const FhirInstrument* def, std::size_t i) {
    return def && i < def->items.size() ? &def->items[i] : nullptr;
}

std::string link_id(const FhirInstrument* def, std::size_t i) {
    const auto* item = item_at(def, i);
    return item && !item->id.empty() ? item->id : "item" + std::to_string(i + 1);
}

std::string instrument_title(const json& assessment, const FhirInstrument* def) {
    return def && !def->title.empty() ? def->title : str(assessment, "instrument");
}

json survey_category() {
    return json::array({{{"coding",
                           {{{"system", "http://terminology.hl7.org/CodeSystem/observation-category"},
                             {"code", "survey"},
                             {"display", "Survey"}}}}}});
}

// The Device or Practitioner an event's actor stands for.
json actor_reference(const Actor& actor) {
    if (actor.kind == ActorKind::clinician && actor.id) return reference("Practitioner", *actor.id);
    if (actor.kind == ActorKind::ai) return reference("Device", "ai");
    return reference("Device", "bridge");
}

}  // namespace

std::string resource_uuid(std::string_view kind, std::string_view tandem_id) {
    // Name-based so a re-export gives every resource the same fullUrl (receivers can update in
    // place); a random v4 per export was rejected for that reason. Version 8 is RFC 9562's
    // "custom" layout, the honest label for a SHA-256-derived UUID (v5 would claim SHA-1).
    Sha256 h;
    h.update("tandem-fhir\n").update(kind).update("\n").update(tandem_id);
    auto d = h.finish();
    d[6] = static_cast<std::uint8_t>((d[6] & 0x0F) | 0x80);
    d[8] = static_cast<std::uint8_t>((d[8] & 0x3F) | 0x80);
    std::string out;
    out.reserve(36);
    char hex[3];
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
        std::snprintf(hex, sizeof hex, "%02x", d[static_cast<std::size_t>(i)]);
        out += hex;
    }
    return out;
}

std::string full_url(std::string_view kind, std::string_view tandem_id) {
    return "urn:uuid:" + resource_uuid(kind, tandem_id);
}

json reference(std::string_view kind, std::string_view tandem_id) {
    return json{{"reference", full_url(kind, tandem_id)}};
}

FhirInstrument instrument_from_definition(const json& d) {
    FhirInstrument out;
    out.id = str(d, "id");
    out.title = str(d, "title");
    if (const auto v = d.find("version"); v != d.end())
        out.version = v->is_string() ? v->get<std::string>() : v->is_number_integer() ? std::to_string(v->get<int>()) : "";
    const auto loinc = d.value("loinc", json::object());
    out.panel_loinc = str(loinc, "panel");
    out.total_loinc = str(loinc, "total");
    for (const auto& i : d.value("items", json::array())) {
        FhirInstrument::Item item{str(i, "id"), str(i, "text"), str(i, "loinc"), {}};
        for (const auto& o : i.value("options", json::array()))
            if (o.contains("value") && o["value"].is_number_integer()) item.options.push_back({o["value"].get<int>(), str(o, "label")});
        out.items.push_back(std::move(item));
    }
    for (const auto& b : d.value("scoring", json::object()).value("bands", json::array()))
        out.bands.push_back({b.value("min", 0), b.value("max", 0), str(b, "label"), str(b, "title")});
    return out;
}

json patient_resource(const json& patient) {
    const auto id = str(patient, "id");
    json r = {{"resourceType", "Patient"},
              {"id", resource_uuid("Patient", id)},
              {"identifier", json::array({identifier("patient", id)})},
              {"active", true}};
    // The record's display name is whatever the clinic registered (often a pseudonym); it is
    // given as text only, never split into family/given names it may not have.
    if (const auto name = str(patient, "display_name"); !name.empty())
        r["name"] = json::array({{{"use", "usual"}, {"text", name}}});
    if (const auto locale = str(patient, "locale"); !locale.empty())
        r["communication"] = json::array(
            {{{"language", {{"coding", {{{"system", "urn:ietf:bcp:47"}, {"code", locale}}}}}}, {"preferred", true}}});
    if (const auto therapist = str(patient, "assigned_therapist_id"); !therapist.empty())
        r["generalPractitioner"] = json::array({reference("Practitioner", therapist)});
    return r;
}

json practitioner_resource(const FhirClinician& clinician) {
    json r = {{"resourceType", "Practitioner"},
              {"id", resource_uuid("Practitioner", clinician.id)},
              {"identifier", json::array({identifier("clinician", clinician.id)})},
              {"active", clinician.active}};
    if (!clinician.display_name.empty()) r["name"] = json::array({{{"text", clinician.display_name}}});
    return r;
}

json device_resource(std::string_view device_id) {
    const bool ai = device_id == "ai";
    const std::string name = ai ? "Tandem AI companion" : "Tandem bridge";
    return {{"resourceType", "Device"},
            {"id", resource_uuid("Device", device_id)},
            {"identifier", json::array({identifier("device", device_id)})},
            {"deviceName", json::array({{{"name", name}, {"type", "user-friendly-name"}}})},
            {"type", {{"text", ai ? "AI conversational agent (clinician-supervised)" : "Tandem clinic server"}}}};
}

json questionnaire_response_resource(const json& assessment, const FhirInstrument* def) {
    const auto id = str(assessment, "id");
    const auto instrument = str(assessment, "instrument");
    json r = {{"resourceType", "QuestionnaireResponse"},
              {"id", resource_uuid("QuestionnaireResponse", id)},
              {"identifier", identifier("assessment", id)},
              // Tandem's definition (id|version) is the questionnaire answered; the LOINC panel
              // code is on the Observation, where FHIR has a place for codes.
              {"questionnaire", sys("Questionnaire/") + instrument + (def && !def->version.empty() ? "|" + def->version : "")},
              {"status", assessment.contains("completed_at") ? "completed" : "in-progress"},
              {"subject", reference("Patient", str(assessment, "patient_id"))},
              {"author", reference("Patient", str(assessment, "patient_id"))},
              {"source", reference("Patient", str(assessment, "patient_id"))}};
    const auto when = str(assessment, "completed_at");
    r["authored"] = when.empty() ? str(assessment, "administered_at") : when;
    json items = json::array();
    const auto answers = assessment.value("items", json::array());
    for (std::size_t i = 0; i < answers.size(); ++i) {
        if (!answers[i].is_number_integer()) continue;  // skipped (C-SSRS skip logic) or unanswered
        const int value = answers[i].get<int>();
        json item = {{"linkId", link_id(def, i)}};
        const auto* def_item = item_at(def, i);
        if (def_item && !def_item->text.empty()) item["text"] = def_item->text;
        json answer;
        const FhirInstrument::Option* option = nullptr;
        if (def_item)
            for (const auto& o : def_item->options)
                if (o.value == value) option = &o;
        if (option) {
            answer["valueCoding"] = {{"system", sys("instrument/") + instrument + "/answer"},
                                     {"code", std::to_string(value)},
                                     {"display", option->label}};
        } else {
            answer["valueInteger"] = value;
        }
        item["answer"] = json::array({answer});
        items.push_back(std::move(item));
    }
    if (!items.empty()) r["item"] = std::move(items);
    return r;
}

json assessment_observation_resource(const json& assessment, const FhirInstrument* def) {
    const auto id = str(assessment, "id");
    const auto instrument = str(assessment, "instrument");
    const auto title = instrument_title(assessment, def);
    json code = {{"text", title + " total score"}};
    json coding = json::array();
    if (def && !def->total_loinc.empty())
        coding.push_back({{"system", "http://loinc.org"}, {"code", def->total_loinc}, {"display", title + " total score"}});
    coding.push_back({{"system", sys("instrument")}, {"code", instrument}, {"display", title}});
    code["coding"] = std::move(coding);
    json r = {{"resourceType", "Observation"},
              {"id", resource_uuid("Observation", id)},
              {"identifier", json::array({identifier("assessment", id)})},
              {"status", "final"},
              {"category", survey_category()},
              {"code", std::move(code)},
              {"subject", reference("Patient", str(assessment, "patient_id"))},
              {"performer", json::array({reference("Patient", str(assessment, "patient_id"))})},
              {"derivedFrom", json::array({reference("QuestionnaireResponse", id)})}};
    const auto when = str(assessment, "completed_at");
    r["effectiveDateTime"] = when.empty() ? str(assessment, "administered_at") : when;
    if (const auto s = assessment.find("score"); s != assessment.end() && s->is_number_integer()) {
        r["valueInteger"] = s->get<int>();
    } else {
        r["dataAbsentReason"] = {
            {"coding", {{{"system", "http://terminology.hl7.org/CodeSystem/data-absent-reason"}, {"code", "unknown"}}}},
            {"text", "not scored"}};
    }
    if (const auto band = str(assessment, "band"); !band.empty()) {
        std::string text = words(band);
        if (def)
            for (const auto& b : def->bands)
                if (b.label == band && !b.title.empty()) text = b.title;
        r["interpretation"] = json::array({{{"text", text}}});
    }
    if (def && !def->panel_loinc.empty())
        r["note"] = json::array({{{"text", "LOINC panel " + def->panel_loinc + " (" + title + ")"}}});
    json components = json::array();
    const auto answers = assessment.value("items", json::array());
    for (std::size_t i = 0; i < answers.size(); ++i) {
        if (!answers[i].is_number_integer()) continue;
        const auto* item = item_at(def, i);
        json item_code;
        if (item && !item->loinc.empty()) {
            item_code["coding"] = json::array({{{"system", "http://loinc.org"}, {"code", item->loinc}}});
        } else {
            item_code["coding"] = json::array({{{"system", sys("instrument/") + instrument}, {"code", link_id(def, i)}}});
        }
        if (item && !item->text.empty()) item_code["text"] = item->text;
        components.push_back({{"code", std::move(item_code)}, {"valueInteger", answers[i].get<int>()}});
    }
    if (!components.empty()) r["component"] = std::move(components);
    return r;
}

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
