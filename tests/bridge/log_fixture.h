#pragma once
// A store on a real SQLCipher file for tests that append events and hand pages of the log to
// the bridge's followers (accounts, clinic policy, active plans, the patients NotifyingStore
// holds), as the clinician feed does.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch_test_macros.hpp>
#include <nlohmann/json.hpp>

#include "tandem/crypto/random.h"
#include "tandem/store/sqlcipher_store.h"
#include "test_support.h"

namespace tandem::test {

/// An event the system appends, about `patient` (none: a clinic-wide event).
inline NewEvent system_event(EventType type, nlohmann::json payload,
                             std::optional<std::string> patient = std::nullopt) {
    NewEvent e;
    e.type = type;
    e.patient_id = std::move(patient);
    e.actor = Actor{ActorKind::system, std::nullopt};
    e.payload = std::move(payload);
    return e;
}

/// A fresh store in a temp dir, with the reads the followers' tests make of its log.
struct LogFixture {
    TempDir dir;
    SecretBuffer secret = random_secret(32);
    std::unique_ptr<SqlcipherStore> store;

    LogFixture() {
        auto s = SqlcipherStore::open(dir.path() / "tandem.db", secret.bytes());
        REQUIRE(s);
        store = std::move(*s);
    }
    /// Appends a system event; returns its seq.
    std::int64_t append(EventType type, nlohmann::json payload, std::optional<std::string> patient = std::nullopt) {
        auto r = store->append(system_event(type, std::move(payload), std::move(patient)));
        REQUIRE(r);
        return r->event.seq;
    }
    /// The feed's page of events after `seq`.
    std::vector<FeedEvent> page_after(std::int64_t seq) {
        auto page = store->read_feed_after(seq, 1000);
        REQUIRE(page);
        return std::move(*page);
    }
    std::int64_t head() {
        auto h = store->head();
        REQUIRE(h);
        return h->seq;
    }
};

}  // namespace tandem::test
