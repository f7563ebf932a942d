// The clinician app's only Beast translation unit: the client connection, the fingerprint probe
// and the loopback feeder used by tests. Keeping them together costs one Beast compile, not three.
// Asio's scheduler trips g++ 12's -Wnull-dereference after inlining at -O2 (a false positive
// inside Boost 1.74, not in this code); the bridge silences it the same way.
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include <utility>  // before Asio: Boost 1.74's coroutine support on g++ 12 needs it first

#include "tandem/clinician/connection.h"

#include <atomic>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tandem/clinician/loopback_feeder.h"
#include "tandem/clinician/session.h"
#include "tandem/clinician/ui_post.h"

namespace tandem::clinician {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using WsStream = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;
using asio::awaitable;
using asio::redirect_error;
using asio::use_awaitable;

std::string hex(const unsigned char* data, unsigned size) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(size * 2);
    for (unsigned i = 0; i < size; ++i) {
        out += kDigits[data[i] >> 4U];
        out += kDigits[data[i] & 0x0FU];
    }
    return out;
}

std::string fingerprint_of(X509* cert) {
    if (cert == nullptr) return {};
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned size = 0;
    if (X509_digest(cert, EVP_sha256(), md, &size) != 1) return {};
    return hex(md, size);
}

std::string peer_fingerprint(SSL* ssl) {
    X509* cert = SSL_get1_peer_certificate(ssl);
    std::string out = fingerprint_of(cert);
    X509_free(cert);
    return out;
}

// The bridge usually has a self-signed certificate: trust comes from the pinned fingerprint,
// checked right after the handshake and before any byte of the protocol (or a password) is sent.
// Rejected alternative: CA verification, which a clinic's own bridge rarely has.
void configure_client(asio::ssl::context& tls) {
    tls.set_verify_mode(asio::ssl::verify_none);
    SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
}

// SSL_set_tlsext_host_name is a macro with a C cast; this is the same call without it.
void set_sni(SSL* ssl, const std::string& host) {
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str()));
}

struct Outcome {
    Error error;
    bool fatal = false;
    bool opened = false;
};

}  // namespace

Result<Endpoint> parse_endpoint(const std::string& text) {
    std::string rest = text;
    for (const char* scheme : {"wss://", "https://"}) {
        if (rest.rfind(scheme, 0) == 0) rest = rest.substr(std::string_view(scheme).size());
    }
    Endpoint out;
    if (const auto slash = rest.find('/'); slash != std::string::npos) {
        out.path = rest.substr(slash);
        rest = rest.substr(0, slash);
    }
    if (const auto colon = rest.rfind(':'); colon != std::string::npos) {
        out.port = rest.substr(colon + 1);
        rest = rest.substr(0, colon);
        if (out.port.empty() || out.port.find_first_not_of("0123456789") != std::string::npos || out.port.size() > 5) {
            return fail(ErrorCode::invalid_argument, "the port must be a number", "server");
        }
    }
    if (rest.empty()) return fail(ErrorCode::invalid_argument, "the server address is empty", "server");
    out.host = rest;
    if (out.path == "/" || out.path.empty()) out.path = "/clinician";
    return out;
}

struct Connection::Impl : std::enable_shared_from_this<Impl> {
    struct Link {
        explicit Link(asio::io_context& io, asio::ssl::context& tls) : ws(io, tls) {}
        WsStream ws;
        std::deque<std::string> outbox;
        bool writing = false;
    };

    Endpoint endpoint;
    std::string pin;
    ConnectionEvents events;
    asio::io_context io;
    asio::ssl::context tls{asio::ssl::context::tls_client};
    asio::steady_timer retry{io};
    std::thread thread;
    std::atomic<bool> stopping{false};
    std::shared_ptr<std::atomic<bool>> alive = std::make_shared<std::atomic<bool>>(true);
    std::shared_ptr<Link> link;  // io thread only
    std::mt19937 rng{std::random_device{}()};

    // Every callback goes through ui::post and re-checks `alive` on the GUI thread, so nothing
    // runs after stop() returned there.
    template <class F>
    void to_gui(F f) {
        ui::post([alive = alive, events = events, f = std::move(f)]() mutable {
            if (alive->load()) f(events);
        });
    }

    void write_next(const std::shared_ptr<Link>& l) {
        if (l->writing || l->outbox.empty()) return;
        l->writing = true;
        l->ws.async_write(asio::buffer(l->outbox.front()), [this, self = shared_from_this(), l](beast::error_code ec, std::size_t) {
            l->writing = false;
            if (ec) return;  // the read loop sees the failure and reconnects
            l->outbox.pop_front();
            write_next(l);
        });
    }

    awaitable<Outcome> run_once() {
        Outcome out;
        beast::error_code ec;
        tcp::resolver resolver(io);
        const auto results = co_await resolver.async_resolve(endpoint.host, endpoint.port, redirect_error(use_awaitable, ec));
        if (ec) {
            out.error = Error{ErrorCode::network, "cannot resolve " + endpoint.host + ": " + ec.message(), {}};
            co_return out;
        }
        auto l = std::make_shared<Link>(io, tls);
        link = l;
        auto& tcp_layer = beast::get_lowest_layer(l->ws);
        tcp_layer.expires_after(std::chrono::seconds{10});
        co_await tcp_layer.async_connect(results, redirect_error(use_awaitable, ec));
        if (!ec) {
            // A clinician's action must not wait behind the previous frame's delayed ACK (Nagle);
            // the bridge does the same on its side. A failure only costs latency.
            beast::error_code no_delay_failed;
            tcp_layer.socket().set_option(tcp::no_delay(true), no_delay_failed);
            set_sni(l->ws.next_layer().native_handle(), endpoint.host);
            co_await l->ws.next_layer().async_handshake(asio::ssl::stream_base::client, redirect_error(use_awaitable, ec));
        }
        if (ec) {
            link.reset();
            out.error = Error{ErrorCode::network, "cannot reach " + endpoint.key() + ": " + ec.message(), {}};
            co_return out;
        }
        const std::string presented = peer_fingerprint(l->ws.next_layer().native_handle());
        if (check_pin(pin, presented) != PinVerdict::trusted) {
            link.reset();
            out.fatal = true;
            out.error = Error{ErrorCode::permission_denied,
                              "the server's certificate has changed (now SHA-256 " + format_fingerprint(presented) +
                                  "); refusing to connect. Ask your administrator before trusting it.",
                              "certificate"};
            co_return out;
        }
        tcp_layer.expires_never();
        l->ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
        const std::string host_header = endpoint.key();
        co_await l->ws.async_handshake(host_header, endpoint.path, redirect_error(use_awaitable, ec));
        if (ec) {
            link.reset();
            out.error = Error{ErrorCode::network, "WebSocket handshake failed: " + ec.message(), {}};
            co_return out;
        }
        l->ws.text(true);
        out.opened = true;
        to_gui([](ConnectionEvents& e) {
            if (e.on_open) e.on_open();
        });
        beast::flat_buffer buffer;
        for (;;) {
            co_await l->ws.async_read(buffer, redirect_error(use_awaitable, ec));
            if (ec) break;
            to_gui([text = beast::buffers_to_string(buffer.data())](ConnectionEvents& e) mutable {
                if (e.on_frame) e.on_frame(std::move(text));
            });
            buffer.consume(buffer.size());
        }
        link.reset();
        out.error = Error{ErrorCode::network, "connection lost: " + ec.message(), {}};
        co_return out;
    }

    awaitable<void> run() {
        Backoff backoff;
        std::uniform_real_distribution<double> jitter(0.0, 1.0);
        while (!stopping) {
            const Outcome outcome = co_await run_once();
            if (stopping) co_return;
            if (outcome.opened) backoff.reset();
            const auto delay = outcome.fatal ? std::chrono::milliseconds{0} : backoff.next(jitter(rng));
            to_gui([error = outcome.error, fatal = outcome.fatal, delay](ConnectionEvents& e) {
                if (e.on_closed) e.on_closed(error, !fatal, delay);
            });
            if (outcome.fatal) co_return;
            retry.expires_after(delay);
            beast::error_code ec;
            co_await retry.async_wait(redirect_error(use_awaitable, ec));
        }
    }
};

Connection::Connection(Endpoint endpoint, std::string pinned_fingerprint, ConnectionEvents events)
    : impl_(std::make_shared<Impl>()) {
    impl_->endpoint = std::move(endpoint);
    impl_->pin = std::move(pinned_fingerprint);
    impl_->events = std::move(events);
    configure_client(impl_->tls);
}

Connection::~Connection() { stop(); }

void Connection::start() {
    if (impl_->thread.joinable()) return;
    auto impl = impl_;
    asio::co_spawn(impl->io, impl->run(), asio::detached);
    impl->thread = std::thread([impl] { impl->io.run(); });
}

void Connection::send(std::string frame) {
    auto impl = impl_;
    asio::post(impl->io, [impl, frame = std::move(frame)]() mutable {
        if (!impl->link) return;
        impl->link->outbox.push_back(std::move(frame));
        impl->write_next(impl->link);
    });
}

void Connection::stop() {
    if (!impl_) return;
    impl_->alive->store(false);
    impl_->stopping = true;
    auto impl = impl_;
    asio::post(impl->io, [impl] {
        impl->retry.cancel();
        if (impl->link) {
            beast::error_code ignored;
            beast::get_lowest_layer(impl->link->ws).socket().close(ignored);
        }
    });
    if (impl->thread.joinable()) {
        if (impl->thread.get_id() == std::this_thread::get_id()) {
            impl->thread.detach();
        } else {
            impl->thread.join();
        }
    }
}

void probe_fingerprint(const Endpoint& endpoint, std::function<void(Result<std::string>)> done) {
    std::thread([endpoint, done = std::move(done)]() mutable {
        asio::io_context io;
        asio::ssl::context tls{asio::ssl::context::tls_client};
        configure_client(tls);
        Result<std::string> result = fail(ErrorCode::timeout, "no answer from " + endpoint.key());
        asio::co_spawn(
            io,
            [&]() -> awaitable<void> {
                beast::error_code ec;
                tcp::resolver resolver(io);
                const auto results = co_await resolver.async_resolve(endpoint.host, endpoint.port, redirect_error(use_awaitable, ec));
                if (ec) {
                    result = fail(ErrorCode::network, "cannot resolve " + endpoint.host + ": " + ec.message());
                    co_return;
                }
                beast::ssl_stream<beast::tcp_stream> stream(io, tls);
                beast::get_lowest_layer(stream).expires_after(std::chrono::seconds{8});
                co_await beast::get_lowest_layer(stream).async_connect(results, redirect_error(use_awaitable, ec));
                if (!ec) {
                    set_sni(stream.native_handle(), endpoint.host);
                    co_await stream.async_handshake(asio::ssl::stream_base::client, redirect_error(use_awaitable, ec));
                }
                if (ec) {
                    result = fail(ErrorCode::network, "cannot reach " + endpoint.key() + ": " + ec.message());
                    co_return;
                }
                result = peer_fingerprint(stream.native_handle());
                beast::get_lowest_layer(stream).socket().close(ec);
            },
            asio::detached);
        io.run_for(std::chrono::seconds{10});
        ui::post([done = std::move(done), result = std::move(result)]() mutable { done(std::move(result)); });
    }).detach();
}

// ---------------------------------------------------------------------------------------------
// LoopbackFeeder

namespace {

struct SelfSigned {
    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;
    SelfSigned() {
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
        cert = X509_new();
        if (key == nullptr || cert == nullptr) throw std::runtime_error("cannot make a test certificate");
        X509_set_version(cert, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
        X509_gmtime_adj(X509_getm_notBefore(cert), -60);
        X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
        X509_set_pubkey(cert, key);
        X509_NAME* name = X509_get_subject_name(cert);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("127.0.0.1"), -1,
                                   -1, 0);
        X509_set_issuer_name(cert, name);
        if (X509_sign(cert, key, EVP_sha256()) == 0) throw std::runtime_error("cannot sign a test certificate");
    }
    ~SelfSigned() {
        X509_free(cert);
        EVP_PKEY_free(key);
    }
    SelfSigned(const SelfSigned&) = delete;
    SelfSigned& operator=(const SelfSigned&) = delete;
};

}  // namespace

struct LoopbackFeeder::Impl {
    std::vector<std::string> events;  // stored-event JSON text
    std::vector<std::uint64_t> seqs;
    SelfSigned identity;
    asio::io_context io;
    asio::ssl::context tls{asio::ssl::context::tls_server};
    tcp::acceptor acceptor{io};
    std::thread thread;
    mutable std::mutex mutex;
    std::vector<std::uint64_t> subscriptions;
    std::vector<std::string> action_ids;
    std::size_t drop_after = 0;  // 0 = never
    int connections = 0;

    // Builds a frame as text. Kept out of the coroutine: g++ 12 miscompiles braced initialisers
    // and string literals used directly as arguments inside co_await expressions.
    static std::string frame(const std::string& type, nlohmann::json payload) {
        nlohmann::json f{{"type", type}, {"id", new_uuid()}, {"time", format_utc(now_ms())}, {"payload", std::move(payload)}};
        if (type == "event") f["seq"] = f["payload"]["seq"];
        return f.dump();
    }

    std::string caught_up() const {
        return frame("caught_up", {{"head_seq", seqs.empty() ? std::uint64_t{0} : seqs.back()}});
    }

    static std::string action_result(const std::string& id) { return frame("action_result", {{"action_id", id}, {"ok", true}}); }

    static std::string login_ok() {
        nlohmann::json clinician{{"id", "loop-t1"}, {"username", "loop"}, {"display_name", "Dr Loop"},
                                 {"roles", nlohmann::json::array({"therapist", "supervisor"})}};
        return frame("login_ok", {{"session_token", "loopback-token"}, {"clinician", clinician},
                                  {"clinic_policy", {{"idle_lock_minutes", 10}}}});
    }

    awaitable<void> serve(tcp::socket socket) {
        beast::error_code ec;
        WsStream ws(std::move(socket), tls);
        co_await ws.next_layer().async_handshake(asio::ssl::stream_base::server, redirect_error(use_awaitable, ec));
        if (ec) co_return;
        co_await ws.async_accept(redirect_error(use_awaitable, ec));
        if (ec) co_return;
        ws.text(true);
        int connection = 0;
        std::size_t limit = 0;
        {
            const std::lock_guard lock(mutex);
            connection = ++connections;
            limit = connection == 1 ? drop_after : 0;
        }
        beast::flat_buffer buffer;
        for (;;) {
            co_await ws.async_read(buffer, redirect_error(use_awaitable, ec));
            if (ec) co_return;
            const auto request = nlohmann::json::parse(beast::buffers_to_string(buffer.data()), nullptr, false);
            buffer.consume(buffer.size());
            if (!request.is_object()) continue;
            const std::string type = request.value("type", std::string{});
            const nlohmann::json payload = request.value("payload", nlohmann::json::object());
            std::vector<std::string> replies;
            if (type == "login" || type == "resume") {
                replies.push_back(login_ok());
            } else if (type == "subscribe") {
                const auto after = payload.value("after_seq", std::uint64_t{0});
                {
                    const std::lock_guard lock(mutex);
                    subscriptions.push_back(after);
                }
                bool drop = false;
                for (std::size_t i = 0; i < events.size(); ++i) {
                    if (seqs[i] <= after) continue;
                    if (limit != 0 && replies.size() == limit) {
                        drop = true;  // simulates a network drop in the middle of the backlog
                        break;
                    }
                    replies.push_back(frame("event", nlohmann::json::parse(events[i])));
                }
                if (!drop) replies.push_back(caught_up());
                for (const auto& text : replies) {
                    co_await ws.async_write(asio::buffer(text), redirect_error(use_awaitable, ec));
                    if (ec) co_return;
                }
                if (drop) {
                    beast::get_lowest_layer(ws).socket().close(ec);
                    co_return;
                }
                continue;
            } else if (type == "action") {
                const auto id = payload.value("action_id", std::string{});
                {
                    const std::lock_guard lock(mutex);
                    action_ids.push_back(id);
                }
                replies.push_back(action_result(id));
            } else if (type == "ping") {
                replies.push_back(frame("pong", nlohmann::json::object()));
            }
            for (const auto& text : replies) {
                co_await ws.async_write(asio::buffer(text), redirect_error(use_awaitable, ec));
                if (ec) co_return;
            }
        }
    }

    awaitable<void> accept_loop() {
        for (;;) {
            beast::error_code ec;
            tcp::socket socket(io);
            co_await acceptor.async_accept(socket, redirect_error(use_awaitable, ec));
            if (ec) co_return;
            asio::co_spawn(io, serve(std::move(socket)), asio::detached);
        }
    }
};

LoopbackFeeder::LoopbackFeeder(std::vector<std::string> stored_events) : impl_(std::make_shared<Impl>()) {
    for (auto& e : stored_events) {
        impl_->seqs.push_back(nlohmann::json::parse(e).at("seq").get<std::uint64_t>());
        impl_->events.push_back(std::move(e));
    }
    SSL_CTX_use_certificate(impl_->tls.native_handle(), impl_->identity.cert);
    SSL_CTX_use_PrivateKey(impl_->tls.native_handle(), impl_->identity.key);
    const tcp::endpoint where(asio::ip::make_address("127.0.0.1"), 0);
    impl_->acceptor.open(where.protocol());
    impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    impl_->acceptor.bind(where);
    impl_->acceptor.listen();
    auto impl = impl_;
    asio::co_spawn(impl->io, impl->accept_loop(), asio::detached);
    impl->thread = std::thread([impl] { impl->io.run(); });
}

LoopbackFeeder::~LoopbackFeeder() {
    impl_->io.stop();
    if (impl_->thread.joinable()) impl_->thread.join();
}

unsigned short LoopbackFeeder::port() const { return impl_->acceptor.local_endpoint().port(); }
std::string LoopbackFeeder::fingerprint() const { return fingerprint_of(impl_->identity.cert); }

void LoopbackFeeder::drop_after(std::size_t events) {
    const std::lock_guard lock(impl_->mutex);
    impl_->drop_after = events;
}

std::vector<std::uint64_t> LoopbackFeeder::subscriptions() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->subscriptions;
}

std::vector<std::string> LoopbackFeeder::action_ids() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->action_ids;
}

}  // namespace tandem::clinician
