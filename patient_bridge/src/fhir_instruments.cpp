// Instrument definitions for the FHIR mapping. Placeholder until common/measures is merged.

#include "tandem/bridge/fhir_export.h"

namespace tandem::bridge {

Result<FhirInstrumentLookup> fhir_instrument_lookup(const std::filesystem::path&) {
    return FhirInstrumentLookup([](std::string_view) -> const FhirInstrument* { return nullptr; });
}

}  // namespace tandem::bridge
