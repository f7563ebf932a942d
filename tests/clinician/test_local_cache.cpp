// The encrypted local cache on a real SQLCipher file in a temp dir: round trip of everything the
// views show, a wrong password, a missing key file. (Offline reading and rebuilding from the
// bridge run against the real bridge in test_real_bridge.cpp.)
#include <catch2/catch_test_macros.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "tandem/clinician/local_cache.h"
#include "tandem/clinician/password_file.h"
#include "test_support.h"

using namespace tandem;
using namespace tandem::clinician;
using namespace tandem::clinician::testing;
using nlohmann::json;
using std::chrono::minutes;

namespace {

constexpr CacheKdf kCheapKdf{1, 64, 1};

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
        model.apply(event(12, "message_state_changed", "p1", {{"message_id", "m2"}, {"state", "delivered"}}));
        model.apply(event(13, "flag_acknowledged", "p1", {{"flag_id", "f1"}}, t0() + minutes{1}, "t1"));
        REQUIRE((*cache)->save(model));
    }
    Model back;
    auto cache = LocalCache::open(dir.path(), "pw", kCheapKdf);
    REQUIRE(cache);
    CHECK_FALSE((*cache)->report().created);
    REQUIRE((*cache)->load(back));
    CHECK(back.cursor() == 13);
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
    CHECK(f->status == FlagStatus::acknowledged);
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
    CHECK(t[1]->state == MessageState::delivered);
    CHECK(back.audit().size() == model.audit().size());
    // The feed resumes after the cached cursor: older events are duplicates.
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
