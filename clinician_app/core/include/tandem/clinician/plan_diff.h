#pragma once
// A field-by-field comparison of a plan (a proposal, or the clinician's edit of it) against the
// active approved plan, as rows the review dialog shows side by side. Pure: tested without wx.

#include <string>
#include <string_view>
#include <vector>

#include "tandem/clinician/plan_history.h"

namespace tandem::clinician {

enum class DiffKind { same, added, removed, changed };

/// One compared entry: a list item, a goal, an intervention, a scheduled questionnaire or a text field.
struct PlanDiffRow {
    std::string section;  ///< "Goals", "Homework", "AI guidance: tone", ...
    DiffKind kind = DiffKind::same;
    std::string active;    ///< the entry in the active plan; empty when added
    std::string proposal;  ///< the entry in the compared plan; empty when removed
    std::string detail;    ///< what changed inside an entry ("measure, target date"); empty otherwise
};

/// Compares `proposal` against `active` (nullptr: no approved plan yet, so everything is added).
/// Sections come in the dialog's order; list entries match by their text (ignoring surrounding
/// spaces), goals by description, interventions by name, questionnaires by instrument and week;
/// an unmatched goal or intervention facing an unmatched one at the same place reads as changed.
/// Any thread.
std::vector<PlanDiffRow> diff_plans(const PlanContent* active, const PlanContent& proposal);

/// The text marker that goes with the colour ("+ added", "− removed", "~ changed", ""). Any thread.
std::string_view diff_marker(DiffKind kind) noexcept;

/// One line for a goal ("Walk daily · measure: ... · by 2026-12-31") and the like. Any thread.
std::string describe(const PlanGoalItem& goal);
std::string describe(const PlanInterventionItem& intervention);
std::string describe(const PlanAssessmentItem& assessment);

/// The whole plan as readable text (the history's version viewer). Any thread.
std::string plan_text(const PlanContent& content);

}  // namespace tandem::clinician
