// The encrypted local cache on a real SQLCipher file in a temp dir: round trip of everything the
// views show, a wrong password, a missing key file. (Offline reading and rebuilding from the
// bridge run against the real bridge in test_real_bridge.cpp.)
#include <catch2/catch_test_macros.hpp>

#include <argon2.h>
#include <sqlite3.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "tandem/clinician/actions.h"
#include "tandem/clinician/local_cache.h"
#include "tandem/clinician/outcome_demo.h"
#include "tandem/clinician/outcome_presenter.h"
#include "tandem/clinician/outcome_table.h"
#include "tandem/clinician/password_file.h"
#include "tandem/clinician/plan_review.h"
#include "tandem/measures/measures.h"
#include "test_support.h"

using namespace tandem;
using namespace tandem::clinician;
using namespace tandem::clinician::testing;
using nlohmann::json;
using std::chrono::minutes;

namespace {

constexpr CacheKdf kCheapKdf{1, 64, 1};

// A TreatmentPlan record as the bridge stores it (content kept short: the cache stores it whole).
json plan_record(const std::string& id, const std::string& patient_id, int version, const std::string& status) {
    PlanContent c;
    c.list(PlanList::presenting_problems) = {"low mood"};
    c.goals = {{"Walk three times a week", "walks per week", "2026-12-31"}};
    c.interventions = {{"behavioural activation", "one small pleasant activity a day"}};
    c.checkin_cadence = "daily";
    c.assessment_schedule = {{"phq9", 0}, {"phq9", 4}};
    c.list(PlanList::warning_signs) = {"staying in bed all day"};
    c.tone = "warm, version " + std::to_string(version);
    json p = plan_content_json(c);
    p.update(json{{"id", id}, {"patient_id", patient_id}, {"version", version}, {"status", status},
                  {"proposer", {{"kind", "ai"}}}, {"created_at", format_utc(t0() + minutes{version})}});
    return p;
}

// Scored questionnaires and plan versions for a patient: PHQ-9 16 → 11 → 7, GAD-7 13 → 6, a
// WAI-SR; plan v1 approved, v2 proposed (the caseload's "plan to review" badge). Events from `seq`.
std::uint64_t add_outcomes(Model& model, std::uint64_t seq, const std::string& pid) {
    const auto week = std::chrono::milliseconds{7LL * 24 * 3600 * 1000};
    const int phq[] = {16, 11, 7};
    for (int i = 0; i < 3; ++i) {
        model.apply(demo_assessment_event(++seq, pid, "phq9", phq[i], t0() + i * 4 * week, pid + "-phq-" + std::to_string(i)));
    }
    model.apply(demo_assessment_event(++seq, pid, "gad7", 13, t0(), pid + "-gad-0"));
    model.apply(demo_assessment_event(++seq, pid, "gad7", 6, t0() + 8 * week, pid + "-gad-1"));
    model.apply(demo_assessment_event(++seq, pid, "wai_sr", 48, t0() + 4 * week, pid + "-wai-0"));
    model.apply(event(++seq, "plan_proposed", pid, plan_record(pid + "-plan1", pid, 1, "proposed")));
    model.apply(event(++seq, "plan_approved", pid, {{"plan_id", pid + "-plan1"}, {"approver_id", "t1"}}, t0() + minutes{3}, "t1"));
    model.apply(event(++seq, "plan_proposed", pid, plan_record(pid + "-plan2", pid, 2, "proposed")));
    return seq;
}

void fill(Model& model) {
    model.set_self(ClinicianInfo{"t1", "tara", "Tara T", {Role::therapist}, true});
    model.apply(event(1, "clinician_added", "", {{"id", "t2"}, {"username", "sam"}, {"display_name", "Sam S"},
                                                  {"roles", json::array({"therapist", "supervisor"})}}));
    model.apply(event(2, "patient_registered", "p1", patient("p1", "Alex Rivera", "t1")));
    auto m = message("m1", "p1", "patient", "I feel unsafe tonight", t0());
    m["risk"] = {{"severity", "high"}, {"categories", json::array({"suicidal_ideation"})}, {"cssrs_level", 3},
                 {"spans", json::array({{{"begin", 2}, {"end", 6}, {"rule_id", "r1"}, {"rationale", "why"}}})},
                 {"rationale", "r"}};
    model.apply(event(4, "message_appended", "p1", m));
    model.apply(event(5, "message_appended", "p1", message("m2", "p1", "ai", "held draft", t0(), "held")));
    model.apply(event(7, "flag_opened", "p1", flag("f1", "p1", "high", t0(), t0() + minutes{5}, "m1")));
    model.apply(event(8, "flag_annotated", "p1",
                      {{"flag_id", "f1"}, {"note", {{"clinician_id", "t1"}, {"at", format_utc(t0())}, {"text", "called"}}}},
                      t0(), "t1"));
    model.apply(event(9, "crisis_entered", "p1", json::object()));
    add_outcomes(model, 20, "p1");
}

// Runs SQL on the cache file as another version of the app would: the key derived from the
// password and cache.key exactly as the cache derives it (Argon2id raw, SQLCipher raw key).
void rewrite_cache(const std::filesystem::path& dir, const std::string& password, const char* sql) {
    std::ifstream in(dir / "cache.key");
    const json k = json::parse(in);
    std::vector<std::uint8_t> salt;
    const std::string hex = k.at("salt").get<std::string>();
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) salt.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    std::uint8_t key[32];
    REQUIRE(argon2id_hash_raw(k.at("t_cost").get<std::uint32_t>(), k.at("m_cost_kib").get<std::uint32_t>(),
                              k.at("parallelism").get<std::uint32_t>(), password.data(), password.size(), salt.data(),
                              salt.size(), key, sizeof key) == ARGON2_OK);
    std::string raw = "x'";
    for (auto b : key) {
        static constexpr char kHex[] = "0123456789abcdef";
        raw += kHex[b >> 4];
        raw += kHex[b & 15];
    }
    raw += "'";
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir / "cache.db").c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_key(db, raw.data(), static_cast<int>(raw.size())) == SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
    INFO((error != nullptr ? error : ""));
    sqlite3_free(error);
    sqlite3_close(db);
    REQUIRE(rc == SQLITE_OK);
}

std::string bytes_of(const std::filesystem::path& p) {
    std::string out(std::filesystem::file_size(p), '\0');
    std::ifstream in(p, std::ios::binary);
    in.read(out.data(), static_cast<std::streamsize>(out.size()));
    return out;
}

}  // namespace

TEST_CASE("the cache gives back caseload, flags, transcripts, audit and cursor as saved", "[clinician][cache]") {
    TempDir dir;
    Model model;
    fill(model);
    {
        auto cache = LocalCache::open(dir.path(), "pw", kCheapKdf);
        REQUIRE(cache);
        CHECK((*cache)->report().created);
        REQUIRE((*cache)->save(model));
        CHECK_FALSE(model.has_changes());
        // Only what changed is written next time, and a later state replaces the row.
        const auto seq = model.cursor();
        model.apply(event(seq + 1, "message_state_changed", "p1", {{"message_id", "m2"}, {"state", "delivered"}}));
        model.apply(event(seq + 2, "flag_acknowledged", "p1", {{"flag_id", "f1"}}, t0() + minutes{1}, "t1"));
        REQUIRE((*cache)->save(model));
    }
    Model back;
    auto cache = LocalCache::open(dir.path(), "pw", kCheapKdf);
    REQUIRE(cache);
    CHECK_FALSE((*cache)->report().created);
    REQUIRE((*cache)->load(back));
    CHECK(back.cursor() == model.cursor());
    CHECK_FALSE(back.has_changes());
    CHECK(back.self().username == "tara");
    CHECK(back.clinician_name("t2") == "Sam S");
    CHECK(back.clinicians().at("t2").has_role(Role::supervisor));
    const auto* p = back.patient("p1");
    REQUIRE(p != nullptr);
    CHECK(p->display_name == "Alex Rivera");
    CHECK(p->assigned_therapist_id == "t1");
    CHECK(p->in_crisis);
    CHECK(p->last_activity == model.patient("p1")->last_activity);
    const auto* f = back.flag("f1");
    REQUIRE(f != nullptr);
    CHECK(f->status == clinician::FlagStatus::acknowledged);
    CHECK(f->acknowledged_by == "t1");
    CHECK(f->sla_deadline == t0() + minutes{5});
    CHECK(f->categories == model.flag("f1")->categories);
    REQUIRE(f->notes.size() == 1);
    CHECK(f->notes[0].text == "called");
    const auto t = back.transcript("p1");
    REQUIRE(t.size() == 2);
    CHECK(t[0]->text == "I feel unsafe tonight");
    REQUIRE(t[0]->risk.has_value());
    CHECK(*t[0]->risk == *model.message("m1")->risk);
    CHECK(t[1]->state == clinician::MessageState::delivered);
    CHECK(back.audit().size() == model.audit().size());
    // The feed resumes after the cached cursor: older events are duplicates.
    CHECK(back.cursor() > 13);
    CHECK(back.apply(event(9, "crisis_cleared", "p1", json::object())) == ApplyOutcome::duplicate);
}

TEST_CASE("a wrong password gives a clear error and leaves the cache byte-identical", "[clinician][cache]") {
    TempDir dir;
    Model model;
    fill(model);
    {
        auto cache = LocalCache::open(dir.path(), "right password", kCheapKdf);
        REQUIRE(cache);
        REQUIRE((*cache)->save(model));
    }
    const auto db_before = bytes_of(dir.path() / "cache.db");
    const auto key_before = bytes_of(dir.path() / "cache.key");
    auto wrong = LocalCache::open(dir.path(), "wrong password", kCheapKdf);
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().code == ErrorCode::wrong_key);
    CHECK(wrong.error().message.find("password") != std::string::npos);
    CHECK(bytes_of(dir.path() / "cache.db") == db_before);
    CHECK(bytes_of(dir.path() / "cache.key") == key_before);
    CHECK(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator{}) == 2);
    Model back;
    auto right = LocalCache::open(dir.path(), "right password", kCheapKdf);
    REQUIRE(right);
    REQUIRE((*right)->load(back));
    CHECK(back.cursor() == model.cursor());
    CHECK(back.assessments().all().size() == model.assessments().all().size());
    CHECK(back.plans().history("p1").size() == 2);
}

TEST_CASE("a cache whose key file is lost is set aside and started afresh, not opened blind", "[clinician][cache]") {
    TempDir dir;
    Model model;
    fill(model);
    {
        auto cache = LocalCache::open(dir.path(), "pw", kCheapKdf);
        REQUIRE(cache);
        REQUIRE((*cache)->save(model));
    }
    std::filesystem::remove(dir.path() / "cache.key");
    auto cache = LocalCache::open(dir.path(), "pw", kCheapKdf);
    REQUIRE(cache);
    CHECK((*cache)->report().created);
    REQUIRE((*cache)->report().set_aside.has_value());
    CHECK(std::filesystem::exists(*(*cache)->report().set_aside));
    Model back;
    REQUIRE((*cache)->load(back));
    CHECK(back.cursor() == 0);
}

TEST_CASE("cache files are owner-only and live under XDG_DATA_HOME per server and user", "[clinician][cache]") {
    TempDir dir;
    ::setenv("XDG_DATA_HOME", dir.path().c_str(), 1);
    const auto where = default_cache_dir("bridge.example:8443", "tara/../x");
    ::unsetenv("XDG_DATA_HOME");
    CHECK(where == dir.path() / "tandem" / "bridge.example_8443" / "tara_.._x");
    auto cache = LocalCache::open(where, "pw", kCheapKdf);
    REQUIRE(cache);
    using std::filesystem::perms;
    CHECK((std::filesystem::status(where).permissions() & (perms::group_all | perms::others_all)) == perms::none);
    for (const char* name : {"cache.key", "cache.db"}) {
        CHECK((std::filesystem::status(where / name).permissions() & (perms::group_all | perms::others_all)) ==
              perms::none);
    }
}

TEST_CASE("another bridge database at the same address gets a cache of its own", "[clinician][cache]") {
    // A demo started over, or a clinic that moved its server, answers at the same address with
    // another certificate: its feed must not resume from the old database's cursor and rows.
    TempDir dir;
    ::setenv("XDG_DATA_HOME", dir.path().c_str(), 1);
    const std::string old_cert(64, 'a');
    const std::string new_cert = std::string(16, 'a') + std::string(48, 'b');
    const auto before = default_cache_dir("127.0.0.1:8443", "tara", old_cert);
    const auto after = default_cache_dir("127.0.0.1:8443", "tara", "b" + std::string(63, 'a'));
    const auto same_prefix = default_cache_dir("127.0.0.1:8443", "tara", new_cert);
    ::unsetenv("XDG_DATA_HOME");
    CHECK(before == dir.path() / "tandem" / "127.0.0.1_8443" / std::string(16, 'a') / "tara");
    CHECK(after != before);
    CHECK(same_prefix == before);  // 64 bits of the fingerprint name the directory
}

TEST_CASE("a password file is read only when it is the user's own and private", "[clinician][cache]") {
    TempDir dir;
    const auto file = dir.path() / "pw";
    {
        std::ofstream out(file);
        out << "s3cret words\nsecond line ignored\n";
    }
    std::filesystem::permissions(file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::replace);
    auto ok = read_password_file(file);
    REQUIRE(ok);
    CHECK(std::string(reinterpret_cast<const char*>(ok->bytes().data()), ok->size()) == "s3cret words");

    std::filesystem::permissions(file, std::filesystem::perms::group_read, std::filesystem::perm_options::add);
    auto shared = read_password_file(file);
    REQUIRE_FALSE(shared);
    CHECK(shared.error().code == ErrorCode::permission_denied);
    CHECK(shared.error().message.find("chmod 600") != std::string::npos);

    CHECK(read_password_file(dir.path() / "missing").error().code == ErrorCode::io);
    std::filesystem::create_symlink(file, dir.path() / "link");
    CHECK_FALSE(read_password_file(dir.path() / "link"));
}

TEST_CASE("the cache gives back scored questionnaires and plan versions as saved", "[clinician][cache][outcomes]") {
    TempDir dir;
    Model model;
    fill(model);
    // An item left unanswered (null) and a later decision that supersedes v1 must survive too.
    auto prorated = demo_assessment_event(model.cursor() + 1, "p1", "gad7", 9, t0() + minutes{90}, "p1-gad-skip");
    json record = json::parse(prorated.payload_json);
    record["items"][6] = nullptr;
    prorated.payload_json = record.dump();
    REQUIRE(model.apply(prorated) == ApplyOutcome::applied);
    {
        auto cache = LocalCache::open(dir.path(), "pw", kCheapKdf);
        REQUIRE(cache);
        REQUIRE((*cache)->save(model));
        // A decision after the first save rewrites the patient's versions: v2 approved supersedes v1.
        model.apply(event(model.cursor() + 1, "plan_approved", "p1", {{"plan_id", "p1-plan2"}, {"approver_id", "t1"}},
                          t0() + minutes{30}, "t1"));
        REQUIRE((*cache)->save(model));
        auto rows = (*cache)->outcome_rows("p1");
        REQUIRE(rows);
        CHECK(rows->assessments == 7);
        CHECK(rows->plan_versions == 2);
    }
    Model back;
    auto cache = LocalCache::open(dir.path(), "pw", kCheapKdf);
    REQUIRE(cache);
    REQUIRE((*cache)->load(back));
    CHECK_FALSE(back.has_changes());  // what was loaded is not written again
    REQUIRE(back.assessments().all().size() == model.assessments().all().size());
    for (const auto& [id, a] : model.assessments().all()) {
        INFO(id);
        const auto it = back.assessments().all().find(id);
        REQUIRE(it != back.assessments().all().end());
        const AssessmentPoint& b = it->second;
        CHECK(b.patient_id == a.patient_id);
        CHECK(b.instrument == a.instrument);
        CHECK(b.items == a.items);
        CHECK(b.score == a.score);
        CHECK(b.band == a.band);
        CHECK(b.administered_at == a.administered_at);
        CHECK(b.completed_at == a.completed_at);
    }
    CHECK_FALSE(back.assessments().all().at("p1-gad-skip").items[6].has_value());
    const auto history = back.plans().history("p1");
    REQUIRE(history.size() == 2);
    CHECK(history[0]->status == PlanState::superseded);
    CHECK(history[1]->status == PlanState::approved);
    CHECK(history[1]->approver_id == "t1");
    CHECK(history[1]->decided_at == t0() + minutes{30});
    CHECK(history[1]->content == model.plans().history("p1")[1]->content);
    CHECK(back.plans().active("p1")->version == 2);
}

TEST_CASE("restarted offline, outcomes, the caseload outcome table and plan history come from the cache alone",
          "[clinician][cache][outcomes]") {
    TempDir dir;
    const auto& registry = InstrumentRegistry::builtin();
    std::size_t charts = 0;
    {
        // A supervisor sees both therapists' patients; all of them are cached.
        Model model;
        model.set_self(ClinicianInfo{"s1", "sue", "Sue S", {Role::supervisor}, true});
        std::uint64_t seq = 0;
        model.apply(event(++seq, "clinician_added", "", {{"id", "t1"}, {"display_name", "Tara T"}, {"roles", {"therapist"}}}));
        model.apply(event(++seq, "clinician_added", "", {{"id", "t2"}, {"display_name", "Sam S"}, {"roles", {"therapist"}}}));
        for (const auto& [pid, therapist] : {std::pair<std::string, std::string>{"p1", "t1"}, {"p2", "t1"}, {"p3", "t2"}}) {
            model.apply(event(++seq, "patient_registered", pid, patient(pid, "Patient " + pid, therapist)));
            seq = add_outcomes(model, seq, pid);
        }
        charts = patient_outcomes(model.assessments(), registry, "p3").charts.size();
        auto cache = LocalCache::open(dir.path(), "pw", kCheapKdf);
        REQUIRE(cache);
        REQUIRE((*cache)->save(model));
    }
    Model offline;
    auto cache = LocalCache::open(dir.path(), "pw", kCheapKdf);
    REQUIRE(cache);
    REQUIRE((*cache)->load(offline));
    // The Outcomes tab: the same charts (PHQ-9, GAD-7, WAI-SR) with their points and headline.
    const auto outcomes = patient_outcomes(offline.assessments(), registry, "p3");
    REQUIRE(charts == 3);
    REQUIRE(outcomes.charts.size() == charts);
    CHECK(outcomes.charts[0].instrument == "phq9");
    CHECK(outcomes.charts[0].points.size() == 3);
    CHECK(outcomes.charts[0].headline.find("16 \u2192 7") != std::string::npos);
    CHECK(outcomes.table.size() == 6);
    // The supervisor's table counts every cached patient, under their therapist.
    const auto rows = caseload_outcome_rows(offline, registry, "phq9");
    REQUIRE_FALSE(rows.empty());
    CHECK(rows.back().therapist_id == "*");
    CHECK(rows.back().patients == 3);
    CHECK(rows.back().with_follow_up == 3);
    CHECK(rows.back().alliance_patients == 3);
    // Plan badge and history, read-only: actions need the bridge.
    CHECK(plan_badge(offline, "p1") == "\u25cf plan to review");
    CHECK(offline.plans().history("p2").size() == 2);
    CHECK(offline.plans().active("p2")->version == 1);
    CHECK_FALSE(availability(offline, false, "p1").enabled);
}

TEST_CASE("a therapist's cache never holds another therapist's patients' questionnaires or plans",
          "[clinician][cache][outcomes]") {
    TempDir dir;
    Model model;
    model.set_self(ClinicianInfo{"t1", "tara", "Tara T", {Role::therapist}, true});
    std::uint64_t seq = 0;
    model.apply(event(++seq, "patient_registered", "p1", patient("p1", "Mine", "t1")));
    model.apply(event(++seq, "patient_registered", "p2", patient("p2", "Reassigned later", "t1")));
    model.apply(event(++seq, "patient_registered", "p3", patient("p3", "Never mine", "t2")));
    seq = add_outcomes(model, seq, "p1");
    seq = add_outcomes(model, seq, "p2");
    // However p3's results reached the model (a feed or fetch bug), they are not written.
    seq = add_outcomes(model, seq, "p3");
    auto cache = LocalCache::open(dir.path(), "pw", kCheapKdf);
    REQUIRE(cache);
    REQUIRE((*cache)->save(model));
    struct Case {
        const char* name;
        const char* patient;
        std::size_t assessments;
        std::size_t plans;
    };
    auto check = [&](const std::vector<Case>& cases) {
        for (const auto& c : cases) {
            INFO(c.name);
            auto rows = (*cache)->outcome_rows(c.patient);
            REQUIRE(rows);
            CHECK(rows->assessments == c.assessments);
            CHECK(rows->plan_versions == c.plans);
        }
    };
    check({{"an assigned patient is kept", "p1", 6, 2},
           {"a patient still assigned is kept", "p2", 6, 2},
           {"another therapist's patient is never written", "p3", 0, 0}});

    // p2 moves to another therapist: the next save removes what was cached of them.
    model.apply(event(++seq, "patient_assigned", "p2", {{"patient_id", "p2"}, {"assigned_therapist_id", "t2"}}));
    REQUIRE((*cache)->save(model));
    check({{"an assigned patient is still kept", "p1", 6, 2},
           {"a patient reassigned away is removed", "p2", 0, 0},
           {"another therapist's patient is still absent", "p3", 0, 0}});
    Model back;
    REQUIRE((*cache)->load(back));
    CHECK(back.assessments().patients() == std::vector<std::string>{"p1"});
    CHECK(back.plans().patients() == std::vector<std::string>{"p1"});
}

TEST_CASE("a format-1 cache is upgraded in place and refilled by one replay; a newer app's cache is left untouched",
          "[clinician][cache][outcomes]") {
    TempDir dir;
    Model model;
    fill(model);
    {
        auto cache = LocalCache::open(dir.path(), "pw", kCheapKdf);
        REQUIRE(cache);
        REQUIRE((*cache)->save(model));
    }
    // What the previous app version left: no questionnaire or plan tables, format 1.
    rewrite_cache(dir.path(), "pw",
                  "DROP TABLE assessments; DROP TABLE plans; UPDATE meta SET value='1' WHERE key='format';");
    {
        auto cache = LocalCache::open(dir.path(), "pw", kCheapKdf);
        REQUIRE(cache);
        CHECK((*cache)->report().migrated_from == std::optional<int>{1});
        CHECK_FALSE((*cache)->report().created);
        CHECK_FALSE((*cache)->report().set_aside.has_value());
        CHECK_FALSE((*cache)->report().reason.empty());
        Model back;
        REQUIRE((*cache)->load(back));
        // Readable offline at once; the cursor went back to 0 so the next sync fills the new tables.
        CHECK(back.cursor() == 0);
        CHECK(back.patient("p1") != nullptr);
        CHECK(back.flag("f1") != nullptr);
        CHECK(back.transcript("p1").size() == 2);
        CHECK(back.audit().empty());  // rebuilt by the replay, not doubled
        CHECK(back.assessments().all().empty());
        // The replay brings the questionnaires and plans again (events after cursor 0 apply).
        add_outcomes(back, 20, "p1");
        REQUIRE(back.assessments().all().size() == 6);
        REQUIRE((*cache)->save(back));
        auto rows = (*cache)->outcome_rows("p1");
        REQUIRE(rows);
        CHECK(rows->assessments == 6);
        CHECK(rows->plan_versions == 2);
    }
    auto again = LocalCache::open(dir.path(), "pw", kCheapKdf);
    REQUIRE(again);
    CHECK_FALSE((*again)->report().migrated_from.has_value());  // upgraded once

    again->reset();
    rewrite_cache(dir.path(), "pw", "UPDATE meta SET value='3' WHERE key='format';");
    const auto db_before = bytes_of(dir.path() / "cache.db");
    auto newer = LocalCache::open(dir.path(), "pw", kCheapKdf);
    REQUIRE_FALSE(newer);
    CHECK(newer.error().code == ErrorCode::too_new);
    CHECK(newer.error().message.find("newer") != std::string::npos);
    CHECK(bytes_of(dir.path() / "cache.db") == db_before);
}

TEST_CASE("the cache keeps at most 520 questionnaires per patient, the newest", "[clinician][cache][outcomes]") {
    TempDir dir;
    Model model;
    model.set_self(ClinicianInfo{"t1", "tara", "Tara T", {Role::therapist}, true});
    model.apply(event(1, "patient_registered", "p1", patient("p1", "Alex Rivera", "t1")));
    for (int i = 0; i < 530; ++i) {
        model.apply(demo_assessment_event(model.cursor() + 1, "p1", "phq9", i % 27, t0() + std::chrono::hours{24 * i},
                                          "phq-" + std::to_string(i)));
    }
    auto cache = LocalCache::open(dir.path(), "pw", kCheapKdf);
    REQUIRE(cache);
    REQUIRE((*cache)->save(model));
    auto rows = (*cache)->outcome_rows("p1");
    REQUIRE(rows);
    CHECK(rows->assessments == 520);
    Model back;
    REQUIRE((*cache)->load(back));
    CHECK(back.assessments().all().count("phq-529") == 1);  // the newest kept
    CHECK(back.assessments().all().count("phq-9") == 0);    // the oldest ten dropped
    CHECK(back.assessments().all().count("phq-10") == 1);
}

TEST_CASE("questionnaires can follow the first screen: a deferred load adds them without counting a change",
          "[clinician][cache][outcomes]") {
    TempDir dir;
    Model model;
    fill(model);
    auto cache = LocalCache::open(dir.path(), "pw", kCheapKdf);
    REQUIRE(cache);
    REQUIRE((*cache)->save(model));
    Model back;
    REQUIRE((*cache)->load(back, /*defer_questionnaires=*/true));
    CHECK(back.assessments().all().empty());
    CHECK(back.plans().history("p1").size() == 2);  // plans are few and drive the caseload badge
    CHECK(back.flag("f1") != nullptr);
    REQUIRE((*cache)->load_questionnaires(back));
    CHECK(back.assessments().all().size() == model.assessments().all().size());
    CHECK_FALSE(back.has_changes());
    CHECK(back.cursor() == model.cursor());
}
