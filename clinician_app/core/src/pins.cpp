#include "tandem/clinician/pins.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <sys/stat.h>

namespace tandem::clinician {

namespace {

bool same_fingerprint(const std::string& a, const std::string& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
    }
    return true;
}

}  // namespace

PinVerdict check_pin(const std::string& pinned, const std::string& presented, const std::string& vouched) {
    if (pinned.empty()) return PinVerdict::first_contact;
    if (same_fingerprint(pinned, presented)) return PinVerdict::trusted;
    return !vouched.empty() && same_fingerprint(vouched, presented) ? PinVerdict::changed_as_vouched : PinVerdict::changed;
}

std::string normalise_fingerprint(std::string_view text) {
    std::string hex;
    for (const char c : text) {
        if (c == ':' || c == ' ') continue;
        if (!std::isxdigit(static_cast<unsigned char>(c))) return {};
        hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return hex.size() == 64 ? hex : std::string{};
}

std::string format_fingerprint(const std::string& hex) {
    std::string out;
    for (std::size_t i = 0; i < hex.size(); ++i) {
        if (i > 0 && i % 2 == 0) out += ':';
        out += static_cast<char>(std::toupper(static_cast<unsigned char>(hex[i])));
    }
    return out;
}

Result<void> PinStore::load() {
    pins_.clear();
    std::ifstream in(file_);
    if (!in) return {};  // first run: nothing pinned yet
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.empty() || line[0] == '#') continue;
        std::istringstream words(line);
        std::string kind, endpoint, value;
        words >> kind >> endpoint;
        if (kind == "server" && !endpoint.empty()) {
            last_server_ = endpoint;
        } else if (kind == "pin" && (words >> value) && value.size() == 64) {
            pins_[endpoint] = value;
        } else {
            return fail(ErrorCode::parse, "malformed line " + std::to_string(number), file_.string());
        }
    }
    return {};
}

Result<void> PinStore::save() const {
    std::error_code ec;
    std::filesystem::create_directories(file_.parent_path(), ec);
    const auto tmp = file_.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        if (!out) return fail(ErrorCode::io, "cannot write " + tmp);
        out << "# tandem-clinician: pinned server certificates (SHA-256) and the last server\n";
        if (!last_server_.empty()) out << "server " << last_server_ << "\n";
        for (const auto& [endpoint, fp] : pins_) out << "pin " << endpoint << " " << fp << "\n";
        if (!out.flush()) return fail(ErrorCode::io, "cannot write " + tmp);
    }
    ::chmod(tmp.c_str(), 0600);
    std::filesystem::rename(tmp, file_, ec);
    if (ec) return fail(ErrorCode::io, "cannot replace " + file_.string() + ": " + ec.message());
    return {};
}

std::string PinStore::pinned(const std::string& endpoint) const {
    const auto it = pins_.find(endpoint);
    return it == pins_.end() ? std::string{} : it->second;
}

std::filesystem::path PinStore::default_path() {
    if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg != '\0') {
        return std::filesystem::path(xdg) / "tandem" / "clinician-servers";
    }
    const char* home = std::getenv("HOME");
    return std::filesystem::path(home != nullptr ? home : ".") / ".config" / "tandem" / "clinician-servers";
}

}  // namespace tandem::clinician
