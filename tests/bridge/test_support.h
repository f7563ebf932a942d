#pragma once
// Helpers the bridge tests share: temp dirs, child processes, and a TLS/WebSocket client
// (Beast lives only in tls_client.cpp, so test files compile fast).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/domain/error.h"

namespace tandem::test {

/// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

/// A child process with a pipe to its stdin and from its stdout; killed on destruction.
class ChildProcess {
public:
    explicit ChildProcess(const std::vector<std::string>& argv);
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    /// One line of stdout (without '\n'), or empty on EOF/timeout.
    std::string read_line(std::chrono::milliseconds timeout);

private:
    int pid_ = -1;
    int in_fd_ = -1;
    int out_fd_ = -1;
    std::string buffered_;
};

/// Runs argv to completion; returns {exit status, stdout+stderr}.
std::pair<int, std::string> run_command(const std::vector<std::string>& argv);

struct HttpReply {
    int status = 0;
    std::string content_type;
    std::string body;
};

/// GET over TLS, verifying the server against ca_file for the name "localhost".
Result<HttpReply> https_get(std::uint16_t port, std::string_view target, const std::filesystem::path& ca_file);

/// Sends raw bytes over plain TCP and returns everything the server sends before closing.
Result<std::string> plain_exchange(std::uint16_t port, std::string_view bytes);

/// A TLS handshake limited to TLS 1.1 (must be refused by the bridge): ok when refused.
Result<void> expect_tls11_refused(std::uint16_t port);

/// A WebSocket client over TLS.
class WssClient {
public:
    static Result<std::unique_ptr<WssClient>> connect(std::uint16_t port, std::string_view path,
                                                      const std::filesystem::path& ca_file);
    ~WssClient();
    Result<void> send_text(std::string_view text);
    Result<void> send_binary(std::string_view bytes);
    /// The next text frame, or an error (timeout, closed).
    Result<std::string> read(std::chrono::milliseconds timeout = std::chrono::seconds(5));

private:
    WssClient();
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace tandem::test
