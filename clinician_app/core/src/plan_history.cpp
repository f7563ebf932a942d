#include "tandem/clinician/plan_history.h"
#include "tandem/clinician/json_fields.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace tandem::clinician {
namespace {

using nlohmann::json;

struct ListInfo {
    PlanList list;
    const char* parent;  // nullptr: top level; else the nested object on the wire
    std::string_view key;
    std::string_view label;
};

constexpr std::array<ListInfo, kPlanListCount> kListInfo{{
    {PlanList::presenting_problems, nullptr, "presenting_problems", "Presenting problems"},
    {PlanList::conditions, nullptr, "conditions", "Conditions"},
    {PlanList::homework, nullptr, "homework", "Homework"},
    {PlanList::warning_signs, "safety_plan", "warning_signs", "Safety plan: warning signs"},
    {PlanList::internal_coping, "safety_plan", "internal_coping", "Safety plan: internal coping"},
    {PlanList::distraction_people_places, "safety_plan", "distraction_people_places",
     "Safety plan: people and places for distraction"},
    {PlanList::people_to_ask, "safety_plan", "people_to_ask", "Safety plan: people to ask for help"},
    {PlanList::professionals_and_crisis_lines, "safety_plan", "professionals_and_crisis_lines",
     "Safety plan: professionals and crisis lines"},
    {PlanList::environment_safety, "safety_plan", "environment_safety", "Safety plan: making the environment safe"},
    {PlanList::avoid_topics, "ai_guidance", "avoid_topics", "AI guidance: topics to avoid"},
    {PlanList::escalate_when, "ai_guidance", "escalate_when", "AI guidance: escalate when"},
}};

const ListInfo& info(PlanList list) { return kListInfo[static_cast<std::size_t>(list)]; }

std::vector<std::string> strings(const json& object, std::string_view key) {
    std::vector<std::string> out;
    const auto it = object.find(key);
    if (it == object.end() || !it->is_array()) return out;
    for (const auto& s : *it) {
        if (s.is_string()) out.push_back(s.get<std::string>());
    }
    return out;
}

const json& object_at(const json& object, const char* key) {
    static const json empty = json::object();
    const auto it = object.find(key);
    return it != object.end() && it->is_object() ? *it : empty;
}

}  // namespace

std::string_view to_string(PlanState state) noexcept {
    switch (state) {
        case PlanState::proposed: return "proposed";
        case PlanState::approved: return "approved";
        case PlanState::rejected: return "rejected";
        case PlanState::superseded: return "superseded";
    }
    return "unknown";
}

std::optional<PlanState> parse_plan_state(std::string_view name) noexcept {
    for (auto s : {PlanState::proposed, PlanState::approved, PlanState::rejected, PlanState::superseded}) {
        if (to_string(s) == name) return s;
    }
    return std::nullopt;
}

std::string_view wire_name(PlanList list) noexcept { return info(list).key; }
std::string_view label(PlanList list) noexcept { return info(list).label; }

PlanContent parse_plan_content(const json& p) {
    PlanContent c;
    if (!p.is_object()) return c;
    for (const auto& li : kListInfo) {
        c.list(li.list) = strings(li.parent == nullptr ? p : object_at(p, li.parent), li.key);
    }
    if (const auto goals = p.find("goals"); goals != p.end() && goals->is_array()) {
        for (const auto& g : *goals) {
            if (g.is_object()) c.goals.push_back({str(g, "description"), str(g, "measure"), str(g, "target_date")});
        }
    }
    if (const auto iv = p.find("interventions"); iv != p.end() && iv->is_array()) {
        for (const auto& i : *iv) {
            if (i.is_object()) c.interventions.push_back({str(i, "name"), str(i, "how_ai_uses_it")});
        }
    }
    if (const auto sched = p.find("assessment_schedule"); sched != p.end() && sched->is_array()) {
        for (const auto& a : *sched) {
            if (!a.is_object()) continue;
            const auto week = a.find("week");
            c.assessment_schedule.push_back(
                {str(a, "instrument"), week != a.end() && week->is_number_integer() ? week->get<int>() : 0});
        }
    }
    c.checkin_cadence = str(p, "checkin_cadence");
    c.tone = str(object_at(p, "ai_guidance"), "tone");
    return c;
}

json plan_content_json(const PlanContent& c) {
    json out = json::object();
    json safety = json::object();
    json guidance = json::object();
    for (const auto& li : kListInfo) {
        json& into = li.parent == nullptr ? out : (std::string_view(li.parent) == "safety_plan" ? safety : guidance);
        into[std::string(li.key)] = c.list(li.list);
    }
    json goals = json::array();
    for (const auto& g : c.goals) {
        goals.push_back({{"description", g.description}, {"measure", g.measure}, {"target_date", g.target_date}});
    }
    json interventions = json::array();
    for (const auto& i : c.interventions) {
        interventions.push_back({{"name", i.name}, {"how_ai_uses_it", i.how_ai_uses_it}});
    }
    json schedule = json::array();
    for (const auto& a : c.assessment_schedule) schedule.push_back({{"instrument", a.instrument}, {"week", a.week}});
    out["goals"] = std::move(goals);
    out["interventions"] = std::move(interventions);
    out["checkin_cadence"] = c.checkin_cadence;
    out["assessment_schedule"] = std::move(schedule);
    guidance["tone"] = c.tone;
    out["safety_plan"] = std::move(safety);
    out["ai_guidance"] = std::move(guidance);
    return out;
}

Result<PlanVersion> parse_plan(const json& p) {
    if (!p.is_object()) return fail(ErrorCode::schema, "treatment plan is not an object");
    PlanVersion v;
    v.id = str(p, "id");
    if (v.id.empty()) return fail(ErrorCode::schema, "treatment plan without id", "/id");
    v.patient_id = str(p, "patient_id");
    const auto version = p.find("version");
    if (version == p.end() || !version->is_number_integer() || version->get<int>() < 1) {
        return fail(ErrorCode::schema, "treatment plan without a version", "/version");
    }
    v.version = version->get<int>();
    v.status = parse_plan_state(str(p, "status")).value_or(PlanState::proposed);
    const json& proposer = object_at(p, "proposer");
    v.proposed_by_ai = str(proposer, "kind") != "clinician";
    v.proposer_id = str(proposer, "clinician_id");
    v.approver_id = str(p, "approver_id");
    v.reason = str(p, "reason");
    v.created_at = parse_utc(str(p, "created_at")).value_or(TimePoint{});
    v.decided_at = parse_utc(str(p, "decided_at"));
    if (const auto based = p.find("based_on_version"); based != p.end() && based->is_number_integer()) {
        v.based_on_version = based->get<int>();
    }
    v.content = parse_plan_content(p);
    return v;
}

std::string fetch_plans_frame(const std::string& patient_id, const std::string& envelope_id, TimePoint now) {
    return json{{"type", "fetch_plans"}, {"id", envelope_id}, {"time", format_utc(now)},
                {"payload", {{"patient_id", patient_id}}}}
        .dump();
}

std::optional<PlansReply> read_plans_frame(std::string_view text) {
    // Every frame from the bridge passes here first; the JSON string "plans" cannot occur in any
    // other frame except inside an escaped text (where its quotes are backslashed), so the
    // backlog's event frames are not parsed twice.
    if (text.find("\"plans\"") == std::string_view::npos) return std::nullopt;
    const json frame = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!frame.is_object() || str(frame, "type") != "plans") return std::nullopt;
    const json& payload = object_at(frame, "payload");
    PlansReply out;
    out.patient_id = str(payload, "patient_id");
    if (const auto plans = payload.find("plans"); plans != payload.end() && plans->is_array()) {
        for (const auto& p : *plans) {
            if (auto v = parse_plan(p)) out.plans.push_back(std::move(*v));
        }
    }
    if (out.patient_id.empty() && !out.plans.empty()) out.patient_id = out.plans.front().patient_id;
    return out;
}

bool PlanBook::apply(const std::string& type, const std::string& patient_id, const std::string& actor_id,
                     TimePoint time, const json& payload) {
    if (type == "plan_proposed") {
        auto plan = parse_plan(payload);
        if (!plan) return false;
        if (plan->patient_id.empty()) plan->patient_id = patient_id;
        if (plan->patient_id.empty()) return false;
        // A version written and approved in one step may arrive already approved.
        const bool approved = plan->status == PlanState::approved;
        const auto pid = plan->patient_id;
        const int number = plan->version;
        upsert(std::move(*plan));
        if (approved) supersede_others(pid, number);
        return true;
    }
    if (type == "plan_approved" || type == "plan_rejected") {
        PlanVersion* plan = find_mutable(str(payload, "plan_id"));
        if (plan == nullptr) return false;  // a decision on a version we never saw: a fetch brings it
        plan->status = type == "plan_approved" ? PlanState::approved : PlanState::rejected;
        plan->approver_id = str(payload, "approver_id");
        if (plan->approver_id.empty()) plan->approver_id = actor_id;
        plan->decided_at = parse_utc(str(payload, "decided_at")).value_or(time);
        if (payload.contains("reason")) plan->reason = str(payload, "reason");
        if (plan->status == PlanState::approved) supersede_others(plan->patient_id, plan->version);
        changed_.insert(plan->patient_id);
        ++revision_;
        return true;
    }
    if (type == "llm_failed") {
        if (str(payload, "purpose") != "plan_proposal") return false;
        std::string pid = patient_id.empty() ? str(payload, "patient_id") : patient_id;
        if (pid.empty()) return false;
        failures_[pid] = PlanFailure{time, str(payload, "reason")};
        ++revision_;
        return true;
    }
    return false;
}

void PlanBook::replace(const std::string& patient_id, std::vector<PlanVersion> versions) {
    if (patient_id.empty()) return;
    auto& mine = by_patient_[patient_id];
    for (const auto& [number, v] : mine) by_id_.erase(v.id);
    mine.clear();
    for (auto& v : versions) {
        if (v.patient_id.empty()) v.patient_id = patient_id;
        if (v.patient_id != patient_id) continue;
        upsert(std::move(v));
    }
    changed_.insert(patient_id);  // even an empty reply: the cache must forget the old versions
    ++revision_;
}

void PlanBook::restore(PlanVersion version) {
    if (version.id.empty() || version.patient_id.empty()) return;
    const std::string pid = version.patient_id;
    upsert(std::move(version));
    changed_.erase(pid);
}

std::set<std::string> PlanBook::take_changed() {
    std::set<std::string> out;
    out.swap(changed_);
    return out;
}

void PlanBook::upsert(PlanVersion version) {
    const std::string pid = version.patient_id;
    const int number = version.version;
    auto& slot = by_patient_[pid][number];
    // Versions are never reused, but a replayed event must not leave a stale id behind.
    if (!slot.id.empty() && slot.id != version.id) by_id_.erase(slot.id);
    by_id_[version.id] = {pid, number};
    slot = std::move(version);
    changed_.insert(pid);
    ++revision_;
}

void PlanBook::supersede_others(const std::string& patient_id, int approved_version) {
    for (auto& [number, v] : by_patient_[patient_id]) {
        if (number != approved_version && v.status == PlanState::approved) v.status = PlanState::superseded;
    }
}

PlanVersion* PlanBook::find_mutable(const std::string& plan_id) {
    const auto it = by_id_.find(plan_id);
    if (it == by_id_.end()) return nullptr;
    auto& versions = by_patient_[it->second.first];
    const auto v = versions.find(it->second.second);
    return v == versions.end() ? nullptr : &v->second;
}

const PlanVersion* PlanBook::find(const std::string& plan_id) const {
    return const_cast<PlanBook*>(this)->find_mutable(plan_id);
}

std::vector<const PlanVersion*> PlanBook::history(const std::string& patient_id) const {
    std::vector<const PlanVersion*> out;
    const auto it = by_patient_.find(patient_id);
    if (it == by_patient_.end()) return out;
    for (const auto& [number, v] : it->second) out.push_back(&v);
    return out;
}

std::vector<std::string> PlanBook::patients() const {
    std::vector<std::string> out;
    for (const auto& [pid, versions] : by_patient_) {
        if (!versions.empty()) out.push_back(pid);
    }
    return out;
}

const PlanVersion* PlanBook::active(const std::string& patient_id) const {
    const auto h = history(patient_id);
    for (auto it = h.rbegin(); it != h.rend(); ++it) {
        if ((*it)->status == PlanState::approved) return *it;
    }
    return nullptr;
}

const PlanVersion* PlanBook::awaiting_review(const std::string& patient_id) const {
    const auto h = history(patient_id);
    for (auto it = h.rbegin(); it != h.rend(); ++it) {
        if ((*it)->status == PlanState::proposed) return *it;
    }
    return nullptr;
}

std::size_t PlanBook::awaiting_count(const std::string& patient_id) const {
    const auto h = history(patient_id);
    return static_cast<std::size_t>(
        std::count_if(h.begin(), h.end(), [](const PlanVersion* v) { return v->status == PlanState::proposed; }));
}

std::optional<PlanFailure> PlanBook::last_failure(const std::string& patient_id) const {
    const auto it = failures_.find(patient_id);
    if (it == failures_.end()) return std::nullopt;
    for (const auto* v : history(patient_id)) {
        if (v->created_at >= it->second.at) return std::nullopt;  // a later proposal succeeded
    }
    return it->second;
}

}  // namespace tandem::clinician
