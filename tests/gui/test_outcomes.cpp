// GUI test of the outcome views: the Outcomes tab beside the conversation for a patient with three
// PHQ-9 and three GAD-7 results (fed through the Model as assessment_scored events, as the feed
// delivers them), and the supervisor's caseload outcome table. With TANDEM_SCREENSHOT_DIR=DIR set it
// also writes DIR/outcomes.png and DIR/supervisor-outcomes.png (run under a 1366x768 Xvfb screen).
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <wx/notebook.h>
#include <wx/uiaction.h>
#include <wx/utils.h>

#include "app.h"
#include "gui_support.h"
#include "live_session.h"
#include "main_frame.h"
#include "outcome_chart.h"
#include "outcome_pane.h"
#include "real_bridge.h"
#include "tcp_relay.h"
#include "tandem/clinician/outcome_demo.h"
#include "tandem/clinician/plan_review.h"
#include "tandem/clinician/session.h"

using namespace tandem;
using namespace tandem::clinician;
using namespace tandem::clinician::testing;
using namespace tandem::clinician::views;
using Catch::Matchers::ContainsSubstring;

namespace {

void select_page_of(wxWindow* page) {
    auto* book = dynamic_cast<wxNotebook*>(page->GetParent());
    REQUIRE(book != nullptr);
    book->SetSelection(static_cast<std::size_t>(book->FindPage(page)));
    settle();
}

// A patient of the demo's clinician with three PHQ-9 and three GAD-7 results four weeks apart.
void add_patient_with_scores(Model& model) {
    const auto self = model.self().id;
    clinician::StoredEvent reg;
    reg.seq = model.cursor() + 1;
    reg.id = "gui-ev-reg";
    reg.type = "patient_registered";
    reg.time = now_ms();
    reg.patient_id = "p-outcomes";
    reg.actor_kind = "system";
    reg.payload_json = nlohmann::json{{"id", "p-outcomes"}, {"clinic_id", "demo"}, {"display_name", "Morgan Ellis"},
                                      {"assigned_therapist_id", self}, {"conditions", {"depression"}},
                                      {"locale", "en-US"}, {"created_at", format_utc(now_ms())}}
                           .dump();
    REQUIRE(model.apply(reg) == ApplyOutcome::applied);
    const std::array<int, 3> phq{16, 11, 7};
    const std::array<int, 3> gad{13, 10, 6};
    const auto week = std::chrono::milliseconds{7LL * 24 * 3600 * 1000};
    const auto start = now_ms() - 9 * week;
    for (std::size_t i = 0; i < 3; ++i) {
        const auto at = start + static_cast<int>(i) * 4 * week;
        model.apply(demo_assessment_event(model.cursor() + 1, "p-outcomes", "phq9", phq[i], at, "gui-phq-" + std::to_string(i)));
        model.apply(demo_assessment_event(model.cursor() + 1, "p-outcomes", "gad7", gad[i], at + std::chrono::minutes{9},
                                          "gui-gad-" + std::to_string(i)));
    }
}

// Three PHQ-9 and three GAD-7 results four weeks apart, appended to the bridge's store as the
// bridge appends a submitted questionnaire (assessment_scored with the whole record).
void store_scores(RealBridge& bridge, const std::string& tag) {
    const std::array<int, 3> phq{15, 11, 5};
    const std::array<int, 3> gad{12, 8, 7};
    const auto week = std::chrono::milliseconds{7LL * 24 * 3600 * 1000};
    const auto start = now_ms() - 9 * week;
    for (std::size_t i = 0; i < 3; ++i) {
        const auto at = start + static_cast<int>(i) * 4 * week;
        for (const auto& [instrument, total] : {std::pair<std::string, int>{"phq9", phq[i]}, {"gad7", gad[i]}}) {
            const auto e = demo_assessment_event(0, bridge.patient_id, instrument, total, at,
                                                 instrument + "-" + tag + "-" + std::to_string(i));
            NewEvent ne;
            ne.type = EventType::assessment_scored;
            ne.patient_id = bridge.patient_id;
            ne.actor = Actor{ActorKind::patient, bridge.patient_id};
            ne.payload = nlohmann::json::parse(e.payload_json);
            REQUIRE(bridge.store->append(std::move(ne)).has_value());
        }
    }
}

// The app as it runs against the bridge, with its encrypted cache in `cache_dir`; `via` connects
// through a relay instead, and `export_timeout` replaces the app's default wait for an audit.
std::unique_ptr<LiveSession> live_app(Model& model, PasswordVerifier& verifier, RealBridge& bridge,
                                      const std::filesystem::path& cache_dir, std::optional<Endpoint> via = {},
                                      std::chrono::milliseconds export_timeout = kExportAuditTimeout) {
    LiveOptions o;
    o.endpoint = via.value_or(bridge.endpoint("/clinician"));
    o.export_audit_timeout = export_timeout;
    o.pinned_fingerprint = bridge.fingerprint();
    o.username = "tara";
    o.password = SecretBuffer::copy_of(kBridgePassword);
    o.cache_dir = cache_dir;
    o.cache_kdf = CacheKdf{1, 64, 1};
    auto live = std::make_unique<LiveSession>(model, verifier, std::move(o));
    live->frame()->SetSize(0, 0, 1366, 768);
    live->frame()->Show();
    live->start();
    return live;
}

// Waits until the app is live with store_scores' results, then shows the patient's Outcomes tab
// with both charts drawn.
OutcomesPanel* open_synced_outcomes(LiveSession& live, const Model& model, const std::string& pid) {
    REQUIRE(pump_until([&] { return live.session().state() == SessionState::live; }));
    REQUIRE(pump_until([&] { return model.assessments().series(pid, "gad7").size() == 3; }));
    live.frame()->show_patient(pid);
    OutcomesPanel* panel = live.frame()->outcomes_panel();
    select_page_of(panel);
    REQUIRE(pump_until([&] { return panel->chart_panels().size() == 2; }));
    return panel;
}

}  // namespace

TEST_CASE("Export report is audited by the real bridge before the file is written; refused or offline, nothing is "
          "written; restarted offline, the Outcomes tab charts the cached scores",
          "[gui][bridge][outcomes][export]") {
    RealBridge bridge;
    store_scores(bridge, "exp");
    TempDir home;
    const auto cache_dir = home.path() / "cache";
    const std::string pid = bridge.patient_id;
    {
        Model model;
        PasswordVerifier verifier;
        auto live = live_app(model, verifier, bridge, cache_dir);
        OutcomesPanel* panel = open_synced_outcomes(*live, model, pid);

        // Exported: the bridge records it (one clinician_action, by tara, with what was exported),
        // answers ok, and only then is the file written.
        const auto pdf = home.path() / "Alex Rivera outcomes.pdf";
        REQUIRE(panel->request_export(pdf));
        CHECK(panel->exports_waiting() == 1);
        CHECK_FALSE(std::filesystem::exists(pdf));
        REQUIRE(pump_until([&] { return panel->exports_waiting() == 0; }));
        CHECK(std::filesystem::exists(pdf));
        CHECK_THAT(panel->export_message(), ContainsSubstring("audit log"));
        auto audits = bridge.report_exports();
        REQUIRE(audits.size() == 1);
        const auto& a = audits.front();
        CHECK(a.actor.id == std::optional<std::string>{bridge.therapist_id});
        CHECK(a.patient_id == std::optional<std::string>{pid});
        CHECK(a.payload.at("patient_id") == pid);
        CHECK(a.payload.at("format") == "pdf");
        CHECK(a.payload.at("instruments") == nlohmann::json{"phq9", "gad7"});
        CHECK(a.payload.at("assessment_count") == 6);
        CHECK(a.payload.dump().find("Alex") == std::string::npos);  // no path, no name
        CHECK(bridge.store->verify_chain(std::nullopt).has_value());

        // Refused: the patient was reassigned on the bridge a moment ago (the app has not heard
        // yet); the bridge answers permission_denied and no file appears.
        const Actor admin{ActorKind::system, std::string("test")};
        auto sam = bridge.accounts->add("sam", "Sam Other", {"therapist"}, kBridgePassword,
                                        bridge::PasswordPolicy{1, 1024, 1, 10}, admin);
        REQUIRE(sam);
        REQUIRE(bridge::assign_patient(*bridge.store, *bridge.accounts, pid, sam->id, admin));
        const auto refused = home.path() / "refused.png";
        REQUIRE(panel->request_export(refused));
        REQUIRE(pump_until([&] { return panel->exports_waiting() == 0; }));
        CHECK_FALSE(std::filesystem::exists(refused));
        CHECK_THAT(panel->export_message(), ContainsSubstring("could not be recorded in the audit log"));
        CHECK_THAT(panel->export_message(), ContainsSubstring("Nothing was written"));
        CHECK(bridge.report_exports().size() == 1);
        screenshot("outcomes-export-refused.png");
        // Back to tara for the rest; the app saves its cache at stop.
        REQUIRE(bridge::assign_patient(*bridge.store, *bridge.accounts, pid, bridge.therapist_id, admin));
        REQUIRE(pump_until([&] {
            const auto* p = model.patient(pid);
            return p != nullptr && p->assigned_therapist_id == bridge.therapist_id;
        }));
        live->stop();
        live->frame()->Destroy();
        wxYield();
    }
    bridge.stop();

    // Restarted with no bridge: the Outcomes tab comes from the encrypted cache; an export is
    // refused at once, before any file is asked for, and nothing is written.
    Model model;
    PasswordVerifier verifier;
    auto live = live_app(model, verifier, bridge, cache_dir);
    CHECK_FALSE(live->session().online());
    // The cached questionnaires follow the first screen on the next turn of the event loop.
    REQUIRE(pump_until([&] { return model.assessments().series(pid, "phq9").size() == 3; }));
    live->frame()->show_patient(pid);
    OutcomesPanel* panel = live->frame()->outcomes_panel();
    select_page_of(panel);
    REQUIRE(pump_until([&] { return panel->chart_panels().size() == 2; }));
    CHECK(panel->table_rows() == 6);
    const auto offline = home.path() / "offline.pdf";
    CHECK_FALSE(panel->request_export(offline));
    CHECK_FALSE(std::filesystem::exists(offline));
    CHECK_THAT(panel->export_message(), ContainsSubstring("Offline"));
    CHECK_THAT(panel->export_message(), ContainsSubstring("Nothing was written"));
    screenshot("outcomes-offline.png");
    live->stop();
    live->frame()->Destroy();
    wxYield();
}

TEST_CASE("an export the bridge never answers gives up after the app's timeout and says so: nothing is written, and "
          "the next export is audited and written",
          "[gui][bridge][outcomes][export]") {
    RealBridge bridge;
    store_scores(bridge, "late");
    TcpRelay relay(bridge.port);
    TempDir home;
    const std::string pid = bridge.patient_id;
    Model model;
    PasswordVerifier verifier;
    auto live = live_app(model, verifier, bridge, home.path() / "cache",
                         Endpoint{"127.0.0.1", std::to_string(relay.port()), "/clinician"}, std::chrono::seconds{2});
    OutcomesPanel* panel = open_synced_outcomes(*live, model, pid);

    // Tried: the connection is lost mid-export. The export's frame is swallowed on its way (so
    // the bridge never sees it), then the connection is cut and reconnects are refused.
    relay.set_mode(TcpRelay::Mode::swallow);
    settle();
    const auto lost = home.path() / "no-answer.pdf";
    const auto asked = std::chrono::steady_clock::now();
    REQUIRE(panel->request_export(lost));
    CHECK_THAT(panel->export_message(), ContainsSubstring("waiting up to 2 s"));
    CHECK_THAT(live->frame()->status_line(), ContainsSubstring("1 action(s) waiting for the bridge"));
    relay.set_mode(TcpRelay::Mode::refuse);
    REQUIRE(pump_until([&] { return panel->exports_waiting() == 0; }, std::chrono::seconds{8}));
    const auto waited = std::chrono::steady_clock::now() - asked;
    CHECK(waited >= std::chrono::seconds{2});
    // The deadline plus a few 250 ms ticks; the margin is for a busy shared machine.
    CHECK(waited < std::chrono::seconds{6});
    CHECK_FALSE(std::filesystem::exists(lost));
    CHECK_THAT(panel->export_message(), ContainsSubstring("did not answer within 2 s"));
    CHECK_THAT(panel->export_message(), ContainsSubstring("connection to the bridge was lost"));
    CHECK_THAT(panel->export_message(), ContainsSubstring("Nothing was written"));
    settle();
    CHECK_THAT(live->frame()->status_line(), !ContainsSubstring("waiting for the bridge"));
    CHECK(live->session().pending().size() == 0);  // not resent when the bridge is back
    screenshot("outcomes-export-no-answer.png");

    // The bridge is reachable again: the next export is audited and written, and the bridge
    // holds exactly that one export (the given-up one was never resent).
    relay.set_mode(TcpRelay::Mode::pass);
    REQUIRE(pump_until([&] { return live->session().state() == SessionState::live; }));
    const auto next = home.path() / "next.pdf";
    REQUIRE(panel->request_export(next));
    REQUIRE(pump_until([&] { return panel->exports_waiting() == 0; }));
    CHECK(std::filesystem::exists(next));
    CHECK_THAT(panel->export_message(), ContainsSubstring("Report written"));
    CHECK(bridge.report_exports().size() == 1);
    live->stop();
    live->frame()->Destroy();
    wxYield();
}

TEST_CASE("scored questionnaires stored by the real bridge reach the Outcomes tab through the feed and the fetch",
          "[gui][bridge][outcomes]") {
    RealBridge bridge;
    // What the bridge appends when a patient submits a questionnaire: assessment_scored with the
    // full Assessment record, three PHQ-9 and three GAD-7 visits four weeks apart.
    const std::array<int, 3> phq{15, 11, 5};
    const std::array<int, 3> gad{12, 8, 7};
    const auto week = std::chrono::milliseconds{7LL * 24 * 3600 * 1000};
    const auto start = now_ms() - 9 * week;
    for (std::size_t i = 0; i < 3; ++i) {
        const auto at = start + static_cast<int>(i) * 4 * week;
        for (const auto& [instrument, total] : {std::pair<std::string, int>{"phq9", phq[i]}, {"gad7", gad[i]}}) {
            const auto e = demo_assessment_event(0, bridge.patient_id, instrument, total, at,
                                                 instrument + "-live-" + std::to_string(i));
            NewEvent ne;
            ne.type = EventType::assessment_scored;
            ne.patient_id = bridge.patient_id;
            ne.actor = Actor{ActorKind::patient, bridge.patient_id};
            ne.payload = nlohmann::json::parse(e.payload_json);
            REQUIRE(bridge.store->append(std::move(ne)).has_value());
        }
    }
    TempDir home;
    Model model;
    PasswordVerifier verifier;
    LiveOptions o;
    o.endpoint = bridge.endpoint("/clinician");
    o.pinned_fingerprint = bridge.fingerprint();
    o.username = "tara";
    o.password = SecretBuffer::copy_of(kBridgePassword);
    o.cache_dir = home.path() / "cache";
    o.cache_kdf = CacheKdf{1, 64, 1};
    LiveSession live(model, verifier, std::move(o));
    live.frame()->Show();
    live.start();
    REQUIRE(pump_until([&] { return live.session().state() == SessionState::live; }));
    REQUIRE(pump_until([&] { return model.assessments().series(bridge.patient_id, "gad7").size() == 3; }));
    CHECK(model.assessments().series(bridge.patient_id, "phq9").size() == 3);

    live.frame()->show_patient(bridge.patient_id);
    // Opening the patient also fetches their history: the bridge's `assessments` reply merges
    // into the same book without duplicating what the feed brought.
    REQUIRE(pump_until([&] { return model.assessments().fetched(bridge.patient_id); }));
    CHECK(model.assessments().series(bridge.patient_id, "phq9").size() == 3);
    CHECK(model.assessments().series(bridge.patient_id, "gad7").size() == 3);
    OutcomesPanel* panel = live.frame()->outcomes_panel();
    select_page_of(panel);
    REQUIRE(pump_until([&] { return panel->chart_panels().size() == 2; }));
    CHECK_THAT(panel->chart_panels()[0]->chart().headline,
               ContainsSubstring("PHQ-9 15 \u2192 5 (\u221267%) \u00b7 response \u00b7 reliable improvement"));
    CHECK(panel->table_rows() == 6);
    live.stop();
    live.frame()->Destroy();
    wxYield();
}

TEST_CASE("the Outcomes tab charts a patient's PHQ-9 and GAD-7 with answers on hover, and the supervisor table shows",
          "[gui][outcomes]") {
    Model model;
    PasswordVerifier verifier;
    MainFrame* frame = open_demo_window(model, verifier);
    add_patient_with_scores(model);
    frame->SetSize(0, 0, 1366, 768);
    frame->Show();
    frame->Raise();
    frame->refresh_all();
    settle();

    frame->show_patient("p-outcomes");
    OutcomesPanel* panel = frame->outcomes_panel();
    REQUIRE(panel != nullptr);
    select_page_of(panel);
    CHECK(panel->IsShownOnScreen());
    const auto charts = panel->chart_panels();
    REQUIRE(charts.size() == 2);
    CHECK(charts[0]->chart().instrument == "phq9");
    CHECK(charts[1]->chart().instrument == "gad7");
    CHECK_THAT(charts[0]->chart().headline, ContainsSubstring("PHQ-9 16 \u2192 7"));
    CHECK_THAT(charts[0]->chart().headline, ContainsSubstring("response"));
    for (auto* chart : charts) {
        CHECK(chart->chart().points.size() == 3);
        CHECK(chart->GetClientSize().y >= chart->FromDIP(150));  // readable at 1366x768
    }
    CHECK(panel->table_rows() == 6);
    // Hovering a point offers its answers item by item.
    const wxPoint first = charts[0]->point_position(0);
    CHECK_THAT(charts[0]->tooltip_at(first.x, first.y), ContainsSubstring("Little interest or pleasure in doing things"));
    CHECK(charts[0]->tooltip_at(first.x, first.y - 60).empty());
    // Move the real pointer there so the screenshot shows the tooltip.
    wxUIActionSimulator sim;
    sim.MouseMove(charts[0]->ClientToScreen(charts[0]->point_position(2)));
    settle(10);
    sim.MouseMove(charts[0]->ClientToScreen(charts[0]->point_position(2)) + wxPoint(1, 0));
    settle(40);
    screenshot("outcomes.png");

    // The demo's stand-in bridge answers an export's audit at once: the audit trail gains the
    // clinician_action and the file is written.
    {
        TempDir dir;
        const auto png = dir.path() / "demo-report.png";
        const auto audited = model.audit().size();
        REQUIRE(panel->request_export(png));
        CHECK(panel->exports_waiting() == 0);
        CHECK(std::filesystem::exists(png));
        REQUIRE(model.audit().size() == audited + 1);
        CHECK(model.audit().back().type == "report_exported");
        CHECK(model.audit().back().patient_id == "p-outcomes");
    }

    SECTION("the chart redraws at a smaller window size without losing points") {
        frame->SetSize(0, 0, 1024, 640);
        settle();
        for (auto* chart : panel->chart_panels()) {
            const wxPoint p = chart->point_position(1);
            CHECK(p.x > 0);
            CHECK(p.x < chart->GetClientSize().x);
            CHECK(p.y > 0);
            CHECK(p.y < chart->GetClientSize().y);
        }
    }

    SECTION("the supervisor's outcome page shows the caseload table with an overall row and alliance") {
        sim.MouseMove(frame->ClientToScreen(wxPoint(5, 5)));  // no tooltip left over the screenshot
        settle(10);
        command(*frame, id_show_supervisor);
        SupervisorOutcomesPanel* sup = frame->supervisor_outcomes_panel();
        REQUIRE(sup != nullptr);
        select_page_of(sup);
        settle(20);  // the frame's tick rebuilds the shown page
        CHECK(sup->IsShownOnScreen());
        const auto& table = sup->caseload_table();
        REQUIRE(table.size() >= 2);
        CHECK(table.row(table.size() - 1)[0].text == "All therapists");
        CHECK(table.row(table.size() - 1)[7].text != "\u2014");  // the demo seeds WAI-SR
        CHECK(sup->patient_table().rows.size() >= 13);
        sup->sort_caseload(3);
        CHECK(sup->caseload_table().sorted_column() == std::optional<std::size_t>{3});
        // Loading history asks once per patient and stops at the first refusal (offline).
        CHECK(sup->fetch_all() == 0);  // the demo has no bridge to ask
        std::vector<std::string> asked;
        sup->set_fetcher([&](const std::string& id) {
            asked.push_back(id);
            return true;
        });
        CHECK(sup->fetch_all() == model.patients().size());
        CHECK(asked.size() == model.patients().size());
        sup->set_fetcher([&](const std::string&) { return false; });
        CHECK(sup->fetch_all() == 0);
        sup->set_fetcher({});
        screenshot("supervisor-outcomes.png");
    }

    frame->Destroy();
    settle();
}
