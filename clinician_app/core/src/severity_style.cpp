#include "tandem/clinician/severity_style.h"

#include <array>

namespace tandem::clinician {

const SeverityStyle& severity_style(Severity severity) noexcept {
    // Shapes grow in weight with severity so the order reads without colour; the colours are
    // dark enough for text contrast on white and stay apart for common colour-vision deficits.
    static const std::array<SeverityStyle, 5> kStyles{{
        {"None", "\u00b7", Rgb{110, 110, 110}, Rgb{255, 255, 255}},
        {"Low", "\u25bd", Rgb{40, 90, 160}, Rgb{238, 244, 252}},
        {"Moderate", "\u25c6", Rgb{150, 95, 0}, Rgb{255, 246, 225}},
        {"High", "\u25b2", Rgb{190, 60, 0}, Rgb{255, 232, 220}},
        {"Imminent", "\u2716", Rgb{170, 0, 30}, Rgb{255, 218, 222}},
    }};
    const auto index = static_cast<std::size_t>(severity);
    return kStyles[index < kStyles.size() ? index : 0];
}

}  // namespace tandem::clinician
