#include "tandem/store/event.h"

#include <array>
#include <utility>

namespace tandem {

namespace {

constexpr std::array<std::pair<EventType, std::string_view>, 27> event_type_names{{
    {EventType::clinic_configured, "clinic_configured"},
    {EventType::clinician_added, "clinician_added"},
    {EventType::clinician_updated, "clinician_updated"},
    {EventType::patient_registered, "patient_registered"},
    {EventType::patient_assigned, "patient_assigned"},
    {EventType::conversation_started, "conversation_started"},
    {EventType::message_appended, "message_appended"},
    {EventType::message_state_changed, "message_state_changed"},
    {EventType::risk_assessed, "risk_assessed"},
    {EventType::flag_opened, "flag_opened"},
    {EventType::flag_acknowledged, "flag_acknowledged"},
    {EventType::flag_annotated, "flag_annotated"},
    {EventType::flag_escalated, "flag_escalated"},
    {EventType::flag_resolved, "flag_resolved"},
    {EventType::crisis_entered, "crisis_entered"},
    {EventType::crisis_cleared, "crisis_cleared"},
    {EventType::ai_paused, "ai_paused"},
    {EventType::ai_resumed, "ai_resumed"},
    {EventType::plan_proposed, "plan_proposed"},
    {EventType::plan_approved, "plan_approved"},
    {EventType::plan_rejected, "plan_rejected"},
    {EventType::assessment_scored, "assessment_scored"},
    {EventType::transcript_viewed, "transcript_viewed"},
    {EventType::clinician_action, "clinician_action"},
    {EventType::llm_failed, "llm_failed"},
    {EventType::assessment_offered, "assessment_offered"},
    {EventType::assessment_progress, "assessment_progress"},
}};

constexpr std::array<std::pair<ActorKind, std::string_view>, 4> actor_kind_names{{
    {ActorKind::patient, "patient"},
    {ActorKind::ai, "ai"},
    {ActorKind::clinician, "clinician"},
    {ActorKind::system, "system"},
}};

nlohmann::json event_object_without_hash(const StoredEvent& e) {
    nlohmann::json actor = {{"kind", to_string(e.actor.kind)}};
    if (e.actor.id) actor["id"] = *e.actor.id;
    nlohmann::json j = {
        {"seq", e.seq},
        {"id", e.id},
        {"type", to_string(e.type)},
        {"time", e.time},
        {"actor", std::move(actor)},
        {"payload", e.payload},
        {"prev_hash", e.prev_hash},
    };
    if (e.patient_id) j["patient_id"] = *e.patient_id;
    return j;
}

Result<std::string> string_field(const nlohmann::json& j, const char* name) {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string()) return fail(ErrorCode::invalid_argument, "must be a string", name);
    return it->get<std::string>();
}

}  // namespace

std::string_view to_string(EventType type) noexcept {
    for (const auto& [t, name] : event_type_names) {
        if (t == type) return name;
    }
    return "clinician_action";
}

std::optional<EventType> parse_event_type(std::string_view name) noexcept {
    for (const auto& [t, n] : event_type_names) {
        if (n == name) return t;
    }
    return std::nullopt;
}

std::string_view to_string(ActorKind kind) noexcept {
    for (const auto& [k, name] : actor_kind_names) {
        if (k == kind) return name;
    }
    return "system";
}

std::optional<ActorKind> parse_actor_kind(std::string_view name) noexcept {
    for (const auto& [k, n] : actor_kind_names) {
        if (n == name) return k;
    }
    return std::nullopt;
}

nlohmann::json to_json(const StoredEvent& event) {
    auto j = event_object_without_hash(event);
    j["hash"] = event.hash;
    return j;
}

Result<StoredEvent> stored_event_from_json(const nlohmann::json& j) {
    if (!j.is_object()) return fail(ErrorCode::parse, "an event must be a JSON object");
    StoredEvent e;
    auto seq = j.find("seq");
    if (seq == j.end() || !seq->is_number_integer()) return fail(ErrorCode::invalid_argument, "must be an integer", "seq");
    e.seq = seq->get<std::int64_t>();
    auto id = string_field(j, "id");
    if (!id) return std::unexpected(id.error());
    e.id = std::move(*id);
    auto type = string_field(j, "type");
    if (!type) return std::unexpected(type.error());
    auto parsed_type = parse_event_type(*type);
    if (!parsed_type) return fail(ErrorCode::invalid_argument, "unknown event type", "type");
    e.type = *parsed_type;
    auto time = string_field(j, "time");
    if (!time) return std::unexpected(time.error());
    e.time = std::move(*time);
    if (auto p = j.find("patient_id"); p != j.end()) {
        if (!p->is_string()) return fail(ErrorCode::invalid_argument, "must be a string", "patient_id");
        e.patient_id = p->get<std::string>();
    }
    auto actor = j.find("actor");
    if (actor == j.end() || !actor->is_object()) return fail(ErrorCode::invalid_argument, "must be an object", "actor");
    auto kind = string_field(*actor, "kind");
    if (!kind) return fail(ErrorCode::invalid_argument, "must be a string", "actor.kind");
    auto parsed_kind = parse_actor_kind(*kind);
    if (!parsed_kind) return fail(ErrorCode::invalid_argument, "unknown actor kind", "actor.kind");
    e.actor.kind = *parsed_kind;
    if (auto a = actor->find("id"); a != actor->end()) {
        if (!a->is_string()) return fail(ErrorCode::invalid_argument, "must be a string", "actor.id");
        e.actor.id = a->get<std::string>();
    }
    auto payload = j.find("payload");
    if (payload == j.end()) return fail(ErrorCode::invalid_argument, "is required", "payload");
    e.payload = *payload;
    auto prev = string_field(j, "prev_hash");
    if (!prev) return std::unexpected(prev.error());
    e.prev_hash = std::move(*prev);
    auto hash = string_field(j, "hash");
    if (!hash) return std::unexpected(hash.error());
    e.hash = std::move(*hash);
    return e;
}

std::string canonical_bytes(const StoredEvent& event) { return canonical_bytes(event, event.payload.dump()); }

std::string canonical_bytes(const StoredEvent& e, std::string_view payload_json) {
    // Assembled by hand in nlohmann's order (std::map: keys sorted bytewise) instead of building a
    // json object, which would deep-copy the payload and dump it a second time. Strings go through
    // nlohmann's own escaping, so the bytes are identical; tests/store/test_event.cpp checks it.
    auto quoted = [](std::string_view s) { return nlohmann::json(s).dump(); };
    std::string out;
    out.reserve(payload_json.size() + 256);
    out += R"({"actor":{)";
    if (e.actor.id) {
        out += R"("id":)";
        out += quoted(*e.actor.id);
        out += ',';
    }
    out += R"("kind":")";
    out += to_string(e.actor.kind);
    out += R"("},"id":)";
    out += quoted(e.id);
    if (e.patient_id) {
        out += R"(,"patient_id":)";
        out += quoted(*e.patient_id);
    }
    out += R"(,"payload":)";
    out += payload_json;
    out += R"(,"prev_hash":)";
    out += quoted(e.prev_hash);
    out += R"(,"seq":)";
    out += std::to_string(e.seq);
    out += R"(,"time":)";
    out += quoted(e.time);
    out += R"(,"type":")";
    out += to_string(e.type);
    out += R"("})";
    return out;
}

std::string event_hash(std::string_view prev_hash_hex, std::string_view canonical) {
    Sha256 h;
    h.update(prev_hash_hex).update(canonical);
    return to_hex(h.finish());
}

}  // namespace tandem
