// tandem-bridge backup/restore: a snapshot of a data dir's store, restored only into a stopped
// bridge's data dir whose key opens it.
#include <catch2/catch_test_macros.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "tandem/bridge/backup.h"
#include "tandem/bridge/init.h"
#include "tandem/crypto/key_file.h"
#include "tandem/store/sqlcipher_store.h"
#include "test_support.h"

using namespace tandem;
using namespace tandem::bridge;
using tandem::test::ChildProcess;
using tandem::test::run_command;
using tandem::test::TempDir;

namespace {

std::filesystem::path make_data_dir(const std::filesystem::path& dir) {
    InitOptions o;
    o.data_dir = dir;
    auto r = init_data_dir(o);
    REQUIRE(r);
    return dir;
}

std::int64_t event_count(const std::filesystem::path& data_dir) {
    auto key = load_key_file(data_dir / "store.key");
    REQUIRE(key);
    auto store = SqlcipherStore::open(data_dir / "tandem.db", key->bytes());
    REQUIRE(store);
    auto head = (*store)->head();
    REQUIRE(head);
    return head->seq;
}

void add_patient(const std::filesystem::path& data_dir, const std::string& name) {
    auto [status, out] = run_command({TANDEM_BRIDGE_BIN, "patient", "add", "--data-dir", data_dir.string(), "--name", name});
    REQUIRE(status == 0);
}

}  // namespace

TEST_CASE("restore brings a data dir back to its backup and keeps the replaced store", "[bridge][backup]") {
    TempDir tmp;
    const auto dir = make_data_dir(tmp.path() / "clinic");
    add_patient(dir, "Alex");
    const auto at_backup = event_count(dir);
    auto made = backup_data_dir(dir, tmp.path() / "monday.db");
    REQUIRE(made);
    CHECK(made->events == at_backup);
    struct stat st {};
    REQUIRE(::stat((tmp.path() / "monday.db").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK_FALSE(std::filesystem::exists(tmp.path() / "monday.db.partial"));

    add_patient(dir, "Sam");
    REQUIRE(event_count(dir) > at_backup);
    auto restored = restore_data_dir(dir, tmp.path() / "monday.db");
    REQUIRE(restored);
    CHECK(restored->events == at_backup);
    CHECK(event_count(dir) == at_backup);
    REQUIRE_FALSE(restored->previous.empty());
    CHECK(std::filesystem::exists(restored->previous));
    CHECK_FALSE(std::filesystem::exists(dir / "tandem.db.restoring"));
    auto [status, text] = run_command({TANDEM_BRIDGE_BIN, "audit", "verify", "--data-dir", dir.string()});
    CHECK(status == 0);
}

TEST_CASE("restore refuses a backup the data dir's key does not open and leaves the store alone", "[bridge][backup]") {
    TempDir tmp;
    const auto ours = make_data_dir(tmp.path() / "ours");
    const auto theirs = make_data_dir(tmp.path() / "theirs");
    add_patient(theirs, "Alex");
    REQUIRE(backup_data_dir(theirs, tmp.path() / "theirs.db"));
    const auto before = event_count(ours);
    auto restored = restore_data_dir(ours, tmp.path() / "theirs.db");
    REQUIRE_FALSE(restored);
    CHECK(restored.error().code == ErrorCode::wrong_key);
    CHECK(restored.error().message.find("key") != std::string::npos);
    CHECK(event_count(ours) == before);
    CHECK_FALSE(std::filesystem::exists(ours / "tandem.db.restoring"));
}

TEST_CASE("restore refuses while a bridge holds the data dir, and says to stop it", "[bridge][backup]") {
    TempDir tmp;
    const auto dir = make_data_dir(tmp.path() / "clinic");
    REQUIRE(backup_data_dir(dir, tmp.path() / "b.db"));
    {
        auto serving = DataDirLock::acquire(dir);
        REQUIRE(serving);
        auto restored = restore_data_dir(dir, tmp.path() / "b.db");
        REQUIRE_FALSE(restored);
        CHECK(restored.error().code == ErrorCode::conflict);
        CHECK(restored.error().message.find("stop it first") != std::string::npos);
        auto second = DataDirLock::acquire(dir);
        CHECK_FALSE(second);
    }
    CHECK(restore_data_dir(dir, tmp.path() / "b.db"));
}

TEST_CASE("backup of a serving bridge works from the command line; restore waits for it to stop", "[bridge][backup]") {
    TempDir tmp;
    const auto dir = make_data_dir(tmp.path() / "clinic");
    add_patient(dir, "Alex");
    {
        ChildProcess bridge({TANDEM_BRIDGE_BIN, "serve", "--data-dir", dir.string(), "--listen", "127.0.0.1:0"});
        REQUIRE(bridge.read_line(std::chrono::seconds(30)).starts_with("listening on"));
        add_patient(dir, "Sam");
        const auto file = (tmp.path() / "live.db").string();
        auto [status, text] = run_command({TANDEM_BRIDGE_BIN, "backup", "--data-dir", dir.string(), "--out", file});
        CHECK(status == 0);
        CHECK(text.find("chain verified") != std::string::npos);
        auto [refused, why] = run_command({TANDEM_BRIDGE_BIN, "restore", "--data-dir", dir.string(), "--from", file});
        CHECK(refused == 1);
        CHECK(why.find("stop it first") != std::string::npos);
    }
    auto [status, text] = run_command(
        {TANDEM_BRIDGE_BIN, "restore", "--data-dir", dir.string(), "--from", (tmp.path() / "live.db").string()});
    CHECK(status == 0);
    CHECK(event_count(dir) >= 2);
}

TEST_CASE("restore and its lock run as root leave files the service user can open", "[bridge][backup]") {
    if (::geteuid() != 0) SKIP("needs root to hand files to another owner");
    TempDir tmp;
    const auto dir = make_data_dir(tmp.path() / "clinic");
    REQUIRE(backup_data_dir(dir, tmp.path() / "b.db"));
    // The data dir as the package leaves it: owned by the service user (here nobody, uid 65534).
    const uid_t service_uid = 65534;
    const gid_t service_gid = 65534;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir))
        REQUIRE(::chown(entry.path().c_str(), service_uid, service_gid) == 0);
    REQUIRE(::chown(dir.c_str(), service_uid, service_gid) == 0);
    REQUIRE(restore_data_dir(dir, tmp.path() / "b.db"));
    for (const char* name : {"tandem.db", "bridge.lock"}) {
        struct stat st {};
        REQUIRE(::stat((dir / name).c_str(), &st) == 0);
        INFO(name);
        CHECK(st.st_uid == service_uid);
        CHECK(st.st_gid == service_gid);
    }
}
