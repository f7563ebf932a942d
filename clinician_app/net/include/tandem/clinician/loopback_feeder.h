#pragma once
// A stand-in bridge for tests and the demo: a TLS WebSocket server on 127.0.0.1 with a fresh
// self-signed certificate that speaks just enough of the clinician protocol (login, resume,
// subscribe with after_seq, caught_up, action_result). It lives in the network library's one
// Beast translation unit so tests do not compile Beast a second time.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tandem::clinician {

class LoopbackFeeder {
public:
    /// Serves these stored events (JSON objects as text, ascending seq). Starts its own thread.
    explicit LoopbackFeeder(std::vector<std::string> stored_events);
    ~LoopbackFeeder();
    LoopbackFeeder(const LoopbackFeeder&) = delete;
    LoopbackFeeder& operator=(const LoopbackFeeder&) = delete;

    unsigned short port() const;
    /// SHA-256 of its certificate (hex).
    std::string fingerprint() const;
    /// Closes the first connection after it has sent this many events (tests a reconnect).
    void drop_after(std::size_t events);
    /// The after_seq of every subscribe received so far. Any thread.
    std::vector<std::uint64_t> subscriptions() const;
    /// Every action_id received so far. Any thread.
    std::vector<std::string> action_ids() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace tandem::clinician
