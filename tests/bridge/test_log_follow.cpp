// The bridge's own indexes (accounts, clinic policy, active plans) follow the clinician feed's
// shared read of the log instead of re-reading every new event themselves. These tests hand
// them pages read with Store::read_feed_after, as the feed does, on a real SQLCipher file.
#include <catch2/catch_test_macros.hpp>

#include <nlohmann/json.hpp>

#include "tandem/bridge/accounts.h"
#include "tandem/bridge/clinic_policy.h"
#include "tandem/bridge/llm.h"
#include "tandem/bridge/plan_service.h"
#include "log_fixture.h"

using namespace tandem;
using namespace tandem::bridge;
using tandem::test::LogFixture;
using json = nlohmann::json;

namespace {

std::int64_t add_clinician(LogFixture& f, const std::string& id, const std::string& username) {
    return f.append(EventType::clinician_added,
                    {{"id", id}, {"clinic_id", "clinic"}, {"username", username}, {"display_name", username},
                     {"roles", {"therapist"}}, {"active", true}, {"created_at", "2026-11-26T10:00:00.000Z"}});
}

}  // namespace

TEST_CASE("an account directory takes new accounts from a page read by the feed", "[bridge][log_follow]") {
    LogFixture f;
    add_clinician(f, "c-1", "tara");
    AccountDirectory accounts(*f.store);
    REQUIRE(accounts.refresh());
    const auto before = f.head();
    add_clinician(f, "c-2", "sam");
    f.append(EventType::clinician_action, {{"action", "unrelated"}});

    CHECK_FALSE(accounts.by_username("sam"));
    CHECK(accounts.follow(before, f.page_after(before)));  // an account changed
    REQUIRE(accounts.by_username("sam"));
    CHECK(accounts.by_username("sam")->id == "c-2");

    // A page without account events changes nothing and says so.
    const auto mid = f.head();
    f.append(EventType::clinician_action, {{"action", "unrelated"}});
    CHECK_FALSE(accounts.follow(mid, f.page_after(mid)));
}

TEST_CASE("an index behind the page it is handed ignores it and reads the gap itself", "[bridge][log_follow]") {
    LogFixture f;
    AccountDirectory accounts(*f.store);
    REQUIRE(accounts.refresh());
    add_clinician(f, "c-1", "tara");  // the gap: not in the page below
    const auto after = f.head();
    add_clinician(f, "c-2", "sam");

    CHECK_FALSE(accounts.follow(after, f.page_after(after)));
    CHECK_FALSE(accounts.by_username("sam"));  // applying it would skip tara for good
    REQUIRE(accounts.refresh());
    CHECK(accounts.by_username("tara"));
    CHECK(accounts.by_username("sam"));
}

TEST_CASE("the clinic policy follows a clinic_configured event in the feed's page", "[bridge][log_follow]") {
    LogFixture f;
    ClinicPolicySource policy(*f.store, ClinicSettings{});
    REQUIRE(policy.refresh());
    CHECK_FALSE(policy.configured());
    const auto before = f.head();
    ClinicSettings s;
    s.urgent_sla_minutes = 3;
    s.crisis_resources["en-US"] = {bridge::CrisisResource{"Lifeline", "988", "phone"}};
    REQUIRE(write_clinic_settings(*f.store, s, Actor{ActorKind::system, std::nullopt}));

    policy.follow(before, f.page_after(before));
    CHECK(policy.configured());
    CHECK(policy.current().urgent_sla_minutes == 3);
}

TEST_CASE("a followed active plan is kept in memory until a plan event of its patient passes",
          "[bridge][log_follow]") {
    LogFixture f;
    auto model = make_offline_companion();
    PlanService plans(*f.store, *model, PlanServiceOptions{});
    f.append(EventType::patient_registered,
             {{"id", "p-1"}, {"clinic_id", "clinic"}, {"display_name", "Alex"}, {"conditions", json::array()},
              {"locale", "en-US"}, {"created_at", "2026-11-26T10:00:00.000Z"}},
             "p-1");
    plans.follow_log({});  // from now on the service keeps active plans
    CHECK(plans.active_plan("p-1").is_default);

    const auto before = f.head();
    f.append(EventType::plan_proposed,
             {{"id", "plan-a"}, {"patient_id", "p-1"}, {"version", 1}, {"status", "proposed"},
              {"created_at", "2026-11-26T10:00:01.000Z"}},
             "p-1");
    f.append(EventType::plan_approved,
             {{"plan_id", "plan-a"}, {"approver_id", "c-1"}, {"decided_at", "2026-11-26T10:00:02.000Z"}}, "p-1");
    // Until the feed passes the approval, the kept plan stands (an approval through
    // PlanService::apply drops it at once: tests/bridge/test_plans.cpp).
    CHECK(plans.active_plan("p-1").is_default);

    plans.follow_log(f.page_after(before));
    const auto plan = plans.active_plan("p-1");
    CHECK_FALSE(plan.is_default);
    CHECK(plan.id == "plan-a");
}

TEST_CASE("a followed active plan stays through a proposal alone and is dropped by its approval",
          "[bridge][log_follow]") {
    LogFixture f;
    auto model = make_offline_companion();
    PlanService plans(*f.store, *model, PlanServiceOptions{});
    plans.follow_log({});
    const auto kept = plans.active_plan_shared("p-1");
    CHECK(kept->is_default);

    auto before = f.head();
    f.append(EventType::plan_proposed,
             {{"id", "plan-a"}, {"patient_id", "p-1"}, {"version", 1}, {"status", "proposed"},
              {"created_at", "2026-11-26T10:00:01.000Z"}},
             "p-1");
    plans.follow_log(f.page_after(before));
    CHECK(plans.active_plan_shared("p-1") == kept);  // still held: a proposal approves nothing

    before = f.head();
    f.append(EventType::plan_approved,
             {{"plan_id", "plan-a"}, {"approver_id", "c-1"}, {"decided_at", "2026-11-26T10:00:02.000Z"}}, "p-1");
    plans.follow_log(f.page_after(before));
    const auto approved = plans.active_plan_shared("p-1");
    CHECK_FALSE(approved->is_default);
    CHECK(approved->id == "plan-a");
    CHECK(kept->is_default);  // the view a turn already holds is not changed under it
}

TEST_CASE("without a followed log every active plan is read from the store", "[bridge][log_follow]") {
    LogFixture f;
    auto model = make_offline_companion();
    PlanService plans(*f.store, *model, PlanServiceOptions{});
    CHECK(plans.active_plan("p-1").is_default);
    f.append(EventType::plan_proposed,
             {{"id", "plan-a"}, {"patient_id", "p-1"}, {"version", 1}, {"status", "proposed"},
              {"created_at", "2026-11-26T10:00:01.000Z"}},
             "p-1");
    f.append(EventType::plan_approved,
             {{"plan_id", "plan-a"}, {"approver_id", "c-1"}, {"decided_at", "2026-11-26T10:00:02.000Z"}}, "p-1");
    CHECK(plans.active_plan("p-1").id == "plan-a");
}
