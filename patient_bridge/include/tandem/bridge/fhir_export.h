#pragma once
// FHIR R4 export (issue 8): a patient's part of the event log as one Bundle of type "collection".
// The mapping is pure (events and records in, FHIR JSON out: testable without a store); the
// export reads the store, records the export in the audit chain and writes one file per patient.
// The bundles hold PHI (names, answers, risk findings; message text with include_transcripts):
// whoever runs the export must handle the files as clinical records. Mapping table: docs/FHIR.md.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/domain/error.h"
#include "tandem/store/store.h"

namespace tandem::bridge {

/// What the mapping needs to know about a questionnaire: taken from the instrument definitions
/// (common/measures), never from tables of our own, so a clinic-added instrument exports too.
struct FhirInstrument {
    struct Option {
        int value = 0;
        std::string label;
    };
    struct Item {
        std::string id;                ///< linkId in the QuestionnaireResponse ("q1")
        std::string text;              ///< the question as the definition words it
        std::string loinc;             ///< empty when the item has no LOINC code
        std::vector<Option> options;
    };
    struct Band {
        int min = 0;
        int max = 0;
        std::string label;             ///< "moderately_severe"
        std::string title;             ///< "Moderately severe"
    };
    std::string id;                    ///< "phq9"
    std::string title;                 ///< "Patient Health Questionnaire-9"
    std::string version;
    std::string panel_loinc;           ///< empty when none
    std::string total_loinc;           ///< empty when none: the Observation is coded by Tandem's system
    std::vector<Item> items;           ///< in the order of Assessment.items
    std::vector<Band> bands;
};

/// Finds an instrument definition by id; nullptr when unknown (the mapping then falls back to
/// linkIds "item1".. and an uncoded total). Must be callable from the exporting thread.
using FhirInstrumentLookup = std::function<const FhirInstrument*(std::string_view instrument_id)>;

/// The instruments the bridge knows (common/measures: the built-ins, plus the clinic's definitions in
/// `dir` when it is not empty) as the mapping needs them. Errors: as InstrumentRegistry's loading
/// of a directory (io, parse, schema, conflict). Any thread; the lookup is read-only.
Result<FhirInstrumentLookup> fhir_instrument_lookup(const std::filesystem::path& dir);

/// A clinician as the bundle names one (a Practitioner); never the password hash or TOTP secret.
struct FhirClinician {
    std::string id;
    std::string display_name;
    bool active = true;
};

/// Choices of one export.
struct FhirExportOptions {
    bool include_transcripts = false;  ///< Communication per message turn, with its text
    std::string exported_at;           ///< Bundle.timestamp, "2026-11-26T03:06:19.123Z"
};

namespace fhir {

/// Base of Tandem's own identifier and code systems in exported resources.
inline constexpr std::string_view system_base = "https://tandem.invalid/fhir/";

/// A stable UUID (RFC 9562 version 8, from SHA-256) for the resource of `kind` ("Patient",
/// "Flag") made from the Tandem record `tandem_id`: re-exports keep their fullUrls. Any thread.
std::string resource_uuid(std::string_view kind, std::string_view tandem_id);
/// "urn:uuid:" + resource_uuid(kind, tandem_id). Any thread.
std::string full_url(std::string_view kind, std::string_view tandem_id);
/// {"reference": full_url(kind, tandem_id)}. Any thread.
nlohmann::json reference(std::string_view kind, std::string_view tandem_id);

/// The mapping's view of an instrument definition document (common/measures/instruments/*.json,
/// schemas/instrument.schema.json: id, title, version, items [{id, text, options, loinc?}],
/// loinc {panel, total}?, scoring.bands?). Fields it lacks stay empty. Any thread.
FhirInstrument instrument_from_definition(const nlohmann::json& definition);

/// Patient from a Patient record (with assigned_therapist_id as generalPractitioner). Any thread.
nlohmann::json patient_resource(const nlohmann::json& patient);
/// Practitioner for a clinician account. Any thread.
nlohmann::json practitioner_resource(const FhirClinician& clinician);
/// Device for "bridge" (the server, the risk engine, the CLI) or "ai" (the AI companion). Any thread.
nlohmann::json device_resource(std::string_view device_id);

/// QuestionnaireResponse from an Assessment record (completed: status completed; skipped items
/// left out). `def` may be null. Any thread.
nlohmann::json questionnaire_response_resource(const nlohmann::json& assessment, const FhirInstrument* def);
/// Observation (category survey) of an Assessment's total with one component per answered item,
/// LOINC-coded where the definition has codes; derivedFrom its QuestionnaireResponse. Any thread.
nlohmann::json assessment_observation_resource(const nlohmann::json& assessment, const FhirInstrument* def);

/// Flag from a Flag record as folded from flag_* events: open/acknowledged/escalated -> active,
/// resolved -> inactive; period from opened_at to resolved_at. Notes are left out. Any thread.
nlohmann::json flag_resource(const nlohmann::json& flag);
/// RiskAssessment from a risk_assessed payload (a RiskAssessment record plus message_id or
/// assessment_id, patient_id) at `time`; `key` (the screened message's or assessment's id, else
/// the event's) names the resource. Rule rationales only, never message text; `basis` (an array
/// of references, may be empty) says what was assessed, when that is in the bundle. Any thread.
nlohmann::json risk_assessment_resource(const nlohmann::json& risk, std::string_view key, std::string_view patient_id,
                                        std::string_view time, const nlohmann::json& basis);

/// CarePlan from an approved or superseded TreatmentPlan record: approved -> active,
/// superseded -> revoked; goals as contained Goals; `replaces` names the version it replaced
/// (its plan id) when given. Any thread.
nlohmann::json care_plan_resource(const nlohmann::json& plan, const std::optional<std::string>& replaces_plan_id);

/// Communication from a Message record (its current state and text). Only for transcript exports:
/// it carries the message text. Any thread.
nlohmann::json communication_resource(const nlohmann::json& message);

/// AuditEvent from a transcript_viewed, clinician_action, plan_approved or plan_rejected event;
/// `resolvable` says whether a target id has an entry of the given kind in the bundle (else the
/// target is named by identifier only). nullopt for events that are not audit-relevant. Any thread.
std::optional<nlohmann::json> audit_event_resource(
    const StoredEvent& event, const std::function<std::optional<std::string>(std::string_view target_id)>& resolvable);

/// One patient's Bundle from their events in log order (every event whose patient_id is theirs,
/// plus the accounts in `clinicians`). Errors: not_found (no patient_registered event). Any thread.
Result<nlohmann::json> build_patient_bundle(std::string_view patient_id, const std::vector<StoredEvent>& events,
                                            const std::vector<FhirClinician>& clinicians,
                                            const FhirInstrumentLookup& instruments, const FhirExportOptions& options);

/// Every `reference` in `bundle` that does not start with '#' and names no entry's fullUrl. Any thread.
std::vector<std::string> unresolved_references(const nlohmann::json& bundle);

}  // namespace fhir

/// What to export and where.
struct FhirExportRequest {
    std::vector<std::string> patient_ids;  ///< empty with all_patients
    bool all_patients = false;
    std::filesystem::path out_dir;         ///< created (0700) when missing
    FhirExportOptions options;
    std::string requested_by = "cli";      ///< the OS user or operator, kept in the audit event
};

/// One written bundle.
struct FhirExportedFile {
    std::string patient_id;
    std::filesystem::path file;
    std::size_t resources = 0;
};

/// Exports from `store`: first checks every requested patient exists (not_found names the id,
/// nothing written), then appends one clinician_action {action "fhir_export"} audit event per
/// patient, then writes OUT/<patient-id>.json per patient (temp file, fsync, rename; mode 0600).
/// Errors: not_found, invalid_argument (an id unusable as a file name), storage, io. Main thread.
Result<std::vector<FhirExportedFile>> export_fhir(Store& store, const FhirExportRequest& request,
                                                  const FhirInstrumentLookup& instruments);

/// `tandem-bridge export fhir ...` with the arguments after "export"; prints one line per file;
/// returns the exit status (0 ok, 1 failed, 2 bad usage). Main thread.
int export_command(const std::vector<std::string>& args);

/// The --help text of `tandem-bridge export`. Any thread.
std::string_view export_help();

}  // namespace tandem::bridge
