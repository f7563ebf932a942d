#pragma once
// Clinician accounts: Clinician records kept as clinician_added / clinician_updated events,
// passwords hashed with Argon2id (libargon2), and patient assignment. Shared by the admin
// subcommands of tandem-bridge and by the clinician service.

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tandem/store/store.h"

namespace tandem::bridge {

/// Argon2id cost. The defaults follow OWASP's minimum (19 MiB, 2 passes); tests lower them.
struct PasswordPolicy {
    std::uint32_t t_cost = 2;
    std::uint32_t m_cost_kib = 19 * 1024;
    std::uint32_t parallelism = 1;
    std::size_t min_length = 10;
};

/// The Argon2id PHC string ("$argon2id$v=19$m=...") of `password` with a fresh 16-byte salt.
/// Errors: invalid_argument (shorter than policy.min_length or over 1024 bytes). Any thread.
Result<std::string> hash_password(std::string_view password, const PasswordPolicy& policy);
/// True when `password` matches the PHC string `encoded`. Constant-time compare. Any thread.
bool verify_password(const std::string& encoded, std::string_view password) noexcept;

/// One clinician as the log last wrote it. `password_hash` never leaves the bridge.
struct ClinicianAccount {
    std::string id;
    std::string username;
    std::string display_name;
    std::vector<std::string> roles;  ///< therapist, supervisor, admin
    bool active = true;
    std::string created_at;
    std::string password_hash;
    std::string totp_secret;  ///< base32 TOTP secret; empty until `clinician totp-enroll`
    bool has_role(std::string_view role) const;
    /// The store Principal for this clinician's reads.
    Principal principal() const;
    /// The Clinician record of docs/ARCHITECTURE.md (without the hash).
    nlohmann::json record() const;
};

/// The clinicians of the log, rebuilt from clinician_added / clinician_updated events and kept
/// current by refresh() (incremental, so accounts made by another process are found).
class AccountDirectory {
public:
    /// store must outlive this. Does not read yet: call refresh().
    explicit AccountDirectory(Store& store);

    /// Reads events appended since the last refresh. Errors: storage. Any thread.
    Result<void> refresh();
    /// Applies account events from a page the caller read anyway (the clinician feed's shared
    /// read of every new event: log_tail.h follow_read_events), so refresh() has little left to
    /// read. Returns true when an account changed. Any thread.
    bool follow(std::int64_t after_seq, std::span<const FeedEvent> events);
    /// Lookups on the current index (call refresh() first when freshness matters). Any thread.
    std::optional<ClinicianAccount> by_username(std::string_view username);
    std::optional<ClinicianAccount> by_id(std::string_view id);
    std::vector<ClinicianAccount> all();

    /// Adds a clinician (clinician_added by `actor`). Errors: invalid_argument (username not
    /// 1-64 of [a-z0-9_.-], unknown role, no role, weak password), conflict (username taken),
    /// storage. Any thread.
    Result<ClinicianAccount> add(const std::string& username, const std::string& display_name,
                                 const std::vector<std::string>& roles, std::string_view password,
                                 const PasswordPolicy& policy, const Actor& actor);
    /// Enables or disables a clinician (clinician_updated). Errors: not_found, storage.
    Result<void> set_active(const std::string& id, bool active, const Actor& actor);
    /// Sets a new password (clinician_updated). Errors: not_found, invalid_argument, storage.
    Result<void> reset_password(const std::string& id, std::string_view password, const PasswordPolicy& policy,
                                const Actor& actor);
    /// Gives the clinician (id or username) a fresh 160-bit TOTP secret, replacing any earlier
    /// one (clinician_updated), and returns it in base32: the only time it is shown.
    /// Errors: not_found, storage. Any thread.
    Result<std::string> enroll_totp(const std::string& id, const Actor& actor);

private:
    Result<void> write(const ClinicianAccount& account, EventType type, const Actor& actor);
    bool apply(const StoredEvent& e);  // mutex_ held; true for an account event
    Store& store_;
    std::mutex mutex_;  // guards the index; one refresh at a time
    std::int64_t cursor_ = 0;
    std::unordered_map<std::string, ClinicianAccount> by_id_;
    std::unordered_map<std::string, std::string> id_by_username_;
};

/// Assigns a patient to a therapist (patient_assigned). Errors: not_found (patient),
/// invalid_argument (therapist unknown, inactive or without the therapist role), storage.
/// Any thread.
Result<AppendResult> assign_patient(Store& store, AccountDirectory& accounts, const std::string& patient_id,
                                    const std::string& therapist_id, const Actor& actor,
                                    std::optional<std::string> dedupe_key = std::nullopt);

}  // namespace tandem::bridge
