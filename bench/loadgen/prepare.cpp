// Data-dir setup for load runs and the demo, through the bridge's own library rather than
// thousands of `tandem-bridge patient add` processes (each would open the store, replay the log
// and wait for its own fsync: minutes for 2,000 patients). Appends from many threads at once so
// the store's group commit batches them.

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <mutex>
#include <thread>

#include "loadgen.h"
#include "questionnaires.h"
#include "tandem/bridge/accounts.h"
#include "tandem/bridge/init.h"
#include "tandem/bridge/llm.h"
#include "tandem/bridge/metrics.h"
#include "tandem/bridge/patient_service.h"
#include "tandem/crypto/key_file.h"
#include "tandem/store/sqlcipher_store.h"

namespace tandem::loadgen {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const Actor kActor{ActorKind::system, std::string("loadgen")};

fs::path roster_file(const fs::path& data_dir) { return data_dir / "loadgen" / "roster.json"; }

Result<std::unique_ptr<SqlcipherStore>> open_store(const fs::path& data_dir) {
    auto key = load_key_file(data_dir / "store.key");
    if (!key) return std::unexpected(key.error());
    return SqlcipherStore::open(data_dir / "tandem.db", key->bytes());
}

json seat_json(const PatientSeat& p) {
    return {{"patient_id", p.patient_id}, {"display_name", p.display_name}, {"therapist", p.therapist},
            {"invite_code", p.invite_code}, {"device_token", p.device_token}};
}

PatientSeat seat_from(const json& j) {
    return PatientSeat{j.value("patient_id", ""), j.value("display_name", ""), j.value("therapist", ""),
                       j.value("invite_code", ""), j.value("device_token", "")};
}

// The bench's config: a higher per-patient limit than the clinic default (30/min) so the
// offered rate, not the limiter, decides what the bench measures.
Result<void> set_rate_limit(const fs::path& data_dir, int per_minute) {
    const auto file = data_dir / "config.json";
    std::ifstream in(file);
    auto j = json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return fail(ErrorCode::parse, "config.json is not a JSON object", file.string());
    j["rate_limit_per_minute"] = per_minute;
    std::ofstream out(file, std::ios::trunc);
    out << j.dump(2) << "\n";
    if (!out) return fail(ErrorCode::io, "cannot write config", file.string());
    return {};
}

// Runs `work(i)` for i in [0, n) on `threads` threads; the first error wins.
Result<void> parallel(int n, int threads, const std::function<Result<void>(int)>& work) {
    std::atomic<int> next{0};
    std::mutex mutex;
    std::optional<Error> first_error;
    std::vector<std::thread> pool;
    for (int t = 0; t < std::max(1, std::min(threads, n)); ++t)
        pool.emplace_back([&] {
            for (int i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
                if (auto r = work(i); !r) {
                    const std::lock_guard lock(mutex);
                    if (!first_error) first_error = r.error();
                    return;
                }
            }
        });
    for (auto& t : pool) t.join();
    if (first_error) return std::unexpected(*first_error);
    return {};
}

}  // namespace

Result<Roster> load_roster(const fs::path& data_dir) {
    std::ifstream in(roster_file(data_dir));
    if (!in) return fail(ErrorCode::io, "no roster; run tandem-loadgen prepare first", roster_file(data_dir).string());
    auto j = json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return fail(ErrorCode::parse, "roster is not JSON", roster_file(data_dir).string());
    Roster r;
    r.password = j.value("password", "");
    for (const auto& c : j.value("clinicians", json::array()))
        r.clinicians.push_back({c.value("username", ""), c.value("display_name", ""), c.value("role", "")});
    for (const auto& p : j.value("patients", json::array())) r.patients.push_back(seat_from(p));
    for (const auto& p : j.value("spare_invites", json::array())) r.spare_invites.push_back(seat_from(p));
    return r;
}

Result<void> save_roster(const fs::path& data_dir, const Roster& roster) {
    json j = {{"password", roster.password}, {"clinicians", json::array()}, {"patients", json::array()},
              {"spare_invites", json::array()}};
    for (const auto& c : roster.clinicians)
        j["clinicians"].push_back({{"username", c.username}, {"display_name", c.display_name}, {"role", c.role}});
    for (const auto& p : roster.patients) j["patients"].push_back(seat_json(p));
    for (const auto& p : roster.spare_invites) j["spare_invites"].push_back(seat_json(p));
    const auto file = roster_file(data_dir);
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    const auto tmp = file.string() + ".tmp";
    {
        // Device tokens are credentials: owner-only, like the rest of the data dir.
        const auto old = ::umask(077);
        std::ofstream out(tmp, std::ios::trunc);
        ::umask(old);
        out << j.dump(1) << "\n";
        if (!out) return fail(ErrorCode::io, "cannot write roster", tmp);
    }
    fs::rename(tmp, file, ec);
    if (ec) return fail(ErrorCode::io, "cannot replace roster: " + ec.message(), file.string());
    return {};
}

Result<std::int64_t> store_head(const fs::path& data_dir) {
    auto store = open_store(data_dir);
    if (!store) return std::unexpected(store.error());
    auto head = (*store)->head();
    if (!head) return std::unexpected(head.error());
    return head->seq;
}

Result<Roster> prepare(const PrepareOptions& o) {
    if (o.password.size() < 10) return fail(ErrorCode::invalid_argument, "the password must be at least 10 bytes");
    if (!fs::exists(o.data_dir / "config.json")) {
        bridge::InitOptions init;
        init.data_dir = o.data_dir;
        init.admin_password = o.password;
        if (auto r = bridge::init_data_dir(init); !r) return std::unexpected(r.error());
        std::printf("initialised %s (admin user: admin)\n", o.data_dir.c_str());
    }
    if (o.rate_limit_per_minute > 0)
        if (auto r = set_rate_limit(o.data_dir, o.rate_limit_per_minute); !r) return std::unexpected(r.error());

    Roster roster;
    if (auto old = load_roster(o.data_dir)) roster = std::move(*old);
    roster.password = o.password;

    // Who should exist.
    std::vector<ClinicianSeat> clinicians;
    struct Wanted {
        std::string name;
        std::string therapist;
        int scenario_index = -1;  // demo: the patient's entry in the scenario (answers, history)
    };
    std::vector<Wanted> wanted;
    int spare = 0;
    if (o.scenario.is_object()) {
        for (const auto& t : o.scenario.value("therapists", json::array()))
            clinicians.push_back({t.value("username", ""), t.value("name", ""), "therapist"});
        if (const auto s = o.scenario.find("supervisor"); s != o.scenario.end())
            clinicians.push_back({s->value("username", ""), s->value("name", ""), "supervisor"});
        int index = 0;
        for (const auto& p : o.scenario.value("patients", json::array()))
            wanted.push_back({p.value("name", ""), p.value("therapist", ""), index++});
        spare = o.scenario.value("spare_invites", 0);
    } else {
        char name[64];
        for (int t = 1; t <= std::max(1, o.therapists); ++t) {
            std::snprintf(name, sizeof name, "lg-therapist-%02d", t);
            clinicians.push_back({name, std::string("Load Therapist ") + std::to_string(t), "therapist"});
        }
        clinicians.push_back({"lg-supervisor", "Load Supervisor", "supervisor"});
        for (int i = static_cast<int>(roster.patients.size()); i < o.patients; ++i)
            wanted.push_back({"Load Patient " + std::to_string(i + 1),
                              clinicians[static_cast<std::size_t>(i) % (clinicians.size() - 1)].username});
    }

    auto store = open_store(o.data_dir);
    if (!store) return std::unexpected(store.error());
    bridge::AccountDirectory accounts(**store);
    if (auto r = accounts.refresh(); !r) return std::unexpected(r.error());
    // Argon2id costs ~50 ms and 19 MiB each: a few threads, not 32.
    auto added = parallel(static_cast<int>(clinicians.size()), 4, [&](int i) -> Result<void> {
        const auto& c = clinicians[static_cast<std::size_t>(i)];
        if (!accounts.by_username(c.username)) {
            auto a = accounts.add(c.username, c.display_name, {c.role}, o.password, bridge::PasswordPolicy{}, kActor);
            if (!a) return std::unexpected(a.error());
        }
        return {};
    });
    if (!added) return std::unexpected(added.error());
    for (const auto& c : clinicians) {
        const bool known = std::any_of(roster.clinicians.begin(), roster.clinicians.end(),
                                       [&](const ClinicianSeat& s) { return s.username == c.username; });
        if (!known) roster.clinicians.push_back(c);
    }
    if (auto r = accounts.refresh(); !r) return std::unexpected(r.error());

    bridge::Metrics metrics;
    auto screener = bridge::make_administration_only_screener();
    auto model = bridge::make_offline_companion();
    auto service = bridge::PatientService::create(**store, *screener, *model, metrics, {});
    if (!service) return std::unexpected(service.error());

    // Demo: the scenario's patients are made once (a rerun keeps them and their tokens).
    if (o.scenario.is_object() && !roster.patients.empty()) wanted.clear();
    std::vector<PatientSeat> made(wanted.size());
    std::atomic<int> seeded{0};
    auto make_patient = [&](const Wanted& w, PatientSeat& seat) -> Result<void> {
        // A returning demo patient registered weeks ago (the schedule then asks for week 8).
        const auto index = static_cast<std::size_t>(std::max(0, w.scenario_index));
        const int weeks = w.scenario_index >= 0 ? returning_weeks(o.scenario, index) : 0;
        auto id = weeks > 0 ? register_returning_patient(**store, w.name, weeks) : (*service)->register_patient(w.name);
        if (!id) return std::unexpected(id.error());
        seat.patient_id = *id;
        seat.display_name = w.name;
        seat.therapist = w.therapist;
        if (!w.therapist.empty()) {
            auto t = accounts.by_username(w.therapist);
            if (!t) return fail(ErrorCode::invalid_argument, "no therapist named " + w.therapist);
            if (auto r = bridge::assign_patient(**store, accounts, *id, t->id, kActor); !r)
                return std::unexpected(r.error());
        }
        if (weeks > 0) {
            auto n = seed_questionnaire_history(**store, o.scenario, index, *id);
            if (!n) return std::unexpected(n.error());
            seeded += *n;
        }
        auto code = (*service)->issue_invite(*id);
        if (!code) return std::unexpected(code.error());
        seat.invite_code = *code;
        return {};
    };
    auto patients_made = parallel(static_cast<int>(wanted.size()), o.threads, [&](int i) {
        return make_patient(wanted[static_cast<std::size_t>(i)], made[static_cast<std::size_t>(i)]);
    });
    if (!patients_made) return std::unexpected(patients_made.error());
    roster.patients.insert(roster.patients.end(), made.begin(), made.end());
    if (seeded > 0)
        std::printf("seeded %d earlier questionnaire results (demo data) for the returning patients\n", seeded.load());

    // Spare invites, for a person to try the chat page beside the simulated patients: topped
    // up to `spare` unredeemed codes on each prepare (a redeemed one is gone).
    if (o.scenario.is_object()) {
        roster.spare_invites.clear();
        const auto first_therapist = clinicians.empty() ? std::string() : clinicians.front().username;
        std::vector<PatientSeat> spares(static_cast<std::size_t>(std::max(0, spare)));
        std::atomic<int> counter{0};
        auto spares_made = parallel(spare, o.threads, [&](int i) {
            const int n = counter.fetch_add(1) + 1;
            return make_patient({"Guest Patient " + std::to_string(n), first_therapist},
                                spares[static_cast<std::size_t>(i)]);
        });
        if (!spares_made) return std::unexpected(spares_made.error());
        roster.spare_invites = std::move(spares);
    }
    if (auto r = save_roster(o.data_dir, roster); !r) return std::unexpected(r.error());
    return roster;
}

Memory read_memory(int pid) {
    Memory m;
    if (pid <= 0) return m;
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) m.rss_kb = std::strtol(line.c_str() + 6, nullptr, 10);
        if (line.rfind("VmHWM:", 0) == 0) m.hwm_kb = std::strtol(line.c_str() + 6, nullptr, 10);
    }
    return m;
}

Cpu read_cpu(int pid) {
    Cpu c;
    if (pid <= 0) return c;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    std::getline(in, text);  // one line
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const auto close = text.rfind(')');
    if (close == std::string::npos) return c;
    std::istringstream fields(text.substr(close + 2));
    std::string f;
    long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && (fields >> f); ++i) {
        if (i == 14) utime = std::strtol(f.c_str(), nullptr, 10);
        if (i == 15) stime = std::strtol(f.c_str(), nullptr, 10);
    }
    c.seconds = static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    return c;
}

}  // namespace tandem::loadgen
