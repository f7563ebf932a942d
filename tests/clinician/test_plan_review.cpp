// Treatment plan review without a display: the plan history rebuilt from events, the
// field-by-field comparison, the action payloads (checked against the wire schema) and who may
// press which button.
#include <catch2/catch_test_macros.hpp>

#include <nlohmann/json.hpp>

#include "tandem/clinician/plan_diff.h"
#include "tandem/clinician/plan_history.h"
#include "tandem/clinician/plan_review.h"
#include "tandem/schema/schema_registry.h"
#include "test_support.h"

using namespace tandem;
using namespace tandem::clinician;
using namespace tandem::clinician::testing;
using nlohmann::json;
using std::chrono::minutes;

namespace {

PlanContent sample_content() {
    PlanContent c;
    c.list(PlanList::presenting_problems) = {"low mood", "poor sleep"};
    c.list(PlanList::conditions) = {"depression"};
    c.goals = {{"Walk three times a week", "walks logged per week", "2026-12-31"},
               {"Sleep by 23:00", "nights per week", "2027-01-15"}};
    c.interventions = {{"behavioural activation", "suggest one small pleasant activity each day"},
                       {"cognitive restructuring", "help notice and test one unhelpful thought"}};
    c.list(PlanList::homework) = {"activity diary"};
    c.checkin_cadence = "daily";
    c.assessment_schedule = {{"phq9", 0}, {"phq9", 4}, {"gad7", 0}};
    c.list(PlanList::warning_signs) = {"staying in bed all day"};
    c.list(PlanList::internal_coping) = {"short walk"};
    c.list(PlanList::distraction_people_places) = {"library"};
    c.list(PlanList::people_to_ask) = {"sister"};
    c.list(PlanList::professionals_and_crisis_lines) = {"988 Suicide and Crisis Lifeline"};
    c.list(PlanList::environment_safety) = {"keep medicines locked away"};
    c.tone = "warm and brief";
    c.list(PlanList::avoid_topics) = {"weight"};
    c.list(PlanList::escalate_when) = {"any mention of self-harm"};
    return c;
}

// A TreatmentPlan record as the bridge stores it.
json plan_record(const std::string& id, const std::string& patient_id, int version, const std::string& status,
                 const PlanContent& content, const std::string& proposer = "") {
    json p = plan_content_json(content);
    p["id"] = id;
    p["patient_id"] = patient_id;
    p["version"] = version;
    p["status"] = status;
    p["proposer"] = proposer.empty() ? json{{"kind", "ai"}} : json{{"kind", "clinician"}, {"clinician_id", proposer}};
    p["created_at"] = format_utc(t0() + minutes{version});
    if (status == "approved" || status == "rejected") {
        p["approver_id"] = "t1";
        p["decided_at"] = format_utc(t0() + minutes{version + 1});
    }
    return p;
}

ClinicianInfo someone(const std::string& id, std::vector<Role> roles) {
    return ClinicianInfo{id, id, "Dr " + id, std::move(roles), true};
}

// p1 is t1's patient, p2 is t2's; v1 approved, v2 proposed for p1.
Model clinic_with_plans(ClinicianInfo self) {
    Model m;
    m.set_self(std::move(self));
    std::uint64_t seq = 0;
    m.apply(event(++seq, "clinician_added", "", {{"id", "t1"}, {"display_name", "Dr One"}, {"roles", {"therapist"}}}));
    m.apply(event(++seq, "patient_registered", "p1", patient("p1", "Alex Rivera", "t1")));
    m.apply(event(++seq, "patient_registered", "p2", patient("p2", "Sam Okafor", "t2")));
    PlanContent proposal = sample_content();
    proposal.goals[0].target_date = "2027-01-31";
    proposal.list(PlanList::homework).push_back("thought record");
    m.apply(event(++seq, "plan_proposed", "p1", plan_record("plan1", "p1", 1, "proposed", sample_content())));
    m.apply(event(++seq, "plan_approved", "p1",
                  {{"plan_id", "plan1"}, {"approver_id", "t1"}, {"decided_at", format_utc(t0() + minutes{2})}},
                  t0() + minutes{2}, "t1"));
    m.apply(event(++seq, "plan_proposed", "p1", plan_record("plan2", "p1", 2, "proposed", proposal)));
    return m;
}

struct Counts {
    int same = 0, added = 0, removed = 0, changed = 0;
};
Counts count(const std::vector<PlanDiffRow>& rows) {
    Counts c;
    for (const auto& r : rows) {
        switch (r.kind) {
            case DiffKind::same: ++c.same; break;
            case DiffKind::added: ++c.added; break;
            case DiffKind::removed: ++c.removed; break;
            case DiffKind::changed: ++c.changed; break;
        }
    }
    return c;
}

const PlanDiffRow* row_in(const std::vector<PlanDiffRow>& rows, const std::string& section, DiffKind kind) {
    for (const auto& r : rows) {
        if (r.section == section && r.kind == kind) return &r;
    }
    return nullptr;
}

// The action frame's payload, as the bridge validates it.
json payload_of(const ActionRequest& a) { return json::parse(a.to_frame("env-1", t0()))["payload"]; }

}  // namespace

TEST_CASE("plan diff: each kind of edit is marked on the right field", "[clinician][plans]") {
    struct Case {
        const char* name;
        void (*edit)(PlanContent&);
        const char* section;
        DiffKind kind;
        const char* detail;
    };
    const Case cases[] = {
        {"a list item added", [](PlanContent& c) { c.list(PlanList::homework).push_back("thought record"); },
         "Homework", DiffKind::added, ""},
        {"a list item removed", [](PlanContent& c) { c.list(PlanList::conditions).clear(); }, "Conditions",
         DiffKind::removed, ""},
        {"a goal's target date moved", [](PlanContent& c) { c.goals[1].target_date = "2027-02-01"; }, "Goals",
         DiffKind::changed, "target date"},
        {"a goal reworded", [](PlanContent& c) { c.goals[0].description = "Walk four times a week"; }, "Goals",
         DiffKind::changed, "description"},
        {"a goal's measure and date", [](PlanContent& c) { c.goals[0].measure = "steps"; c.goals[0].target_date = "2027-03-01"; },
         "Goals", DiffKind::changed, "measure, target date"},
        {"an intervention's instructions", [](PlanContent& c) { c.interventions[1].how_ai_uses_it = "one thought a week"; },
         "Interventions", DiffKind::changed, "how the AI uses it"},
        {"a questionnaire added", [](PlanContent& c) { c.assessment_schedule.push_back({"gad7", 8}); },
         "Assessment schedule", DiffKind::added, ""},
        {"the check-in cadence", [](PlanContent& c) { c.checkin_cadence = "twice weekly"; }, "Check-in cadence",
         DiffKind::changed, ""},
        {"a safety-plan list", [](PlanContent& c) { c.list(PlanList::people_to_ask).push_back("GP"); },
         "Safety plan: people to ask for help", DiffKind::added, ""},
        {"the crisis lines", [](PlanContent& c) { c.list(PlanList::professionals_and_crisis_lines).clear(); },
         "Safety plan: professionals and crisis lines", DiffKind::removed, ""},
        {"the AI's tone", [](PlanContent& c) { c.tone = "gentle, plain words"; }, "AI guidance: tone",
         DiffKind::changed, ""},
        {"a topic to avoid", [](PlanContent& c) { c.list(PlanList::avoid_topics).push_back("calories"); },
         "AI guidance: topics to avoid", DiffKind::added, ""},
        {"an escalation rule removed", [](PlanContent& c) { c.list(PlanList::escalate_when).clear(); },
         "AI guidance: escalate when", DiffKind::removed, ""},
    };
    const PlanContent active = sample_content();
    for (const auto& c : cases) {
        INFO(c.name);
        PlanContent proposal = active;
        c.edit(proposal);
        const auto rows = diff_plans(&active, proposal);
        const PlanDiffRow* hit = row_in(rows, c.section, c.kind);
        REQUIRE(hit != nullptr);
        CHECK(hit->detail == c.detail);
        const Counts n = count(rows);
        CHECK(n.added + n.removed + n.changed == 1);  // nothing else reads as different
    }
}

TEST_CASE("plan diff: identical plans differ nowhere, reordering and spaces are not changes", "[clinician][plans]") {
    const PlanContent active = sample_content();
    PlanContent proposal = active;
    std::swap(proposal.goals[0], proposal.goals[1]);
    std::swap(proposal.list(PlanList::presenting_problems)[0], proposal.list(PlanList::presenting_problems)[1]);
    proposal.list(PlanList::homework)[0] = "  activity diary ";
    const Counts n = count(diff_plans(&active, proposal));
    CHECK(n.added + n.removed + n.changed == 0);
    CHECK(n.same > 10);
}

TEST_CASE("plan diff: with no approved plan every entry of the proposal is added", "[clinician][plans]") {
    const auto rows = diff_plans(nullptr, sample_content());
    const Counts n = count(rows);
    CHECK(n.same == 0);
    CHECK(n.removed == 0);
    CHECK(n.changed == 0);
    CHECK(n.added == static_cast<int>(rows.size()));
    CHECK(row_in(rows, "AI guidance: tone", DiffKind::added)->proposal == "warm and brief");
    CHECK(diff_marker(DiffKind::added) == "+ added");  // a text marker beside the colour
    CHECK_FALSE(diff_marker(DiffKind::removed).empty());
    CHECK_FALSE(diff_marker(DiffKind::changed).empty());
}

TEST_CASE("plan history: versions in order from events, approval supersedes the previous plan", "[clinician][plans]") {
    Model m = clinic_with_plans(someone("t1", {Role::therapist}));
    std::uint64_t seq = m.cursor();
    const auto& book = m.plans();
    REQUIRE(book.history("p1").size() == 2);
    CHECK(book.active("p1")->version == 1);
    CHECK(book.awaiting_review("p1")->version == 2);
    CHECK(plan_badge(m, "p1") == "\u25cf plan to review");
    CHECK(plan_badge(m, "p2").empty());

    // approve_with_changes as the bridge records it: the new version 3 (proposed, then approved),
    // then the proposal's rejection; events may name versions out of order.
    PlanContent edited = book.awaiting_review("p1")->content;
    edited.tone = "gentle";
    json v3 = plan_record("plan3", "p1", 3, "proposed", edited, "t1");
    v3["based_on_version"] = 2;
    m.apply(event(++seq, "plan_proposed", "p1", v3, t0() + minutes{10}, "t1"));
    m.apply(event(++seq, "plan_approved", "p1", {{"plan_id", "plan3"}, {"approver_id", "t1"}}, t0() + minutes{10}, "t1"));
    m.apply(event(++seq, "plan_rejected", "p1",
                  {{"plan_id", "plan2"}, {"approver_id", "t1"}, {"reason", "superseded by version 3 with changes"}},
                  t0() + minutes{10}, "t1"));
    const auto h = book.history("p1");
    REQUIRE(h.size() == 3);
    CHECK(h[0]->version == 1);
    CHECK(h[0]->status == PlanState::superseded);
    CHECK(h[1]->status == PlanState::rejected);
    CHECK(h[1]->reason == "superseded by version 3 with changes");
    CHECK(h[2]->status == PlanState::approved);
    CHECK(h[2]->based_on_version == 2);
    CHECK(h[2]->decided_at == t0() + minutes{10});  // from the event's time when the payload has none
    CHECK(book.active("p1")->id == "plan3");
    CHECK(book.awaiting_review("p1") == nullptr);
    CHECK(plan_badge(m, "p1").empty());

    const auto rows = plan_history_rows(m, "p1");  // newest first, names resolved
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].version == 3);
    CHECK(rows[0].status == "approved (active)");
    CHECK(rows[0].proposer == "Dr t1");  // self's own name wins
    CHECK(rows[0].based_on == "v2");
    CHECK(rows[1].status == "rejected");
    CHECK(rows[2].proposer == "AI");
    CHECK(rows[2].approver == "Dr t1");
    CHECK(rows[2].status == "superseded");
}

TEST_CASE("plan history: a plans reply replaces what the feed said; a failed proposal is remembered", "[clinician][plans]") {
    Model m = clinic_with_plans(someone("t1", {Role::therapist}));
    std::vector<PlanVersion> fetched;
    for (int v : {3, 1}) {
        fetched.push_back(parse_plan(plan_record("x" + std::to_string(v), "p1", v, v == 3 ? "approved" : "superseded",
                                                 sample_content()))
                              .value());
    }
    m.plans().replace("p1", fetched);
    const auto h = m.plans().history("p1");
    REQUIRE(h.size() == 2);
    CHECK(h[0]->version == 1);
    CHECK(h[1]->version == 3);
    CHECK(m.plans().find("plan2") == nullptr);
    CHECK(m.plans().active("p1")->id == "x3");

    std::uint64_t seq = m.cursor();
    CHECK(m.apply(event(++seq, "llm_failed", "p1", {{"purpose", "plan_proposal"}, {"reason", "invalid JSON twice"}},
                        t0() + minutes{30})) == ApplyOutcome::applied);
    REQUIRE(m.plans().last_failure("p1"));
    CHECK(m.plans().last_failure("p1")->reason == "invalid JSON twice");
    CHECK(m.apply(event(++seq, "llm_failed", "p1", {{"purpose", "chat"}})) == ApplyOutcome::ignored);
    CHECK(m.apply(event(++seq, "plan_approved", "p1", {{"plan_id", "unknown"}})) == ApplyOutcome::ignored);
}

TEST_CASE("plan payloads: each action carries the contract's fields and passes the wire schema", "[clinician][plans]") {
    Model m = clinic_with_plans(someone("t1", {Role::therapist}));
    const PlanVersion& proposal = *m.plans().awaiting_review("p1");
    PlanContent edited = proposal.content;
    edited.goals[0].description = "Walk four times a week";
    edited.tone = "gentle, plain words";

    struct Case {
        const char* name;
        Result<ActionRequest> request;
        json expected;  // fields that must be there with these values
    };
    const Case cases[] = {
        {"request", actions::plan_request("p1"), {{"kind", "plan_request"}, {"patient_id", "p1"}}},
        {"approve", actions::plan_approve(proposal), {{"kind", "plan_decide"}, {"plan_id", "plan2"}, {"decision", "approve"}}},
        {"approve with changes", actions::plan_approve_with_changes(proposal, edited, " tidied "),
         {{"kind", "plan_decide"}, {"plan_id", "plan2"}, {"decision", "approve_with_changes"}, {"reason", "tidied"}}},
        {"reject", actions::plan_reject(proposal, "too vague"),
         {{"kind", "plan_decide"}, {"decision", "reject"}, {"reason", "too vague"}}},
        {"write and approve", actions::plan_write("p1", edited, true, "my plan"),
         {{"kind", "plan_write"}, {"patient_id", "p1"}, {"approve", true}, {"reason", "my plan"}}},
        {"write as a draft", actions::plan_write("p1", edited, false), {{"kind", "plan_write"}, {"approve", false}}},
        {"restore", actions::plan_restore(*m.plans().active("p1"), "back to v1"),
         {{"kind", "plan_restore"}, {"plan_id", "plan1"}, {"reason", "back to v1"}}},
    };
    const auto& schemas = SchemaRegistry::builtin();
    for (const auto& c : cases) {
        INFO(c.name);
        REQUIRE(c.request);
        const json payload = payload_of(*c.request);
        for (const auto& [key, value] : c.expected.items()) CHECK(payload.at(key) == value);
        CHECK_FALSE(payload.value("action_id", std::string{}).empty());
        const auto valid = schemas.validate("wire/action", payload);
        CHECK(valid.has_value());
        if (!valid) UNSCOPED_INFO(valid.error().field + ": " + valid.error().message);
        if (payload.contains("plan")) {
            // The plan object is the record's content: no identity, status or proposer, and the
            // whole record built around it passes the record schema.
            CHECK_FALSE(payload["plan"].contains("id"));
            CHECK_FALSE(payload["plan"].contains("status"));
            json record = payload["plan"];
            record.update(json{{"id", "n"}, {"patient_id", "p1"}, {"version", 9}, {"status", "proposed"},
                               {"proposer", {{"kind", "clinician"}, {"clinician_id", "t1"}}},
                               {"created_at", format_utc(t0())}});
            CHECK(schemas.validate("records/treatment_plan", record).has_value());
            CHECK(parse_plan_content(payload["plan"]).goals[0].description == "Walk four times a week");
        }
    }
}

TEST_CASE("plan payloads: refused before sending, naming the field", "[clinician][plans]") {
    Model m = clinic_with_plans(someone("t1", {Role::therapist}));
    const PlanVersion& proposal = *m.plans().awaiting_review("p1");
    const PlanVersion& approved = *m.plans().active("p1");
    auto with = [&](void (*edit)(PlanContent&)) {
        PlanContent c = proposal.content;
        edit(c);
        return c;
    };
    struct Case {
        const char* name;
        Result<ActionRequest> request;
        ErrorCode code;
        const char* field;
    };
    const Case cases[] = {
        {"reject without a reason", actions::plan_reject(proposal, "  \n"), ErrorCode::invalid_argument, "reason"},
        {"restore without a reason", actions::plan_restore(approved, ""), ErrorCode::invalid_argument, "reason"},
        {"approve a version already decided", actions::plan_approve(approved), ErrorCode::conflict, "plan_id"},
        {"approve with changes and none made", actions::plan_approve_with_changes(proposal, proposal.content),
         ErrorCode::invalid_argument, "plan"},
        {"a date that is not a date",
         actions::plan_approve_with_changes(proposal, with([](PlanContent& c) { c.goals[1].target_date = "2027-02-30"; })),
         ErrorCode::invalid_argument, "goals[1].target_date"},
        {"a goal without a measure",
         actions::plan_write("p1", with([](PlanContent& c) { c.goals[0].measure = " "; }), true),
         ErrorCode::invalid_argument, "goals[0].measure"},
        {"an intervention without instructions",
         actions::plan_write("p1", with([](PlanContent& c) { c.interventions[0].how_ai_uses_it.clear(); }), true),
         ErrorCode::invalid_argument, "interventions[0].how_ai_uses_it"},
        {"a blank tone", actions::plan_write("p1", with([](PlanContent& c) { c.tone = " "; }), true),
         ErrorCode::invalid_argument, "ai_guidance.tone"},
        {"a blank cadence", actions::plan_write("p1", with([](PlanContent& c) { c.checkin_cadence.clear(); }), false),
         ErrorCode::invalid_argument, "checkin_cadence"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        REQUIRE_FALSE(c.request);
        CHECK(c.request.error().code == c.code);
        CHECK(c.request.error().field == c.field);
    }
    // Blank lines and wholly blank grid rows are dropped, not refused.
    PlanContent sloppy = proposal.content;
    sloppy.list(PlanList::homework).push_back("   ");
    sloppy.goals.push_back({" ", "", ""});
    const auto cleaned = checked_plan_content(sloppy);
    REQUIRE(cleaned);
    CHECK(cleaned->list(PlanList::homework).size() == proposal.content.list(PlanList::homework).size());
    CHECK(cleaned->goals.size() == proposal.content.goals.size());
}

TEST_CASE("plan buttons: only the assigned therapist or a supervisor may decide", "[clinician][plans]") {
    struct Case {
        const char* name;
        ClinicianInfo self;
        bool online;
        bool may_decide;
        const char* reason_has;
    };
    const Case cases[] = {
        {"assigned therapist", someone("t1", {Role::therapist}), true, true, ""},
        {"supervisor", someone("s1", {Role::supervisor}), true, true, ""},
        {"another therapist", someone("t2", {Role::therapist}), true, false, "assigned therapist or a supervisor"},
        {"admin only", someone("a1", {Role::admin}), true, false, "Admins"},
        {"assigned but offline", someone("t1", {Role::therapist}), false, false, "Offline"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        Model m = clinic_with_plans(c.self);
        PlanReview review;
        review.open("p1");
        review.refresh(m);
        const PlanButtons b = review.buttons(m, c.online);
        CHECK(b.approve == c.may_decide);
        CHECK(b.reject == c.may_decide);
        CHECK(b.write == c.may_decide);
        CHECK(b.restore == c.may_decide);
        CHECK(b.request == c.may_decide);
        CHECK_FALSE(b.approve_with_changes);  // nothing edited yet
        CHECK(b.reason.find(c.reason_has) != std::string::npos);
    }
}

TEST_CASE("plan review: editing enables Approve with changes; a live decision never loses the edit", "[clinician][plans]") {
    Model m = clinic_with_plans(someone("t1", {Role::therapist}));
    PlanReview review;
    review.open("p1");
    CHECK(review.refresh(m));
    CHECK(review.proposal(m)->id == "plan2");
    CHECK(review.edited() == m.plans().find("plan2")->content);
    CHECK(count(review.rows(m)).changed == 1);  // the proposal moved a goal's date
    CHECK(review.summary(m).find("Proposal v2 by AI") != std::string::npos);

    PlanContent edit = review.edited();
    edit.goals[0].description = "Walk four times a week";
    review.set_edited(edit);
    CHECK(review.has_edits());
    CHECK(review.buttons(m, true).approve_with_changes);
    CHECK_FALSE(review.refresh(m));  // nothing new: the edit stays

    // Someone else rejects the proposal meanwhile: the edit stays, deciding is off, writing is on.
    std::uint64_t seq = m.cursor();
    m.apply(event(++seq, "plan_rejected", "p1", {{"plan_id", "plan2"}, {"approver_id", "t1"}, {"reason", "no"}}));
    CHECK_FALSE(review.refresh(m));
    CHECK(review.edited().goals[0].description == "Walk four times a week");
    const PlanButtons b = review.buttons(m, true);
    CHECK_FALSE(b.approve);
    CHECK_FALSE(b.approve_with_changes);
    CHECK(b.write);
    CHECK(b.reason.find("rejected") != std::string::npos);

    // Without edits a new proposal is loaded at once.
    review.discard_edits();
    m.apply(event(++seq, "plan_proposed", "p1", plan_record("plan4", "p1", 4, "proposed", sample_content())));
    CHECK(review.refresh(m));
    CHECK(review.proposal(m)->id == "plan4");
}
