// The TLS listener on a real socket (127.0.0.1, ephemeral port) with a real Beast client.
#include <catch2/catch_test_macros.hpp>

#include <nlohmann/json.hpp>
#include <thread>

#include "tandem/bridge/init.h"
#include "tandem/bridge/patient_endpoint.h"
#include "tandem/bridge/server.h"
#include "test_support.h"

using namespace std::chrono_literals;
using namespace tandem;
using namespace tandem::bridge;

namespace {

// Server-side counters move on the server's threads after the client has seen the outcome:
// give them a moment instead of racing them (both races were seen on a loaded machine).
template <class Predicate>
bool eventually(Predicate done, std::chrono::milliseconds limit = 2000ms) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
    return done();
}

}  // namespace
using tandem::test::TempDir;
using tandem::test::WssClient;
using json = nlohmann::json;

namespace {

struct RunningServer {
    TempDir dir;
    Metrics metrics;
    std::filesystem::path cert;
    std::unique_ptr<Server> server;
    std::uint16_t port = 0;

    explicit RunningServer(std::size_t max_message_bytes = 1024, int per_minute = 1000) {
        InitOptions o;
        o.data_dir = dir.path();
        auto init = init_data_dir(o);
        REQUIRE(init);
        cert = init->cert_file;
        ServerOptions so;
        so.port = 0;
        so.cert_file = init->cert_file;
        so.key_file = init->key_file;
        so.io_threads = 2;
        so.max_message_bytes = max_message_bytes;
        so.max_frame_bytes = 64 * 1024;
        so.handshake_timeout = 2s;
        so.http_timeout = 2s;
        server = std::make_unique<Server>(so, metrics);
        server->add_websocket_endpoint("/patient", std::make_shared<PatientEndpoint>(nullptr, metrics, per_minute));
        auto p = server->start();
        REQUIRE(p);
        port = *p;
    }
};

json read_json(WssClient& c) {
    auto frame = c.read(3s);
    REQUIRE(frame);
    auto j = json::parse(*frame, nullptr, false);
    REQUIRE(j.is_object());
    return j;
}

std::string ping(const std::string& id) {
    return json{{"type", "ping"}, {"id", id}, {"time", "2026-11-26T03:06:19.123Z"}, {"payload", json::object()}}.dump();
}

}  // namespace

TEST_CASE("bridge serves healthz, metrics and the embedded chat page over TLS", "[bridge][server]") {
    RunningServer s;
    auto health = tandem::test::https_get(s.port, "/healthz", s.cert);
    REQUIRE(health);
    CHECK(health->status == 200);
    CHECK(json::parse(health->body)["status"] == "ok");

    auto metrics = tandem::test::https_get(s.port, "/metrics", s.cert);
    REQUIRE(metrics);
    CHECK(metrics->status == 200);
    CHECK(metrics->content_type.find("text/plain") == 0);
    CHECK(metrics->body.find("# TYPE tandem_connections_open gauge") != std::string::npos);
    CHECK(metrics->body.find("tandem_flags_opened_total{severity=\"high\"} 0") != std::string::npos);
    CHECK(metrics->body.find("tandem_llm_latency_seconds_bucket{le=\"+Inf\"} 0") != std::string::npos);

    auto page = tandem::test::https_get(s.port, "/", s.cert);
    REQUIRE(page);
    CHECK(page->status == 200);
    CHECK(page->content_type.find("text/html") == 0);
    CHECK(page->body.find("<title>Tandem chat</title>") != std::string::npos);
    auto js = tandem::test::https_get(s.port, "/app.js", s.cert);
    REQUIRE(js);
    CHECK(js->body.find("/patient") != std::string::npos);

    // Bad input tried: a path that does not exist, and the WebSocket path without an upgrade.
    CHECK(tandem::test::https_get(s.port, "/../etc/passwd", s.cert)->status == 404);
    CHECK(tandem::test::https_get(s.port, "/patient", s.cert)->status == 426);
}

TEST_CASE("bridge refuses plain HTTP and TLS 1.1", "[bridge][server]") {
    RunningServer s;
    // Bad input tried: a plain-text GET on the TLS port.
    auto plain = tandem::test::plain_exchange(s.port, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
    REQUIRE(plain);
    CHECK(plain->find("400") != std::string::npos);
    CHECK(plain->find("HTTPS only") != std::string::npos);
    CHECK(plain->find("\"status\"") == std::string::npos);
    // Bad input tried: a client that only speaks TLS 1.1.
    CHECK(tandem::test::expect_tls11_refused(s.port));
    CHECK(eventually([&] { return s.metrics.tls_handshake_failures.load() >= 2; }));
}

TEST_CASE("patient WebSocket answers ping and keeps the connection after bad frames", "[bridge][server]") {
    RunningServer s(/*max_message_bytes=*/1024);
    auto client = WssClient::connect(s.port, "/patient", s.cert);
    REQUIRE(client);
    auto& c = **client;

    REQUIRE(c.send_text(ping("p1")));
    auto pong = read_json(c);
    CHECK(pong["type"] == "pong");
    CHECK(pong["payload"]["ref"] == "p1");

    struct Case {
        const char* name;
        std::string frame;
        bool binary;
        const char* code;
    };
    const Case cases[] = {
        {"not JSON", "{\"type\": ping", false, "malformed"},
        {"JSON array", "[1,2,3]", false, "schema"},
        {"missing type", R"({"id":"a1","payload":{}})", false, "schema"},
        {"id with a space", R"({"type":"ping","id":"a b","payload":{}})", false, "schema"},
        {"payload not an object", R"({"type":"ping","id":"a2","payload":"x"})", false, "schema"},
        {"unknown type", R"({"type":"launch","id":"a3","payload":{}})", false, "unknown_type"},
        {"binary frame", "\x01\x02\x03", true, "unsupported"},
        {"oversized text frame (2 KiB over a 1 KiB limit)", std::string(2048, 'x'), false, "too_large"},
    };
    for (const auto& bad : cases) {
        INFO(bad.name);
        REQUIRE((bad.binary ? c.send_binary(bad.frame) : c.send_text(bad.frame)));
        auto err = read_json(c);
        CHECK(err["type"] == "error");
        CHECK(err["payload"]["code"] == bad.code);
        // The connection survives: a ping still gets its pong.
        REQUIRE(c.send_text(ping("after")));
        CHECK(read_json(c)["type"] == "pong");
    }
    CHECK(s.metrics.frames_rejected.load() == std::size(cases));
}

TEST_CASE("patient WebSocket rate-limits a flooding client with a typed error", "[bridge][server]") {
    // Bad input tried: 5 non-ping frames in a burst against a limit of 3 per minute.
    RunningServer s(1024, /*per_minute=*/3);
    auto client = WssClient::connect(s.port, "/patient", s.cert);
    REQUIRE(client);
    int limited = 0;
    for (int i = 0; i < 5; ++i) {
        REQUIRE((*client)->send_text(R"({"type":"send","id":"m)" + std::to_string(i) + R"(","payload":{}})"));
        if (read_json(**client)["payload"]["code"] == "rate_limited") ++limited;
    }
    CHECK(limited == 2);
}

TEST_CASE("frames over the hard limit close the connection; the server keeps serving", "[bridge][server]") {
    // Bad input tried: a 100 KiB frame against a 64 KiB hard frame limit.
    RunningServer s;
    auto client = WssClient::connect(s.port, "/patient", s.cert);
    REQUIRE(client);
    (void)(*client)->send_text(std::string(100 * 1024, 'x'));
    CHECK_FALSE((*client)->read(3s));
    auto again = WssClient::connect(s.port, "/patient", s.cert);
    REQUIRE(again);
    REQUIRE((*again)->send_text(ping("x")));
    CHECK(read_json(**again)["type"] == "pong");
}

TEST_CASE("stop() closes open WebSockets and returns promptly", "[bridge][server]") {
    RunningServer s;
    auto client = WssClient::connect(s.port, "/patient", s.cert);
    REQUIRE(client);
    const auto start = std::chrono::steady_clock::now();
    s.server->stop();
    CHECK(std::chrono::steady_clock::now() - start < 3500ms);
    CHECK_FALSE((*client)->read(2s));
    // A session stopped mid-handshake may hold its connection slot in a handler that the stopped
    // io_context never runs again; destroying the server must release every one of them.
    s.server.reset();
    CHECK(s.metrics.connections_open.load() == 0);
}
