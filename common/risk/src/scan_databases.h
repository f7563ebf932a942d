#pragma once
// The compiled Vectorscan databases of a rule set, and their cache file. Private to common/risk:
// rule_set.cpp compiles the databases (or reads them back from the cache) and scans with them.
// Why a file of its own: the cache's format is one responsibility, versioned on its own
// (kCacheMagic), apart from loading, checking and scanning rules.

#include <hs.h>

#include <array>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include "match_starts.h"

namespace tandem::scan_databases {

using match_starts::StartRule;

/// SpeakerRole values, indexing the per-role databases.
inline constexpr std::size_t kRoles = 3;

/// The compiled databases of a rule set; owns them until moved into RuleSet::Impl.
struct Databases {
    std::array<hs_database_t*, kRoles> prefilter{};  // nullptr: no candidate pattern for the role
    std::array<hs_database_t*, kRoles> role{};       // the role's rules alone; nullptr: none
    std::vector<hs_database_t*> window;              // per pattern: its one-pattern start database, or nullptr
    std::vector<std::size_t> widths;                 // per pattern: 0, or a `.{0,N}` pattern's greatest width
    std::vector<StartRule> starts;                   // per pattern: how its start offsets are found

    Databases() = default;
    Databases(const Databases&) = delete;
    Databases& operator=(const Databases&) = delete;
    Databases(Databases&& o) noexcept { take(o); }
    Databases& operator=(Databases&& o) noexcept {
        if (this != &o) {
            reset();
            take(o);
        }
        return *this;
    }
    ~Databases() { reset(); }
    void take(Databases& o) noexcept {
        prefilter = std::exchange(o.prefilter, {});
        role = std::exchange(o.role, {});
        window = std::exchange(o.window, {});
        widths = std::move(o.widths);
        starts = std::move(o.starts);
    }
    void reset() {
        for (auto* dbs : {&prefilter, &role}) {
            for (auto*& p : *dbs) {
                if (p != nullptr) hs_free_database(p);
                p = nullptr;
            }
        }
        for (hs_database_t* p : window) {
            if (p != nullptr) hs_free_database(p);
        }
        window.clear();
    }
};

/// Every database of a set, for sizing a scan scratch. Any thread.
std::vector<const hs_database_t*> all_databases(const Databases& dbs);

/// The databases of a rule set of `patterns` patterns read back from `file`; nullopt when the
/// file is missing, of another format version or damaged (the caller compiles instead). Any thread.
std::optional<Databases> read_cache(const std::filesystem::path& file, std::size_t patterns);

/// Writes `dbs` to `file`, best effort: a cache that cannot be written only costs the next
/// start a compile. Any thread.
void write_cache(const std::filesystem::path& file, const Databases& dbs);

}  // namespace tandem::scan_databases
