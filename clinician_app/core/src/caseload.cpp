#include "tandem/clinician/caseload.h"

#include <algorithm>
#include <cctype>
#include <unordered_map>

#include "tandem/clinician/severity_style.h"

namespace tandem::clinician {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    // ASCII folding only: names outside ASCII still match by exact bytes, which is acceptable
    // for a search box (full Unicode case folding would need ICU).
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

struct FlagSummary {
    Severity highest = Severity::none;
    std::size_t open = 0;
};

}  // namespace

void CaseloadPresenter::set_sort(CaseloadSort sort, bool descending) {
    sort_ = sort;
    descending_ = descending;
}

void CaseloadPresenter::refresh(const Model& model) {
    std::unordered_map<std::string, FlagSummary> summary;
    summary.reserve(model.patients().size());
    for (const auto& [id, flag] : model.flags()) {
        if (!flag.unresolved()) continue;
        auto& s = summary[flag.patient_id];
        ++s.open;
        s.highest = std::max(s.highest, flag.severity);
    }
    const std::string needle = lower(filter_.search);
    rows_.clear();
    rows_.reserve(model.patients().size());
    for (const auto& [id, p] : model.patients()) {
        const auto it = summary.find(id);
        const FlagSummary s = it == summary.end() ? FlagSummary{} : it->second;
        if (filter_.crisis_only && !p.in_crisis) continue;
        if (filter_.with_open_flags_only && s.open == 0) continue;
        if (s.highest < filter_.min_severity) continue;
        if (filter_.mine_only && p.assigned_therapist_id != model.self().id) continue;
        if (!filter_.therapist_id.empty()) {
            const std::string want = filter_.therapist_id == "-" ? std::string{} : filter_.therapist_id;
            if (p.assigned_therapist_id != want) continue;
        }
        if (!needle.empty() && lower(p.display_name).find(needle) == std::string::npos &&
            lower(p.id).find(needle) == std::string::npos) {
            continue;
        }
        CaseloadRow row;
        row.patient_id = id;
        row.name = p.display_name;
        row.in_crisis = p.in_crisis;
        row.ai_paused = p.ai_paused;
        row.highest_open = s.highest;
        row.open_flags = s.open;
        row.last_activity = p.last_activity;
        row.therapist = p.assigned_therapist_id.empty() ? std::string{} : model.clinician_name(p.assigned_therapist_id);
        rows_.push_back(std::move(row));
    }
    // Urgency: crisis first, then highest open severity, then number of flags, then recency.
    auto urgency_less = [](const CaseloadRow& a, const CaseloadRow& b) {
        if (a.in_crisis != b.in_crisis) return !a.in_crisis;
        if (a.highest_open != b.highest_open) return a.highest_open < b.highest_open;
        if (a.open_flags != b.open_flags) return a.open_flags < b.open_flags;
        return a.last_activity < b.last_activity;
    };
    auto less = [&](const CaseloadRow& a, const CaseloadRow& b) {
        switch (sort_) {
            case CaseloadSort::urgency: return urgency_less(a, b);
            case CaseloadSort::name: return lower(a.name) < lower(b.name);
            case CaseloadSort::last_activity: return a.last_activity < b.last_activity;
            case CaseloadSort::open_flags: return a.open_flags < b.open_flags;
            case CaseloadSort::therapist: return lower(a.therapist) < lower(b.therapist);
        }
        return false;
    };
    // Stable with a name tie-break so equal rows never jump around between refreshes.
    std::sort(rows_.begin(), rows_.end(), [&](const CaseloadRow& a, const CaseloadRow& b) {
        if (less(a, b)) return !descending_;
        if (less(b, a)) return descending_;
        return a.patient_id < b.patient_id;
    });
}

std::size_t CaseloadPresenter::index_of(const std::string& patient_id) const {
    for (std::size_t i = 0; i < rows_.size(); ++i) {
        if (rows_[i].patient_id == patient_id) return i;
    }
    return npos;
}

std::string CaseloadPresenter::cell(std::size_t i, int col, TimePoint now) const {
    const auto& r = rows_.at(i);
    switch (col) {
        case 0: {
            if (r.open_flags == 0) return "";
            const auto& style = severity_style(r.highest_open);
            return std::string(style.icon) + " " + std::string(style.label);
        }
        case 1: return r.name;
        case 2: {
            std::string s = r.in_crisis ? "\u26a0 CRISIS" : "";
            if (r.ai_paused) s += s.empty() ? "AI paused" : " \u00b7 AI paused";
            return s;
        }
        case 3: return r.open_flags == 0 ? "" : std::to_string(r.open_flags);
        case 4: return r.last_activity ? format_age(*r.last_activity, now) : "never";
        case 5: return r.therapist.empty() ? "(unassigned)" : r.therapist;
        default: return "";
    }
}

}  // namespace tandem::clinician
