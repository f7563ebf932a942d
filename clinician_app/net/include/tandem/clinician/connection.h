#pragma once
// The clinician app's network side: a TLS WebSocket client to the bridge's /clinician endpoint
// on its own thread and io_context, with certificate pinning and reconnect with backoff. Its
// results reach the GUI thread only through ui::post. No Asio or Beast types in this header:
// they stay in the one translation unit that implements it (they are costly to compile).

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "tandem/clinician/pins.h"
#include "tandem/domain/error.h"

namespace tandem::clinician {

struct Endpoint {
    std::string host;
    std::string port = "8443";
    std::string path = "/clinician";

    /// "host:port", the key of the pin store.
    std::string key() const { return host + ":" + port; }
};

/// Parses "host", "host:port" or "wss://host:port"; errors name the bad part. Any thread.
Result<Endpoint> parse_endpoint(const std::string& text);

/// Callbacks, always run on the GUI thread (through ui::post).
struct ConnectionEvents {
    std::function<void()> on_open;                        ///< TLS verified, WebSocket up
    std::function<void(std::string)> on_frame;            ///< one text frame
    /// The connection ended; `will_retry` false means it stopped for good (a changed certificate).
    std::function<void(const Error&, bool will_retry, std::chrono::milliseconds retry_in)> on_closed;
};

/// One long-lived connection that reconnects until stopped. Construct and use on the GUI thread.
class Connection {
public:
    /// `pinned_fingerprint` is the expected SHA-256 of the server certificate (hex); a different
    /// certificate closes the connection before anything is sent, and it does not retry.
    Connection(Endpoint endpoint, std::string pinned_fingerprint, ConnectionEvents events);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Starts the network thread; it connects, then reconnects with backoff after every drop.
    void start();
    /// Queues a text frame; dropped while disconnected (the session resends what matters). Any thread.
    void send(std::string frame);
    /// Closes and joins the thread; no callback runs after it returns. GUI thread.
    void stop();

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

/// Connects once (TLS only), reports the server certificate's SHA-256 (hex) and closes: used on
/// first contact to show the fingerprint before any password is sent. `done` runs via ui::post.
/// Blocks nothing: it runs on a short-lived thread.
void probe_fingerprint(const Endpoint& endpoint, std::function<void(Result<std::string>)> done);

}  // namespace tandem::clinician
