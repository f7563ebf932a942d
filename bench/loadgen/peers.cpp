// tandem-loadgen's protocol clients (peers.h): the one translation unit that instantiates
// Beast's WebSocket and TLS operations (each such TU costs minutes to compile). Speaks the real
// protocol (docs/PROTOCOL.md, docs/BRIDGE.md).
//
// Timing needs no shared table: a message's send time travels inside its client_msg_id
// ("m<microseconds>-..."), so whichever thread sees the ack or the clinician's event computes
// the latency from the id alone.

// Asio's scheduler trips g++ 12's -Wnull-dereference after inlining at -O2 (a false positive in
// Boost 1.74, as in patient_bridge/src/server.cpp).
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include "peers.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>

#include <boost/asio/connect.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace tandem::loadgen {

using json = nlohmann::json;

namespace {
const Clock::time_point g_epoch = Clock::now();
}  // namespace

std::int64_t now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - g_epoch).count();
}

std::int64_t sent_at(std::string_view client_msg_id) {
    if (client_msg_id.size() < 2 || client_msg_id[0] != 'm') return -1;
    std::int64_t v = 0;
    std::size_t i = 1;
    for (; i < client_msg_id.size() && client_msg_id[i] >= '0' && client_msg_id[i] <= '9'; ++i)
        v = v * 10 + (client_msg_id[i] - '0');
    return i > 1 && i < client_msg_id.size() && client_msg_id[i] == '-' ? v : -1;
}

// Unescaped quotes appear in compact JSON only around keys and string values, never inside a
// string (there they are \"), so a `"key":"` marker cannot be faked by message text.
std::string_view string_after(std::string_view text, std::string_view quoted_key_colon_quote) {
    const auto at = text.find(quoted_key_colon_quote);
    if (at == std::string_view::npos) return {};
    const auto start = at + quoted_key_colon_quote.size();
    const auto end = text.find('"', start);
    if (end == std::string_view::npos) return {};
    return text.substr(start, end - start);
}

namespace {
std::string next_frame_id() {
    static std::atomic<std::uint64_t> counter{0};
    return "lg" + std::to_string(counter.fetch_add(1, std::memory_order_relaxed));
}
}  // namespace

std::string envelope(std::string_view type, json payload) {
    return json{{"type", type}, {"id", next_frame_id()}, {"payload", std::move(payload)}}.dump();
}

// ---- Peer ------------------------------------------------------------------------------------

Peer::Peer(net::io_context& ioc, ssl::context& ctx, tcp::endpoint endpoint, std::string host, std::string target,
           ThreadStats& stats)
    : ioc_(ioc), ctx_(ctx), endpoint_(endpoint), host_(std::move(host)), target_(std::move(target)), stats_(stats) {}

void Peer::connect() {
    ++generation_;  // completions of the previous stream's operations are ignored from now on
    ws_.emplace(ioc_, ctx_);
    queue_.clear();
    open_ = false;
    closing_ = false;
    auto& tcp_stream = beast::get_lowest_layer(*ws_);
    tcp_stream.expires_after(std::chrono::seconds(15));
    tcp_stream.async_connect(endpoint_, guarded(&Peer::on_connect));
}

void Peer::send(std::string frame) {
    if (!open_) return;
    queue_.push_back(std::move(frame));
    if (queue_.size() == 1) do_write();
}

void Peer::close() {
    if (!open_) return;
    open_ = false;
    closing_ = true;
    ws_->async_close(websocket::close_code::normal, guarded(&Peer::on_closed_politely));
}

void Peer::on_connect(error_code ec) {
    if (ec) return failed(ec);
    // As the clinician app and browsers do for WebSockets: no Nagle delay on the client's frames.
    error_code no_delay_failed;
    beast::get_lowest_layer(*ws_).socket().set_option(tcp::no_delay(true), no_delay_failed);
    ws_->next_layer().async_handshake(ssl::stream_base::client, guarded(&Peer::on_tls));
}

void Peer::on_tls(error_code ec) {
    if (ec) return failed(ec);
    beast::get_lowest_layer(*ws_).expires_never();
    ws_->set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    ws_->async_handshake(host_ + ":" + std::to_string(endpoint_.port()), target_, guarded(&Peer::on_handshake));
}

void Peer::on_handshake(error_code ec) {
    if (ec) return failed(ec);
    open_ = true;
    on_open();
    do_read();
}

void Peer::on_closed_politely(error_code) { failed(error_code{}); }

void Peer::do_read() { ws_->async_read(buffer_, guarded(&Peer::on_read)); }

void Peer::on_read(error_code ec, std::size_t) {
    if (ec) return failed(ec);
    const auto data = buffer_.cdata();
    on_text(std::string_view(static_cast<const char*>(data.data()), data.size()));
    buffer_.consume(buffer_.size());
    do_read();
}

void Peer::do_write() {
    ws_->text(true);
    ws_->async_write(net::buffer(queue_.front()), guarded(&Peer::on_write));
}

void Peer::on_write(error_code ec, std::size_t) {
    if (ec) return failed(ec);
    queue_.pop_front();
    if (!queue_.empty()) do_write();
}

// Once per stream: the other pending operations then complete with errors and are ignored.
void Peer::failed(error_code) {
    const bool was_open = open_;
    if (!was_open && !closing_) ++stats_.connect_failures;
    ++generation_;
    open_ = false;
    queue_.clear();
    error_code ignored;
    beast::get_lowest_layer(*ws_).socket().close(ignored);
    on_closed(was_open);
}

// ---- PatientPeer -----------------------------------------------------------------------------

PatientPeer::PatientPeer(net::io_context& ioc, ssl::context& ctx, tcp::endpoint ep, std::string host,
                         ThreadStats& stats, PatientSeat& seat, int index)
    : Peer(ioc, ctx, ep, std::move(host), "/patient", stats), seat_(seat), index_(index) {}

void PatientPeer::send_message(std::string_view text, std::string_view tag) {
    const auto t0 = now_us();
    std::string cid = "m" + std::to_string(t0) + "-" + std::to_string(index_) + "-" + std::to_string(++counter_);
    if (!tag.empty()) cid = std::string(tag);
    ++stats().sent_total;
    if (stats().in_window(t0)) ++stats().sent_window;
    // The frame the loadgen sends 1,000 times a second, written directly in envelope()'s key
    // order instead of built as a json object tree and dumped; the strings still go through
    // nlohmann's escaping, so any text (the demo's scripts) stays valid JSON.
    std::string frame;
    frame.reserve(80 + cid.size() + text.size());
    frame += R"({"id":")";
    frame += next_frame_id();
    frame += R"(","payload":{"client_msg_id":)";
    frame += json(cid).dump();
    frame += R"(,"text":)";
    frame += json(text).dump();
    frame += R"(},"type":"send"})";
    send(std::move(frame));
}

void PatientPeer::on_open() {
    if (!seat_.device_token.empty()) {
        send(envelope("hello", {{"device_token", seat_.device_token}, {"last_seq", last_seq_}}));
    } else {
        send(envelope("redeem", {{"invite_code", seat_.invite_code}, {"device_name", "tandem-loadgen"}}));
    }
}

// The bridge writes frames with sorted keys (id, payload, seq, time, type), so "type" is the
// last key: the two frames that come at the message rate, `ack` and `message`, are recognised by
// their suffix and read by marker, as the clinician feed is, instead of each being parsed into a
// json tree for one or two fields (rejected: a parse per frame, about 2,000 frames a second at
// 1,000 msg/s, the loadgen's largest own cost after TLS). The rare frames it acts on are parsed.
void PatientPeer::on_text(std::string_view text) {
    if (text.ends_with(R"("type":"ack"})")) return on_ack(text);
    if (text.ends_with(R"("type":"message"})")) {
        // The envelope's seq is the one followed by the envelope's "time" (a payload key "seq",
        // were there one, sorts before the payload's end).
        if (const auto at = text.rfind(R"("seq":)"); at != std::string_view::npos) {
            char* end = nullptr;
            const auto seq = std::strtoll(text.data() + at + 6, &end, 10);
            if (std::string_view(end, text.data() + text.size()).starts_with(R"(,"time":)") && seq > last_seq_)
                last_seq_ = seq;
        }
        if (string_after(text, R"("sender":")") == "ai" && stats().in_window(now_us())) ++stats().ai_replies_window;
        return;
    }
    // The streamed reply's `typing` and `segment` frames (several a message) and the others the
    // loadgen does not act on are left unparsed too.
    if (text.ends_with(R"("type":"session"})") || text.ends_with(R"("type":"questionnaire"})") ||
        text.ends_with(R"("type":"error"})"))
        on_other_frame(text);
}

void PatientPeer::on_ack(std::string_view text) {
    const auto t0 = sent_at(string_after(text, R"("client_msg_id":")"));
    auto& s = stats();
    ++s.acked_total;
    const auto now = now_us();
    if (s.in_window(now)) ++s.acked_window;
    if (t0 >= 0 && s.in_window(t0)) s.ack_ms.push_back(static_cast<double>(now - t0) / 1000.0);
}

void PatientPeer::on_other_frame(std::string_view text) {
    auto j = json::parse(text, nullptr, false);
    if (!j.is_object()) return;
    const auto type = j.value("type", "");
    const auto& p = j.contains("payload") && j["payload"].is_object() ? j["payload"] : json::object();
    if (type == "session") {
        if (p.contains("device_token") && p["device_token"].is_string()) {
            seat_.device_token = p["device_token"];
            seat_.invite_code.clear();
        }
        ready_ = ever_ready_ = true;
        if (on_ready) on_ready(*this);
    } else if (type == "questionnaire") {
        if (on_questionnaire) on_questionnaire(*this, p);
    } else if (type == "error") {
        ++stats().errors;
        const auto code = p.value("code", "");
        if (code == "rate_limited") ++stats().rate_limited;
        if (code == "invalid_invite") {
            invalid_invite = true;
            std::fprintf(stderr, "tandem-loadgen: %s: invite refused (already redeemed elsewhere?)\n",
                         seat_.display_name.c_str());
        }
    }
}

void PatientPeer::on_closed(bool) {
    ready_ = false;
    if (on_lost) on_lost(*this);
}

// ---- ClinicianPeer ---------------------------------------------------------------------------

ClinicianPeer::ClinicianPeer(net::io_context& ioc, ssl::context& ctx, tcp::endpoint ep, std::string host,
                             ThreadStats& stats, std::string username, std::string password, std::int64_t after_seq)
    : Peer(ioc, ctx, ep, std::move(host), "/clinician", stats),
      username_(std::move(username)),
      password_(std::move(password)),
      cursor_(after_seq) {}

void ClinicianPeer::on_open() { send(envelope("login", {{"username", username_}, {"password", password_}})); }

// One feed event's text (an `event` frame, or one element of an `events` frame).
void ClinicianPeer::on_feed_event(std::string_view text, std::int64_t now) {
    auto& s = stats();
    ++s.clinician_events;
    const auto t0 = sent_at(string_after(text, R"("client_msg_id":")"));
    if (t0 >= 0 && s.in_window(t0)) s.feed_ms.push_back(static_cast<double>(now - t0) / 1000.0);
    // Screens done: one subscriber (a supervisor, who sees them all) counts risk_assessed.
    if (counts_screens && s.in_window(now) && text.find(R"("type":"risk_assessed")") != std::string_view::npos)
        ++s.screened_window;
}

void ClinicianPeer::on_text(std::string_view text) {
    // Envelope keys are written sorted, so "type" is the last one: a suffix test finds events
    // without parsing them.
    const bool single = text.ends_with(R"("type":"event"})");
    if (single || text.ends_with(R"("type":"events"})")) {
        const auto now = now_us();
        // The envelope's seq (the batch's last event's) is the last "seq" key (sorted keys:
        // payload comes before it).
        if (const auto at = text.rfind(R"("seq":)"); at != std::string_view::npos)
            cursor_ = std::max<std::int64_t>(cursor_, std::strtoll(text.data() + at + 6, nullptr, 10));
        if (single) return on_feed_event(text, now);
        // A batch is split where each event object starts: its first sorted key is "actor",
        // and message text cannot contain the unescaped quotes of that marker.
        constexpr std::string_view kStart = R"({"actor":)";
        for (auto at = text.find(kStart); at != std::string_view::npos;) {
            const auto next = text.find(kStart, at + kStart.size());
            on_feed_event(text.substr(at, next == std::string_view::npos ? text.size() - at : next - at), now);
            at = next;
        }
        return;
    }
    auto j = json::parse(text, nullptr, false);
    if (!j.is_object()) return;
    const auto type = j.value("type", "");
    if (type == "login_ok") {
        json payload = {{"after_seq", cursor_}};
        if (feed_batch) payload["batch"] = true;
        send(envelope("subscribe", std::move(payload)));
    } else if (type == "caught_up") {
        live_ = true;
    } else if (type == "error") {
        ++stats().errors;
        std::fprintf(stderr, "tandem-loadgen: clinician %s: error %s\n", username_.c_str(),
                     j["payload"].value("code", "?").c_str());
    }
}

// A dropped subscriber (the bridge drops one whose send queue fills) does what the app does:
// reconnects, logs in and resubscribes from its cursor, missing nothing.
void ClinicianPeer::on_closed(bool was_open) {
    if (stopping) return;
    if (was_open) {
        ++stats().clinician_reconnects;
        std::fprintf(stderr, "tandem-loadgen: clinician %s disconnected; resuming after seq %lld\n",
                     username_.c_str(), static_cast<long long>(cursor_));
    }
    retry_.expires_after(std::chrono::milliseconds(500));
    retry_.async_wait([self = std::static_pointer_cast<ClinicianPeer>(shared_from_this())](error_code ec) {
        if (!ec && !self->stopping) self->connect();
    });
}

// ---- setup -----------------------------------------------------------------------------------

Result<tcp::endpoint> resolve(const std::string& host, std::uint16_t port) {
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    error_code ec;
    auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec || results.empty()) return fail(ErrorCode::network, "cannot resolve " + host + ": " + ec.message());
    return results.begin()->endpoint();
}

Result<void> configure_tls(ssl::context& ctx, const std::filesystem::path& data_dir) {
    error_code ec;
    ctx.set_verify_mode(ssl::verify_peer, ec);
    const auto cert = data_dir / "tls" / "cert.pem";
    ctx.load_verify_file(cert.string(), ec);
    if (ec) return fail(ErrorCode::io, "cannot load the bridge certificate: " + ec.message(), cert.string());
    return {};
}

void raise_fd_limit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
}

}  // namespace tandem::loadgen
