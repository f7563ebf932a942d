#pragma once
// What the clinician tests that touch real sockets share: a temp dir, a fake GUI loop standing in
// for CallAfter, and the app's own wiring of Connection and FeedSession (LiveClient), so every
// test connects exactly as the app does.

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "tandem/clinician/connection.h"
#include "tandem/clinician/session.h"
#include "tandem/clinician/ui_post.h"

namespace tandem::clinician::testing {

/// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
public:
    TempDir() {
        std::random_device rd;
        path_ = std::filesystem::temp_directory_path() /
                ("tandem-clinician-test-" + std::to_string(rd()) + std::to_string(rd()));
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

/// Network threads post into a queue and the test thread runs the tasks, as CallAfter does in
/// the app. Installs itself as the ui::post seam for its lifetime.
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
    FakeGuiLoop(const FakeGuiLoop&) = delete;
    FakeGuiLoop& operator=(const FakeGuiLoop&) = delete;

    /// Runs posted tasks until `done` or the time limit; true when done.
    template <class Pred>
    bool pump_until(Pred done, std::chrono::milliseconds limit = std::chrono::milliseconds{10'000}) {
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

/// The app's client: a Connection carrying a FeedSession's frames, with open/close counters.
struct LiveClient {
    LiveClient(Model& model, SessionListener& listener, const Endpoint& endpoint, const std::string& fingerprint,
               const std::string& username, const std::string& password)
        : session(model, listener, [this](std::string f) {
              if (connection) connection->send(std::move(f));
          }) {
        session.set_credentials(username, password);
        ConnectionEvents events;
        events.on_open = [this] {
            ++opens;
            session.on_open();
        };
        events.on_frame = [this](std::string text) { session.on_frame(text); };
        events.on_closed = [this](const Error& e, bool will_retry, std::chrono::milliseconds) {
            ++closes;
            last_close = e;
            retrying = will_retry;
            session.on_closed();
        };
        connection = std::make_unique<Connection>(endpoint, fingerprint, std::move(events));
    }
    ~LiveClient() { stop(); }
    LiveClient(const LiveClient&) = delete;
    LiveClient& operator=(const LiveClient&) = delete;

    void start() { connection->start(); }
    void stop() {
        if (connection) connection->stop();
    }

    FeedSession session;
    std::unique_ptr<Connection> connection;
    int opens = 0;
    int closes = 0;
    Error last_close;
    bool retrying = true;
};

}  // namespace tandem::clinician::testing
