// The assessments view (issue 8): offered -> in_progress -> completed, on a real SQLCipher file.

#include <catch2/catch_test_macros.hpp>

#include "store_test_support.h"

using namespace tandem;
using namespace tandem::test;
using nlohmann::json;

namespace {

NewEvent assessment_event(EventType type, const std::string& patient, json payload) {
    NewEvent e;
    e.type = type;
    e.patient_id = patient;
    e.actor = {ActorKind::system, std::nullopt};
    e.payload = std::move(payload);
    return e;
}

NewEvent offered(const std::string& id, const std::string& patient, const std::string& instrument) {
    return assessment_event(EventType::assessment_offered, patient,
                            {{"assessment_id", id}, {"patient_id", patient}, {"instrument", instrument},
                             {"requested_by", "ther-a"}, {"offered_at", "2026-11-26T03:00:00.000Z"}});
}

NewEvent progress(const std::string& id, const std::string& patient, json items) {
    return assessment_event(EventType::assessment_progress, patient,
                            {{"assessment_id", id}, {"patient_id", patient}, {"instrument", "phq9"},
                             {"items", std::move(items)}});
}

NewEvent scored(const std::string& id, const std::string& patient) {
    return assessment_event(EventType::assessment_scored, patient,
                            {{"id", id}, {"patient_id", patient}, {"instrument", "phq9"},
                             {"items", {1, 1, 1, 1, 1, 1, 1, 1, 0}}, {"score", 8}, {"band", "mild"},
                             {"administered_at", "2026-11-26T03:00:00.000Z"},
                             {"completed_at", "2026-11-26T03:10:00.000Z"}});
}

}  // namespace

TEST_CASE("an assessment moves offered -> in_progress -> completed in the view, keeping who asked",
          "[store][views][assessments]") {
    TempDir dir;
    auto key = random_secret(32);
    auto store = open_store(dir.path / "s.db", key);
    REQUIRE(store->append(patient_registered("p1", "ther-a")).has_value());
    REQUIRE(store->append(offered("a1", "p1", "phq9")).has_value());
    REQUIRE(store->append(offered("a2", "p1", "gad7")).has_value());

    auto rows = store->assessments("p1");
    REQUIRE(rows.has_value());
    REQUIRE(rows->size() == 2);
    CHECK(rows->at(0).id == "a1");
    CHECK(rows->at(0).status == "offered");
    CHECK(rows->at(0).record["items"] == json::array());
    CHECK(rows->at(1).instrument == "gad7");

    REQUIRE(store->append(progress("a1", "p1", {1, 1, 1, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr}))
                .has_value());
    rows = store->assessments("p1");
    CHECK(rows->at(0).status == "in_progress");
    CHECK(rows->at(0).record["items"][3].is_null());
    CHECK(rows->at(0).record["items"][0] == 1);

    REQUIRE(store->append(scored("a1", "p1")).has_value());
    rows = store->assessments("p1");
    CHECK(rows->at(0).status == "completed");
    CHECK(rows->at(0).record["score"] == 8);
    CHECK(rows->at(0).record["requested_by"] == "ther-a");
    CHECK(store->assessments("nobody")->empty());
}

TEST_CASE("a completed assessment refuses more progress and a second score; nothing is appended",
          "[store][views][assessments]") {
    TempDir dir;
    auto key = random_secret(32);
    auto store = open_store(dir.path / "s.db", key);
    REQUIRE(store->append(patient_registered("p1", "ther-a")).has_value());
    REQUIRE(store->append(offered("a1", "p1", "phq9")).has_value());
    REQUIRE(store->append(scored("a1", "p1")).has_value());
    const auto head = store->head()->seq;

    auto again = store->append(scored("a1", "p1"));
    REQUIRE_FALSE(again.has_value());
    CHECK(again.error().code == ErrorCode::invalid_argument);
    auto late = store->append(progress("a1", "p1", json::array({0})));
    REQUIRE_FALSE(late.has_value());
    auto unknown = store->append(progress("nope", "p1", json::array({0})));
    REQUIRE_FALSE(unknown.has_value());
    CHECK(unknown.error().code == ErrorCode::invalid_argument);
    CHECK(store->head()->seq == head);
}

TEST_CASE("a score without an offer (imported) still appears as completed", "[store][views][assessments]") {
    TempDir dir;
    auto key = random_secret(32);
    auto store = open_store(dir.path / "s.db", key);
    REQUIRE(store->append(patient_registered("p1", "ther-a")).has_value());
    REQUIRE(store->append(scored("z9", "p1")).has_value());
    auto rows = store->assessments("p1");
    REQUIRE(rows->size() == 1);
    CHECK(rows->front().status == "completed");
    CHECK(rows->front().instrument == "phq9");
}
