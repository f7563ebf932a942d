#pragma once
// Building and awaiting wire frames in bridge tests, shared by the patient and clinician suites.

#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_support.h"

namespace tandem::test {

/// An envelope {type, id, time, payload} as text, with a fresh id per call. Any thread.
inline std::string frame(const std::string& type, nlohmann::json payload) {
    static std::atomic<int> n{0};
    return nlohmann::json{{"type", type},
                          {"id", "f" + std::to_string(++n)},
                          {"time", "2026-11-26T03:06:19.123Z"},
                          {"payload", std::move(payload)}}
        .dump();
}

/// Reads frames until one matches (returned) or the time is up (fails the test). Frames seen on
/// the way are appended to `seen`.
inline nlohmann::json read_until(WssClient& c, const std::function<bool(const nlohmann::json&)>& match,
                                 std::vector<nlohmann::json>* seen = nullptr,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(8)) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
        auto f = c.read(
            std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()));
        if (!f) break;
        auto j = nlohmann::json::parse(*f);
        if (seen) seen->push_back(j);
        if (match(j)) return j;
    }
    FAIL("expected frame did not arrive");
    return {};
}

/// A matcher for read_until: the frame's type is `t`.
inline auto of_type(const std::string& t) {
    return [t](const nlohmann::json& j) { return j["type"] == t; };
}

}  // namespace tandem::test
