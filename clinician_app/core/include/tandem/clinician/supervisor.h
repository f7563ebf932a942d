#pragma once
// The supervisor's view: per therapist caseload size, open and overdue flags, and how quickly
// flags are acknowledged (median and p90 from opened to acknowledged); the audit trail filtered.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tandem/clinician/model.h"

namespace tandem::clinician {

struct TherapistStats {
    std::string therapist_id;  ///< empty for unassigned patients
    std::string name;
    std::size_t patients = 0;
    std::size_t open_flags = 0;     ///< unresolved
    std::size_t overdue_flags = 0;  ///< unacknowledged past deadline
    std::size_t acknowledged = 0;   ///< flags with an acknowledgement time (sample size)
    std::optional<std::chrono::milliseconds> median_to_ack;
    std::optional<std::chrono::milliseconds> p90_to_ack;
};

/// Nearest-rank percentile (p in (0,100]) of unsorted samples; nullopt when empty. Any thread.
std::optional<std::chrono::milliseconds> percentile(std::vector<std::chrono::milliseconds> samples, double p);

/// One row per therapist (and one for unassigned patients when any), sorted by overdue then
/// open flags, most first; the last row is the clinic total (therapist_id "*"). Any thread.
std::vector<TherapistStats> therapist_stats(const Model& model, TimePoint now);

struct AuditFilter {
    std::string patient_id;    ///< empty = any
    std::string clinician_id;  ///< empty = any
};

/// Audit entries matching the filter, newest first, at most `limit`. Any thread.
std::vector<AuditEntry> audit_trail(const Model& model, const AuditFilter& filter, std::size_t limit = 500);

}  // namespace tandem::clinician
