#pragma once
// Private to tandem_measures: the built-in definitions compiled into the library
// (see embed_instruments.cmake).

#include <span>
#include <string_view>

namespace tandem::detail {

struct EmbeddedInstrument {
    std::string_view file;  ///< "phq9.json"
    std::string_view text;  ///< the file's JSON text
};

/// Every built-in definition, sorted by file name. Any thread.
std::span<const EmbeddedInstrument> embedded_instruments() noexcept;

}  // namespace tandem::detail
