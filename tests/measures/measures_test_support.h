#pragma once
// Helpers shared by the tests of tandem_measures.

#include <string>

#include "tandem/domain/time.h"
#include "tandem/measures/measures.h"

namespace tandem::testing {

inline const InstrumentDefinition& builtin_instrument(std::string_view id) {
    const auto* d = InstrumentRegistry::builtin().find(id);
    if (!d) throw std::logic_error("no built-in " + std::string(id));
    return *d;
}

/// `count` answers adding up to `total`, highest values first (3, 3, ..., rest, 0, ...).
inline Answers with_total(std::size_t count, int total, int top = 3) {
    Answers out;
    for (std::size_t i = 0; i < count; ++i) {
        const int v = total > top ? top : total;
        out.push_back(v);
        total -= v;
    }
    return out;
}

inline Timestamp ts(const char* text) { return *parse_timestamp(text); }

inline Assessment assessment(const char* id, const Instrument& instrument, Answers items, const char* completed) {
    Assessment a;
    a.id = AssessmentId(id);
    a.patient_id = PatientId("pat-1");
    a.instrument = instrument;
    a.items = std::move(items);
    a.administered_at = ts(completed);
    a.completed_at = ts(completed);
    return a;
}

}  // namespace tandem::testing
