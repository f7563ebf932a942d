// The tests' TLS/WebSocket client: the one test TU that includes Beast. Async operations run
// with io_context::run_for, so every call has a deadline and a dead server fails the test
// instead of hanging it.
#pragma GCC diagnostic ignored "-Wnull-dereference"  // Boost 1.74 Asio false positive at -O2

#include <utility>

#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/read.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "test_support.h"

namespace tandem::test {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using error_code = beast::error_code;
constexpr auto kDeadline = std::chrono::seconds(5);

// Runs the context until `done` or the deadline; false on timeout.
bool run_until(net::io_context& ioc, const bool& done, std::chrono::milliseconds deadline) {
    ioc.restart();
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (!done && std::chrono::steady_clock::now() < until) {
        ioc.run_one_for(std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()));
    }
    return done;
}

template <class Op>
Result<void> await(net::io_context& ioc, Op&& op, std::string_view what,
                   std::chrono::milliseconds deadline = kDeadline) {
    bool done = false;
    error_code result;
    op([&](error_code ec, auto&&...) {
        result = ec;
        done = true;
    });
    if (!run_until(ioc, done, deadline)) return fail(ErrorCode::timeout, std::string(what) + " timed out");
    if (result) return fail(ErrorCode::network, std::string(what) + ": " + result.message());
    return {};
}

ssl::context client_context(const std::filesystem::path& ca_file) {
    ssl::context ctx(ssl::context::tls_client);
    ctx.load_verify_file(ca_file.string());
    ctx.set_verify_mode(ssl::verify_peer);
    return ctx;
}

}  // namespace

Result<HttpReply> https_get(std::uint16_t port, std::string_view target, const std::filesystem::path& ca_file) {
    net::io_context ioc;
    auto ctx = client_context(ca_file);
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    stream.set_verify_callback(ssl::host_name_verification("localhost"));
    const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
    if (auto r = await(ioc, [&](auto h) { beast::get_lowest_layer(stream).async_connect(ep, h); }, "connect"); !r)
        return std::unexpected(r.error());
    if (auto r = await(ioc, [&](auto h) { stream.async_handshake(ssl::stream_base::client, h); }, "handshake"); !r)
        return std::unexpected(r.error());
    http::request<http::empty_body> req{http::verb::get, std::string(target), 11};
    req.set(http::field::host, "localhost");
    req.keep_alive(false);
    if (auto r = await(ioc, [&](auto h) { http::async_write(stream, req, h); }, "write"); !r)
        return std::unexpected(r.error());
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    if (auto r = await(ioc, [&](auto h) { http::async_read(stream, buffer, res, h); }, "read"); !r)
        return std::unexpected(r.error());
    HttpReply out;
    out.status = static_cast<int>(res.result_int());
    out.content_type = std::string(res[http::field::content_type]);
    out.body = std::move(res.body());
    return out;
}

Result<std::string> plain_exchange(std::uint16_t port, std::string_view bytes) {
    net::io_context ioc;
    tcp::socket socket(ioc);
    const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
    if (auto r = await(ioc, [&](auto h) { socket.async_connect(ep, h); }, "connect"); !r)
        return std::unexpected(r.error());
    if (auto r = await(ioc, [&](auto h) { net::async_write(socket, net::buffer(bytes), h); }, "write"); !r)
        return std::unexpected(r.error());
    std::string received;
    auto buf = net::dynamic_buffer(received);
    bool done = false;
    error_code result;
    net::async_read(socket, buf, [&](error_code ec, std::size_t) {
        result = ec;
        done = true;
    });
    if (!run_until(ioc, done, kDeadline)) return fail(ErrorCode::timeout, "server kept a plain connection open");
    if (result && result != net::error::eof && result != net::error::connection_reset)
        return fail(ErrorCode::network, result.message());
    return received;
}

Result<void> expect_tls11_refused(std::uint16_t port) {
    net::io_context ioc;
    ssl::context ctx(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_1_VERSION);
    SSL_CTX_set_max_proto_version(ctx.native_handle(), TLS1_1_VERSION);
    SSL_CTX_set_security_level(ctx.native_handle(), 0);  // let OpenSSL 3 offer TLS 1.1 at all
    ctx.set_verify_mode(ssl::verify_none);
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
    if (auto r = await(ioc, [&](auto h) { beast::get_lowest_layer(stream).async_connect(ep, h); }, "connect"); !r)
        return std::unexpected(r.error());
    auto r = await(ioc, [&](auto h) { stream.async_handshake(ssl::stream_base::client, h); }, "handshake");
    if (r) return fail(ErrorCode::internal, "TLS 1.1 handshake succeeded");
    return {};
}

struct WssClient::Impl {
    net::io_context ioc;
    ssl::context ctx{ssl::context::tls_client};
    std::optional<websocket::stream<beast::ssl_stream<beast::tcp_stream>>> ws;
    beast::flat_buffer buffer;
    bool read_pending = false;
    bool read_done = false;
    error_code read_ec;
};

WssClient::WssClient() : impl_(std::make_unique<Impl>()) {}
WssClient::~WssClient() = default;

Result<std::unique_ptr<WssClient>> WssClient::connect(std::uint16_t port, std::string_view path,
                                                      const std::filesystem::path& ca_file) {
    std::unique_ptr<WssClient> c(new WssClient());
    auto& im = *c->impl_;
    im.ctx.load_verify_file(ca_file.string());
    im.ctx.set_verify_mode(ssl::verify_peer);
    im.ws.emplace(im.ioc, im.ctx);
    auto& ws = *im.ws;
    ws.next_layer().set_verify_callback(ssl::host_name_verification("localhost"));
    const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
    if (auto r = await(im.ioc, [&](auto h) { beast::get_lowest_layer(ws).async_connect(ep, h); }, "connect"); !r)
        return std::unexpected(r.error());
    if (auto r = await(im.ioc, [&](auto h) { ws.next_layer().async_handshake(ssl::stream_base::client, h); },
                       "tls handshake");
        !r)
        return std::unexpected(r.error());
    ws.read_message_max(64 << 20);
    if (auto r = await(im.ioc, [&](auto h) { ws.async_handshake("localhost", std::string(path), h); },
                       "websocket handshake");
        !r)
        return std::unexpected(r.error());
    return c;
}

Result<void> WssClient::send_text(std::string_view text) {
    auto& im = *impl_;
    im.ws->text(true);
    return await(im.ioc, [&](auto h) { im.ws->async_write(net::buffer(text), h); }, "ws write");
}

Result<void> WssClient::send_binary(std::string_view bytes) {
    auto& im = *impl_;
    im.ws->binary(true);
    auto r = await(im.ioc, [&](auto h) { im.ws->async_write(net::buffer(bytes), h); }, "ws write");
    im.ws->text(true);
    return r;
}

Result<std::string> WssClient::read(std::chrono::milliseconds timeout) {
    auto& im = *impl_;
    if (!im.read_pending) {
        im.read_pending = true;
        im.read_done = false;
        im.ws->async_read(im.buffer, [&im](error_code ec, std::size_t) {
            im.read_ec = ec;
            im.read_done = true;
        });
    }
    // A timed-out read stays pending; the next call keeps waiting for the same frame.
    if (!run_until(im.ioc, im.read_done, timeout)) return fail(ErrorCode::timeout, "no frame in time");
    im.read_pending = false;
    if (im.read_ec) return fail(ErrorCode::network, im.read_ec.message());
    std::string out = beast::buffers_to_string(im.buffer.data());
    im.buffer.consume(im.buffer.size());
    return out;
}

}  // namespace tandem::test
