#pragma once
// Reviewing a patient's treatment plan (issue 7): the plan actions as protocol `action` frames
// (plan_request, plan_decide, plan_write, plan_restore; the contract's fields), who may take
// them, and the review dialog's state (which proposal, what the clinician edited, which buttons
// are live) without wx.

#include <optional>
#include <string>
#include <vector>

#include "tandem/clinician/actions.h"
#include "tandem/clinician/model.h"
#include "tandem/clinician/plan_diff.h"
#include "tandem/clinician/plan_history.h"

namespace tandem::clinician {

/// The content as it would be sent: surrounding spaces trimmed, blank list lines and wholly
/// blank goal/intervention rows dropped. invalid_argument names the first bad field
/// ("goals[1].target_date": a date is YYYY-MM-DD; "checkin_cadence" and "ai_guidance.tone"
/// may not be blank; a goal needs description, measure and date). Any thread.
Result<PlanContent> checked_plan_content(const PlanContent& content);

namespace actions {
/// Asks the bridge for a new proposal now. Any thread.
ActionRequest plan_request(const std::string& patient_id);
/// Approves a proposed version as it stands; conflict when it is not waiting for a decision. Any thread.
Result<ActionRequest> plan_approve(const PlanVersion& proposal);
/// Stores `edited` as a new approved version and rejects the proposal; invalid_argument when the
/// content is not valid or equals the proposal (then Approve is the right button). Any thread.
Result<ActionRequest> plan_approve_with_changes(const PlanVersion& proposal, const PlanContent& edited,
                                                const std::string& reason = {});
/// Rejects a proposed version; the reason is required. Any thread.
Result<ActionRequest> plan_reject(const PlanVersion& proposal, const std::string& reason);
/// A clinician's own version, approved at once when `approve`. Any thread.
Result<ActionRequest> plan_write(const std::string& patient_id, const PlanContent& content, bool approve,
                                 const std::string& reason = {});
/// Copies an earlier version into a new approved one; the reason is required. Any thread.
Result<ActionRequest> plan_restore(const PlanVersion& version, const std::string& reason);
}  // namespace actions

/// Which plan buttons are live, and why not.
struct PlanButtons {
    bool approve = false;               ///< a proposal waits and this clinician may decide
    bool approve_with_changes = false;  ///< as approve, and the edit differs from the proposal
    bool reject = false;
    bool request = false;               ///< may ask for a new proposal
    bool write = false;                 ///< may write (and approve) a version
    bool restore = false;               ///< may restore an earlier version
    std::string reason;                 ///< why the decision buttons are off; empty when on
};

/// The review dialog's state for one patient. GUI thread only.
class PlanReview {
public:
    /// Starts reviewing `patient_id`: the edit buffer is loaded on the next refresh().
    void open(const std::string& patient_id);
    const std::string& patient_id() const { return patient_id_; }
    /// Follows the model: picks the proposal waiting for review (the newest) and reloads the edit
    /// buffer from it, unless the clinician has edited; returns true when the buffer was reloaded.
    bool refresh(const Model& model);

    /// The proposal under review, or nullptr (none waits, or it was decided meanwhile).
    const PlanVersion* proposal(const Model& model) const;
    /// The approved version the proposal is compared with, or nullptr.
    const PlanVersion* active(const Model& model) const;
    /// What the edit started from: the proposal, else the active plan, else an empty plan.
    const PlanContent& base() const { return base_; }
    /// The clinician's edit (starts equal to base()).
    const PlanContent& edited() const { return edited_; }
    /// Replaces the edit buffer (the view calls it on every change).
    void set_edited(PlanContent content) { edited_ = std::move(content); }
    /// True when the edit differs from base() once trimmed (so "Approve with changes" means something).
    bool has_edits() const;
    /// Throws the edit away: back to base().
    void discard_edits() { edited_ = base_; }

    /// The edit compared with the active plan, row by row.
    std::vector<PlanDiffRow> rows(const Model& model) const;
    /// The buttons' state for this clinician now.
    PlanButtons buttons(const Model& model, bool online) const;
    /// "Proposal v3 (AI, 26 Nov 10:00) compared with active v2" and the like.
    std::string summary(const Model& model) const;

private:
    std::string patient_id_;
    std::string proposal_id_;  // the proposal the buffer was loaded from; empty: none
    int base_version_ = 0;     // the version base_ came from (0: an empty plan)
    PlanContent base_;
    PlanContent edited_;
    bool loaded_ = false;
};

/// One line of the history list.
struct PlanHistoryRow {
    std::string plan_id;
    int version = 0;
    std::string status;    ///< "approved (active)", "proposed: awaiting review", "rejected", "superseded"
    std::string proposer;  ///< "AI" or the clinician's name
    std::string approver;  ///< who decided, empty when undecided
    std::string reason;
    std::string created;   ///< UTC "2026-11-26 10:00"
    std::string decided;
    std::string based_on;  ///< "v2" when edited or restored from v2
};

/// The patient's versions, newest first, with names resolved. GUI thread.
std::vector<PlanHistoryRow> plan_history_rows(const Model& model, const std::string& patient_id);

/// The caseload badge for a patient: "● plan to review" (with a count above one), or empty. GUI thread.
std::string plan_badge(const Model& model, const std::string& patient_id);

}  // namespace tandem::clinician
