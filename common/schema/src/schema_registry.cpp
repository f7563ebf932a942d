#include "tandem/schema/schema_registry.h"

#include <stdexcept>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "embedded_schemas.h"

namespace tandem {
namespace {

constexpr std::string_view kSuffix = ".schema.json";

std::string uri_of(std::string_view name) {
    return std::string(kSchemaBaseUri) + std::string(name) + std::string(kSuffix);
}

void append_token(std::string& pointer, std::string_view token) {
    pointer += '/';
    for (char c : token) {
        if (c == '~') {
            pointer += "~0";
        } else if (c == '/') {
            pointer += "~1";
        } else {
            pointer += c;
        }
    }
}

// valijson reports a failure's place as tokens "<root>", "[goals]", "[2]", which cannot tell
// an array index from a property named "2"; walking the document alongside resolves that.
std::string pointer_of(const std::vector<std::string>& context, const nlohmann::json& document) {
    std::string pointer;
    const nlohmann::json* node = &document;
    for (std::size_t i = 1; i < context.size(); ++i) {
        std::string_view token = context[i];
        if (token.size() >= 2 && token.front() == '[' && token.back() == ']') {
            token = token.substr(1, token.size() - 2);
        }
        append_token(pointer, token);
        if (node == nullptr) continue;
        if (node->is_object()) {
            const auto it = node->find(token);
            node = it == node->end() ? nullptr : &*it;
        } else if (node->is_array()) {
            std::size_t index = 0;
            bool numeric = !token.empty();
            for (char c : token) {
                numeric = numeric && c >= '0' && c <= '9';
                if (numeric) index = index * 10 + static_cast<std::size_t>(c - '0');
            }
            node = numeric && index < node->size() ? &(*node)[index] : nullptr;
        } else {
            node = nullptr;
        }
    }
    return pointer;
}

// "Missing required property 'resolution'." -> "resolution" and "Object contains a property
// that could not be validated ...: 'token'." -> "token", so the pointer names the missing or
// unexpected property itself rather than only its parent object. Matching valijson 1.0's
// wording is brittle; tests/schema pins it against python3-jsonschema's answer.
std::optional<std::string> named_property(std::string_view description) {
    constexpr std::string_view kMissing = "Missing required property '";
    constexpr std::string_view kUnwanted = "Object contains a property that could not be validated";
    std::string_view rest;
    if (description.substr(0, kMissing.size()) == kMissing) {
        rest = description.substr(kMissing.size());
    } else if (description.substr(0, kUnwanted.size()) == kUnwanted) {
        const auto colon = description.find(": '");
        if (colon == std::string_view::npos) return std::nullopt;
        rest = description.substr(colon + 3);
    } else {
        return std::nullopt;
    }
    const auto end = rest.rfind('\'');
    if (end == std::string_view::npos) return std::nullopt;
    return std::string(rest.substr(0, end));
}

}  // namespace

struct SchemaRegistry::Impl {
    std::map<std::string, nlohmann::json, std::less<>> documents;  // by name
    std::map<std::string, std::string, std::less<>> names_by_uri;
    std::map<std::string, std::unique_ptr<valijson::Schema>, std::less<>> compiled;  // by name
};

SchemaRegistry::SchemaRegistry(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SchemaRegistry::~SchemaRegistry() = default;

Result<std::unique_ptr<SchemaRegistry>> SchemaRegistry::from_documents(
    const std::map<std::string, std::string>& documents) {
    auto impl = std::make_unique<Impl>();
    for (const auto& [name, text] : documents) {
        auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
        if (parsed.is_discarded()) return fail(ErrorCode::parse, "schema is not JSON", name);
        impl->names_by_uri.emplace(uri_of(name), name);
        impl->documents.emplace(name, std::move(parsed));
    }
    // Documents outlive every parse and are owned here, so fetching hands out pointers into
    // the registry and freeing is a no-op (valijson may fetch one document more than once).
    const Impl& view = *impl;
    auto fetch = [&view](const std::string& uri) -> const nlohmann::json* {
        const auto it = view.names_by_uri.find(uri);
        if (it == view.names_by_uri.end()) return nullptr;
        return &view.documents.find(it->second)->second;
    };
    auto release = [](const nlohmann::json*) {};
    for (const auto& [name, document] : impl->documents) {
        auto schema = std::make_unique<valijson::Schema>();
        try {
            valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
            const valijson::adapters::NlohmannJsonAdapter adapter(document);
            parser.populateSchema(adapter, *schema, fetch, release);
        } catch (const std::exception& e) {
            return fail(ErrorCode::schema, std::string("schema does not compile: ") + e.what(), name);
        }
        impl->compiled.emplace(name, std::move(schema));
    }
    return std::unique_ptr<SchemaRegistry>(new SchemaRegistry(std::move(impl)));
}

const SchemaRegistry& SchemaRegistry::builtin() {
    // A function-local static: compiled once, thread-safe initialisation, and never
    // destroyed before the last validate() of another static's destructor matters.
    static const std::unique_ptr<SchemaRegistry> registry = [] {
        std::map<std::string, std::string> documents;
        for (const auto& schema : detail::embedded_schemas()) {
            documents.emplace(std::string(schema.name), std::string(schema.text));
        }
        auto built = from_documents(documents);
        if (!built) throw std::logic_error("embedded schema broken: " + built.error().describe());
        return std::move(*built);
    }();
    return *registry;
}

Result<void> SchemaRegistry::validate(std::string_view name, const nlohmann::json& document) const {
    const auto it = impl_->compiled.find(name);
    if (it == impl_->compiled.end()) {
        return fail(ErrorCode::not_found, "no schema named " + std::string(name));
    }
    // The validator caches compiled regexes and is not thread-safe, so each thread keeps its
    // own; one shared validator under a mutex was rejected as a needless point of contention.
    thread_local valijson::Validator validator(valijson::Validator::kStrongTypes);
    valijson::ValidationResults results;
    const valijson::adapters::NlohmannJsonAdapter target(document);
    try {
        if (validator.validate(*it->second, target, &results)) return {};
    } catch (const std::exception& e) {
        return fail(ErrorCode::schema, std::string("document could not be checked: ") + e.what());
    }
    // Report the deepest failure: the outer ones only say "a property did not validate".
    std::string best_pointer;
    std::string best_reason = "does not match the schema";
    std::size_t best_depth = 0;
    bool have = false;
    valijson::ValidationResults::Error error;
    while (results.popError(error)) {
        std::string pointer = pointer_of(error.context, document);
        std::size_t depth = error.context.size();
        if (auto property = named_property(error.description)) {
            append_token(pointer, *property);
            ++depth;
        }
        if (!have || depth > best_depth) {
            have = true;
            best_depth = depth;
            best_pointer = std::move(pointer);
            best_reason = error.description;
        }
    }
    return fail(ErrorCode::schema, best_reason, best_pointer);
}

bool SchemaRegistry::contains(std::string_view name) const {
    return impl_->compiled.find(name) != impl_->compiled.end();
}

std::vector<std::string> SchemaRegistry::names() const {
    std::vector<std::string> out;
    for (const auto& [name, schema] : impl_->compiled) out.push_back(name);
    return out;
}

const nlohmann::json* SchemaRegistry::document(std::string_view name) const {
    const auto it = impl_->documents.find(name);
    return it == impl_->documents.end() ? nullptr : &it->second;
}

}  // namespace tandem
