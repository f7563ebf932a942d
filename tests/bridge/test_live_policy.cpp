// Clinic policy reaching a running turn pipeline: a `policy set` written by another process (the
// admin CLI opens its own store on the file) changes the next crisis's flag deadline and resource
// list at once, and the crisis message names the resources of the patient's locale. Real
// SQLCipher file, real rule engine, services driven without a socket.
#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "tandem/bridge/clinic_policy.h"
#include "tandem/bridge/clinician_service.h"
#include "tandem/crypto/random.h"
#include "tandem/domain/time.h"
#include "tandem/store/sqlcipher_store.h"
#include "fake_connection.h"
#include "test_support.h"

using namespace std::chrono_literals;
using namespace tandem;
using namespace tandem::bridge;
using tandem::test::FakeConnection;
using tandem::test::TempDir;
using json = nlohmann::json;

namespace {

constexpr const char* kCrisisText = "I am going to kill myself tonight";
const Actor kAdmin{ActorKind::system, std::string("test")};

auto of_type(const std::string& t) {
    return [t](const json& j) { return j["type"] == t; };
}

struct LiveBridge {
    TempDir dir;
    SecretBuffer key = random_secret(32);
    std::unique_ptr<SqlcipherStore> raw;
    std::unique_ptr<NotifyingStore> store;
    Metrics metrics;
    std::unique_ptr<RiskScreener> screener;
    std::unique_ptr<ChatModel> model = make_offline_companion();
    std::shared_ptr<PatientService> patients;
    std::unique_ptr<AccountDirectory> accounts;
    std::shared_ptr<ClinicianService> clinicians;

    LiveBridge() {
        auto s = SqlcipherStore::open(file(), key.bytes());
        REQUIRE(s);
        raw = std::move(*s);
        store = std::make_unique<NotifyingStore>(*raw);
        auto sc = make_rule_engine_screener();
        REQUIRE(sc);
        screener = std::move(*sc);
        PatientServiceOptions po;
        po.urgent_sla_minutes = 5;  // the config's value until a policy is set
        auto ps = PatientService::create(*store, *screener, *model, metrics, po);
        REQUIRE(ps);
        patients = *ps;
        accounts = std::make_unique<AccountDirectory>(*store);
        ClinicianServiceOptions co;
        co.sweep_interval = 1h;
        co.refresh_interval = 50ms;  // how soon another process's appends are noticed
        auto cs = ClinicianService::create(*store, *accounts, *patients, metrics, co);
        REQUIRE(cs);
        clinicians = *cs;
    }
    ~LiveBridge() {
        clinicians->drain();
        patients->drain();
    }
    std::filesystem::path file() const { return dir.path() / "clinic.db"; }

    // A patient of `locale` with a live (fake) connection.
    std::shared_ptr<FakeConnection> patient(const std::string& locale) {
        auto id = patients->register_patient("Patient " + locale, locale);
        REQUIRE(id);
        auto code = patients->issue_invite(*id);
        REQUIRE(code);
        auto c = std::make_shared<FakeConnection>();
        patients->on_frame(c, PatientFrame{"redeem", "r-" + *id, {{"invite_code", *code}}});
        REQUIRE(c->wait_for(of_type("session")));
        return c;
    }
    // Sends a high-risk message; returns the crisis frame.
    json crisis(const std::shared_ptr<FakeConnection>& c, const std::string& client_msg_id) {
        patients->on_frame(c, PatientFrame{"send", "s-" + client_msg_id,
                                           {{"client_msg_id", client_msg_id}, {"text", kCrisisText}}});
        auto f = c->wait_for(of_type("crisis"));
        REQUIRE(f);
        return *f;
    }
    // Minutes from the newest urgent flag's opening to its SLA deadline.
    long newest_flag_sla_minutes() {
        Principal all;
        all.supervisor = true;
        auto flags = store->open_flags(all);
        REQUIRE(flags);
        REQUIRE_FALSE(flags->empty());
        const auto& r = flags->back().record;
        auto opened = parse_timestamp(r["opened_at"].get<std::string>());
        auto due = parse_timestamp(r["sla_deadline"].get<std::string>());
        REQUIRE(opened);
        REQUIRE(due);
        return std::chrono::duration_cast<std::chrono::minutes>(*due - *opened + 30s).count();
    }
};

std::string contacts(const json& crisis_frame) {
    std::string out;
    for (const auto& r : crisis_frame["payload"]["resources"]) out += r["contact"].get<std::string>() + ";";
    return out;
}

ClinicSettings two_locale_policy(int urgent_sla_minutes) {
    ClinicSettings s;
    s.urgent_sla_minutes = urgent_sla_minutes;
    s.crisis_resources["en-US"] = {{"988 Suicide & Crisis Lifeline", "988", "phone"},
                                   {"Emergency services", "911", "emergency"}};
    s.crisis_resources["es-MX"] = {{"Línea de la Vida", "800 911 2000", "phone"}};
    return s;
}

}  // namespace

TEST_CASE("policy set beside a running bridge changes the next crisis's deadline and resources without a restart",
          "[bridge][policy]") {
    LiveBridge b;
    auto en = b.patient("en-US");
    auto es = b.patient("es-MX");
    const auto before = b.crisis(en, "before-1");
    CHECK(contacts(before).find("988") != std::string::npos);
    CHECK(b.newest_flag_sla_minutes() == 5);

    {
        // `tandem-bridge policy set`: its own store on the same file, beside the live bridge.
        auto cli = SqlcipherStore::open(b.file(), b.key.bytes());
        REQUIRE(cli);
        REQUIRE(write_clinic_settings(**cli, two_locale_policy(42), kAdmin));
    }
    const auto until = std::chrono::steady_clock::now() + 8s;
    while (b.patients->clinic_settings().urgent_sla_minutes != 42 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(10ms);
    REQUIRE(b.patients->clinic_settings().urgent_sla_minutes == 42);

    const auto es_crisis = b.crisis(es, "after-1");
    CHECK(contacts(es_crisis) == "800 911 2000;");
    CHECK(b.newest_flag_sla_minutes() == 42);
    // The stored crisis message names the same resources the patient was shown.
    auto msg = es->wait_for([](const json& j) { return j["type"] == "reviewing" || j["type"] == "message"; });
    REQUIRE(msg);
}

TEST_CASE("the crisis message uses the patient's locale's resources and falls back to en-US", "[bridge][policy]") {
    LiveBridge b;
    // Written through the bridge's own store: the feed hears of it at once.
    REQUIRE(write_clinic_settings(*b.store, two_locale_policy(9), kAdmin));
    const auto until = std::chrono::steady_clock::now() + 8s;
    while (b.patients->clinic_settings().urgent_sla_minutes != 9 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(10ms);
    REQUIRE(b.patients->clinic_settings().urgent_sla_minutes == 9);

    struct Case {
        const char* name;
        const char* locale;
        const char* contacts;
    };
    const Case cases[] = {
        {"a configured locale gets its own list", "es-MX", "800 911 2000;"},
        {"en-US gets the en-US list", "en-US", "988;911;"},
        {"a locale without a list falls back to en-US", "fr-FR", "988;911;"},
    };
    int n = 0;
    for (const auto& c : cases) {
        INFO(c.name);
        auto p = b.patient(c.locale);
        const auto crisis = b.crisis(p, "loc-" + std::to_string(++n));
        CHECK(contacts(crisis) == c.contacts);
        CHECK(b.newest_flag_sla_minutes() == 9);
    }
    // The stored system message (what a clinician reads in the transcript) lists the same contacts.
    b.patients->drain();
    Principal all;
    all.supervisor = true;
    auto events = b.store->read_after(0, all, 10'000);
    REQUIRE(events);
    int crisis_messages = 0;
    for (const auto& e : *events) {
        if (e.type != EventType::message_appended || e.payload.value("sender", "") != "system") continue;
        const auto text = e.payload.value("text", "");
        if (text.find("- ") == std::string::npos) continue;
        ++crisis_messages;
        CHECK((text.find("800 911 2000") != std::string::npos) != (text.find("988") != std::string::npos));
    }
    CHECK(crisis_messages == 3);
}

TEST_CASE("a bridge started after policy set applies the stored policy from its first turn", "[bridge][policy]") {
    TempDir dir;
    const auto key = random_secret(32);
    auto s = SqlcipherStore::open(dir.path() / "clinic.db", key.bytes());
    REQUIRE(s);
    REQUIRE(write_clinic_settings(**s, two_locale_policy(17), kAdmin));
    Metrics metrics;
    auto screener = make_administration_only_screener();
    auto model = make_offline_companion();
    auto ps = PatientService::create(**s, *screener, *model, metrics, PatientServiceOptions{});
    REQUIRE(ps);
    const auto settings = (*ps)->clinic_settings();
    CHECK(settings.urgent_sla_minutes == 17);
    CHECK(settings.resources_for("es-MX").front().contact == "800 911 2000");
    // An older event than the one in force (a replayed or reordered one) changes nothing.
    StoredEvent stale;
    stale.seq = 0;
    stale.type = EventType::clinic_configured;
    stale.payload = two_locale_policy(99).record();
    (*ps)->on_clinic_configured(stale);
    CHECK((*ps)->clinic_settings().urgent_sla_minutes == 17);
}
