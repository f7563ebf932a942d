// The intake proposal's turn count is kept in memory by PlanService and seeded from the store
// once per patient, so it must survive a restart of the bridge's services: the turns before the
// restart count towards the threshold. Real SQLCipher file in a temp dir; in-memory connections.
#include <catch2/catch_test_macros.hpp>

#include <filesystem>
#include <span>

#include <nlohmann/json.hpp>

#include "tandem/bridge/patient_service.h"
#include "tandem/crypto/random.h"
#include "tandem/store/sqlcipher_store.h"
#include "fake_connection.h"
#include "test_support.h"

using namespace tandem;
using namespace tandem::bridge;
using tandem::test::FakeConnection;
using tandem::test::TempDir;
using json = nlohmann::json;

namespace {

class CalmScreener final : public RiskScreener {
public:
    RiskAssessment screen(std::string_view, ScreenRole, std::span<const ScreenTurn>) override {
        RiskAssessment r;
        r.rationale = "no risk";
        r.engine_version = "test";
        r.ruleset_version = "test";
        return r;
    }
};

// One run of the patient side of the bridge over a store file that outlives it.
struct BridgeRun {
    std::unique_ptr<SqlcipherStore> store;
    CalmScreener screener;
    std::unique_ptr<ChatModel> model = make_offline_companion();
    Metrics metrics;
    std::shared_ptr<PatientService> patients;
    std::shared_ptr<FakeConnection> conn = std::make_shared<FakeConnection>();
    int next_id = 0;

    BridgeRun(const std::filesystem::path& db, std::span<const std::byte> key, int after_turns) {
        auto s = SqlcipherStore::open(db, key);
        REQUIRE(s);
        store = std::move(*s);
        PatientServiceOptions po;
        po.worker_threads = 2;
        po.plans.proposal_after_turns = after_turns;
        auto ps = PatientService::create(*store, screener, *model, metrics, po);
        REQUIRE(ps);
        patients = *ps;
    }
    ~BridgeRun() {
        patients->drain();
        patients->plans().drain();
    }
    std::vector<json> frame(const std::string& type, json payload) {
        patients->on_frame(conn, PatientFrame{type, "f" + std::to_string(++next_id), std::move(payload)});
        patients->drain();
        return conn->take();
    }
    void say(const std::string& text) {
        frame("send", {{"client_msg_id", "c" + std::to_string(++next_id) + text.substr(0, 1)}, {"text", text}});
        patients->plans().drain();
    }
    std::size_t plan_count(const std::string& patient) {
        auto p = store->plans(patient);
        REQUIRE(p);
        return p->size();
    }
};

}  // namespace

TEST_CASE("the intake proposal counts the turns made before a bridge restart", "[bridge][plans]") {
    struct Case {
        const char* name;
        int before_restart;
        int after_restart;
        std::size_t plans;
    };
    const Case cases[] = {
        {"2 turns before and 1 after reach the threshold of 3", 2, 1, 1},
        {"1 turn before and 1 after stay below it", 1, 1, 0},
        {"3 turns before propose before the restart, and once only", 3, 2, 1},
    };
    for (const auto& c : cases) {
        SECTION(c.name) {
            TempDir dir;
            const auto secret = random_secret(32);
            const auto key = secret.bytes();
            const auto db = dir.path() / "clinic.db";
            std::string patient, token;
            {
                BridgeRun run(db, key, 3);
                auto id = run.patients->register_patient("Alex");
                REQUIRE(id);
                patient = *id;
                auto code = run.patients->issue_invite(patient);
                REQUIRE(code);
                for (const auto& f : run.frame("redeem", {{"invite_code", *code}}))
                    if (f["type"] == "session") token = f["payload"]["device_token"];
                REQUIRE_FALSE(token.empty());
                for (int i = 0; i < c.before_restart; ++i) run.say("before " + std::to_string(i));
            }
            BridgeRun run(db, key, 3);
            run.frame("hello", {{"device_token", token}, {"last_seq", 0}});
            for (int i = 0; i < c.after_restart; ++i) run.say("after " + std::to_string(i));
            CHECK(run.plan_count(patient) == c.plans);
        }
    }
}
