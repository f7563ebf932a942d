#include "test_support.h"

namespace tandem::clinician::testing {

TimePoint t0() { return parse_utc("2026-11-26T10:00:00.000Z").value(); }

nlohmann::json event_json(std::uint64_t seq, const std::string& type, const std::string& patient_id,
                          nlohmann::json payload, TimePoint time, const std::string& actor_id) {
    nlohmann::json e{{"seq", seq}, {"id", "ev" + std::to_string(seq)}, {"type", type}, {"time", format_utc(time)},
                     {"actor", {{"kind", actor_id.empty() ? "system" : "clinician"}}}, {"payload", std::move(payload)}};
    if (!actor_id.empty()) e["actor"]["id"] = actor_id;
    if (!patient_id.empty()) e["patient_id"] = patient_id;
    return e;
}

StoredEvent event(std::uint64_t seq, const std::string& type, const std::string& patient_id, nlohmann::json payload,
                  TimePoint time, const std::string& actor_id) {
    return parse_stored_event(event_json(seq, type, patient_id, std::move(payload), time, actor_id)).value();
}

std::string event_frame(const nlohmann::json& stored_event) {
    return nlohmann::json{{"type", "event"}, {"id", "f" + std::to_string(stored_event["seq"].get<std::uint64_t>())},
                          {"time", stored_event["time"]}, {"seq", stored_event["seq"]}, {"payload", stored_event}}
        .dump();
}

nlohmann::json patient(const std::string& id, const std::string& name, const std::string& therapist) {
    return {{"id", id}, {"clinic_id", "c"}, {"display_name", name}, {"assigned_therapist_id", therapist},
            {"conditions", nlohmann::json::array()}, {"locale", "en-US"}, {"created_at", format_utc(t0())}};
}

nlohmann::json flag(const std::string& id, const std::string& patient_id, const std::string& severity,
                    TimePoint opened, TimePoint deadline, const std::string& message_id) {
    nlohmann::json f{{"id", id}, {"patient_id", patient_id}, {"severity", severity},
                     {"categories", nlohmann::json::array({"suicidal_ideation"})}, {"status", "open"},
                     {"opened_at", format_utc(opened)}, {"sla_deadline", format_utc(deadline)},
                     {"escalation_level", 0}, {"notes", nlohmann::json::array()}};
    if (!message_id.empty()) f["message_id"] = message_id;
    return f;
}

nlohmann::json message(const std::string& id, const std::string& patient_id, const std::string& sender,
                       const std::string& text, TimePoint at, const std::string& state) {
    return {{"id", id}, {"conversation_id", patient_id + "-c"}, {"patient_id", patient_id}, {"sender", sender},
            {"text", text}, {"state", state}, {"created_at", format_utc(at)}};
}

}  // namespace tandem::clinician::testing
