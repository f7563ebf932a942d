// The patients a turn reads are held by the NotifyingStore (find_patient_cached) once the
// clinician feed follows the log: every append through it that changes a patient drops the held
// view before the append returns, and another process's append when the feed's page reaches it.
// On a real SQLCipher file.
#include <catch2/catch_test_macros.hpp>

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/bridge/notifying_store.h"
#include "log_fixture.h"

using namespace tandem;
using namespace tandem::bridge;
using tandem::test::LogFixture;
using tandem::test::system_event;
using json = nlohmann::json;

namespace {

struct CacheFixture : LogFixture {
    std::unique_ptr<NotifyingStore> notifying = std::make_unique<NotifyingStore>(*store);

    static NewEvent registration(const std::string& locale) {
        return system_event(EventType::patient_registered,
                            {{"id", "p-1"}, {"clinic_id", "clinic"}, {"display_name", "Alex"},
                             {"conditions", json::array()}, {"locale", locale},
                             {"created_at", "2026-11-27T03:00:00.000Z"}},
                            "p-1");
    }
    std::shared_ptr<const PatientView> cached() {
        auto p = notifying->find_patient_cached("p-1");
        REQUIRE(p);
        return *p;
    }
};

std::string locale_of(const PatientView& p) { return p.record.value("locale", ""); }

struct PatientChange {
    const char* name;
    std::function<NewEvent()> event;
    std::function<bool(const PatientView&)> shows_it;
};

// Each kind of event the patients view follows, from a patient registered in en-US, in crisis
// and with the AI paused where the change needs it (set up through the inner store, unseen).
std::vector<PatientChange> changes() {
    return {
        {"crisis_entered", [] { return system_event(EventType::crisis_entered, {{"patient_id", "p-1"}}, "p-1"); },
         [](const PatientView& p) { return p.in_crisis; }},
        {"crisis_cleared",
         [] { return system_event(EventType::crisis_cleared, {{"patient_id", "p-1"}, {"note", "safe"}}, "p-1"); },
         [](const PatientView& p) { return !p.in_crisis; }},
        {"ai_paused", [] { return system_event(EventType::ai_paused, {{"patient_id", "p-1"}}, "p-1"); },
         [](const PatientView& p) { return p.ai_paused; }},
        {"ai_resumed", [] { return system_event(EventType::ai_resumed, {{"patient_id", "p-1"}}, "p-1"); },
         [](const PatientView& p) { return !p.ai_paused; }},
        {"patient_assigned",
         [] {
             return system_event(EventType::patient_assigned,
                                        {{"patient_id", "p-1"}, {"assigned_therapist_id", "c-9"}}, "p-1");
         },
         [](const PatientView& p) { return p.assigned_therapist_id == std::optional<std::string>("c-9"); }},
        {"patient_registered again (new locale)", [] { return CacheFixture::registration("es-US"); },
         [](const PatientView& p) { return locale_of(p) == "es-US"; }},
    };
}

// The state a change starts from: crisis_cleared needs a crisis, ai_resumed a pause.
void set_up_for(CacheFixture& f, const std::string& change) {
    if (change == "crisis_cleared")
        REQUIRE(f.store->append(system_event(EventType::crisis_entered, {{"patient_id", "p-1"}}, "p-1")));
    if (change == "ai_resumed")
        REQUIRE(f.store->append(system_event(EventType::ai_paused, {{"patient_id", "p-1"}}, "p-1")));
}

}  // namespace

TEST_CASE("a patient event appended through the notifying store reaches the held patient before the append returns",
          "[bridge][patient_cache]") {
    for (const auto& change : changes()) {
        for (const bool batched : {false, true}) {
            DYNAMIC_SECTION(change.name << (batched ? ", in a batch" : ", alone")) {
                CacheFixture f;
                REQUIRE(f.store->append(CacheFixture::registration("en-US")));
                set_up_for(f, change.name);
                f.notifying->follow_log({});  // from now on patients are held
                const auto before = f.cached();
                REQUIRE(before);
                CHECK_FALSE(change.shows_it(*before));
                CHECK(f.cached() == before);  // held: the same view, not read again

                if (batched) {
                    std::vector<NewEvent> batch;
                    batch.push_back(system_event(EventType::clinician_action, {{"action", "other"}}, "p-1"));
                    batch.push_back(change.event());
                    REQUIRE(f.notifying->append_batch(std::move(batch)));
                } else {
                    REQUIRE(f.notifying->append(change.event()));
                }
                const auto after = f.cached();
                REQUIRE(after);
                CHECK(change.shows_it(*after));
                CHECK(change.shows_it(*before) == false);  // an earlier reader's view is not changed under it
            }
        }
    }
}

TEST_CASE("events that change no patient keep the held patient", "[bridge][patient_cache]") {
    CacheFixture f;
    REQUIRE(f.store->append(CacheFixture::registration("en-US")));
    f.notifying->follow_log({});
    const auto held = f.cached();
    const auto before = f.head();
    REQUIRE(f.notifying->append(system_event(EventType::clinician_action, {{"action", "other"}}, "p-1")));
    f.notifying->follow_log(f.page_after(before));
    CHECK(f.cached() == held);
}

TEST_CASE("another process's patient event reaches the held patient with the feed's next page",
          "[bridge][patient_cache]") {
    CacheFixture f;
    REQUIRE(f.store->append(CacheFixture::registration("en-US")));
    f.notifying->follow_log({});
    REQUIRE_FALSE(f.cached()->ai_paused);
    const auto before = f.head();
    // Appended around the notifying store, as `tandem-bridge` run beside the server would.
    REQUIRE(f.store->append(system_event(EventType::ai_paused, {{"patient_id", "p-1"}}, "p-1")));
    CHECK_FALSE(f.cached()->ai_paused);  // until the feed passes it, the held view stands

    f.notifying->follow_log(f.page_after(before));
    CHECK(f.cached()->ai_paused);
}

TEST_CASE("without a followed log every patient is read from the store", "[bridge][patient_cache]") {
    CacheFixture f;
    REQUIRE(f.store->append(CacheFixture::registration("en-US")));
    REQUIRE_FALSE(f.cached()->in_crisis);
    REQUIRE(f.store->append(system_event(EventType::crisis_entered, {{"patient_id", "p-1"}}, "p-1")));
    CHECK(f.cached()->in_crisis);
}

TEST_CASE("a patient not yet registered is not held as missing", "[bridge][patient_cache]") {
    CacheFixture f;
    f.notifying->follow_log({});
    CHECK_FALSE(f.cached());
    // Registered by another process (a `patient add` beside the server): found at once.
    REQUIRE(f.store->append(CacheFixture::registration("en-US")));
    const auto found = f.cached();
    REQUIRE(found);
    CHECK(locale_of(*found) == "en-US");
}
