#include "tandem/clinician/supervisor.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace tandem::clinician {

std::optional<std::chrono::milliseconds> percentile(std::vector<std::chrono::milliseconds> samples, double p) {
    if (samples.empty() || p <= 0.0 || p > 100.0) return std::nullopt;
    // Nearest rank: the smallest sample with at least p% of samples at or below it. Chosen over
    // interpolation because it always reports a time that actually happened.
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(samples.size())));
    const std::size_t index = rank == 0 ? 0 : rank - 1;
    std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(index), samples.end());
    return samples[index];
}

std::vector<TherapistStats> therapist_stats(const Model& model, TimePoint now) {
    struct Acc {
        TherapistStats stats;
        std::vector<std::chrono::milliseconds> to_ack;
    };
    std::map<std::string, Acc> by_therapist;
    for (const auto& [id, c] : model.clinicians()) {
        if (c.has_role(Role::therapist)) by_therapist[id].stats.therapist_id = id;
    }
    Acc total;
    total.stats.therapist_id = "*";
    total.stats.name = "All therapists";
    for (const auto& [id, p] : model.patients()) {
        auto& acc = by_therapist[p.assigned_therapist_id];
        acc.stats.therapist_id = p.assigned_therapist_id;
        ++acc.stats.patients;
        ++total.stats.patients;
    }
    for (const auto& [id, f] : model.flags()) {
        const auto* p = model.patient(f.patient_id);
        auto& acc = by_therapist[p != nullptr ? p->assigned_therapist_id : std::string{}];
        for (Acc* a : {&acc, &total}) {
            if (f.unresolved()) ++a->stats.open_flags;
            if (f.needs_acknowledgement() && f.sla_deadline <= now) ++a->stats.overdue_flags;
            if (f.acknowledged_at) {
                a->to_ack.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(*f.acknowledged_at - f.opened_at));
            }
        }
    }
    std::vector<TherapistStats> out;
    auto finish = [](Acc& a) {
        a.stats.acknowledged = a.to_ack.size();
        a.stats.median_to_ack = percentile(a.to_ack, 50.0);
        a.stats.p90_to_ack = percentile(a.to_ack, 90.0);
        return a.stats;
    };
    for (auto& [id, acc] : by_therapist) {
        if (id.empty() && acc.stats.patients == 0 && acc.stats.open_flags == 0) continue;
        acc.stats.name = id.empty() ? "(unassigned)" : model.clinician_name(id);
        out.push_back(finish(acc));
    }
    std::sort(out.begin(), out.end(), [](const TherapistStats& a, const TherapistStats& b) {
        if (a.overdue_flags != b.overdue_flags) return a.overdue_flags > b.overdue_flags;
        if (a.open_flags != b.open_flags) return a.open_flags > b.open_flags;
        return a.name < b.name;
    });
    out.push_back(finish(total));
    return out;
}

std::vector<AuditEntry> audit_trail(const Model& model, const AuditFilter& filter, std::size_t limit) {
    std::vector<AuditEntry> out;
    const auto& all = model.audit();
    for (auto it = all.rbegin(); it != all.rend() && out.size() < limit; ++it) {
        if (!filter.patient_id.empty() && it->patient_id != filter.patient_id) continue;
        if (!filter.clinician_id.empty() && it->clinician_id != filter.clinician_id) continue;
        out.push_back(*it);
    }
    return out;
}

}  // namespace tandem::clinician
