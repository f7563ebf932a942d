// The real TLS WebSocket client against the loopback feeder on 127.0.0.1: pinning, a dropped
// connection in the middle of the backlog, and resuming from the cursor without gap or duplicate.
#include <catch2/catch_test_macros.hpp>

#include "harness.h"
#include "tandem/clinician/loopback_feeder.h"
#include "test_support.h"

using namespace tandem;
using namespace tandem::clinician;
using namespace tandem::clinician::testing;
using std::chrono::milliseconds;
using std::chrono::minutes;

namespace {

std::vector<std::string> feed_log() {
    std::vector<std::string> log;
    log.push_back(event_json(1, "patient_registered", "p1", patient("p1", "Alex Rivera", "loop-t1")).dump());
    for (std::uint64_t i = 0; i < 8; ++i) {
        log.push_back(event_json(2 + i * 2, "message_appended", "p1",
                                 message("m" + std::to_string(i), "p1", "patient", "turn", t0() + std::chrono::seconds(i)))
                          .dump());
    }
    log.push_back(event_json(30, "flag_opened", "p1", flag("f1", "p1", "high", t0(), t0() + minutes{5})).dump());
    return log;
}

struct Counter : SessionListener {
    int caught_up = 0;
    int duplicates = 0;
    void on_event(const StoredEvent&, ApplyOutcome o, bool) override { duplicates += o == ApplyOutcome::duplicate; }
    void on_caught_up(std::uint64_t) override { ++caught_up; }
};

}  // namespace

TEST_CASE("the client resumes from its cursor after the bridge drops it mid-backlog", "[clinician][net]") {
    FakeGuiLoop loop;
    LoopbackFeeder feeder(feed_log());
    feeder.drop_after(4);
    Model model;
    Counter counter;
    LiveClient client(model, counter, Endpoint{"127.0.0.1", std::to_string(feeder.port()), "/clinician"},
                      feeder.fingerprint(), "loop", "pw");
    client.start();
    REQUIRE(loop.pump_until([&] { return counter.caught_up == 1; }));
    client.stop();

    CHECK(client.closes == 1);
    CHECK(client.opens == 2);
    CHECK(feeder.subscriptions() == std::vector<std::uint64_t>{0, 6});  // seq 1, 2, 4, 6 arrived before the drop
    CHECK(model.cursor() == 30);
    CHECK(model.transcript("p1").size() == 8);
    CHECK(model.flag("f1") != nullptr);
    CHECK(counter.duplicates == 0);
    CHECK(client.session.session_token() == "loopback-token");
}

TEST_CASE("a changed server certificate is refused before anything is sent, without retrying", "[clinician][net]") {
    FakeGuiLoop loop;
    LoopbackFeeder feeder(feed_log());
    bool opened = false;
    std::optional<Error> refused;
    bool retry = true;
    ConnectionEvents events;
    events.on_open = [&] { opened = true; };
    events.on_closed = [&](const Error& e, bool will_retry, milliseconds) {
        refused = e;
        retry = will_retry;
    };
    Connection connection(Endpoint{"127.0.0.1", std::to_string(feeder.port()), "/clinician"}, std::string(64, 'a'), events);
    connection.start();
    REQUIRE(loop.pump_until([&] { return refused.has_value(); }));
    connection.stop();
    CHECK_FALSE(opened);
    CHECK_FALSE(retry);
    CHECK(refused->code == ErrorCode::permission_denied);
    CHECK(refused->message.find("certificate has changed") != std::string::npos);
    CHECK(feeder.subscriptions().empty());
}

TEST_CASE("the probe reports the server certificate's fingerprint for trust on first use", "[clinician][net]") {
    FakeGuiLoop loop;
    LoopbackFeeder feeder({});
    std::optional<Result<std::string>> got;
    probe_fingerprint(Endpoint{"127.0.0.1", std::to_string(feeder.port()), "/clinician"},
                      [&](Result<std::string> r) { got = std::move(r); });
    REQUIRE(loop.pump_until([&] { return got.has_value(); }));
    REQUIRE(got->has_value());
    CHECK(**got == feeder.fingerprint());
    CHECK(check_pin("", **got) == PinVerdict::first_contact);
}

TEST_CASE("server addresses parse with defaults", "[clinician][net]") {
    CHECK(parse_endpoint("bridge.local")->port == "8443");
    CHECK(parse_endpoint("wss://bridge.local:9000/clinician")->port == "9000");
    CHECK(parse_endpoint("127.0.0.1:1234")->host == "127.0.0.1");
    CHECK_FALSE(parse_endpoint("host:port").has_value());
    CHECK_FALSE(parse_endpoint("").has_value());
}
