// Reading an instrument definition: the JSON Schema first (shape and types), then the rules a
// schema cannot express, each refused with the JSON pointer of the offending value.

#include <algorithm>
#include <set>
#include <string>

#include "tandem/measures/measures.h"
#include "tandem/schema/schema_registry.h"

namespace tandem {
namespace {

using nlohmann::json;

// The first broken rule, as the error a caller sees: "phq9.json: <message>" at the pointer.
struct Problem {
    std::string pointer;
    std::string message;
};

std::string ptr(std::string_view base, std::size_t index) {
    return std::string(base) + "/" + std::to_string(index);
}

AnswerCondition read_condition(const json& j) {
    AnswerCondition c;
    c.item = j.at("item").get<std::string>();
    if (j.contains("equals")) c.equals = j.at("equals").get<int>();
    if (j.contains("min")) c.min = j.at("min").get<int>();
    if (j.contains("max")) c.max = j.at("max").get<int>();
    return c;
}

std::vector<AnswerCondition> read_conditions(const json& j) {
    std::vector<AnswerCondition> out;
    for (const auto& c : j) out.push_back(read_condition(c));
    return out;
}

std::optional<RiskCategory> category_named(std::string_view name) {
    return from_string<RiskCategory>(name);
}

// Everything the schema let through, turned into the value type; no rule checks here.
InstrumentDefinition read_definition(const json& doc) {
    InstrumentDefinition d;
    d.id = doc.at("id").get<std::string>();
    d.title = doc.at("title").get<std::string>();
    d.short_title = doc.value("short_title", d.title);
    d.version = doc.at("version").get<int>();
    d.instructions = doc.at("instructions").get<std::string>();
    d.source = doc.value("source", std::string());
    if (doc.contains("loinc")) {
        const auto& l = doc.at("loinc");
        if (l.contains("panel")) d.loinc_panel = l.at("panel").get<std::string>();
        if (l.contains("total")) d.loinc_total = l.at("total").get<std::string>();
    }
    for (const auto& j : doc.at("items")) {
        InstrumentItem item;
        item.id = j.at("id").get<std::string>();
        item.text = j.at("text").get<std::string>();
        for (const auto& o : j.at("options")) {
            item.options.push_back({o.at("value").get<int>(), o.at("label").get<std::string>()});
        }
        if (j.contains("loinc")) item.loinc = j.at("loinc").get<std::string>();
        if (j.contains("show_if")) item.show_if = read_condition(j.at("show_if"));
        item.scored = j.value("scored", true);
        item.optional = j.value("optional", false);
        item.subscale = j.value("subscale", std::string());
        d.items.push_back(std::move(item));
    }
    const auto& s = doc.at("scoring");
    d.scoring.method = s.at("method") == "count_yes" ? ScoringMethod::count_yes : ScoringMethod::sum;
    if (s.contains("bands")) {
        for (const auto& b : s.at("bands")) {
            const auto label = b.at("label").get<std::string>();
            d.scoring.bands.push_back({b.at("min").get<int>(), b.at("max").get<int>(), label,
                                       b.value("title", label)});
        }
    }
    if (s.contains("triage")) {
        for (const auto& r : s.at("triage").at("rules")) {
            d.scoring.triage.push_back({r.at("label").get<std::string>(), read_conditions(r.at("any"))});
        }
        d.scoring.triage_default = s.at("triage").at("default").get<std::string>();
    }
    if (s.contains("subscales")) {
        for (const auto& sub : s.at("subscales")) {
            d.scoring.subscales.push_back({sub.at("id").get<std::string>(), sub.at("title").get<std::string>()});
        }
    }
    d.scoring.report_mean = s.value("report_mean", false);
    if (s.contains("missing")) {
        d.scoring.max_missing = s.at("missing").at("max_missing").get<int>();
        d.scoring.prorate = s.at("missing").at("prorate").get<bool>();
    }
    if (doc.contains("risk_rules")) {
        for (const auto& r : doc.at("risk_rules")) {
            AnswerRiskRule rule;
            rule.id = r.at("id").get<std::string>();
            rule.any = read_conditions(r.at("any"));
            rule.severity = parse_severity(r.at("severity").get<std::string>()).value_or(Severity::high);
            rule.urgent = r.at("urgent").get<bool>();
            if (r.contains("categories")) {
                for (const auto& c : r.at("categories")) {
                    if (auto cat = category_named(c.get<std::string>())) rule.categories.push_back(*cat);
                }
            }
            rule.reason = r.at("reason").get<std::string>();
            d.risk_rules.push_back(std::move(rule));
        }
    }
    if (doc.contains("outcomes")) {
        const auto& o = doc.at("outcomes");
        d.outcomes.lower_is_better = o.at("direction") == "lower_is_better";
        if (o.contains("response_percent")) d.outcomes.response_percent = o.at("response_percent").get<double>();
        if (o.contains("remission_below")) d.outcomes.remission_below = o.at("remission_below").get<int>();
        if (o.contains("reliable_change")) d.outcomes.reliable_change = o.at("reliable_change").get<int>();
    }
    d.document = doc;
    return d;
}

// The rules between parts of a definition. Returns the first problem found, in file order.
std::optional<Problem> check_rules(InstrumentDefinition& d) {
    std::set<std::string, std::less<>> seen_items;
    std::set<std::string, std::less<>> subscale_ids;
    for (std::size_t k = 0; k < d.scoring.subscales.size(); ++k) {
        if (!subscale_ids.insert(d.scoring.subscales[k].id).second) {
            return Problem{ptr("/scoring/subscales", k) + "/id", "repeats subscale id \"" + d.scoring.subscales[k].id + "\""};
        }
    }
    auto value_allowed = [&](std::size_t item, int value) {
        const auto& options = d.items[item].options;
        return std::any_of(options.begin(), options.end(), [&](const AnswerOption& o) { return o.value == value; });
    };
    // A condition must name an item (an earlier one, for skip logic) and, where it asks for an
    // exact value, one of that item's options: a typo there would silently never fire.
    auto check_condition = [&](const AnswerCondition& c, const std::string& at,
                               std::optional<std::size_t> before) -> std::optional<Problem> {
        const auto index = d.item_index(c.item);
        if (!index) return Problem{at + "/item", "names no item of this instrument (\"" + c.item + "\")"};
        if (before && *index >= *before) {
            return Problem{at + "/item", "must name an earlier item (\"" + c.item + "\" comes later)"};
        }
        if (c.equals && !value_allowed(*index, *c.equals)) {
            return Problem{at + "/equals", "is not an option value of item \"" + c.item + "\""};
        }
        if (c.min && c.max && *c.min > *c.max) return Problem{at + "/min", "is above max"};
        return std::nullopt;
    };

    int scored = 0;
    d.scoring.total_min = 0;
    d.scoring.total_max = 0;
    for (std::size_t i = 0; i < d.items.size(); ++i) {
        const auto& item = d.items[i];
        const std::string at = ptr("/items", i);
        if (!seen_items.insert(item.id).second) {
            return Problem{at + "/id", "repeats item id \"" + item.id + "\""};
        }
        std::set<int> values;
        for (std::size_t k = 0; k < item.options.size(); ++k) {
            if (!values.insert(item.options[k].value).second) {
                return Problem{ptr(at + "/options", k) + "/value", "repeats an option value of item \"" + item.id + "\""};
            }
        }
        if (item.show_if) {
            if (auto p = check_condition(*item.show_if, at + "/show_if", i)) return p;
        }
        if (!item.subscale.empty() && !subscale_ids.contains(item.subscale)) {
            return Problem{at + "/subscale", "names no subscale of scoring.subscales (\"" + item.subscale + "\")"};
        }
        if (!item.scored) continue;
        ++scored;
        if (d.scoring.method == ScoringMethod::count_yes) {
            d.scoring.total_max += 1;
        } else {
            d.scoring.total_min += *values.begin();
            d.scoring.total_max += *values.rbegin();
        }
        if (item.optional) {
            return Problem{at + "/optional", "a scored item may not be optional (set \"scored\": false)"};
        }
    }
    if (scored == 0) return Problem{"/items", "has no scored item"};
    for (std::size_t k = 0; k < d.scoring.subscales.size(); ++k) {
        const auto& id = d.scoring.subscales[k].id;
        if (std::none_of(d.items.begin(), d.items.end(), [&](const InstrumentItem& it) { return it.subscale == id; })) {
            return Problem{ptr("/scoring/subscales", k), "subscale \"" + id + "\" has no items"};
        }
    }
    if (d.scoring.max_missing > scored - 1) {
        return Problem{"/scoring/missing/max_missing", "must leave at least one scored item answered"};
    }
    if (d.scoring.method == ScoringMethod::count_yes && d.scoring.prorate) {
        return Problem{"/scoring/missing/prorate", "a count of yes answers cannot be prorated"};
    }
    // Bands must tile the possible totals: sorted, no gap, no overlap, first at the lowest
    // possible total and last at the highest, so every total has exactly one band.
    const auto& bands = d.scoring.bands;
    for (std::size_t k = 0; k < bands.size(); ++k) {
        const std::string at = ptr("/scoring/bands", k);
        if (bands[k].min > bands[k].max) return Problem{at + "/min", "is above max"};
        const int expected = k == 0 ? d.scoring.total_min : bands[k - 1].max + 1;
        if (bands[k].min != expected) {
            return Problem{at + "/min", "must be " + std::to_string(expected) +
                                            (k == 0 ? " (the lowest possible total)" : " (one above the previous band's max)")};
        }
        for (std::size_t e = 0; e < k; ++e) {
            if (bands[e].label == bands[k].label) return Problem{at + "/label", "repeats band \"" + bands[k].label + "\""};
        }
    }
    if (!bands.empty() && bands.back().max != d.scoring.total_max) {
        return Problem{ptr("/scoring/bands", bands.size() - 1) + "/max",
                       "must be " + std::to_string(d.scoring.total_max) + " (the highest possible total)"};
    }
    for (std::size_t r = 0; r < d.scoring.triage.size(); ++r) {
        const auto& rule = d.scoring.triage[r];
        for (std::size_t c = 0; c < rule.any.size(); ++c) {
            if (auto p = check_condition(rule.any[c], ptr(ptr("/scoring/triage/rules", r) + "/any", c), std::nullopt)) return p;
        }
    }
    std::set<std::string, std::less<>> rule_ids;
    for (std::size_t r = 0; r < d.risk_rules.size(); ++r) {
        const auto& rule = d.risk_rules[r];
        const std::string at = ptr("/risk_rules", r);
        if (!rule_ids.insert(rule.id).second) return Problem{at + "/id", "repeats risk rule id \"" + rule.id + "\""};
        for (std::size_t c = 0; c < rule.any.size(); ++c) {
            if (auto p = check_condition(rule.any[c], ptr(at + "/any", c), std::nullopt)) return p;
        }
    }
    if (d.outcomes.remission_below && !d.outcomes.lower_is_better) {
        return Problem{"/outcomes/remission_below", "applies only to direction lower_is_better"};
    }
    if (d.outcomes.reliable_change && *d.outcomes.reliable_change > d.scoring.total_max - d.scoring.total_min) {
        return Problem{"/outcomes/reliable_change", "is larger than the range of totals"};
    }
    return std::nullopt;
}

}  // namespace

std::string_view to_string(ScoringMethod method) noexcept {
    return method == ScoringMethod::count_yes ? "count_yes" : "sum";
}

std::optional<std::size_t> InstrumentDefinition::item_index(std::string_view item_id) const noexcept {
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (items[i].id == item_id) return i;
    }
    return std::nullopt;
}

Result<InstrumentDefinition> parse_instrument(const json& document, std::string_view source_name) {
    const std::string source(source_name);
    if (auto valid = SchemaRegistry::builtin().validate("instrument", document); !valid) {
        return fail(ErrorCode::schema, source + ": " + valid.error().message, valid.error().field);
    }
    InstrumentDefinition definition;
    try {
        definition = read_definition(document);
    } catch (const json::exception& e) {
        // The schema admits only what read_definition reads; reaching here is a defect.
        return fail(ErrorCode::internal, source + ": " + e.what());
    }
    if (auto problem = check_rules(definition)) {
        return fail(ErrorCode::schema, source + ": " + problem->message, problem->pointer);
    }
    return definition;
}

nlohmann::json patient_view(const InstrumentDefinition& definition) {
    json view = definition.document;
    // Bands, risk rules and thresholds are for clinicians; a form that showed "item 9 opens a
    // flag" would invite a patient to answer around it.
    for (const char* key : {"$schema", "scoring", "risk_rules", "outcomes", "source"}) view.erase(key);
    return view;
}

}  // namespace tandem
