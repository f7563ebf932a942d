#pragma once
// The clinic's policy (SLA deadlines, idle lock, TOTP requirement, crisis resources per locale)
// as the log last wrote it: `tandem-bridge policy set` appends a whole Clinic record as a
// clinic_configured event, and a running bridge reads the newest one from the store.

#include <map>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/bridge/config.h"
#include "tandem/store/store.h"

namespace tandem::bridge {

/// One Clinic record (docs/ARCHITECTURE.md) with the policy fields the bridge applies.
struct ClinicSettings {
    std::string id = "clinic";
    std::string name = "Tandem clinic";
    std::string timezone = "UTC";
    int urgent_sla_minutes = 5;
    int second_escalation_minutes = 15;
    int idle_lock_minutes = 10;
    bool require_totp = false;
    bool share_trends_with_patients = false;  ///< patients see their own questionnaire trend
    std::map<std::string, std::vector<CrisisResource>> crisis_resources;  ///< locale -> resources

    /// The Clinic record (schemas/records/clinic.schema.json). Any thread.
    nlohmann::json record() const;
    /// The resources for `locale`, else en-US's, else the first locale's. Any thread.
    std::vector<CrisisResource> resources_for(const std::string& locale) const;
};

/// The settings a clinic without a clinic_configured event runs with: the config file's values.
ClinicSettings settings_from_config(const BridgeConfig& config);

/// Reads a Clinic record. Errors: schema (field = JSON pointer), as records/clinic. Any thread.
Result<ClinicSettings> settings_from_record(const nlohmann::json& record);

/// Appends `settings` as a clinic_configured event. Errors: schema, storage. Any thread.
Result<AppendResult> write_clinic_settings(Store& store, const ClinicSettings& settings, const Actor& actor);

/// The newest clinic_configured of the log (or the defaults given), kept current by refresh()
/// (incremental, so a `policy set` run beside a live bridge takes effect at the next refresh).
class ClinicPolicySource {
public:
    /// store must outlive this. Does not read yet: call refresh().
    ClinicPolicySource(Store& store, ClinicSettings defaults);
    /// Reads events appended since the last refresh. Errors: storage. Any thread.
    Result<void> refresh();
    /// Applies clinic_configured events from a page the caller read anyway (see
    /// AccountDirectory::follow), so refresh() has little left to read. Any thread.
    void follow(std::int64_t after_seq, std::span<const FeedEvent> events);
    /// The current settings. Any thread.
    ClinicSettings current();
    /// True when the log holds a clinic_configured event. Any thread.
    bool configured();

private:
    void apply(const StoredEvent& e);  // mutex_ held
    Store& store_;
    std::mutex mutex_;  // guards everything below; one refresh at a time
    std::int64_t cursor_ = 0;
    bool configured_ = false;
    ClinicSettings settings_;
};

}  // namespace tandem::bridge
