#pragma once
// The supervisor's caseload outcome table: per therapist and overall, how many patients have a
// baseline and a follow-up on an instrument, and how many of those responded, remitted, improved
// reliably or deteriorated (rates from the measures library's caseload_summary), with the mean
// working alliance (latest WAI-SR per patient). Also a per-patient table of the same. Tables are
// sortable by any column; the overall row stays last. No wx: tested without a display.

#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "tandem/clinician/model.h"

namespace tandem {
class InstrumentRegistry;
}

namespace tandem::clinician {

/// One therapist's (or the clinic's) numbers for one instrument.
struct OutcomeTableRow {
    std::string therapist_id;  ///< "*" for the overall row, "" for unassigned patients
    std::string name;
    int patients = 0;          ///< patients with any score on the instrument
    int with_follow_up = 0;    ///< baseline and a later score: the denominator of the rates
    int responders = 0;
    int remitters = 0;
    int reliable_improvers = 0;
    int deteriorated = 0;
    bool response_defined = true;   ///< false: the instrument has no response rule (GAD-7)
    bool remission_defined = true;
    bool reliable_defined = true;
    std::optional<double> mean_alliance;  ///< mean of each patient's latest WAI-SR total
    int alliance_patients = 0;
};

/// One row per therapist with patients (and "(unassigned)" when any), by name, then the overall
/// row (therapist_id "*"). Patients are counted under their current therapist. Any thread.
std::vector<OutcomeTableRow> caseload_outcome_rows(const Model& model, const InstrumentRegistry& registry,
                                                   const std::string& instrument);

/// A text cell with the value it sorts by (NaN: no value, sorted last either way).
struct TableCell {
    std::string text;
    double key = std::numeric_limits<double>::quiet_NaN();
    std::string id;  ///< the row's subject (therapist or patient id), same on every cell of a row
};

/// A table of cells with a sortable body and an optional fixed last row. Any thread.
class SortableTable {
public:
    std::vector<std::string> headers;
    std::vector<std::vector<TableCell>> rows;  ///< body, in the current order
    std::vector<TableCell> footer;             ///< stays last (the overall row); empty for none

    /// Sorts the body by a column: numbers by key, then text; NaN keys last either way; stable.
    void sort_by(std::size_t column, bool ascending);
    /// Rows including the footer.
    std::size_t size() const { return rows.size() + (footer.empty() ? 0 : 1); }
    /// Row i of size(); the footer is the last.
    const std::vector<TableCell>& row(std::size_t i) const { return i < rows.size() ? rows[i] : footer; }
    std::optional<std::size_t> sorted_column() const { return column_; }
    bool ascending() const { return ascending_; }

private:
    std::optional<std::size_t> column_;
    bool ascending_ = true;
};

/// The caseload outcome table for an instrument: Therapist, Scored (patients with any score),
/// Follow-up (with baseline and a later score), Response, Remission, Reliable impr(ovement),
/// Deteriorated, Alliance (mean of latest WAI-SR totals, with n). Rates read
/// "50% (2 of 4)", "—" when nobody has a follow-up, "n/a" when the instrument defines no such
/// rule. Any thread.
SortableTable caseload_outcome_table(const Model& model, const InstrumentRegistry& registry,
                                     const std::string& instrument);

/// One row per patient with any score: Patient, Therapist, then per instrument in `instruments`
/// "baseline → latest (change%)" with the outcome words ("reliable impr." for short), then the
/// latest WAI-SR total (column "WAI-SR"). Any thread.
SortableTable patient_outcome_table(const Model& model, const InstrumentRegistry& registry,
                                    const std::vector<std::string>& instruments);

}  // namespace tandem::clinician
