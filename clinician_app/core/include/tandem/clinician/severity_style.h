#pragma once
// How a severity looks: a colour AND a shape AND a word, so it never rests on colour alone
// (colour-blind clinicians, greyscale printouts, screen readers read the word).

#include <cstdint>
#include <string_view>

#include "tandem/domain/risk_assessment.h"

namespace tandem::clinician {

struct Rgb {
    std::uint8_t r = 0, g = 0, b = 0;
    bool operator==(const Rgb&) const = default;
};

struct SeverityStyle {
    std::string_view label;  ///< "Imminent"
    std::string_view icon;   ///< a distinct glyph per level (UTF-8), present in DejaVu Sans
    Rgb colour;              ///< text colour on a light background
    Rgb background;          ///< row tint
};

/// The style of each level; every level has a distinct icon and label. Any thread.
const SeverityStyle& severity_style(Severity severity) noexcept;

}  // namespace tandem::clinician
