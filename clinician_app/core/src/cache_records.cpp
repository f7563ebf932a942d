#include "cache_records.h"

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace tandem::clinician::cache_records {

using nlohmann::json;

json risk_json(const RiskAssessment& r) {
    json spans = json::array();
    for (const auto& s : r.spans) {
        spans.push_back({{"begin", s.begin}, {"end", s.end}, {"rule_id", s.rule_id}, {"rationale", s.rationale}});
    }
    json cats = json::array();
    for (auto c : r.categories) cats.push_back(std::string(to_string(c)));
    json out{{"severity", std::string(to_string(r.severity))}, {"categories", std::move(cats)}, {"spans", std::move(spans)},
             {"rationale", r.rationale}, {"engine_version", r.engine_version}, {"ruleset_version", r.ruleset_version}};
    if (r.cssrs_level) out["cssrs_level"] = *r.cssrs_level;
    return out;
}

json roles_json(const std::vector<Role>& roles) {
    json out = json::array();
    for (auto r : roles) out.push_back(std::string(to_string(r)));
    return out;
}

std::vector<Role> roles_of(const std::string& text) {
    std::vector<Role> out;
    const json j = json::parse(text, nullptr, false);
    if (!j.is_array()) return out;
    for (const auto& r : j) {
        if (r.is_string()) {
            if (auto role = parse_role(r.get_ref<const std::string&>())) out.push_back(*role);
        }
    }
    return out;
}

json clinician_json(const ClinicianInfo& c) {
    return {{"id", c.id}, {"username", c.username}, {"display_name", c.display_name}, {"roles", roles_json(c.roles)},
            {"active", c.active}};
}

json policy_json(const ClinicPolicy& p) {
    return {{"urgent_sla_minutes", p.urgent_sla_minutes},
            {"second_escalation_minutes", p.second_escalation_minutes},
            {"idle_lock_minutes", p.idle_lock_minutes}};
}

std::vector<std::string> conditions_of(const std::string& text) {
    std::vector<std::string> out;
    const json conditions = json::parse(text, nullptr, false);
    if (conditions.is_array()) {
        for (const auto& c : conditions) {
            if (c.is_string()) out.push_back(c.get<std::string>());
        }
    }
    return out;
}

// One JSON column rather than thirty: plans are few and always read whole.
json plan_record(const PlanVersion& v) {
    json r = plan_content_json(v.content);
    r["id"] = v.id;
    r["patient_id"] = v.patient_id;
    r["version"] = v.version;
    r["status"] = std::string(to_string(v.status));
    r["proposer"] = v.proposed_by_ai ? json{{"kind", "ai"}} : json{{"kind", "clinician"}, {"clinician_id", v.proposer_id}};
    if (!v.approver_id.empty()) r["approver_id"] = v.approver_id;
    if (!v.reason.empty()) r["reason"] = v.reason;
    r["created_at"] = format_utc(v.created_at);
    if (v.decided_at) r["decided_at"] = format_utc(*v.decided_at);
    if (v.based_on_version) r["based_on_version"] = *v.based_on_version;
    return r;
}

// Not a JSON array: 40,000 questionnaires load without a JSON parse each (measured: JSON
// arrays cost a fifth of the launch at that size).
std::string items_text(const std::vector<std::optional<int>>& items) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += ',';
        if (items[i]) out += std::to_string(*items[i]);
    }
    return out;
}

std::vector<std::optional<int>> items_of(const std::string& text) {
    std::vector<std::optional<int>> out;
    if (text.empty()) return out;
    std::size_t start = 0;
    while (true) {
        const auto end = text.find(',', start);
        const std::string_view part = std::string_view(text).substr(start, end == std::string::npos ? end : end - start);
        if (part.empty()) out.emplace_back(std::nullopt);
        else out.emplace_back(std::atoi(std::string(part).c_str()));
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return out;
}

// Not a JSON array either: no JSON parse for 50,000 flag rows at launch.
std::string categories_text(const std::vector<RiskCategory>& categories) {
    std::string cats;
    for (auto c : categories) {
        if (!cats.empty()) cats += ' ';
        cats += to_string(c);
    }
    return cats;
}

std::vector<RiskCategory> categories_of(const std::string& cats) {
    std::vector<RiskCategory> out;
    std::size_t start = 0;
    while (start < cats.size()) {
        auto end = cats.find(' ', start);
        if (end == std::string::npos) end = cats.size();
        if (auto c = parse_risk_category(std::string_view(cats).substr(start, end - start))) out.push_back(*c);
        start = end + 1;
    }
    return out;
}

json notes_json(const std::vector<FlagNote>& notes) {
    json out = json::array();
    for (const auto& n : notes) {
        out.push_back({{"clinician_id", n.clinician_id}, {"at", n.at.time_since_epoch().count()}, {"text", n.text}});
    }
    return out;
}

std::vector<FlagNote> notes_of(const std::string& text) {
    std::vector<FlagNote> out;
    const json notes = json::parse(text, nullptr, false);
    if (!notes.is_array()) return out;
    // find() rather than value(): g++ 12 at -O2 reports value()'s inlined string read as a
    // possible null dereference here (a false positive), and a field of the wrong type reads as
    // missing instead of throwing out of the cache's load.
    const auto text_of = [](const json& o, const char* key) {
        const auto it = o.find(key);
        return it != o.end() && it->is_string() ? it->get_ref<const std::string&>() : std::string{};
    };
    for (const auto& n : notes) {
        if (!n.is_object()) continue;
        const auto at = n.find("at");
        const std::int64_t ms = at != n.end() && at->is_number_integer() ? at->get<std::int64_t>() : 0;
        out.push_back(FlagNote{text_of(n, "clinician_id"), TimePoint{std::chrono::milliseconds{ms}}, text_of(n, "text")});
    }
    return out;
}

}  // namespace tandem::clinician::cache_records
