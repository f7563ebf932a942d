// The instrument definitions the FHIR mapping reads: common/measures' registry (built-ins plus a
// clinic's directory), converted from each definition's document so LOINC codes, titles, item
// texts and option labels come from the data files and nowhere else.

#include <map>
#include <memory>

#include "tandem/bridge/fhir_export.h"
#include "tandem/measures/measures.h"

namespace tandem::bridge {

Result<FhirInstrumentLookup> fhir_instrument_lookup(const std::filesystem::path& dir) {
    std::optional<InstrumentRegistry> loaded;
    if (!dir.empty()) {
        auto r = InstrumentRegistry::with_directory(dir);
        if (!r) return std::unexpected(r.error());
        loaded = std::move(*r);
    }
    const InstrumentRegistry& registry = loaded ? *loaded : InstrumentRegistry::builtin();
    // Converted once up front: the lookup is then a read-only map any thread may share.
    auto defs = std::make_shared<std::map<std::string, FhirInstrument, std::less<>>>();
    for (const auto& id : registry.ids())
        if (const auto* d = registry.find(id)) (*defs)[id] = fhir::instrument_from_definition(d->document);
    return FhirInstrumentLookup([defs](std::string_view id) -> const FhirInstrument* {
        const auto it = defs->find(id);
        return it == defs->end() ? nullptr : &it->second;
    });
}

}  // namespace tandem::bridge
