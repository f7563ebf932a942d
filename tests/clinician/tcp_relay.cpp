#include "tcp_relay.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <stdexcept>
#include <utility>
#include <vector>

namespace tandem::clinician::testing {
namespace {

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

// One relayed connection: the app's socket and the bridge's.
struct Pair {
    int app = -1;
    int bridge = -1;
    void close_both() {
        if (app >= 0) ::close(app);
        if (bridge >= 0) ::close(bridge);
        app = bridge = -1;
    }
};

// Moves what one side has to the other (or nowhere, swallowing); false when the side closed.
bool pump(int from, int to, bool forward) {
    std::array<char, 16384> buf{};
    const ssize_t n = ::recv(from, buf.data(), buf.size(), 0);
    if (n <= 0) return false;
    if (!forward) return true;
    for (ssize_t sent = 0; sent < n;) {
        const ssize_t w = ::send(to, buf.data() + sent, static_cast<std::size_t>(n - sent), MSG_NOSIGNAL);
        if (w <= 0) return false;
        sent += w;
    }
    return true;
}

}  // namespace

TcpRelay::TcpRelay(std::uint16_t upstream_port) : upstream_port_(upstream_port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listener_, 16) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        throw std::runtime_error("the test relay cannot listen on 127.0.0.1");
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
}

TcpRelay::~TcpRelay() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
}

// One thread polls everything with a short timeout, so a mode change or stop is seen within
// 20 ms; a thread per connection was rejected as more to get wrong for no test that needs it.
void TcpRelay::run() {
    std::vector<Pair> pairs;
    while (!stop_) {
        const Mode mode = mode_;
        if (mode == Mode::refuse) {
            for (auto& p : pairs) p.close_both();
            pairs.clear();
        }
        std::vector<pollfd> fds{{listener_, POLLIN, 0}};
        for (const auto& p : pairs) {
            fds.push_back({p.app, POLLIN, 0});
            fds.push_back({p.bridge, POLLIN, 0});
        }
        if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
        const bool forward = mode == Mode::pass;
        std::vector<Pair> open;
        for (std::size_t i = 0; i < pairs.size(); ++i) {
            Pair& p = pairs[i];
            const short app_events = fds[1 + 2 * i].revents;
            const short bridge_events = fds[2 + 2 * i].revents;
            bool alive = true;
            if (app_events != 0) alive = pump(p.app, p.bridge, forward);
            if (alive && bridge_events != 0) alive = pump(p.bridge, p.app, forward);
            if (alive) open.push_back(p);
            else p.close_both();
        }
        pairs = std::move(open);
        // Accepted after the pairs were served: fds[] has no entries for a pair added here.
        if ((fds[0].revents & POLLIN) != 0) {
            const int app = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (app >= 0 && mode == Mode::refuse) {
                ::close(app);
            } else if (app >= 0) {
                Pair p{app, ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
                const sockaddr_in up = loopback(upstream_port_);
                if (p.bridge < 0 || ::connect(p.bridge, reinterpret_cast<const sockaddr*>(&up), sizeof up) != 0) {
                    p.close_both();
                } else {
                    pairs.push_back(p);
                }
            }
        }
    }
    for (auto& p : pairs) p.close_both();
}

}  // namespace tandem::clinician::testing
