#include "tandem/bridge/accounts.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include <argon2.h>
#include <openssl/crypto.h>

#include "tandem/bridge/log_tail.h"
#include "tandem/bridge/wire.h"
#include "tandem/crypto/random.h"
#include "tandem/crypto/totp.h"

namespace tandem::bridge {
namespace {

using json = nlohmann::json;

constexpr std::string_view kRoles[] = {"therapist", "supervisor", "admin"};

bool valid_username(std::string_view u) {
    return !u.empty() && u.size() <= 64 && std::all_of(u.begin(), u.end(), [](char c) {
        return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
               c == '_' || c == '.' || c == '-';
    });
}

}  // namespace

Result<std::string> hash_password(std::string_view password, const PasswordPolicy& policy) {
    if (password.size() < policy.min_length)
        return fail(ErrorCode::invalid_argument,
                    "password must be at least " + std::to_string(policy.min_length) + " bytes", "password");
    if (password.size() > 1024) return fail(ErrorCode::invalid_argument, "password over 1024 bytes", "password");
    auto raw_salt = random_bytes(16);
    constexpr std::size_t hash_len = 32;
    const std::size_t len = argon2_encodedlen(policy.t_cost, policy.m_cost_kib, policy.parallelism, 16, hash_len,
                                              Argon2_id);
    std::string encoded(len, '\0');
    const int rc = argon2id_hash_encoded(policy.t_cost, policy.m_cost_kib, policy.parallelism, password.data(),
                                         password.size(), raw_salt.data(), raw_salt.size(), hash_len, encoded.data(),
                                         encoded.size());
    OPENSSL_cleanse(raw_salt.data(), raw_salt.size());
    if (rc != ARGON2_OK) return fail(ErrorCode::invalid_argument, std::string("argon2: ") + argon2_error_message(rc));
    encoded.resize(std::strlen(encoded.c_str()));
    return encoded;
}

bool verify_password(const std::string& encoded, std::string_view password) noexcept {
    if (encoded.empty()) return false;
    return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

bool ClinicianAccount::has_role(std::string_view role) const {
    return std::find(roles.begin(), roles.end(), role) != roles.end();
}

Principal ClinicianAccount::principal() const {
    Principal p;
    p.clinician_id = id;
    p.therapist = has_role("therapist");
    p.supervisor = has_role("supervisor");
    p.admin = has_role("admin");
    return p;
}

json ClinicianAccount::record() const {
    return {{"id", id},       {"clinic_id", "clinic"}, {"username", username}, {"display_name", display_name},
            {"roles", roles}, {"active", active},      {"created_at", created_at}};
}

AccountDirectory::AccountDirectory(Store& store) : store_(store) {}

Result<void> AccountDirectory::refresh() {
    const std::lock_guard lock(mutex_);
    return read_log_after(store_, cursor_, [this](const StoredEvent& e) { apply(e); });
}

// Every new event went through refresh() once per second (and per login), which re-read and
// re-parsed the whole log tail: 1.7% of the bridge's CPU at 450 msg/s. The feed's shared read
// sees the same events, so it hands them over and refresh() only reads what it has not yet
// passed on. Rejected: a type-filtered store read (a new Store method and index on the
// write path, which two other changes were editing).
bool AccountDirectory::follow(std::int64_t after_seq, std::span<const FeedEvent> events) {
    const std::lock_guard lock(mutex_);
    bool changed = false;
    follow_read_events(cursor_, after_seq, events, [&](const StoredEvent& e) { changed = apply(e) || changed; });
    return changed;
}

bool AccountDirectory::apply(const StoredEvent& e) {
    if (e.type != EventType::clinician_added && e.type != EventType::clinician_updated) return false;
    ClinicianAccount a;
    a.id = e.payload.value("id", "");
    if (a.id.empty()) return false;
    a.username = e.payload.value("username", "");
    a.display_name = e.payload.value("display_name", "");
    a.roles = e.payload.value("roles", std::vector<std::string>{});
    a.active = e.payload.value("active", true);
    a.created_at = e.payload.value("created_at", e.time);
    a.password_hash = e.payload.value("password_hash", "");
    a.totp_secret = e.payload.value("totp_secret", "");
    if (const auto old = by_id_.find(a.id); old != by_id_.end()) id_by_username_.erase(old->second.username);
    id_by_username_[a.username] = a.id;
    by_id_[a.id] = std::move(a);
    return true;
}

std::optional<ClinicianAccount> AccountDirectory::by_username(std::string_view username) {
    const std::lock_guard lock(mutex_);
    const auto it = id_by_username_.find(std::string(username));
    if (it == id_by_username_.end()) return std::nullopt;
    return by_id_.at(it->second);
}

std::optional<ClinicianAccount> AccountDirectory::by_id(std::string_view id) {
    const std::lock_guard lock(mutex_);
    const auto it = by_id_.find(std::string(id));
    if (it == by_id_.end()) return std::nullopt;
    return it->second;
}

std::vector<ClinicianAccount> AccountDirectory::all() {
    const std::lock_guard lock(mutex_);
    std::vector<ClinicianAccount> out;
    for (const auto& [id, a] : by_id_) out.push_back(a);
    std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.username < y.username; });
    return out;
}

Result<void> AccountDirectory::write(const ClinicianAccount& account, EventType type, const Actor& actor) {
    NewEvent e;
    e.type = type;
    e.actor = actor;
    e.payload = account.record();
    // The hash travels in the (encrypted) log so accounts survive restarts; the feed and
    // `audit list` strip it before anything leaves the bridge.
    e.payload["password_hash"] = account.password_hash;
    if (!account.totp_secret.empty()) e.payload["totp_secret"] = account.totp_secret;
    if (type == EventType::clinician_added) e.dedupe_key = "clinician:" + account.username;
    auto r = store_.append(std::move(e));
    if (!r) return std::unexpected(r.error());
    if (r->duplicate) return fail(ErrorCode::conflict, "username already taken", "username");
    return refresh();
}

Result<ClinicianAccount> AccountDirectory::add(const std::string& username, const std::string& display_name,
                                               const std::vector<std::string>& roles, std::string_view password,
                                               const PasswordPolicy& policy, const Actor& actor) {
    if (!valid_username(username))
        return fail(ErrorCode::invalid_argument, "username must be 1-64 characters of [a-z0-9_.-]", "username");
    if (roles.empty()) return fail(ErrorCode::invalid_argument, "at least one role is required", "roles");
    for (const auto& r : roles)
        if (std::find(std::begin(kRoles), std::end(kRoles), r) == std::end(kRoles))
            return fail(ErrorCode::invalid_argument, "unknown role '" + r + "'", "roles");
    if (auto r = refresh(); !r) return std::unexpected(r.error());
    if (by_username(username)) return fail(ErrorCode::conflict, "username already taken", "username");
    auto hash = hash_password(password, policy);
    if (!hash) return std::unexpected(hash.error());
    ClinicianAccount a;
    a.id = new_id();
    a.username = username;
    a.display_name = display_name.empty() ? username : display_name;
    a.roles = roles;
    a.created_at = utc_now_text();
    a.password_hash = std::move(*hash);
    if (auto r = write(a, EventType::clinician_added, actor); !r) return std::unexpected(r.error());
    return a;
}

Result<void> AccountDirectory::set_active(const std::string& id, bool active, const Actor& actor) {
    if (auto r = refresh(); !r) return r;
    auto a = by_id(id);
    if (!a) a = by_username(id);  // admins type usernames; ids work too
    if (!a) return fail(ErrorCode::not_found, "no such clinician", "clinician");
    a->active = active;
    return write(*a, EventType::clinician_updated, actor);
}

Result<void> AccountDirectory::reset_password(const std::string& id, std::string_view password,
                                              const PasswordPolicy& policy, const Actor& actor) {
    if (auto r = refresh(); !r) return r;
    auto a = by_id(id);
    if (!a) a = by_username(id);
    if (!a) return fail(ErrorCode::not_found, "no such clinician", "clinician");
    auto hash = hash_password(password, policy);
    if (!hash) return std::unexpected(hash.error());
    a->password_hash = std::move(*hash);
    return write(*a, EventType::clinician_updated, actor);
}

Result<std::string> AccountDirectory::enroll_totp(const std::string& id, const Actor& actor) {
    if (auto r = refresh(); !r) return std::unexpected(r.error());
    auto a = by_id(id);
    if (!a) a = by_username(id);
    if (!a) return fail(ErrorCode::not_found, "no such clinician", "clinician");
    // 20 bytes: RFC 4226's recommended length for HMAC-SHA1 keys.
    const auto key = random_secret(20);
    a->totp_secret = base32_encode(key.bytes());
    if (auto r = write(*a, EventType::clinician_updated, actor); !r) return std::unexpected(r.error());
    return a->totp_secret;
}

Result<AppendResult> assign_patient(Store& store, AccountDirectory& accounts, const std::string& patient_id,
                                    const std::string& therapist_id, const Actor& actor,
                                    std::optional<std::string> dedupe_key) {
    auto p = store.find_patient(patient_id);
    if (!p) return std::unexpected(p.error());
    if (!*p) return fail(ErrorCode::not_found, "no such patient", "patient_id");
    if (auto r = accounts.refresh(); !r) return std::unexpected(r.error());
    auto t = accounts.by_id(therapist_id);
    if (!t) t = accounts.by_username(therapist_id);
    if (!t || !t->active || !t->has_role("therapist"))
        return fail(ErrorCode::invalid_argument, "not an active therapist", "therapist_id");
    NewEvent e;
    e.type = EventType::patient_assigned;
    e.patient_id = patient_id;
    e.actor = actor;
    e.payload = {{"patient_id", patient_id}, {"assigned_therapist_id", t->id}, {"at", utc_now_text()}};
    e.dedupe_key = std::move(dedupe_key);
    return store.append(std::move(e));
}

}  // namespace tandem::bridge
