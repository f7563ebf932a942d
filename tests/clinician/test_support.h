#pragma once
// Builders for stored events and frames, so tests read as the feed the bridge would send.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "tandem/clinician/model.h"

namespace tandem::clinician::testing {

/// A fixed instant the tests count from.
TimePoint t0();
/// A stored event object (the `event` frame's payload).
nlohmann::json event_json(std::uint64_t seq, const std::string& type, const std::string& patient_id,
                          nlohmann::json payload, TimePoint time = t0(), const std::string& actor_id = "");
/// The same, parsed.
StoredEvent event(std::uint64_t seq, const std::string& type, const std::string& patient_id, nlohmann::json payload,
                  TimePoint time = t0(), const std::string& actor_id = "");
/// An `event` frame as text.
std::string event_frame(const nlohmann::json& stored_event);
nlohmann::json patient(const std::string& id, const std::string& name, const std::string& therapist);
nlohmann::json flag(const std::string& id, const std::string& patient_id, const std::string& severity,
                    TimePoint opened, TimePoint deadline, const std::string& message_id = "");
nlohmann::json message(const std::string& id, const std::string& patient_id, const std::string& sender,
                       const std::string& text, TimePoint at, const std::string& state = "delivered");

}  // namespace tandem::clinician::testing
