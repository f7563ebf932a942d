#pragma once
// The caseload list with the treatment plan badge: the State column also says
// "● plan to review" when a patient has a proposal waiting (plan_badge in plan_review.h: a
// glyph and words, not colour). It shares the State column rather than adding one, because a
// last column falls outside the list at 1366x768 and the badge would go unseen.

#include "tandem/clinician/plan_review.h"
#include "view_util.h"

namespace tandem::clinician::views {

/// GUI thread only. The cells are the presenter's, with the badge added to column 2 (State).
class PlanCaseloadList : public CaseloadList {
public:
    PlanCaseloadList(wxWindow* parent, const CaseloadPresenter& presenter, const Model& model,
                     std::initializer_list<Column> columns, Look look)
        : CaseloadList(parent, presenter, columns, std::move(look)), presenter_(presenter), model_(model) {}

private:
    static constexpr long kStateColumn = 2;  // CaseloadPresenter::cell: 2 is crisis / AI paused

    wxString OnGetItemText(long item, long column) const override {
        const auto index = static_cast<std::size_t>(item);
        std::string text = presenter_.cell(index, static_cast<int>(column), now);
        if (column == kStateColumn) {
            const std::string badge = plan_badge(model_, presenter_.row(index).patient_id);
            if (!badge.empty()) text += text.empty() ? badge : " \u00b7 " + badge;
        }
        return u8(text);
    }

    const CaseloadPresenter& presenter_;
    const Model& model_;
};

}  // namespace tandem::clinician::views
