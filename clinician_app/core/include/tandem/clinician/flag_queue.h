#pragma once
// The flag queue: every unresolved flag this clinician sees, ranked by severity, then by time
// left to the SLA deadline (flags already acknowledged have met it and follow), then by age.

#include <cstddef>
#include <string>
#include <vector>

#include "tandem/clinician/model.h"

namespace tandem::clinician {

struct FlagRow {
    std::string flag_id;
    std::string patient_id;
    std::string patient_name;
    Severity severity = Severity::moderate;
    FlagStatus status = FlagStatus::open;
    TimePoint opened_at{};
    TimePoint sla_deadline{};
    int escalation_level = 0;
    std::string categories;  ///< "suicidal_ideation, self_harm"
};

struct Countdown {
    std::string text;      ///< "4:32 left", "OVERDUE 1:05", "acknowledged"
    bool overdue = false;  ///< unacknowledged past its deadline: the view makes it stand out
};

/// Ranking order as a predicate; exposed for tests and the bench. Any thread.
bool ranks_before(const FlagRow& a, const FlagRow& b);
/// Countdown for one flag at `now`. Any thread.
Countdown countdown(const FlagRow& row, TimePoint now);

/// GUI thread only.
class FlagQueuePresenter {
public:
    /// Rebuilds and re-ranks from the model.
    void refresh(const Model& model);
    /// Re-ranks the current rows (the bench times this).
    void rank();
    void set_include_acknowledged(bool include) { include_acknowledged_ = include; }

    std::size_t size() const { return rows_.size(); }
    const FlagRow& row(std::size_t i) const { return rows_.at(i); }
    std::size_t index_of(const std::string& flag_id) const;
    /// Number of unacknowledged flags past their deadline.
    std::size_t overdue_count(TimePoint now) const;
    /// Text of column `col` (0 severity, 1 patient, 2 countdown, 3 status, 4 categories).
    std::string cell(std::size_t i, int col, TimePoint now) const;

    /// Selection moves for the keyboard: next/previous from `current` (npos = none selected).
    /// Next from none is the top-ranked flag; both stop at the ends. Returns npos when empty.
    std::size_t next(std::size_t current) const;
    std::size_t previous(std::size_t current) const;
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

private:
    std::vector<FlagRow> rows_;
    bool include_acknowledged_ = true;
};

}  // namespace tandem::clinician
