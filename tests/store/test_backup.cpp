// SqlcipherStore::backup_to: a snapshot taken while appends go on, encrypted with the same key.
#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <fstream>
#include <thread>

#include "store_test_support.h"

using namespace tandem;
using namespace tandem::test;

TEST_CASE("backup taken while another thread appends opens with the key and its chain verifies", "[store][backup]") {
    TempDir tmp;
    const auto key = random_secret(32);
    auto store = open_store(tmp.path / "live.db", key);
    REQUIRE(store->append(patient_registered("p1", std::nullopt)));
    for (int i = 0; i < 50; ++i) REQUIRE(store->append(message("p1", "c1", "m" + std::to_string(i), "hello")));

    std::atomic<bool> stop{false};
    std::atomic<int> appended{0};
    std::thread writer([&] {
        for (int i = 0; !stop.load() && i < 20000; ++i) {
            if (!store->append(message("p1", "c1", "w" + std::to_string(i), "during the backup"))) return;
            appended.fetch_add(1);
        }
    });
    // Let the writer get going so the copy really races it.
    while (appended.load() < 20) std::this_thread::yield();
    const auto before = store->head();
    const auto made = store->backup_to(tmp.path / "copy.db");
    const int during = appended.load();
    stop = true;
    writer.join();
    REQUIRE(before);
    REQUIRE(made);

    auto copy = open_store(tmp.path / "copy.db", key);
    const auto report = copy->verify_chain(std::nullopt);
    REQUIRE(report);
    CHECK(report->ok);
    const auto copy_head = copy->head();
    REQUIRE(copy_head);
    // A snapshot: at least what was there before, never more than the live store ended with.
    CHECK(copy_head->seq >= before->seq);
    CHECK(copy_head->seq <= 51 + appended.load());
    CHECK(during > 0);
    // The live store's event at the copy's head is the same event.
    Principal everyone;
    everyone.supervisor = true;
    auto live_page = store->read_after(copy_head->seq - 1, everyone, 1);
    REQUIRE(live_page);
    REQUIRE(live_page->size() == 1);
    CHECK(live_page->front().hash == copy_head->hash);
}

TEST_CASE("backup is encrypted: another key and a plain SQLite reader are refused", "[store][backup]") {
    TempDir tmp;
    const auto key = random_secret(32);
    auto store = open_store(tmp.path / "live.db", key);
    REQUIRE(store->append(patient_registered("p1", std::nullopt)));
    REQUIRE(store->backup_to(tmp.path / "copy.db"));

    std::ifstream in(tmp.path / "copy.db", std::ios::binary);
    std::string header(16, '\0');
    in.read(header.data(), 16);
    CHECK(header != std::string("SQLite format 3\0", 16));
    const auto other = random_secret(32);
    auto wrong = SqlcipherStore::open(tmp.path / "copy.db", other.bytes());
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().code == ErrorCode::wrong_key);
}

TEST_CASE("backup refuses to overwrite an existing file", "[store][backup]") {
    TempDir tmp;
    const auto key = random_secret(32);
    auto store = open_store(tmp.path / "live.db", key);
    std::ofstream(tmp.path / "taken.db") << "precious";
    const auto made = store->backup_to(tmp.path / "taken.db");
    REQUIRE_FALSE(made);
    CHECK(made.error().code == ErrorCode::conflict);
    std::ifstream in(tmp.path / "taken.db");
    std::string text;
    in >> text;
    CHECK(text == "precious");
    // The store still reads afterwards (the reader went back to query_only).
    CHECK(store->head());
}
