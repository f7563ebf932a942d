// Outcomes in the clinician app without a display: the assessment book fed as the feed feeds it,
// the per-patient charts and headlines over synthetic trajectories, the chart geometry, the
// supervisor's caseload outcome table on a small hand-computed caseload, and the report layout.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/clinician/outcome_demo.h"
#include "tandem/clinician/outcome_presenter.h"
#include "tandem/clinician/outcome_report.h"
#include "tandem/clinician/outcome_table.h"
#include "tandem/clinician/outcome_text.h"
#include "tandem/clinician/session.h"
#include "tandem/measures/measures.h"
#include "tandem/schema/schema_registry.h"
#include "test_support.h"

using namespace tandem;
using namespace tandem::clinician;
using namespace tandem::clinician::testing;
using Catch::Matchers::ContainsSubstring;
using nlohmann::json;

namespace {

constexpr auto kWeek = std::chrono::milliseconds{7LL * 24 * 3600 * 1000};

const InstrumentRegistry& registry() { return InstrumentRegistry::builtin(); }

/// Applies one assessment_scored event per total, four weeks apart from t0(), numbered after the cursor.
void scores(Model& m, const std::string& patient_id, const std::string& instrument, const std::vector<int>& totals) {
    for (std::size_t i = 0; i < totals.size(); ++i) {
        const auto id = instrument + "-" + patient_id + "-" + std::to_string(i);
        const auto e = demo_assessment_event(m.cursor() + 1, patient_id, instrument, totals[i],
                                             t0() + static_cast<int>(i) * 4 * kWeek, id);
        REQUIRE(m.apply(e) == ApplyOutcome::applied);
    }
}

Model clinic() {
    Model m;
    m.set_self(ClinicianInfo{"sup", "sam", "Dr Sam Supervisor", {Role::supervisor}, true});
    std::uint64_t seq = 0;
    m.apply(event(++seq, "clinician_added", "", {{"id", "ta"}, {"display_name", "Dr Ames"}, {"roles", {"therapist"}}}));
    m.apply(event(++seq, "clinician_added", "", {{"id", "tb"}, {"display_name", "Dr Brook"}, {"roles", {"therapist"}}}));
    m.apply(event(++seq, "patient_registered", "p1", patient("p1", "Alex Rivera", "ta")));
    m.apply(event(++seq, "patient_registered", "p2", patient("p2", "Sam Okafor", "ta")));
    m.apply(event(++seq, "patient_registered", "p3", patient("p3", "Zoe Brennan", "tb")));
    m.apply(event(++seq, "patient_registered", "p4", patient("p4", "Quinn Haddad", "tb")));
    m.apply(event(++seq, "patient_registered", "p5", patient("p5", "Robin Lee", "tb")));
    return m;
}

const InstrumentChart& chart_of(const PatientOutcomes& o, const std::string& instrument) {
    for (const auto& c : o.charts) {
        if (c.instrument == instrument) return c;
    }
    FAIL("no chart for " << instrument);
    throw 0;
}

}  // namespace

TEST_CASE("assessment_scored events fill the book in time order, once per assessment id", "[clinician][outcomes]") {
    Model m = clinic();
    // Arrive out of order: the later one first.
    json later{{"id", "a2"}, {"patient_id", "p1"}, {"instrument", "phq9"}, {"items", {1, 1, 1, 1, 1, 1, 0, 0, 0}},
               {"score", 6}, {"band", "mild"}, {"administered_at", format_utc(t0() + kWeek)}};
    json earlier{{"id", "a1"}, {"patient_id", "p1"}, {"instrument", "phq9"}, {"items", {2, 2, 2, 2, 2, 2, 2, 0, 0}},
                 {"score", 14}, {"band", "moderate"}, {"administered_at", format_utc(t0())},
                 {"completed_at", format_utc(t0() + std::chrono::minutes{5})}};
    CHECK(m.apply(event(m.cursor() + 1, "assessment_scored", "p1", later)) == ApplyOutcome::applied);
    CHECK(m.apply(event(m.cursor() + 1, "assessment_scored", "p1", earlier)) == ApplyOutcome::applied);
    // The same assessment again (a replayed feed): kept once.
    CHECK(m.apply(event(m.cursor() + 1, "assessment_scored", "p1", earlier)) == ApplyOutcome::applied);
    const auto series = m.assessments().series("p1", "phq9");
    REQUIRE(series.size() == 2);
    CHECK(series[0]->id == "a1");
    CHECK(series[1]->id == "a2");
    CHECK(series[0]->when() == t0() + std::chrono::minutes{5});
    CHECK(m.assessments().instruments("p1") == std::vector<std::string>{"phq9"});

    SECTION("a record without a score or without items is malformed and kept out") {
        json unscored = earlier;
        unscored["id"] = "a3";
        unscored.erase("score");
        CHECK(m.apply(event(m.cursor() + 1, "assessment_scored", "p1", unscored)) == ApplyOutcome::malformed);
        json no_items = earlier;
        no_items["id"] = "a4";
        no_items.erase("items");
        CHECK(m.apply(event(m.cursor() + 1, "assessment_scored", "p1", no_items)) == ApplyOutcome::malformed);
        CHECK(m.assessments().series("p1", "phq9").size() == 2);
    }
}

TEST_CASE("an assessments reply from the bridge merges history and marks the patient fetched", "[clinician][outcomes]") {
    Model m = clinic();
    std::vector<std::string> sent;
    SessionListener quiet;
    FeedSession session(m, quiet, [&](std::string frame) { sent.push_back(std::move(frame)); });
    CHECK_FALSE(session.fetch_assessments("p1"));  // offline: nothing is sent
    session.on_open();
    session.on_frame(json{{"type", "login_ok"}, {"payload", {{"session_token", "tok"}}}}.dump());
    REQUIRE(session.fetch_assessments("p1"));
    const json request = json::parse(sent.back());
    CHECK(request["type"] == "fetch_assessments");
    CHECK(request["payload"]["patient_id"] == "p1");

    const auto before = m.assessments().revision();
    json reply{{"type", "assessments"},
               {"payload",
                {{"patient_id", "p1"},
                 {"assessments",
                  {{{"id", "h1"}, {"instrument", "gad7"}, {"items", {2, 2, 2, 2, 1, 1, 0}}, {"score", 10},
                    {"administered_at", format_utc(t0())}},
                   // Offered but never finished: no score, nothing to chart.
                   {{"id", "h2"}, {"instrument", "gad7"}, {"items", {1, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr}},
                    {"administered_at", format_utc(t0() + kWeek)}}}}}}};
    session.on_frame(reply.dump());
    CHECK(m.assessments().fetched("p1"));
    CHECK(m.assessments().revision() > before);
    const auto series = m.assessments().series("p1", "gad7");
    REQUIRE(series.size() == 1);
    CHECK(series[0]->patient_id == "p1");  // filled from the reply's patient_id
    CHECK(*series[0]->score == 10);
}

TEST_CASE("outcome headlines over synthetic trajectories use the library's rules", "[clinician][outcomes]") {
    struct Case {
        const char* name;
        const char* instrument;
        std::vector<int> totals;
        const char* headline;
        OutcomeTone tone;
    };
    const std::vector<Case> cases{
        {"responder with reliable improvement", "phq9", {14, 10, 6},
         "PHQ-9 14 \u2192 6 (\u221257%) \u00b7 response \u00b7 reliable improvement", OutcomeTone::improving},
        {"remitter", "phq9", {11, 7, 3},
         "PHQ-9 11 \u2192 3 (\u221273%) \u00b7 response \u00b7 remission \u00b7 reliable improvement",
         OutcomeTone::improving},
        {"no reliable change", "phq9", {18, 17, 16}, "PHQ-9 18 \u2192 16 (\u221211%) \u00b7 no reliable change",
         OutcomeTone::neutral},
        {"deteriorator", "phq9", {9, 12, 16}, "PHQ-9 9 \u2192 16 (+78%) \u00b7 deterioration", OutcomeTone::worsening},
        {"baseline only", "phq9", {14}, "PHQ-9 14 (baseline only)", OutcomeTone::neutral},
        {"GAD-7 has no response rule: reliable improvement only", "gad7", {12, 9, 7},
         "GAD-7 12 \u2192 7 (\u221242%) \u00b7 reliable improvement", OutcomeTone::improving},
        {"alliance has no thresholds: change without outcome words", "wai_sr", {40, 48}, "WAI-SR 40 \u2192 48 (+20%)",
         OutcomeTone::neutral},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.name) {
            Model m = clinic();
            scores(m, "p1", c.instrument, c.totals);
            const auto outcomes = patient_outcomes(m.assessments(), registry(), "p1");
            REQUIRE(outcomes.charts.size() == 1);
            const auto& chart = outcomes.charts[0];
            CHECK(chart.headline == c.headline);
            CHECK(chart.tone == c.tone);
            CHECK(chart.points.size() == c.totals.size());
        }
    }
}

TEST_CASE("a PHQ-9 chart carries the instrument's bands and every item's answer for the tooltip",
          "[clinician][outcomes]") {
    Model m = clinic();
    scores(m, "p1", "phq9", {14, 10, 6});
    scores(m, "p1", "gad7", {12, 9, 7});
    const auto outcomes = patient_outcomes(m.assessments(), registry(), "p1");
    REQUIRE(outcomes.charts.size() == 2);
    CHECK(outcomes.charts[0].instrument == "phq9");  // clinical order
    CHECK(outcomes.charts[1].instrument == "gad7");
    const auto& phq = chart_of(outcomes, "phq9");
    CHECK(phq.y_min == 0);
    CHECK(phq.y_max == 27);
    REQUIRE(phq.bands.size() == 5);
    CHECK(phq.bands[0].title == "Minimal");
    CHECK(phq.bands[0].low == 0);
    CHECK(phq.bands[0].high == 4.5);
    CHECK(phq.bands[3].title == "Moderately severe");
    CHECK(phq.bands[4].high == 27);
    CHECK(phq.bands[0].fill != phq.bands[4].fill);  // calm and alarming tints differ
    CHECK(phq.points[0].band_title == "Moderate");
    CHECK(phq.points[2].band_title == "Mild");
    // 14 spread over the first eight items: 2,2,2,2,2,2,1,1 and item 9 at 0.
    CHECK_THAT(phq.points[0].tooltip, ContainsSubstring("PHQ-9 14 (Moderate)"));
    CHECK_THAT(phq.points[0].tooltip,
               ContainsSubstring("1. Little interest or pleasure in doing things: More than half the days (2)"));
    CHECK_THAT(phq.points[0].tooltip, ContainsSubstring("9. "));
    CHECK_THAT(phq.points[0].tooltip, ContainsSubstring("Not at all (0)"));

    SECTION("the score table lists every result newest first with its change from baseline") {
        // Results of the same visit keep the clinical order (PHQ-9 before GAD-7).
        REQUIRE(outcomes.table.size() == 6);
        CHECK(outcomes.table[0].instrument == "PHQ-9");
        CHECK(outcomes.table[0].score == "6");
        CHECK(outcomes.table[0].change == "\u22128 from baseline");
        CHECK(outcomes.table[1].instrument == "GAD-7");
        CHECK(outcomes.table[1].change == "\u22125 from baseline");
        CHECK(outcomes.table[5].change == "baseline");
        CHECK(outcomes.table[5].band == "Moderate");
        CHECK(outcomes.table[5].date == date_text(t0()));
    }
}

TEST_CASE("chart geometry keeps points in the plot, in time order, higher scores higher up", "[clinician][outcomes]") {
    Model m = clinic();
    scores(m, "p1", "phq9", {14, 20, 6});
    const auto chart = patient_outcomes(m.assessments(), registry(), "p1").charts.at(0);
    for (const auto& [w, h] : std::vector<std::pair<double, double>>{{700, 260}, {1300, 420}, {420, 180}}) {
        const auto g = layout_chart(chart, w, h);
        REQUIRE(g.points.size() == 3);
        for (const auto& p : g.points) {
            CHECK(p.x > g.left);
            CHECK(p.x < g.right);
            CHECK(p.y >= g.top);
            CHECK(p.y <= g.bottom);
        }
        CHECK(g.points[0].x < g.points[1].x);
        CHECK(g.points[1].x < g.points[2].x);
        CHECK(g.points[1].y < g.points[0].y);  // 20 above 14
        CHECK(g.points[2].y > g.points[0].y);  // 6 below 14
        CHECK(g.right <= w);
        CHECK(g.bottom <= h);
        // Bands tile the plot from the bottom up without gaps.
        REQUIRE(g.bands.size() == 5);
        CHECK(g.bands.front().bottom == g.bottom);
        CHECK(g.bands.back().top == g.top);
        for (std::size_t i = 1; i < g.bands.size(); ++i) CHECK(std::abs(g.bands[i].bottom - g.bands[i - 1].top) < 1e-9);
        CHECK(g.hit(g.points[1].x + 2, g.points[1].y - 2, 6) == std::optional<std::size_t>{1});
        CHECK_FALSE(g.hit(g.left + 1, g.top + 1, 6).has_value());
        CHECK(g.x_ticks.size() >= 2);
        CHECK(g.y_ticks.front().text == "0");
        CHECK(g.y_ticks.back().text == "27");
    }

    SECTION("a single result sits in the middle of the time axis") {
        Model one = clinic();
        scores(one, "p2", "gad7", {9});
        const auto g = layout_chart(patient_outcomes(one.assessments(), registry(), "p2").charts.at(0), 600, 240);
        REQUIRE(g.points.size() == 1);
        CHECK(std::abs(g.points[0].x - (g.left + g.right) / 2) < 1.0);
    }
}

TEST_CASE("caseload outcome table on a small hand-computed caseload", "[clinician][outcomes]") {
    // Dr Ames: p1 responds with reliable improvement (14 -> 6); p2 barely moves (10 -> 9).
    // Dr Brook: p3 remits (12 -> 4); p4 deteriorates (8 -> 15); p5 has a baseline only.
    Model m = clinic();
    scores(m, "p1", "phq9", {14, 10, 6});
    scores(m, "p2", "phq9", {10, 9});
    scores(m, "p3", "phq9", {12, 8, 4});
    scores(m, "p4", "phq9", {8, 15});
    scores(m, "p5", "phq9", {12});
    scores(m, "p1", "wai_sr", {40, 48});
    scores(m, "p3", "wai_sr", {40});
    scores(m, "p4", "wai_sr", {34, 30});

    const auto rows = caseload_outcome_rows(m, registry(), "phq9");
    REQUIRE(rows.size() == 3);
    const auto& ames = rows[0];
    const auto& brook = rows[1];
    const auto& all = rows[2];
    CHECK(ames.name == "Dr Ames");
    CHECK(ames.patients == 2);
    CHECK(ames.with_follow_up == 2);
    CHECK(ames.responders == 1);
    CHECK(ames.remitters == 0);
    CHECK(ames.reliable_improvers == 1);
    CHECK(ames.deteriorated == 0);
    CHECK(ames.mean_alliance == 48.0);
    CHECK(brook.name == "Dr Brook");
    CHECK(brook.patients == 3);
    CHECK(brook.with_follow_up == 2);
    CHECK(brook.responders == 1);
    CHECK(brook.remitters == 1);
    CHECK(brook.reliable_improvers == 1);
    CHECK(brook.deteriorated == 1);
    CHECK(brook.mean_alliance == 35.0);
    CHECK(all.therapist_id == "*");
    CHECK(all.patients == 5);
    CHECK(all.with_follow_up == 4);
    CHECK(all.responders == 2);
    CHECK(all.remitters == 1);
    CHECK(all.reliable_improvers == 2);
    CHECK(all.deteriorated == 1);
    REQUIRE(all.mean_alliance.has_value());
    CHECK(std::abs(*all.mean_alliance - (48.0 + 40.0 + 30.0) / 3) < 1e-9);
    CHECK(all.alliance_patients == 3);

    auto table = caseload_outcome_table(m, registry(), "phq9");
    REQUIRE(table.rows.size() == 2);
    REQUIRE(table.size() == 3);
    CHECK(table.row(0)[3].text == "50% (1 of 2)");
    CHECK(table.row(1)[4].text == "50% (1 of 2)");
    CHECK(table.row(2)[0].text == "All therapists");
    CHECK(table.row(2)[3].text == "50% (2 of 4)");
    CHECK(table.row(2)[4].text == "25% (1 of 4)");
    CHECK(table.row(2)[6].text == "1");
    CHECK(table.row(2)[7].text == "39.3 (3)");

    SECTION("sorting moves the body and keeps the overall row last") {
        table.sort_by(6, false);  // most deteriorated first
        CHECK(table.row(0)[0].text == "Dr Brook");
        CHECK(table.row(2)[0].text == "All therapists");
        table.sort_by(7, true);  // lowest alliance first
        CHECK(table.row(0)[0].text == "Dr Brook");
        table.sort_by(7, false);
        CHECK(table.row(0)[0].text == "Dr Ames");
        CHECK(table.row(2)[0].text == "All therapists");
    }

    SECTION("GAD-7 defines no response rule: its response column says n/a, not 0%") {
        Model g = clinic();
        scores(g, "p1", "gad7", {12, 7});
        const auto gad = caseload_outcome_table(g, registry(), "gad7");
        CHECK(gad.row(0)[3].text == "n/a");
        CHECK(gad.row(0)[5].text == "100% (1 of 1)");
    }

    SECTION("the per-patient table shows each patient's change and alliance, sortable by change") {
        auto patients = patient_outcome_table(m, registry(), {"phq9", "gad7"});
        REQUIRE(patients.rows.size() == 5);
        CHECK(patients.headers[2] == "PHQ-9");
        patients.sort_by(2, true);  // most improved first
        CHECK(patients.row(0)[0].text == "Alex Rivera");
        CHECK_THAT(patients.row(0)[2].text, ContainsSubstring("response"));
        CHECK(patients.row(0)[4].text == "48");
        CHECK(patients.row(0)[3].text == "\u2014");  // no GAD-7
        // p5 (baseline only) has no change: sorted last either way.
        CHECK(patients.row(4)[0].text == "Robin Lee");
        patients.sort_by(2, false);
        CHECK(patients.row(0)[0].text == "Quinn Haddad");
        CHECK(patients.row(4)[0].text == "Robin Lee");
    }
}

TEST_CASE("the report lays out header, one chart per instrument and the score table", "[clinician][outcomes]") {
    Model m = clinic();
    scores(m, "p1", "phq9", {14, 10, 6});
    scores(m, "p1", "gad7", {12, 9, 7});
    const auto outcomes = patient_outcomes(m.assessments(), registry(), "p1");
    using M = ReportMetrics;

    const auto one = layout_report(outcomes);
    CHECK(one.pages == 1);
    CHECK(one.width == M::width);
    CHECK(one.page_height == 2 * M::margin + M::header + 2 * M::chart + M::table_head + 6 * M::table_row);
    REQUIRE(one.blocks.size() == 1 + 2 + 1 + 6);
    CHECK(one.blocks[0].kind == ReportBlock::Kind::header);
    CHECK(one.blocks[1].kind == ReportBlock::Kind::chart);
    CHECK(one.blocks[3].kind == ReportBlock::Kind::table_head);

    SECTION("on pages, nothing crosses the bottom margin and a continued table repeats its heading") {
        Model busy = clinic();
        std::vector<int> many(40, 10);
        scores(busy, "p1", "phq9", many);
        scores(busy, "p1", "gad7", many);
        const auto big = patient_outcomes(busy.assessments(), registry(), "p1");
        const double page = 1400;
        const auto paged = layout_report(big, page);
        CHECK(paged.pages >= 3);
        int heads = 0;
        for (const auto& b : paged.blocks) {
            CHECK(b.y + b.height <= page - M::margin);
            if (b.kind == ReportBlock::Kind::table_head) ++heads;
        }
        CHECK(heads == paged.pages - paged.blocks[3].page);  // one per page the table is on
    }

    SECTION("the header names patient, clinician, time and confidentiality") {
        const auto h = report_header(m, "p1", t0());
        CHECK(h.patient == "Patient: Alex Rivera (id p1)");
        CHECK(h.clinician == "Clinician: Dr Sam Supervisor");
        CHECK_THAT(h.generated, ContainsSubstring(date_text(t0())));
        CHECK(h.confidentiality == "Confidential: contains health information");
    }

    SECTION("the export log line says who exported whose report and nothing of its content") {
        const auto line = export_log_line("pdf", "p1", "sup");
        CHECK_THAT(line, ContainsSubstring("p1"));
        CHECK_THAT(line, ContainsSubstring("sup"));
        CHECK_THAT(line, ContainsSubstring("pdf"));
        CHECK_THAT(line, !ContainsSubstring("Alex"));
        CHECK_THAT(line, !ContainsSubstring("14"));
        CHECK(report_file_name("p1", t0(), "png") == "outcomes-p1-" + date_text(t0()) + ".png");
    }
}

TEST_CASE("the demo seeds PHQ-9 and GAD-7 at three visits and the alliance at two", "[clinician][outcomes]") {
    Model m = clinic();
    for (const auto& e : demo_assessment_events(m, t0(), 3)) REQUIRE(m.apply(e) == ApplyOutcome::applied);
    CHECK(m.assessments().patients().size() == 3);
    CHECK(m.assessments().series("p1", "phq9").size() == 3);
    CHECK(m.assessments().series("p1", "gad7").size() == 3);
    CHECK(m.assessments().series("p1", "wai_sr").size() == 2);
    // Every seeded form is one the library scores to the same total (items sum to the score).
    const auto* phq = registry().find(std::string_view{"phq9"});
    for (const auto* p : m.assessments().series("p2", "phq9")) {
        const auto a = to_assessment(*p);
        REQUIRE(a.has_value());
        const auto s = score(*phq, a->items);
        REQUIRE(s.has_value());
        CHECK(s->total == *p->score);
    }
}

TEST_CASE("an export's report_exported action carries the contract's fields and passes the wire schema",
          "[clinician][outcomes][export]") {
    Model m = clinic();
    scores(m, "p1", "phq9", {16, 11, 7});
    scores(m, "p1", "gad7", {13, 6});
    scores(m, "p1", "wai_sr", {48});
    const auto outcomes = patient_outcomes(m.assessments(), registry(), "p1");
    const auto empty = patient_outcomes(m.assessments(), registry(), "p5");
    struct Case {
        const char* name;
        const PatientOutcomes* outcomes;
        const char* format;
        json instruments;
        int count;
    };
    const Case cases[] = {
        {"a PDF of three instruments and six questionnaires", &outcomes, "pdf", {"phq9", "gad7", "wai_sr"}, 6},
        {"a PNG of the same report", &outcomes, "png", {"phq9", "gad7", "wai_sr"}, 6},
        {"a patient with no scores yet", &empty, "pdf", json::array(), 0},
    };
    const auto& schemas = SchemaRegistry::builtin();
    for (const auto& c : cases) {
        INFO(c.name);
        auto request = report_exported_action(*c.outcomes, c.format);
        REQUIRE(request);
        const json payload = json::parse(request->to_frame("env-1", t0()))["payload"];
        CHECK(payload.at("kind") == "report_exported");
        CHECK(payload.at("patient_id") == c.outcomes->patient_id);
        CHECK(payload.at("format") == c.format);
        CHECK(payload.at("instruments") == c.instruments);
        CHECK(payload.at("assessment_count") == c.count);
        CHECK_FALSE(payload.value("action_id", std::string{}).empty());
        // What is exported, for whom, not where: no path or file name on the wire.
        CHECK(payload.size() == 6);
        const auto valid = schemas.validate("wire/action", payload);
        CHECK(valid.has_value());
        if (!valid) UNSCOPED_INFO(valid.error().field + ": " + valid.error().message);
    }
    // Refused before sending, naming the field.
    CHECK(actions::report_exported("p1", "txt", {}, 0).error().field == "format");
    CHECK(actions::report_exported("p1", "pdf", {"PHQ9"}, 1).error().field == "instruments");
    CHECK(actions::report_exported("p1", "pdf", {"phq9", "phq9"}, 1).error().field == "instruments");
    CHECK(actions::report_exported("p1", "pdf", {"phq9"}, 100001).error().field == "assessment_count");
}

TEST_CASE("an export waits for its audit: written only on ok, dropped with the reason otherwise",
          "[clinician][outcomes][export]") {
    Model m = clinic();
    scores(m, "p1", "phq9", {16, 11});
    const auto outcomes = patient_outcomes(m.assessments(), registry(), "p1");
    ExportAudit audit;

    SECTION("ok: the answered export is handed back exactly as it was audited, once") {
        auto request = audit.begin("/tmp/Alex Rivera report.PDF", report_header(m, "p1", t0()), outcomes);
        REQUIRE(request);
        CHECK(request->fields.at("format") == "pdf");
        CHECK(request->to_frame("e", t0()).find("Alex") == std::string::npos);  // the path stays local
        CHECK(audit.waiting() == 1);
        CHECK_FALSE(audit.complete("some-other-action"));  // every action result passes by
        auto done = audit.complete(request->action_id);
        REQUIRE(done);
        CHECK(done->patient_id == "p1");
        CHECK(done->path == "/tmp/Alex Rivera report.PDF");
        CHECK(done->outcomes.table.size() == 2);
        CHECK(done->header.patient == "Patient: Alex Rivera (id p1)");
        CHECK_FALSE(audit.complete(request->action_id));  // a repeated result writes nothing twice
        CHECK(audit.waiting() == 0);
    }
    SECTION("not sent (offline): cancelled, nothing waits") {
        auto request = audit.begin("r.png", report_header(m, "p1", t0()), outcomes);
        REQUIRE(request);
        CHECK(audit.cancel(request->action_id));
        CHECK_FALSE(audit.complete(request->action_id));
    }
    SECTION("a path that is neither .pdf nor .png is refused before any action exists") {
        auto request = audit.begin("r.txt", report_header(m, "p1", t0()), outcomes);
        REQUIRE_FALSE(request);
        CHECK(request.error().field == "path");
        CHECK(audit.waiting() == 0);
    }
    SECTION("no answer by the deadline: given up once, and an answer after that writes nothing") {
        using std::chrono::milliseconds;
        const ExportAudit::Clock::time_point start{};  // steady time, passed in: no sleeping
        ExportAudit timed(milliseconds{2000});
        auto first = timed.begin("a.pdf", report_header(m, "p1", t0()), outcomes, start);
        auto second = timed.begin("b.png", report_header(m, "p1", t0()), outcomes, start + milliseconds{500});
        REQUIRE(first);
        REQUIRE(second);
        CHECK(timed.expire(start + milliseconds{1999}).empty());  // not yet
        auto gone = timed.expire(start + milliseconds{2000});
        REQUIRE(gone.size() == 1);
        CHECK(gone[0].action_id == first->action_id);
        CHECK(gone[0].path == "a.pdf");
        CHECK(timed.waiting() == 1);
        CHECK_FALSE(timed.complete(first->action_id));  // the late ok finds nothing to write
        CHECK(timed.expire(start + milliseconds{2000}).empty());  // given up once, not again
        // The other export still gets its answer before its own deadline.
        CHECK(timed.complete(second->action_id));
        CHECK(timed.expire(start + milliseconds{60000}).empty());
        CHECK(timed.waiting() == 0);
        // A new timeout applies to exports begun after it.
        timed.set_timeout(milliseconds{100});
        auto third = timed.begin("c.pdf", report_header(m, "p1", t0()), outcomes, start);
        REQUIRE(third);
        CHECK(timed.expire(start + milliseconds{100}).size() == 1);
        CHECK(ExportAudit{}.timeout() == kExportAuditTimeout);
    }
    SECTION("the no-answer text says how long it waited, why if known, and that nothing was written") {
        struct Case {
            const char* name;
            std::chrono::milliseconds waited;
            bool online;
            std::string expected;
        };
        const std::vector<Case> cases{
            {"connection up, bridge silent", std::chrono::milliseconds{5000}, true,
             "The export could not be recorded in the audit log: the bridge did not answer within 5 s. Nothing was "
             "written. Try the export again."},
            {"connection lost", std::chrono::milliseconds{1500}, false,
             "The export could not be recorded in the audit log: the bridge did not answer within 2 s (the connection "
             "to the bridge was lost). Nothing was written. Try the export again."},
        };
        for (const auto& c : cases) {
            INFO(c.name);
            CHECK(export_no_answer_text(c.waited, c.online) == c.expected);
        }
    }
    SECTION("the refusal text says why and that nothing was written") {
        CHECK(export_not_recorded_text("permission_denied: not your patient") ==
              "The export could not be recorded in the audit log: permission_denied: not your patient. Nothing was "
              "written.");
        CHECK_THAT(export_not_recorded_text(""), ContainsSubstring("no reason given"));
    }
}
