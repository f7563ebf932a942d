#include <catch2/catch_test_macros.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "store_test_support.h"

using namespace tandem;
using namespace tandem::test;

#ifndef TANDEM_CRASH_CHILD
#error "TANDEM_CRASH_CHILD must name the helper executable"
#endif

namespace {

// Runs the child until it has acknowledged at least one event, then kills it after `delay`.
// Returns every seq the child acknowledged (complete lines only).
std::set<std::int64_t> run_and_kill(const std::string& db, const std::string& key_hex, std::chrono::milliseconds delay) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::dup2(fds[1], STDOUT_FILENO);
        ::close(fds[0]);
        ::close(fds[1]);
        ::execl(TANDEM_CRASH_CHILD, TANDEM_CRASH_CHILD, db.c_str(), key_hex.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::close(fds[1]);
    std::string data;
    char buf[4096];
    // Wait for the first acknowledgement so every round kills a child that is mid-append.
    while (data.find('\n') == std::string::npos) {
        const ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n <= 0) break;
        data.append(buf, static_cast<std::size_t>(n));
    }
    std::this_thread::sleep_for(delay);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    for (;;) {
        const ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n <= 0) break;
        data.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    INFO("child status " << status);
    REQUIRE(WIFSIGNALED(status));
    std::set<std::int64_t> acked;
    std::size_t start = 0;
    for (std::size_t nl; (nl = data.find('\n', start)) != std::string::npos; start = nl + 1) {
        acked.insert(std::stoll(data.substr(start, nl - start)));
    }
    return acked;
}

}  // namespace

TEST_CASE("every acknowledged event survives SIGKILL, with no partial event and a valid chain", "[store][crash]") {
    TempDir dir;
    auto key = random_secret(32);
    const auto db = (dir.path / "crash.db").string();
    const std::string key_hex = to_hex(key.bytes());
    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> delay_ms(0, 120);
    std::int64_t total_acked = 0;
    for (int round = 1; round <= 20; ++round) {
        INFO("round " << round);
        const auto acked = run_and_kill(db, key_hex, std::chrono::milliseconds(delay_ms(rng)));
        REQUIRE_FALSE(acked.empty());
        total_acked += static_cast<std::int64_t>(acked.size());

        auto store = open_store(db, key);
        auto report = store->verify_chain(std::nullopt);
        REQUIRE(report.has_value());
        INFO(report->reason);
        CHECK(report->ok);
        auto head = store->head();
        REQUIRE(head.has_value());
        CHECK(head->seq >= *acked.rbegin());
        // Every acknowledged seq is present and readable.
        auto events = store->read_after(*acked.begin() - 1, Principal{"sup", false, true, false},
                                        static_cast<std::size_t>(*acked.rbegin() - *acked.begin() + 1));
        REQUIRE(events.has_value());
        std::set<std::int64_t> present;
        for (const auto& e : *events) present.insert(e.seq);
        for (auto s : acked) {
            if (!present.count(s)) FAIL("acknowledged seq " << s << " lost");
        }
        // The messages view was written in the same transactions as the events.
        const auto first = events->front();
        REQUIRE(first.type == EventType::patient_registered);
        auto msgs = store->messages("c-" + first.patient_id->substr(2));
        REQUIRE(msgs.has_value());
        CHECK(static_cast<std::int64_t>(msgs->size()) == head->seq - first.seq);
    }
    CHECK(total_acked > 20);
}
