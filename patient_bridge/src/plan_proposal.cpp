#include "tandem/bridge/plan_proposal.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <stdexcept>

#include "tandem/schema/schema_registry.h"

namespace tandem::bridge {
namespace detail {
extern const std::string_view kPlanTemplatesJson;  // plan_templates.json, embedded at configure time
}
namespace {

using json = nlohmann::json;

constexpr const char* kContentKeys[] = {"presenting_problems", "conditions", "goals", "interventions", "homework",
                                        "checkin_cadence", "assessment_schedule", "safety_plan", "ai_guidance"};
constexpr const char* kSafetyKeys[] = {"warning_signs", "internal_coping", "distraction_people_places",
                                       "people_to_ask", "professionals_and_crisis_lines", "environment_safety"};

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

const json& templates() {
    // Parsed once; a broken embedded file is a build defect, caught by the tests at once.
    static const json t = [] {
        json j = json::parse(detail::kPlanTemplatesJson, nullptr, false);
        if (j.is_discarded() || !j.is_object()) throw std::logic_error("plan_templates.json is not a JSON object");
        return j;
    }();
    return t;
}

std::vector<std::string> crisis_lines(const ProposalInput& in) {
    std::vector<std::string> out;
    for (const auto& r : in.crisis_resources) {
        std::string how = r.kind == "text" ? "text " : (r.kind == "web" ? "" : "call ");
        out.push_back(r.name + " (" + how + r.contact + ")");
    }
    if (out.empty()) out = {"988 Suicide & Crisis Lifeline (call or text 988)", "Emergency services (call 911)"};
    return out;
}

std::string date_after(Date today, int weeks) {
    return format_date(Date(std::chrono::sys_days(today) + std::chrono::days(7 * weeks)));
}

void append_unique(json& list, const json& item) {
    if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

// The first '{' and its matching '}' (string-aware), so prose or a second object after it is
// left out. npos end: the object never closes (a reply cut off by max_tokens).
std::pair<std::size_t, std::size_t> object_span(std::string_view s) {
    const auto begin = s.find('{');
    if (begin == std::string_view::npos) return {begin, begin};
    int depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (std::size_t i = begin; i < s.size(); ++i) {
        const char c = s[i];
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '{') ++depth;
        else if (c == '}' && --depth == 0) return {begin, i + 1};
    }
    return {begin, std::string_view::npos};
}

// Lists of text lose empty entries (the schema wants non-blank text; an empty entry says nothing).
void drop_blank_strings(json& list, const std::string& name, std::vector<std::string>& repairs) {
    if (!list.is_array()) return;
    const auto before = list.size();
    json kept = json::array();
    for (auto& v : list) {
        if (v.is_string() && lower(v.get<std::string>()).find_first_not_of(" \t\r\n") == std::string::npos) continue;
        kept.push_back(std::move(v));
    }
    list = std::move(kept);
    if (list.size() != before) repairs.push_back("dropped blank entries of " + name);
}

void fill_list(json& obj, const char* key, json value, const std::string& where, std::vector<std::string>& repairs) {
    if (obj.contains(key)) return;
    obj[key] = std::move(value);
    repairs.push_back("filled " + where + key);
}

}  // namespace

ChatRequest plan_proposal_request(const ProposalInput& input, int max_tokens) {
    ChatRequest r;
    r.json_mode = true;
    r.max_tokens = max_tokens;
    std::string system =
        "You draft treatment plans for a clinician-supervised mental health service. A licensed therapist reviews, "
        "edits and approves every draft before it is used; nothing you write reaches the patient directly. Draft a "
        "plan from the intake conversation below. Reply with ONE JSON object and nothing else, with exactly these "
        "keys:\n"
        "{\"presenting_problems\": [string], \"conditions\": [string: e.g. \"depression\", \"generalised anxiety\", "
        "\"eating-disorder risk\", or free text], \"goals\": [{\"description\": string, \"measure\": string, "
        "\"target_date\": \"YYYY-MM-DD\"}], \"interventions\": [{\"name\": string, \"how_ai_uses_it\": string}], "
        "\"homework\": [string], \"checkin_cadence\": string, \"assessment_schedule\": [{\"instrument\": \"phq9\" | "
        "\"gad7\", \"week\": integer}], \"safety_plan\": {\"warning_signs\": [string], \"internal_coping\": [string], "
        "\"distraction_people_places\": [string], \"people_to_ask\": [string], \"professionals_and_crisis_lines\": "
        "[string], \"environment_safety\": [string]}, \"ai_guidance\": {\"tone\": string, \"avoid_topics\": [string], "
        "\"escalate_when\": [string]}}\n"
        "Goals are measurable with target dates after today. Interventions are evidence-based (for example "
        "behavioural activation, cognitive restructuring, worry postponement, graded exposure steps, regular eating "
        "for eating-disorder risk) and say how the AI companion should use them in conversation. Schedule PHQ-9 and "
        "GAD-7 at weeks 0, 4 and 8 unless the conversation suggests otherwise. The safety plan follows the "
        "Stanley-Brown model; write \"To complete with the patient: ...\" where the conversation does not say. Never "
        "include medication or dosing advice, or any method or means of self-harm.";
    r.messages.push_back({"system", std::move(system)});
    std::string user = "Today is " + format_date(input.today) + ".\n";
    user += "Registered conditions: ";
    for (std::size_t i = 0; i < input.conditions.size(); ++i) user += (i ? ", " : "") + input.conditions[i];
    if (input.conditions.empty()) user += "none recorded";
    user += ".\nIntake conversation (oldest first):\n";
    for (const auto& t : input.conversation)
        user += (t.role == "patient" ? "Patient: " : (t.role == "ai" ? "Companion: " : "Clinician: ")) + t.text + "\n";
    user += "\nReply with the JSON object only.";
    r.messages.push_back({"user", std::move(user)});
    return r;
}

bool is_refusal(std::string_view reply) {
    // A reply holding a JSON object is judged by the object; only a reply without one can be a
    // refusal. Rejected: scanning every reply for "I can't", which a plan may well quote.
    if (reply.find('{') != std::string_view::npos) return false;
    const std::string t = lower(reply);
    constexpr std::string_view kPhrases[] = {"i can't", "i cannot", "i can not", "i'm unable", "i am unable",
                                             "i won't",  "i will not", "not able to help", "i'm sorry, but",
                                             "as an ai", "i'm not able", "i am not able"};
    return std::any_of(std::begin(kPhrases), std::end(kPhrases),
                       [&](std::string_view p) { return t.find(p) != std::string::npos; });
}

Result<ParsedPlan> parse_plan_reply(std::string_view reply, const ProposalInput& input) {
    if (is_refusal(reply)) return fail(ErrorCode::unavailable, "the model refused to draft a plan");
    ParsedPlan out;
    std::string_view s = reply;
    if (s.find("```") != std::string_view::npos) out.repairs.push_back("removed a code fence");
    const auto [begin, end] = object_span(s);
    if (begin == std::string_view::npos) return fail(ErrorCode::parse, "the reply holds no JSON object");
    if (end == std::string_view::npos) return fail(ErrorCode::parse, "the JSON object is truncated");
    // Prose around the object (not the fence itself, nor its "json" tag) is dropped.
    const auto prose = [](std::string_view part) {
        std::string rest(part);
        for (auto pos = rest.find("```"); pos != std::string::npos; pos = rest.find("```")) {
            rest.erase(pos, 3);
            if (rest.compare(pos, 4, "json") == 0) rest.erase(pos, 4);
        }
        return rest.find_first_not_of(" \t\r\n") != std::string::npos;
    };
    if (prose(s.substr(0, begin)) || prose(s.substr(end))) out.repairs.push_back("removed text around the JSON");
    json j = json::parse(s.substr(begin, end - begin), nullptr, false);
    if (j.is_discarded()) return fail(ErrorCode::parse, "the JSON object is malformed");
    for (const char* wrapper : {"plan", "treatment_plan"}) {
        if (j.size() == 1 && j.contains(wrapper) && j[wrapper].is_object()) {
            j = json(j[wrapper]);
            out.repairs.push_back(std::string("unwrapped \"") + wrapper + "\"");
        }
    }
    json content = json::object();
    for (auto& [key, value] : j.items()) {
        if (std::find_if(std::begin(kContentKeys), std::end(kContentKeys),
                         [&](const char* k) { return key == k; }) != std::end(kContentKeys)) {
            content[key] = value;
        } else {
            out.repairs.push_back("dropped \"" + key + "\"");
        }
    }
    for (const char* key : {"presenting_problems", "conditions", "homework"})
        if (content.contains(key)) drop_blank_strings(content[key], key, out.repairs);
    fill_list(content, "presenting_problems", json::array(), "", out.repairs);
    fill_list(content, "conditions", input.conditions, "", out.repairs);
    fill_list(content, "homework", json::array(), "", out.repairs);
    fill_list(content, "assessment_schedule", templates()["common"]["assessment_schedule"], "", out.repairs);
    if (!content.contains("safety_plan")) {
        out.repairs.push_back("filled safety_plan");
        content["safety_plan"] = json::object();
    }
    if (json& sp = content["safety_plan"]; sp.is_object()) {
        for (const char* key : kSafetyKeys) {
            if (std::string(key) == "professionals_and_crisis_lines")
                fill_list(sp, key, crisis_lines(input), "safety_plan.", out.repairs);
            else
                fill_list(sp, key, json::array(), "safety_plan.", out.repairs);
            drop_blank_strings(sp[key], std::string("safety_plan.") + key, out.repairs);
        }
    }
    if (json& g = content["ai_guidance"]; g.is_object()) {
        fill_list(g, "avoid_topics", json::array(), "ai_guidance.", out.repairs);
        fill_list(g, "escalate_when", templates()["common"]["escalate_when"], "ai_guidance.", out.repairs);
        drop_blank_strings(g["avoid_topics"], "ai_guidance.avoid_topics", out.repairs);
        drop_blank_strings(g["escalate_when"], "ai_guidance.escalate_when", out.repairs);
    } else if (g.is_null()) {
        content.erase("ai_guidance");  // missing: the tone is substance, left for validation to name
    }
    out.content = std::move(content);
    return out;
}

json make_plan_record(const json& content, const PlanMeta& meta) {
    json r = plan_content(content);
    r["id"] = meta.id;
    r["patient_id"] = meta.patient_id;
    r["version"] = meta.version;
    if (meta.based_on_version) r["based_on_version"] = *meta.based_on_version;
    r["status"] = "proposed";
    r["proposer"] = meta.proposer_clinician_id ? json{{"kind", "clinician"}, {"clinician_id", *meta.proposer_clinician_id}}
                                               : json{{"kind", "ai"}};
    r["created_at"] = meta.created_at;
    return r;
}

json plan_content(const json& record) {
    json out = json::object();
    if (!record.is_object()) return out;
    for (const char* key : kContentKeys)
        if (const auto it = record.find(key); it != record.end()) out[key] = *it;
    return out;
}

Result<void> validate_plan_record(const json& record) {
    return SchemaRegistry::builtin().validate("records/treatment_plan", record);
}

std::vector<std::string> inferred_templates(const ProposalInput& input) {
    std::string said;
    for (const auto& t : input.conversation)
        if (t.role == "patient") said += " " + lower(t.text) + " ";
    std::vector<std::string> registered;
    for (const auto& c : input.conditions) registered.push_back(lower(c));
    std::vector<std::string> out;
    for (const auto& t : templates()["templates"]) {
        bool hit = false;
        for (const auto& r : t["registered"])
            for (const auto& c : registered) hit = hit || c.find(r.get<std::string>()) != std::string::npos;
        for (const auto& cue : t["cues"]) hit = hit || said.find(cue.get<std::string>()) != std::string::npos;
        if (hit) out.push_back(t["id"].get<std::string>());
    }
    if (out.empty()) out.push_back("default");
    return out;
}

json offline_plan_content(const ProposalInput& input) {
    const json& all = templates();
    const json& common = all["common"];
    std::vector<const json*> chosen;
    for (const auto& id : inferred_templates(input)) {
        if (id == "default") chosen.push_back(&all["default"]);
        for (const auto& t : all["templates"])
            if (t["id"] == id) chosen.push_back(&t);
    }
    json c = {{"presenting_problems", json::array()}, {"conditions", json::array()}, {"goals", json::array()},
              {"interventions", json::array()}, {"homework", json::array()},
              {"checkin_cadence", common["checkin_cadence"]}, {"assessment_schedule", common["assessment_schedule"]},
              {"safety_plan", common["safety_plan"]},
              {"ai_guidance", {{"tone", common["tone"]}, {"avoid_topics", json::array()}, {"escalate_when", json::array()}}}};
    // Registered conditions keep the clinician's words; templates add what the intake suggested.
    for (const auto& r : input.conditions) append_unique(c["conditions"], r);
    bool tone_set = false;
    for (const json* t : chosen) {
        append_unique(c["presenting_problems"], (*t)["presenting_problem"]);
        const std::string label = (*t)["label"];
        bool named = false;
        for (const auto& existing : c["conditions"]) named = named || lower(existing.get<std::string>()).find(lower(label)) != std::string::npos;
        if (!named && (*t)["id"] != "default") c["conditions"].push_back(label);
        for (const auto& g : (*t)["goals"])
            c["goals"].push_back({{"description", g["description"]}, {"measure", g["measure"]},
                                  {"target_date", date_after(input.today, g["weeks"].get<int>())}});
        for (const auto& i : (*t)["interventions"]) append_unique(c["interventions"], i);
        for (const auto& h : (*t)["homework"]) append_unique(c["homework"], h);
        for (const auto& a : (*t)["avoid_topics"]) append_unique(c["ai_guidance"]["avoid_topics"], a);
        for (const auto& e : (*t)["escalate_when"]) append_unique(c["ai_guidance"]["escalate_when"], e);
        for (const auto& w : (*t)["warning_signs"]) append_unique(c["safety_plan"]["warning_signs"], w);
        // The first (most cautious) template's tone wins: eating-disorder risk is listed first.
        if (!tone_set && t->contains("tone")) {
            c["ai_guidance"]["tone"] = (*t)["tone"];
            tone_set = true;
        }
    }
    for (const auto& e : common["escalate_when"]) append_unique(c["ai_guidance"]["escalate_when"], e);
    for (const auto& line : crisis_lines(input)) append_unique(c["safety_plan"]["professionals_and_crisis_lines"], line);
    return c;
}

}  // namespace tandem::bridge
