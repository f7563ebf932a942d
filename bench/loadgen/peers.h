#pragma once
// tandem-loadgen's protocol clients: one TLS WebSocket connection (Peer), a simulated patient
// and a clinician subscriber on top of it, and what they count. Their bodies, and so all of
// Beast's WebSocket templates, live in peers.cpp; client.cpp drives them (a load run, the demo)
// with timers only. Included by the loadgen's Beast translation units only.
//
// Threading: every connection lives on one io_context run by exactly one thread for its whole
// life, so a connection needs no strand and each thread keeps its own ThreadStats.

#include <utility>  // before Asio: Boost 1.74 with g++ 12 needs it (docs/DEPENDENCIES.md)

#include <chrono>
#include <climits>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>

#include "loadgen.h"

namespace tandem::loadgen {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using error_code = beast::error_code;
using Clock = std::chrono::steady_clock;

/// Microseconds since the loadgen started (one steady epoch for every thread). Any thread.
std::int64_t now_us();

/// The send time inside a loadgen client_msg_id "m<microseconds>-...", or -1. Any thread.
std::int64_t sent_at(std::string_view client_msg_id);

/// The string value after `"key":"` (pass the whole marker) in compact JSON, found without
/// parsing the frame; empty when absent. Any thread.
std::string_view string_after(std::string_view text, std::string_view quoted_key_colon_quote);

/// A client frame {type, id, payload} with a loadgen-unique id. Any thread.
std::string envelope(std::string_view type, nlohmann::json payload);

/// Counters one io thread owns; merged by the main thread after the run.
struct ThreadStats {
    std::int64_t window_begin_us = INT64_MAX;  ///< set before sending starts
    std::int64_t window_end_us = INT64_MAX;
    std::uint64_t sent_window = 0, acked_window = 0, acked_total = 0, sent_total = 0;
    std::uint64_t errors = 0, rate_limited = 0, clinician_events = 0, connect_failures = 0;
    std::uint64_t screened_window = 0, ai_replies_window = 0, clinician_reconnects = 0;
    std::vector<double> ack_ms, feed_ms;

    /// Whether time t (now_us) falls in the measured window. Its io thread.
    bool in_window(std::int64_t t) const { return t >= window_begin_us && t < window_end_us; }
};

/// One TLS WebSocket client connection, reconnectable. Subclasses see on_open, on_text,
/// on_closed. Every member is called on the peer's io thread.
class Peer : public std::enable_shared_from_this<Peer> {
public:
    /// `target` is the WebSocket path (/patient, /clinician).
    Peer(net::io_context& ioc, ssl::context& ctx, tcp::endpoint endpoint, std::string host, std::string target,
         ThreadStats& stats);
    virtual ~Peer() = default;

    /// Starts (or restarts) the connection; a failure ends in on_closed.
    void connect();
    /// Queues a frame; dropped when not open.
    void send(std::string frame);
    /// Closes politely.
    void close();

    /// Open: TLS and WebSocket handshakes done, not failed or closed since.
    bool is_open() const { return open_; }
    /// This peer's thread's counters.
    ThreadStats& stats() { return stats_; }
    /// This peer's io_context (for its timers).
    net::io_context& ioc() { return ioc_; }

protected:
    virtual void on_open() = 0;
    virtual void on_text(std::string_view text) = 0;
    virtual void on_closed(bool was_open) = 0;

private:
    // A completion handler that runs only if its stream is still the current one.
    template <class... Args>
    auto guarded(void (Peer::*handler)(Args...)) {
        return [self = shared_from_this(), gen = generation_, handler](Args... args) {
            if (gen == self->generation_) (self.get()->*handler)(args...);
        };
    }

    void on_connect(error_code ec);
    void on_tls(error_code ec);
    void on_handshake(error_code ec);
    void on_closed_politely(error_code);
    void do_read();
    void on_read(error_code ec, std::size_t);
    void do_write();
    void on_write(error_code ec, std::size_t);
    void failed(error_code);

    net::io_context& ioc_;
    ssl::context& ctx_;
    tcp::endpoint endpoint_;
    std::string host_;
    std::string target_;
    ThreadStats& stats_;
    std::optional<websocket::stream<beast::ssl_stream<beast::tcp_stream>>> ws_;
    beast::flat_buffer buffer_;
    std::deque<std::string> queue_;
    bool open_ = false;
    bool closing_ = false;
    std::uint64_t generation_ = 0;
};

/// A simulated patient: redeems its invite or says hello with its device token, sends chat
/// messages stamped with their send time, and counts acks, AI replies and error frames.
class PatientPeer final : public Peer {
public:
    /// `seat` must outlive the peer (its device token is written back on redeeming).
    PatientPeer(net::io_context& ioc, ssl::context& ctx, tcp::endpoint ep, std::string host, ThreadStats& stats,
                PatientSeat& seat, int index);

    /// A session is established and the connection still open.
    bool ready() const { return ready_ && is_open(); }
    /// A session was established at least once.
    bool ever_ready() const { return ever_ready_; }
    std::function<void(PatientPeer&)> on_ready;  ///< play mode: called at each (re)connection
    std::function<void(PatientPeer&)> on_lost;   ///< play mode: called when the connection ends
    /// play mode: a `questionnaire` frame's payload (a form to answer, new or resumed).
    std::function<void(PatientPeer&, const nlohmann::json&)> on_questionnaire;
    bool invalid_invite = false;  ///< the bridge refused this seat's invite code

    /// Sends one chat message stamped with the send time, or with `tag` as its client_msg_id.
    void send_message(std::string_view text, std::string_view tag = "");

protected:
    void on_open() override;
    void on_text(std::string_view text) override;
    void on_closed(bool) override;

private:
    void on_ack(std::string_view text);
    void on_other_frame(std::string_view text);

    PatientSeat& seat_;
    int index_;
    std::uint64_t counter_ = 0;
    std::int64_t last_seq_ = 0;
    bool ready_ = false;
    bool ever_ready_ = false;
};

/// A clinician subscriber: logs in, subscribes from its cursor and times each patient
/// message's arrival in its feed; resumes from its cursor when the bridge drops it.
class ClinicianPeer final : public Peer {
public:
    ClinicianPeer(net::io_context& ioc, ssl::context& ctx, tcp::endpoint ep, std::string host, ThreadStats& stats,
                  std::string username, std::string password, std::int64_t after_seq);

    /// Subscribed, caught up, and still open.
    bool live() const { return live_ && is_open(); }
    bool counts_screens = false;  ///< this one counts risk_assessed events (a supervisor sees them all)
    bool feed_batch = true;       ///< subscribe {batch: true}
    bool stopping = false;        ///< set before the final close: no reconnect

protected:
    void on_open() override;
    void on_text(std::string_view text) override;
    void on_closed(bool was_open) override;

private:
    void on_feed_event(std::string_view text, std::int64_t now);

    net::steady_timer retry_{ioc()};
    std::string username_;
    std::string password_;
    std::int64_t cursor_;
    bool live_ = false;
};

/// The first address of host:port. Errors: network. Any thread.
Result<tcp::endpoint> resolve(const std::string& host, std::uint16_t port);

/// Trusts exactly the bridge's own certificate from DATA_DIR/tls (pinning, as the clinician app
/// does on first use) rather than turning verification off. Errors: io. Main thread.
Result<void> configure_tls(ssl::context& ctx, const std::filesystem::path& data_dir);

/// Raises the open-file soft limit to the hard limit (thousands of connections). Main thread.
void raise_fd_limit();

}  // namespace tandem::loadgen
