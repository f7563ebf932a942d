#include "tandem/clinician/local_cache.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <set>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "cache_key.h"
#include "cache_records.h"
#include "tandem/crypto/secret_buffer.h"

// Why not a tandem::SqlcipherStore: the store is the clinic's event log, which assigns its own
// gapless seqs and chains hashes; the cache mirrors a *projection* of the bridge's log (gapped
// seqs, rows rewritten in place as flags and messages change). Replaying raw events at launch
// was rejected too: 75,000 events cost most of the one-second launch budget in JSON parsing,
// while typed rows load in a fraction of it.

namespace tandem::clinician {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace cache_records;

// Of cache.db's tables (meta 'format'). 1: caseload, flags, messages, audit. 2: also scored
// questionnaires and plan versions (issue 8), so outcomes and plan history read offline.
constexpr int kDbFormat = 2;
// Bounds per patient: ten years of weekly questionnaires, and far more plan versions than a
// treatment ever has. Older rows are dropped from the cache (the bridge keeps them all; opening
// the patient online fetches them again).
constexpr int kMaxAssessmentsPerPatient = 520;
constexpr int kMaxPlanVersionsPerPatient = 50;

std::string safe_part(std::string_view s) {
    std::string out;
    for (char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '-' || c == '_';
        out.push_back(ok ? c : '_');
    }
    if (out.empty() || out == "." || out == "..") out = "_" + out;
    return out;
}

Error sql_error(sqlite3* db, std::string_view what) {
    return Error{ErrorCode::storage,
                 std::string(what) + ": " + (db != nullptr ? sqlite3_errmsg(db) : "out of memory") + " (extended code " +
                     std::to_string(db != nullptr ? sqlite3_extended_errcode(db) : SQLITE_NOMEM) + ")",
                 {}};
}

struct DbCloser {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;

struct StmtFinalizer {
    void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};

// A prepared statement with the few bind and column helpers the cache needs.
class Stmt {
public:
    static Result<Stmt> prepare(sqlite3* db, std::string_view sql) {
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &s, nullptr) != SQLITE_OK) {
            sqlite3_finalize(s);
            return std::unexpected(sql_error(db, "cannot prepare a cache statement"));
        }
        return Stmt(s);
    }
    void text(int i, std::string_view v) {
        sqlite3_bind_text(s_.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    void integer(int i, std::int64_t v) { sqlite3_bind_int64(s_.get(), i, v); }
    void null(int i) { sqlite3_bind_null(s_.get(), i); }
    void time(int i, const std::optional<TimePoint>& t) {
        if (t) integer(i, t->time_since_epoch().count());
        else null(i);
    }
    int step() { return sqlite3_step(s_.get()); }
    Result<void> run(std::string_view what) {
        const int rc = step();
        sqlite3_reset(s_.get());
        sqlite3_clear_bindings(s_.get());
        if (rc != SQLITE_DONE) return std::unexpected(sql_error(sqlite3_db_handle(s_.get()), what));
        return {};
    }
    std::string col_text(int i) const {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_.get(), i));
        return p == nullptr ? std::string{} : std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_.get(), i)));
    }
    std::int64_t col_int(int i) const { return sqlite3_column_int64(s_.get(), i); }
    bool col_null(int i) const { return sqlite3_column_type(s_.get(), i) == SQLITE_NULL; }
    std::optional<TimePoint> col_time(int i) const {
        if (col_null(i)) return std::nullopt;
        return TimePoint{std::chrono::milliseconds{col_int(i)}};
    }

private:
    explicit Stmt(sqlite3_stmt* s) : s_(s) {}
    std::unique_ptr<sqlite3_stmt, StmtFinalizer> s_;
};

Result<void> exec(sqlite3* db, const char* sql, std::string_view what) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return std::unexpected(sql_error(db, what));
    return {};
}

// ---- the database -------------------------------------------------------------------------

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clinicians(id TEXT PRIMARY KEY, username TEXT, display_name TEXT, roles TEXT, active INTEGER);
CREATE TABLE IF NOT EXISTS patients(id TEXT PRIMARY KEY, display_name TEXT, therapist TEXT, conditions TEXT,
  in_crisis INTEGER, ai_paused INTEGER, last_activity INTEGER);
CREATE TABLE IF NOT EXISTS flags(id TEXT PRIMARY KEY, patient_id TEXT, conversation_id TEXT, message_id TEXT,
  severity TEXT, categories TEXT, status TEXT, opened_at INTEGER, sla_deadline INTEGER, escalation_level INTEGER,
  notes TEXT, acknowledged_by TEXT, acknowledged_at INTEGER, resolved_by TEXT, resolved_at INTEGER, risk_real INTEGER);
CREATE TABLE IF NOT EXISTS messages(id TEXT PRIMARY KEY, conversation_id TEXT, patient_id TEXT, sender TEXT,
  sender_id TEXT, text TEXT, state TEXT, created_at INTEGER, seq INTEGER, risk TEXT);
CREATE TABLE IF NOT EXISTS audit(seq INTEGER, at INTEGER, clinician_id TEXT, type TEXT, patient_id TEXT);
CREATE TABLE IF NOT EXISTS assessments(id TEXT PRIMARY KEY, patient_id TEXT NOT NULL, instrument TEXT, items TEXT,
  score INTEGER, band TEXT, administered_at INTEGER, completed_at INTEGER);
CREATE INDEX IF NOT EXISTS assessments_by_patient ON assessments(patient_id);
CREATE TABLE IF NOT EXISTS plans(id TEXT PRIMARY KEY, patient_id TEXT NOT NULL, version INTEGER, record TEXT);
CREATE INDEX IF NOT EXISTS plans_by_patient ON plans(patient_id);
)sql";

// Opens and keys the database; proves the key by reading the schema and checks every page's
// HMAC. nullopt-with-reason means damaged (the key is known to be right, so a failure here is
// the file's fault, not the password's).
struct Opened {
    DbPtr db;
    std::string damage;  // non-empty: the file is damaged
};

Result<Opened> open_db(const fs::path& path, const SecretBuffer& key) {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                   nullptr);
    DbPtr db(raw);
    if (rc != SQLITE_OK) return std::unexpected(sql_error(raw, "cannot open " + path.string()));
    // SQLCipher's raw-key form x'<64 hex>' skips its own PBKDF2 (Argon2 already stretched the
    // password); built in a self-wiping buffer so the hex key never sits in a std::string.
    SecretBuffer text(3 + 2 * key.size());
    auto out = text.mutable_bytes();
    static constexpr char kHex[] = "0123456789abcdef";
    out[0] = std::byte{'x'};
    out[1] = std::byte{'\''};
    for (std::size_t i = 0; i < key.size(); ++i) {
        const auto b = static_cast<unsigned>(key.bytes()[i]);
        out[2 + 2 * i] = static_cast<std::byte>(kHex[b >> 4]);
        out[3 + 2 * i] = static_cast<std::byte>(kHex[b & 15]);
    }
    out[text.size() - 1] = std::byte{'\''};
    if (sqlite3_key(db.get(), text.bytes().data(), static_cast<int>(text.size())) != SQLITE_OK) {
        return std::unexpected(sql_error(db.get(), "cannot key the cache"));
    }
    Opened o;
    if (sqlite3_exec(db.get(), "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr) != SQLITE_OK) {
        o.damage = std::string("unreadable with the right key (") + sqlite3_errmsg(db.get()) + ")";
        o.db = std::move(db);
        return o;
    }
    // Every page's HMAC, so a flipped byte deep in a transcript is found now, not mid-session.
    sqlite3_stmt* check = nullptr;
    if (sqlite3_prepare_v2(db.get(), "PRAGMA cipher_integrity_check", -1, &check, nullptr) == SQLITE_OK) {
        if (sqlite3_step(check) == SQLITE_ROW) {
            const auto* m = reinterpret_cast<const char*>(sqlite3_column_text(check, 0));
            o.damage = std::string("page check failed: ") + (m != nullptr ? m : "?");
        }
    }
    sqlite3_finalize(check);
    o.db = std::move(db);
    return o;
}

std::string now_suffix() {
    std::string t = format_utc(now_ms());
    for (char& c : t) {
        if (c == ':') c = '-';
    }
    return t;
}

// Moves cache.db (with its WAL and shared-memory files) and cache.key aside; returns the new name.
Result<fs::path> set_aside(const fs::path& dir, std::string_view why) {
    const fs::path base = dir / "cache.db";
    const fs::path aside = dir / ("cache.db." + std::string(why) + "-" + now_suffix());
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"}) {
        const fs::path from = base.string() + suffix;
        if (fs::exists(from, ec)) {
            fs::rename(from, aside.string() + suffix, ec);
            if (ec) return fail(ErrorCode::io, "cannot set aside " + from.string() + ": " + ec.message());
        }
    }
    const fs::path key = dir / "cache.key";
    if (fs::exists(key, ec)) fs::rename(key, aside.string() + ".key", ec);
    if (ec) return fail(ErrorCode::io, "cannot set aside " + key.string() + ": " + ec.message());
    return aside;
}

}  // namespace

fs::path default_cache_dir(std::string_view server_key, std::string_view username,
                           std::string_view certificate_fingerprint) {
    fs::path base;
    if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg != '\0') {
        base = xdg;
    } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
        base = fs::path(home) / ".local" / "share";
    } else {
        base = fs::temp_directory_path();
    }
    fs::path dir = base / "tandem" / safe_part(server_key);
    if (!certificate_fingerprint.empty()) dir /= safe_part(certificate_fingerprint.substr(0, 16));
    return dir / safe_part(username);
}

struct LocalCache::Impl {
    DbPtr db;
};

LocalCache::LocalCache(std::unique_ptr<Impl> impl, fs::path path, CacheOpenReport report)
    : impl_(std::move(impl)), path_(std::move(path)), report_(std::move(report)) {}

LocalCache::~LocalCache() = default;

namespace {

Result<std::unique_ptr<LocalCache::Impl>> create_fresh(const fs::path& dir, std::string_view password,
                                                      const CacheKdf& kdf) {
    const cache_key::NewKey fresh = cache_key::new_key(password, kdf);
    // Created empty and owner-only first: SQLite would use the umask, and gives its WAL and
    // shared-memory files the database file's mode.
    const int fd = ::open((dir / "cache.db").c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return fail(ErrorCode::io, "cannot create " + (dir / "cache.db").string());
    ::close(fd);
    auto opened = open_db(dir / "cache.db", fresh.key);
    if (!opened) return std::unexpected(opened.error());
    if (!opened->damage.empty()) return fail(ErrorCode::storage, "a new cache is unreadable: " + opened->damage);
    // The key file goes last: a crash before it leaves a database without one, which the next
    // open treats as damaged and replaces (it held nothing yet).
    if (auto w = cache_key::write(dir / "cache.key", fresh.file); !w) return std::unexpected(w.error());
    auto impl = std::make_unique<LocalCache::Impl>();
    impl->db = std::move(opened->db);
    return impl;
}

// The cache's table format, 0 when the database has no tables yet (just created).
Result<int> db_format(sqlite3* db) {
    auto has_meta = Stmt::prepare(db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='meta'");
    if (!has_meta) return std::unexpected(has_meta.error());
    if (has_meta->step() != SQLITE_ROW || has_meta->col_int(0) == 0) return 0;
    auto s = Stmt::prepare(db, "SELECT value FROM meta WHERE key='format'");
    if (!s) return std::unexpected(s.error());
    if (s->step() != SQLITE_ROW) return 0;
    return std::atoi(s->col_text(0).c_str());
}

// Creates the tables, or brings an older cache up to kDbFormat. `migrated` says from which.
Result<void> prepare_schema(sqlite3* db, int* migrated_from = nullptr) {
    auto format = db_format(db);
    if (!format) return std::unexpected(format.error());
    // Checked before anything is written: a newer app's cache is left exactly as it is.
    if (*format > kDbFormat) {
        return fail(ErrorCode::too_new, "the offline cache was written by a newer Tandem Clinician (format " +
                                            std::to_string(*format) + "); it was left unchanged");
    }
    if (auto r = exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "cannot set the cache journal"); !r) {
        return r;
    }
    if (auto r = exec(db, kSchema, "cannot create the cache tables"); !r) return r;
    if (*format == 1) {
        // Format 1 never kept questionnaires or plans, so what arrived before its cursor is not
        // in it. Replaying the feed once from 0 fills the new tables (the replay is idempotent
        // for every row but the audit lines, which it rebuilds, hence their deletion); the rows
        // already cached stay readable offline meanwhile. Rejected: keeping the cursor and
        // relying on per-patient fetches, which leaves the supervisor's caseload table short.
        if (auto r = exec(db,
                          "BEGIN IMMEDIATE; DELETE FROM audit; UPDATE meta SET value='0' WHERE key='cursor'; "
                          "UPDATE meta SET value='2' WHERE key='format'; COMMIT;",
                          "cannot upgrade the cache");
            !r) {
            sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
            return r;
        }
        if (migrated_from != nullptr) *migrated_from = 1;
    }
    return exec(db, "INSERT OR IGNORE INTO meta(key, value) VALUES('format', '2'), ('cursor', '0')",
                "cannot initialise the cache");
}

}  // namespace

Result<std::unique_ptr<LocalCache>> LocalCache::open(const fs::path& dir, std::string_view password,
                                                     const CacheKdf& kdf) {
    if (password.empty()) return fail(ErrorCode::invalid_argument, "the cache needs the password", "password");
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return fail(ErrorCode::io, "cannot create " + dir.string() + ": " + ec.message());
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);

    const fs::path db_path = dir / "cache.db";
    CacheOpenReport report;
    std::unique_ptr<Impl> impl;
    const bool db_exists = fs::exists(db_path, ec);
    const auto key_file = cache_key::read(dir / "cache.key");
    if (db_exists && key_file) {
        const auto key = cache_key::unlock(password, *key_file, db_path);
        if (!key) return std::unexpected(key.error());
        auto opened = open_db(db_path, *key);
        if (!opened) return std::unexpected(opened.error());
        if (opened->damage.empty()) {
            impl = std::make_unique<Impl>();
            impl->db = std::move(opened->db);
            int migrated_from = 0;
            if (auto s = prepare_schema(impl->db.get(), &migrated_from); !s) {
                // A newer app's cache is not damage: refuse it and leave it for that app.
                if (s.error().code == ErrorCode::too_new) return std::unexpected(s.error());
                // Readable pages but not our tables: damaged in a way the page check missed.
                report.reason = s.error().message;
                impl.reset();
            } else if (migrated_from != 0) {
                report.migrated_from = migrated_from;
                report.reason = "the offline cache was upgraded to keep questionnaires and plans; it refills from "
                                "the bridge on the next connection";
            }
        } else {
            report.reason = opened->damage;
        }
    } else if (db_exists) {
        report.reason = "its key file is missing or unreadable";
    }
    if (!impl) {
        if (db_exists) {
            auto aside = set_aside(dir, "damaged");
            if (!aside) return std::unexpected(aside.error());
            report.set_aside = *aside;
        }
        auto fresh = create_fresh(dir, password, kdf);
        if (!fresh) return std::unexpected(fresh.error());
        impl = std::move(*fresh);
        if (auto s = prepare_schema(impl->db.get()); !s) return std::unexpected(s.error());
        report.created = true;
    }
    std::unique_ptr<LocalCache> cache(new LocalCache(std::move(impl), db_path, std::move(report)));
    auto cursor = Stmt::prepare(cache->impl_->db.get(), "SELECT value FROM meta WHERE key='cursor'");
    if (!cursor) return std::unexpected(cursor.error());
    if (cursor->step() == SQLITE_ROW) cache->saved_cursor_ = std::strtoull(cursor->col_text(0).c_str(), nullptr, 10);
    return cache;
}

Result<std::unique_ptr<LocalCache>> LocalCache::recreate(const fs::path& dir, std::string_view password,
                                                         std::string_view reason, const CacheKdf& kdf) {
    std::error_code ec;
    std::optional<fs::path> aside;
    if (fs::exists(dir / "cache.db", ec) || fs::exists(dir / "cache.key", ec)) {
        auto moved = set_aside(dir, "superseded");
        if (!moved) return std::unexpected(moved.error());
        aside = *moved;
    }
    auto cache = open(dir, password, kdf);
    if (!cache) return cache;
    (*cache)->report_.set_aside = aside;
    (*cache)->report_.reason = std::string(reason);
    return cache;
}

namespace {

// Scored questionnaires and plan versions: written only for patients this clinician may keep
// (model.may_keep_outcomes_of), and removed for patients they may no longer keep (reassigned
// away, or a supervisor role taken back), so a therapist's cache never holds another
// therapist's patients' outcomes. Bounded per patient (kMax...PerPatient). Inside save()'s
// transaction.
Result<void> save_outcomes(sqlite3* db, const Model& model, const ModelChanges& changes) {
    std::set<std::string> touched;  // patients whose outcome rows were written (bounds apply)
    if (!changes.assessments.empty()) {
        auto s = Stmt::prepare(db, "INSERT OR REPLACE INTO assessments VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
        if (!s) return std::unexpected(s.error());
        const auto& all = model.assessments().all();
        for (const auto& id : changes.assessments) {
            const auto it = all.find(id);
            if (it == all.end()) continue;
            const AssessmentPoint& a = it->second;
            if (!a.score || !model.may_keep_outcomes_of(a.patient_id)) continue;
            s->text(1, a.id);
            s->text(2, a.patient_id);
            s->text(3, a.instrument);
            s->text(4, items_text(a.items));
            s->integer(5, *a.score);
            s->text(6, a.band);
            s->time(7, a.administered_at);
            s->time(8, a.completed_at);
            if (auto r = s->run("cannot save a questionnaire"); !r) return r;
            touched.insert(a.patient_id);
        }
    }
    if (!changes.plan_patients.empty()) {
        // A `plans` reply replaces a patient's versions, so the rows are replaced alike.
        auto drop = Stmt::prepare(db, "DELETE FROM plans WHERE patient_id=?1");
        auto put = Stmt::prepare(db, "INSERT OR REPLACE INTO plans VALUES(?1, ?2, ?3, ?4)");
        if (!drop) return std::unexpected(drop.error());
        if (!put) return std::unexpected(put.error());
        for (const auto& pid : changes.plan_patients) {
            drop->text(1, pid);
            if (auto r = drop->run("cannot replace a patient's plans"); !r) return r;
            if (!model.may_keep_outcomes_of(pid)) continue;
            for (const PlanVersion* v : model.plans().history(pid)) {
                put->text(1, v->id);
                put->text(2, pid);
                put->integer(3, v->version);
                put->text(4, plan_record(*v).dump());
                if (auto r = put->run("cannot save a plan version"); !r) return r;
            }
            touched.insert(pid);
        }
    }
    if (!touched.empty()) {
        // One grouped count finds the few patients over a bound; trimming every touched patient
        // was measured at half a second for a first save of 5,000 patients.
        for (const auto& [table, order, limit] :
             {std::tuple<const char*, const char*, int>{"assessments", "coalesce(completed_at, administered_at)",
                                                        kMaxAssessmentsPerPatient},
              {"plans", "version", kMaxPlanVersionsPerPatient}}) {
            std::vector<std::string> over;
            auto count = Stmt::prepare(db, std::string("SELECT patient_id FROM ") + table +
                                               " GROUP BY patient_id HAVING count(*) > ?1");
            if (!count) return std::unexpected(count.error());
            count->integer(1, limit);
            while (count->step() == SQLITE_ROW) {
                if (std::string pid = count->col_text(0); touched.count(pid) != 0) over.push_back(std::move(pid));
            }
            auto trim = Stmt::prepare(db, std::string("DELETE FROM ") + table + " WHERE patient_id=?1 AND id NOT IN " +
                                              "(SELECT id FROM " + table + " WHERE patient_id=?1 ORDER BY " + order +
                                              " DESC LIMIT ?2)");
            if (!trim) return std::unexpected(trim.error());
            for (const auto& pid : over) {
                trim->text(1, pid);
                trim->integer(2, limit);
                if (auto r = trim->run("cannot bound the cached questionnaires and plans"); !r) return r;
            }
        }
    }
    // Who may be kept changes with an assignment (a patient row) or this clinician's roles.
    if (changes.self_or_policy || !changes.patients.empty()) {
        std::vector<std::string> gone;
        auto s = Stmt::prepare(db, "SELECT patient_id FROM assessments UNION SELECT patient_id FROM plans");
        if (!s) return std::unexpected(s.error());
        while (s->step() == SQLITE_ROW) {
            std::string pid = s->col_text(0);
            if (!model.may_keep_outcomes_of(pid)) gone.push_back(std::move(pid));
        }
        for (const char* sql : {"DELETE FROM assessments WHERE patient_id=?1", "DELETE FROM plans WHERE patient_id=?1"}) {
            auto del = Stmt::prepare(db, sql);
            if (!del) return std::unexpected(del.error());
            for (const auto& pid : gone) {
                del->text(1, pid);
                if (auto r = del->run("cannot remove outcomes this clinician may no longer keep"); !r) return r;
            }
        }
    }
    return {};
}

}  // namespace

Result<void> LocalCache::load(Model& model, bool defer_questionnaires) {
    sqlite3* db = impl_->db.get();
    ClinicianInfo self;
    ClinicPolicy policy;
    {
        auto s = Stmt::prepare(db, "SELECT key, value FROM meta WHERE key IN ('self', 'policy')");
        if (!s) return std::unexpected(s.error());
        while (s->step() == SQLITE_ROW) {
            const json j = json::parse(s->col_text(1), nullptr, false);
            if (s->col_text(0) == "self") {
                if (auto c = parse_clinician(j)) self = std::move(*c);
            } else {
                policy = parse_policy(j);
            }
        }
    }
    model.restore_identity(std::move(self), policy);
    {
        auto s = Stmt::prepare(db, "SELECT id, username, display_name, roles, active FROM clinicians");
        if (!s) return std::unexpected(s.error());
        while (s->step() == SQLITE_ROW) {
            model.restore_clinician(
                ClinicianInfo{s->col_text(0), s->col_text(1), s->col_text(2), roles_of(s->col_text(3)), s->col_int(4) != 0});
        }
    }
    {
        auto s = Stmt::prepare(db, "SELECT id, display_name, therapist, conditions, in_crisis, ai_paused, last_activity "
                                   "FROM patients");
        if (!s) return std::unexpected(s.error());
        while (s->step() == SQLITE_ROW) {
            PatientInfo p;
            p.id = s->col_text(0);
            p.display_name = s->col_text(1);
            p.assigned_therapist_id = s->col_text(2);
            p.conditions = conditions_of(s->col_text(3));
            p.in_crisis = s->col_int(4) != 0;
            p.ai_paused = s->col_int(5) != 0;
            p.last_activity = s->col_time(6);
            model.restore_patient(std::move(p));
        }
    }
    {
        auto s = Stmt::prepare(db, "SELECT id, patient_id, conversation_id, message_id, severity, categories, status, "
                                   "opened_at, sla_deadline, escalation_level, notes, acknowledged_by, acknowledged_at, "
                                   "resolved_by, resolved_at, risk_real FROM flags");
        if (!s) return std::unexpected(s.error());
        while (s->step() == SQLITE_ROW) {
            FlagInfo f;
            f.id = s->col_text(0);
            f.patient_id = s->col_text(1);
            f.conversation_id = s->col_text(2);
            f.message_id = s->col_text(3);
            f.severity = parse_severity(s->col_text(4)).value_or(Severity::moderate);
            f.categories = categories_of(s->col_text(5));
            f.status = parse_flag_status(s->col_text(6)).value_or(FlagStatus::open);
            f.opened_at = s->col_time(7).value_or(TimePoint{});
            f.sla_deadline = s->col_time(8).value_or(f.opened_at);
            f.escalation_level = static_cast<int>(s->col_int(9));
            if (!s->col_null(10)) f.notes = notes_of(s->col_text(10));
            f.acknowledged_by = s->col_text(11);
            f.acknowledged_at = s->col_time(12);
            f.resolved_by = s->col_text(13);
            f.resolved_at = s->col_time(14);
            if (!s->col_null(15)) f.risk_real = s->col_int(15) != 0;
            model.restore_flag(std::move(f));
        }
    }
    {
        auto s = Stmt::prepare(db, "SELECT id, conversation_id, patient_id, sender, sender_id, text, state, created_at, "
                                   "seq, risk FROM messages ORDER BY seq");
        if (!s) return std::unexpected(s.error());
        while (s->step() == SQLITE_ROW) {
            MessageInfo m;
            m.id = s->col_text(0);
            m.conversation_id = s->col_text(1);
            m.patient_id = s->col_text(2);
            m.sender = parse_sender(s->col_text(3)).value_or(Sender::system);
            m.sender_id = s->col_text(4);
            m.text = s->col_text(5);
            m.state = parse_message_state(s->col_text(6)).value_or(MessageState::delivered);
            m.created_at = s->col_time(7).value_or(TimePoint{});
            m.seq = static_cast<std::uint64_t>(s->col_int(8));
            if (!s->col_null(9)) {
                if (auto r = parse_risk(json::parse(s->col_text(9), nullptr, false))) m.risk = std::move(*r);
            }
            model.restore_message(std::move(m));
        }
    }
    {
        auto s = Stmt::prepare(db, "SELECT seq, at, clinician_id, type, patient_id FROM audit ORDER BY rowid");
        if (!s) return std::unexpected(s.error());
        while (s->step() == SQLITE_ROW) {
            model.restore_audit(AuditEntry{static_cast<std::uint64_t>(s->col_int(0)),
                                           s->col_time(1).value_or(TimePoint{}), s->col_text(2), s->col_text(3),
                                           s->col_text(4)});
        }
    }
    if (!defer_questionnaires) {
        if (auto r = load_questionnaires(model); !r) return r;
    }
    {
        auto s = Stmt::prepare(db, "SELECT record FROM plans ORDER BY patient_id, version");
        if (!s) return std::unexpected(s.error());
        while (s->step() == SQLITE_ROW) {
            if (auto v = parse_plan(json::parse(s->col_text(0), nullptr, false))) model.restore_plan(std::move(*v));
        }
    }
    model.restore_cursor(saved_cursor_);
    return {};
}

Result<void> LocalCache::load_questionnaires(Model& model) {
    sqlite3* db = impl_->db.get();
    {
        auto s = Stmt::prepare(db, "SELECT id, patient_id, instrument, items, score, band, administered_at, completed_at "
                                   "FROM assessments");
        if (!s) return std::unexpected(s.error());
        while (s->step() == SQLITE_ROW) {
            AssessmentPoint a;
            a.id = s->col_text(0);
            a.patient_id = s->col_text(1);
            a.instrument = s->col_text(2);
            a.items = items_of(s->col_text(3));
            if (!s->col_null(4)) a.score = static_cast<int>(s->col_int(4));
            a.band = s->col_text(5);
            a.administered_at = s->col_time(6).value_or(TimePoint{});
            a.completed_at = s->col_time(7);
            // Only scored results were saved; a row without a score is not charted anyway.
            if (a.id.empty() || a.patient_id.empty() || !a.score) continue;
            model.restore_assessment(std::move(a));
        }
    }
    return {};
}

Result<CacheRowCounts> LocalCache::outcome_rows(const std::string& patient_id) const {
    CacheRowCounts out;
    for (auto [table, into] : {std::pair<const char*, std::size_t*>{"assessments", &out.assessments},
                               {"plans", &out.plan_versions}}) {
        auto s = Stmt::prepare(impl_->db.get(), std::string("SELECT count(*) FROM ") + table + " WHERE patient_id=?1");
        if (!s) return std::unexpected(s.error());
        s->text(1, patient_id);
        if (s->step() == SQLITE_ROW) *into = static_cast<std::size_t>(s->col_int(0));
    }
    return out;
}

Result<void> LocalCache::save(Model& model) {
    if (!model.has_changes()) return {};
    sqlite3* db = impl_->db.get();
    ModelChanges changes = model.take_changes();
    auto write = [&]() -> Result<void> {
        if (auto r = exec(db, "BEGIN IMMEDIATE", "cannot start a cache write"); !r) return r;
        if (changes.self_or_policy) {
            auto s = Stmt::prepare(db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)");
            if (!s) return std::unexpected(s.error());
            s->text(1, "self");
            s->text(2, clinician_json(model.self()).dump());
            if (auto r = s->run("cannot save the clinician"); !r) return r;
            const auto& p = model.policy();
            s->text(1, "policy");
            s->text(2, policy_json(p).dump());
            if (auto r = s->run("cannot save the clinic policy"); !r) return r;
        }
        if (!changes.clinicians.empty()) {
            auto s = Stmt::prepare(db, "INSERT OR REPLACE INTO clinicians VALUES(?1, ?2, ?3, ?4, ?5)");
            if (!s) return std::unexpected(s.error());
            for (const auto& id : changes.clinicians) {
                const auto it = model.clinicians().find(id);
                if (it == model.clinicians().end()) continue;
                const auto& c = it->second;
                s->text(1, c.id);
                s->text(2, c.username);
                s->text(3, c.display_name);
                s->text(4, roles_json(c.roles).dump());
                s->integer(5, c.active ? 1 : 0);
                if (auto r = s->run("cannot save a clinician"); !r) return r;
            }
        }
        if (!changes.patients.empty()) {
            auto s = Stmt::prepare(db, "INSERT OR REPLACE INTO patients VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
            if (!s) return std::unexpected(s.error());
            for (const auto& id : changes.patients) {
                const auto* p = model.patient(id);
                if (p == nullptr) continue;
                s->text(1, p->id);
                s->text(2, p->display_name);
                s->text(3, p->assigned_therapist_id);
                s->text(4, json(p->conditions).dump());
                s->integer(5, p->in_crisis ? 1 : 0);
                s->integer(6, p->ai_paused ? 1 : 0);
                s->time(7, p->last_activity);
                if (auto r = s->run("cannot save a patient"); !r) return r;
            }
        }
        if (!changes.flags.empty()) {
            auto s = Stmt::prepare(db, "INSERT OR REPLACE INTO flags VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                                       "?11, ?12, ?13, ?14, ?15, ?16)");
            if (!s) return std::unexpected(s.error());
            for (const auto& id : changes.flags) {
                const auto* f = model.flag(id);
                if (f == nullptr) continue;
                s->text(1, f->id);
                s->text(2, f->patient_id);
                s->text(3, f->conversation_id);
                s->text(4, f->message_id);
                s->text(5, to_string(f->severity));
                s->text(6, categories_text(f->categories));
                s->text(7, to_string(f->status));
                s->time(8, f->opened_at);
                s->time(9, f->sla_deadline);
                s->integer(10, f->escalation_level);
                if (f->notes.empty()) s->null(11);
                else s->text(11, notes_json(f->notes).dump());
                s->text(12, f->acknowledged_by);
                s->time(13, f->acknowledged_at);
                s->text(14, f->resolved_by);
                s->time(15, f->resolved_at);
                if (f->risk_real) s->integer(16, *f->risk_real ? 1 : 0);
                else s->null(16);
                if (auto r = s->run("cannot save a flag"); !r) return r;
            }
        }
        if (!changes.messages.empty()) {
            auto s = Stmt::prepare(db, "INSERT OR REPLACE INTO messages VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
            if (!s) return std::unexpected(s.error());
            for (const auto& id : changes.messages) {
                const auto* m = model.message(id);
                if (m == nullptr) continue;
                s->text(1, m->id);
                s->text(2, m->conversation_id);
                s->text(3, m->patient_id);
                s->text(4, to_string(m->sender));
                s->text(5, m->sender_id);
                s->text(6, m->text);
                s->text(7, to_string(m->state));
                s->time(8, m->created_at);
                s->integer(9, static_cast<std::int64_t>(m->seq));
                if (m->risk) s->text(10, risk_json(*m->risk).dump());
                else s->null(10);
                if (auto r = s->run("cannot save a message"); !r) return r;
            }
        }
        if (changes.audit_from < model.audit().size()) {
            auto s = Stmt::prepare(db, "INSERT INTO audit VALUES(?1, ?2, ?3, ?4, ?5)");
            if (!s) return std::unexpected(s.error());
            for (std::size_t i = changes.audit_from; i < model.audit().size(); ++i) {
                const auto& a = model.audit()[i];
                s->integer(1, static_cast<std::int64_t>(a.seq));
                s->time(2, a.at);
                s->text(3, a.clinician_id);
                s->text(4, a.type);
                s->text(5, a.patient_id);
                if (auto r = s->run("cannot save an audit line"); !r) return r;
            }
        }
        if (auto r = save_outcomes(db, model, changes); !r) return r;
        auto s = Stmt::prepare(db, "UPDATE meta SET value=?1 WHERE key='cursor'");
        if (!s) return std::unexpected(s.error());
        s->text(1, std::to_string(model.cursor()));
        if (auto r = s->run("cannot save the cursor"); !r) return r;
        return exec(db, "COMMIT", "cannot commit a cache write");
    };
    if (auto r = write(); !r) {
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        model.requeue_changes(std::move(changes));
        return r;
    }
    saved_cursor_ = model.cursor();
    return {};
}

}  // namespace tandem::clinician
