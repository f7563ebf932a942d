// Where a rule file says something: lines for messages, and the schema check that names them.
#include "rule_file_checks.h"

#include <algorithm>
#include <cstdlib>
#include <memory>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "embedded.h"
#include "embedded_schema.h"

namespace tandem::rule_file {
namespace {

const embedded::ParsedSchema& rule_schema() {
    static const std::unique_ptr<embedded::ParsedSchema> schema = embedded::parse_schema(embedded::risk_rules_schema());
    return *schema;
}

}  // namespace

std::size_t line_of(std::string_view text, std::size_t offset) {
    offset = std::min(offset, text.size());
    return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

// Byte ranges of the elements of a top-level array (e.g. "rules"), found by a small scanner
// that tracks strings and nesting. nlohmann keeps no positions for parsed values, and pointing
// a clinical lead at the right line matters more than the few lines this costs.
std::vector<std::pair<std::size_t, std::size_t>> element_ranges(std::string_view text,
                                                                std::string_view array_key) {
    std::vector<std::pair<std::size_t, std::size_t>> out;
    std::vector<char> stack;
    std::string last_string;
    std::string key_at_depth1;
    std::size_t array_depth = 0;
    std::size_t element_start = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '"') {
            std::string s;
            ++i;
            while (i < text.size() && text[i] != '"') {
                if (text[i] == '\\' && i + 1 < text.size()) ++i;
                s.push_back(text[i]);
                ++i;
            }
            last_string = std::move(s);
            continue;
        }
        if (c == ':' && stack.size() == 1) key_at_depth1 = last_string;
        if (c == '{' || c == '[') {
            stack.push_back(c);
            if (c == '[' && stack.size() == 2 && key_at_depth1 == array_key) array_depth = 2;
            if (array_depth != 0 && stack.size() == array_depth + 1) element_start = i;
        } else if (c == '}' || c == ']') {
            if (array_depth != 0 && stack.size() == array_depth + 1) out.emplace_back(element_start, i + 1);
            if (array_depth != 0 && stack.size() == array_depth) array_depth = 0;
            if (!stack.empty()) stack.pop_back();
        }
    }
    return out;
}

std::size_t rule_line(std::string_view text, std::string_view array_key, std::size_t index,
                      std::string_view field) {
    const auto ranges = element_ranges(text, array_key);
    if (index >= ranges.size()) return 1;
    auto [b, e] = ranges[index];
    if (!field.empty()) {
        const std::string quoted = "\"" + std::string(field) + "\"";
        const auto pos = text.substr(b, e - b).find(quoted);
        if (pos != std::string_view::npos) return line_of(text, b + pos);
    }
    return line_of(text, b);
}

std::string where(const RuleSource& src, std::size_t line) {
    return src.name + ":" + std::to_string(line);
}

Result<void> validate_against_schema(const RuleSource& src, const nlohmann::json& doc) {
    const embedded::ParsedSchema& s = rule_schema();
    if (!s.ok) return fail(ErrorCode::internal, "risk rule schema does not load: " + s.error);
    valijson::Validator validator;
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter adapter(doc);
    if (validator.validate(s.schema, adapter, &results)) return {};
    // valijson reports the failure at every level; the deepest context is the specific one.
    valijson::ValidationResults::Error best;
    valijson::ValidationResults::Error err;
    bool have = false;
    while (results.popError(err)) {
        if (!have || err.context.size() > best.context.size()) {
            best = err;
            have = true;
        }
    }
    std::string pointer;
    std::vector<std::string> parts;
    for (std::size_t i = 1; i < best.context.size(); ++i) {
        std::string p = best.context[i];
        if (p.size() >= 2 && p.front() == '[' && p.back() == ']') p = p.substr(1, p.size() - 2);
        parts.push_back(p);
        pointer += "/" + p;
    }
    std::size_t line = 1;
    if (parts.size() >= 2 && (parts[0] == "rules" || parts[0] == "substitutions")) {
        const std::size_t index = static_cast<std::size_t>(std::strtoul(parts[1].c_str(), nullptr, 10));
        line = rule_line(src.text, parts[0], index, parts.size() >= 3 ? parts[2] : std::string_view{});
    } else if (!parts.empty()) {
        const auto pos = src.text.find("\"" + parts[0] + "\"");
        if (pos != std::string::npos) line = line_of(src.text, pos);
    }
    return std::unexpected(Error{ErrorCode::schema,
                                 where(src, line) + ": " + best.description,
                                 pointer.empty() ? "/" : pointer});
}

}  // namespace tandem::rule_file
