#include "tandem/bridge/wire.h"

#include "tandem/domain/time.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include <openssl/rand.h>

namespace tandem::bridge {

std::string utc_now_text() { return format_timestamp(now_utc()); }

std::string new_id() {
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1) throw std::runtime_error("RAND_bytes failed");  // broken invariant
    b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
    char out[37];
    std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                  b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return out;
}

std::string make_frame(std::string_view type, nlohmann::json payload, std::uint64_t seq) {
    nlohmann::json env = {{"type", type}, {"id", new_id()}, {"time", utc_now_text()}, {"payload", std::move(payload)}};
    if (seq > 0) env["seq"] = seq;
    return env.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string make_error_frame(std::string_view code, std::string_view message, std::string_view ref) {
    nlohmann::json payload = {{"code", code}, {"message", message}};
    if (!ref.empty()) payload["ref"] = ref;
    return make_frame("error", std::move(payload));
}

}  // namespace tandem::bridge
