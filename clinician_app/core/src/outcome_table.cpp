#include "tandem/clinician/outcome_table.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "tandem/clinician/outcome_presenter.h"
#include "tandem/clinician/outcome_text.h"
#include "tandem/measures/measures.h"

namespace tandem::clinician {
namespace {

constexpr const char* kAlliance = "wai_sr";

// One patient's outcome on an instrument, by the library, from the book's records.
std::optional<Outcome> outcome_for(const Model& model, const InstrumentDefinition& def, const std::string& patient_id) {
    const auto series = model.assessments().series(patient_id, def.id);
    if (series.empty()) return std::nullopt;
    std::vector<Assessment> records;
    for (const auto* p : series) {
        if (auto a = to_assessment(*p)) records.push_back(std::move(*a));
    }
    if (records.empty()) return std::nullopt;
    return outcomes(def, records);
}

std::string therapist_of(const Model& model, const std::string& patient_id) {
    const auto* p = model.patient(patient_id);
    return p != nullptr ? p->assigned_therapist_id : std::string{};
}

TableCell number_cell(int n, const std::string& id) { return TableCell{std::to_string(n), static_cast<double>(n), id}; }

TableCell rate_cell(int count, int of, bool defined, const std::string& id) {
    if (!defined) return TableCell{"n/a", std::numeric_limits<double>::quiet_NaN(), id};
    if (of <= 0) return TableCell{rate_text(0, 0), std::numeric_limits<double>::quiet_NaN(), id};
    return TableCell{rate_text(count, of), static_cast<double>(count) / of, id};
}

TableCell alliance_cell(const std::optional<double>& mean, int n, const std::string& id) {
    if (!mean) return TableCell{"\u2014", std::numeric_limits<double>::quiet_NaN(), id};
    return TableCell{format_number(std::round(*mean * 10) / 10) + " (" + std::to_string(n) + ")", *mean, id};
}

}  // namespace

std::vector<OutcomeTableRow> caseload_outcome_rows(const Model& model, const InstrumentRegistry& registry,
                                                   const std::string& instrument) {
    const InstrumentDefinition* def = registry.find(std::string_view{instrument});
    const InstrumentDefinition* alliance = registry.find(std::string_view{kAlliance});
    std::map<std::string, std::vector<Outcome>> by_therapist;     // therapist id -> outcomes
    std::map<std::string, std::vector<double>> alliance_by;       // therapist id -> latest WAI-SR totals
    std::vector<Outcome> all;
    std::vector<double> all_alliance;
    for (const auto& patient_id : model.assessments().patients()) {
        const std::string therapist = therapist_of(model, patient_id);
        if (def != nullptr) {
            if (auto o = outcome_for(model, *def, patient_id)) {
                by_therapist[therapist].push_back(*o);
                all.push_back(std::move(*o));
            }
        }
        if (alliance != nullptr) {
            if (auto a = outcome_for(model, *alliance, patient_id)) {
                const auto& latest = a->latest ? a->latest : a->baseline;
                if (latest) {
                    alliance_by[therapist].push_back(latest->total);
                    all_alliance.push_back(latest->total);
                }
            }
        }
    }
    auto make_row = [&](const std::string& id, const std::string& name, const std::vector<Outcome>& outcomes_of,
                        const std::vector<double>& alliance_of) {
        OutcomeTableRow row;
        row.therapist_id = id;
        row.name = name;
        // The library decides every rate's numerator and denominator; the table only prints them.
        const CaseloadSummary s = caseload_summary(instrument, outcomes_of);
        row.patients = s.patients;
        row.with_follow_up = s.with_follow_up;
        row.responders = s.responders;
        row.remitters = s.remitters;
        row.reliable_improvers = s.reliable_improvers;
        row.deteriorated = s.deteriorators;
        row.response_defined = def != nullptr && def->outcomes.response_percent.has_value();
        row.remission_defined = def != nullptr && def->outcomes.remission_below.has_value();
        row.reliable_defined = def != nullptr && def->outcomes.reliable_change.has_value();
        if (!alliance_of.empty()) {
            double sum = 0;
            for (double v : alliance_of) sum += v;
            row.mean_alliance = sum / static_cast<double>(alliance_of.size());
            row.alliance_patients = static_cast<int>(alliance_of.size());
        }
        return row;
    };

    std::map<std::string, bool> therapists;  // every therapist with a patient in either table
    for (const auto& [id, v] : by_therapist) therapists[id] = true;
    for (const auto& [id, v] : alliance_by) therapists[id] = true;
    std::vector<OutcomeTableRow> out;
    static const std::vector<Outcome> kNone;
    static const std::vector<double> kNoAlliance;
    for (const auto& [id, unused] : therapists) {
        const auto o = by_therapist.find(id);
        const auto a = alliance_by.find(id);
        out.push_back(make_row(id, id.empty() ? "(unassigned)" : model.clinician_name(id),
                               o == by_therapist.end() ? kNone : o->second,
                               a == alliance_by.end() ? kNoAlliance : a->second));
    }
    std::sort(out.begin(), out.end(), [](const OutcomeTableRow& a, const OutcomeTableRow& b) { return a.name < b.name; });
    out.push_back(make_row("*", "All therapists", all, all_alliance));
    return out;
}

void SortableTable::sort_by(std::size_t column, bool ascending) {
    column_ = column;
    ascending_ = ascending;
    std::stable_sort(rows.begin(), rows.end(), [&](const std::vector<TableCell>& a, const std::vector<TableCell>& b) {
        const TableCell& x = a[column];
        const TableCell& y = b[column];
        const bool x_nan = std::isnan(x.key);
        const bool y_nan = std::isnan(y.key);
        // Empty values go last in both directions: "—" is not the best or the worst rate.
        if (x_nan != y_nan) return y_nan;
        if (!x_nan && x.key != y.key) return ascending ? x.key < y.key : x.key > y.key;
        if (x_nan && x.text != y.text) return ascending ? x.text < y.text : x.text > y.text;
        return false;
    });
}

SortableTable caseload_outcome_table(const Model& model, const InstrumentRegistry& registry,
                                     const std::string& instrument) {
    SortableTable t;
    t.headers = {"Therapist", "Scored", "Follow-up", "Response", "Remission",
                 "Reliable impr.", "Deteriorated", "Alliance (n)"};
    for (const auto& r : caseload_outcome_rows(model, registry, instrument)) {
        const std::string& id = r.therapist_id;
        std::vector<TableCell> cells{
            TableCell{r.name, std::numeric_limits<double>::quiet_NaN(), id},
            number_cell(r.patients, id),
            number_cell(r.with_follow_up, id),
            rate_cell(r.responders, r.with_follow_up, r.response_defined, id),
            rate_cell(r.remitters, r.with_follow_up, r.remission_defined, id),
            rate_cell(r.reliable_improvers, r.with_follow_up, r.reliable_defined, id),
            r.reliable_defined ? number_cell(r.deteriorated, id)
                               : TableCell{"n/a", std::numeric_limits<double>::quiet_NaN(), id},
            alliance_cell(r.mean_alliance, r.alliance_patients, id),
        };
        if (id == "*") t.footer = std::move(cells);
        else t.rows.push_back(std::move(cells));
    }
    return t;
}

SortableTable patient_outcome_table(const Model& model, const InstrumentRegistry& registry,
                                    const std::vector<std::string>& instruments) {
    SortableTable t;
    t.headers = {"Patient", "Therapist"};
    std::vector<const InstrumentDefinition*> defs;
    for (const auto& id : instruments) {
        const auto* def = registry.find(std::string_view{id});
        if (def == nullptr) continue;
        defs.push_back(def);
        t.headers.push_back(def->short_title.empty() ? id : def->short_title);
    }
    const InstrumentDefinition* alliance = registry.find(std::string_view{kAlliance});
    t.headers.push_back("WAI-SR");
    for (const auto& patient_id : model.assessments().patients()) {
        const auto* p = model.patient(patient_id);
        std::vector<TableCell> row;
        row.push_back(TableCell{p != nullptr ? p->display_name : patient_id, std::numeric_limits<double>::quiet_NaN(),
                                patient_id});
        const std::string therapist = therapist_of(model, patient_id);
        row.push_back(TableCell{therapist.empty() ? "(unassigned)" : model.clinician_name(therapist),
                                std::numeric_limits<double>::quiet_NaN(), patient_id});
        for (const auto* def : defs) {
            const auto o = outcome_for(model, *def, patient_id);
            if (!o || !o->baseline) {
                row.push_back(TableCell{"\u2014", std::numeric_limits<double>::quiet_NaN(), patient_id});
                continue;
            }
            auto words = outcome_words(def, *o);
            // The table's column is narrow: the longest word is shortened (the tab says it in full).
            for (auto& w : words) {
                if (w == "reliable improvement") w = "reliable impr.";
            }
            std::string text = outcome_headline("", *o, words);
            text.erase(0, text.find_first_not_of(' '));
            // Sorted by change from baseline: the most improved first when ascending (lower is better).
            const double key = o->change ? static_cast<double>(*o->change) : std::numeric_limits<double>::quiet_NaN();
            row.push_back(TableCell{text, key, patient_id});
        }
        std::optional<double> latest_alliance;
        if (alliance != nullptr) {
            if (const auto a = outcome_for(model, *alliance, patient_id)) {
                const auto& latest = a->latest ? a->latest : a->baseline;
                if (latest) latest_alliance = latest->total;
            }
        }
        row.push_back(latest_alliance ? TableCell{format_number(*latest_alliance), *latest_alliance, patient_id}
                                      : TableCell{"\u2014", std::numeric_limits<double>::quiet_NaN(), patient_id});
        t.rows.push_back(std::move(row));
    }
    t.sort_by(0, true);
    return t;
}

}  // namespace tandem::clinician
