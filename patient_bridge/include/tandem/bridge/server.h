#pragma once
// The bridge's one TLS port: GET / (chat page), /healthz, /metrics and WebSocket endpoints
// (/patient now, /clinician later). Asio and Beast live only in server.cpp; this header and
// everything the endpoints see (Connection, WebSocketEndpoint) are free of them, so the turn
// pipeline compiles fast and is tested without sockets.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "tandem/bridge/metrics.h"
#include "tandem/domain/error.h"

namespace tandem::bridge {

/// One open WebSocket, as an endpoint sees it.
class Connection {
public:
    virtual ~Connection() = default;
    /// Queues one text frame. Any thread. A client whose queue passes the limit is disconnected
    /// (it resumes from its cursor on reconnect); returns false once the connection is closing.
    virtual bool send(std::string text) = 0;
    /// Starts a clean WebSocket close. Any thread; idempotent.
    virtual void close() = 0;
    /// Process-unique id, for maps and logs. Any thread.
    virtual std::uint64_t id() const noexcept = 0;
};

/// What serves one WebSocket path. Every callback for a connection runs on that connection's
/// strand (never two at once for one connection) and must not block: hand slow work (store,
/// LLM) to a worker and reply with Connection::send.
class WebSocketEndpoint {
public:
    virtual ~WebSocketEndpoint() = default;
    /// The WebSocket handshake succeeded.
    virtual void on_open(const std::shared_ptr<Connection>& connection) = 0;
    /// One complete text frame of at most max_message_bytes (bigger frames and binary frames
    /// are answered by the server with an error frame and never reach the endpoint).
    virtual void on_text(const std::shared_ptr<Connection>& connection, std::string_view text) = 0;
    /// The connection is gone; called once, after on_open.
    virtual void on_close(const std::shared_ptr<Connection>& connection) = 0;
};

struct ServerOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;  ///< 0: an ephemeral port (tests)
    std::filesystem::path cert_file;
    std::filesystem::path key_file;
    int io_threads = 2;
    std::size_t max_message_bytes = 8192;
    std::size_t max_frame_bytes = 1 << 20;
    std::size_t send_queue_limit = 256;
    std::chrono::milliseconds handshake_timeout{10'000};
    std::chrono::milliseconds idle_timeout{60'000};
    std::chrono::milliseconds http_timeout{15'000};
};

class Server {
public:
    /// Metrics must outlive the server. Construct and configure on one thread.
    Server(ServerOptions options, Metrics& metrics);
    ~Server();  ///< stops and joins like stop()
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Serves `path` ("/patient") with `endpoint`. Before start() only.
    void add_websocket_endpoint(std::string path, std::shared_ptr<WebSocketEndpoint> endpoint);
    /// GET /healthz answers 200 when this returns true, else 503. Before start() only; the check
    /// runs on an io thread and must be quick.
    void set_health_check(std::function<bool()> check);

    /// Loads the TLS identity, binds, listens and starts the io threads; returns the bound port.
    /// Errors: io (certificate or key unreadable), network (bind failed). Once.
    Result<std::uint16_t> start();
    /// Stops accepting, closes every session, joins the io threads. Idempotent; not from an io thread.
    void stop();
    /// Blocks until SIGINT or SIGTERM, then returns (the caller finishes durable work and calls
    /// stop()). Main thread only, after start().
    void wait_for_termination_signal();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace tandem::bridge
