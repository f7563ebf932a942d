// The feed's read (read_feed_after + may_read) against read_after, the window read
// (recent_messages), and reader connections whose prepared statements are reused across calls.
#include "tandem/store/sqlcipher_store.h"

#include <catch2/catch_test_macros.hpp>

#include "store_test_support.h"

using namespace tandem;
using namespace tandem::test;

namespace {

const Principal supervisor{"sup-1", false, true, false};
const Principal therapist_a{"ther-a", true, false, false};
const Principal therapist_b{"ther-b", true, false, false};
const Principal admin{"admin-1", false, false, true};
const Principal therapist_and_admin{"ther-a", true, false, true};
const Principal nobody{"nobody", false, false, false};

std::vector<std::int64_t> seqs(const std::vector<StoredEvent>& events) {
    std::vector<std::int64_t> out;
    for (const auto& e : events) out.push_back(e.seq);
    return out;
}

// What the feed sends a principal: one shared read, filtered with may_read.
std::vector<std::int64_t> feed_seqs(Store& store, const Principal& who, std::int64_t after, std::size_t limit) {
    std::vector<std::int64_t> out;
    while (true) {
        auto page = store.read_feed_after(after, limit);
        REQUIRE(page.has_value());
        if (page->empty()) return out;
        for (const auto& fe : *page)
            if (may_read(who, fe.event, fe.assigned_therapist_id)) out.push_back(fe.event.seq);
        after = page->back().event.seq;
    }
}

NewEvent own_action(const std::string& clinician) {
    NewEvent e;
    e.type = EventType::clinician_action;
    e.actor = {ActorKind::clinician, clinician};
    e.payload = {{"action", "login"}};
    return e;
}

NewEvent reassign(const std::string& patient, const std::string& therapist) {
    NewEvent e;
    e.type = EventType::patient_assigned;
    e.patient_id = patient;
    e.actor = {ActorKind::clinician, "sup-1"};
    e.payload = {{"patient_id", patient}, {"assigned_therapist_id", therapist}};
    return e;
}

}  // namespace

TEST_CASE("may_read decides each kind of reader and event as read_after's rule says", "[store][visibility]") {
    StoredEvent patient_event;
    patient_event.patient_id = "pa";
    patient_event.actor = {ActorKind::patient, "pa"};
    StoredEvent clinic_event;  // no patient (accounts, configuration)
    clinic_event.actor = {ActorKind::system, std::nullopt};
    StoredEvent own_on_other = patient_event;  // ther-a acting on a patient assigned to ther-b
    own_on_other.actor = {ActorKind::clinician, "ther-a"};
    StoredEvent patient_named_like_clinician = patient_event;  // a patient actor with a clinician's id
    patient_named_like_clinician.actor = {ActorKind::patient, "ther-a"};
    const std::optional<std::string> to_a = "ther-a";
    const std::optional<std::string> to_b = "ther-b";
    const std::optional<std::string> unassigned;

    struct Case {
        const char* name;
        Principal who;
        const StoredEvent* event;
        std::optional<std::string> assigned;
        bool visible;
    };
    const Case cases[] = {
        {"supervisor reads a patient's event", supervisor, &patient_event, to_b, true},
        {"supervisor reads a clinic event", supervisor, &clinic_event, unassigned, true},
        {"therapist reads their assigned patient's event", therapist_a, &patient_event, to_a, true},
        {"therapist does not read another therapist's patient", therapist_a, &patient_event, to_b, false},
        {"therapist does not read an unassigned patient", therapist_a, &patient_event, unassigned, false},
        {"therapist does not read a clinic event", therapist_a, &clinic_event, unassigned, false},
        {"therapist reads their own action on another's patient", therapist_a, &own_on_other, to_b, true},
        {"a patient actor with a clinician's id is not that clinician", therapist_a, &patient_named_like_clinician, to_b,
         false},
        {"admin reads a clinic event", admin, &clinic_event, unassigned, true},
        {"admin does not read a patient's event", admin, &patient_event, to_a, false},
        {"therapist and admin reads both kinds", therapist_and_admin, &clinic_event, unassigned, true},
        {"a reader without roles reads nothing", nobody, &patient_event, to_a, false},
        {"the assigned id must match, not only be present", Principal{"ther-c", true, false, false}, &patient_event,
         to_a, false},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        CHECK(may_read(c.who, *c.event, c.assigned) == c.visible);
    }
}

TEST_CASE("the feed's shared read filtered with may_read gives each reader exactly read_after's events",
          "[store][visibility][feed]") {
    TempDir dir;
    auto key = random_secret(32);
    auto store = open_store(dir.path / "clinic.db", key);
    REQUIRE(store->append(clinic_configured()).has_value());                 // 1
    REQUIRE(store->append(patient_registered("pa", "ther-a")).has_value());  // 2
    REQUIRE(store->append(patient_registered("pb", "ther-b")).has_value());  // 3
    REQUIRE(store->append(patient_registered("pc", std::nullopt)).has_value());  // 4: unassigned
    REQUIRE(store->append(message("pa", "ca", "m1", "a")).has_value());      // 5
    REQUIRE(store->append(message("pb", "cb", "m2", "b")).has_value());      // 6
    REQUIRE(store->append(message("pc", "cc", "m3", "c")).has_value());      // 7
    REQUIRE(store->append(own_action("ther-a")).has_value());                // 8
    REQUIRE(store->append(own_action("admin-1")).has_value());               // 9

    const Principal readers[] = {supervisor, therapist_a, therapist_b, admin, therapist_and_admin, nobody};
    auto compare = [&](const char* when) {
        for (const auto& who : readers) {
            INFO(when << ": " << who.clinician_id << (who.admin ? " (admin)" : ""));
            for (std::int64_t after : {0, 3, 6}) {
                auto direct = store->read_after(after, who, 1000);
                REQUIRE(direct.has_value());
                CHECK(feed_seqs(*store, who, after, 1000) == seqs(*direct));
                CHECK(feed_seqs(*store, who, after, 2) == seqs(*direct));  // paged in twos
            }
        }
    };
    compare("as registered");
    REQUIRE(store->append(reassign("pa", "ther-b")).has_value());  // 10: pa's past moves to ther-b
    REQUIRE(store->append(reassign("pc", "ther-a")).has_value());  // 11
    compare("after reassignments");

    auto all = store->read_feed_after(0, 1000);
    REQUIRE(all.has_value());
    REQUIRE(all->size() == 11);
    CHECK(all->at(4).assigned_therapist_id == "ther-b");  // pa's message, as assigned now
    CHECK_FALSE(all->at(0).assigned_therapist_id.has_value());
}

TEST_CASE("recent_messages gives a conversation's newest messages in seq order, with their current state",
          "[store][views]") {
    TempDir dir;
    auto key = random_secret(32);
    auto store = open_store(dir.path / "clinic.db", key);
    REQUIRE(store->append(patient_registered("pa", "ther-a")).has_value());
    for (int i = 1; i <= 30; ++i) {
        REQUIRE(store->append(message("pa", "ca", "m" + std::to_string(i), "text " + std::to_string(i))).has_value());
        REQUIRE(store->append(message("pa", "other", "o" + std::to_string(i), "elsewhere")).has_value());
    }
    REQUIRE(store->append(message("pa", "ca", "held-1", "draft", "held")).has_value());
    NewEvent release;
    release.type = EventType::message_state_changed;
    release.patient_id = "pa";
    release.actor = {ActorKind::clinician, "ther-a"};
    release.payload = {{"message_id", "held-1"}, {"state", "delivered"}, {"text", "edited"}};
    REQUIRE(store->append(release).has_value());

    auto recent = store->recent_messages("ca", 4);
    REQUIRE(recent.has_value());
    std::vector<std::string> ids;
    for (const auto& m : *recent) ids.push_back(m.id);
    CHECK(ids == std::vector<std::string>{"m28", "m29", "m30", "held-1"});
    CHECK(recent->back().state == "delivered");
    CHECK(recent->back().record["text"] == "edited");

    auto whole = store->messages("ca");
    REQUIRE(whole.has_value());
    REQUIRE(whole->size() == 31);
    auto more_than_all = store->recent_messages("ca", 100);
    REQUIRE(more_than_all.has_value());
    CHECK(more_than_all->size() == 31);
    CHECK(more_than_all->front().id == "m1");
    auto none = store->recent_messages("no-such-conversation", 5);
    REQUIRE(none.has_value());
    CHECK(none->empty());
}

TEST_CASE("reused statements never pin an old snapshot: a read stopped mid-result still sees later appends",
          "[store][readers]") {
    TempDir dir;
    auto key = random_secret(32);
    auto store = open_store(dir.path / "clinic.db", key);
    REQUIRE(store->append(patient_registered("pa", "ther-a")).has_value());
    for (int i = 0; i < 10; ++i) REQUIRE(store->append(message("pa", "ca", "m" + std::to_string(i), "x")).has_value());
    // Stopped after 2 of 11 rows on every reader connection (more calls than connections).
    for (int i = 0; i < 8; ++i) {
        auto page = store->read_after(0, supervisor, 2);
        REQUIRE(page.has_value());
        CHECK(page->size() == 2);
        auto one = store->find_patient("pa");
        REQUIRE(one.has_value());
    }
    REQUIRE(store->append(reassign("pa", "ther-b")).has_value());
    for (int i = 0; i < 8; ++i) {
        auto head = store->head();
        REQUIRE(head.has_value());
        CHECK(head->seq == 12);
        auto p = store->find_patient("pa");
        REQUIRE(p.has_value());
        REQUIRE(p->has_value());
        CHECK((*p)->assigned_therapist_id == "ther-b");
        auto b = store->read_after(0, therapist_b, 100);
        REQUIRE(b.has_value());
        CHECK(b->size() == 12);
    }
}

TEST_CASE("every event the store hands out carries its payload's stored text: appended, from the cache and from SQL",
          "[store][feed]") {
    TempDir dir;
    auto key = random_secret(32);
    auto store = open_store(dir.path / "clinic.db", key);
    std::vector<NewEvent> events;
    events.push_back(patient_registered("pa", "ther-a"));
    events.push_back(message("pa", "ca", "m1", "caf\xc3\xa9 \"quoted\" \\ and a tab\t"));
    auto appended = store->append_batch(std::move(events));
    REQUIRE(appended.has_value());
    for (const auto& a : *appended) CHECK(a.event.payload_text == a.event.payload.dump());

    SqlcipherStoreOptions no_cache;
    no_cache.read_cache = false;
    auto uncached = SqlcipherStore::open(dir.path / "clinic.db", key.bytes(), no_cache);
    REQUIRE(uncached.has_value());
    for (Store* s : {static_cast<Store*>(store.get()), static_cast<Store*>(uncached->get())}) {
        auto feed = s->read_feed_after(0, 100);
        REQUIRE(feed.has_value());
        REQUIRE(feed->size() == 2);
        for (const auto& fe : *feed) CHECK(fe.event.payload_text == fe.event.payload.dump());
        auto read = s->read_after(0, supervisor, 100);
        REQUIRE(read.has_value());
        for (const auto& e : *read) CHECK(e.payload_text == e.payload.dump());
    }
}
