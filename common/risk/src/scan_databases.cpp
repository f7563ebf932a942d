#include "scan_databases.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace tandem::scan_databases {

using match_starts::StartHow;

namespace {

// Version 2 adds the per-role prefilter databases after the main one; version 3 the per-role
// scan databases after those; version 4 a scan database for the patient too (same layout, the
// patient's slot no longer empty) and no all-roles database: scan() without a role is the union
// of the per-role scans; version 5 each pattern's way to its start offsets after its width,
// and after the role databases a one-pattern database per pattern whose starts are found by a
// window scan (match_starts.h).
constexpr std::string_view kCacheMagic = "TANDEM-RISK-DB-5\n";

}  // namespace

std::vector<const hs_database_t*> all_databases(const Databases& dbs) {
    std::vector<const hs_database_t*> out(dbs.prefilter.begin(), dbs.prefilter.end());
    out.insert(out.end(), dbs.role.begin(), dbs.role.end());
    out.insert(out.end(), dbs.window.begin(), dbs.window.end());
    return out;
}

// The file: magic; per pattern three u32 (the `.{0,N}` width, how its starts are found, the
// start rule's width); then for each role's prefilter, each role's scan database and each
// pattern's start database a u64 length and the serialised database (length 0: none). Native
// byte order: the cache belongs to one machine.
std::optional<Databases> read_cache(const std::filesystem::path& file, std::size_t patterns) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream buffer;
    buffer << in.rdbuf();
    const std::string bytes = buffer.str();
    std::size_t at = kCacheMagic.size() + 12 * patterns;
    if (bytes.size() <= at || bytes.compare(0, kCacheMagic.size(), kCacheMagic) != 0) return std::nullopt;
    Databases out;
    for (std::size_t i = 0; i < patterns; ++i) {
        std::uint32_t w[3] = {};
        std::memcpy(w, bytes.data() + kCacheMagic.size() + 12 * i, 12);
        if (w[1] >= match_starts::kStartHows) return std::nullopt;
        out.widths.push_back(w[0]);
        out.starts.push_back(StartRule{static_cast<StartHow>(w[1]), w[2]});
    }
    auto next = [&](hs_database_t*& db) {
        std::uint64_t length = 0;
        if (bytes.size() - at < sizeof length) return false;
        std::memcpy(&length, bytes.data() + at, sizeof length);
        at += sizeof length;
        if (bytes.size() - at < length) return false;
        if (length == 0) return true;
        const bool ok = hs_deserialize_database(bytes.data() + at, static_cast<std::size_t>(length), &db) == HS_SUCCESS;
        at += static_cast<std::size_t>(length);
        return ok;
    };
    for (auto* dbs : {&out.prefilter, &out.role}) {
        for (auto*& p : *dbs) {
            if (!next(p)) return std::nullopt;
        }
    }
    out.window.assign(patterns, nullptr);
    for (std::size_t i = 0; i < patterns; ++i) {
        if (!next(out.window[i])) return std::nullopt;
        const bool scanned = out.starts[i].how == StartHow::window || out.starts[i].how == StartHow::reversed;
        if ((out.window[i] != nullptr) != scanned) return std::nullopt;
    }
    if (at != bytes.size()) return std::nullopt;
    // A file of no database at all is damaged (a rule set with a risk rule has a prefilter);
    // no role database is not: a set of phrase patterns alone is matched outside Vectorscan.
    auto none = [](const auto& dbs) { return std::all_of(dbs.begin(), dbs.end(), [](const hs_database_t* db) { return db == nullptr; }); };
    if (none(out.role) && none(out.prefilter)) return std::nullopt;
    return out;
}

// Written to a temporary name and renamed, so a concurrent reader never sees half a file.
void write_cache(const std::filesystem::path& file, const Databases& dbs) {
    std::vector<std::pair<char*, std::size_t>> blobs;
    bool ok = true;
    std::vector<const hs_database_t*> in_order;
    in_order.insert(in_order.end(), dbs.prefilter.begin(), dbs.prefilter.end());
    in_order.insert(in_order.end(), dbs.role.begin(), dbs.role.end());
    in_order.insert(in_order.end(), dbs.window.begin(), dbs.window.end());
    for (const hs_database_t* db : in_order) {
        char* bytes = nullptr;
        std::size_t length = 0;
        if (db != nullptr && hs_serialize_database(db, &bytes, &length) != HS_SUCCESS) ok = false;
        blobs.emplace_back(bytes, length);
    }
    if (ok) {
        std::error_code ec;
        std::filesystem::create_directories(file.parent_path(), ec);
        const auto tmp = file.string() + ".tmp" + std::to_string(reinterpret_cast<std::uintptr_t>(&ec));
        {
            std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
            out.write(kCacheMagic.data(), static_cast<std::streamsize>(kCacheMagic.size()));
            for (std::size_t i = 0; i < dbs.widths.size(); ++i) {
                const std::uint32_t w[3] = {static_cast<std::uint32_t>(dbs.widths[i]),
                                            static_cast<std::uint32_t>(dbs.starts[i].how), dbs.starts[i].width};
                out.write(reinterpret_cast<const char*>(w), 12);
            }
            for (const auto& [bytes, length] : blobs) {
                const std::uint64_t n = length;
                out.write(reinterpret_cast<const char*>(&n), sizeof n);
                if (length != 0) out.write(bytes, static_cast<std::streamsize>(length));
            }
        }
        std::filesystem::rename(tmp, file, ec);
        if (ec) std::filesystem::remove(tmp, ec);
    }
    for (const auto& [bytes, length] : blobs) std::free(bytes);
}

}  // namespace tandem::scan_databases
