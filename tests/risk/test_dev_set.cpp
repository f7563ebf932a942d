// The labelled development set (tests/data/risk/dev.jsonl) against the targets.

#include <catch2/catch_test_macros.hpp>

#include <filesystem>

#include "risk_test_support.h"
#include "tandem/risk/evaluation.h"

namespace {

struct RecallFloors {
    double urgent;
    double flag;
};

// Every development set is held to the false-alarm limits (benign -> high+ at most 2%,
// -> moderate+ at most 10%) and to recall floors of its own: where its cases came from and what
// was tuned on it decides how high they stand (the comment at each set).
void check_floors(const char* file, std::size_t min_cases, RecallFloors floors) {
    const std::filesystem::path path = std::filesystem::path(TANDEM_TEST_DATA_DIR) / "risk" / file;
    if (!std::filesystem::exists(path)) SKIP("no development set at " << path.string());
    auto cases = tandem::load_labelled_set(path);
    REQUIRE(cases.has_value());
    REQUIRE(cases->size() >= min_cases);
    const auto report = tandem::evaluate(tandem::test::builtin_engine(), *cases);
    INFO(tandem::format_report(report, true));
    CHECK(report.urgent_recall() >= floors.urgent);
    CHECK(report.flag_recall() >= floors.flag);
    CHECK(report.benign_high_rate() <= 0.02);
    CHECK(report.benign_moderate_rate() <= 0.10);
}

}  // namespace

TEST_CASE("the development set meets the recall and false-alarm targets", "[risk][dev_set]") {
    check_floors("dev.jsonl", 400, {.urgent = 0.98, .flag = 0.95});
}

// dev2.jsonl was written before the compositional rules and run once as an unseen check
// (docs/RISK.md); it has since been tuned on, so its floors guard against regressions. Its
// urgent recall is still below the 0.98 target, hence floors rather than the targets.
TEST_CASE("the second development set stays above its regression floors", "[risk][dev_set]") {
    check_floors("dev2.jsonl", 250, {.urgent = 0.90, .flag = 0.93});
}

// dev3.jsonl was written for the learned model (docs/RISK_DATA.md) and is part of its training
// data, so, like dev2, it is guarded by regression floors, not held up as evidence.
TEST_CASE("the third development set stays above its regression floors", "[risk][dev_set]") {
    // Lower than the rules could reach alone on a set they were tuned on: the model's thresholds
    // are calibrated on real conversation traffic (scripts/risk/calibrate_thresholds.py), where
    // the dev-chosen ones raised a third of ordinary messages; 0.796 / 0.820 at 2026.11.26-4.
    check_floors("dev3.jsonl", 150, {.urgent = 0.78, .flag = 0.80});
}

// dev4.jsonl was written for the fifth pass (docs/RISK_DATA.md), run once through the unchanged
// engine as an unseen check (urgent 0.682, flag 0.848), then trained on and written rules from:
// like dev2 and dev3 it is guarded by regression floors, not held up as evidence.
TEST_CASE("the fourth development set stays above its regression floors", "[risk][dev_set]") {
    // 0.898 / 0.910 at model 2026.11.26-4 (thresholds calibrated on real conversation traffic).
    // 0.841 / 0.972 at 2026.11.26-8: the urgent floor moved from 0.88 because that model's urgent
    // threshold, calibrated to raise at most 1% of real client talk to high+, came out at 0.971
    // (-7: 0.717): trained with more ordinary talk (ordinary2) it is surer on real talk, so the
    // same 1% costs more urgent recall on written cases (docs/RISK.md, eighth pass).
    // 0.807 / 0.904 at 2026.11.26-10: the floor moved from 0.83 because that model's thresholds
    // are per category family, and the suicidal-ideation family, which spends AnnoMI's
    // false-alarm budget, got the highest (flag 0.965, urgent 0.999): on cases it was trained on
    // it raises fewer, while out of fold it catches more (docs/RISK.md, ninth pass).
    check_floors("dev4.jsonl", 300, {.urgent = 0.79, .flag = 0.90});
}

// dev5.jsonl was heldout3, scored once in aggregate with model -4 (urgent 0.524, flag 0.616),
// then made development data in the seventh pass: rules were written from its misses and the
// model is trained on it, so it is guarded by regression floors, not held up as evidence.
TEST_CASE("the fifth development set stays above its regression floors", "[risk][dev_set]") {
    // 0.796 / 0.890, benign 1.8% / 7.4% at model 2026.11.26-5. Below the targets even though
    // trained on: most of its misses are AI replies (the model does not act on them) and
    // phrasings no rule covers. 0.748 / 0.924 at 2026.11.26-8: the urgent floor moved from 0.77
    // for the reason given for dev4 above (urgent threshold 0.971 after calibration).
    check_floors("dev5.jsonl", 400, {.urgent = 0.74, .flag = 0.86});
}

// dev6.jsonl was heldout4, scored twice in aggregate (models -6 and -7: urgent 0.550, flag
// 0.769 with -7), then made development data in the eighth pass: rules were written from its
// misses and the model is trained on it, so it is guarded by regression floors.
TEST_CASE("the sixth development set stays above its regression floors", "[risk][dev_set]") {
    // 0.761 / 0.900, benign 1.1% / 4.5% at model 2026.11.26-8 (trained on).
    check_floors("dev6.jsonl", 400, {.urgent = 0.74, .flag = 0.88});
}

// dev7.jsonl (eighth pass, written by a separate helper session that never saw the engine) was
// run once through the unchanged engine as an unseen check (urgent 0.302, flag 0.588 with the
// eighth-pass rules and model -7), then trained on; no rule was written from it.
TEST_CASE("the seventh development set stays above its regression floors", "[risk][dev_set]") {
    // 0.523 / 0.879, benign 0.8% / 4.8% at model 2026.11.26-8 (trained on). Urgent recall is far
    // below the target: most of its urgent cases are phrasings no rule covers, and the model alone
    // raises to high only when very sure. 0.566 / 0.812 at 2026.11.26-10: the flag floor moved
    // from 0.86 for the reason given for dev4 above (the suicidal-ideation family's flag threshold
    // 0.965 against -8's global 0.891; out of fold dev7's flag recall rose, 0.549 -> 0.578).
    check_floors("dev7.jsonl", 700, {.urgent = 0.50, .flag = 0.79});
}

// dev8.jsonl (written training data, eighth pass) is first trained on by the shipped model in the
// ninth pass (rules alone before it: urgent 0.216, flag 0.337); the ninth pass wrote no rule from
// it, so its rules-alone gain (+4 urgent, +9 flag cases) is an unseen check of the cmp9 rules.
TEST_CASE("the eighth development set stays above its regression floors", "[risk][dev_set]") {
    // 0.622 / 0.844, benign 0.0% / 4.0% at model 2026.11.26-10 (trained on); out of fold 0.305 / 0.504.
    check_floors("dev8.jsonl", 700, {.urgent = 0.58, .flag = 0.80});
}

// dev9.jsonl was heldout5, scored once in aggregate (model -8: urgent 0.560, flag 0.777), then
// made development data in the ninth pass: rules were written from its misses (cmp9.*) and the
// model is trained on it, so it is guarded by regression floors, not held up as evidence.
TEST_CASE("the ninth development set stays above its regression floors", "[risk][dev_set]") {
    // 0.850 / 0.927, benign 0.0% / 1.7% at model 2026.11.26-10 (rules written from it, trained on).
    check_floors("dev9.jsonl", 400, {.urgent = 0.82, .flag = 0.90});
}

// dev10.jsonl was heldout6, scored once in aggregate (ninth pass, model -10: urgent 0.534, flag
// 0.731), then made development data in the tenth pass: model -11 is trained on it, so it is
// guarded by regression floors, not held up as evidence (out of fold: docs/RISK.md, tenth pass).
TEST_CASE("the tenth development set stays above its regression floors", "[risk][dev_set]") {
    // 0.680 / 0.877, benign 1.7% / 4.4% at model 2026.11.26-11 (trained on); out of fold 0.534 / 0.685.
    check_floors("dev10.jsonl", 400, {.urgent = 0.65, .flag = 0.85});
}

// dev11.jsonl was heldout7, scored once in aggregate (tenth pass, model -11: urgent 0.650, flag
// 0.824, benign 1.1% / 3.9%), then made development data in the eleventh pass: its misses were
// read and the model is trained on it, so it is guarded by regression floors, not held up as
// evidence (out of fold: docs/RISK.md, eleventh pass).
TEST_CASE("the eleventh development set stays above its regression floors", "[risk][dev_set]") {
    // 0.650 / 0.824, benign 1.1% / 3.9% at model 2026.11.26-11 (before it was trained on);
    // 0.913 / 0.950, benign 0.0% / 0.6% at 2026.11.27-12 (cmp11 rules written from its misses,
    // trained on), so the floors rose with it; out of fold: docs/RISK.md, eleventh pass.
    check_floors("dev11.jsonl", 400, {.urgent = 0.88, .flag = 0.92});
}

// dev12.jsonl was heldout8, scored once in aggregate (twelfth pass, model -12: urgent 0.716, flag
// 0.841, benign 0.6% / 3.9%), then made development data in the thirteenth pass: its misses were
// read and the cmp13 rules written from them, so it is guarded by regression floors, not held up
// as evidence (docs/RISK.md, thirteenth pass).
TEST_CASE("the twelfth development set stays above its regression floors", "[risk][dev_set]") {
    // 0.716 / 0.841, benign 0.6% / 3.9% before (model -12, twelfth-pass rules); 0.991 / 0.982,
    // benign 0.0% / 0.0% at model 2026.11.27-13 (cmp13 rules written from its misses, trained on);
    // out of fold 0.945 / 0.932 (docs/RISK.md, thirteenth pass).
    check_floors("dev12.jsonl", 400, {.urgent = 0.95, .flag = 0.94});
}

// dev13.jsonl was heldout9, scored once in aggregate (thirteenth pass, model -13: urgent 0.700,
// flag 0.849, benign 1.1% / 6.1%), then made development data in the fourteenth pass: the cmp14
// rules were written from its misses and the model is trained on it (docs/RISK.md, fourteenth pass).
TEST_CASE("the thirteenth development set stays above its regression floors", "[risk][dev_set]") {
    // 1.000 / 1.000, benign 0.0% / 0.6% at model 2026.11.27-14 with the cmp14 rules (both fitted
    // to it); the rules alone 0.973 / 0.977.
    check_floors("dev13.jsonl", 400, {.urgent = 0.95, .flag = 0.95});
}
