#pragma once
// How the offline cache writes records into its columns and reads them back (private to
// local_cache.cpp): a few columns hold a small JSON document or a compact list, chosen per
// column for what launch time could afford. The SQL and the tables stay in local_cache.cpp.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/clinician/model.h"

namespace tandem::clinician::cache_records {

/// A message's risk assessment as the RiskAssessment record (parse_risk reads it back). Any thread.
nlohmann::json risk_json(const RiskAssessment& risk);

/// Roles as a JSON array of wire names. Any thread.
nlohmann::json roles_json(const std::vector<Role>& roles);
/// The roles of roles_json's text; unknown names and anything but an array are skipped. Any thread.
std::vector<Role> roles_of(const std::string& text);

/// The clinician as meta's 'self' (parse_clinician reads it back). Any thread.
nlohmann::json clinician_json(const ClinicianInfo& clinician);

/// The clinic policy as meta's 'policy' (parse_policy reads it back): the three timings only. Any thread.
nlohmann::json policy_json(const ClinicPolicy& policy);

/// A patient's conditions from their JSON array column; empty for anything else. Any thread.
std::vector<std::string> conditions_of(const std::string& text);

/// A plan version as the TreatmentPlan record, so parse_plan() reads it back. Any thread.
nlohmann::json plan_record(const PlanVersion& version);

/// Questionnaire items as "2,1,,3" (empty = unanswered). Any thread.
std::string items_text(const std::vector<std::optional<int>>& items);
/// The items of items_text's text. Any thread.
std::vector<std::optional<int>> items_of(const std::string& text);

/// Risk categories as space-separated wire names. Any thread.
std::string categories_text(const std::vector<RiskCategory>& categories);
/// The categories of categories_text's text; unknown names are skipped. Any thread.
std::vector<RiskCategory> categories_of(const std::string& text);

/// A flag's notes as a JSON array of {clinician_id, at (ms since the epoch), text}. Any thread.
nlohmann::json notes_json(const std::vector<FlagNote>& notes);
/// The notes of notes_json's text; anything but an array of objects reads as none. Any thread.
std::vector<FlagNote> notes_of(const std::string& text);

}  // namespace tandem::clinician::cache_records
