#pragma once
// The real bridge, assembled as `tandem-bridge serve` does, in-process on 127.0.0.1 with a temp
// data dir (real SQLCipher file, real rule engine, the offline companion as the LLM) and a cheap
// Argon2 cost; plus a patient client on the real /patient WebSocket. Shared by the clinician
// contract tests and the GUI tests.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "tandem/bridge/accounts.h"
#include "tandem/bridge/clinician_service.h"
#include "tandem/bridge/llm.h"
#include "tandem/bridge/patient_service.h"
#include "tandem/bridge/server.h"
#include "tandem/store/sqlcipher_store.h"

namespace tandem::clinician::testing {

/// The therapist's password in every RealBridge.
inline constexpr const char* kBridgePassword = "correct horse battery";
/// High risk for the rule engine: a flag, the crisis protocol, and the AI's reply held for review.
inline constexpr const char* kRiskyText = "I have decided to end my life and I know how I will do it";

/// One therapist ("tara") with one assigned patient ("Alex Rivera"). Test thread only.
struct RealBridge {
    RealBridge();
    ~RealBridge();
    RealBridge(const RealBridge&) = delete;
    RealBridge& operator=(const RealBridge&) = delete;

    /// 127.0.0.1 and the bridge's port, on `path` ("/clinician" or "/patient").
    Endpoint endpoint(const std::string& path) const;
    /// The bridge certificate's SHA-256 fingerprint (what the app pins).
    const std::string& fingerprint() const { return fingerprint_; }
    /// Stops serving (the app goes offline); the data dir stays until destruction.
    void stop();
    /// The clinician_action events that record a report export (action report_exported), oldest first.
    std::vector<tandem::StoredEvent> report_exports();

    TempDir dir;
    bridge::Metrics metrics;
    std::unique_ptr<SqlcipherStore> raw_store;
    std::unique_ptr<bridge::NotifyingStore> store;
    std::unique_ptr<bridge::RiskScreener> screener;
    std::unique_ptr<bridge::ChatModel> model;
    std::shared_ptr<bridge::PatientService> patients;
    std::unique_ptr<bridge::AccountDirectory> accounts;
    std::shared_ptr<bridge::ClinicianService> clinicians;
    std::unique_ptr<bridge::Server> server;
    std::uint16_t port = 0;
    std::string therapist_id;
    std::string patient_id;

private:
    std::string fingerprint_;
    bool stopped_ = false;
};

/// A patient's device on the real /patient WebSocket: redeems an invite, then says things.
/// Frames it receives are kept in `frames` (GUI thread, through the fake or real ui::post).
class PatientDevice {
public:
    /// Connects and redeems a fresh invite for the bridge's patient.
    PatientDevice(RealBridge& bridge);
    ~PatientDevice();
    PatientDevice(const PatientDevice&) = delete;
    PatientDevice& operator=(const PatientDevice&) = delete;

    /// True once the session frame arrived.
    bool ready() const { return ready_; }
    /// Sends a patient message (after ready()).
    void say(const std::string& text);
    /// True when a frame of `type` whose payload field `key` equals `value` arrived.
    bool received(const std::string& type, const std::string& key, const std::string& value) const;
    /// True when an ack arrived.
    bool acked() const;
    void stop();

    std::vector<nlohmann::json> frames;

private:
    std::unique_ptr<Connection> connection_;
    bool ready_ = false;
    int sent_ = 0;
};

}  // namespace tandem::clinician::testing
