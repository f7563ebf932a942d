#include "tandem/clinician/plan_diff.h"

#include <functional>
#include <optional>

namespace tandem::clinician {
namespace {

std::string trimmed(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

std::string instrument_label(const std::string& id) {
    if (id == "phq9") return "PHQ-9";
    if (id == "gad7") return "GAD-7";
    if (id == "cssrs_screener") return "C-SSRS screener";
    if (id == "wai_sr") return "WAI-SR";
    return id;
}

// Matches entries of two lists by key, then (when `pair_leftovers`) pairs what is left in order
// as changed. Matching by key rather than by position keeps a reordered list from reading as
// all-changed; pairing leftovers makes an edited goal read as one change, not a removal and an
// addition.
template <class T>
void diff_items(std::vector<PlanDiffRow>& out, const std::string& section, const std::vector<T>& active,
                const std::vector<T>& proposal, const std::function<std::string(const T&)>& key,
                const std::function<std::string(const T&)>& text,
                const std::function<std::string(const T&, const T&)>& detail, bool pair_leftovers) {
    std::vector<bool> used(active.size(), false);
    std::vector<std::optional<std::size_t>> match(proposal.size());
    for (std::size_t i = 0; i < proposal.size(); ++i) {
        const std::string k = key(proposal[i]);
        for (std::size_t j = 0; j < active.size(); ++j) {
            if (!used[j] && key(active[j]) == k) {
                used[j] = true;
                match[i] = j;
                break;
            }
        }
    }
    std::vector<std::size_t> left_active;
    for (std::size_t j = 0; j < active.size(); ++j) {
        if (!used[j]) left_active.push_back(j);
    }
    std::size_t next_left = 0;
    for (std::size_t i = 0; i < proposal.size(); ++i) {
        PlanDiffRow row{section, DiffKind::added, {}, text(proposal[i]), {}};
        if (match[i]) {
            const T& a = active[*match[i]];
            row.active = text(a);
            row.detail = detail ? detail(a, proposal[i]) : std::string{};
            row.kind = row.detail.empty() ? DiffKind::same : DiffKind::changed;
        } else if (pair_leftovers && next_left < left_active.size()) {
            const T& a = active[left_active[next_left++]];
            row.active = text(a);
            row.detail = detail ? detail(a, proposal[i]) : std::string{};
            row.kind = DiffKind::changed;
        }
        out.push_back(std::move(row));
    }
    for (; next_left < left_active.size(); ++next_left) {
        out.push_back(PlanDiffRow{section, DiffKind::removed, text(active[left_active[next_left]]), {}, {}});
    }
}

void diff_list(std::vector<PlanDiffRow>& out, const std::string& section, const std::vector<std::string>& active,
               const std::vector<std::string>& proposal) {
    diff_items<std::string>(out, section, active, proposal, [](const std::string& s) { return trimmed(s); },
                            [](const std::string& s) { return trimmed(s); }, {}, false);
}

void diff_text(std::vector<PlanDiffRow>& out, const std::string& section, const std::string& active,
               const std::string& proposal) {
    const std::string a = trimmed(active);
    const std::string p = trimmed(proposal);
    if (a.empty() && p.empty()) return;
    DiffKind kind = a == p ? DiffKind::same : a.empty() ? DiffKind::added : p.empty() ? DiffKind::removed
                                                                                     : DiffKind::changed;
    out.push_back(PlanDiffRow{section, kind, a, p, {}});
}

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
    return out;
}

}  // namespace

std::string_view diff_marker(DiffKind kind) noexcept {
    switch (kind) {
        case DiffKind::same: return "";
        case DiffKind::added: return "+ added";
        case DiffKind::removed: return "\u2212 removed";
        case DiffKind::changed: return "~ changed";
    }
    return "";
}

std::string describe(const PlanGoalItem& g) {
    return trimmed(g.description) + " \u00b7 measure: " + trimmed(g.measure) + " \u00b7 by " + trimmed(g.target_date);
}

std::string describe(const PlanInterventionItem& i) { return trimmed(i.name) + ": " + trimmed(i.how_ai_uses_it); }

std::string describe(const PlanAssessmentItem& a) {
    return instrument_label(a.instrument) + (a.week == 0 ? " at intake (week 0)" : " at week " + std::to_string(a.week));
}

std::vector<PlanDiffRow> diff_plans(const PlanContent* active_plan, const PlanContent& proposal) {
    static const PlanContent kEmpty;
    const PlanContent& active = active_plan != nullptr ? *active_plan : kEmpty;
    std::vector<PlanDiffRow> out;
    auto list = [&](PlanList l) { diff_list(out, std::string(label(l)), active.list(l), proposal.list(l)); };
    list(PlanList::presenting_problems);
    list(PlanList::conditions);
    diff_items<PlanGoalItem>(
        out, "Goals", active.goals, proposal.goals, [](const PlanGoalItem& g) { return trimmed(g.description); },
        [](const PlanGoalItem& g) { return describe(g); },
        [](const PlanGoalItem& a, const PlanGoalItem& p) {
            std::vector<std::string> what;
            if (trimmed(a.description) != trimmed(p.description)) what.push_back("description");
            if (trimmed(a.measure) != trimmed(p.measure)) what.push_back("measure");
            if (trimmed(a.target_date) != trimmed(p.target_date)) what.push_back("target date");
            return join(what);
        },
        true);
    diff_items<PlanInterventionItem>(
        out, "Interventions", active.interventions, proposal.interventions,
        [](const PlanInterventionItem& i) { return trimmed(i.name); },
        [](const PlanInterventionItem& i) { return describe(i); },
        [](const PlanInterventionItem& a, const PlanInterventionItem& p) {
            std::vector<std::string> what;
            if (trimmed(a.name) != trimmed(p.name)) what.push_back("name");
            if (trimmed(a.how_ai_uses_it) != trimmed(p.how_ai_uses_it)) what.push_back("how the AI uses it");
            return join(what);
        },
        true);
    list(PlanList::homework);
    diff_text(out, "Check-in cadence", active.checkin_cadence, proposal.checkin_cadence);
    diff_items<PlanAssessmentItem>(
        out, "Assessment schedule", active.assessment_schedule, proposal.assessment_schedule,
        [](const PlanAssessmentItem& a) { return a.instrument + "@" + std::to_string(a.week); },
        [](const PlanAssessmentItem& a) { return describe(a); }, {}, false);
    for (auto l : {PlanList::warning_signs, PlanList::internal_coping, PlanList::distraction_people_places,
                   PlanList::people_to_ask, PlanList::professionals_and_crisis_lines, PlanList::environment_safety}) {
        list(l);
    }
    diff_text(out, "AI guidance: tone", active.tone, proposal.tone);
    list(PlanList::avoid_topics);
    list(PlanList::escalate_when);
    return out;
}

std::string plan_text(const PlanContent& c) {
    std::string out;
    auto section = [&](std::string_view title, const std::vector<std::string>& lines) {
        out += std::string(title) + "\n";
        if (lines.empty()) out += "  (none)\n";
        for (const auto& l : lines) out += "  \u2022 " + l + "\n";
        out += "\n";
    };
    auto items = [](const auto& v) {
        std::vector<std::string> lines;
        for (const auto& i : v) lines.push_back(describe(i));
        return lines;
    };
    section(label(PlanList::presenting_problems), c.list(PlanList::presenting_problems));
    section(label(PlanList::conditions), c.list(PlanList::conditions));
    section("Goals", items(c.goals));
    section("Interventions", items(c.interventions));
    section(label(PlanList::homework), c.list(PlanList::homework));
    section("Check-in cadence", c.checkin_cadence.empty() ? std::vector<std::string>{}
                                                          : std::vector<std::string>{c.checkin_cadence});
    section("Assessment schedule", items(c.assessment_schedule));
    for (auto l : {PlanList::warning_signs, PlanList::internal_coping, PlanList::distraction_people_places,
                   PlanList::people_to_ask, PlanList::professionals_and_crisis_lines, PlanList::environment_safety}) {
        section(label(l), c.list(l));
    }
    section("AI guidance: tone", c.tone.empty() ? std::vector<std::string>{} : std::vector<std::string>{c.tone});
    section(label(PlanList::avoid_topics), c.list(PlanList::avoid_topics));
    section(label(PlanList::escalate_when), c.list(PlanList::escalate_when));
    return out;
}

}  // namespace tandem::clinician
