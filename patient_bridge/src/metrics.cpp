#include "tandem/bridge/metrics.h"

#include <cstdio>

namespace tandem::bridge {
namespace {

std::string number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

void line(std::string& out, const std::string& name, const std::string& type, const std::string& help,
          const std::string& value, const std::string& labels = {}) {
    out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    out += name + labels + " " + value + "\n";
}

}  // namespace

void Histogram::observe(std::chrono::nanoseconds d) noexcept {
    const double s = std::chrono::duration<double>(d).count();
    std::size_t i = 0;
    while (i < kBounds.size() && s > kBounds[i]) ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(static_cast<std::uint64_t>(d.count() > 0 ? d.count() : 0), std::memory_order_relaxed);
}

void Histogram::render(std::string& out, const std::string& name, const std::string& help) const {
    out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBounds.size(); ++i) {
        cumulative += buckets_[i].load(std::memory_order_relaxed);
        out += name + "_bucket{le=\"" + number(kBounds[i]) + "\"} " + std::to_string(cumulative) + "\n";
    }
    cumulative += buckets_[kBounds.size()].load(std::memory_order_relaxed);
    out += name + "_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
    out += name + "_sum " + number(static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9) + "\n";
    out += name + "_count " + std::to_string(count_.load(std::memory_order_relaxed)) + "\n";
}

std::string Metrics::render() const {
    std::string out;
    auto u = [](const auto& a) { return std::to_string(a.load(std::memory_order_relaxed)); };
    line(out, "tandem_connections_open", "gauge", "TLS connections currently open.", u(connections_open));
    line(out, "tandem_connections_total", "counter", "TLS connections accepted.", u(connections_total));
    line(out, "tandem_tls_handshake_failures_total", "counter", "Connections refused before TLS (plain HTTP, bad handshakes).",
         u(tls_handshake_failures));
    line(out, "tandem_websocket_sessions_total", "counter", "WebSocket sessions opened.", u(websocket_sessions_total));
    line(out, "tandem_http_requests_total", "counter", "Plain HTTPS requests served.", u(http_requests_total));
    line(out, "tandem_frames_received_total", "counter", "WebSocket frames received.", u(frames_received));
    line(out, "tandem_frames_rejected_total", "counter", "Frames answered with an error (malformed, too large, rate limited).",
         u(frames_rejected));
    line(out, "tandem_slow_clients_dropped_total", "counter", "Clients disconnected because their send queue was full.",
         u(slow_clients_dropped));
    line(out, "tandem_patient_messages_total", "counter", "Patient messages persisted.", u(patient_messages));
    line(out, "tandem_ai_messages_delivered_total", "counter", "AI replies delivered to patients.", u(ai_messages_delivered));
    line(out, "tandem_ai_messages_held_total", "counter", "AI replies held for clinician review.", u(ai_messages_held));
    out += "# HELP tandem_flags_opened_total Risk flags opened, by severity.\n# TYPE tandem_flags_opened_total counter\n";
    for (int s = 0; s < 5; ++s)
        out += "tandem_flags_opened_total{severity=\"" + std::string(to_string(static_cast<Severity>(s))) + "\"} " +
               u(flags_by_severity[static_cast<std::size_t>(s)]) + "\n";
    line(out, "tandem_llm_requests_total", "counter", "Replies requested from the LLM provider.", u(llm_requests));
    line(out, "tandem_llm_errors_total", "counter", "LLM replies that failed after retries.", u(llm_errors));
    llm_latency.render(out, "tandem_llm_latency_seconds", "LLM reply latency, request to last token.");
    store_latency.render(out, "tandem_store_append_seconds", "Durable event store append latency.");
    return out;
}

}  // namespace tandem::bridge
