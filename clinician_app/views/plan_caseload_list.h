#pragma once
// The caseload list with one more column: a marker when a patient has a treatment plan
// proposal waiting for review (plan_badge in plan_review.h: a glyph and words, not colour).

#include "tandem/clinician/plan_review.h"
#include "view_util.h"

namespace tandem::clinician::views {

/// GUI thread only. Column `plan_column` shows the badge; the others are the presenter's cells.
class PlanCaseloadList : public CaseloadList {
public:
    PlanCaseloadList(wxWindow* parent, const CaseloadPresenter& presenter, const Model& model,
                     std::initializer_list<Column> columns, Look look)
        : CaseloadList(parent, presenter, columns, std::move(look)),
          presenter_(presenter),
          model_(model),
          plan_column_(static_cast<long>(columns.size()) - 1) {}

private:
    wxString OnGetItemText(long item, long column) const override {
        if (column == plan_column_) return u8(plan_badge(model_, presenter_.row(static_cast<std::size_t>(item)).patient_id));
        return u8(presenter_.cell(static_cast<std::size_t>(item), static_cast<int>(column), now));
    }

    const CaseloadPresenter& presenter_;
    const Model& model_;
    long plan_column_;
};

}  // namespace tandem::clinician::views
