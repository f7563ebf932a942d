#include <catch2/catch_test_macros.hpp>

#include <nlohmann/json.hpp>

#include "tandem/clinician/session.h"
#include "test_support.h"

using namespace tandem;
using namespace tandem::clinician;
using namespace tandem::clinician::testing;
using nlohmann::json;
using std::chrono::minutes;

namespace {

// A small clinic log: two patients, a message, a flag and annotations (non-idempotent deltas:
// applying one twice would show two notes, so duplicates are visible).
std::vector<json> clinic_log() {
    std::vector<json> log;
    log.push_back(event_json(1, "patient_registered", "p1", patient("p1", "Alex Rivera", "t1")));
    log.push_back(event_json(2, "patient_registered", "p2", patient("p2", "Sam Okafor", "t2")));
    log.push_back(event_json(3, "message_appended", "p1", message("m1", "p1", "patient", "hello", t0())));
    log.push_back(event_json(4, "flag_opened", "p1", flag("f1", "p1", "high", t0(), t0() + minutes{5}, "m1")));
    log.push_back(event_json(5, "flag_annotated", "p1", {{"flag_id", "f1"}, {"note", "first"}}, t0(), "t1"));
    log.push_back(event_json(6, "flag_annotated", "p1", {{"flag_id", "f1"}, {"note", "second"}}, t0(), "t1"));
    log.push_back(event_json(9, "flag_acknowledged", "p1", {{"flag_id", "f1"}}, t0() + minutes{2}, "t1"));
    return log;
}

struct Recorder : SessionListener {
    std::vector<SessionState> states;
    std::vector<std::pair<std::uint64_t, bool>> events;  // seq, live
    std::vector<Error> errors;
    std::vector<bool> fatal;
    std::vector<std::string> results;
    void on_state(SessionState s) override { states.push_back(s); }
    void on_event(const StoredEvent& e, ApplyOutcome o, bool live) override {
        if (o != ApplyOutcome::duplicate) events.emplace_back(e.seq, live);
    }
    void on_error(const Error& e, bool f) override {
        errors.push_back(e);
        fatal.push_back(f);
    }
    void on_action_result(const std::string& id, bool ok, const std::string&) override {
        results.push_back(id + (ok ? ":ok" : ":failed"));
    }
};

json frame_of(const std::string& text) { return json::parse(text); }

std::string login_ok(const std::string& token, const std::string& self_id = "t1") {
    return json{{"type", "login_ok"}, {"id", "s1"}, {"time", format_utc(t0())},
                {"payload", {{"session_token", token},
                             {"clinician", {{"id", self_id}, {"username", "u"}, {"display_name", "Dr T"},
                                            {"roles", json::array({"therapist"})}}},
                             {"clinic_policy", {{"idle_lock_minutes", 7}}}}}}
        .dump();
}

std::string caught_up(std::uint64_t head) {
    return json{{"type", "caught_up"}, {"id", "s2"}, {"time", format_utc(t0())}, {"payload", {{"head_seq", head}}}}.dump();
}

}  // namespace

TEST_CASE("an event at or below the cursor is a duplicate and changes nothing", "[clinician][model]") {
    Model model;
    for (const auto& e : clinic_log()) model.apply(parse_stored_event(e).value());
    REQUIRE(model.cursor() == 9);
    const auto replayed = parse_stored_event(clinic_log()[4]).value();
    CHECK(model.apply(replayed) == ApplyOutcome::duplicate);
    CHECK(model.flag("f1")->notes.size() == 2);
    CHECK(model.cursor() == 9);
}

TEST_CASE("a gap in seq is accepted because other patients' events are not visible", "[clinician][model]") {
    // seq is clinic-wide; a therapist's feed skips events about other patients, so 6 -> 9 is normal.
    Model model;
    for (const auto& e : clinic_log()) CHECK(model.apply(parse_stored_event(e).value()) == ApplyOutcome::applied);
    CHECK(model.flag("f1")->status == FlagStatus::acknowledged);
    CHECK(model.flag("f1")->acknowledged_by == "t1");
}

TEST_CASE("unknown and malformed events advance the cursor so the feed never sticks", "[clinician][model]") {
    Model model;
    CHECK(model.apply(event(1, "plan_proposed", "p1", {{"id", "plan"}})) == ApplyOutcome::ignored);
    auto bad = event(2, "message_appended", "p1", json::object());
    bad.payload_json = "not json";
    CHECK(model.apply(bad) == ApplyOutcome::malformed);
    CHECK(model.apply(event(3, "flag_opened", "p1", {{"id", 42}})) == ApplyOutcome::applied);
    CHECK(model.flags().empty());
    CHECK(model.cursor() == 3);
}

TEST_CASE("held AI reply stays held until a state change releases it, and edit replaces the text",
          "[clinician][model]") {
    Model model;
    model.apply(event(1, "patient_registered", "p1", patient("p1", "A", "t1")));
    model.apply(event(2, "message_appended", "p1", message("m1", "p1", "ai", "draft", t0(), "held")));
    CHECK(model.message("m1")->state == MessageState::held);
    model.apply(event(3, "message_state_changed", "p1", {{"message_id", "m1"}, {"state", "delivered"}, {"text", "edited"}}));
    CHECK(model.message("m1")->state == MessageState::delivered);
    CHECK(model.message("m1")->text == "edited");
}

TEST_CASE("risk assessed after the message attaches to it", "[clinician][model]") {
    Model model;
    model.apply(event(1, "message_appended", "p1", message("m1", "p1", "patient", "text", t0())));
    model.apply(event(2, "risk_assessed", "p1",
                      {{"message_id", "m1"},
                       {"risk", {{"severity", "high"}, {"categories", json::array({"self_harm", "not_a_category"})},
                                 {"spans", json::array({{{"begin", 0}, {"end", 4}, {"rule_id", "r"}, {"rationale", "why"}}})}}}}));
    REQUIRE(model.message("m1")->risk.has_value());
    CHECK(model.message("m1")->risk->severity == Severity::high);
    CHECK(model.message("m1")->risk->categories == std::vector<RiskCategory>{RiskCategory::self_harm});
    CHECK(model.patient("p1") != nullptr);  // a stub row exists for a patient seen only through a message
}

TEST_CASE("crisis, AI pause and reassignment follow their events", "[clinician][model]") {
    Model model;
    model.apply(event(1, "patient_registered", "p1", patient("p1", "A", "t1")));
    model.apply(event(2, "crisis_entered", "p1", {{"patient_id", "p1"}}));
    model.apply(event(3, "ai_paused", "p1", {{"patient_id", "p1"}}));
    CHECK(model.patient("p1")->in_crisis);
    CHECK(model.patient("p1")->ai_paused);
    model.apply(event(4, "crisis_cleared", "p1", {{"patient_id", "p1"}, {"note", "ok"}}));
    model.apply(event(5, "ai_resumed", "p1", {{"patient_id", "p1"}}));
    model.apply(event(6, "patient_assigned", "p1", {{"patient_id", "p1"}, {"therapist_id", "t2"}}));
    CHECK_FALSE(model.patient("p1")->in_crisis);
    CHECK_FALSE(model.patient("p1")->ai_paused);
    CHECK(model.patient("p1")->assigned_therapist_id == "t2");
}

TEST_CASE("session logs in, subscribes from the cursor and goes live at caught_up", "[clinician][session]") {
    Model model;
    Recorder rec;
    std::vector<std::string> sent;
    FeedSession session(model, rec, [&](std::string f) { sent.push_back(std::move(f)); });
    session.set_credentials("ames", "secret");
    session.on_open();
    REQUIRE(sent.size() == 1);
    CHECK(frame_of(sent[0])["type"] == "login");
    CHECK(frame_of(sent[0])["payload"]["password"] == "secret");
    session.on_frame(login_ok("tok"));
    REQUIRE(sent.size() == 2);
    CHECK(frame_of(sent[1])["type"] == "subscribe");
    CHECK(frame_of(sent[1])["payload"]["after_seq"] == 0);
    CHECK(model.policy().idle_lock_minutes == 7);
    CHECK(session.state() == SessionState::syncing);
    const auto log = clinic_log();
    for (std::size_t i = 0; i < 4; ++i) session.on_frame(event_frame(log[i]));
    session.on_frame(caught_up(4));
    CHECK(session.state() == SessionState::live);
    session.on_frame(event_frame(log[4]));
    REQUIRE(rec.events.size() == 5);
    CHECK_FALSE(rec.events[3].second);  // backlog
    CHECK(rec.events[4].second);        // live
}

TEST_CASE("state after reconnect: resume with the token, subscribe after the cursor, no gap and no duplicate",
          "[clinician][session]") {
    Model model;
    Recorder rec;
    std::vector<std::string> sent;
    FeedSession session(model, rec, [&](std::string f) { sent.push_back(std::move(f)); });
    session.set_credentials("ames", "secret");
    session.on_open();
    session.on_frame(login_ok("tok"));
    const auto log = clinic_log();
    for (std::size_t i = 0; i < 5; ++i) session.on_frame(event_frame(log[i]));
    session.on_frame(caught_up(5));
    session.on_closed();
    CHECK(session.state() == SessionState::offline);
    CHECK_FALSE(session.online());

    sent.clear();
    session.on_open();
    REQUIRE(sent.size() == 1);
    CHECK(frame_of(sent[0])["type"] == "resume");
    CHECK(frame_of(sent[0])["payload"]["session_token"] == "tok");
    session.on_frame(login_ok("tok"));
    CHECK(frame_of(sent[1])["payload"]["after_seq"] == 5);
    // A bridge that overlaps its replay (it re-sends 4 and 5) must not double anything.
    for (std::size_t i = 3; i < log.size(); ++i) session.on_frame(event_frame(log[i]));
    session.on_frame(caught_up(9));

    Model reference;
    for (const auto& e : log) reference.apply(parse_stored_event(e).value());
    CHECK(model.cursor() == reference.cursor());
    CHECK(model.flag("f1")->notes.size() == reference.flag("f1")->notes.size());
    CHECK(model.flag("f1")->status == reference.flag("f1")->status);
    CHECK(model.transcript("p1").size() == reference.transcript("p1").size());
    CHECK(rec.events.size() == log.size());
}

TEST_CASE("a refused login is fatal and forgets the password", "[clinician][session]") {
    Model model;
    Recorder rec;
    std::vector<std::string> sent;
    FeedSession session(model, rec, [&](std::string f) { sent.push_back(std::move(f)); });
    session.set_credentials("ames", "wrong");
    session.on_open();
    session.on_frame(R"({"type":"error","id":"e","time":"2026-11-26T10:00:00.000Z",
                         "payload":{"code":"permission_denied","message":"bad credentials"}})");
    REQUIRE(rec.errors.size() == 1);
    CHECK(rec.errors[0].code == ErrorCode::permission_denied);
    CHECK(rec.fatal[0]);
    session.on_closed();
    sent.clear();
    session.on_open();
    CHECK(sent.empty());  // nothing to send without a password: the person must log in again
    REQUIRE(rec.fatal.size() == 2);
    CHECK(rec.fatal[1]);
}

TEST_CASE("actions are refused offline, resent with the same id after reconnect, and completed once",
          "[clinician][session]") {
    Model model;
    Recorder rec;
    std::vector<std::string> sent;
    FeedSession session(model, rec, [&](std::string f) { sent.push_back(std::move(f)); });
    const auto ack = actions::flag_acknowledge("f1");
    CHECK_FALSE(session.send_action(ack));
    session.set_credentials("ames", "pw");
    session.on_open();
    session.on_frame(login_ok("tok"));
    REQUIRE(session.send_action(ack));
    CHECK(frame_of(sent.back())["payload"]["action_id"] == ack.action_id);
    session.on_closed();
    sent.clear();
    session.on_open();
    session.on_frame(login_ok("tok"));
    REQUIRE(sent.size() == 3);  // resume, subscribe, then the unanswered action
    CHECK(frame_of(sent[1])["type"] == "subscribe");
    CHECK(frame_of(sent[2])["payload"]["action_id"] == ack.action_id);
    const std::string result = json{{"type", "action_result"}, {"id", "r"}, {"time", format_utc(t0())},
                                    {"payload", {{"action_id", ack.action_id}, {"ok", true}, {"seq", 10}}}}
                                   .dump();
    session.on_frame(result);
    session.on_frame(result);  // the answer to the resend
    CHECK(rec.results == std::vector<std::string>{ack.action_id + ":ok"});
    CHECK(session.pending().size() == 0);
}

TEST_CASE("a bridge whose log ends before the cache's cursor is reported, not trusted silently", "[clinician][session]") {
    // What was tried: a cache filled up to its cursor, then a bridge (restored from an older
    // backup) whose log ends two events earlier. The session still goes live, and says the two
    // disagree; a bridge at or past the cursor clears it again.
    Model model;
    Recorder rec;
    FeedSession session(model, rec, [](std::string) {});
    const auto log = clinic_log();
    session.set_credentials("ames", "secret");
    session.on_open();
    session.on_frame(login_ok("tok"));
    for (std::size_t i = 0; i < 5; ++i) session.on_frame(event_frame(log[i]));
    const auto cursor = model.cursor();
    session.on_frame(caught_up(cursor));
    CHECK_FALSE(session.log_behind_cache());
    session.on_frame(caught_up(cursor - 2));
    CHECK(session.log_behind_cache());
    CHECK(session.state() == SessionState::live);
    CHECK(rec.errors.empty());
    session.on_frame(caught_up(cursor + 3));
    CHECK_FALSE(session.log_behind_cache());
}

TEST_CASE("unreadable frames are reported and do not change the model", "[clinician][session]") {
    Model model;
    Recorder rec;
    FeedSession session(model, rec, [](std::string) {});
    session.on_frame("{nope");
    session.on_frame(R"({"type":"event","payload":{"seq":0}})");
    CHECK(rec.errors.size() == 2);
    CHECK(model.cursor() == 0);
}

TEST_CASE("an envelope-level error naming an action's frame clears the pending action", "[clinician][session]") {
    Model model;
    Recorder rec;
    std::vector<std::string> sent;
    FeedSession session(model, rec, [&](std::string f) { sent.push_back(std::move(f)); });
    session.set_credentials("ames", "pw");
    session.on_open();
    session.on_frame(login_ok("tok"));
    const auto ack = actions::flag_acknowledge("f1");
    REQUIRE(session.send_action(ack));
    const std::string envelope = frame_of(sent.back())["id"];
    // An error about some other frame leaves the action pending.
    session.on_frame(json{{"type", "error"}, {"id", "e1"}, {"time", format_utc(t0())},
                          {"payload", {{"code", "rate_limited"}, {"message", "slow down"}, {"request_id", "other"}}}}
                         .dump());
    CHECK(session.pending().size() == 1);
    session.on_frame(json{{"type", "error"}, {"id", "e2"}, {"time", format_utc(t0())},
                          {"payload", {{"code", "schema"}, {"message", "kind too long"}, {"ref", envelope},
                                       {"request_id", envelope}}}}
                         .dump());
    CHECK(session.pending().size() == 0);
    CHECK(rec.results == std::vector<std::string>{ack.action_id + ":failed"});
    // Nothing is resent after a reconnect: the refusal was the answer.
    session.on_closed();
    sent.clear();
    session.on_open();
    session.on_frame(login_ok("tok"));
    CHECK(sent.size() == 2);  // resume, subscribe
}

TEST_CASE("a withdrawn action (an export that gave up) is not resent after a reconnect and its late answer is not "
          "reported",
          "[clinician][session][export]") {
    Model model;
    Recorder rec;
    std::vector<std::string> sent;
    FeedSession session(model, rec, [&](std::string f) { sent.push_back(std::move(f)); });
    session.set_credentials("ames", "pw");
    session.on_open();
    session.on_frame(login_ok("tok"));
    auto exported = actions::report_exported("p1", "pdf", {"phq9"}, 2);
    REQUIRE(exported);
    const auto ack = actions::flag_acknowledge("f1");
    REQUIRE(session.send_action(*exported));
    const std::string envelope = frame_of(sent.back())["id"];
    REQUIRE(session.send_action(ack));
    // Tried: an error frame that names no request (the bridge's trouble, not this action's): the
    // export keeps waiting, so only its deadline can end the wait.
    session.on_frame(json{{"type", "error"}, {"id", "e1"}, {"time", format_utc(t0())},
                          {"payload", {{"code", "internal"}, {"message", "try later"}}}}
                         .dump());
    CHECK(session.pending().size() == 2);
    CHECK(session.withdraw_action(exported->action_id));
    CHECK_FALSE(session.withdraw_action(exported->action_id));  // once
    CHECK(session.pending().size() == 1);
    // A late answer, whether an action_result or an envelope error, reaches no listener.
    session.on_frame(json{{"type", "action_result"}, {"id", "r"}, {"time", format_utc(t0())},
                          {"payload", {{"action_id", exported->action_id}, {"ok", true}, {"seq", 10}}}}
                         .dump());
    session.on_frame(json{{"type", "error"}, {"id", "e2"}, {"time", format_utc(t0())},
                          {"payload", {{"code", "schema"}, {"message", "late"}, {"request_id", envelope}}}}
                         .dump());
    CHECK(rec.results.empty());
    // After a reconnect only the acknowledgement is resent.
    session.on_closed();
    sent.clear();
    session.on_open();
    session.on_frame(login_ok("tok"));
    REQUIRE(sent.size() == 3);  // resume, subscribe, the acknowledgement
    CHECK(frame_of(sent[2])["payload"]["action_id"] == ack.action_id);
}

TEST_CASE("a clinic that requires a one-time code gets a second login carrying it, then forgets both",
          "[clinician][session]") {
    Model model;
    struct TotpRecorder : Recorder {
        std::vector<std::string> asked;
        void on_totp_required(const std::string& m) override { asked.push_back(m); }
    } rec;
    std::vector<std::string> sent;
    FeedSession session(model, rec, [&](std::string f) { sent.push_back(std::move(f)); });
    session.set_credentials("ames", "pw");
    CHECK_FALSE(session.submit_totp("123456"));  // nothing asked for yet
    session.on_open();
    REQUIRE(sent.size() == 1);
    CHECK_FALSE(frame_of(sent[0])["payload"].contains("totp"));
    session.on_frame(json{{"type", "error"}, {"id", "e"}, {"time", format_utc(t0())},
                          {"payload", {{"code", "totp_required"}, {"message", "enter the code from your app"}}}}
                         .dump());
    REQUIRE(rec.asked.size() == 1);
    CHECK(rec.asked[0] == "enter the code from your app");
    CHECK(rec.errors.empty());  // not a failure: a question
    CHECK(session.awaiting_totp());
    REQUIRE(session.submit_totp("123456"));
    REQUIRE(sent.size() == 2);
    CHECK(frame_of(sent[1])["type"] == "login");
    CHECK(frame_of(sent[1])["payload"]["password"] == "pw");
    CHECK(frame_of(sent[1])["payload"]["totp"] == "123456");
    session.on_frame(login_ok("tok"));
    CHECK(session.online());
    // After a drop the token resumes: neither the password nor the used code is sent again.
    session.on_closed();
    sent.clear();
    session.on_open();
    CHECK(frame_of(sent[0])["type"] == "resume");
}

TEST_CASE("the idle lock time comes from the clinic policy at login, else ten minutes", "[clinician][session]") {
    Model model;
    Recorder rec;
    FeedSession session(model, rec, [](std::string) {});
    CHECK(model.policy().idle_lock_minutes == 10);
    session.set_credentials("ames", "pw");
    session.on_open();
    session.on_frame(login_ok("tok"));  // clinic_policy {idle_lock_minutes: 7}
    CHECK(model.policy().idle_lock_minutes == 7);
    Model other;
    FeedSession plain(other, rec, [](std::string) {});
    plain.set_credentials("ames", "pw");
    plain.on_open();
    plain.on_frame(json{{"type", "login_ok"}, {"id", "s"}, {"time", format_utc(t0())},
                        {"payload", {{"session_token", "t"}, {"clinic_policy", {{"session_idle_minutes", 30}}}}}}
                       .dump());
    CHECK(other.policy().idle_lock_minutes == 10);  // the token's idle time is not the lock's
}

TEST_CASE("the session asks for batched frames and applies an events frame as the same events in order",
          "[clinician][session]") {
    struct Case {
        const char* name;
        std::vector<std::size_t> batch_sizes;  // how the clinic log is cut into events frames
    };
    const Case cases[] = {
        {"the whole log in one frame", {7}},
        {"a backlog page then a live pass", {4, 3}},
        {"one event per frame", {1, 1, 1, 1, 1, 1, 1}},
    };
    const auto log = clinic_log();
    Model reference;
    for (const auto& e : log) reference.apply(parse_stored_event(e).value());
    for (const auto& c : cases) {
        SECTION(c.name) {
            Model model;
            Recorder rec;
            std::vector<std::string> sent;
            FeedSession session(model, rec, [&](std::string f) { sent.push_back(std::move(f)); });
            session.set_credentials("ames", "secret");
            session.on_open();
            session.on_frame(login_ok("tok"));
            REQUIRE(sent.size() == 2);
            CHECK(frame_of(sent[1])["type"] == "subscribe");
            CHECK(frame_of(sent[1])["payload"]["batch"] == true);
            std::size_t next = 0;
            for (std::size_t b = 0; b < c.batch_sizes.size(); ++b) {
                json events = json::array();
                for (std::size_t i = 0; i < c.batch_sizes[b]; ++i) events.push_back(log[next++]);
                const auto last_seq = events.back()["seq"];
                session.on_frame(json{{"type", "events"}, {"id", "b" + std::to_string(b)}, {"time", format_utc(t0())},
                                      {"seq", last_seq}, {"payload", {{"events", events}}}}
                                     .dump());
                CHECK(model.cursor() == last_seq.get<std::uint64_t>());
                if (b == 0) session.on_frame(caught_up(last_seq.get<std::uint64_t>()));
            }
            REQUIRE(rec.events.size() == log.size());
            for (std::size_t i = 0; i < log.size(); ++i) CHECK(rec.events[i].first == log[i]["seq"].get<std::uint64_t>());
            CHECK_FALSE(rec.events.front().second);  // the first frame is backlog
            if (c.batch_sizes.size() > 1) CHECK(rec.events.back().second);
            CHECK(model.cursor() == reference.cursor());
            CHECK(model.flag("f1")->notes.size() == reference.flag("f1")->notes.size());
            CHECK(model.flag("f1")->status == reference.flag("f1")->status);
            CHECK(rec.errors.empty());
        }
    }
}

TEST_CASE("an events frame without an events array is reported and changes nothing", "[clinician][session]") {
    Model model;
    Recorder rec;
    FeedSession session(model, rec, [](std::string) {});
    session.on_frame(R"({"type":"events","id":"b","time":"2026-11-26T10:00:00.000Z","payload":{"events":{}}})");
    CHECK(model.cursor() == 0);
    CHECK(rec.errors.size() == 1);
    CHECK(rec.events.empty());
}
