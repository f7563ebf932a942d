#include "tandem/domain/json.h"

#include <initializer_list>
#include <limits>

#include "field_path.h"

namespace tandem {
namespace {

using nlohmann::json;
using detail::join;
using detail::problem;

// --- writing ---------------------------------------------------------------------------------

json time_json(Timestamp t) { return format_timestamp(t); }

template <class T, class F>
json list_json(const std::vector<T>& list, F&& each) {
    json out = json::array();
    for (const auto& item : list) out.push_back(each(item));
    return out;
}

json strings_json(const std::vector<std::string>& list) { return json(list); }

template <class E>
json enums_json(const std::vector<E>& list) {
    return list_json(list, [](E e) { return json(std::string(to_string(e))); });
}

template <class T, class F>
void put_optional(json& j, const char* key, const std::optional<T>& value, F&& convert) {
    if (value) j[key] = convert(*value);
}

template <class Tag>
json id_json(const Id<Tag>& id) { return id.str(); }

// Passed to put_optional for optional ids of any kind.
struct IdJson {
    template <class Tag>
    json operator()(const Id<Tag>& id) const { return id.str(); }
};

json text_json(const std::string& text) { return text; }

// --- reading ---------------------------------------------------------------------------------

// An object being read: refuses keys the record does not have, so a misspelt optional field
// is an error instead of silently dropped data.
class Object {
public:
    Object(const json& j, std::string path, std::initializer_list<std::string_view> keys)
        : j_(j), path_(std::move(path)) {
        if (!j.is_object()) {
            problem(ErrorCode::parse, path_, "must be an object");
        }
        for (const auto& [key, value] : j.items()) {
            bool known = false;
            for (auto k : keys) known = known || k == key;
            if (!known) problem(ErrorCode::parse, join(path_, key), "is not a known field");
        }
    }

    const json* find(std::string_view key) const {
        const auto it = j_.find(key);
        return it == j_.end() ? nullptr : &*it;
    }

    const json& need(std::string_view key) const {
        const json* v = find(key);
        if (!v) problem(ErrorCode::parse, at(key), "is required");
        return *v;
    }

    std::string at(std::string_view key) const { return join(path_, key); }

private:
    const json& j_;
    std::string path_;
};

std::string read_string(const json& v, const std::string& field) {
    if (!v.is_string()) problem(ErrorCode::parse, field, "must be a string");
    return v.get<std::string>();
}

int read_int(const json& v, const std::string& field) {
    if (v.is_number_unsigned()) {
        const auto n = v.get<std::uint64_t>();
        if (n > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
            problem(ErrorCode::invalid_argument, field, "is out of range");
        }
        return static_cast<int>(n);
    }
    if (!v.is_number_integer()) problem(ErrorCode::parse, field, "must be an integer");
    const auto n = v.get<std::int64_t>();
    if (n < std::numeric_limits<int>::min() || n > std::numeric_limits<int>::max()) {
        problem(ErrorCode::invalid_argument, field, "is out of range");
    }
    return static_cast<int>(n);
}

std::size_t read_offset(const json& v, const std::string& field) {
    if (v.is_number_unsigned()) return static_cast<std::size_t>(v.get<std::uint64_t>());
    if (v.is_number_integer()) {
        // Built in code (not parsed), a non-negative number may still be stored signed.
        const auto n = v.get<std::int64_t>();
        if (n >= 0) return static_cast<std::size_t>(n);
        problem(ErrorCode::invalid_argument, field, "must not be negative");
    }
    problem(ErrorCode::parse, field, "must be an integer");
}

bool read_bool(const json& v, const std::string& field) {
    if (!v.is_boolean()) problem(ErrorCode::parse, field, "must be true or false");
    return v.get<bool>();
}

Timestamp read_time(const json& v, const std::string& field) {
    auto t = parse_timestamp(read_string(v, field));
    if (!t) problem(ErrorCode::parse, field, t.error().message);
    return *t;
}

Date read_date(const json& v, const std::string& field) {
    auto d = parse_date(read_string(v, field));
    if (!d) problem(ErrorCode::parse, field, d.error().message);
    return *d;
}

template <class IdT>
IdT read_id(const json& v, const std::string& field) {
    auto id = IdT::parse(read_string(v, field));
    if (!id) problem(ErrorCode::invalid_argument, field, id.error().message);
    return *id;
}

std::string read_id_text(const json& v, const std::string& field) {
    std::string text = read_string(v, field);
    if (!is_valid_id(text)) {
        problem(ErrorCode::invalid_argument, field, "must be 1 to 64 characters from [A-Za-z0-9_.-]");
    }
    return text;
}

template <class E>
E read_enum(const json& v, const std::string& field) {
    const auto e = from_string<E>(read_string(v, field));
    if (!e) problem(ErrorCode::invalid_argument, field, "is not a known value");
    return *e;
}

template <class F>
auto read_list(const json& v, const std::string& field, F&& each) {
    if (!v.is_array()) problem(ErrorCode::parse, field, "must be an array");
    std::vector<decltype(each(v, field))> out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) out.push_back(each(v[i], join(field, i)));
    return out;
}

std::vector<std::string> read_strings(const json& v, const std::string& field) {
    return read_list(v, field, read_string);
}

template <class E>
std::vector<E> read_enums(const json& v, const std::string& field) {
    return read_list(v, field, read_enum<E>);
}

template <class F>
auto read_optional(const Object& o, std::string_view key, F&& read)
    -> std::optional<decltype(read(std::declval<const json&>(), std::string{}))> {
    const json* v = o.find(key);
    if (!v) return std::nullopt;
    return read(*v, o.at(key));
}

template <class T, class F>
Result<T> checked(const json& j, F&& read) {
    try {
        T value = read(j);
        if (auto ok = validate(value); !ok) return std::unexpected(ok.error());
        return value;
    } catch (const detail::FieldProblem& p) {
        return fail(p.code, p.message, p.field);
    }
}

// --- records ---------------------------------------------------------------------------------

RiskAssessment read_risk(const json& j, const std::string& path) {
    const Object o(j, path, {"severity", "categories", "cssrs_level", "spans", "rationale",
                             "engine_version", "ruleset_version"});
    RiskAssessment r;
    r.severity = read_enum<Severity>(o.need("severity"), o.at("severity"));
    r.categories = read_enums<RiskCategory>(o.need("categories"), o.at("categories"));
    r.cssrs_level = read_optional(o, "cssrs_level", read_int);
    r.spans = read_list(o.need("spans"), o.at("spans"), [](const json& s, const std::string& at) {
        const Object so(s, at, {"begin", "end", "rule_id", "rationale"});
        EvidenceSpan span;
        span.begin = read_offset(so.need("begin"), so.at("begin"));
        span.end = read_offset(so.need("end"), so.at("end"));
        span.rule_id = read_string(so.need("rule_id"), so.at("rule_id"));
        span.rationale = read_string(so.need("rationale"), so.at("rationale"));
        return span;
    });
    r.rationale = read_string(o.need("rationale"), o.at("rationale"));
    r.engine_version = read_string(o.need("engine_version"), o.at("engine_version"));
    r.ruleset_version = read_string(o.need("ruleset_version"), o.at("ruleset_version"));
    return r;
}

}  // namespace

void to_json(json& j, const RiskAssessment& value) {
    j = json{{"severity", to_string(value.severity)},
             {"categories", enums_json(value.categories)},
             {"spans", list_json(value.spans, [](const EvidenceSpan& s) {
                  return json{{"begin", s.begin}, {"end", s.end}, {"rule_id", s.rule_id},
                              {"rationale", s.rationale}};
              })},
             {"rationale", value.rationale},
             {"engine_version", value.engine_version},
             {"ruleset_version", value.ruleset_version}};
    put_optional(j, "cssrs_level", value.cssrs_level, [](int v) { return json(v); });
}

void to_json(json& j, const Clinic& value) {
    json resources = json::object();
    for (const auto& [locale, list] : value.policy.crisis_resources) {
        resources[locale] = list_json(list, [](const CrisisResource& r) {
            return json{{"name", r.name}, {"contact", r.contact}, {"kind", to_string(r.kind)}};
        });
    }
    j = json{{"id", id_json(value.id)},
             {"name", value.name},
             {"timezone", value.timezone},
             {"policy", json{{"urgent_sla_minutes", value.policy.urgent_sla_minutes},
                             {"second_escalation_minutes", value.policy.second_escalation_minutes},
                             {"idle_lock_minutes", value.policy.idle_lock_minutes},
                             {"crisis_resources", resources}}}};
}

void to_json(json& j, const Clinician& value) {
    j = json{{"id", id_json(value.id)},
             {"clinic_id", id_json(value.clinic_id)},
             {"username", value.username},
             {"display_name", value.display_name},
             {"roles", enums_json(value.roles)},
             {"active", value.active},
             {"created_at", time_json(value.created_at)}};
}

void to_json(json& j, const Patient& value) {
    j = json{{"id", id_json(value.id)},
             {"clinic_id", id_json(value.clinic_id)},
             {"display_name", value.display_name},
             {"conditions", strings_json(value.conditions)},
             {"locale", value.locale},
             {"created_at", time_json(value.created_at)}};
    put_optional(j, "assigned_therapist_id", value.assigned_therapist_id, IdJson{});
}

void to_json(json& j, const Conversation& value) {
    j = json{{"id", id_json(value.id)},
             {"patient_id", id_json(value.patient_id)},
             {"started_at", time_json(value.started_at)}};
    put_optional(j, "ended_at", value.ended_at, time_json);
}

void to_json(json& j, const Message& value) {
    j = json{{"id", id_json(value.id)},
             {"conversation_id", id_json(value.conversation_id)},
             {"patient_id", id_json(value.patient_id)},
             {"sender", to_string(value.sender)},
             {"text", value.text},
             {"state", to_string(value.state)},
             {"created_at", time_json(value.created_at)}};
    put_optional(j, "sender_id", value.sender_id, text_json);
    put_optional(j, "client_msg_id", value.client_msg_id, text_json);
    put_optional(j, "plan_version", value.plan_version, [](int v) { return json(v); });
    put_optional(j, "plan_id", value.plan_id, text_json);
    put_optional(j, "model", value.model, text_json);
    put_optional(j, "risk", value.risk, [](const RiskAssessment& r) { return json(r); });
}

void to_json(json& j, const Flag& value) {
    j = json{{"id", id_json(value.id)},
             {"patient_id", id_json(value.patient_id)},
             {"severity", to_string(value.severity)},
             {"categories", enums_json(value.categories)},
             {"status", to_string(value.status)},
             {"opened_at", time_json(value.opened_at)},
             {"sla_deadline", time_json(value.sla_deadline)},
             {"escalation_level", value.escalation_level},
             {"notes", list_json(value.notes, [](const FlagNote& n) {
                  return json{{"clinician_id", id_json(n.clinician_id)},
                              {"at", time_json(n.at)},
                              {"text", n.text}};
              })}};
    put_optional(j, "conversation_id", value.conversation_id, IdJson{});
    put_optional(j, "message_id", value.message_id, IdJson{});
    put_optional(j, "acknowledged_by", value.acknowledged_by, IdJson{});
    put_optional(j, "acknowledged_at", value.acknowledged_at, time_json);
    put_optional(j, "resolved_by", value.resolved_by, IdJson{});
    put_optional(j, "resolved_at", value.resolved_at, time_json);
    put_optional(j, "resolution", value.resolution, [](const FlagResolution& r) {
        return json{{"risk_real", r.risk_real}, {"note", r.note}};
    });
}

void to_json(json& j, const TreatmentPlan& value) {
    json proposer{{"kind", to_string(value.proposer.kind)}};
    put_optional(proposer, "clinician_id", value.proposer.clinician_id, IdJson{});
    const auto& sp = value.safety_plan;
    j = json{{"id", id_json(value.id)},
             {"patient_id", id_json(value.patient_id)},
             {"version", value.version},
             {"status", to_string(value.status)},
             {"proposer", proposer},
             {"created_at", time_json(value.created_at)},
             {"presenting_problems", strings_json(value.presenting_problems)},
             {"conditions", strings_json(value.conditions)},
             {"goals", list_json(value.goals, [](const PlanGoal& g) {
                  return json{{"description", g.description},
                              {"measure", g.measure},
                              {"target_date", format_date(g.target_date)}};
              })},
             {"interventions", list_json(value.interventions, [](const PlanIntervention& i) {
                  return json{{"name", i.name}, {"how_ai_uses_it", i.how_ai_uses_it}};
              })},
             {"homework", strings_json(value.homework)},
             {"checkin_cadence", value.checkin_cadence},
             {"assessment_schedule", list_json(value.assessment_schedule, [](const ScheduledAssessment& a) {
                  return json{{"instrument", to_string(a.instrument)}, {"week", a.week}};
              })},
             {"safety_plan", json{{"warning_signs", sp.warning_signs},
                                  {"internal_coping", sp.internal_coping},
                                  {"distraction_people_places", sp.distraction_people_places},
                                  {"people_to_ask", sp.people_to_ask},
                                  {"professionals_and_crisis_lines", sp.professionals_and_crisis_lines},
                                  {"environment_safety", sp.environment_safety}}},
             {"ai_guidance", json{{"tone", value.ai_guidance.tone},
                                  {"avoid_topics", value.ai_guidance.avoid_topics},
                                  {"escalate_when", value.ai_guidance.escalate_when}}}};
    put_optional(j, "approver_id", value.approver_id, IdJson{});
    put_optional(j, "reason", value.reason, text_json);
    put_optional(j, "decided_at", value.decided_at, time_json);
}

void to_json(json& j, const Assessment& value) {
    j = json{{"id", id_json(value.id)},
             {"patient_id", id_json(value.patient_id)},
             {"instrument", to_string(value.instrument)},
             {"items", list_json(value.items, [](const std::optional<int>& item) {
                  return item ? json(*item) : json(nullptr);
              })},
             {"administered_at", time_json(value.administered_at)}};
    put_optional(j, "score", value.score, [](int v) { return json(v); });
    put_optional(j, "band", value.band, text_json);
    put_optional(j, "completed_at", value.completed_at, time_json);
    put_optional(j, "conversation_id", value.conversation_id, IdJson{});
    put_optional(j, "requested_by", value.requested_by, text_json);
}

void to_json(json& j, const AuditEvent& value) {
    j = json{{"id", id_json(value.id)},
             {"clinician_id", id_json(value.clinician_id)},
             {"action", value.action},
             {"at", time_json(value.at)},
             {"detail", value.detail}};
    put_optional(j, "patient_id", value.patient_id, IdJson{});
    put_optional(j, "target_id", value.target_id, text_json);
}

// --- reading records -------------------------------------------------------------------------

template <>
Result<RiskAssessment> from_json_checked<RiskAssessment>(const json& j) {
    return checked<RiskAssessment>(j, [](const json& v) { return read_risk(v, ""); });
}

template <>
Result<Clinic> from_json_checked<Clinic>(const json& j) {
    return checked<Clinic>(j, [](const json& v) {
        const Object o(v, "", {"id", "name", "timezone", "policy"});
        Clinic c;
        c.id = read_id<ClinicId>(o.need("id"), o.at("id"));
        c.name = read_string(o.need("name"), o.at("name"));
        c.timezone = read_string(o.need("timezone"), o.at("timezone"));
        const Object p(o.need("policy"), o.at("policy"),
                       {"urgent_sla_minutes", "second_escalation_minutes", "idle_lock_minutes",
                        "crisis_resources"});
        c.policy.urgent_sla_minutes = read_int(p.need("urgent_sla_minutes"), p.at("urgent_sla_minutes"));
        c.policy.second_escalation_minutes =
            read_int(p.need("second_escalation_minutes"), p.at("second_escalation_minutes"));
        c.policy.idle_lock_minutes = read_int(p.need("idle_lock_minutes"), p.at("idle_lock_minutes"));
        const json& resources = p.need("crisis_resources");
        if (!resources.is_object()) problem(ErrorCode::parse, p.at("crisis_resources"), "must be an object");
        for (const auto& [locale, list] : resources.items()) {
            const std::string at = join(p.at("crisis_resources"), locale);
            c.policy.crisis_resources[locale] = read_list(list, at, [](const json& r, const std::string& rat) {
                const Object ro(r, rat, {"name", "contact", "kind"});
                CrisisResource res;
                res.name = read_string(ro.need("name"), ro.at("name"));
                res.contact = read_string(ro.need("contact"), ro.at("contact"));
                res.kind = read_enum<ResourceKind>(ro.need("kind"), ro.at("kind"));
                return res;
            });
        }
        return c;
    });
}

template <>
Result<Clinician> from_json_checked<Clinician>(const json& j) {
    return checked<Clinician>(j, [](const json& v) {
        const Object o(v, "", {"id", "clinic_id", "username", "display_name", "roles", "active", "created_at"});
        Clinician c;
        c.id = read_id<ClinicianId>(o.need("id"), o.at("id"));
        c.clinic_id = read_id<ClinicId>(o.need("clinic_id"), o.at("clinic_id"));
        c.username = read_string(o.need("username"), o.at("username"));
        c.display_name = read_string(o.need("display_name"), o.at("display_name"));
        c.roles = read_enums<ClinicianRole>(o.need("roles"), o.at("roles"));
        c.active = read_bool(o.need("active"), o.at("active"));
        c.created_at = read_time(o.need("created_at"), o.at("created_at"));
        return c;
    });
}

template <>
Result<Patient> from_json_checked<Patient>(const json& j) {
    return checked<Patient>(j, [](const json& v) {
        const Object o(v, "", {"id", "clinic_id", "display_name", "assigned_therapist_id",
                               "conditions", "locale", "created_at"});
        Patient p;
        p.id = read_id<PatientId>(o.need("id"), o.at("id"));
        p.clinic_id = read_id<ClinicId>(o.need("clinic_id"), o.at("clinic_id"));
        p.display_name = read_string(o.need("display_name"), o.at("display_name"));
        p.assigned_therapist_id = read_optional(o, "assigned_therapist_id", read_id<ClinicianId>);
        p.conditions = read_strings(o.need("conditions"), o.at("conditions"));
        p.locale = read_string(o.need("locale"), o.at("locale"));
        p.created_at = read_time(o.need("created_at"), o.at("created_at"));
        return p;
    });
}

template <>
Result<Conversation> from_json_checked<Conversation>(const json& j) {
    return checked<Conversation>(j, [](const json& v) {
        const Object o(v, "", {"id", "patient_id", "started_at", "ended_at"});
        Conversation c;
        c.id = read_id<ConversationId>(o.need("id"), o.at("id"));
        c.patient_id = read_id<PatientId>(o.need("patient_id"), o.at("patient_id"));
        c.started_at = read_time(o.need("started_at"), o.at("started_at"));
        c.ended_at = read_optional(o, "ended_at", read_time);
        return c;
    });
}

template <>
Result<Message> from_json_checked<Message>(const json& j) {
    return checked<Message>(j, [](const json& v) {
        const Object o(v, "", {"id", "conversation_id", "patient_id", "sender", "sender_id", "text",
                               "state", "client_msg_id", "plan_version", "plan_id", "model", "created_at",
                               "risk"});
        Message m;
        m.id = read_id<MessageId>(o.need("id"), o.at("id"));
        m.conversation_id = read_id<ConversationId>(o.need("conversation_id"), o.at("conversation_id"));
        m.patient_id = read_id<PatientId>(o.need("patient_id"), o.at("patient_id"));
        m.sender = read_enum<Sender>(o.need("sender"), o.at("sender"));
        m.sender_id = read_optional(o, "sender_id", read_id_text);
        m.text = read_string(o.need("text"), o.at("text"));
        m.state = read_enum<MessageState>(o.need("state"), o.at("state"));
        m.client_msg_id = read_optional(o, "client_msg_id", read_id_text);
        m.plan_version = read_optional(o, "plan_version", read_int);
        m.plan_id = read_optional(o, "plan_id", read_id_text);
        m.model = read_optional(o, "model", read_string);
        m.created_at = read_time(o.need("created_at"), o.at("created_at"));
        m.risk = read_optional(o, "risk", read_risk);
        return m;
    });
}

template <>
Result<Flag> from_json_checked<Flag>(const json& j) {
    return checked<Flag>(j, [](const json& v) {
        const Object o(v, "", {"id", "patient_id", "conversation_id", "message_id", "severity",
                               "categories", "status", "opened_at", "sla_deadline",
                               "escalation_level", "notes", "acknowledged_by", "acknowledged_at",
                               "resolved_by", "resolved_at", "resolution"});
        Flag f;
        f.id = read_id<FlagId>(o.need("id"), o.at("id"));
        f.patient_id = read_id<PatientId>(o.need("patient_id"), o.at("patient_id"));
        f.conversation_id = read_optional(o, "conversation_id", read_id<ConversationId>);
        f.message_id = read_optional(o, "message_id", read_id<MessageId>);
        f.severity = read_enum<Severity>(o.need("severity"), o.at("severity"));
        f.categories = read_enums<RiskCategory>(o.need("categories"), o.at("categories"));
        f.status = read_enum<FlagStatus>(o.need("status"), o.at("status"));
        f.opened_at = read_time(o.need("opened_at"), o.at("opened_at"));
        f.sla_deadline = read_time(o.need("sla_deadline"), o.at("sla_deadline"));
        f.escalation_level = read_int(o.need("escalation_level"), o.at("escalation_level"));
        f.notes = read_list(o.need("notes"), o.at("notes"), [](const json& n, const std::string& at) {
            const Object no(n, at, {"clinician_id", "at", "text"});
            FlagNote note;
            note.clinician_id = read_id<ClinicianId>(no.need("clinician_id"), no.at("clinician_id"));
            note.at = read_time(no.need("at"), no.at("at"));
            note.text = read_string(no.need("text"), no.at("text"));
            return note;
        });
        f.acknowledged_by = read_optional(o, "acknowledged_by", read_id<ClinicianId>);
        f.acknowledged_at = read_optional(o, "acknowledged_at", read_time);
        f.resolved_by = read_optional(o, "resolved_by", read_id<ClinicianId>);
        f.resolved_at = read_optional(o, "resolved_at", read_time);
        f.resolution = read_optional(o, "resolution", [](const json& r, const std::string& at) {
            const Object ro(r, at, {"risk_real", "note"});
            return FlagResolution{read_bool(ro.need("risk_real"), ro.at("risk_real")),
                                  read_string(ro.need("note"), ro.at("note"))};
        });
        return f;
    });
}

template <>
Result<TreatmentPlan> from_json_checked<TreatmentPlan>(const json& j) {
    return checked<TreatmentPlan>(j, [](const json& v) {
        const Object o(v, "", {"id", "patient_id", "version", "status", "proposer", "approver_id",
                               "reason", "created_at", "decided_at", "presenting_problems",
                               "conditions", "goals", "interventions", "homework",
                               "checkin_cadence", "assessment_schedule", "safety_plan",
                               "ai_guidance"});
        TreatmentPlan p;
        p.id = read_id<PlanId>(o.need("id"), o.at("id"));
        p.patient_id = read_id<PatientId>(o.need("patient_id"), o.at("patient_id"));
        p.version = read_int(o.need("version"), o.at("version"));
        p.status = read_enum<PlanStatus>(o.need("status"), o.at("status"));
        const Object pr(o.need("proposer"), o.at("proposer"), {"kind", "clinician_id"});
        p.proposer.kind = read_enum<ProposerKind>(pr.need("kind"), pr.at("kind"));
        p.proposer.clinician_id = read_optional(pr, "clinician_id", read_id<ClinicianId>);
        p.approver_id = read_optional(o, "approver_id", read_id<ClinicianId>);
        p.reason = read_optional(o, "reason", read_string);
        p.created_at = read_time(o.need("created_at"), o.at("created_at"));
        p.decided_at = read_optional(o, "decided_at", read_time);
        p.presenting_problems = read_strings(o.need("presenting_problems"), o.at("presenting_problems"));
        p.conditions = read_strings(o.need("conditions"), o.at("conditions"));
        p.goals = read_list(o.need("goals"), o.at("goals"), [](const json& g, const std::string& at) {
            const Object go(g, at, {"description", "measure", "target_date"});
            return PlanGoal{read_string(go.need("description"), go.at("description")),
                            read_string(go.need("measure"), go.at("measure")),
                            read_date(go.need("target_date"), go.at("target_date"))};
        });
        p.interventions = read_list(o.need("interventions"), o.at("interventions"),
                                    [](const json& i, const std::string& at) {
            const Object io(i, at, {"name", "how_ai_uses_it"});
            return PlanIntervention{read_string(io.need("name"), io.at("name")),
                                    read_string(io.need("how_ai_uses_it"), io.at("how_ai_uses_it"))};
        });
        p.homework = read_strings(o.need("homework"), o.at("homework"));
        p.checkin_cadence = read_string(o.need("checkin_cadence"), o.at("checkin_cadence"));
        p.assessment_schedule = read_list(o.need("assessment_schedule"), o.at("assessment_schedule"),
                                          [](const json& a, const std::string& at) {
            const Object ao(a, at, {"instrument", "week"});
            return ScheduledAssessment{read_enum<Instrument>(ao.need("instrument"), ao.at("instrument")),
                                       read_int(ao.need("week"), ao.at("week"))};
        });
        const Object sp(o.need("safety_plan"), o.at("safety_plan"),
                        {"warning_signs", "internal_coping", "distraction_people_places",
                         "people_to_ask", "professionals_and_crisis_lines", "environment_safety"});
        auto list = [&sp](std::string_view key) { return read_strings(sp.need(key), sp.at(key)); };
        p.safety_plan.warning_signs = list("warning_signs");
        p.safety_plan.internal_coping = list("internal_coping");
        p.safety_plan.distraction_people_places = list("distraction_people_places");
        p.safety_plan.people_to_ask = list("people_to_ask");
        p.safety_plan.professionals_and_crisis_lines = list("professionals_and_crisis_lines");
        p.safety_plan.environment_safety = list("environment_safety");
        const Object ag(o.need("ai_guidance"), o.at("ai_guidance"), {"tone", "avoid_topics", "escalate_when"});
        p.ai_guidance.tone = read_string(ag.need("tone"), ag.at("tone"));
        p.ai_guidance.avoid_topics = read_strings(ag.need("avoid_topics"), ag.at("avoid_topics"));
        p.ai_guidance.escalate_when = read_strings(ag.need("escalate_when"), ag.at("escalate_when"));
        return p;
    });
}

template <>
Result<Assessment> from_json_checked<Assessment>(const json& j) {
    return checked<Assessment>(j, [](const json& v) {
        const Object o(v, "", {"id", "patient_id", "instrument", "items", "score", "band",
                               "administered_at", "completed_at", "conversation_id", "requested_by"});
        Assessment a;
        a.id = read_id<AssessmentId>(o.need("id"), o.at("id"));
        a.patient_id = read_id<PatientId>(o.need("patient_id"), o.at("patient_id"));
        a.instrument = read_enum<Instrument>(o.need("instrument"), o.at("instrument"));
        a.items = read_list(o.need("items"), o.at("items"), [](const json& item, const std::string& at) {
            return item.is_null() ? std::optional<int>{} : std::optional<int>{read_int(item, at)};
        });
        a.score = read_optional(o, "score", read_int);
        a.band = read_optional(o, "band", read_string);
        a.administered_at = read_time(o.need("administered_at"), o.at("administered_at"));
        a.completed_at = read_optional(o, "completed_at", read_time);
        a.conversation_id = read_optional(o, "conversation_id", read_id<ConversationId>);
        a.requested_by = read_optional(o, "requested_by", read_string);
        return a;
    });
}

template <>
Result<AuditEvent> from_json_checked<AuditEvent>(const json& j) {
    return checked<AuditEvent>(j, [](const json& v) {
        const Object o(v, "", {"id", "clinician_id", "action", "patient_id", "target_id", "at", "detail"});
        AuditEvent e;
        e.id = read_id<EventId>(o.need("id"), o.at("id"));
        e.clinician_id = read_id<ClinicianId>(o.need("clinician_id"), o.at("clinician_id"));
        e.action = read_string(o.need("action"), o.at("action"));
        e.patient_id = read_optional(o, "patient_id", read_id<PatientId>);
        e.target_id = read_optional(o, "target_id", read_id_text);
        e.at = read_time(o.need("at"), o.at("at"));
        e.detail = read_string(o.need("detail"), o.at("detail"));
        return e;
    });
}

}  // namespace tandem
