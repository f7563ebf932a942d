#pragma once
// The patient chat page's static files, embedded in the binary at build time
// (cmake/embed_assets.cmake), so the bridge ships as one file with no web root to misplace.

#include <string_view>

namespace tandem::bridge {

struct Asset {
    std::string_view path;          ///< "/", "/app.js"
    std::string_view content_type;  ///< "text/html; charset=utf-8"
    std::string_view bytes;
};

/// The asset served at `path`, or nullptr. Any thread.
const Asset* find_asset(std::string_view path) noexcept;

}  // namespace tandem::bridge
