#pragma once
// When to raise a desktop notification and what the title badge says. A notification names the
// severity and the patient's initials only: it may show on a shared screen or a lock screen, so
// it never carries message text or a full name.

#include <optional>
#include <set>
#include <string>

#include "tandem/clinician/model.h"

namespace tandem::clinician {

struct Notification {
    std::string flag_id;
    std::string title;  ///< "Imminent risk flag"
    std::string body;   ///< "Patient A. R. needs review (SLA 5:00)"
    Severity severity = Severity::high;
};

/// GUI thread only.
class NotificationPolicy {
public:
    /// After `event` was applied: a notification for a new high or imminent flag this clinician
    /// is responsible for (or, for a supervisor, any such flag and any escalation). While the
    /// backlog is replaying (`live` false) nothing is raised; see on_caught_up().
    std::optional<Notification> on_event(const Model& model, const StoredEvent& event, bool live, TimePoint now);
    /// At `caught_up`: one summary for urgent flags still waiting, if any and not yet notified.
    std::optional<Notification> on_caught_up(const Model& model);
    /// Unacknowledged high/imminent flags this clinician is responsible for.
    std::size_t badge_count(const Model& model) const;
    /// "Tandem Clinician (3)" or "Tandem Clinician".
    std::string window_title(const Model& model) const;

private:
    bool responsible_for(const Model& model, const FlagInfo& flag) const;
    std::set<std::string> notified_;
};

/// "A. R." from "Alex Rivera"; "?" when empty. Any thread.
std::string initials(const std::string& name);

}  // namespace tandem::clinician
