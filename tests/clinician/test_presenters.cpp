#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tandem/clinician/actions.h"
#include "tandem/clinician/auto_lock.h"
#include "tandem/clinician/caseload.h"
#include "tandem/clinician/conversation.h"
#include "tandem/clinician/demo.h"
#include "tandem/clinician/flag_queue.h"
#include "tandem/clinician/notifications.h"
#include "tandem/clinician/pins.h"
#include "tandem/clinician/session.h"
#include "tandem/clinician/severity_style.h"
#include "tandem/clinician/supervisor.h"
#include "test_support.h"

using namespace tandem;
using namespace tandem::clinician;
using namespace tandem::clinician::testing;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

namespace {

ClinicianInfo therapist(const std::string& id) { return ClinicianInfo{id, id, "Dr " + id, {Role::therapist}, true}; }

Model clinic() {
    Model m;
    m.set_self(therapist("t1"));
    std::uint64_t seq = 0;
    m.apply(event(++seq, "clinician_added", "", {{"id", "t1"}, {"display_name", "Dr One"}, {"roles", {"therapist"}}}));
    m.apply(event(++seq, "clinician_added", "", {{"id", "t2"}, {"display_name", "Dr Two"}, {"roles", {"therapist"}}}));
    m.apply(event(++seq, "patient_registered", "p1", patient("p1", "Alex Rivera", "t1")));
    m.apply(event(++seq, "patient_registered", "p2", patient("p2", "Sam Okafor", "t2")));
    m.apply(event(++seq, "patient_registered", "p3", patient("p3", "zoe Brennan", "t1")));
    m.apply(event(++seq, "patient_registered", "p4", patient("p4", "Quinn Haddad", "")));
    m.apply(event(++seq, "message_appended", "p1", message("m1", "p1", "patient", "hi", t0() - minutes{30})));
    m.apply(event(++seq, "message_appended", "p2", message("m2", "p2", "patient", "hi", t0() - minutes{5})));
    m.apply(event(++seq, "flag_opened", "p1", flag("f1", "p1", "moderate", t0(), t0() + minutes{60})));
    m.apply(event(++seq, "flag_opened", "p2", flag("f2", "p2", "high", t0(), t0() + minutes{5})));
    m.apply(event(++seq, "flag_opened", "p2", flag("f3", "p2", "moderate", t0(), t0() + minutes{60})));
    m.apply(event(++seq, "crisis_entered", "p3", {{"patient_id", "p3"}}));
    return m;
}

template <class Edit>
CaseloadFilter with(Edit edit) {
    CaseloadFilter f;
    edit(f);
    return f;
}

AuditFilter audit_filter(std::string patient_id, std::string clinician_id) {
    AuditFilter f;
    f.patient_id = std::move(patient_id);
    f.clinician_id = std::move(clinician_id);
    return f;
}

FlagRow row(const std::string& id, Severity s, TimePoint deadline, FlagStatus status = FlagStatus::open,
            TimePoint opened = t0()) {
    FlagRow r;
    r.flag_id = id;
    r.severity = s;
    r.sla_deadline = deadline;
    r.status = status;
    r.opened_at = opened;
    return r;
}

}  // namespace

TEST_CASE("flag ranking: severity first, then time to SLA deadline, acknowledged last within a level",
          "[clinician][flags]") {
    struct Case {
        const char* name;
        FlagRow first;
        FlagRow second;
    };
    const Case cases[] = {
        {"imminent beats high even with a later deadline", row("a", Severity::imminent, t0() + minutes{30}),
         row("b", Severity::high, t0() + minutes{1})},
        {"same severity: the sooner deadline first", row("a", Severity::high, t0() + minutes{1}),
         row("b", Severity::high, t0() + minutes{4})},
        {"same severity: overdue before in time", row("a", Severity::high, t0() - minutes{2}),
         row("b", Severity::high, t0() + minutes{4})},
        {"same severity: waiting before acknowledged", row("a", Severity::high, t0() + minutes{9}),
         row("b", Severity::high, t0() - minutes{9}, FlagStatus::acknowledged)},
        {"escalated still counts as waiting", row("a", Severity::moderate, t0(), FlagStatus::escalated),
         row("b", Severity::moderate, t0() + minutes{1})},
        {"all equal: the older flag first", row("a", Severity::low, t0(), FlagStatus::open, t0() - minutes{3}),
         row("b", Severity::low, t0(), FlagStatus::open, t0())},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        CHECK(ranks_before(c.first, c.second));
        CHECK_FALSE(ranks_before(c.second, c.first));
    }
}

TEST_CASE("countdown text and overdue state", "[clinician][flags]") {
    struct Case {
        const char* name;
        FlagRow flag;
        TimePoint now;
        const char* text;
        bool overdue;
    };
    const Case cases[] = {
        {"four and a half minutes left", row("a", Severity::high, t0() + seconds{270}), t0(), "4:30 left", false},
        {"a fraction of a second rounds up", row("a", Severity::high, t0() + milliseconds{200}), t0(), "0:01 left", false},
        {"exactly at the deadline is overdue", row("a", Severity::high, t0()), t0(), "OVERDUE 0:00", true},
        {"65 seconds late", row("a", Severity::high, t0() - seconds{65}), t0(), "OVERDUE 1:05", true},
        {"hours are spelled out", row("a", Severity::moderate, t0() + minutes{125}), t0(), "2 h 05 min left", false},
        {"acknowledged has no countdown", row("a", Severity::high, t0() - minutes{9}, FlagStatus::acknowledged), t0(),
         "acknowledged", false},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const auto cd = countdown(c.flag, c.now);
        CHECK(cd.text == c.text);
        CHECK(cd.overdue == c.overdue);
    }
}

TEST_CASE("flag queue lists unresolved flags ranked, and next/previous walk it from the top", "[clinician][flags]") {
    auto model = clinic();
    model.apply(event(100, "flag_resolved", "p1", {{"flag_id", "f1"}, {"resolution", {{"risk_real", false}, {"note", "n"}}}}));
    FlagQueuePresenter q;
    q.refresh(model);
    REQUIRE(q.size() == 2);
    CHECK(q.row(0).flag_id == "f2");
    CHECK(q.row(1).flag_id == "f3");
    CHECK(q.next(FlagQueuePresenter::npos) == 0);
    CHECK(q.next(0) == 1);
    CHECK(q.next(1) == 1);
    CHECK(q.previous(1) == 0);
    CHECK(q.previous(0) == 0);
    CHECK(q.overdue_count(t0() + minutes{6}) == 1);
    CHECK(q.cell(0, 0, t0()).find("High") != std::string::npos);
    FlagQueuePresenter empty;
    CHECK(empty.next(FlagQueuePresenter::npos) == FlagQueuePresenter::npos);
}

TEST_CASE("every severity has its own icon and label, so colour never carries it alone", "[clinician][style]") {
    const Severity all[] = {Severity::none, Severity::low, Severity::moderate, Severity::high, Severity::imminent};
    for (auto a : all) {
        for (auto b : all) {
            if (a == b) continue;
            CHECK(severity_style(a).icon != severity_style(b).icon);
            CHECK(severity_style(a).label != severity_style(b).label);
        }
    }
}

TEST_CASE("caseload sorts by urgency: crisis, then highest open severity, then flag count", "[clinician][caseload]") {
    auto model = clinic();
    CaseloadPresenter c;
    c.refresh(model);
    REQUIRE(c.size() == 4);
    CHECK(c.row(0).patient_id == "p3");  // crisis
    CHECK(c.row(1).patient_id == "p2");  // high, two flags
    CHECK(c.row(1).open_flags == 2);
    CHECK(c.row(1).highest_open == Severity::high);
    CHECK(c.row(2).patient_id == "p1");
    CHECK(c.cell(1, 0, t0()).find("High") != std::string::npos);
    CHECK(c.cell(0, 2, t0()).find("CRISIS") != std::string::npos);
    CHECK(c.cell(3, 5, t0()) == "(unassigned)");
    CHECK(c.cell(1, 4, t0()) == "5 min ago");
}

TEST_CASE("caseload filtering and search", "[clinician][caseload]") {
    auto model = clinic();
    struct Case {
        const char* name;
        CaseloadFilter filter;
        std::vector<std::string> expected;  // sorted by name ascending
    };
    const Case cases[] = {
        {"search is case-insensitive on the name", with([](auto& f) { f.search = "ZOE"; }), {"p3"}},
        {"search matches the id", with([](auto& f) { f.search = "p4"; }), {"p4"}},
        {"crisis only", with([](auto& f) { f.crisis_only = true; }), {"p3"}},
        {"with open flags", with([](auto& f) { f.with_open_flags_only = true; }), {"p1", "p2"}},
        {"at least high", with([](auto& f) { f.min_severity = Severity::high; }), {"p2"}},
        {"one therapist", with([](auto& f) { f.therapist_id = "t2"; }), {"p2"}},
        {"unassigned", with([](auto& f) { f.therapist_id = "-"; }), {"p4"}},
        {"mine", with([](auto& f) { f.mine_only = true; }), {"p1", "p3"}},
    };
    for (const auto& k : cases) {
        INFO(k.name);
        CaseloadPresenter c;
        c.set_filter(k.filter);
        c.set_sort(CaseloadSort::name, false);
        c.refresh(model);
        std::vector<std::string> got;
        for (std::size_t i = 0; i < c.size(); ++i) got.push_back(c.row(i).patient_id);
        std::sort(got.begin(), got.end());
        CHECK(got == k.expected);
    }
}

TEST_CASE("caseload sorts by name both ways and by last activity", "[clinician][caseload]") {
    auto model = clinic();
    CaseloadPresenter c;
    c.set_sort(CaseloadSort::name, false);
    c.refresh(model);
    CHECK(c.row(0).name == "Alex Rivera");
    CHECK(c.row(3).name == "zoe Brennan");
    c.set_sort(CaseloadSort::name, true);
    c.refresh(model);
    CHECK(c.row(0).name == "zoe Brennan");
    c.set_sort(CaseloadSort::last_activity, true);
    c.refresh(model);
    CHECK(c.index_of("p2") < c.index_of("p1"));
}

TEST_CASE("evidence spans are clamped, widened to whole characters and merged", "[clinician][conversation]") {
    const std::string text = "caf\xC3\xA9 plan now";  // "café plan now": é is two bytes
    struct Case {
        const char* name;
        std::vector<EvidenceSpan> spans;
        std::vector<std::pair<std::size_t, std::size_t>> bytes;
        std::vector<std::pair<std::size_t, std::size_t>> code_points;
    };
    const Case cases[] = {
        {"a span inside a two-byte character widens to it", {{4, 5, "r", "x"}}, {{3, 5}}, {{3, 4}}},
        {"code points count characters, not bytes", {{6, 10, "r", "x"}}, {{6, 10}}, {{5, 9}}},
        {"past the end is clamped", {{11, 99, "r", "x"}}, {{11, 14}}, {{10, 13}}},
        {"empty and inverted spans are dropped", {{5, 5, "r", "x"}, {9, 2, "r", "y"}}, {}, {}},
        {"overlaps merge", {{6, 9, "a", "one"}, {8, 10, "b", "two"}}, {{6, 10}}, {{5, 9}}},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const auto hs = highlights_for(text, c.spans);
        std::vector<std::pair<std::size_t, std::size_t>> bytes, cps;
        for (const auto& h : hs) {
            bytes.emplace_back(h.begin, h.end);
            cps.emplace_back(h.cp_begin, h.cp_end);
        }
        CHECK(bytes == c.bytes);
        CHECK(cps == c.code_points);
    }
    const auto merged = highlights_for(text, {{6, 9, "a", "one"}, {8, 10, "b", "two"}});
    CHECK(merged.at(0).rationale == "one; two");
}

TEST_CASE("held AI reply is kept apart from the transcript until released", "[clinician][conversation]") {
    auto model = clinic();
    model.apply(event(200, "message_appended", "p1", message("h1", "p1", "ai", "draft", t0(), "held")));
    model.apply(event(201, "message_appended", "p1", message("c1", "p1", "clinician", "hello", t0() + seconds{1})));
    ConversationPresenter conv;
    conv.open("p1");
    auto lines = conv.lines(model);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].sender_label == "Patient");
    CHECK(lines[1].sender == Sender::clinician);
    REQUIRE(conv.held(model).size() == 1);
    CHECK(conv.held(model)[0].message_id == "h1");
    model.apply(event(202, "message_state_changed", "p1", {{"message_id", "h1"}, {"state", "delivered"}}));
    CHECK(conv.held(model).empty());
    CHECK(conv.lines(model).size() == 3);
}

TEST_CASE("flag detail shows the turns around the evidence", "[clinician][conversation]") {
    Model model;
    std::uint64_t seq = 0;
    model.apply(event(++seq, "patient_registered", "p1", patient("p1", "A", "t1")));
    for (int i = 0; i < 10; ++i) {
        model.apply(event(++seq, "message_appended", "p1",
                          message("m" + std::to_string(i), "p1", i % 2 ? "ai" : "patient", "turn", t0() + seconds{i})));
    }
    model.apply(event(++seq, "flag_opened", "p1", flag("f", "p1", "high", t0(), t0() + minutes{5}, "m4")));
    model.apply(event(++seq, "flag_annotated", "p1", {{"flag_id", "f"}, {"note", "called"}}, t0(), "t1"));
    const auto d = flag_detail(model, "f", 3, 2);
    REQUIRE(d.has_value());
    REQUIRE(d->context.size() == 6);
    CHECK(d->context.front().message_id == "m1");
    CHECK(d->context[d->evidence_index].message_id == "m4");
    CHECK(d->context.back().message_id == "m6");
    CHECK(d->notes.size() == 1);
    const auto edge = flag_detail(model, "f", 10, 10);
    CHECK(edge->context.size() == 10);
    CHECK_FALSE(flag_detail(model, "missing").has_value());
}

TEST_CASE("actions become protocol frames with client ids and required notes", "[clinician][actions]") {
    const auto ack = actions::flag_acknowledge("f1");
    const auto frame = json::parse(ack.to_frame("env-1", t0()));
    CHECK(frame["type"] == "action");
    CHECK(frame["id"] == "env-1");
    CHECK(frame["payload"]["kind"] == "flag_acknowledge");
    CHECK(frame["payload"]["flag_id"] == "f1");
    CHECK(frame["payload"]["action_id"] == ack.action_id);
    CHECK(ack.action_id.size() == 36);
    CHECK(actions::flag_acknowledge("f1").action_id != ack.action_id);

    CHECK_FALSE(actions::crisis_clear("p1", "  ").has_value());
    CHECK(actions::crisis_clear("p1", "  ").error().field == "note");
    CHECK(actions::crisis_clear("p1", "spoke with patient")->fields["note"] == "spoke with patient");
    CHECK_FALSE(actions::flag_resolve("f1", true, "").has_value());
    CHECK(actions::flag_resolve("f1", false, "false alarm")->fields["risk_real"] == false);
    CHECK_FALSE(actions::send_message("p1", "").has_value());
    CHECK_FALSE(actions::held_edit_send("m1", "\n").has_value());
    CHECK(actions::held_discard("m1", "").fields.contains("note") == false);
}

TEST_CASE("permission-driven enabling of actions", "[clinician][actions]") {
    auto model = clinic();
    struct Case {
        const char* name;
        std::vector<Role> roles;
        bool online;
        const char* patient;
        bool enabled;
        const char* reason;
    };
    const Case cases[] = {
        {"therapist on an assigned patient", {Role::therapist}, true, "p1", true, ""},
        {"therapist on another's patient", {Role::therapist}, true, "p2", false, "Not assigned to you"},
        {"offline disables everything", {Role::therapist}, false, "p1", false, "Offline: actions need the bridge"},
        {"supervisor on any patient", {Role::supervisor}, true, "p2", true, ""},
        {"admin alone cannot act", {Role::admin}, true, "p1", false, "Admins do not act on patients"},
        {"no patient selected", {Role::therapist}, true, "", false, "No patient selected"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        model.set_self(ClinicianInfo{"t1", "t1", "Dr One", c.roles, true});
        const auto a = availability(model, c.online, c.patient);
        CHECK(a.enabled == c.enabled);
        CHECK(a.reason == c.reason);
    }
}

TEST_CASE("supervisor stats: open and overdue per therapist, median and p90 time to acknowledge",
          "[clinician][supervisor]") {
    auto model = clinic();
    // p2 (t2): f2 acknowledged after 60 s, f3 after 240 s.
    model.apply(event(100, "flag_acknowledged", "p2", {{"flag_id", "f2"}}, t0() + seconds{60}, "t2"));
    model.apply(event(101, "flag_acknowledged", "p2", {{"flag_id", "f3"}}, t0() + seconds{240}, "t2"));
    const auto stats = therapist_stats(model, t0() + minutes{61});
    const auto find = [&](const std::string& id) {
        return *std::find_if(stats.begin(), stats.end(), [&](const TherapistStats& s) { return s.therapist_id == id; });
    };
    const auto t1 = find("t1");
    CHECK(t1.patients == 2);
    CHECK(t1.open_flags == 1);
    CHECK(t1.overdue_flags == 1);
    CHECK_FALSE(t1.median_to_ack.has_value());
    const auto t2 = find("t2");
    CHECK(t2.overdue_flags == 0);
    CHECK(t2.median_to_ack == milliseconds{60'000});
    CHECK(t2.p90_to_ack == milliseconds{240'000});
    CHECK(stats.back().therapist_id == "*");
    CHECK(stats.back().open_flags == 3);
    CHECK(stats.front().therapist_id == "t1");  // the most overdue first
}

TEST_CASE("nearest-rank percentiles", "[clinician][supervisor]") {
    std::vector<milliseconds> ten;
    for (int i = 1; i <= 10; ++i) ten.push_back(milliseconds{i});
    CHECK(percentile(ten, 50) == milliseconds{5});
    CHECK(percentile(ten, 90) == milliseconds{9});
    CHECK(percentile(ten, 100) == milliseconds{10});
    CHECK(percentile({milliseconds{7}}, 90) == milliseconds{7});
    CHECK_FALSE(percentile({}, 50).has_value());
}

TEST_CASE("audit trail lists clinicians' reads and actions, filtered, newest first", "[clinician][supervisor]") {
    auto model = clinic();
    model.apply(event(100, "transcript_viewed", "p1", {{"patient_id", "p1"}}, t0(), "t1"));
    model.apply(event(101, "flag_acknowledged", "p2", {{"flag_id", "f2"}}, t0(), "t2"));
    model.apply(event(102, "transcript_viewed", "p2", {{"patient_id", "p2"}}, t0(), "t1"));
    const auto all = audit_trail(model, AuditFilter{});
    REQUIRE(all.size() == 3);
    CHECK(all[0].seq == 102);
    CHECK(audit_trail(model, audit_filter("p2", "")).size() == 2);
    CHECK(audit_trail(model, audit_filter("", "t1")).size() == 2);
    CHECK(audit_trail(model, audit_filter("p2", "t2")).size() == 1);
}

TEST_CASE("audit trail names a clinician_action by its verb (an exported report shows as report_exported)",
          "[clinician][supervisor]") {
    auto model = clinic();
    model.apply(event(100, "clinician_action", "p1",
                      {{"action", "report_exported"}, {"patient_id", "p1"}, {"format", "pdf"}}, t0(), "t1"));
    model.apply(event(101, "clinician_action", "p1", {{"patient_id", "p1"}}, t0(), "t1"));  // no verb given
    const auto all = audit_trail(model, AuditFilter{});
    REQUIRE(all.size() == 2);
    CHECK(all[0].type == "clinician_action");
    CHECK(all[1].type == "report_exported");
}

TEST_CASE("auto-lock locks after the idle time and unlocks only with the password", "[clinician][lock]") {
    AutoLock lock;  // default 10 minutes
    CHECK(lock.idle() == minutes{10});
    lock.activity(t0());
    CHECK_FALSE(lock.tick(t0() + minutes{9}));
    lock.activity(t0() + minutes{9});
    CHECK_FALSE(lock.tick(t0() + minutes{18}));
    CHECK(lock.remaining(t0() + minutes{18}) == minutes{1});
    CHECK(lock.tick(t0() + minutes{19}));
    CHECK(lock.locked());
    CHECK_FALSE(lock.tick(t0() + minutes{20}));  // reports the lock once
    lock.activity(t0() + minutes{20});            // input while locked does not count
    PasswordVerifier verifier;
    CHECK_FALSE(verifier.verify("anything"));
    verifier.set("correct horse");
    CHECK_FALSE(lock.unlock(verifier, "wrong", t0() + minutes{21}));
    CHECK(lock.locked());
    CHECK(lock.unlock(verifier, "correct horse", t0() + minutes{21}));
    CHECK_FALSE(lock.tick(t0() + minutes{30}));
    lock.set_idle(minutes{0});
    CHECK(lock.idle() == minutes{1});
}

TEST_CASE("notifications: new high or imminent flags while live, once, without names or text",
          "[clinician][notify]") {
    auto model = clinic();
    NotificationPolicy policy;
    auto apply = [&](const StoredEvent& e, bool live) {
        model.apply(e);
        return policy.on_event(model, e, live, t0());
    };
    // Backlog: silent until caught up, then one summary.
    CHECK_FALSE(apply(event(300, "flag_opened", "p1", flag("u1", "p1", "imminent", t0(), t0() + minutes{5})), false));
    const auto summary = policy.on_caught_up(model);
    REQUIRE(summary.has_value());
    CHECK(summary->title == "1 urgent flag waiting");
    CHECK_FALSE(policy.on_caught_up(model).has_value());
    // Live: high on my patient notifies; moderate does not; another therapist's patient does not.
    const auto n = apply(event(301, "flag_opened", "p1", flag("u2", "p1", "high", t0(), t0() + minutes{5})), true);
    REQUIRE(n.has_value());
    CHECK(n->title == "High risk flag");
    CHECK(n->body == "Patient A. R. needs review (SLA 5:00)");
    CHECK(n->body.find("Alex") == std::string::npos);
    CHECK_FALSE(apply(event(302, "flag_opened", "p1", flag("u3", "p1", "moderate", t0(), t0() + minutes{60})), true));
    CHECK_FALSE(apply(event(303, "flag_opened", "p2", flag("u4", "p2", "imminent", t0(), t0() + minutes{5})), true));
    CHECK(policy.badge_count(model) == 2);  // u1, u2 (f2 and u4 belong to t2)
    CHECK(policy.window_title(model) == "Tandem Clinician (2)");
}

TEST_CASE("initials keep whole UTF-8 characters", "[clinician][notify]") {
    CHECK(initials("Alex Rivera") == "A. R.");
    CHECK(initials("\xC3\x89mile Zo\xC3\xAB") == "\xC3\x89. Z.");
    CHECK(initials("") == "?");
}

TEST_CASE("certificate pins: trust on first use, refuse a changed certificate, survive a reload",
          "[clinician][pins]") {
    const std::string a(64, 'a');
    const std::string b(64, 'b');
    const std::string c(64, 'c');
    CHECK(check_pin("", a) == PinVerdict::first_contact);
    CHECK(check_pin(a, std::string(64, 'A')) == PinVerdict::trusted);
    CHECK(check_pin(a, b) == PinVerdict::changed);
    // A renewed certificate the administrator vouched for (--fingerprint) replaces the pin; one
    // the administrator did not name is still refused, and a vouch never overrides a match.
    CHECK(check_pin(a, b, std::string(64, 'B')) == PinVerdict::changed_as_vouched);
    CHECK(check_pin(a, b, c) == PinVerdict::changed);
    CHECK(check_pin(a, a, c) == PinVerdict::trusted);
    CHECK(check_pin("", b, b) == PinVerdict::first_contact);
    CHECK(format_fingerprint("0a1b2c") == "0A:1B:2C");
    // As an administrator hands it over (openssl's colon form), plain, or mistyped.
    CHECK(normalise_fingerprint(format_fingerprint(a)) == a);
    CHECK(normalise_fingerprint(std::string(64, 'A')) == std::string(64, 'a'));
    CHECK(normalise_fingerprint("AB:CD").empty());
    CHECK(normalise_fingerprint(std::string(63, 'a') + "g").empty());

    const auto dir = std::filesystem::temp_directory_path() / ("tandem-pins-" + new_uuid());
    const auto file = dir / "servers";
    {
        PinStore store(file);
        REQUIRE(store.load().has_value());
        store.pin("bridge.example:8443", a);
        store.set_last_server("bridge.example:8443");
        REQUIRE(store.save().has_value());
    }
    PinStore reloaded(file);
    REQUIRE(reloaded.load().has_value());
    CHECK(reloaded.pinned("bridge.example:8443") == a);
    CHECK(reloaded.last_server() == "bridge.example:8443");
    CHECK((std::filesystem::status(file).permissions() & std::filesystem::perms::group_read) == std::filesystem::perms::none);
    std::ofstream(file, std::ios::app) << "garbage line\n";
    CHECK_FALSE(reloaded.load().has_value());
    std::filesystem::remove_all(dir);
}

TEST_CASE("reconnect backoff doubles to a ceiling and resets", "[clinician][session]") {
    Backoff b(milliseconds{500}, seconds{4});
    CHECK(b.next(0.5) == milliseconds{500});
    CHECK(b.next(0.5) == milliseconds{1000});
    CHECK(b.next(0.0) == milliseconds{1500});  // 2000 * 0.75
    CHECK(b.next(0.5) == milliseconds{4000});
    CHECK(b.next(0.5) == milliseconds{4000});
    b.reset();
    CHECK(b.next(0.5) == milliseconds{500});
    CHECK(status_text(SessionState::offline, milliseconds{3200}) == "Offline \u2014 reconnecting in 4 s");
}

TEST_CASE("wire times parse and print back exactly", "[clinician][time]") {
    const auto t = parse_utc("2026-11-26T03:06:19.123Z");
    REQUIRE(t.has_value());
    CHECK(format_utc(*t) == "2026-11-26T03:06:19.123Z");
    CHECK(parse_utc("2026-11-26T03:06:19Z").has_value());
    CHECK_FALSE(parse_utc("2026-02-30T03:06:19Z").has_value());
    CHECK_FALSE(parse_utc("2026-11-26 03:06:19Z").has_value());
    CHECK_FALSE(parse_utc("2026-11-26T03:06:19.12Z").has_value());
}

TEST_CASE("the demo clinic replays through the model with flags, a crisis and a held reply", "[clinician][demo]") {
    Model model;
    model.set_self(demo_self());
    for (const auto& e : demo_events(t0())) REQUIRE(model.apply(e) != ApplyOutcome::malformed);
    FlagQueuePresenter q;
    q.refresh(model);
    REQUIRE(q.size() > 3);
    CHECK(q.row(0).severity == Severity::imminent);
    ConversationPresenter conv;
    conv.open("demo-p101");
    CHECK(conv.held(model).size() == 1);
    for (const auto& e : demo_live_flag(t0(), model.cursor(), 1)) CHECK(model.apply(e) == ApplyOutcome::applied);
}
