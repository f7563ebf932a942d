#pragma once
// A TCP relay on 127.0.0.1 between the app and the real bridge, for the network failures a test
// cannot ask the bridge to make: it passes bytes through (TLS stays end to end, so the app's pin
// still holds), swallows them (a connection that stays up but never answers), or cuts every
// connection and refuses new ones (the bridge gone), and back. Plain POSIX sockets on one thread.

#include <atomic>
#include <cstdint>
#include <thread>

namespace tandem::clinician::testing {

class TcpRelay {
public:
    enum class Mode { pass, swallow, refuse };

    /// Listens on 127.0.0.1 (an ephemeral port) and relays to 127.0.0.1:`upstream_port`.
    explicit TcpRelay(std::uint16_t upstream_port);
    ~TcpRelay();
    TcpRelay(const TcpRelay&) = delete;
    TcpRelay& operator=(const TcpRelay&) = delete;

    /// The port the app connects to.
    std::uint16_t port() const { return port_; }
    /// pass: bytes flow both ways. swallow: bytes are read and dropped in both directions, the
    /// connections stay open. refuse: open connections are closed and new ones closed at once.
    /// Any thread; takes effect within a few milliseconds.
    void set_mode(Mode mode) { mode_ = mode; }

private:
    void run();

    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::uint16_t upstream_port_ = 0;
    std::atomic<Mode> mode_{Mode::pass};
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace tandem::clinician::testing
