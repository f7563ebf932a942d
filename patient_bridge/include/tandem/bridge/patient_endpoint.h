#pragma once
// wss /patient: checks each frame is a well-formed envelope {type, id, time, payload}, rate
// limits it, and hands the typed message to a PatientHandler (the turn pipeline). Frames that
// fail get a typed error frame and the connection stays open.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "tandem/bridge/metrics.h"
#include "tandem/bridge/server.h"

namespace tandem::bridge {

/// One validated patient envelope.
struct PatientFrame {
    std::string type;
    std::string id;  ///< the client's envelope id, echoed as "ref" in errors
    nlohmann::json payload;
};

/// What the endpoint hands valid frames to. Called on the connection's strand; must not block.
class PatientHandler {
public:
    virtual ~PatientHandler() = default;
    /// A connection opened (no identity yet).
    virtual void on_open(const std::shared_ptr<Connection>& connection) = 0;
    /// One valid envelope of a type other than "ping".
    virtual void on_frame(const std::shared_ptr<Connection>& connection, PatientFrame frame) = 0;
    /// The connection is gone.
    virtual void on_close(const std::shared_ptr<Connection>& connection) = 0;
};

class PatientEndpoint final : public WebSocketEndpoint {
public:
    /// handler may be null (ping only, for tests of the transport). Metrics must outlive this.
    PatientEndpoint(std::shared_ptr<PatientHandler> handler, Metrics& metrics, int frames_per_minute);

    void on_open(const std::shared_ptr<Connection>& connection) override;
    void on_text(const std::shared_ptr<Connection>& connection, std::string_view text) override;
    void on_close(const std::shared_ptr<Connection>& connection) override;

    /// Parses and checks an envelope. Errors: parse (not JSON), schema (field = the bad member).
    /// Any thread.
    static Result<PatientFrame> parse_frame(std::string_view text);

private:
    bool take_token(std::uint64_t connection_id);

    std::shared_ptr<PatientHandler> handler_;
    Metrics& metrics_;
    const int per_minute_;
    struct Bucket {
        double tokens;
        std::chrono::steady_clock::time_point last;
    };
    std::mutex mutex_;  // buckets_ is touched from every connection's strand
    std::unordered_map<std::uint64_t, Bucket> buckets_;
};

}  // namespace tandem::bridge
