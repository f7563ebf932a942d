// `tandem-bridge export fhir`: reads the store (also while a bridge serves it), audits the
// export in the hash chain, then writes one Bundle file per patient, atomically and 0600.

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "tandem/bridge/fhir_export.h"
#include "tandem/bridge/log_tail.h"
#include "tandem/crypto/key_file.h"
#include "tandem/crypto/random.h"
#include "tandem/domain/time.h"
#include "tandem/store/sqlcipher_store.h"

namespace tandem::bridge {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kHelp =
    "usage: tandem-bridge export fhir --data-dir DIR (--patient ID | --all) --out DIR\n"
    "                                 [--include-transcripts] [--instruments-dir DIR]\n"
    "\n"
    "Writes one HL7 FHIR R4 Bundle (type collection, JSON) per patient to OUT/<patient-id>.json\n"
    "(mode 0600; OUT is created 0700): Patient, QuestionnaireResponse and Observation per scored\n"
    "questionnaire (LOINC-coded), Flag and RiskAssessment from risk findings, CarePlan per approved\n"
    "or superseded plan version, AuditEvent per transcript read, clinician action and plan decision.\n"
    "Message text is written ONLY with --include-transcripts (a Communication per message).\n"
    "\n"
    "THE FILES CONTAIN PROTECTED HEALTH INFORMATION (names, answers, risk findings, and with\n"
    "--include-transcripts the conversations). Store and send them only as clinical records: on\n"
    "encrypted disks, to recipients entitled to them, and delete them when done. Each export is\n"
    "recorded in the audit chain (a clinician_action event, action fhir_export, actor the CLI and\n"
    "your OS user) before any file is written.\n"
    "\n"
    "Works while the bridge serves (reads the store with the data dir's key; adds only the audit\n"
    "event). Mapping and codes: docs/FHIR.md.\n"
    "\n"
    "  --data-dir DIR          the bridge's data dir (store.key and tandem.db)\n"
    "  --patient ID            a patient to export (repeatable); an unknown id exports nothing\n"
    "  --all                   every registered patient\n"
    "  --out DIR               where the bundles go; an existing <patient-id>.json is replaced\n"
    "  --include-transcripts   also export every message with its text (Communication)\n"
    "  --instruments-dir DIR   clinic-added questionnaire definitions (default: the config file's\n"
    "                          instruments_dir, relative to the data dir)\n";

// "." and ".." match the id alphabet but would not name a file inside OUT.
bool usable_file_name(const std::string& id) {
    if (id.empty() || id.size() > 64 || id == "." || id == "..") return false;
    for (const char c : id)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') return false;
    return true;
}

Result<void> write_file_atomically(const fs::path& file, const std::string& text) {
    // A reader (or a crash) never sees half a bundle: the temp file is complete and synced before
    // the rename, and the directory is synced after it. Rejected: writing in place (a crash
    // leaves a truncated file that still parses as far as a careless reader looks).
    const fs::path tmp = file.parent_path() / ("." + file.filename().string() + "." + random_token(8) + ".tmp");
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return fail(ErrorCode::io, std::string("cannot create: ") + std::strerror(errno), tmp.string());
    std::size_t done = 0;
    bool ok = true;
    while (ok && done < text.size()) {
        const auto n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        ok = n > 0;
        if (ok) done += static_cast<std::size_t>(n);
    }
    ok = ok && ::fchmod(fd, 0600) == 0 && ::fsync(fd) == 0;
    ok = ::close(fd) == 0 && ok;
    if (!ok || ::rename(tmp.c_str(), file.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        ::unlink(tmp.c_str());
        return fail(ErrorCode::io, "cannot write: " + why, file.string());
    }
    const int dir = ::open(file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
    return {};
}

// The bridge's config key `instruments_dir` (relative paths are under the data dir, as the
// bridge's other paths): the export must know the clinic's instruments the bridge scored with.
fs::path configured_instruments_dir(const fs::path& data_dir) {
    std::ifstream in(data_dir / "config.json");
    if (!in) return {};
    const auto config = json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!config.is_object() || !config.contains("instruments_dir") || !config["instruments_dir"].is_string()) return {};
    const fs::path dir = config["instruments_dir"].get<std::string>();
    if (dir.empty()) return {};
    return dir.is_absolute() ? dir : data_dir / dir;
}

std::string os_user() {
    if (const auto* pw = ::getpwuid(::geteuid()); pw && pw->pw_name) return pw->pw_name;
    return "uid " + std::to_string(::geteuid());
}

}  // namespace

Result<std::vector<FhirExportedFile>> export_fhir(Store& store, const FhirExportRequest& request,
                                                  const FhirInstrumentLookup& instruments) {
    // 1. Which patients, all checked before anything is audited or written.
    std::vector<std::string> ids = request.patient_ids;
    if (request.all_patients) {
        Principal all;
        all.supervisor = true;
        auto patients = store.patients(all);
        if (!patients) return std::unexpected(patients.error());
        ids.clear();
        for (const auto& p : *patients) ids.push_back(p.id);
    }
    // The same --patient twice is one export (one audit event, one file).
    std::set<std::string> seen;
    std::erase_if(ids, [&](const std::string& id) { return !seen.insert(id).second; });
    for (const auto& id : ids) {
        if (!usable_file_name(id))
            return fail(ErrorCode::invalid_argument, "not a Tandem patient id: " + id, "--patient");
        auto p = store.find_patient(id);
        if (!p) return std::unexpected(p.error());
        if (!*p) return fail(ErrorCode::not_found, "no such patient: " + id, "--patient");
    }
    std::error_code ec;
    if (!fs::exists(request.out_dir, ec)) {
        fs::create_directories(request.out_dir, ec);
        if (ec) return fail(ErrorCode::io, "cannot create the output dir: " + ec.message(), request.out_dir.string());
        fs::permissions(request.out_dir, fs::perms::owner_all, ec);
    } else if (!fs::is_directory(request.out_dir, ec)) {
        return fail(ErrorCode::io, "not a directory", request.out_dir.string());
    }

    // 2. The audit record first: an export that cannot be audited does not happen.
    std::vector<NewEvent> audits;
    for (const auto& id : ids) {
        NewEvent e;
        e.type = EventType::clinician_action;
        e.patient_id = id;
        e.actor = Actor{ActorKind::system, std::string("cli")};
        e.payload = {{"action", "fhir_export"},
                     {"patient_id", id},
                     {"include_transcripts", request.options.include_transcripts},
                     {"requested_by", request.requested_by},
                     {"out_dir", fs::absolute(request.out_dir, ec).string()},
                     {"at", request.options.exported_at}};
        audits.push_back(std::move(e));
    }
    if (!audits.empty())
        if (auto r = store.append_batch(std::move(audits)); !r) return std::unexpected(r.error());

    // 3. One pass over the log (audit events just written included), grouped by patient.
    const std::set<std::string> wanted(ids.begin(), ids.end());
    std::map<std::string, std::vector<StoredEvent>> events;
    std::vector<FhirClinician> clinicians;
    std::map<std::string, std::size_t> clinician_at;
    std::int64_t cursor = 0;
    auto read = read_log_after(store, cursor, [&](const StoredEvent& e) {
        if (e.type == EventType::clinician_added || e.type == EventType::clinician_updated) {
            // Only the name: the payload also holds the password hash and TOTP secret.
            FhirClinician c{e.payload.value("id", ""), e.payload.value("display_name", ""), e.payload.value("active", true)};
            if (c.id.empty()) return;
            if (const auto it = clinician_at.find(c.id); it != clinician_at.end()) {
                clinicians[it->second] = std::move(c);
            } else {
                clinician_at.emplace(c.id, clinicians.size());
                clinicians.push_back(std::move(c));
            }
            return;
        }
        if (e.patient_id && wanted.contains(*e.patient_id)) events[*e.patient_id].push_back(e);
    });
    if (!read) return std::unexpected(read.error());

    // 4. The files.
    std::vector<FhirExportedFile> out;
    for (const auto& id : ids) {
        auto bundle = fhir::build_patient_bundle(id, events[id], clinicians, instruments, request.options);
        if (!bundle) return std::unexpected(bundle.error());
        const fs::path file = request.out_dir / (id + ".json");
        if (auto w = write_file_atomically(file, bundle->dump(2) + "\n"); !w) return std::unexpected(w.error());
        out.push_back({id, file, (*bundle)["entry"].size()});
        events.erase(id);  // a big clinic's --all should not hold every patient's log at once longer than needed
    }
    return out;
}

std::string_view export_help() { return kHelp; }

int export_command(const std::vector<std::string>& args) {
    auto usage = [](const std::string& message) {
        std::cerr << "tandem-bridge: " << message << "\n\n" << kHelp;
        return 2;
    };
    if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) return std::cout << kHelp, 0;
    if (args.empty() || args[0] != "fhir") return usage("expected 'export fhir'");
    FhirExportRequest request;
    fs::path data_dir, instruments_dir;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const auto& a = args[i];
        if (a == "--help" || a == "-h") return std::cout << kHelp, 0;
        if (a == "--all") {
            request.all_patients = true;
            continue;
        }
        if (a == "--include-transcripts") {
            request.options.include_transcripts = true;
            continue;
        }
        if (i + 1 >= args.size()) return usage("unexpected or incomplete argument '" + a + "'");
        const auto& v = args[++i];
        if (a == "--data-dir") data_dir = v;
        else if (a == "--out") request.out_dir = v;
        else if (a == "--patient") request.patient_ids.push_back(v);
        else if (a == "--instruments-dir") instruments_dir = v;
        else return usage("unexpected or incomplete argument '" + a + "'");
    }
    if (data_dir.empty() || request.out_dir.empty()) return usage("--data-dir and --out are required");
    if (request.all_patients == !request.patient_ids.empty()) return usage("give either --patient ID or --all");
    auto fail_exit = [](const Error& e) {
        std::cerr << "tandem-bridge: " << to_string(e.code) << ": " << e.describe() << "\n";
        return 1;
    };
    if (instruments_dir.empty()) instruments_dir = configured_instruments_dir(data_dir);
    auto lookup = fhir_instrument_lookup(instruments_dir);
    if (!lookup) return fail_exit(lookup.error());
    auto key = load_key_file(data_dir / "store.key");
    if (!key) return fail_exit(key.error());
    auto store = SqlcipherStore::open(data_dir / "tandem.db", key->bytes());
    if (!store) return fail_exit(store.error());
    request.options.exported_at = format_timestamp(now_utc());
    request.requested_by = os_user();
    auto files = export_fhir(**store, request, *lookup);
    if (!files) return fail_exit(files.error());
    for (const auto& f : *files)
        std::cout << f.file.string() << " (" << f.resources << " resources" << ")\n";
    std::cout << files->size() << " bundle(s) written; they contain PHI: handle them as clinical records\n";
    return 0;
}

}  // namespace tandem::bridge
