#pragma once
// A built-in synthetic clinic for `tandem-clinician --demo`, screenshots and GUI tests: fictional
// patients and invented lines, fed through the same event path as the bridge's feed.

#include <cstddef>
#include <vector>

#include "tandem/clinician/model.h"

namespace tandem::clinician {

/// The demo's logged-in clinician: "Dr Demo Ames", therapist and supervisor.
ClinicianInfo demo_self();

/// Stored events for a clinic of `patients` fictional patients (at least 8) with conversations,
/// risk assessments, open and overdue flags, a crisis and a held AI reply, timed around `now`.
/// Deterministic for a given `patients` and `now`. Any thread.
std::vector<StoredEvent> demo_events(TimePoint now, std::size_t patients = 36);

/// One more live event for the demo's "a new flag arrives" moment: a new imminent flag with
/// its message, numbered after `after_seq`. Any thread.
std::vector<StoredEvent> demo_live_flag(TimePoint now, std::uint64_t after_seq, int serial);

}  // namespace tandem::clinician

namespace tandem::clinician {

struct ActionRequest;

/// The demo's stand-in bridge: the events the bridge would append for `action`, numbered after
/// the model's cursor and made by the model's self. Empty for kinds the demo does not simulate. Any thread.
std::vector<StoredEvent> demo_bridge_events(const Model& model, const ActionRequest& action, TimePoint now);

}  // namespace tandem::clinician
