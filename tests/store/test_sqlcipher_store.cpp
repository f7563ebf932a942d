#include "tandem/store/sqlcipher_store.h"

#include <catch2/catch_test_macros.hpp>

#include <cstring>
#include <fstream>
#include <set>
#include <thread>

#include "store_test_support.h"

using namespace tandem;
using namespace tandem::test;
namespace fs = std::filesystem;

namespace {

std::string file_bytes(const fs::path& p) {
    // Sized read rather than istreambuf_iterator, which trips g++ 12's -Wnull-dereference.
    std::error_code ec;
    const auto size = fs::file_size(p, ec);
    if (ec) return {};
    std::string out(size, '\0');
    std::ifstream(p, std::ios::binary).read(out.data(), static_cast<std::streamsize>(size));
    return out;
}

const Principal supervisor{"sup-1", false, true, false};
const Principal therapist_a{"ther-a", true, false, false};
const Principal therapist_b{"ther-b", true, false, false};
const Principal admin{"admin-1", false, false, true};

std::vector<std::int64_t> seqs(const std::vector<StoredEvent>& events) {
    std::vector<std::int64_t> out;
    for (const auto& e : events) out.push_back(e.seq);
    return out;
}

}  // namespace

TEST_CASE("appended events come back in order with gapless seqs and a linked hash chain", "[store]") {
    TempDir dir;
    auto key = random_secret(32);
    auto store = open_store(dir.path / "clinic.db", key);
    REQUIRE(store->schema_version() == sqlcipher_store_schema_version);
    auto first = store->append(clinic_configured());
    REQUIRE(first.has_value());
    CHECK(first->event.seq == 1);
    CHECK(first->event.prev_hash == genesis_hash);
    CHECK(first->event.id.size() == 36);
    CHECK(first->event.time.size() == 24);
    REQUIRE(store->append(patient_registered("p1", "ther-a")).has_value());
    auto third = store->append(message("p1", "c1", "m1", "hello"));
    REQUIRE(third.has_value());
    CHECK(third->event.seq == 3);

    auto all = store->read_after(0, supervisor, 100);
    REQUIRE(all.has_value());
    REQUIRE(all->size() == 3);
    CHECK(seqs(*all) == std::vector<std::int64_t>{1, 2, 3});
    CHECK((*all)[1].prev_hash == (*all)[0].hash);
    CHECK((*all)[2].prev_hash == (*all)[1].hash);
    CHECK((*all)[2] == third->event);
    CHECK((*all)[2].hash == event_hash((*all)[2].prev_hash, canonical_bytes((*all)[2])));
    auto head = store->head();
    REQUIRE(head.has_value());
    CHECK(*head == ChainHead{3, third->event.hash});
}

TEST_CASE("two stores open on one file continue one chain: appends from the other are not overwritten",
          "[store]") {
    // Tried: the bridge holds the store open while an administration command opens the same file
    // and appends (a patient, an invite). The bridge's next append must follow the other's.
    TempDir dir;
    auto key = random_secret(32);
    auto serving = open_store(dir.path / "clinic.db", key);
    REQUIRE(serving->append(clinic_configured()).has_value());
    {
        auto admin_command = open_store(dir.path / "clinic.db", key);
        REQUIRE(admin_command->append(patient_registered("p1", "ther-a")).has_value());
    }
    auto next = serving->append(message("p1", "c1", "m1", "hello"));
    REQUIRE(next.has_value());
    CHECK(next->event.seq == 3);
    auto all = serving->read_after(0, supervisor, 100);
    REQUIRE(all.has_value());
    CHECK(seqs(*all) == std::vector<std::int64_t>{1, 2, 3});
    CHECK((*all)[2].prev_hash == (*all)[1].hash);
}

TEST_CASE("read_after pages through the log without skipping or repeating", "[store]") {
    TempDir dir;
    auto key = random_secret(32);
    auto store = open_store(dir.path / "clinic.db", key);
    REQUIRE(store->append(patient_registered("p1", "ther-a")).has_value());
    for (int i = 0; i < 24; ++i) REQUIRE(store->append(message("p1", "c1", "m" + std::to_string(i), "x")).has_value());
    std::vector<std::int64_t> got;
    std::int64_t cursor = 0;
    for (;;) {
        auto page = store->read_after(cursor, supervisor, 7);
        REQUIRE(page.has_value());
        if (page->empty()) break;
        CHECK(page->size() <= 7);
        for (const auto& e : *page) got.push_back(e.seq);
        cursor = page->back().seq;
    }
    REQUIRE(got.size() == 25);
    for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == static_cast<std::int64_t>(i + 1));
}

TEST_CASE("visibility: supervisor sees all, therapist only assigned patients and own, admin only non-patient",
          "[store][visibility]") {
    TempDir dir;
    auto key = random_secret(32);
    auto store = open_store(dir.path / "clinic.db", key);
    REQUIRE(store->append(clinic_configured()).has_value());                 // 1: no patient
    REQUIRE(store->append(patient_registered("pa", "ther-a")).has_value());  // 2
    REQUIRE(store->append(patient_registered("pb", "ther-b")).has_value());  // 3
    REQUIRE(store->append(message("pa", "ca", "m1", "a")).has_value());      // 4
    REQUIRE(store->append(message("pb", "cb", "m2", "b")).has_value());      // 5
    NewEvent action;                                                          // 6: ther-a's own action, no patient
    action.type = EventType::clinician_action;
    action.actor = {ActorKind::clinician, "ther-a"};
    action.payload = {{"action", "login"}};
    REQUIRE(store->append(action).has_value());

    struct Case {
        const char* name;
        Principal who;
        std::vector<std::int64_t> visible;
    };
    const Case cases[] = {
        {"supervisor sees every event", supervisor, {1, 2, 3, 4, 5, 6}},
        {"therapist A sees patient A and own action", therapist_a, {2, 4, 6}},
        {"therapist B sees patient B only", therapist_b, {3, 5}},
        {"admin sees only events without a patient", admin, {1, 6}},
        {"clinician without roles sees nothing", Principal{"nobody", false, false, false}, {}},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        auto got = store->read_after(0, c.who, 100);
        REQUIRE(got.has_value());
        CHECK(seqs(*got) == c.visible);
    }

    SECTION("reassignment moves visibility, including of past events") {
        NewEvent assign;
        assign.type = EventType::patient_assigned;
        assign.patient_id = "pa";
        assign.actor = {ActorKind::clinician, "sup-1"};
        assign.payload = {{"patient_id", "pa"}, {"assigned_therapist_id", "ther-b"}};
        REQUIRE(store->append(assign).has_value());  // 7
        auto a = store->read_after(0, therapist_a, 100);
        auto b = store->read_after(0, therapist_b, 100);
        REQUIRE(a.has_value());
        REQUIRE(b.has_value());
        CHECK(seqs(*a) == std::vector<std::int64_t>{6});
        CHECK(seqs(*b) == std::vector<std::int64_t>{2, 3, 4, 5, 7});
        auto pa = store->find_patient("pa");
        REQUIRE(pa.has_value());
        REQUIRE(pa->has_value());
        CHECK((*pa)->assigned_therapist_id == "ther-b");
        CHECK((*pa)->record["assigned_therapist_id"] == "ther-b");
    }
}

TEST_CASE("the file on disk is encrypted: no SQLite header and no plaintext", "[store][encryption]") {
    TempDir dir;
    auto key = random_secret(32);
    const auto p = dir.path / "clinic.db";
    {
        auto store = open_store(p, key);
        REQUIRE(store->append(patient_registered("p1", "ther-a")).has_value());
        REQUIRE(store->append(message("p1", "c1", "m1", "my secret worry zebra-marker")).has_value());
    }
    const auto bytes = file_bytes(p);
    REQUIRE(bytes.size() >= 4096);
    CHECK(bytes.size() % 4096 == 0);
    CHECK(std::memcmp(bytes.data(), "SQLite format 3", 16) != 0);
    CHECK(bytes.find("zebra-marker") == std::string::npos);
    const auto wal = file_bytes(fs::path(p.string() + "-wal"));
    CHECK(wal.find("zebra-marker") == std::string::npos);
}

TEST_CASE("a wrong key is refused naming the file and leaves it byte-identical", "[store][encryption]") {
    TempDir dir;
    auto key = random_secret(32);
    const auto p = dir.path / "clinic.db";
    {
        auto store = open_store(p, key);
        REQUIRE(store->append(clinic_configured()).has_value());
    }
    const auto before = file_bytes(p);
    const auto wrong = random_secret(32);
    auto r = SqlcipherStore::open(p, wrong.bytes());
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::wrong_key);
    CHECK(r.error().message.find(p.string()) != std::string::npos);
    CHECK(file_bytes(p) == before);

    SqlcipherStoreOptions pass;
    pass.key_kind = StoreKeyKind::passphrase;
    auto r2 = SqlcipherStore::open(p, SecretBuffer::copy_of(std::string_view("guess")).bytes(), pass);
    REQUIRE_FALSE(r2.has_value());
    CHECK(r2.error().code == ErrorCode::wrong_key);
    CHECK(file_bytes(p) == before);

    auto right = SqlcipherStore::open(p, key.bytes());
    REQUIRE(right.has_value());
}

TEST_CASE("a passphrase-keyed store reopens with the same passphrase only", "[store][encryption]") {
    TempDir dir;
    const auto p = dir.path / "clinic.db";
    SqlcipherStoreOptions pass;
    pass.key_kind = StoreKeyKind::passphrase;
    const auto phrase = SecretBuffer::copy_of(std::string_view("correct horse battery staple"));
    {
        auto s = SqlcipherStore::open(p, phrase.bytes(), pass);
        REQUIRE(s.has_value());
        REQUIRE((*s)->append(clinic_configured()).has_value());
    }
    auto again = SqlcipherStore::open(p, phrase.bytes(), pass);
    REQUIRE(again.has_value());
    auto head = (*again)->head();
    REQUIRE(head.has_value());
    CHECK(head->seq == 1);
}

TEST_CASE("files that are not Tandem stores are refused as not_a_database", "[store][encryption]") {
    TempDir dir;
    auto key = random_secret(32);
    const auto plain = dir.path / "plain.db";
    {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(plain.c_str(), &db) == SQLITE_OK);
        REQUIRE(sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES(1);", nullptr, nullptr, nullptr) == SQLITE_OK);
        sqlite3_close(db);
    }
    const auto text = dir.path / "notes.txt";
    std::ofstream(text) << "this is a text file, not a database\n";
    const auto random = dir.path / "random.bin";
    {
        const auto noise = random_bytes(10000);
        std::ofstream(random, std::ios::binary).write(reinterpret_cast<const char*>(noise.data()), 10000);
    }
    const auto foreign_cipher = dir.path / "foreign.db";
    {
        RawDb raw(foreign_cipher, key);
        raw.exec("CREATE TABLE other(x); INSERT INTO other VALUES(1);");
    }
    struct Case {
        const char* name;
        fs::path path;
        ErrorCode code;
    };
    const Case cases[] = {
        {"plain SQLite database", plain, ErrorCode::not_a_database},
        {"text file", text, ErrorCode::not_a_database},
        {"random bytes", random, ErrorCode::not_a_database},
        {"SQLCipher database of another program, same key", foreign_cipher, ErrorCode::not_a_database},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const auto before = file_bytes(c.path);
        auto r = SqlcipherStore::open(c.path, key.bytes());
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == c.code);
        CHECK(r.error().message.find(c.path.string()) != std::string::npos);
        CHECK(file_bytes(c.path) == before);
    }
}

TEST_CASE("a store written by newer code is refused as too_new", "[store][migration]") {
    TempDir dir;
    auto key = random_secret(32);
    const auto p = dir.path / "clinic.db";
    { auto s = open_store(p, key); }
    {
        RawDb raw(p, key);
        raw.exec("PRAGMA user_version = " + std::to_string(sqlcipher_store_schema_version + 1));
    }
    auto r = SqlcipherStore::open(p, key.bytes());
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::too_new);
    CHECK(r.error().message.find(p.string()) != std::string::npos);
}

TEST_CASE("a repeated dedupe_key returns the first event and appends nothing", "[store][dedupe]") {
    TempDir dir;
    auto key = random_secret(32);
    auto store = open_store(dir.path / "clinic.db", key);
    REQUIRE(store->append(patient_registered("p1", "ther-a")).has_value());
    auto m = message("p1", "c1", "m1", "hello");
    m.dedupe_key = "p1/client-7";
    auto first = store->append(m);
    REQUIRE(first.has_value());
    CHECK_FALSE(first->duplicate);
    auto resend = message("p1", "c1", "m1-retry", "hello");
    resend.dedupe_key = "p1/client-7";
    auto second = store->append(resend);
    REQUIRE(second.has_value());
    CHECK(second->duplicate);
    CHECK(second->event == first->event);
    auto head = store->head();
    REQUIRE(head.has_value());
    CHECK(head->seq == 2);

    SECTION("also within one batch") {
        auto a = message("p1", "c1", "m2", "x");
        a.dedupe_key = "p1/client-8";
        auto b = message("p1", "c1", "m3", "x");
        b.dedupe_key = "p1/client-8";
        auto r = store->append_batch({a, b});
        REQUIRE(r.has_value());
        CHECK((*r)[0].event.seq == 3);
        CHECK((*r)[1].duplicate);
        CHECK((*r)[1].event.seq == 3);
    }
}

TEST_CASE("append_batch is all or nothing", "[store][batch]") {
    TempDir dir;
    auto key = random_secret(32);
    auto store = open_store(dir.path / "clinic.db", key);
    REQUIRE(store->append(patient_registered("p1", "ther-a")).has_value());
    NewEvent bad;
    bad.type = EventType::message_state_changed;
    bad.patient_id = "p1";
    bad.payload = {{"message_id", "no-such-message"}, {"state", "withheld"}};
    auto r = store->append_batch({message("p1", "c1", "m1", "a"), message("p1", "c1", "m2", "b"), bad});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::invalid_argument);
    auto head = store->head();
    REQUIRE(head.has_value());
    CHECK(head->seq == 1);
    auto msgs = store->messages("c1");
    REQUIRE(msgs.has_value());
    CHECK(msgs->empty());
    // The log continues without a gap after the refused batch.
    auto ok = store->append_batch({message("p1", "c1", "m1", "a"), message("p1", "c1", "m2", "b")});
    REQUIRE(ok.has_value());
    CHECK((*ok)[0].event.seq == 2);
    CHECK((*ok)[1].event.seq == 3);
    CHECK((*ok)[1].event.prev_hash == (*ok)[0].event.hash);
}

TEST_CASE("invalid events are refused with the field named", "[store]") {
    TempDir dir;
    auto key = random_secret(32);
    auto store = open_store(dir.path / "clinic.db", key);
    struct Case {
        const char* name;
        NewEvent event;
        std::string field;
    };
    NewEvent bad_id = clinic_configured();
    bad_id.id = "has space";
    NewEvent bad_time = clinic_configured();
    bad_time.time = "yesterday";
    NewEvent not_object = clinic_configured();
    not_object.payload = nlohmann::json::array();
    NewEvent unknown_patient;
    unknown_patient.type = EventType::crisis_entered;
    unknown_patient.patient_id = "ghost";
    NewEvent message_without_conversation = message("p1", "c1", "m1", "x");
    message_without_conversation.payload.erase("conversation_id");
    const Case cases[] = {
        {"id with a space", bad_id, "id"},
        {"time not UTC", bad_time, "time"},
        {"payload not an object", not_object, "payload"},
        {"crisis for an unknown patient", unknown_patient, "patient_id"},
        {"message without conversation_id", message_without_conversation, "payload.conversation_id"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        auto r = store->append(c.event);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == ErrorCode::invalid_argument);
        CHECK(r.error().field == c.field);
    }
    auto head = store->head();
    REQUIRE(head.has_value());
    CHECK(head->seq == 0);
}

TEST_CASE("views follow the events: crisis, AI pause, message state, flags and plans", "[store][views]") {
    TempDir dir;
    auto key = random_secret(32);
    auto store = open_store(dir.path / "clinic.db", key);
    auto ev = [&](EventType type, nlohmann::json payload) {
        NewEvent e;
        e.type = type;
        e.patient_id = "p1";
        e.actor = {ActorKind::clinician, "ther-a"};
        e.payload = std::move(payload);
        auto r = store->append(std::move(e));
        if (!r) FAIL(r.error().describe());
        return r->event.seq;
    };
    REQUIRE(store->append(patient_registered("p1", "ther-a")).has_value());
    REQUIRE(store->append(patient_registered("p2", "ther-b")).has_value());
    ev(EventType::conversation_started, {{"id", "c1"}, {"patient_id", "p1"}, {"started_at", "2026-11-26T03:00:00.000Z"}});
    REQUIRE(store->append(message("p1", "c1", "m1", "hi")).has_value());
    auto held = message("p1", "c1", "m2", "unsafe reply", "held");
    held.payload["sender"] = "ai";
    REQUIRE(store->append(held).has_value());
    ev(EventType::crisis_entered, {{"reason", "flag f1"}});
    ev(EventType::ai_paused, nlohmann::json::object());
    ev(EventType::flag_opened, {{"id", "f1"}, {"patient_id", "p1"}, {"severity", "high"}, {"status", "open"},
                                {"categories", {"suicidal_ideation"}}, {"sla_deadline", "2026-11-26T03:05:00.000Z"},
                                {"escalation_level", 0}, {"notes", nlohmann::json::array()}});
    ev(EventType::plan_proposed, {{"id", "plan1"}, {"patient_id", "p1"}, {"version", 1}, {"status", "proposed"}});
    ev(EventType::plan_approved, {{"plan_id", "plan1"}, {"approver_id", "ther-a"}});

    auto p = store->find_patient("p1");
    REQUIRE(p.has_value());
    REQUIRE(p->has_value());
    CHECK((*p)->in_crisis);
    CHECK((*p)->ai_paused);
    auto flags = store->open_flags(supervisor);
    REQUIRE(flags.has_value());
    REQUIRE(flags->size() == 1);
    CHECK((*flags)[0].status == "open");
    auto b_flags = store->open_flags(therapist_b);
    REQUIRE(b_flags.has_value());
    CHECK(b_flags->empty());

    ev(EventType::flag_acknowledged, {{"flag_id", "f1"}, {"acknowledged_by", "ther-a"}, {"acknowledged_at", "2026-11-26T03:01:00.000Z"}});
    ev(EventType::flag_annotated, {{"flag_id", "f1"}, {"note", {{"clinician_id", "ther-a"}, {"at", "2026-11-26T03:02:00.000Z"}, {"text", "called"}}}});
    ev(EventType::flag_escalated, {{"flag_id", "f1"}});
    flags = store->open_flags(therapist_a);
    REQUIRE(flags.has_value());
    REQUIRE(flags->size() == 1);
    CHECK((*flags)[0].status == "escalated");
    CHECK((*flags)[0].escalation_level == 1);
    CHECK((*flags)[0].record["acknowledged_by"] == "ther-a");
    CHECK((*flags)[0].record["notes"].size() == 1);
    ev(EventType::flag_resolved, {{"flag_id", "f1"}, {"resolution", {{"risk_real", true}, {"note", "safe"}}}});
    flags = store->open_flags(supervisor);
    REQUIRE(flags.has_value());
    CHECK(flags->empty());

    ev(EventType::message_state_changed, {{"message_id", "m2"}, {"state", "delivered"}, {"text", "edited reply"}});
    auto msgs = store->messages("c1");
    REQUIRE(msgs.has_value());
    REQUIRE(msgs->size() == 2);
    CHECK((*msgs)[0].record["text"] == "hi");
    CHECK((*msgs)[1].state == "delivered");
    CHECK((*msgs)[1].record["text"] == "edited reply");

    ev(EventType::crisis_cleared, nlohmann::json::object());
    ev(EventType::ai_resumed, nlohmann::json::object());
    p = store->find_patient("p1");
    REQUIRE(p.has_value());
    CHECK_FALSE((*p)->in_crisis);
    CHECK_FALSE((*p)->ai_paused);

    ev(EventType::plan_proposed, {{"id", "plan2"}, {"patient_id", "p1"}, {"version", 2}});
    ev(EventType::plan_approved, {{"plan_id", "plan2"}, {"approver_id", "ther-a"}});
    auto plans = store->plans("p1");
    REQUIRE(plans.has_value());
    REQUIRE(plans->size() == 2);
    CHECK((*plans)[0].status == "superseded");
    CHECK((*plans)[1].status == "approved");

    auto convs = store->conversations("p1");
    REQUIRE(convs.has_value());
    REQUIRE(convs->size() == 1);
    auto mine = store->patients(therapist_a);
    REQUIRE(mine.has_value());
    REQUIRE(mine->size() == 1);
    CHECK(mine->front().id == "p1");
    auto all = store->patients(supervisor);
    REQUIRE(all.has_value());
    CHECK(all->size() == 2);
}

TEST_CASE("concurrent appenders get distinct gapless seqs and the chain verifies", "[store][concurrency]") {
    TempDir dir;
    auto key = random_secret(32);
    auto store = open_store(dir.path / "clinic.db", key);
    REQUIRE(store->append(patient_registered("p1", "ther-a")).has_value());
    constexpr int threads = 8;
    constexpr int per_thread = 40;
    std::vector<std::vector<std::int64_t>> got(threads);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                auto r = store->append(message("p1", "c1", "m" + std::to_string(t) + "-" + std::to_string(i), "x"));
                if (r) got[t].push_back(r->event.seq);
            }
        });
    }
    for (auto& th : pool) th.join();
    std::set<std::int64_t> all;
    for (const auto& g : got) {
        CHECK(g.size() == per_thread);
        CHECK(std::is_sorted(g.begin(), g.end()));
        all.insert(g.begin(), g.end());
    }
    CHECK(all.size() == threads * per_thread);
    CHECK(*all.begin() == 2);
    CHECK(*all.rbegin() == 1 + threads * per_thread);
    auto report = store->verify_chain(std::nullopt);
    REQUIRE(report.has_value());
    CHECK(report->ok);
    CHECK(report->checked == 1 + threads * per_thread);
}

TEST_CASE("reopening keeps the log and the head", "[store]") {
    TempDir dir;
    auto key = random_secret(32);
    const auto p = dir.path / "clinic.db";
    ChainHead before;
    {
        auto store = open_store(p, key);
        REQUIRE(store->append(clinic_configured()).has_value());
        REQUIRE(store->append(patient_registered("p1", "ther-a")).has_value());
        before = *store->head();
    }
    auto store = open_store(p, key);
    CHECK(*store->head() == before);
    auto next = store->append(message("p1", "c1", "m1", "x"));
    REQUIRE(next.has_value());
    CHECK(next->event.seq == 3);
    CHECK(next->event.prev_hash == before.hash);
}

TEST_CASE("open_with_key_file creates a 0600 key for a new store and refuses an existing store without it",
          "[store][encryption]") {
    TempDir dir;
    const auto db = dir.path / "clinic.db";
    const auto key_file = dir.path / "clinic.key";
    {
        auto s = SqlcipherStore::open_with_key_file(db, key_file);
        REQUIRE(s.has_value());
        REQUIRE((*s)->append(clinic_configured()).has_value());
    }
    CHECK((fs::status(key_file).permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
    // The store file itself is owner-only too, whatever the umask.
    CHECK((fs::status(db).permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
    {
        auto again = SqlcipherStore::open_with_key_file(db, key_file);
        REQUIRE(again.has_value());
        CHECK((*again)->head()->seq == 1);
    }
    fs::rename(key_file, dir.path / "elsewhere.key");
    auto lost = SqlcipherStore::open_with_key_file(db, key_file);
    REQUIRE_FALSE(lost.has_value());
    CHECK(lost.error().code == ErrorCode::not_found);
    CHECK(lost.error().message.find(key_file.string()) != std::string::npos);
    CHECK_FALSE(fs::exists(key_file));
}
