#include "tandem/bridge/patient_endpoint.h"

#include <algorithm>
#include <cctype>

#include "tandem/bridge/wire.h"

namespace tandem::bridge {
namespace {

bool valid_id(const std::string& id) {
    return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
    });
}

}  // namespace

PatientEndpoint::PatientEndpoint(std::shared_ptr<PatientHandler> handler, Metrics& metrics, int frames_per_minute)
    : handler_(std::move(handler)), metrics_(metrics), per_minute_(std::max(1, frames_per_minute)) {}

Result<PatientFrame> PatientEndpoint::parse_frame(std::string_view text) {
    auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return fail(ErrorCode::parse, "frame is not valid JSON");
    if (!j.is_object()) return fail(ErrorCode::schema, "frame must be a JSON object", "/");
    PatientFrame f;
    if (j.contains("id")) {
        if (!j["id"].is_string() || !valid_id(j["id"].get<std::string>()))
            return fail(ErrorCode::schema, "id must be 1-64 characters of [A-Za-z0-9_.-]", "/id");
        f.id = j["id"];
    } else {
        return fail(ErrorCode::schema, "id is required", "/id");
    }
    if (!j.contains("type") || !j["type"].is_string() || j["type"].get<std::string>().empty())
        return fail(ErrorCode::schema, "type must be a non-empty string", "/type");
    f.type = j["type"];
    if (j.contains("payload")) {
        if (!j["payload"].is_object()) return fail(ErrorCode::schema, "payload must be an object", "/payload");
        f.payload = std::move(j["payload"]);
    } else {
        f.payload = nlohmann::json::object();
    }
    return f;
}

void PatientEndpoint::on_open(const std::shared_ptr<Connection>& connection) {
    {
        const std::lock_guard lock(mutex_);
        buckets_[connection->id()] = Bucket{static_cast<double>(per_minute_), std::chrono::steady_clock::now()};
    }
    if (handler_) handler_->on_open(connection);
}

bool PatientEndpoint::take_token(std::uint64_t connection_id) {
    // A token bucket per connection: bursts up to a minute's allowance, refilled continuously.
    // The pipeline adds a per-patient limit on messages, which reconnecting cannot reset.
    const std::lock_guard lock(mutex_);
    auto& b = buckets_[connection_id];
    const auto now = std::chrono::steady_clock::now();
    b.tokens = std::min<double>(per_minute_, b.tokens + std::chrono::duration<double>(now - b.last).count() *
                                                              per_minute_ / 60.0);
    b.last = now;
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
}

void PatientEndpoint::on_text(const std::shared_ptr<Connection>& connection, std::string_view text) {
    auto frame = parse_frame(text);
    if (!frame) {
        metrics_.frames_rejected.fetch_add(1);
        const auto& e = frame.error();
        connection->send(make_error_frame(e.code == ErrorCode::parse ? "malformed" : "schema", e.describe()));
        return;
    }
    if (frame->type == "ping") {
        connection->send(make_frame("pong", {{"ref", frame->id}}));
        return;
    }
    if (!take_token(connection->id())) {
        metrics_.frames_rejected.fetch_add(1);
        connection->send(make_error_frame("rate_limited", "too many messages; wait a moment", frame->id));
        return;
    }
    if (!handler_) {
        metrics_.frames_rejected.fetch_add(1);
        connection->send(make_error_frame("unknown_type", "unsupported message type", frame->id));
        return;
    }
    handler_->on_frame(connection, std::move(*frame));
}

void PatientEndpoint::on_close(const std::shared_ptr<Connection>& connection) {
    {
        const std::lock_guard lock(mutex_);
        buckets_.erase(connection->id());
    }
    if (handler_) handler_->on_close(connection);
}

}  // namespace tandem::bridge
