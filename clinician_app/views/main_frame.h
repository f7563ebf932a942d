#pragma once
// The main window: a thin layout of wx widgets over the presenters. It owns no rules: ranking,
// countdowns, permissions, notifications and locking are decided in tandem_clinician_core.

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <wx/frame.h>
#include <wx/timer.h>

#include "tandem/clinician/actions.h"
#include "tandem/clinician/auto_lock.h"
#include "tandem/clinician/caseload.h"
#include "tandem/clinician/conversation.h"
#include "tandem/clinician/flag_queue.h"
#include "tandem/clinician/model.h"
#include "tandem/clinician/notifications.h"
#include "tandem/clinician/session.h"

class wxListCtrl;
class wxListEvent;
class wxTextCtrl;
class wxStaticText;
class wxButton;
class wxPanel;
class wxNotebook;
class wxChoice;
class wxBoxSizer;
class wxSplitterWindow;
class wxCommandEvent;
class wxWindow;

namespace tandem::clinician::views {

class FlagList;
class CaseloadList;
class PlanReviewDialog;
class OutcomesPanel;
class SupervisorOutcomesPanel;

/// Where actions go: the live session, or the demo's simulated bridge.
using ActionSink = std::function<bool(const ActionRequest&)>;

/// Menu and control ids the GUI tests use.
enum MenuId : int {
    id_next_flag = 6000,
    id_previous_flag,
    id_acknowledge,
    id_open_patient,
    id_focus_composer,
    id_search,
    id_lock,
    id_pause_ai,
    id_clear_crisis,
    id_add_note,
    id_escalate,
    id_resolve,
    id_simulate_flag,
    id_show_flags,
    id_show_caseload,
    id_show_supervisor,
    id_reassign,
    id_shortcuts,
    id_plan_review,
};

/// GUI thread only.
class MainFrame : public wxFrame, public SessionListener {
public:
    MainFrame(Model& model, PasswordVerifier& verifier, bool demo);
    ~MainFrame() override;

    /// Sets where actions are sent (the session or the demo bridge).
    void set_action_sink(ActionSink sink) { sink_ = std::move(sink); }
    /// How a sent action stops being waited for (the live app: FeedSession::withdraw_action).
    void set_action_withdrawer(std::function<void(const std::string&)> withdrawer) {
        withdrawer_ = std::move(withdrawer);
    }
    /// Called when a patient is opened (the live app fetches their history from the bridge).
    void set_patient_opener(std::function<void(const std::string&)> opener) { opener_ = std::move(opener); }
    /// How the live app asks the bridge for a patient's plan versions (`fetch_plans`); false offline.
    void set_plan_fetcher(std::function<bool(const std::string&)> fetcher) { plan_fetcher_ = std::move(fetcher); }
    /// Opens the treatment plan review dialog for a patient (plan_review_dialog.cpp).
    void open_plan_review(const std::string& patient_id);
    /// A `plans` reply replaced the patient's versions in the model.
    void on_plans(const std::string& patient_id);
    /// The plan review dialog, nullptr until first opened (tests).
    PlanReviewDialog* plan_review() const { return plan_review_; }
    /// Online state for enabling actions and the status bar.
    void set_online(bool online, const std::string& status);
    /// Rebuilds lists and panes from the model now.
    void refresh_all();
    /// Marks the views stale; they refresh on the next timer tick (coalesces bursts of events).
    void mark_dirty() { dirty_ = true; }
    /// Feeds demo or session events for notifications (the model is already updated).
    void on_event(const StoredEvent& event, ApplyOutcome outcome, bool live) override;
    void on_caught_up(std::uint64_t head_seq) override;
    void on_logged_in(const ClinicianInfo& self) override;
    void on_transcript(const std::string& patient_id, std::size_t count) override;
    void on_state(SessionState state) override;
    void on_action_result(const std::string& action_id, bool ok, const std::string& error) override;
    void on_error(const Error& error, bool fatal) override;
    /// Keyboard or mouse input anywhere in the app (from wxApp::FilterEvent).
    void note_activity();

    // Read-only probes for the GUI tests.
    std::string selected_flag_id() const;
    std::string open_patient_id() const { return conversation_.patient_id(); }
    bool locked() const { return lock_.locked(); }
    bool transcript_visible() const;
    const std::vector<ActionRequest>& sent_actions() const { return sent_; }
    /// Actions sent to the bridge and not yet answered (ok, refused, or an envelope error).
    std::size_t waiting_actions() const { return waiting_.size(); }
    /// Desktop notifications shown so far (a daemon may or may not have displayed them).
    int notifications_shown() const { return notifications_shown_; }
    /// The status bar's first field (tests read what the person would read).
    std::string status_line() const;
    /// The held reply's id shown in the conversation pane, empty when none.
    const std::string& held_reply_id() const { return held_selected_; }
    /// The idle time after which the window locks (the clinic's, else ten minutes).
    std::chrono::minutes lock_idle() const { return lock_.idle(); }
    /// Sends an action as the menus and buttons do (refused offline, shown as waiting until answered).
    void send_action(const ActionRequest& request) { send(request); }
    /// Opens a patient's conversation (as selecting their row does).
    void show_patient(const std::string& patient_id) { open_patient(patient_id); }
    /// Presses "Release as written" on the held reply (tests; the button does the same).
    void release_held() {
        wxCommandEvent e;
        on_release(e);
    }
    /// The Outcomes tab beside the conversation, and the supervisor's Outcomes page (tests).
    OutcomesPanel* outcomes_panel() const { return outcomes_; }
    SupervisorOutcomesPanel* supervisor_outcomes_panel() const { return supervisor_outcomes_; }
    /// Locks now (the menu's Lock, and tests).
    void lock_now();
    /// Tries to unlock with a password; false when wrong.
    bool try_unlock(const std::string& password);

private:
    void build_menus();
    void build_body();
    // One builder per pane, each in its own file (flag_pane.cpp, caseload_pane.cpp, ...).
    void build_flag_page();
    void build_caseload_page();
    void build_supervisor_page();
    wxWindow* build_conversation_pane();
    void build_lock_panel();
    void refresh_status();
    void select_flag(std::size_t index);
    void open_patient(const std::string& patient_id);
    void refresh_conversation();
    void refresh_detail();
    void refresh_supervisor();
    void refresh_audit_trail();
    void refresh_actions();
    void send(const Result<ActionRequest>& request);
    /// send() for callers that need to know: true when the action went to the bridge (or the demo's).
    bool try_send(const ActionRequest& request);
    /// Stops waiting for an action's answer (an export that gave up): not counted as waiting,
    /// and the withdrawer tells the session.
    void withdraw_action(const std::string& action_id);
    void refresh_plan_review();
    /// The patient the plan button opens: the open patient, else the selected flag's.
    std::string plan_patient() const;
    std::string ask_note(const wxString& title, const wxString& prompt, bool required);
    void notify(const Notification& n);
    void on_tick();

    void on_next_flag(wxCommandEvent&);
    void on_previous_flag(wxCommandEvent&);
    void on_acknowledge(wxCommandEvent&);
    void on_add_note(wxCommandEvent&);
    void on_escalate(wxCommandEvent&);
    void on_resolve(wxCommandEvent&);
    void on_pause_ai(wxCommandEvent&);
    void on_clear_crisis(wxCommandEvent&);
    void on_send_message(wxCommandEvent&);
    void on_release(wxCommandEvent&);
    void on_edit_send(wxCommandEvent&);
    void on_discard(wxCommandEvent&);
    void on_reassign(wxCommandEvent&);

    Model& model_;
    PasswordVerifier& verifier_;
    bool demo_;
    bool online_ = false;
    bool dirty_ = true;
    std::string status_;
    ActionSink sink_;
    std::function<void(const std::string&)> withdrawer_;
    std::function<void(const std::string&)> opener_;
    std::function<bool(const std::string&)> plan_fetcher_;
    PlanReviewDialog* plan_review_ = nullptr;
    std::vector<ActionRequest> sent_;
    std::set<std::string> waiting_;  // action ids sent to the bridge, not yet answered
    std::string last_refusal_;
    int notifications_shown_ = 0;

    CaseloadPresenter caseload_;
    FlagQueuePresenter flags_;
    ConversationPresenter conversation_;
    NotificationPolicy notifications_;
    AutoLock lock_;
    std::string selected_flag_;
    std::string held_selected_;
    int demo_serial_ = 0;

    wxTimer timer_;
    wxPanel* root_ = nullptr;
    wxBoxSizer* root_sizer_ = nullptr;
    wxSplitterWindow* content_ = nullptr;
    wxPanel* lock_panel_ = nullptr;
    wxTextCtrl* lock_password_ = nullptr;
    wxStaticText* lock_message_ = nullptr;
    wxNotebook* tabs_ = nullptr;
    FlagList* flag_list_ = nullptr;
    CaseloadList* caseload_list_ = nullptr;
    wxTextCtrl* search_ = nullptr;
    wxChoice* filter_ = nullptr;
    wxPanel* supervisor_page_ = nullptr;
    wxListCtrl* stats_list_ = nullptr;
    wxListCtrl* audit_list_ = nullptr;
    std::string audit_clinician_;  ///< the therapist row selected: the audit trail shows only them
    bool rebuilding_stats_ = false;
    wxStaticText* header_ = nullptr;
    wxButton* pause_button_ = nullptr;
    wxButton* crisis_button_ = nullptr;
    wxStaticText* action_reason_ = nullptr;
    wxTextCtrl* detail_ = nullptr;
    wxButton* ack_button_ = nullptr;
    wxButton* note_button_ = nullptr;
    wxButton* escalate_button_ = nullptr;
    wxButton* resolve_button_ = nullptr;
    wxTextCtrl* transcript_ = nullptr;
    std::vector<Highlight> transcript_spans_;   // in transcript_ positions
    wxPanel* held_panel_ = nullptr;
    wxTextCtrl* held_text_ = nullptr;
    wxStaticText* held_label_ = nullptr;
    wxButton* release_button_ = nullptr;
    wxButton* edit_button_ = nullptr;
    wxButton* discard_button_ = nullptr;
    wxTextCtrl* composer_ = nullptr;
    wxButton* send_button_ = nullptr;
    OutcomesPanel* outcomes_ = nullptr;
    SupervisorOutcomesPanel* supervisor_outcomes_ = nullptr;
};

}  // namespace tandem::clinician::views
