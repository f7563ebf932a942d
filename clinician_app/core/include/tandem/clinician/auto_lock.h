#pragma once
// Auto-lock: after the clinic's idle time the window locks and needs the password again. The
// timer logic is here (pure, tested with made-up times); the view feeds it activity and ticks.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "tandem/clinician/time_text.h"

namespace tandem::clinician {

/// Checks the unlock password without keeping it: a salted PBKDF2-SHA256 verifier in memory.
class PasswordVerifier {
public:
    /// Remembers a verifier for `password`. GUI thread.
    void set(std::string_view password);
    /// True when `password` matches what set() saw; false when nothing was set.
    bool verify(std::string_view password) const;
    bool empty() const { return salt_.empty(); }

private:
    std::vector<std::uint8_t> salt_;
    std::array<std::uint8_t, 32> digest_{};
};

/// GUI thread only.
class AutoLock {
public:
    explicit AutoLock(std::chrono::minutes idle = std::chrono::minutes{10}) : idle_(idle) {}
    /// The clinic's idle_lock_minutes; values below one minute are raised to one.
    void set_idle(std::chrono::minutes idle);
    std::chrono::minutes idle() const { return idle_; }
    /// Keyboard or mouse input at `now` (ignored while locked).
    void activity(TimePoint now);
    /// Call about once a second; returns true exactly when this tick locked the window.
    bool tick(TimePoint now);
    /// Locks at once (menu "Lock now").
    void lock() { locked_ = true; }
    /// Unlocks when the verifier accepts the password; the idle clock restarts at `now`.
    bool unlock(const PasswordVerifier& verifier, std::string_view password, TimePoint now);
    bool locked() const { return locked_; }
    /// Time left before locking at `now` (zero when locked or due).
    std::chrono::milliseconds remaining(TimePoint now) const;

private:
    std::chrono::minutes idle_;
    std::optional<TimePoint> last_activity_;
    bool locked_ = false;
};

}  // namespace tandem::clinician
