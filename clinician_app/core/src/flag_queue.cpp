#include "tandem/clinician/flag_queue.h"

#include <algorithm>

#include "tandem/clinician/severity_style.h"

namespace tandem::clinician {

bool ranks_before(const FlagRow& a, const FlagRow& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    // An acknowledged flag has met its SLA: its time left is effectively infinite.
    const bool a_waiting = a.status != FlagStatus::acknowledged;
    const bool b_waiting = b.status != FlagStatus::acknowledged;
    if (a_waiting != b_waiting) return a_waiting;
    if (a_waiting && a.sla_deadline != b.sla_deadline) return a.sla_deadline < b.sla_deadline;
    if (a.opened_at != b.opened_at) return a.opened_at < b.opened_at;
    return a.flag_id < b.flag_id;
}

Countdown countdown(const FlagRow& row, TimePoint now) {
    if (row.status == FlagStatus::acknowledged) return {"acknowledged", false};
    if (row.status == FlagStatus::resolved) return {"resolved", false};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(row.sla_deadline - now);
    if (left <= std::chrono::milliseconds{0}) return {"OVERDUE " + format_duration(left), true};
    // Round up to the next second so "0:00 left" is never shown for a flag that is still in time.
    const auto shown = std::chrono::ceil<std::chrono::seconds>(left);
    return {format_duration(shown) + " left", false};
}

void FlagQueuePresenter::refresh(const Model& model) {
    rows_.clear();
    for (const auto& [id, f] : model.flags()) {
        if (!f.unresolved()) continue;
        if (!include_acknowledged_ && f.status == FlagStatus::acknowledged) continue;
        FlagRow row;
        row.flag_id = id;
        row.patient_id = f.patient_id;
        const auto* p = model.patient(f.patient_id);
        row.patient_name = p != nullptr ? p->display_name : f.patient_id;
        row.severity = f.severity;
        row.status = f.status;
        row.opened_at = f.opened_at;
        row.sla_deadline = f.sla_deadline;
        row.escalation_level = f.escalation_level;
        for (auto c : f.categories) {
            if (!row.categories.empty()) row.categories += ", ";
            row.categories += to_string(c);
        }
        rows_.push_back(std::move(row));
    }
    rank();
}

void FlagQueuePresenter::rank() { std::sort(rows_.begin(), rows_.end(), ranks_before); }

std::size_t FlagQueuePresenter::index_of(const std::string& flag_id) const {
    for (std::size_t i = 0; i < rows_.size(); ++i) {
        if (rows_[i].flag_id == flag_id) return i;
    }
    return npos;
}

std::size_t FlagQueuePresenter::overdue_count(TimePoint now) const {
    return static_cast<std::size_t>(
        std::count_if(rows_.begin(), rows_.end(), [&](const FlagRow& r) { return countdown(r, now).overdue; }));
}

std::string FlagQueuePresenter::cell(std::size_t i, int col, TimePoint now) const {
    const auto& r = rows_.at(i);
    switch (col) {
        case 0: {
            const auto& style = severity_style(r.severity);
            return std::string(style.icon) + " " + std::string(style.label);
        }
        case 1: return r.patient_name;
        case 2: return countdown(r, now).text;
        case 3: {
            std::string s(to_string(r.status));
            if (r.escalation_level > 0) s += " (level " + std::to_string(r.escalation_level) + ")";
            return s;
        }
        case 4: return r.categories;
        default: return "";
    }
}

std::size_t FlagQueuePresenter::next(std::size_t current) const {
    if (rows_.empty()) return npos;
    if (current == npos || current >= rows_.size()) return 0;
    return std::min(current + 1, rows_.size() - 1);
}

std::size_t FlagQueuePresenter::previous(std::size_t current) const {
    if (rows_.empty()) return npos;
    if (current == npos || current >= rows_.size()) return 0;
    return current == 0 ? 0 : current - 1;
}

}  // namespace tandem::clinician
