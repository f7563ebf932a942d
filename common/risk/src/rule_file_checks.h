#pragma once
// Private to tandem_risk: where in a rule file something is, so a refused file names its line.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/domain/error.h"
#include "tandem/risk/rule_set.h"

namespace tandem::rule_file {

/// The 1-based line of a byte offset of `text`.
std::size_t line_of(std::string_view text, std::size_t offset);

/// Byte ranges [begin, end) of the elements of the top-level array `array_key` of a JSON text.
std::vector<std::pair<std::size_t, std::size_t>> element_ranges(std::string_view text, std::string_view array_key);

/// The line of `array_key[index]`, or of its `field` when given and present; 1 if not found.
std::size_t rule_line(std::string_view text, std::string_view array_key, std::size_t index,
                      std::string_view field = {});

/// "file:line", as every rule-file message begins.
std::string where(const RuleSource& src, std::size_t line);

/// Checks a parsed rule file against schemas/risk_rules.schema.json; the error names the file,
/// the line and the JSON pointer of the deepest failure.
Result<void> validate_against_schema(const RuleSource& src, const nlohmann::json& doc);

}  // namespace tandem::rule_file
