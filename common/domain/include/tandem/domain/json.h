#pragma once
// JSON for the records of records.h, with the field names of docs/ARCHITECTURE.md. Absent
// optionals are omitted, never written as null (except skipped assessment items).

#include <nlohmann/json.hpp>

#include "tandem/domain/error.h"
#include "tandem/domain/records.h"

namespace tandem {

/// Writes the record as JSON (nlohmann finds these by ADL: `nlohmann::json j = plan;`).
/// Does not validate: call validate() first if the value came from an untrusted place.
void to_json(nlohmann::json& j, const RiskAssessment& value);
void to_json(nlohmann::json& j, const Clinic& value);
void to_json(nlohmann::json& j, const Clinician& value);
void to_json(nlohmann::json& j, const Patient& value);
void to_json(nlohmann::json& j, const Conversation& value);
void to_json(nlohmann::json& j, const Message& value);
void to_json(nlohmann::json& j, const Flag& value);
void to_json(nlohmann::json& j, const TreatmentPlan& value);
void to_json(nlohmann::json& j, const Assessment& value);
void to_json(nlohmann::json& j, const AuditEvent& value);

/// Reads and validates a record: ErrorCode::parse for a missing, unknown or wrongly typed
/// field, ErrorCode::invalid_argument for a broken rule; Error::field is the path of the
/// offending field ("goals[2].target_date"). Never throws. Any thread.
template <class T>
Result<T> from_json_checked(const nlohmann::json& j);

template <> Result<RiskAssessment> from_json_checked<RiskAssessment>(const nlohmann::json& j);
template <> Result<Clinic> from_json_checked<Clinic>(const nlohmann::json& j);
template <> Result<Clinician> from_json_checked<Clinician>(const nlohmann::json& j);
template <> Result<Patient> from_json_checked<Patient>(const nlohmann::json& j);
template <> Result<Conversation> from_json_checked<Conversation>(const nlohmann::json& j);
template <> Result<Message> from_json_checked<Message>(const nlohmann::json& j);
template <> Result<Flag> from_json_checked<Flag>(const nlohmann::json& j);
template <> Result<TreatmentPlan> from_json_checked<TreatmentPlan>(const nlohmann::json& j);
template <> Result<Assessment> from_json_checked<Assessment>(const nlohmann::json& j);
template <> Result<AuditEvent> from_json_checked<AuditEvent>(const nlohmann::json& j);

}  // namespace tandem
