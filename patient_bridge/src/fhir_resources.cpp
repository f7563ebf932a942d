// FHIR R4 resources, part 1: resource ids and references, Patient, Practitioner, Device, and the
// questionnaire resources (QuestionnaireResponse, Observation). Part 2 is fhir_care.cpp.
// Field choices and codes are tabled in docs/FHIR.md; the official R4 JSON schema checks the
// output in tests/e2e/test_fhir_export.py.

#include <cstdio>
#include <string>

#include "tandem/bridge/fhir_export.h"
#include "tandem/bridge/fhir_support.h"
#include "tandem/crypto/hash.h"

namespace tandem::bridge::fhir {
namespace {

using nlohmann::json;

using support::identifier;
using support::str;
using support::words;
const auto sys = support::system_uri;

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

}  // namespace tandem::bridge::fhir
