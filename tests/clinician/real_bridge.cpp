#include "real_bridge.h"

#include <algorithm>
#include <cctype>

#include <catch2/catch_test_macros.hpp>

#include "tandem/bridge/init.h"
#include "tandem/bridge/patient_endpoint.h"
#include "tandem/crypto/random.h"

namespace tandem::clinician::testing {
namespace {

using nlohmann::json;

std::string frame(const std::string& type, json payload) {
    static int n = 0;
    return json{{"type", type}, {"id", "p" + std::to_string(++n)}, {"time", "2026-11-26T05:00:00.000Z"},
                {"payload", std::move(payload)}}
        .dump();
}

}  // namespace

RealBridge::RealBridge() : model(bridge::make_offline_companion()) {
    bridge::InitOptions o;
    o.data_dir = dir.path();
    auto init = bridge::init_data_dir(o);
    REQUIRE(init);
    auto s = SqlcipherStore::open(dir.path() / "clinic.db", random_secret(32).bytes());
    REQUIRE(s);
    raw_store = std::move(*s);
    store = std::make_unique<bridge::NotifyingStore>(*raw_store);
    auto sc = bridge::make_rule_engine_screener();
    REQUIRE(sc);
    screener = std::move(*sc);
    auto ps = bridge::PatientService::create(*store, *screener, *model, metrics, bridge::PatientServiceOptions{});
    REQUIRE(ps);
    patients = *ps;
    accounts = std::make_unique<bridge::AccountDirectory>(*store);
    bridge::ClinicianServiceOptions co;
    co.password_policy = bridge::PasswordPolicy{1, 1024, 1, 10};
    const Actor admin{ActorKind::system, std::string("test")};
    auto tara = accounts->add("tara", "Tara Therapist", {"therapist"}, kBridgePassword, co.password_policy, admin);
    REQUIRE(tara);
    therapist_id = tara->id;
    auto cs = bridge::ClinicianService::create(*store, *accounts, *patients, metrics, co);
    REQUIRE(cs);
    clinicians = *cs;
    bridge::ServerOptions so;
    so.cert_file = init->cert_file;
    so.key_file = init->key_file;
    server = std::make_unique<bridge::Server>(so, metrics);
    server->add_websocket_endpoint("/patient", std::make_shared<bridge::PatientEndpoint>(patients, metrics, 1000));
    server->add_websocket_endpoint("/clinician", std::make_shared<bridge::PatientEndpoint>(clinicians, metrics, 1000));
    auto p = server->start();
    REQUIRE(p);
    port = *p;
    auto id = patients->register_patient("Alex Rivera");
    REQUIRE(id);
    patient_id = *id;
    REQUIRE(bridge::assign_patient(*store, *accounts, patient_id, therapist_id, admin));
    // The bridge prints "AB:CD:..." for people; the app pins plain hex.
    for (char c : init->fingerprint) {
        if (c != ':') fingerprint_.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
}

RealBridge::~RealBridge() { stop(); }

void RealBridge::stop() {
    if (stopped_) return;
    stopped_ = true;
    server->stop();
    patients->drain();
    clinicians->drain();
}

std::vector<tandem::StoredEvent> RealBridge::report_exports() {
    Principal all;
    all.supervisor = true;
    auto events = store->read_after(0, all, 100000);
    REQUIRE(events);
    std::vector<tandem::StoredEvent> out;
    for (auto& e : *events) {
        if (e.type == EventType::clinician_action && e.payload.value("action", std::string{}) == "report_exported") {
            out.push_back(std::move(e));
        }
    }
    return out;
}

Endpoint RealBridge::endpoint(const std::string& path) const { return Endpoint{"127.0.0.1", std::to_string(port), path}; }

PatientDevice::PatientDevice(RealBridge& bridge) {
    auto invite = bridge.patients->issue_invite(bridge.patient_id);
    REQUIRE(invite);
    ConnectionEvents e;
    e.on_open = [this, code = *invite] {
        connection_->send(frame("redeem", {{"invite_code", code}, {"device_name", "test"}}));
    };
    e.on_frame = [this](std::string text) {
        auto j = json::parse(text, nullptr, false);
        if (j.is_object() && j.value("type", std::string{}) == "session") ready_ = true;
        frames.push_back(std::move(j));
    };
    e.on_closed = [](const Error&, bool, std::chrono::milliseconds) {};
    connection_ = std::make_unique<Connection>(bridge.endpoint("/patient"), bridge.fingerprint(), std::move(e));
    connection_->start();
}

PatientDevice::~PatientDevice() { stop(); }

void PatientDevice::stop() {
    if (connection_) connection_->stop();
}

void PatientDevice::say(const std::string& text) {
    connection_->send(frame("send", {{"client_msg_id", "pm-" + std::to_string(++sent_)}, {"text", text}}));
}

bool PatientDevice::received(const std::string& type, const std::string& key, const std::string& value) const {
    return std::any_of(frames.begin(), frames.end(), [&](const json& j) {
        return j.is_object() && j.value("type", std::string{}) == type && j.contains("payload") &&
               j["payload"].is_object() && j["payload"].value(key, std::string{}) == value;
    });
}

bool PatientDevice::acked() const {
    return std::any_of(frames.begin(), frames.end(),
                       [](const json& j) { return j.is_object() && j.value("type", std::string{}) == "ack"; });
}

}  // namespace tandem::clinician::testing
