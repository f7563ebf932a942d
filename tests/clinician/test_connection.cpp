// The real TLS WebSocket client against the loopback feeder on 127.0.0.1: pinning, a dropped
// connection in the middle of the backlog, and resuming from the cursor without gap or duplicate.
#include <catch2/catch_test_macros.hpp>

#include <condition_variable>
#include <deque>
#include <mutex>

#include "tandem/clinician/connection.h"
#include "tandem/clinician/loopback_feeder.h"
#include "tandem/clinician/session.h"
#include "tandem/clinician/ui_post.h"
#include "test_support.h"

using namespace tandem;
using namespace tandem::clinician;
using namespace tandem::clinician::testing;
using std::chrono::milliseconds;
using std::chrono::minutes;

namespace {

// A fake GUI loop: network threads post into a queue, the test thread runs the tasks, which is
// what CallAfter does in the app.
class FakeGuiLoop {
public:
    FakeGuiLoop() {
        ui::set_poster([this](ui::Task t) {
            const std::lock_guard lock(mutex_);
            tasks_.push_back(std::move(t));
            cv_.notify_one();
        });
    }
    ~FakeGuiLoop() { ui::set_poster({}); }
    /// Runs posted tasks until `done` or the deadline; true when done.
    template <class Pred>
    bool pump_until(Pred done, milliseconds limit = milliseconds{8000}) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (!done()) {
            std::unique_lock lock(mutex_);
            if (!cv_.wait_until(lock, deadline, [&] { return !tasks_.empty(); })) return done();
            auto task = std::move(tasks_.front());
            tasks_.pop_front();
            lock.unlock();
            task();
        }
        return true;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<ui::Task> tasks_;
};

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
    int opened = 0;
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
    std::unique_ptr<Connection> connection;
    FeedSession session(model, counter, [&](std::string f) { connection->send(std::move(f)); });
    session.set_credentials("loop", "pw");
    int closes = 0;
    ConnectionEvents events;
    events.on_open = [&] {
        ++counter.opened;
        session.on_open();
    };
    events.on_frame = [&](std::string text) { session.on_frame(text); };
    events.on_closed = [&](const Error&, bool, milliseconds) {
        ++closes;
        session.on_closed();
    };
    connection = std::make_unique<Connection>(Endpoint{"127.0.0.1", std::to_string(feeder.port()), "/clinician"},
                                              feeder.fingerprint(), events);
    connection->start();
    REQUIRE(loop.pump_until([&] { return counter.caught_up == 1; }));
    connection->stop();

    CHECK(closes == 1);
    CHECK(counter.opened == 2);
    CHECK(feeder.subscriptions() == std::vector<std::uint64_t>{0, 6});  // seq 1, 2, 4, 6 arrived before the drop
    CHECK(model.cursor() == 30);
    CHECK(model.transcript("p1").size() == 8);
    CHECK(model.flag("f1") != nullptr);
    CHECK(counter.duplicates == 0);
    CHECK(session.session_token() == "loopback-token");
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
