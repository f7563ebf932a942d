// Answers to scores: skip logic, answer checks, totals with the published missing-item rule,
// bands, subscales, and risk from answers. Everything the instrument decides comes from its
// definition; this file only knows the kinds of rule.

#include <algorithm>
#include <string>

#include "answer_logic.h"
#include "tandem/measures/measures.h"

namespace tandem {
namespace {

using detail::answer_at;
using detail::holds;

std::string item_field(std::size_t index) { return "items[" + std::to_string(index) + "]"; }

std::string option_list(const InstrumentItem& item) {
    std::string out;
    for (const auto& o : item.options) {
        if (!out.empty()) out += ", ";
        out += std::to_string(o.value);
    }
    return out;
}

bool is_option(const InstrumentItem& item, int value) {
    return std::any_of(item.options.begin(), item.options.end(),
                       [&](const AnswerOption& o) { return o.value == value; });
}

// visible[i]: an item is shown when it has no show_if, or its show_if names a shown item whose
// answer passes. show_if always names an earlier item (checked at load), so one pass suffices.
std::vector<bool> visibility(const InstrumentDefinition& d, const Answers& answers) {
    std::vector<bool> visible(d.items.size(), true);
    for (std::size_t i = 0; i < d.items.size(); ++i) {
        const auto& show_if = d.items[i].show_if;
        if (!show_if) continue;
        const auto target = d.item_index(show_if->item);
        visible[i] = target && visible[*target] && holds(d, *show_if, answers);
    }
    return visible;
}

// Half up, on non-negative integers: round(numerator / denominator).
int round_half_up(long long numerator, long long denominator) {
    return static_cast<int>((2 * numerator + denominator) / (2 * denominator));
}

}  // namespace

std::vector<std::size_t> visible_items(const InstrumentDefinition& definition, const Answers& answers) {
    const auto visible = visibility(definition, answers);
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < visible.size(); ++i) {
        if (visible[i]) out.push_back(i);
    }
    return out;
}

Result<void> check_answers(const InstrumentDefinition& d, const Answers& answers, bool final) {
    if (answers.size() > d.items.size()) {
        return fail(ErrorCode::invalid_argument,
                    "has " + std::to_string(answers.size()) + " answers; " + d.short_title + " has " +
                        std::to_string(d.items.size()) + " items",
                    "items");
    }
    const auto visible = visibility(d, answers);
    std::vector<std::size_t> missing;
    for (std::size_t i = 0; i < d.items.size(); ++i) {
        const auto& item = d.items[i];
        const auto value = answer_at(answers, i);
        if (value) {
            if (!is_option(item, *value)) {
                return fail(ErrorCode::invalid_argument,
                            "answer " + std::to_string(*value) + " to " + item.id + " must be one of " + option_list(item),
                            item_field(i));
            }
            if (!visible[i]) {
                return fail(ErrorCode::invalid_argument,
                            item.id + " is skipped by the instrument's logic (it follows " +
                                (item.show_if ? item.show_if->item : std::string("an earlier item")) +
                                ") and must be left unanswered",
                            item_field(i));
            }
            continue;
        }
        if (!visible[i] || item.optional) continue;
        if (!item.scored) {
            if (final) return fail(ErrorCode::invalid_argument, item.id + " must be answered", item_field(i));
            continue;
        }
        missing.push_back(i);
    }
    if (final && missing.size() > static_cast<std::size_t>(d.scoring.max_missing)) {
        const std::string rule = d.scoring.max_missing == 0
                                     ? d.short_title + " is scored only when every question is answered"
                                     : d.short_title + " may be scored with at most " +
                                           std::to_string(d.scoring.max_missing) + " unanswered";
        if (missing.size() == 1) return fail(ErrorCode::invalid_argument, d.items[missing[0]].id + " is unanswered; " + rule, item_field(missing[0]));
        return fail(ErrorCode::invalid_argument,
                    std::to_string(missing.size()) + " questions are unanswered; " + rule, "items");
    }
    return {};
}

Result<Score> score(const InstrumentDefinition& d, const Answers& answers) {
    if (auto ok = check_answers(d, answers, true); !ok) return std::unexpected(ok.error());
    const auto visible = visibility(d, answers);
    Score s;
    s.instrument = d.id;
    long long sum = 0;
    int shown_scored = 0;
    bool required_missing = false;
    for (std::size_t i = 0; i < d.items.size(); ++i) {
        const auto& item = d.items[i];
        const auto value = answer_at(answers, i);
        s.items.push_back({item.id, value, visible[i], item.loinc});
        if (!visible[i]) continue;
        if (!value && !item.optional) required_missing = true;
        if (!item.scored) continue;
        ++shown_scored;
        if (!value) {
            ++s.missing;
            continue;
        }
        ++s.answered;
        sum += d.scoring.method == ScoringMethod::count_yes ? (*value > 0 ? 1 : 0) : *value;
    }
    s.complete = !required_missing;
    s.total = static_cast<int>(sum);
    if (s.missing > 0 && d.scoring.prorate) {
        // Mean substitution: each missing item counts as the mean of the answered ones, which
        // is the sum scaled by shown/answered (Arrieta et al. 2017 for the PHQ-9).
        s.total = round_half_up(sum * shown_scored, s.answered);
        s.prorated = true;
    }
    if (d.scoring.report_mean && s.answered > 0) {
        s.mean = static_cast<double>(sum) / s.answered;
    }
    if (!d.scoring.triage.empty()) {
        s.band = d.scoring.triage_default;
        for (const auto& rule : d.scoring.triage) {
            if (std::any_of(rule.any.begin(), rule.any.end(), [&](const AnswerCondition& c) { return holds(d, c, answers); })) {
                s.band = rule.label;
                break;
            }
        }
    } else {
        s.band = band_of_total(d, s.total);
    }
    for (const auto& sub : d.scoring.subscales) {
        SubscaleScore out;
        out.id = sub.id;
        for (std::size_t i = 0; i < d.items.size(); ++i) {
            if (d.items[i].subscale != sub.id || !d.items[i].scored) continue;
            ++out.items;
            if (const auto value = answer_at(answers, i); value && visible[i]) {
                ++out.answered;
                out.total += *value;
            }
        }
        if (out.answered > 0) out.mean = static_cast<double>(out.total) / out.answered;
        s.subscales.push_back(std::move(out));
    }
    return s;
}

std::optional<std::string> band_of_total(const InstrumentDefinition& d, int total) {
    for (const auto& band : d.scoring.bands) {
        if (total >= band.min && total <= band.max) return band.label;
    }
    return std::nullopt;
}

Result<Assessment> scored_assessment(const InstrumentRegistry& registry, Assessment assessment) {
    const auto* d = registry.find(assessment.instrument);
    if (!d) {
        return fail(ErrorCode::not_found, "no definition for this instrument", "instrument");
    }
    auto s = score(*d, assessment.items);
    if (!s) return std::unexpected(s.error());
    assessment.score = s->total;
    assessment.band = s->band;
    return assessment;
}

Result<void> check_assessment(const InstrumentRegistry& registry, const Assessment& assessment) {
    const auto* d = registry.find(assessment.instrument);
    if (!d) return fail(ErrorCode::not_found, "no definition for this instrument", "instrument");
    if (auto ok = check_answers(*d, assessment.items, assessment.score.has_value()); !ok) return ok;
    if (!assessment.score) {
        if (assessment.band) return fail(ErrorCode::invalid_argument, "needs a score", "band");
        return {};
    }
    auto s = score(*d, assessment.items);
    if (!s) return std::unexpected(s.error());
    if (*assessment.score != s->total) {
        return fail(ErrorCode::invalid_argument,
                    "is " + std::to_string(*assessment.score) + " but the items score " + std::to_string(s->total), "score");
    }
    if (assessment.band != s->band) {
        return fail(ErrorCode::invalid_argument,
                    "is \"" + assessment.band.value_or("") + "\" but the items give \"" + s->band.value_or("") + "\"", "band");
    }
    return {};
}

std::optional<AnswerRisk> risk_from_answers(const InstrumentDefinition& d, const Answers& answers) {
    // Answers to questions the skip logic hides still count: if a patient said "yes" to intent,
    // a malformed form is no reason to stay silent. Values outside the options are ignored
    // (they cannot be trusted to mean anything) and check_answers refuses them anyway.
    Answers trusted(d.items.size());
    for (std::size_t i = 0; i < d.items.size(); ++i) {
        if (const auto v = answer_at(answers, i); v && is_option(d.items[i], *v)) trusted[i] = v;
    }
    const AnswerRiskRule* best = nullptr;
    for (const auto& rule : d.risk_rules) {
        const bool fires = std::any_of(rule.any.begin(), rule.any.end(),
                                       [&](const AnswerCondition& c) { return holds(d, c, trusted); });
        if (!fires) continue;
        if (!best || rule.severity > best->severity || (rule.severity == best->severity && rule.urgent && !best->urgent)) {
            best = &rule;
        }
    }
    if (!best) return std::nullopt;
    return AnswerRisk{best->severity, best->urgent, best->categories, best->id, best->reason};
}

}  // namespace tandem
