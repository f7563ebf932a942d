#pragma once
// A whole clinic for bridge tests that talk to it as clients do: an initialised data dir with its
// self-signed certificate, the real SQLCipher store, the rule-engine screener, the patient and
// clinician services behind a real TLS WebSocket server on 127.0.0.1, and the accounts tara and
// theo (therapists) and sam (supervisor). Each test file adds its patients and helpers on top.

#include <catch2/catch_test_macros.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/bridge/clinician_service.h"
#include "tandem/bridge/init.h"
#include "tandem/bridge/patient_endpoint.h"
#include "tandem/bridge/server.h"
#include "tandem/crypto/random.h"
#include "tandem/store/sqlcipher_store.h"
#include "frames.h"
#include "test_support.h"

namespace tandem::test {

inline constexpr const char* kClinicPassword = "correct horse battery";
inline const Actor kClinicAdmin{ActorKind::system, std::string("test")};

struct Clinic {
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
    std::filesystem::path cert;
    std::uint16_t port = 0;
    std::string tara, theo, sam;  // therapist, therapist, supervisor

    /// Starts the clinic; `co.password_policy` is also the accounts' (keep it cheap: tests log in often).
    Clinic(std::unique_ptr<bridge::ChatModel> chat, const bridge::PatientServiceOptions& po,
           const bridge::ClinicianServiceOptions& co)
        : model(std::move(chat)) {
        bridge::InitOptions o;
        o.data_dir = dir.path();
        auto init = bridge::init_data_dir(o);
        REQUIRE(init);
        cert = init->cert_file;
        auto s = SqlcipherStore::open(dir.path() / "clinic.db", random_secret(32).bytes());
        REQUIRE(s);
        raw_store = std::move(*s);
        store = std::make_unique<bridge::NotifyingStore>(*raw_store);
        auto sc = bridge::make_rule_engine_screener();
        REQUIRE(sc);
        screener = std::move(*sc);
        auto ps = bridge::PatientService::create(*store, *screener, *model, metrics, po);
        REQUIRE(ps);
        patients = *ps;
        accounts = std::make_unique<bridge::AccountDirectory>(*store);
        tara = add("tara", {"therapist"}, co.password_policy);
        theo = add("theo", {"therapist"}, co.password_policy);
        sam = add("sam", {"supervisor"}, co.password_policy);
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
    }
    ~Clinic() {
        server->stop();
        patients->drain();
        clinicians->drain();
    }
    Clinic(const Clinic&) = delete;
    Clinic& operator=(const Clinic&) = delete;

    /// A clinician account with `roles` and the shared password.
    std::string add(const std::string& user, std::vector<std::string> roles, const bridge::PasswordPolicy& policy) {
        auto a = accounts->add(user, user, roles, kClinicPassword, policy, kClinicAdmin);
        REQUIRE(a);
        return a->id;
    }
    /// A registered patient assigned to `therapist`.
    std::string patient(const std::string& name, const std::string& therapist) {
        auto id = patients->register_patient(name);
        REQUIRE(id);
        REQUIRE(bridge::assign_patient(*store, *accounts, *id, therapist, kClinicAdmin));
        return *id;
    }
    /// A TLS WebSocket client on `path` ("/patient" or "/clinician").
    std::unique_ptr<WssClient> connect(const char* path) {
        auto c = WssClient::connect(port, path, cert);
        REQUIRE(c);
        return std::move(*c);
    }
    /// A clinician connection, logged in; `login_ok` receives the login_ok frame.
    std::unique_ptr<WssClient> clinician(const std::string& user, nlohmann::json* login_ok = nullptr) {
        auto c = connect("/clinician");
        REQUIRE(c->send_text(frame("login", {{"username", user}, {"password", kClinicPassword}})));
        auto ok = read_until(*c, [](const nlohmann::json& j) { return j["type"] == "login_ok" || j["type"] == "error"; });
        REQUIRE(ok["type"] == "login_ok");
        if (login_ok) *login_ok = ok;
        return c;
    }
};

}  // namespace tandem::test
