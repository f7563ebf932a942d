#pragma once
// The clinician's encrypted local cache (issue 6, "Local encrypted cache"): what this clinician
// may see (caseload, flags, transcripts, audit lines, scored questionnaires and plan versions of
// the patients they may act on) and the feed cursor, in one SQLCipher file
// keyed from the clinician's password with Argon2id, so the app opens offline and resumes the
// feed from where it stopped. <sqlite3.h> and <argon2.h> stay in the .cpp.
//
// Files, in one directory per server, server certificate and username (default_cache_dir):
//   cache.db   the SQLCipher database (raw 256-bit key, no key on disk)
//   cache.key  the KDF's salt and cost and a check value of the derived key (not secret, 0600):
//              it tells a wrong password (nothing is touched) from a damaged cache (set aside).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tandem/clinician/model.h"
#include "tandem/domain/error.h"

namespace tandem::clinician {

/// Argon2id cost for the cache key. The default costs about a quarter of a second; tests pass less.
struct CacheKdf {
    std::uint32_t t_cost = 3;
    std::uint32_t m_cost_kib = 64 * 1024;
    std::uint32_t parallelism = 1;
};

/// What open() found.
struct CacheOpenReport {
    bool created = false;                         ///< a new, empty cache (first use or rebuilt)
    std::optional<std::filesystem::path> set_aside;  ///< where a damaged or superseded cache was moved
    std::string reason;                           ///< why it was set aside or upgraded, for the status bar
    std::optional<int> migrated_from;             ///< the older table format it was upgraded from
};

/// Rows the cache holds for one patient (tests, and what the docs promise about visibility).
struct CacheRowCounts {
    std::size_t assessments = 0;
    std::size_t plan_versions = 0;
};

/// $XDG_DATA_HOME/tandem/<server>/<certificate>/<username> (or ~/.local/share/...), <certificate>
/// being the first 16 hex digits of the pinned certificate's fingerprint (left out when empty):
/// another bridge database at the same address (a demo started over, a clinic that moved its
/// server) comes with another certificate, so its feed never resumes from this one's cursor.
/// Characters outside [A-Za-z0-9._-] in the parts become '_'. Any thread.
std::filesystem::path default_cache_dir(std::string_view server_key, std::string_view username,
                                        std::string_view certificate_fingerprint = {});

/// GUI thread only (one connection, not synchronised).
class LocalCache {
public:
    /// Opens the cache in `dir` (created 0700 if missing) with `password`, or creates it. Errors:
    /// wrong_key (the password does not match this cache; no file is changed), too_new (written
    /// by a newer app; no file is changed), io (naming the file), storage (SQLCipher's code). An
    /// older table format is upgraded in place (report().migrated_from; its cursor goes back to 0
    /// so the next sync fills what the old format did not keep). A damaged cache (unreadable key file, a database the
    /// right key cannot read, a failed page check) is renamed aside with a time suffix and a new
    /// empty one is created; report() says so and the feed then rebuilds it from the bridge.
    static Result<std::unique_ptr<LocalCache>> open(const std::filesystem::path& dir, std::string_view password,
                                                    const CacheKdf& kdf = {});
    /// Sets the existing cache aside (e.g. the password was changed on the bridge, which has just
    /// accepted the new one) and creates an empty one keyed from `password`. Errors as open().
    static Result<std::unique_ptr<LocalCache>> recreate(const std::filesystem::path& dir, std::string_view password,
                                                        std::string_view reason, const CacheKdf& kdf = {});

    ~LocalCache();
    LocalCache(const LocalCache&) = delete;
    LocalCache& operator=(const LocalCache&) = delete;

    /// What open() found (created, set aside).
    const CacheOpenReport& report() const { return report_; }
    /// The database file.
    const std::filesystem::path& path() const { return path_; }

    /// Fills an empty model with everything saved and sets its cursor. With
    /// `defer_questionnaires` the scored questionnaires are left for load_questionnaires(), so
    /// the caseload can be shown first (they are most of the rows in a long-running clinic).
    /// Errors: storage.
    Result<void> load(Model& model, bool defer_questionnaires = false);
    /// Adds the saved scored questionnaires to a model loaded with defer_questionnaires, without
    /// counting them as changes. Call before any feed event is applied. Errors: storage.
    Result<void> load_questionnaires(Model& model);
    /// Writes what changed in `model` since the last save (Model::take_changes) and the cursor, in
    /// one transaction: a crash leaves the rows and the cursor of one save or the previous one.
    /// Errors: storage (the changes are put back, so the next save retries them).
    Result<void> save(Model& model);
    /// The cursor last saved (0 for a new cache).
    std::uint64_t saved_cursor() const { return saved_cursor_; }
    /// How many scored questionnaires and plan versions are stored for `patient_id`. Errors: storage.
    Result<CacheRowCounts> outcome_rows(const std::string& patient_id) const;

    struct Impl;

private:
    LocalCache(std::unique_ptr<Impl> impl, std::filesystem::path path, CacheOpenReport report);
    std::unique_ptr<Impl> impl_;
    std::filesystem::path path_;
    CacheOpenReport report_;
    std::uint64_t saved_cursor_ = 0;
};

}  // namespace tandem::clinician
