#include "tandem/bridge/wire.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include <openssl/rand.h>

namespace tandem::bridge {

std::string utc_now_text() {
    const auto now = std::chrono::system_clock::now();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];  // room for any int year, so -Wformat-truncation has nothing to prove
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
    return buf;
}

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
