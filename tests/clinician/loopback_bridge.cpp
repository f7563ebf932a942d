// tandem-loopback-bridge: serves the demo clinic through LoopbackFeeder on 127.0.0.1 so the
// real app's live path (login, first-contact pinning, subscribe, actions) can be driven by hand
// or by a script before the real bridge exists. Prints the port and fingerprint, then serves
// until killed. Test support only; not installed.
#include <chrono>
#include <cstdio>
#include <thread>

#include <nlohmann/json.hpp>

#include "tandem/clinician/demo.h"
#include "tandem/clinician/loopback_feeder.h"

using namespace tandem::clinician;

int main() {
    std::vector<std::string> events;
    for (const auto& e : demo_events(now_ms())) {
        nlohmann::json j{{"seq", e.seq}, {"id", e.id}, {"type", e.type}, {"time", format_utc(e.time)},
                         {"actor", {{"kind", e.actor_kind}}}, {"payload", nlohmann::json::parse(e.payload_json)}};
        if (!e.actor_id.empty()) j["actor"]["id"] = e.actor_id;
        if (!e.patient_id.empty()) j["patient_id"] = e.patient_id;
        events.push_back(j.dump());
    }
    LoopbackFeeder feeder(std::move(events));
    std::printf("port %u\nfingerprint %s\n", feeder.port(), feeder.fingerprint().c_str());
    std::fflush(stdout);
    for (;;) std::this_thread::sleep_for(std::chrono::hours{1});
}
