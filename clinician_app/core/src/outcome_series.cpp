#include "tandem/clinician/outcome_series.h"
#include "tandem/clinician/json_fields.h"

#include <algorithm>
#include <array>
#include <set>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tandem::clinician {
namespace {

using nlohmann::json;

// The order a clinician reads them in: mood, anxiety, safety, then the alliance.
constexpr std::array<std::string_view, 4> kClinicalOrder{"phq9", "gad7", "cssrs_screener", "wai_sr"};

std::size_t rank_of(const std::string& id) {
    const auto it = std::find(kClinicalOrder.begin(), kClinicalOrder.end(), id);
    return static_cast<std::size_t>(it - kClinicalOrder.begin());
}

}  // namespace

Result<AssessmentPoint> parse_assessment(const json& a) {
    if (!a.is_object()) return fail(ErrorCode::schema, "assessment is not an object");
    AssessmentPoint out;
    out.id = str(a, "id");
    if (out.id.empty()) return fail(ErrorCode::schema, "assessment without id", "/id");
    out.patient_id = str(a, "patient_id");
    out.instrument = str(a, "instrument");
    if (out.instrument.empty()) return fail(ErrorCode::schema, "assessment without instrument", "/instrument");
    const auto items = a.find("items");
    if (items == a.end() || !items->is_array()) return fail(ErrorCode::schema, "assessment without items", "/items");
    for (const auto& item : *items) {
        if (item.is_number_integer()) out.items.emplace_back(item.get<int>());
        else if (item.is_null()) out.items.emplace_back(std::nullopt);
        else return fail(ErrorCode::schema, "an item is neither an integer nor null", "/items");
    }
    if (const auto score = a.find("score"); score != a.end() && score->is_number_integer()) out.score = score->get<int>();
    out.band = str(a, "band");
    const auto administered = time_field(a, "administered_at");
    if (!administered) return fail(ErrorCode::schema, "assessment without administered_at", "/administered_at");
    out.administered_at = *administered;
    out.completed_at = time_field(a, "completed_at");
    return out;
}

bool AssessmentBook::apply_scored(const json& payload, const std::string& patient_id) {
    auto point = parse_assessment(payload);
    if (!point || !point->score) return false;
    if (point->patient_id.empty()) point->patient_id = patient_id;
    if (point->patient_id.empty()) return false;
    put(std::move(*point));
    return true;
}

std::size_t AssessmentBook::merge_reply(const json& payload) {
    if (!payload.is_object()) return 0;
    const std::string patient_id = str(payload, "patient_id");
    const auto list = payload.find("assessments");
    if (list == payload.end() || !list->is_array()) return 0;
    std::size_t kept = 0;
    for (const auto& record : *list) {
        if (apply_scored(record, patient_id)) ++kept;
    }
    if (!patient_id.empty()) fetched_.insert(patient_id);
    ++revision_;  // even an empty reply changes what the view says ("no results yet")
    return kept;
}

void AssessmentBook::put(AssessmentPoint point) {
    changed_.insert(point.id);
    restore(std::move(point));
}

void AssessmentBook::restore(AssessmentPoint point) {
    const std::string id = point.id;
    points_[id] = std::move(point);
    ++revision_;
}

std::set<std::string> AssessmentBook::take_changed() {
    std::set<std::string> out;
    out.swap(changed_);
    return out;
}

std::vector<const AssessmentPoint*> AssessmentBook::series(const std::string& patient_id,
                                                           const std::string& instrument) const {
    std::vector<const AssessmentPoint*> out;
    // A linear pass: a clinic's lifetime of questionnaires is thousands, not millions, and an
    // index per patient would be one more thing to keep in step on every put().
    for (const auto& [id, p] : points_) {
        if (p.patient_id == patient_id && p.instrument == instrument && p.score) out.push_back(&p);
    }
    std::stable_sort(out.begin(), out.end(), [](const AssessmentPoint* a, const AssessmentPoint* b) {
        return a->when() < b->when();
    });
    return out;
}

std::vector<std::string> AssessmentBook::instruments(const std::string& patient_id) const {
    std::set<std::string> found;
    for (const auto& [id, p] : points_) {
        if (p.patient_id == patient_id && p.score) found.insert(p.instrument);
    }
    std::vector<std::string> out(found.begin(), found.end());
    std::stable_sort(out.begin(), out.end(),
                     [](const std::string& a, const std::string& b) { return rank_of(a) < rank_of(b); });
    return out;
}

std::vector<std::string> AssessmentBook::patients() const {
    std::set<std::string> found;
    for (const auto& [id, p] : points_) found.insert(p.patient_id);
    return {found.begin(), found.end()};
}

}  // namespace tandem::clinician
