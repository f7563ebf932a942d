#pragma once
// Certificate pinning with trust on first use: the server's SHA-256 certificate fingerprint is
// remembered per host:port in a small text file; a later different fingerprint is refused unless
// the administrator vouched for it out of band (a renewed certificate).

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "tandem/domain/error.h"

namespace tandem::clinician {

enum class PinVerdict { trusted, first_contact, changed, changed_as_vouched };

/// Compares the presented fingerprint with the pinned one (empty = none pinned). `vouched` is a
/// fingerprint the administrator gave out of band (--fingerprint; empty = none): a changed
/// certificate that is the vouched one is `changed_as_vouched` (renewed), any other `changed`.
/// Any thread.
PinVerdict check_pin(const std::string& pinned, const std::string& presented, const std::string& vouched = {});
/// "AB:CD:..." grouping of a hex fingerprint, for showing to a person. Any thread.
std::string format_fingerprint(const std::string& hex);
/// A SHA-256 fingerprint as a person copies it ("AB:CD:..." or plain hex, any case) in the
/// stored form (64 lowercase hex digits); empty when it is not one. Any thread.
std::string normalise_fingerprint(std::string_view text);

/// GUI thread (or one thread at a time).
class PinStore {
public:
    explicit PinStore(std::filesystem::path file) : file_(std::move(file)) {}
    /// Reads the file; a missing file is an empty store; a malformed line is a parse error.
    Result<void> load();
    /// Writes the file atomically with mode 0600.
    Result<void> save() const;
    /// The pinned hex fingerprint for "host:port", or empty.
    std::string pinned(const std::string& endpoint) const;
    void pin(const std::string& endpoint, const std::string& fingerprint_hex) { pins_[endpoint] = fingerprint_hex; }
    /// The remembered server (last one logged in to), for the login dialog; never a password.
    std::string last_server() const { return last_server_; }
    void set_last_server(std::string server) { last_server_ = std::move(server); }
    /// $XDG_CONFIG_HOME/tandem/clinician-servers (or ~/.config/...). Any thread.
    static std::filesystem::path default_path();

private:
    std::filesystem::path file_;
    std::map<std::string, std::string> pins_;
    std::string last_server_;
};

}  // namespace tandem::clinician
