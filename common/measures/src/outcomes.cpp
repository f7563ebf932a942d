// Outcomes over a patient's series and rates over a caseload. The thresholds (response %,
// remission cut-off, reliable change) come from the definition's "outcomes" section.

#include <algorithm>
#include <cstdlib>

#include "tandem/measures/measures.h"

namespace tandem {

Outcome outcomes(const InstrumentDefinition& d, std::span<const Assessment> series) {
    Outcome out;
    out.instrument = d.id;
    for (const auto& a : series) {
        if (a.instrument.id() != d.id) continue;
        // Rescored from the items rather than trusting a stored score: a form that cannot be
        // scored (paused, too many gaps) never becomes a baseline.
        const auto s = score(d, a.items);
        if (!s) continue;
        out.points.push_back({a.id, a.completed_at.value_or(a.administered_at), s->total, s->mean, s->band, s->prorated});
    }
    std::stable_sort(out.points.begin(), out.points.end(), [](const OutcomePoint& x, const OutcomePoint& y) {
        return x.at != y.at ? x.at < y.at : x.assessment_id.str() < y.assessment_id.str();
    });
    if (out.points.empty()) {
        out.labels = {"no_data"};
        return out;
    }
    out.baseline = out.points.front();
    if (out.points.size() == 1) {
        out.labels = {"baseline_only"};
        return out;
    }
    out.latest = out.points.back();
    const int base = out.baseline->total;
    const int latest = out.latest->total;
    out.change = latest - base;
    if (base != 0) out.percent_change = 100.0 * *out.change / base;
    // Improvement in the instrument's good direction (down for symptoms, up for alliance).
    const int improvement = d.outcomes.lower_is_better ? -*out.change : *out.change;
    const auto& t = d.outcomes;
    if (t.response_percent && base != 0) {
        // improvement / |baseline| >= percent / 100, kept in integers-and-a-double to avoid
        // 49.999... from a division.
        out.response = improvement * 100.0 >= *t.response_percent * std::abs(base);
    }
    if (t.remission_below && t.lower_is_better) {
        // Remission means leaving the range: a patient who started below the cut-off has
        // nothing to remit from and is not counted as a remitter.
        out.remission = latest < *t.remission_below && base >= *t.remission_below;
    }
    if (t.reliable_change) {
        out.reliable_improvement = improvement >= *t.reliable_change;
        out.deterioration = -improvement >= *t.reliable_change;
    }
    if (out.response) out.labels.push_back("response");
    if (out.remission) out.labels.push_back("remission");
    if (out.reliable_improvement) out.labels.push_back("reliable_improvement");
    if (out.deterioration) out.labels.push_back("deterioration");
    if (out.labels.empty()) out.labels.push_back("no_reliable_change");
    return out;
}

CaseloadSummary caseload_summary(std::string_view instrument, std::span<const Outcome> patients) {
    CaseloadSummary s;
    s.instrument = std::string(instrument);
    long long change_sum = 0;
    long long latest_sum = 0;
    int with_any = 0;
    for (const auto& o : patients) {
        if (o.instrument != instrument) continue;
        ++s.patients;
        if (o.baseline) {
            ++with_any;
            latest_sum += (o.latest ? *o.latest : *o.baseline).total;
        }
        if (!o.latest || !o.change) continue;
        ++s.with_follow_up;
        change_sum += *o.change;
        s.responders += o.response ? 1 : 0;
        s.remitters += o.remission ? 1 : 0;
        s.reliable_improvers += o.reliable_improvement ? 1 : 0;
        s.deteriorators += o.deterioration ? 1 : 0;
    }
    if (s.with_follow_up > 0) {
        const double n = s.with_follow_up;
        s.response_rate = s.responders / n;
        s.remission_rate = s.remitters / n;
        s.reliable_improvement_rate = s.reliable_improvers / n;
        s.deterioration_rate = s.deteriorators / n;
        s.mean_change = static_cast<double>(change_sum) / n;
    }
    if (with_any > 0) s.mean_latest = static_cast<double>(latest_sum) / with_any;
    return s;
}

}  // namespace tandem
