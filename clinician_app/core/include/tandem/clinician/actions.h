#pragma once
// Clinician actions as protocol `action` frames (docs/PROTOCOL.md), each with a fresh client
// action id so a resend after reconnect is idempotent on the bridge, and the rules that enable
// or disable them (online, permission, required fields).

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/clinician/model.h"

namespace tandem::clinician {

struct ActionRequest {
    std::string action_id;
    std::string kind;        ///< "flag_acknowledge", "crisis_clear", ...
    nlohmann::json fields;   ///< the kind's fields, without action_id and kind

    /// The `action` envelope as JSON text, stamped with `envelope_id` and `now`. Any thread.
    std::string to_frame(const std::string& envelope_id, TimePoint now) const;
};

/// Whether an action may be taken now, and why not.
struct Availability {
    bool enabled = false;
    std::string reason;  ///< empty when enabled; shown in the view otherwise
};

/// Online, and the patient is this clinician's to act on. Any thread.
Availability availability(const Model& model, bool online, const std::string& patient_id);

/// Random UUIDv4 text for action and envelope ids. Any thread.
std::string new_uuid();

/// Builds action requests; fails (invalid_argument, naming the field) when a required note or
/// text is blank. Any thread.
namespace actions {
ActionRequest flag_acknowledge(const std::string& flag_id);
Result<ActionRequest> flag_annotate(const std::string& flag_id, const std::string& note);
ActionRequest flag_escalate(const std::string& flag_id, const std::string& note);
Result<ActionRequest> flag_resolve(const std::string& flag_id, bool risk_real, const std::string& note);
ActionRequest held_release(const std::string& message_id);
Result<ActionRequest> held_edit_send(const std::string& message_id, const std::string& text);
ActionRequest held_discard(const std::string& message_id, const std::string& note);
Result<ActionRequest> send_message(const std::string& patient_id, const std::string& text);
ActionRequest ai_pause(const std::string& patient_id);
ActionRequest ai_resume(const std::string& patient_id);
Result<ActionRequest> crisis_clear(const std::string& patient_id, const std::string& note);
ActionRequest patient_reassign(const std::string& patient_id, const std::string& therapist_id);
/// `report_exported` (issue 8): a patient's outcome report is about to be written as `format`
/// ("pdf" or "png") showing `assessment_count` scored questionnaires of `instruments` (ids, at
/// most 32, unique). No path or file name: a local path can carry a patient's name. Errors:
/// invalid_argument naming the field (format, instruments, assessment_count).
Result<ActionRequest> report_exported(const std::string& patient_id, const std::string& format,
                                      const std::vector<std::string>& instruments, std::size_t assessment_count);
}  // namespace actions

/// Actions sent and not yet answered by `action_result`. GUI thread only.
class PendingActions {
public:
    void add(const ActionRequest& request) { pending_.emplace(request.action_id, request); }
    /// Removes and returns the answered action; nullopt for an unknown or repeated result.
    std::optional<ActionRequest> complete(const std::string& action_id);
    /// Everything still unanswered, to resend after a reconnect (same action ids).
    std::vector<ActionRequest> unanswered() const;
    std::size_t size() const { return pending_.size(); }

private:
    std::map<std::string, ActionRequest> pending_;
};

}  // namespace tandem::clinician
