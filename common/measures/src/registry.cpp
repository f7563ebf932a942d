// The instrument registry: built-ins parsed once from the embedded files, a clinic's directory
// added on top. A clinic's file may not replace a built-in: a changed PHQ-9 would make its
// scores incomparable with every other clinic's, so a variant needs its own id.

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "embedded_instruments.h"
#include "tandem/measures/measures.h"

namespace tandem {
namespace {

// A definition is a few kilobytes; anything this big is not one, and is refused unread.
constexpr std::uintmax_t kMaxFileBytes = 1 << 20;

Result<nlohmann::json> parse_json(std::string_view text, const std::string& source) {
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        return fail(ErrorCode::parse, source + ": not JSON (" + e.what() + ")");
    }
}

InstrumentRegistry load_builtins() {
    InstrumentRegistry registry;
    for (const auto& file : detail::embedded_instruments()) {
        const std::string source(file.file);
        auto doc = parse_json(file.text, source);
        if (!doc) throw std::logic_error("built-in instrument " + doc.error().describe());
        auto definition = parse_instrument(*doc, source);
        if (!definition) throw std::logic_error("built-in instrument " + definition.error().describe());
        if (auto added = registry.add(std::move(*definition)); !added) {
            throw std::logic_error("built-in instrument " + added.error().describe());
        }
    }
    return registry;
}

}  // namespace

const InstrumentRegistry& InstrumentRegistry::builtin() {
    static const InstrumentRegistry registry = load_builtins();
    return registry;
}

Result<InstrumentRegistry> InstrumentRegistry::with_directory(const std::filesystem::path& dir) {
    InstrumentRegistry registry = builtin();
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->path().extension() == ".json" && it->is_regular_file(ec)) files.push_back(it->path());
    }
    if (ec) return fail(ErrorCode::io, "cannot read the instruments directory: " + ec.message(), dir.string());
    std::sort(files.begin(), files.end());
    for (const auto& path : files) {
        const std::string source = path.filename().string();
        const auto size = std::filesystem::file_size(path, ec);
        if (ec) return fail(ErrorCode::io, source + ": " + ec.message());
        if (size > kMaxFileBytes) return fail(ErrorCode::too_large, source + ": over 1 MiB, not an instrument definition");
        std::ifstream in(path, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        if (!in) return fail(ErrorCode::io, source + ": cannot be read");
        auto doc = parse_json(text.str(), source);
        if (!doc) return std::unexpected(doc.error());
        auto definition = parse_instrument(*doc, source);
        if (!definition) return std::unexpected(definition.error());
        if (auto added = registry.add(std::move(*definition)); !added) {
            return fail(added.error().code, source + ": " + added.error().message, "/id");
        }
    }
    return registry;
}

Result<void> InstrumentRegistry::add(InstrumentDefinition definition) {
    if (by_id_.contains(definition.id)) {
        const auto as_instrument = Instrument::from_id(definition.id);
        const bool builtin = as_instrument && as_instrument->is_builtin();
        return fail(ErrorCode::conflict, "instrument id \"" + definition.id + "\" is already defined" +
                                             (builtin ? " (a built-in; give a variant its own id)" : ""));
    }
    std::string id = definition.id;
    by_id_.emplace(std::move(id), std::make_shared<const InstrumentDefinition>(std::move(definition)));
    return {};
}

const InstrumentDefinition* InstrumentRegistry::find(std::string_view id) const noexcept {
    const auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : it->second.get();
}

const InstrumentDefinition* InstrumentRegistry::find(const Instrument& instrument) const noexcept {
    return find(instrument.id());
}

std::vector<std::string> InstrumentRegistry::ids() const {
    std::vector<std::string> out;
    for (const auto& [id, _] : by_id_) out.push_back(id);
    return out;
}

}  // namespace tandem
