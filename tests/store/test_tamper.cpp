#include <catch2/catch_test_macros.hpp>

#include <functional>

#include "store_test_support.h"

using namespace tandem;
using namespace tandem::test;

namespace {

// Ten events; then `tamper` edits the file with the key, as an insider with database access could.
ChainReport tampered(const std::function<void(RawDb&)>& tamper, std::optional<ChainHead> anchor = std::nullopt) {
    TempDir dir;
    auto key = random_secret(32);
    const auto p = dir.path / "clinic.db";
    {
        auto store = open_store(p, key);
        if (!store->append(patient_registered("p1", "ther-a"))) throw std::runtime_error("append");
        for (int i = 2; i <= 10; ++i) {
            if (!store->append(message("p1", "c1", "m" + std::to_string(i), "text " + std::to_string(i)))) {
                throw std::runtime_error("append");
            }
        }
    }
    {
        RawDb raw(p, key);
        tamper(raw);
    }
    auto store = open_store(p, key);
    auto report = store->verify_chain(anchor);
    if (!report) throw std::runtime_error(report.error().describe());
    return *report;
}

}  // namespace

TEST_CASE("an untouched chain verifies", "[store][tamper]") {
    auto r = tampered([](RawDb&) {});
    CHECK(r.ok);
    CHECK(r.checked == 10);
    CHECK_FALSE(r.first_bad_seq.has_value());
}

TEST_CASE("verify names the first broken seq after each kind of tampering", "[store][tamper]") {
    struct Case {
        const char* name;
        std::function<void(RawDb&)> tamper;
        std::int64_t first_bad;
    };
    const std::vector<Case> cases{
        {"payload edited", [](RawDb& db) {
             db.exec("UPDATE events SET payload = replace(payload, 'text 6', 'text six') WHERE seq = 6");
         }, 6},
        {"time edited", [](RawDb& db) { db.exec("UPDATE events SET time = '2020-01-01T00:00:00.000Z' WHERE seq = 4"); }, 4},
        {"edited and rehashed, but the next link breaks", [](RawDb& db) {
             db.exec("UPDATE events SET payload = '{}' WHERE seq = 5");
             db.exec("UPDATE events SET hash = 'ab' || substr(hash, 3) WHERE seq = 5");
         }, 5},
        {"row deleted in the middle", [](RawDb& db) { db.exec("DELETE FROM events WHERE seq = 7"); }, 7},
        {"two rows' contents swapped", [](RawDb& db) {
             db.exec("UPDATE events SET seq = -1 WHERE seq = 3");
             db.exec("UPDATE events SET seq = 3 WHERE seq = 4");
             db.exec("UPDATE events SET seq = 4 WHERE seq = -1");
         }, 3},
        {"tail truncated", [](RawDb& db) { db.exec("DELETE FROM events WHERE seq > 8"); }, 9},
        {"first event deleted", [](RawDb& db) { db.exec("DELETE FROM events WHERE seq = 1"); }, 1},
        {"event type changed", [](RawDb& db) { db.exec("UPDATE events SET type = 'llm_failed' WHERE seq = 2"); }, 2},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        auto r = tampered(c.tamper);
        CHECK_FALSE(r.ok);
        REQUIRE(r.first_bad_seq.has_value());
        CHECK(*r.first_bad_seq == c.first_bad);
        CHECK_FALSE(r.reason.empty());
    }
}

TEST_CASE("truncation that also rewrites the head checkpoint is caught only by an outside anchor",
          "[store][tamper]") {
    // With the key an insider can cut the tail and fix the checkpoint to match: the file alone
    // then looks whole. A head recorded elsewhere (the clinician app's last seen seq and hash,
    // an exported audit anchor) still exposes it.
    auto cut_and_cover = [](RawDb& db) {
        db.exec("DELETE FROM events WHERE seq > 8");
        db.exec("UPDATE meta SET value = '8' WHERE key = 'head_seq'");
        db.exec("UPDATE meta SET value = (SELECT hash FROM events WHERE seq = 8) WHERE key = 'head_hash'");
    };
    CHECK(tampered(cut_and_cover).ok);
    auto anchored = tampered(cut_and_cover, ChainHead{10, std::string(64, 'f')});
    CHECK_FALSE(anchored.ok);
    REQUIRE(anchored.first_bad_seq.has_value());
    CHECK(*anchored.first_bad_seq == 9);
}
