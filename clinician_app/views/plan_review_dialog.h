#pragma once
// The treatment plan review dialog (issue 7): the proposal beside the active plan with every
// difference marked (colour and a text marker), every field editable, the decision buttons and
// the version history with restore. A thin wx layer over PlanReview (tandem_clinician_core),
// which decides what is compared, what changed and which buttons are live.

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <wx/dialog.h>

#include "tandem/clinician/plan_review.h"

class wxButton;
class wxCheckBox;
class wxGrid;
class wxListCtrl;
class wxNotebook;
class wxStaticText;
class wxTextCtrl;
class wxScrolledWindow;

namespace tandem::clinician::views {

/// What the dialog needs from the window that owns it.
struct PlanDialogHooks {
    std::function<bool()> online;                          ///< actions need the bridge
    std::function<bool(const ActionRequest&)> send;        ///< true when the action went out
    std::function<bool(const std::string&)> fetch_plans;   ///< asks the bridge for every version
};

/// Modeless, so live events keep it current. GUI thread only.
class PlanReviewDialog : public wxDialog {
public:
    PlanReviewDialog(wxWindow* parent, const Model& model, PlanDialogHooks hooks);

    /// Shows the dialog for a patient (fetching their versions from the bridge) and raises it.
    void show_patient(const std::string& patient_id);
    /// Follows the model (new versions, decisions, online state); keeps what the clinician typed.
    void refresh();
    const std::string& patient_id() const { return review_.patient_id(); }

    // The buttons' handlers, public so the GUI tests press them without modal prompts.
    bool approve();
    bool approve_with_changes(const std::string& reason = {});
    bool reject(const std::string& reason);
    bool request_proposal();
    bool write_version(bool approve_now, const std::string& reason);
    bool restore(const std::string& plan_id, const std::string& reason);

    // Probes and edits for the GUI tests (the same paths typing takes).
    /// Overwrites goal `row` in the goals grid as if typed.
    void edit_goal(int row, const PlanGoalItem& goal);
    /// Types `text` into the AI guidance tone field.
    void edit_tone(const std::string& text);
    const PlanReview& review() const { return review_; }
    /// Whether the button with this label (without mnemonic or trailing ellipsis) is enabled.
    bool button_enabled(const std::string& label) const;
    /// 0 compare, 1 edit, 2 history.
    void show_page(int page);
    /// Selects the history row of a version (newest first) and shows its text.
    void select_history(int row);

private:
    void build();
    wxWindow* build_compare_page(wxNotebook* book);
    wxWindow* build_edit_page(wxNotebook* book);
    wxWindow* build_history_page(wxNotebook* book);
    void load_form();
    PlanContent read_form() const;
    void on_edited();
    void refresh_compare();
    void layout_compare_columns();
    void refresh_buttons();
    void refresh_history();
    void show_history_version();
    bool sent(const Result<ActionRequest>& request);
    /// A reason typed in a prompt; nullopt when cancelled (or blank when required).
    std::optional<std::string> ask(const wxString& title, const wxString& prompt, bool required);

    const Model& model_;
    PlanDialogHooks hooks_;
    PlanReview review_;
    bool loading_ = false;
    std::uint64_t seen_revision_ = static_cast<std::uint64_t>(-1);
    bool seen_online_ = false;
    std::vector<PlanHistoryRow> history_;
    std::string history_selected_;

    wxStaticText* title_ = nullptr;
    wxStaticText* summary_ = nullptr;
    wxStaticText* reason_ = nullptr;
    wxNotebook* book_ = nullptr;
    wxListCtrl* compare_ = nullptr;
    wxCheckBox* only_differences_ = nullptr;
    bool has_active_ = false;
    wxScrolledWindow* edit_page_ = nullptr;
    std::array<wxTextCtrl*, kPlanListCount> lists_{};
    std::array<wxStaticText*, kPlanListCount> list_labels_{};
    wxGrid* goals_ = nullptr;
    wxGrid* interventions_ = nullptr;
    wxGrid* assessments_ = nullptr;
    wxStaticText* goals_label_ = nullptr;
    wxStaticText* interventions_label_ = nullptr;
    wxStaticText* assessments_label_ = nullptr;
    wxTextCtrl* cadence_ = nullptr;
    wxTextCtrl* tone_ = nullptr;
    wxStaticText* cadence_label_ = nullptr;
    wxStaticText* tone_label_ = nullptr;
    wxListCtrl* history_list_ = nullptr;
    wxTextCtrl* history_text_ = nullptr;
    wxButton* restore_button_ = nullptr;
    wxButton* approve_button_ = nullptr;
    wxButton* approve_changes_button_ = nullptr;
    wxButton* reject_button_ = nullptr;
    wxButton* request_button_ = nullptr;
    wxButton* write_button_ = nullptr;
    wxButton* discard_button_ = nullptr;
};

}  // namespace tandem::clinician::views
