#include "tandem/clinician/outcome_demo.h"

#include <algorithm>
#include <array>

#include <nlohmann/json.hpp>

#include "tandem/measures/measures.h"

namespace tandem::clinician {
namespace {

using nlohmann::json;
using std::chrono::hours;

struct Shape {
    std::size_t items;
    int low;   ///< lowest answer value
    int high;  ///< highest answer value
};

Shape shape_of(const std::string& instrument) {
    if (instrument == "gad7") return {7, 0, 3};
    if (instrument == "wai_sr") return {12, 1, 5};
    return {9, 0, 3};
}

// Intake, week 4, week 8: the trial's schedule. Each row is one patient's PHQ-9, GAD-7 totals.
struct Trajectory {
    std::array<int, 3> phq9;
    std::array<int, 3> gad7;
    std::array<int, 2> wai;
};
constexpr std::array<Trajectory, 6> kTrajectories{{
    {{14, 10, 6}, {12, 9, 7}, {41, 48}},    // response and reliable improvement
    {{11, 7, 3}, {9, 6, 4}, {44, 50}},      // remission
    {{18, 17, 16}, {15, 15, 13}, {33, 35}}, // no reliable change
    {{9, 12, 16}, {8, 10, 13}, {30, 27}},   // deterioration
    {{21, 15, 9}, {17, 12, 8}, {46, 53}},   // response from severe
    {{7, 6, 6}, {11, 8, 6}, {38, 43}},      // mild, GAD-7 reliable improvement
}};

}  // namespace

StoredEvent demo_assessment_event(std::uint64_t seq, const std::string& patient_id, const std::string& instrument,
                                  int total, TimePoint completed_at, const std::string& id) {
    const Shape shape = shape_of(instrument);
    // Spread the total over the items, filling from the first item (PHQ-9 item 9 stays at 0 unless
    // the total needs it, so the demo's charts do not all raise urgent flags).
    std::vector<int> items(shape.items, shape.low);
    int left = total - static_cast<int>(shape.items) * shape.low;
    const std::size_t spread = instrument == "phq9" ? items.size() - 1 : items.size();
    for (std::size_t round = 0; left > 0 && round < 8; ++round) {
        for (std::size_t i = 0; i < (round < 4 ? spread : items.size()) && left > 0; ++i) {
            if (items[i] < shape.high) {
                ++items[i];
                --left;
            }
        }
    }
    json record{{"id", id},
                {"patient_id", patient_id},
                {"instrument", instrument},
                {"items", items},
                {"score", total},
                {"administered_at", format_utc(completed_at - std::chrono::minutes{6})},
                {"completed_at", format_utc(completed_at)}};
    if (const auto* def = InstrumentRegistry::builtin().find(std::string_view{instrument})) {
        if (auto band = band_of_total(*def, total)) record["band"] = *band;
    }
    StoredEvent e;
    e.seq = seq;
    e.id = "demo-ev-" + std::to_string(seq);
    e.type = "assessment_scored";
    e.time = completed_at;
    e.patient_id = patient_id;
    e.actor_kind = "patient";
    e.actor_id = patient_id;
    e.payload_json = record.dump();
    return e;
}

std::vector<StoredEvent> demo_assessment_events(const Model& model, TimePoint now, std::size_t patients) {
    std::vector<StoredEvent> out;
    std::uint64_t seq = model.cursor();
    std::size_t n = 0;
    const auto week = std::chrono::duration_cast<std::chrono::milliseconds>(hours{24 * 7});
    const auto start = now - std::chrono::duration_cast<std::chrono::milliseconds>(hours{24}) - 8 * week;
    for (const auto& [patient_id, patient] : model.patients()) {
        if (n >= patients) break;
        const auto& t = kTrajectories[n % kTrajectories.size()];
        // Stagger patients by a few days so the clinic's charts do not all share dates.
        const auto offset = std::chrono::duration_cast<std::chrono::milliseconds>(hours{24 * static_cast<int>(n % 5)});
        for (int visit = 0; visit < 3; ++visit) {
            const auto at = start - offset + visit * 4 * week + std::chrono::duration_cast<std::chrono::milliseconds>(hours{visit});
            const std::string tag = patient_id + "-" + std::to_string(visit);
            out.push_back(demo_assessment_event(++seq, patient_id, "phq9", t.phq9[static_cast<std::size_t>(visit)], at,
                                                "demo-phq9-" + tag));
            out.push_back(demo_assessment_event(++seq, patient_id, "gad7", t.gad7[static_cast<std::size_t>(visit)],
                                                at + std::chrono::minutes{8}, "demo-gad7-" + tag));
            if (visit > 0) {
                out.push_back(demo_assessment_event(++seq, patient_id, "wai_sr", t.wai[static_cast<std::size_t>(visit - 1)],
                                                    at + std::chrono::minutes{16}, "demo-wai-" + tag));
            }
        }
        ++n;
    }
    return out;
}

}  // namespace tandem::clinician
