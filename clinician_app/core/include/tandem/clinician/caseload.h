#pragma once
// The caseload list: one row per visible patient, sortable, filterable and searchable. Rows are
// built on refresh() and read by index, which is what a virtual wxListCtrl asks for.

#include <cstddef>
#include <string>
#include <vector>

#include "tandem/clinician/model.h"

namespace tandem::clinician {

enum class CaseloadSort { urgency, name, last_activity, open_flags, therapist };

struct CaseloadFilter {
    std::string search;              ///< case-insensitive substring of name or id; empty = all
    bool crisis_only = false;
    bool with_open_flags_only = false;
    Severity min_severity = Severity::none;  ///< highest open severity at least this
    std::string therapist_id;        ///< empty = any; "-" = unassigned
    bool mine_only = false;          ///< assigned to the logged-in clinician
};

struct CaseloadRow {
    std::string patient_id;
    std::string name;
    bool in_crisis = false;
    bool ai_paused = false;
    Severity highest_open = Severity::none;  ///< of unresolved flags
    std::size_t open_flags = 0;
    std::optional<TimePoint> last_activity;
    std::string therapist;                   ///< display name, empty when unassigned
};

/// GUI thread only.
class CaseloadPresenter {
public:
    /// Rebuilds the rows from the model with the current sort and filter.
    void refresh(const Model& model);
    void set_sort(CaseloadSort sort, bool descending);
    void set_filter(CaseloadFilter filter) { filter_ = std::move(filter); }
    const CaseloadFilter& filter() const { return filter_; }
    CaseloadSort sort() const { return sort_; }
    bool descending() const { return descending_; }

    std::size_t size() const { return rows_.size(); }
    const CaseloadRow& row(std::size_t i) const { return rows_.at(i); }
    /// Index of the patient's row, or npos when filtered out.
    std::size_t index_of(const std::string& patient_id) const;
    /// Text of column `col` (0 severity, 1 name, 2 crisis, 3 open flags, 4 last activity, 5 therapist).
    std::string cell(std::size_t i, int col, TimePoint now) const;
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

private:
    std::vector<CaseloadRow> rows_;
    CaseloadFilter filter_;
    CaseloadSort sort_ = CaseloadSort::urgency;
    bool descending_ = true;
};

}  // namespace tandem::clinician
