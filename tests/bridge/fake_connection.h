#pragma once
// A connection that records the frames a service sends, for tests that drive PatientService or
// ClinicianService without sockets.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/bridge/server.h"

namespace tandem::test {

class FakeConnection final : public bridge::Connection {
public:
    bool send(std::string text) override {
        const std::lock_guard lock(mutex_);
        frames_.push_back(nlohmann::json::parse(text));
        return true;
    }
    void close() override { closed_ = true; }
    std::uint64_t id() const noexcept override { return id_; }
    bool closed() const { return closed_; }

    /// Every frame received since the last take or wait_for, oldest first.
    std::vector<nlohmann::json> take() {
        const std::lock_guard lock(mutex_);
        return std::exchange(frames_, {});
    }

    /// Waits (up to 8 s) for a frame matching `match` and returns it; frames before it are
    /// dropped, frames after it stay for the next call.
    std::optional<nlohmann::json> wait_for(const std::function<bool(const nlohmann::json&)>& match) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(8);
        while (std::chrono::steady_clock::now() < until) {
            {
                const std::lock_guard lock(mutex_);
                for (auto it = frames_.begin(); it != frames_.end(); ++it)
                    if (match(*it)) {
                        nlohmann::json f = std::move(*it);
                        frames_.erase(frames_.begin(), it + 1);
                        return f;
                    }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return std::nullopt;
    }

private:
    // Far above the ids the server hands out, so a fake never collides with a real connection.
    static inline std::atomic<std::uint64_t> next_{1'000'000};
    const std::uint64_t id_ = next_++;
    std::mutex mutex_;
    std::vector<nlohmann::json> frames_;
    std::atomic<bool> closed_{false};
};

}  // namespace tandem::test
