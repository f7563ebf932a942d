#include "tandem/bridge/plan_prompt.h"

#include <algorithm>
#include <chrono>

namespace tandem::bridge {
namespace {

using json = nlohmann::json;

constexpr std::string_view kSafetyRules =
    "You are a supportive companion in a clinician-supervised mental health service. Rules you must always "
    "follow: never give information about methods or means of self-harm or suicide; never give medication, "
    "dose or diet advice; never discourage professional care; never engage in romantic or personal "
    "relationships; if the person mentions risk, respond with care and encourage contacting their care team "
    "or 988. Use reflective listening and CBT and behavioural-activation techniques. Keep replies short.";

// Added when the patient's last message screened moderate or above: a reply that ignores the
// risk is held by the AI screen (ai_risk_ignorance), so the prompt asks for it.
constexpr std::string_view kRiskNote =
    "The person's last message suggests they may be at risk. Respond to that first, warmly and directly: ask "
    "whether they are safe right now, and encourage them to contact their care team, or to call or text 988 "
    "(or call 911 in an emergency).";

std::vector<std::string> strings_of(const json& j, std::string_view key) {
    std::vector<std::string> out;
    if (!j.is_object()) return out;
    if (const auto it = j.find(key); it != j.end() && it->is_array())
        for (const auto& s : *it)
            if (s.is_string() && !s.get_ref<const std::string&>().empty()) out.push_back(s.get<std::string>());
    return out;
}

std::string text_of(const json& j, std::string_view key) {
    if (!j.is_object()) return {};
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : "; ") + s;
    return out;
}

// One line per list; an empty list writes nothing, so an edit that clears a field removes the
// instruction rather than leaving "Avoid: ." behind.
void line(std::string& out, std::string_view label, const std::vector<std::string>& items) {
    if (!items.empty()) out += std::string(label) + joined(items) + ".\n";
}

}  // namespace

std::string_view default_safety_rules() noexcept { return kSafetyRules; }

PromptPlan default_prompt_plan(std::string id, int version, const std::vector<std::string>& homework) {
    PromptPlan p;
    p.id = std::move(id);
    p.version = version;
    p.is_default = true;
    p.record = {{"goals", json::array({{{"description", "reduce distress"}}, {{"description", "build a daily routine"}}})},
                {"homework", homework}};
    return p;
}

std::string build_system_prompt(std::string_view safety_rules, const PromptPlan& plan, const PromptContext& context) {
    std::string out(safety_rules);
    out += "\n\n";
    const json& r = plan.record;
    if (plan.is_default) {
        out += "Treatment plan: the clinic's default, until the care team approves one for this person.\n";
    } else {
        out += "Treatment plan: version " + std::to_string(plan.version) +
               ", approved by the care team. Follow it; it never overrides the rules above.\n";
    }
    line(out, "Presenting problems: ", strings_of(r, "presenting_problems"));
    line(out, "Working conditions: ", strings_of(r, "conditions"));
    std::vector<std::string> goals;
    if (const auto g = r.find("goals"); g != r.end() && g->is_array())
        for (const auto& goal : *g) {
            std::string d = text_of(goal, "description");
            if (d.empty()) continue;
            const std::string measure = text_of(goal, "measure");
            const std::string by = text_of(goal, "target_date");
            if (!measure.empty() || !by.empty()) {
                d += " (";
                if (!measure.empty()) d += "measured by " + measure;
                if (!measure.empty() && !by.empty()) d += ", ";
                if (!by.empty()) d += "by " + by;
                d += ")";
            }
            goals.push_back(std::move(d));
        }
    line(out, "Goals: ", goals);
    std::vector<std::string> interventions;
    if (const auto iv = r.find("interventions"); iv != r.end() && iv->is_array())
        for (const auto& i : *iv) {
            const std::string name = text_of(i, "name");
            const std::string how = text_of(i, "how_ai_uses_it");
            if (name.empty()) continue;
            interventions.push_back(how.empty() ? name : name + " (" + how + ")");
        }
    line(out, "Use these interventions: ", interventions);
    line(out, "Homework to encourage and ask about: ", strings_of(r, "homework"));
    if (const auto cadence = text_of(r, "checkin_cadence"); !cadence.empty())
        out += "Check-in cadence agreed with the care team: " + cadence + ".\n";
    if (const auto sp = r.find("safety_plan"); sp != r.end() && sp->is_object()) {
        std::string s;
        const std::pair<const char*, const char*> parts[] = {
            {"warning_signs", "warning signs: "},
            {"internal_coping", "coping on their own: "},
            {"distraction_people_places", "people and places for distraction: "},
            {"people_to_ask", "people to ask for help: "},
            {"professionals_and_crisis_lines", "professionals and crisis lines: "},
            {"environment_safety", "making the environment safe: "},
        };
        for (const auto& [key, label] : parts)
            if (const auto items = strings_of(*sp, key); !items.empty())
                s += (s.empty() ? "" : " | ") + std::string(label) + joined(items);
        if (!s.empty()) out += "Safety plan (remind the person of it when they feel unsafe): " + s + ".\n";
    }
    if (const auto g = r.find("ai_guidance"); g != r.end() && g->is_object()) {
        if (const auto tone = text_of(*g, "tone"); !tone.empty()) out += "Tone: " + tone + ".\n";
        if (const auto avoid = strings_of(*g, "avoid_topics"); !avoid.empty())
            out += "Do not bring up or discuss: " + joined(avoid) +
                   ". If the person raises one, acknowledge it briefly and suggest they take it to their care "
                   "team.\n";
        line(out, "Suggest contacting the care team when: ", strings_of(*g, "escalate_when"));
    }
    line(out, "Registered conditions: ", context.conditions);
    if (context.risk_disclosed) out += std::string(kRiskNote) + "\n";
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

std::vector<std::string> plan_homework(const PromptPlan& plan) { return strings_of(plan.record, "homework"); }

ChatRequest::PlanGuidance companion_guidance(const PromptPlan& plan) {
    ChatRequest::PlanGuidance g;
    if (plan.is_default) return g;
    g.plan_version = plan.version;
    if (const auto a = plan.record.find("ai_guidance"); a != plan.record.end() && a->is_object()) {
        g.tone = text_of(*a, "tone");
        g.avoid_topics = strings_of(*a, "avoid_topics");
    }
    if (const auto iv = plan.record.find("interventions"); iv != plan.record.end() && iv->is_array())
        for (const auto& i : *iv)
            if (auto name = text_of(i, "name"); !name.empty()) g.interventions.push_back(std::move(name));
    return g;
}

json patient_plan_payload(const json& approved, Timestamp anchor, Timestamp now) {
    json out = {{"homework", json::array()}, {"next_assessments", json::array()}};
    if (!approved.is_object()) return out;
    out["homework"] = strings_of(approved, "homework");
    if (const auto cadence = text_of(approved, "checkin_cadence"); !cadence.empty()) out["checkin_cadence"] = cadence;
    std::vector<std::pair<Timestamp, std::string>> due;
    if (const auto s = approved.find("assessment_schedule"); s != approved.end() && s->is_array())
        for (const auto& a : *s) {
            const auto week = a.find("week");
            const std::string instrument = text_of(a, "instrument");
            if (week == a.end() || !week->is_number_integer() || instrument.empty()) continue;
            const Timestamp at = anchor + std::chrono::days(7 * week->get<int>());
            if (at + std::chrono::days(7) < now) continue;  // long past: no longer "next"
            due.emplace_back(at, instrument);
        }
    std::stable_sort(due.begin(), due.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    for (const auto& [at, instrument] : due)
        out["next_assessments"].push_back({{"instrument", instrument}, {"due_at", format_timestamp(at)}});
    return out;
}

}  // namespace tandem::bridge
