#pragma once
// Private to tandem_measures: conditions on answers, shared by skip logic, triage and risk rules.

#include <optional>

#include "tandem/measures/measures.h"

namespace tandem::detail {

/// The answer to item `index`, nullopt when unanswered or beyond the answers given.
inline std::optional<int> answer_at(const Answers& answers, std::size_t index) noexcept {
    return index < answers.size() ? answers[index] : std::nullopt;
}

/// True when the condition's item is answered and the value passes every bound given.
/// The item id was checked when the definition was loaded.
inline bool holds(const InstrumentDefinition& definition, const AnswerCondition& condition,
                  const Answers& answers) noexcept {
    const auto index = definition.item_index(condition.item);
    if (!index) return false;
    const auto value = answer_at(answers, *index);
    if (!value) return false;
    if (condition.equals && *value != *condition.equals) return false;
    if (condition.min && *value < *condition.min) return false;
    if (condition.max && *value > *condition.max) return false;
    return true;
}

}  // namespace tandem::detail
