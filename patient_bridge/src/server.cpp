// The only translation unit of the bridge that includes Asio and Beast (each such TU costs a
// minute and gigabytes to compile). Shape after Beast's advanced_server and chat-multi
// examples: listener -> detector -> HTTPS session -> WebSocket session, each connection on its
// own strand, a timeout on every operation, a bounded send queue per WebSocket.

// Asio's scheduler trips g++ 12's -Wnull-dereference after inlining at -O2 (a false positive
// inside Boost 1.74); system-header suppression does not reach middle-end warnings, so it is
// turned off for this one TU rather than for every target.
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include <utility>  // before Asio: Boost 1.74 with g++ 12 needs it (docs/DEPENDENCIES.md)

#include <pthread.h>
#include <sys/resource.h>

#include "tandem/bridge/server.h"

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "tandem/bridge/assets.h"
#include "tandem/bridge/log.h"
#include "tandem/bridge/wire.h"

namespace tandem::bridge {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using error_code = beast::error_code;

constexpr std::string_view kServerName = "tandem-bridge";

// Errors that mean "the peer or we closed on purpose": not worth a warning.
bool is_quiet(const error_code& ec) {
    return ec == net::error::operation_aborted || ec == websocket::error::closed || ec == net::error::eof ||
           ec == net::error::connection_reset || ec == beast::error::timeout || ec == ssl::error::stream_truncated ||
           ec == http::error::end_of_stream;
}

class Closable {
public:
    virtual ~Closable() = default;
    virtual void shutdown() = 0;  // any thread; the session posts to its own strand
};

// Counts an open TCP connection for /metrics; moves with the socket from session to session.
class ConnectionToken {
public:
    explicit ConnectionToken(Metrics& m) : metrics_(&m) { metrics_->connections_open.fetch_add(1); }
    ConnectionToken(ConnectionToken&& o) noexcept : metrics_(std::exchange(o.metrics_, nullptr)) {}
    ConnectionToken& operator=(ConnectionToken&&) = delete;
    ~ConnectionToken() {
        if (metrics_ != nullptr) metrics_->connections_open.fetch_sub(1);
    }

private:
    Metrics* metrics_;
};

// What every session shares with the server. Held by shared_ptr so a session finishing after
// Server::stop() still finds it.
struct Shared {
    Shared(ServerOptions o, Metrics& m) : options(std::move(o)), metrics(m), ssl_ctx(ssl::context::tls_server) {}
    ServerOptions options;
    Metrics& metrics;
    ssl::context ssl_ctx;
    std::map<std::string, std::shared_ptr<WebSocketEndpoint>, std::less<>> endpoints;
    std::function<bool()> health;

    std::mutex mutex;
    std::condition_variable drained;
    std::unordered_map<std::uint64_t, std::weak_ptr<Closable>> sessions;
    std::atomic<std::uint64_t> next_id{1};
    std::atomic<bool> stopping{false};

    void add(std::uint64_t id, std::weak_ptr<Closable> s) {
        const std::lock_guard lock(mutex);
        sessions.emplace(id, std::move(s));
    }
    void remove(std::uint64_t id) {
        const std::lock_guard lock(mutex);
        sessions.erase(id);
        if (sessions.empty()) drained.notify_all();
    }
};

// ---------------------------------------------------------------------------------------------
// The TCP stream under TLS, able to hold writes back ("corked") until the next write that is
// not: the frames a WebSocket session has queued behind each other (a patient's typing, reply
// segments and reply come together) leave in one sendmsg instead of one each. Measured before
// this: one sendmsg per frame, about 6 per patient message, 7% of the bridge's CPU in the
// kernel. Each frame is still its own TLS record and WebSocket message, so nothing on the wire
// changes but how the bytes are grouped into TCP writes. Rejected: TCP_CORK (it saves packets,
// not syscalls) and writing WebSocket frames past Beast (its pongs and close would interleave).
class CorkingStream {
public:
    using executor_type = beast::tcp_stream::executor_type;
    using next_layer_type = beast::tcp_stream;
    using lowest_layer_type = beast::tcp_stream::socket_type;  // what asio::ssl::stream asks for

    explicit CorkingStream(beast::tcp_stream&& next) : next_(std::move(next)) {}

    executor_type get_executor() noexcept { return next_.get_executor(); }
    next_layer_type& next_layer() noexcept { return next_; }
    const next_layer_type& next_layer() const noexcept { return next_; }
    lowest_layer_type& lowest_layer() noexcept { return next_.socket(); }
    const lowest_layer_type& lowest_layer() const noexcept { return next_.socket(); }

    // Applies to writes started after it. The owner corks only while more writes of its own
    // follow at once, so held bytes (including a pong Beast writes in between) never wait long.
    void set_corked(bool corked) noexcept { corked_ = corked; }

    template <class MutableBuffers, class ReadHandler>
    auto async_read_some(const MutableBuffers& buffers, ReadHandler&& handler) {
        return next_.async_read_some(buffers, std::forward<ReadHandler>(handler));
    }

    // TLS (asio::ssl) has at most one write outstanding on its next layer, so held_ is never
    // appended to while a flush of it is in flight.
    template <class ConstBuffers, class WriteHandler>
    auto async_write_some(const ConstBuffers& buffers, WriteHandler&& handler) {
        return net::async_initiate<WriteHandler, void(error_code, std::size_t)>(
            [this](auto&& h, const ConstBuffers& b) { start_write(std::forward<decltype(h)>(h), b); }, handler,
            buffers);
    }

private:
    template <class Handler, class ConstBuffers>
    void start_write(Handler&& h, const ConstBuffers& b) {
        if (!corked_ && held_.empty()) {
            next_.async_write_some(b, std::forward<Handler>(h));
            return;
        }
        const std::size_t n = net::buffer_size(b);
        const std::size_t old = held_.size();
        held_.resize(old + n);
        net::buffer_copy(net::buffer(held_.data() + old, n), b);
        auto ex = net::get_associated_executor(h, get_executor());
        // A long queue (a feed backlog) still goes out in bounded pieces.
        if (corked_ && held_.size() < kMaxHeldBytes) {  // reported written now, through the executor (never inline)
            net::post(ex, beast::bind_front_handler(std::forward<Handler>(h), error_code{}, n));
            return;
        }
        net::async_write(next_, net::buffer(held_),
                         net::bind_executor(ex, [this, n, h = std::forward<Handler>(h)](error_code ec, std::size_t) mutable {
                             held_.clear();
                             h(ec, ec ? std::size_t{0} : n);
                         }));
    }

    static constexpr std::size_t kMaxHeldBytes = 64 * 1024;
    beast::tcp_stream next_;
    std::string held_;
    bool corked_ = false;
};

using TlsStream = beast::ssl_stream<CorkingStream>;

// ---------------------------------------------------------------------------------------------
// WebSocket session: implements Connection for the endpoint.
class WebSocketSession final : public Connection,
                               public Closable,
                               public std::enable_shared_from_this<WebSocketSession> {
public:
    WebSocketSession(TlsStream&& stream, std::shared_ptr<Shared> shared,
                     std::shared_ptr<WebSocketEndpoint> endpoint, ConnectionToken token)
        : ws_(std::move(stream)),
          shared_(std::move(shared)),
          endpoint_(std::move(endpoint)),
          token_(std::move(token)),
          id_(shared_->next_id.fetch_add(1)),
          grace_(ws_.get_executor()) {}

    void run(http::request<http::string_body> req) {
        req_ = std::move(req);
        const auto& o = shared_->options;
        beast::get_lowest_layer(ws_).expires_never();  // the websocket timeout option takes over
        websocket::stream_base::timeout t{};
        t.handshake_timeout = o.handshake_timeout;
        t.idle_timeout = o.idle_timeout;
        t.keep_alive_pings = true;  // an idle but live browser answers pings and stays
        ws_.set_option(t);
        ws_.set_option(websocket::stream_base::decorator(
            [](websocket::response_type& res) { res.set(http::field::server, kServerName); }));
        ws_.read_message_max(o.max_frame_bytes);
        shared_->add(id_, weak_from_this());
        ws_.async_accept(req_, beast::bind_front_handler(&WebSocketSession::on_accept, shared_from_this()));
    }

    bool send(std::string text) override {
        if (finished_.load()) return false;
        net::post(ws_.get_executor(), [self = shared_from_this(), t = std::move(text)]() mutable {
            self->enqueue(std::move(t));
        });
        return true;
    }

    void close() override {
        net::post(ws_.get_executor(), [self = shared_from_this()] { self->begin_close(); });
    }

    std::uint64_t id() const noexcept override { return id_; }

    void shutdown() override { close(); }

private:
    void on_accept(error_code ec) {
        if (ec) return fail(ec, "accept");
        opened_ = true;
        shared_->metrics.websocket_sessions_total.fetch_add(1);
        endpoint_->on_open(shared_from_this());
        do_read();
    }

    void do_read() {
        ws_.async_read(buffer_, beast::bind_front_handler(&WebSocketSession::on_read, shared_from_this()));
    }

    void on_read(error_code ec, std::size_t) {
        if (ec) return fail(ec, "read");
        auto& m = shared_->metrics;
        m.frames_received.fetch_add(1);
        // Typed errors keep the connection: the user's next message should still get through.
        if (!ws_.got_text()) {
            m.frames_rejected.fetch_add(1);
            enqueue(make_error_frame("unsupported", "binary frames are not accepted; send JSON text"));
        } else if (buffer_.size() > shared_->options.max_message_bytes) {
            m.frames_rejected.fetch_add(1);
            enqueue(make_error_frame("too_large", "message exceeds " +
                                                      std::to_string(shared_->options.max_message_bytes) + " bytes"));
        } else {
            const auto data = buffer_.cdata();
            endpoint_->on_text(shared_from_this(),
                               std::string_view(static_cast<const char*>(data.data()), data.size()));
        }
        buffer_.consume(buffer_.size());
        if (finished_.load() || closing_) return;
        // Backpressure: a client that reads slower than it writes stops being read from.
        if (queue_.size() >= high_water()) {
            reading_paused_ = true;
            return;
        }
        do_read();
    }

    std::size_t high_water() const { return std::max<std::size_t>(1, shared_->options.send_queue_limit / 2); }

    void enqueue(std::string text) {
        if (finished_.load() || closing_) return;
        if (queue_.size() >= shared_->options.send_queue_limit) {
            // Dropping the client beats growing memory without bound; it resumes on reconnect.
            shared_->metrics.slow_clients_dropped.fetch_add(1);
            log_event(LogLevel::warn, "ws_slow_client_dropped", {{"conn", id_}, {"queued", queue_.size()}});
            // The client is told why before it goes (it should resubscribe from its cursor rather
            // than report a network fault): the queued frames are dropped, except one already being
            // written, and a too_slow error takes their place; the close follows it. A client that
            // does not read even that is cut off after a grace period. Rejected: closing the socket
            // at once (what this did before), which left the client guessing.
            queue_.erase(queue_.begin() + 1, queue_.end());
            queue_.push_back(make_error_frame("too_slow",
                                              "you fell too far behind; reconnect and resubscribe from your cursor"));
            closing_ = true;
            grace_.expires_after(std::chrono::seconds(5));
            grace_.async_wait([self = shared_from_this()](error_code ec) {
                if (ec || self->finished_.load()) return;
                error_code ignored;
                beast::get_lowest_layer(self->ws_).socket().close(ignored);
            });
            if (queue_.size() == 1) do_write();
            return;
        }
        queue_.push_back(std::move(text));
        if (queue_.size() == 1) do_write();
    }

    void do_write() {
        // More frames queued behind this one: hold its bytes and send them with the last.
        ws_.next_layer().next_layer().set_corked(queue_.size() > 1);
        ws_.text(true);
        ws_.async_write(net::buffer(queue_.front()),
                        beast::bind_front_handler(&WebSocketSession::on_write, shared_from_this()));
    }

    void on_write(error_code ec, std::size_t) {
        if (ec) return fail(ec, "write");
        queue_.pop_front();
        if (!queue_.empty()) return do_write();
        if (closing_) return do_close();
        if (reading_paused_ && !finished_.load()) {
            reading_paused_ = false;
            do_read();
        }
    }

    void begin_close() {
        if (closing_ || finished_.load() || !opened_) return;
        closing_ = true;
        if (queue_.empty()) do_close();  // else on_write closes once the queue drains
    }

    void do_close() {
        ws_.async_close(websocket::close_code::going_away,
                        beast::bind_front_handler(&WebSocketSession::on_close, shared_from_this()));
    }

    void on_close(error_code ec) {
        if (ec) return fail(ec, "close");
        finish();
    }

    void fail(error_code ec, const char* what) {
        if (!is_quiet(ec))
            log_event(LogLevel::warn, "ws_error", {{"conn", id_}, {"op", what}, {"error", ec.message()}});
        finish();
    }

    void finish() {
        if (finished_.exchange(true)) return;
        shared_->remove(id_);
        if (opened_) endpoint_->on_close(shared_from_this());
    }

    websocket::stream<TlsStream> ws_;
    std::shared_ptr<Shared> shared_;
    std::shared_ptr<WebSocketEndpoint> endpoint_;
    ConnectionToken token_;
    const std::uint64_t id_;
    http::request<http::string_body> req_;
    beast::flat_buffer buffer_;
    std::deque<std::string> queue_;
    net::steady_timer grace_;  // closes a dropped slow client that does not read its too_slow frame
    bool opened_ = false;
    bool closing_ = false;
    bool reading_paused_ = false;
    std::atomic<bool> finished_{false};  // read by send() on any thread
};

// ---------------------------------------------------------------------------------------------
// HTTPS session: TLS handshake, then requests until close or an upgrade to a WebSocket.
class HttpsSession final : public Closable, public std::enable_shared_from_this<HttpsSession> {
public:
    HttpsSession(beast::tcp_stream&& stream, beast::flat_buffer&& buffer, std::shared_ptr<Shared> shared,
                 ConnectionToken token)
        : stream_(std::move(stream), shared->ssl_ctx),
          buffer_(std::move(buffer)),
          shared_(std::move(shared)),
          token_(std::move(token)),
          id_(shared_->next_id.fetch_add(1)) {}

    void run() {
        shared_->add(id_, weak_from_this());
        beast::get_lowest_layer(stream_).expires_after(shared_->options.handshake_timeout);
        // The detector already read the ClientHello into buffer_: hand it to OpenSSL.
        stream_.async_handshake(ssl::stream_base::server, buffer_.data(),
                                beast::bind_front_handler(&HttpsSession::on_handshake, shared_from_this()));
    }

    void shutdown() override {
        net::post(stream_.get_executor(), [self = shared_from_this()] {
            error_code ignored;
            beast::get_lowest_layer(self->stream_).socket().close(ignored);
        });
    }

    ~HttpsSession() override { shared_->remove(id_); }

private:
    void on_handshake(error_code ec, std::size_t used) {
        if (ec) {
            shared_->metrics.tls_handshake_failures.fetch_add(1);
            return fail(ec, "tls_handshake");
        }
        buffer_.consume(used);
        do_read();
    }

    void do_read() {
        parser_.emplace();
        parser_->header_limit(8 * 1024);
        parser_->body_limit(8 * 1024);  // the bridge takes no uploads over plain HTTP
        beast::get_lowest_layer(stream_).expires_after(shared_->options.http_timeout);
        http::async_read(stream_, buffer_, *parser_,
                         beast::bind_front_handler(&HttpsSession::on_read, shared_from_this()));
    }

    void on_read(error_code ec, std::size_t) {
        if (ec == http::error::end_of_stream) return do_close();
        if (ec) return fail(ec, "http_read");
        auto& req = parser_->get();
        if (websocket::is_upgrade(req)) {
            const std::string_view target = req.target();
            const auto path = target.substr(0, target.find('?'));
            const auto it = shared_->endpoints.find(path);
            if (it != shared_->endpoints.end() && !shared_->stopping.load()) {
                shared_->remove(id_);  // the WebSocket session registers itself
                std::make_shared<WebSocketSession>(std::move(stream_), shared_, it->second, std::move(token_))
                    ->run(parser_->release());
                return;
            }
        }
        shared_->metrics.http_requests_total.fetch_add(1);
        write(route(req));
    }

    http::response<http::string_body> route(const http::request<http::string_body>& req) {
        auto respond = [&](http::status status, std::string_view type, std::string body) {
            http::response<http::string_body> res{status, req.version()};
            res.set(http::field::server, kServerName);
            res.set(http::field::content_type, type);
            res.set(http::field::cache_control, "no-store");
            res.set("X-Content-Type-Options", "nosniff");
            res.set("Referrer-Policy", "no-referrer");
            res.set(http::field::strict_transport_security, "max-age=31536000");
            res.set("Content-Security-Policy",
                    "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
            res.keep_alive(req.keep_alive());
            res.body() = std::move(body);
            res.prepare_payload();
            if (req.method() == http::verb::head) res.body().clear();
            return res;
        };
        if (req.method() != http::verb::get && req.method() != http::verb::head) {
            auto res = respond(http::status::method_not_allowed, "text/plain; charset=utf-8", "GET only\n");
            res.set(http::field::allow, "GET, HEAD");
            return res;
        }
        const std::string_view target = req.target();
        const auto path = target.substr(0, target.find('?'));
        if (path == "/healthz") {
            const bool ok = !shared_->health || shared_->health();
            return respond(ok ? http::status::ok : http::status::service_unavailable, "application/json",
                           ok ? R"({"status":"ok"})" "\n" : R"({"status":"unavailable"})" "\n");
        }
        if (path == "/metrics")
            return respond(http::status::ok, "text/plain; version=0.0.4; charset=utf-8", shared_->metrics.render());
        if (const Asset* a = find_asset(path); a != nullptr)
            return respond(http::status::ok, a->content_type, std::string(a->bytes));
        if (shared_->endpoints.contains(path))
            return respond(http::status::upgrade_required, "text/plain; charset=utf-8", "WebSocket only\n");
        return respond(http::status::not_found, "text/plain; charset=utf-8", "not found\n");
    }

    void write(http::response<http::string_body> res) {
        res_ = std::make_shared<http::response<http::string_body>>(std::move(res));
        http::async_write(stream_, *res_,
                          beast::bind_front_handler(&HttpsSession::on_write, shared_from_this(), res_->keep_alive()));
    }

    void on_write(bool keep_alive, error_code ec, std::size_t) {
        if (ec) return fail(ec, "http_write");
        res_.reset();
        if (!keep_alive || shared_->stopping.load()) return do_close();
        do_read();
    }

    void do_close() {
        beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
        stream_.async_shutdown(beast::bind_front_handler(&HttpsSession::on_shutdown, shared_from_this()));
    }

    void on_shutdown(error_code ec) {
        if (ec) return fail(ec, "tls_shutdown");
    }

    void fail(error_code ec, const char* what) {
        if (!is_quiet(ec))
            log_event(LogLevel::debug, "https_error", {{"conn", id_}, {"op", what}, {"error", ec.message()}});
    }

    TlsStream stream_;
    beast::flat_buffer buffer_;
    std::shared_ptr<Shared> shared_;
    ConnectionToken token_;
    const std::uint64_t id_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::shared_ptr<http::response<http::string_body>> res_;
};

// ---------------------------------------------------------------------------------------------
// Detector: TLS or plain? Plain HTTP gets a short 400 and a close, so a user who typed
// http:// learns why instead of seeing a reset (rejected: silently dropping it).
class DetectSession final : public std::enable_shared_from_this<DetectSession> {
public:
    DetectSession(tcp::socket&& socket, std::shared_ptr<Shared> shared)
        : stream_(std::move(socket)), shared_(std::move(shared)), token_(shared_->metrics) {}

    void run() {
        net::dispatch(stream_.get_executor(), beast::bind_front_handler(&DetectSession::on_run, shared_from_this()));
    }

private:
    void on_run() {
        stream_.expires_after(shared_->options.handshake_timeout);
        beast::async_detect_ssl(stream_, buffer_,
                                beast::bind_front_handler(&DetectSession::on_detect, shared_from_this()));
    }

    void on_detect(error_code ec, bool is_tls) {
        if (ec) return fail(ec, "detect");
        if (is_tls) {
            std::make_shared<HttpsSession>(std::move(stream_), std::move(buffer_), shared_, std::move(token_))->run();
            return;
        }
        shared_->metrics.tls_handshake_failures.fetch_add(1);
        static const std::string refusal =
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n"
            "Content-Length: 31\r\n\r\nThis server speaks HTTPS only.\n";
        net::async_write(stream_, net::buffer(refusal),
                         beast::bind_front_handler(&DetectSession::on_refused, shared_from_this()));
    }

    void on_refused(error_code ec, std::size_t) {
        if (ec) return fail(ec, "refuse_plain");
        error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.close();
    }

    void fail(error_code ec, const char* what) {
        if (!is_quiet(ec)) log_event(LogLevel::debug, "detect_error", {{"op", what}, {"error", ec.message()}});
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::shared_ptr<Shared> shared_;
    ConnectionToken token_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
struct Server::Impl {
    Impl(ServerOptions o, Metrics& m) : shared(std::make_shared<Shared>(std::move(o), m)) {}

    net::io_context ioc;
    std::shared_ptr<Shared> shared;
    std::optional<tcp::acceptor> acceptor;
    std::vector<std::thread> threads;
    bool started = false;
    bool stopped = false;

    Result<void> configure_tls() {
        auto& ctx = shared->ssl_ctx;
        ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use |
                        ssl::context::no_compression);
        SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
        // TLS 1.2: forward-secret AEAD suites only. TLS 1.3 suites are all modern by default.
        SSL_CTX_set_cipher_list(ctx.native_handle(),
                                "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
        error_code ec;
        ctx.use_certificate_chain_file(shared->options.cert_file.string(), ec);
        if (ec) return fail(ErrorCode::io, "cannot load TLS certificate: " + ec.message(), shared->options.cert_file.string());
        ctx.use_private_key_file(shared->options.key_file.string(), ssl::context::pem, ec);
        if (ec) return fail(ErrorCode::io, "cannot load TLS key: " + ec.message(), shared->options.key_file.string());
        if (SSL_CTX_check_private_key(ctx.native_handle()) != 1)
            return fail(ErrorCode::invalid_argument, "TLS key does not match the certificate",
                        shared->options.key_file.string());
        return {};
    }

    void do_accept() {
        acceptor->async_accept(net::make_strand(ioc), [this](error_code ec, tcp::socket socket) {
            if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
            if (ec) {
                log_event(LogLevel::warn, "accept_failed", {{"error", ec.message()}});
            } else {
                shared->metrics.connections_total.fetch_add(1);
                // Nagle's algorithm held a frame back while the one before it was unacknowledged,
                // and the client's delayed ACK (40 ms on Linux) released it: the clinicians'
                // feed, a stream of small frames, had 20 to 40 ms added at p99 (measured:
                // docs/PERFORMANCE.md "Nagle"). Frames queued together still leave in one write
                // (CorkingStream), so this adds few packets. A failure only costs latency.
                error_code no_delay_failed;
                socket.set_option(tcp::no_delay(true), no_delay_failed);
                std::make_shared<DetectSession>(std::move(socket), shared)->run();
            }
            do_accept();
        });
    }
};

Server::Server(ServerOptions options, Metrics& metrics) : impl_(std::make_unique<Impl>(std::move(options), metrics)) {}

Server::~Server() { stop(); }

void Server::add_websocket_endpoint(std::string path, std::shared_ptr<WebSocketEndpoint> endpoint) {
    impl_->shared->endpoints[std::move(path)] = std::move(endpoint);
}

void Server::set_health_check(std::function<bool()> check) { impl_->shared->health = std::move(check); }

Result<std::uint16_t> Server::start() {
    auto& im = *impl_;
    if (im.started) return fail(ErrorCode::conflict, "server already started");
    // Each connection is a file descriptor and many systems start processes with a soft limit
    // of 1,024; the hard limit (often 65,536 or more) is ours to take without privileges.
    // Rejected: documenting `ulimit -n` for the operator, which systemd units and shells forget.
    if (rlimit rl{}; ::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        const auto before = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &rl) == 0)
            log_event(LogLevel::debug, "fd_limit_raised",
                      {{"from", static_cast<std::uint64_t>(before)}, {"to", static_cast<std::uint64_t>(rl.rlim_max)}});
    }
    if (auto r = im.configure_tls(); !r) return std::unexpected(r.error());
    const auto& o = im.shared->options;
    error_code ec;
    const auto address = net::ip::make_address(o.host, ec);
    if (ec) return fail(ErrorCode::invalid_argument, "not an IP address", "listen_host");
    const tcp::endpoint where{address, o.port};
    im.acceptor.emplace(net::make_strand(im.ioc));
    im.acceptor->open(where.protocol(), ec);
    if (!ec) im.acceptor->set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) im.acceptor->bind(where, ec);
    if (!ec) im.acceptor->listen(net::socket_base::max_listen_connections, ec);
    if (ec) return fail(ErrorCode::network, "cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " + ec.message());
    const auto port = im.acceptor->local_endpoint().port();
    im.started = true;
    im.do_accept();
    for (int i = 0; i < std::max(1, o.io_threads); ++i) im.threads.emplace_back([&im] {
            pthread_setname_np(pthread_self(), "tandem-io");
            im.ioc.run();
        });
    log_event(LogLevel::info, "listening", {{"host", o.host}, {"port", port}, {"io_threads", o.io_threads}});
    return port;
}

void Server::stop() {
    auto& im = *impl_;
    if (!im.started || im.stopped) return;
    im.stopped = true;
    im.shared->stopping = true;
    net::post(im.acceptor->get_executor(), [&im] {
        error_code ignored;
        im.acceptor->close(ignored);
    });
    // Snapshot under the lock, act outside it: shutdown() posts, and a session finishing
    // concurrently takes the same lock to unregister.
    std::vector<std::shared_ptr<Closable>> live;
    {
        const std::lock_guard lock(im.shared->mutex);
        for (auto& [id, weak] : im.shared->sessions)
            if (auto s = weak.lock()) live.push_back(std::move(s));
    }
    for (auto& s : live) s->shutdown();
    live.clear();
    {
        std::unique_lock lock(im.shared->mutex);
        im.shared->drained.wait_for(lock, std::chrono::seconds(3), [&] { return im.shared->sessions.empty(); });
    }
    im.ioc.stop();
    for (auto& t : im.threads) t.join();
    im.threads.clear();
    log_event(LogLevel::info, "stopped");
}

void Server::wait_for_termination_signal() {
    net::io_context signal_ioc;
    net::signal_set signals(signal_ioc, SIGINT, SIGTERM);
    signals.async_wait([](error_code ec, int signo) {
        if (!ec) log_event(LogLevel::info, "signal_received", {{"signal", signo}});
    });
    signal_ioc.run();
}

}  // namespace tandem::bridge
