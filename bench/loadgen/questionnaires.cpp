// The demo's questionnaires: answers for `tandem-loadgen play` and seeded history for
// `tandem-loadgen prepare` (questionnaires.h). Demo and bench only: nothing here is linked into
// the bridge, so no real deployment path can write seeded results.

#include "questionnaires.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <set>

#include "tandem/bridge/wire.h"
#include "tandem/domain/time.h"
#include "tandem/measures/measures.h"

namespace tandem::loadgen {
namespace {

using json = nlohmann::json;
using Values = std::vector<std::optional<int>>;

const Actor kSeeder{ActorKind::system, std::string("tandem-loadgen")};
constexpr int kReturningWeeks = 8;  // the default schedule's last point: week 8 is due at the first session
constexpr const char* kSeededNote = "tandem-loadgen prepare: demo history, not a real patient's answers";

// FNV-1a: the same patient answers the same way in every run of the demo.
std::uint64_t stable_hash(std::string_view s) {
    std::uint64_t h = 1469598103934665603ull;
    for (const unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

json patient_entry(const json& scenario, std::size_t i) {
    const auto people = scenario.value("patients", json::array());
    return i < people.size() && people[i].is_object() ? people[i] : json::object();
}

// The patient's answer set for one instrument: its own, its script's, the default, or none.
json answer_set(const json& scenario, std::size_t i, const std::string& instrument) {
    const auto sets = scenario.value("questionnaire_answers", json::object());
    const auto p = patient_entry(scenario, i);
    const std::string keys[] = {p.value("answers", ""), p.value("script", ""), "default"};
    for (const auto& key : keys) {
        if (key.empty()) continue;
        const auto set = sets.find(key);
        if (set == sets.end() || !set->is_object()) continue;
        if (const auto a = set->find(instrument); a != set->end() && a->is_array()) return *a;
    }
    return json::array();
}

std::vector<int> option_values(const json& item) {
    std::vector<int> out;
    for (const auto& o : item.value("options", json::array()))
        if (o.contains("value") && o["value"].is_number_integer()) out.push_back(o["value"].get<int>());
    std::sort(out.begin(), out.end());
    return out;
}

// A form's show_if, as the chat page evaluates it.
bool holds(const json& cond, const json& items, const Values& values) {
    const std::string target = cond.value("item", "");
    for (std::size_t k = 0; k < items.size() && k < values.size(); ++k) {
        if (items[k].value("id", "") != target) continue;
        if (!values[k]) return false;
        const int v = *values[k];
        if (cond.contains("equals") && cond["equals"].is_number_integer() && v != cond["equals"].get<int>()) return false;
        if (cond.contains("min") && cond["min"].is_number_integer() && v < cond["min"].get<int>()) return false;
        if (cond.contains("max") && cond["max"].is_number_integer() && v > cond["max"].get<int>()) return false;
        return true;
    }
    return false;
}

// The wanted answers fitted to the form: the nearest offered value, nothing for a question the
// skip logic hides or an optional one left blank, the first option where the set says nothing.
Values fit(const json& instrument, const json& wanted) {
    const auto items = instrument.value("items", json::array());
    Values values;
    for (std::size_t i = 0; i < items.size(); ++i) {
        const auto& item = items[i];
        const auto options = option_values(item);
        const bool hidden = item.contains("show_if") && item["show_if"].is_object() && !holds(item["show_if"], items, values);
        const bool has = i < wanted.size() && wanted[i].is_number_integer();
        if (hidden || options.empty() || (!has && item.value("optional", false))) {
            values.emplace_back(std::nullopt);
            continue;
        }
        if (!has) {
            values.emplace_back(options.front());
            continue;
        }
        const int w = wanted[i].get<int>();
        values.emplace_back(*std::min_element(options.begin(), options.end(),
                                              [&](int a, int b) { return std::abs(a - w) < std::abs(b - w); }));
    }
    return values;
}

json to_json(const Values& values) {
    json out = json::array();
    for (const auto& v : values) out.push_back(v ? json(*v) : json(nullptr));
    return out;
}

// `points` worse than `values` (negative: better), one answer step at a time over the scored
// items in turn. Items a risk rule reads are never moved: seeded history must not hold an
// answer that would have opened a flag nobody saw.
Values shifted(const InstrumentDefinition& def, Values values, int points) {
    std::set<std::string> risky;
    for (const auto& rule : def.risk_rules)
        for (const auto& c : rule.any) risky.insert(c.item);
    const bool up = (points > 0) == def.outcomes.lower_is_better;
    int left = std::abs(points);
    for (bool moved = true; left > 0 && moved;) {
        moved = false;
        for (std::size_t i = 0; i < def.items.size() && i < values.size() && left > 0; ++i) {
            const auto& item = def.items[i];
            if (!values[i] || !item.scored || risky.contains(item.id)) continue;
            std::vector<int> options;
            for (const auto& o : item.options) options.push_back(o.value);
            std::sort(options.begin(), options.end());
            const auto at = std::find(options.begin(), options.end(), *values[i]);
            if (at == options.end()) continue;
            if (up && at + 1 != options.end()) values[i] = *(at + 1);
            else if (!up && at != options.begin()) values[i] = *(at - 1);
            else continue;
            --left;
            moved = true;
        }
    }
    return values;
}

}  // namespace

std::vector<QuestionnaireStep> plan_questionnaire(const json& scenario, std::size_t patient_index, const json& form,
                                                  double speed) {
    speed = speed > 0 ? speed : 1.0;
    const auto instrument = form.value("instrument", json::object());
    const std::string id = form.value("assessment_id", "");
    const std::string instrument_id = instrument.value("id", "");
    const Values values = fit(instrument, answer_set(scenario, patient_index, instrument_id));
    const auto h = stable_hash(patient_entry(scenario, patient_index).value("name", "") + ":" + instrument_id);
    // A person reads the form first: 20 to 90 s before the first answer goes out.
    const double first = static_cast<double>(20 + h % 71) / speed;
    const auto saved = form.value("answers", json::array());
    const bool resumed = std::any_of(saved.begin(), saved.end(), [](const json& v) { return !v.is_null(); });
    std::vector<QuestionnaireStep> steps;
    if (resumed || h % 3 != 0) {
        steps.push_back({first, {{"assessment_id", id}, {"items", to_json(values)}, {"final", true}}, true});
        return steps;
    }
    // Two sittings: the first half of the answered questions saved, the rest a few minutes on.
    const auto answered = std::count_if(values.begin(), values.end(), [](const auto& v) { return v.has_value(); });
    Values half = values;
    long kept = 0;
    for (auto& v : half)
        if (v && ++kept > (answered + 1) / 2) v.reset();
    while (!half.empty() && !half.back()) half.pop_back();
    steps.push_back({first, {{"assessment_id", id}, {"items", to_json(half)}, {"final", false}}, false});
    steps.push_back({static_cast<double>(60 + (h / 7) % 121) / speed,
                     {{"assessment_id", id}, {"items", to_json(values)}, {"final", true}},
                     true});
    return steps;
}

int returning_weeks(const json& scenario, std::size_t patient_index) {
    return patient_entry(scenario, patient_index).value("returning", "").empty() ? 0 : kReturningWeeks;
}

Result<std::string> register_returning_patient(Store& store, const std::string& display_name, int weeks) {
    const std::string id = bridge::new_id();
    NewEvent e;
    e.type = EventType::patient_registered;
    e.patient_id = id;
    e.actor = kSeeder;
    e.payload = {{"id", id},
                 {"clinic_id", "clinic"},
                 {"display_name", display_name},
                 {"conditions", json::array()},
                 {"locale", "en-US"},
                 {"created_at", format_timestamp(now_utc() - std::chrono::weeks(weeks) - std::chrono::days(2))}};
    if (auto r = store.append(std::move(e)); !r) return std::unexpected(r.error());
    return id;
}

Result<int> seed_questionnaire_history(Store& store, const json& scenario, std::size_t patient_index,
                                       const std::string& patient_id) {
    const auto trajectory_name = patient_entry(scenario, patient_index).value("returning", "");
    if (trajectory_name.empty()) return 0;
    const auto trajectory = scenario.value("returning_history", json::object()).value(trajectory_name, json());
    if (!trajectory.is_object())
        return fail(ErrorCode::invalid_argument, "no returning_history named '" + trajectory_name + "'", "returning");
    auto patient = store.find_patient(patient_id);
    if (!patient) return std::unexpected(patient.error());
    if (!*patient) return fail(ErrorCode::not_found, "no such patient", "patient_id");
    const auto registered = parse_timestamp((*patient)->record.value("created_at", ""));
    if (!registered) return fail(ErrorCode::invalid_argument, "patient has no created_at", "created_at");

    struct Point {
        const char* name;
        std::chrono::milliseconds after_registration;
    };
    const Point points[] = {{"intake", std::chrono::hours(1)},
                            {"week4", std::chrono::weeks(4) + std::chrono::days(1)}};
    const auto& registry = InstrumentRegistry::builtin();
    int written = 0;
    for (const auto& point : points) {
        for (const char* instrument : {"phq9", "gad7", "wai_sr"}) {
            const auto* def = registry.find(instrument);
            if (def == nullptr) return fail(ErrorCode::not_found, std::string("no instrument ") + instrument);
            const Values now = fit(patient_view(*def), answer_set(scenario, patient_index, instrument));
            const Values then = shifted(*def, now, trajectory.value(point.name, 0));
            auto scored = score(*def, then);
            if (!scored) return std::unexpected(scored.error());
            const std::string id = bridge::new_id();
            const Timestamp offered_at = *registered + point.after_registration;
            const std::string key = "demo-seed:" + patient_id + ":" + instrument + ":" + point.name;

            NewEvent offered;
            offered.type = EventType::assessment_offered;
            offered.patient_id = patient_id;
            offered.actor = kSeeder;
            offered.payload = {{"assessment_id", id},
                               {"patient_id", patient_id},
                               {"instrument", instrument},
                               {"requested_by", "schedule"},
                               {"offered_at", format_timestamp(offered_at)},
                               {"due", std::string("demo-seed:") + point.name},
                               {"seeded", kSeededNote}};
            offered.dedupe_key = key;
            NewEvent done;
            done.type = EventType::assessment_scored;
            done.patient_id = patient_id;
            done.actor = kSeeder;
            // The whole Assessment record, as the bridge stores it (schemas/records/assessment
            // allows no extra field: the offer above carries the demo marker).
            done.payload = {{"id", id},
                            {"patient_id", patient_id},
                            {"instrument", instrument},
                            {"items", to_json(then)},
                            {"score", scored->total},
                            {"administered_at", format_timestamp(offered_at)},
                            {"completed_at", format_timestamp(offered_at + std::chrono::minutes(7))},
                            {"requested_by", "schedule"}};
            if (scored->band) done.payload["band"] = *scored->band;
            done.dedupe_key = key + ":scored";
            std::vector<NewEvent> batch;
            batch.push_back(std::move(offered));
            batch.push_back(std::move(done));
            auto r = store.append_batch(std::move(batch));
            if (!r) return std::unexpected(r.error());
            if (!r->front().duplicate) ++written;
        }
    }
    return written;
}

}  // namespace tandem::loadgen
