#pragma once
// The bridge's Prometheus metrics: lock-free counters any thread bumps, rendered as the
// text exposition format for GET /metrics. No labels carry patient data.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "tandem/domain/risk_assessment.h"

namespace tandem::bridge {

/// A fixed-bucket latency histogram in seconds. Any thread may observe and render.
class Histogram {
public:
    static constexpr std::array<double, 10> kBounds = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0, 30.0};

    /// Records one duration. Any thread.
    void observe(std::chrono::nanoseconds d) noexcept;
    /// Appends `name_bucket`, `name_sum` and `name_count` lines. Any thread.
    void render(std::string& out, const std::string& name, const std::string& help) const;

private:
    std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> buckets_{};  // last is +Inf
    std::atomic<std::uint64_t> count_{0};
    std::atomic<std::uint64_t> sum_ns_{0};
};

struct Metrics {
    std::atomic<std::int64_t> connections_open{0};        ///< gauge: TLS connections now
    std::atomic<std::uint64_t> connections_total{0};
    std::atomic<std::uint64_t> tls_handshake_failures{0};  ///< includes plain HTTP refused
    std::atomic<std::uint64_t> websocket_sessions_total{0};
    std::atomic<std::uint64_t> http_requests_total{0};
    std::atomic<std::uint64_t> frames_received{0};
    std::atomic<std::uint64_t> frames_rejected{0};         ///< malformed, oversized, rate limited
    std::atomic<std::uint64_t> slow_clients_dropped{0};
    std::atomic<std::uint64_t> patient_messages{0};
    std::atomic<std::uint64_t> ai_messages_delivered{0};
    std::atomic<std::uint64_t> ai_messages_held{0};
    std::array<std::atomic<std::uint64_t>, 5> flags_by_severity{};  ///< index: Severity
    std::atomic<std::uint64_t> llm_requests{0};
    std::atomic<std::uint64_t> llm_errors{0};
    Histogram llm_latency;    ///< request start to last token
    Histogram store_latency;  ///< one durable append

    /// The whole registry in Prometheus text format 0.0.4. Any thread.
    std::string render() const;
};

}  // namespace tandem::bridge
