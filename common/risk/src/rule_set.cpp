#include "tandem/risk/rule_set.h"

#include <hs.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "embedded.h"
#include "embedded_schema.h"
#include "match_starts.h"
#include "rule_file_checks.h"
#include "scan_databases.h"
#include "scan_scratch.h"
#include "vectorscan_runtime.h"
#include "word_lists.h"

namespace tandem {
namespace {

using rule_file::element_ranges;
using rule_file::line_of;
using rule_file::rule_line;
using rule_file::validate_against_schema;
using rule_file::where;
using match_starts::fill_starts;
using match_starts::StartHow;
using match_starts::StartRule;
using scan_databases::all_databases;
using scan_databases::Databases;
using scan_databases::kRoles;
using scan_databases::read_cache;
using scan_databases::write_cache;
using word_lists::PhraseIndex;
using word_lists::RawReport;

constexpr std::array<std::pair<RuleKind, std::string_view>, 12> kKindNames{{
    {RuleKind::risk, "risk"},
    {RuleKind::negation, "negation"},
    {RuleKind::idiom, "idiom"},
    {RuleKind::third_party, "third_party"},
    {RuleKind::history, "history"},
    {RuleKind::topic, "topic"},
    {RuleKind::everyday, "everyday"},
    {RuleKind::refusal, "refusal"},
    {RuleKind::safety_response, "safety_response"},
    {RuleKind::question, "question"},
    {RuleKind::first_person, "first_person"},
    {RuleKind::boundary, "boundary"},
}};

std::optional<RuleKind> parse_kind(std::string_view name) {
    for (const auto& [k, n] : kKindNames) {
        if (n == name) return k;
    }
    return std::nullopt;
}

std::optional<SpeakerRole> role_of(const std::string& s) {
    if (s == "any") return std::nullopt;
    return parse_speaker_role(s);
}

bool suicidal_category(RiskCategory c) {
    return c == RiskCategory::suicidal_ideation || c == RiskCategory::suicidal_behaviour;
}

std::atomic<std::uint64_t> g_generation{1};


constexpr std::size_t kMaxMatches = 4096;

// FNV-1a over everything that decides the compiled database. Not a security boundary: a
// wrong cache hit needs a 64-bit collision between two rule sets on one machine.
struct Fnv {
    std::uint64_t h = 1469598103934665603ULL;
    void add(std::string_view s) {
        for (unsigned char c : s) {
            h ^= c;
            h *= 1099511628211ULL;
        }
        const std::uint64_t n = s.size();
        for (int i = 0; i < 8; ++i) {
            h ^= (n >> (8 * i)) & 0xFF;
            h *= 1099511628211ULL;
        }
    }
};

// The shortest and longest match of a pattern (hs_expression_info; longest 0xffffffff when
// unbounded), or Vectorscan's refusal naming the pattern's origin.
struct PatternWidths {
    unsigned int min_width = 0;
    unsigned int max_width = 0;
};
Result<PatternWidths> pattern_widths(const std::string& pattern, const std::string& origin) {
    hs_expr_info_t* info = nullptr;
    hs_compile_error_t* err = nullptr;
    if (hs_expression_info(pattern.c_str(), HS_FLAG_CASELESS, &info, &err) != HS_SUCCESS) {
        std::string message = err != nullptr && err->message != nullptr ? err->message : "unknown error";
        if (err != nullptr) hs_free_compile_error(err);
        return fail(ErrorCode::parse, origin + ": Vectorscan refused the pattern: " + message);
    }
    const PatternWidths out{info->min_width, info->max_width};
    std::free(info);
    return out;
}

// True when the pattern holds a bounded repeat wider than 8 ("{0,60}").
bool has_wide_repeat(std::string_view p) {
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (p[i] == '\\') {
            ++i;
            continue;
        }
        if (p[i] != '{') continue;
        const auto close = p.find('}', i);
        if (close == std::string_view::npos) return false;
        const auto inner = p.substr(i + 1, close - i - 1);
        const auto comma = inner.find(',');
        const auto upper = comma == std::string_view::npos ? inner : inner.substr(comma + 1);
        if (upper.empty()) return true;  // "{2,}" is unbounded
        if (std::strtoul(std::string(upper).c_str(), nullptr, 10) > 8) return true;
    }
    return false;
}

// True when the pattern ends with a word boundary, not an escaped backslash and a 'b'.
bool closing_boundary(std::string_view p) {
    if (!p.ends_with("\\b")) return false;
    std::size_t slashes = 0;
    for (std::size_t i = p.size() - 1; i-- > 0 && p[i] == '\\';) ++slashes;
    return slashes % 2 == 1;
}

// Collects every report; the order Vectorscan delivers reports ending at one offset is its
// own (it differs between two databases holding the same pattern), so they are put in a fixed
// order before anything reads them. Stops collecting at a bound no real message reaches.
int on_report(unsigned int id, unsigned long long from, unsigned long long to, unsigned int, void* ctx) {
    auto& raw = *static_cast<std::vector<RawReport>*>(ctx);
    raw.push_back(RawReport{id, from, to});
    return raw.size() >= 16 * kMaxMatches ? 1 : 0;
}

// The reports of one scan, thread-local so a warm scan does not allocate.
std::vector<RawReport>& raw_reports() {
    thread_local std::vector<RawReport> raw;
    return raw;
}

// Puts the reports in the order the engine reads them, whatever database produced them: by end
// offset, then patterns compiled without start tracking (the `.{0,N}` compositions) before the
// others, then by pattern index. That is the order the shipped all-roles database delivers
// (measured on 13,410 development and public texts, docs/PERFORMANCE.md) except between two
// `.{0,N}` patterns ending at one offset, whose order was the database's own; fixed here, so a
// smaller or rewritten database (per role, without a pattern, a pattern rewritten into an
// equivalent form) reports in the same order as the full one. The order reaches the order of
// spans with equal starts and of rationale clauses of equal severity. Then merges them into
// matches: one per rule and start (the longest end); a pattern without start tracking spans at
// most its width back from the end, and overlapping reports of its rule merge into one match.
void order_reports(std::vector<RawReport>& raw, const std::vector<std::size_t>& pattern_rule,
                   const std::vector<std::size_t>& pattern_width, std::vector<RuleMatch>& out) {
    // The key is total (a report is its pattern, start and end), so any sort gives one order.
    // Insertion sort: Vectorscan delivers nearly in this order already (by end), so it is one
    // pass with few moves, and unlike std::stable_sort it allocates nothing.
    auto before = [&](const RawReport& x, const RawReport& y) {
        if (x.to != y.to) return x.to < y.to;
        const bool xw = pattern_width[x.id] != 0;
        const bool yw = pattern_width[y.id] != 0;
        if (xw != yw) return xw;
        if (x.id != y.id) return xw ? x.id > y.id : x.id < y.id;
        return x.from < y.from;
    };
    for (std::size_t i = 1; i < raw.size(); ++i) {
        if (!before(raw[i], raw[i - 1])) continue;
        const RawReport r = raw[i];
        std::size_t j = i;
        for (; j > 0 && before(r, raw[j - 1]); --j) raw[j] = raw[j - 1];
        raw[j] = r;
    }
    const std::size_t first = out.size();
    const RawReport* previous = nullptr;
    for (const RawReport& r : raw) {
        // The same report from two databases (scan() without a role): once.
        if (previous != nullptr && previous->id == r.id && previous->to == r.to && previous->from == r.from) continue;
        previous = &r;
        const std::size_t rule = pattern_rule[r.id];
        unsigned long long from = r.from;
        const unsigned long long to = r.to;
        bool merged = false;
        if (const std::size_t width = pattern_width[r.id]; width != 0) {
            from = to > width ? to - width : 0;
            for (std::size_t i = out.size(); i-- > first;) {
                if (out[i].rule == rule && out[i].end >= from) {
                    out[i].end = std::max<std::size_t>(out[i].end, to);
                    merged = true;
                    break;
                }
            }
        }
        if (!merged) {
            for (std::size_t i = out.size(); i-- > first;) {
                if (out[i].rule == rule && out[i].begin == from) {
                    out[i].end = std::max<std::size_t>(out[i].end, to);
                    merged = true;
                    break;
                }
            }
        }
        if (merged) continue;
        out.push_back(RuleMatch{rule, static_cast<std::size_t>(from), static_cast<std::size_t>(to)});
        if (out.size() - first >= kMaxMatches) break;
    }
    raw.clear();
}

// The prefilter only asks whether anything matches: the first report ends the scan.
int on_candidate(unsigned int, unsigned long long, unsigned long long, unsigned int, void* ctx) {
    *static_cast<bool*>(ctx) = true;
    return 1;
}

// The patterns that can make a turn by role count: risk, question and safety-response rules
// for that role (or any role). A turn without any of them analyses to nothing whatever
// modifiers match, so it needs no scan with start offsets.
bool prefilter_kind(RuleKind kind) {
    return kind == RuleKind::risk || kind == RuleKind::question || kind == RuleKind::safety_response;
}

}  // namespace

std::string_view to_string(SpeakerRole role) noexcept {
    switch (role) {
        case SpeakerRole::patient: return "patient";
        case SpeakerRole::ai: return "ai";
        case SpeakerRole::clinician: return "clinician";
    }
    return "unknown";
}

std::optional<SpeakerRole> parse_speaker_role(std::string_view name) noexcept {
    if (name == "patient") return SpeakerRole::patient;
    if (name == "ai") return SpeakerRole::ai;
    if (name == "clinician") return SpeakerRole::clinician;
    return std::nullopt;
}

std::string_view to_string(RuleKind kind) noexcept {
    for (const auto& [k, n] : kKindNames) {
        if (k == kind) return n;
    }
    return "unknown";
}

bool is_modifier(RuleKind kind) noexcept {
    switch (kind) {
        case RuleKind::negation:
        case RuleKind::idiom:
        case RuleKind::third_party:
        case RuleKind::history:
        case RuleKind::topic:
        case RuleKind::everyday:
        case RuleKind::refusal: return true;
        default: return false;
    }
}

std::string_view risk_rules_schema_text() { return embedded::risk_rules_schema(); }

struct RuleSet::Impl {
    std::vector<RiskRule> rules;
    std::vector<std::size_t> pattern_rule;   // compiled pattern index -> rule index
    std::string version;
    Normalizer normalizer;
    Databases dbs;  // dbs.widths: 0 when compiled with SOM, else the pattern's max width
    std::vector<bool> in_word_list;                 // compiled pattern index -> a phrase pattern, left out of the databases
    PhraseIndex phrases;                            // the phrase patterns, by their first word
    std::vector<match_starts::LiteralSet> literals; // compiled pattern index -> its strings (StartHow::literals)
    std::uint64_t generation = 0;
    bool from_cache = false;
    ScratchPool scratch;
};


RuleSet::RuleSet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RuleSet::RuleSet(RuleSet&&) noexcept = default;
RuleSet& RuleSet::operator=(RuleSet&&) noexcept = default;
RuleSet::~RuleSet() = default;

const std::vector<RiskRule>& RuleSet::rules() const noexcept { return impl_->rules; }
const std::string& RuleSet::version() const noexcept { return impl_->version; }
const Normalizer& RuleSet::normalizer() const noexcept { return impl_->normalizer; }
std::size_t RuleSet::pattern_count() const noexcept { return impl_->pattern_rule.size(); }
bool RuleSet::from_cache() const noexcept { return impl_->from_cache; }
std::uint64_t RuleSet::generation() const noexcept { return impl_->generation; }

std::optional<std::filesystem::path> RuleSet::default_cache_dir() {
    if (const char* dir = std::getenv("TANDEM_RISK_CACHE_DIR"); dir != nullptr && *dir != '\0') return std::filesystem::path(dir);
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
        return std::filesystem::path(xdg) / "tandem" / "risk";
    }
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
        return std::filesystem::path(home) / ".cache" / "tandem" / "risk";
    }
    return std::nullopt;
}

Result<RuleSet> RuleSet::load(std::span<const RuleSource> sources, const std::optional<std::filesystem::path>& cache_dir,
                              StartOffsets starts) {
    auto impl = std::make_unique<Impl>();
    std::vector<std::pair<std::string, std::string>> substitutions;
    std::map<std::string, std::string> seen_ids;  // id -> where
    std::set<std::string> seen_names;
    std::vector<std::string> versions;
    std::vector<std::string> compiled;       // normalised patterns
    std::vector<std::string> pattern_origin; // "rule id, pattern n (file:line)"
    if (sources.empty()) return fail(ErrorCode::invalid_argument, "no risk rule files given");

    for (const RuleSource& src : sources) {
        nlohmann::json doc;
        try {
            doc = nlohmann::json::parse(src.text);
        } catch (const nlohmann::json::parse_error& e) {
            // nlohmann reports a 1-based byte position; a clinical lead needs a line.
            const std::size_t byte = e.byte == 0 ? 0 : e.byte - 1;
            std::string what = e.what();
            if (auto pos = what.find("parse error"); pos != std::string::npos) what = what.substr(pos);
            return fail(ErrorCode::parse, where(src, line_of(src.text, byte)) + ": " + what);
        }
        if (auto ok = validate_against_schema(src, doc); !ok) return std::unexpected(ok.error());

        const std::string name = doc.at("name").get<std::string>();
        if (!seen_names.insert(name).second) {
            return fail(ErrorCode::conflict, where(src, rule_line(src.text, "", 0)) +
                                                 ": rule set name \"" + name + "\" used by two files");
        }
        versions.push_back(name + "@" + doc.at("version").get<std::string>());
        const std::string file_language = doc.at("language").get<std::string>();

        if (doc.contains("substitutions")) {
            for (const auto& s : doc["substitutions"]) {
                substitutions.emplace_back(s.at("from").get<std::string>(), s.at("to").get<std::string>());
            }
        }

        const auto& rules = doc.at("rules");
        // Where each rule starts, found once per file (a rule's line goes into its messages).
        const auto ranges = element_ranges(src.text, "rules");
        std::vector<std::size_t> newlines;
        for (std::size_t k = 0; k < src.text.size(); ++k) {
            if (src.text[k] == '\n') newlines.push_back(k);
        }
        auto start_line = [&](std::size_t index) -> std::size_t {
            if (index >= ranges.size()) return 1;
            return 1 + static_cast<std::size_t>(std::lower_bound(newlines.begin(), newlines.end(), ranges[index].first) - newlines.begin());
        };
        for (std::size_t i = 0; i < rules.size(); ++i) {
            const auto& r = rules[i];
            RiskRule rule;
            rule.id = r.at("id").get<std::string>();
            const std::size_t line = start_line(i);
            rule.source = where(src, line);
            auto bad = [&](std::string_view field, const std::string& why) {
                return fail(ErrorCode::schema,
                            where(src, rule_line(src.text, "rules", i, field)) + ": rule " + rule.id + ": " + why,
                            "/rules/" + std::to_string(i) + (field.empty() ? "" : "/" + std::string(field)));
            };
            if (auto [it, fresh] = seen_ids.emplace(rule.id, rule.source); !fresh) {
                return bad("id", "duplicate id (first defined at " + it->second + ")");
            }
            rule.kind = *parse_kind(r.at("kind").get<std::string>());
            rule.role = role_of(r.at("role").get<std::string>());
            rule.language = file_language;
            rule.rationale = r.at("rationale").get<std::string>();
            rule.patterns = r.at("patterns").get<std::vector<std::string>>();
            if (r.contains("category")) rule.category = parse_risk_category(r["category"].get<std::string>());
            if (r.contains("severity")) rule.severity = *parse_severity(r["severity"].get<std::string>());
            if (r.contains("cssrs")) {
                rule.cssrs = r["cssrs"].get<int>();
                if (!rule.category || !suicidal_category(*rule.category)) {
                    return bad("cssrs", "cssrs applies only to suicidal_ideation or suicidal_behaviour");
                }
            }
            if (rule.kind == RuleKind::risk && rule.severity == Severity::none) {
                return bad("severity", "a risk rule must raise a severity above none");
            }
            if (rule.kind == RuleKind::risk && rule.severity >= Severity::moderate && !rule.category) {
                return bad("category", "a risk rule at moderate or above must name a category");
            }
            if (rule.kind != RuleKind::risk && rule.kind != RuleKind::question && rule.category) {
                return bad("category", "only risk and question rules take a category");
            }
            if (r.contains("window")) {
                rule.window_before = r["window"].value("before", 0);
                rule.window_after = r["window"].value("after", 0);
            }
            if (r.contains("cap")) rule.cap = *parse_severity(r["cap"].get<std::string>());
            if (r.contains("applies_to")) {
                for (const auto& c : r["applies_to"]) rule.applies_to.push_back(*parse_risk_category(c.get<std::string>()));
            }
            rule.modifiers_within = r.value("modifiers_within", false);
            if (r.contains("ignores")) {
                for (const auto& k : r["ignores"]) rule.ignores.push_back(*parse_kind(k.get<std::string>()));
            }
            if (r.contains("requires")) {
                if (rule.kind != RuleKind::risk) return bad("requires", "only risk rules take requires");
                const auto& q = r["requires"];
                RuleRequirement req;
                const auto w = q.at("where").get<std::string>();
                req.where = w == "message" ? RequireWhere::message
                            : w == "context" ? RequireWhere::context
                                             : RequireWhere::either;
                if (q.contains("role")) req.context_role = *parse_speaker_role(q["role"].get<std::string>());
                if (q.contains("kinds")) {
                    req.kinds.clear();
                    for (const auto& k : q["kinds"]) req.kinds.push_back(*parse_kind(k.get<std::string>()));
                }
                if (q.contains("categories")) {
                    for (const auto& c : q["categories"]) req.categories.push_back(*parse_risk_category(c.get<std::string>()));
                }
                if (q.contains("rules")) req.rule_prefixes = q["rules"].get<std::vector<std::string>>();
                if (q.contains("min_severity")) req.min_severity = *parse_severity(q["min_severity"].get<std::string>());
                req.min_cssrs = q.value("min_cssrs", 0);
                req.last_turns = q.value("last_turns", 6);
                rule.requires_finding = std::move(req);
            }
            for (std::size_t p = 0; p < rule.patterns.size(); ++p) {
                std::string normalised;
                std::string reason;
                if (!normalize_pattern(rule.patterns[p], normalised, reason)) {
                    return bad("patterns", "pattern " + std::to_string(p + 1) + ": " + reason);
                }
                compiled.push_back(std::move(normalised));
                pattern_origin.push_back("rule " + rule.id + " (" + rule.source + "), pattern " + std::to_string(p + 1));
                impl->pattern_rule.push_back(impl->rules.size());
            }
            impl->rules.push_back(std::move(rule));
        }
    }

    // Phrase patterns (word_lists.h): a finite set of words and phrases between word
    // boundaries, whatever the rule's kind, is matched outside Vectorscan. Decided before the
    // cache key, since the databases leave them out. With start tracking in the scan (the
    // reference the tests compare with) only the first-person and clause-break lists are, as
    // before phrases of every kind were: the start-tracking database holding them misses a
    // first-person "me" at a text's last bytes (16 development text-role pairs: the Vectorscan
    // 5.4.9 end-of-buffer false negative of its AVX-512 path, found on the 27 Nov machine before
    // vectorscan_runtime.h steered scans to the AVX2 path; docs/PERFORMANCE.md).
    impl->in_word_list.assign(compiled.size(), false);
    {
        for (std::size_t i = 0; i < compiled.size(); ++i) {
            const RiskRule& rule = impl->rules[impl->pattern_rule[i]];
            const bool word_list_kind = rule.kind == RuleKind::first_person || rule.kind == RuleKind::boundary;
            if (starts == StartOffsets::in_scan && !word_list_kind) continue;
            if (!compiled[i].starts_with("\\b") || !closing_boundary(compiled[i])) continue;
            auto set = match_starts::literal_set(compiled[i]);
            if (!set || !set->boundary_before) continue;
            std::vector<std::string> phrases;
            for (auto& strings : set->by_length) {
                for (auto& p : strings) phrases.push_back(std::move(p));
            }
            if (!PhraseIndex::fits(phrases)) continue;
            const auto roles = static_cast<std::uint8_t>(rule.role ? 1U << static_cast<unsigned>(*rule.role) : (1U << kRoles) - 1);
            impl->phrases.add(static_cast<unsigned int>(i), phrases, roles);
            impl->in_word_list[i] = true;
        }
        impl->phrases.build();
    }

    std::optional<std::filesystem::path> cache_file;
    if (cache_dir) {
        Fnv key;
        key.add(hs_version());
        key.add(vectorscan::runtime_name());
        key.add("flags:caseless+som-leftmost,width>8:nosom;prefilter:risk+question+safety_response,per-role,singlematch;scan:per-role;order:end,nosom-desc,som-asc");
        key.add("words:phrase-sets;in-scan:first_person+boundary");
        key.add(starts == StartOffsets::in_scan ? "starts:in-scan" : "starts:after-scan,fixed-width,literals-256,reversed-1,window-som-leftmost");
        for (std::size_t i = 0; i < compiled.size(); ++i) key.add(impl->in_word_list[i] ? "phrases" : "database");
        for (const auto& p : compiled) key.add(p);
        char name[40];
        std::snprintf(name, sizeof name, "rules-%016llx.hsdb", static_cast<unsigned long long>(key.h));
        cache_file = *cache_dir / name;
        if (auto cached = read_cache(*cache_file, compiled.size())) {
            impl->dbs = std::move(*cached);
            impl->from_cache = true;
        }
    }
    // The literal sets are not cached: expanding them is quick, and the cache says which
    // patterns have one. A cache that names a pattern no set can be made of is stale.
    auto expand_literals = [&] {
        impl->literals.assign(compiled.size(), {});
        for (std::size_t i = 0; i < compiled.size(); ++i) {
            if (impl->dbs.starts[i].how != StartHow::literals) continue;
            auto set = match_starts::literal_set(compiled[i]);
            if (!set) return false;
            impl->literals[i] = std::move(*set);
        }
        return true;
    };
    if (impl->from_cache && !expand_literals()) {
        impl->dbs = Databases{};
        impl->from_cache = false;
    }
    if (!impl->from_cache) {
        if (auto ok = compile(*impl, compiled, pattern_origin, starts); !ok) return std::unexpected(ok.error());
        if (cache_file) write_cache(*cache_file, impl->dbs);
        expand_literals();
    }
    impl->normalizer = Normalizer(substitutions);
    std::string version;
    for (const auto& v : versions) version += (version.empty() ? "" : "+") + v;
    impl->version = std::move(version);
    impl->generation = g_generation.fetch_add(1);
    return RuleSet(std::move(impl));
}

namespace {

// One block-mode database of the given expressions; errors name the pattern's rule and file.
Result<hs_database_t*> compile_database(const std::vector<const char*>& exprs, const std::vector<unsigned int>& flags,
                                        const std::vector<unsigned int>& ids, const std::vector<std::string>& pattern_origin) {
    hs_database_t* db = nullptr;
    hs_compile_error_t* err = nullptr;
    const hs_error_t rc = hs_compile_multi(exprs.data(), flags.data(), ids.data(),
                                           static_cast<unsigned int>(exprs.size()), HS_MODE_BLOCK,
                                           vectorscan::compile_platform(), &db, &err);
    if (rc != HS_SUCCESS) {
        std::string message = err != nullptr && err->message != nullptr ? err->message : "unknown error";
        std::string origin = "rule set";
        if (err != nullptr && err->expression >= 0 && static_cast<std::size_t>(err->expression) < ids.size() &&
            ids[static_cast<std::size_t>(err->expression)] < pattern_origin.size()) {
            origin = pattern_origin[ids[static_cast<std::size_t>(err->expression)]];
        }
        if (err != nullptr) hs_free_compile_error(err);
        return fail(ErrorCode::parse, origin + ": Vectorscan refused the pattern: " + message);
    }
    return db;
}

}  // namespace

Result<void> RuleSet::compile(Impl& impl, const std::vector<std::string>& compiled,
                              const std::vector<std::string>& pattern_origin, StartOffsets starts) {
    std::vector<const char*> exprs;
    std::vector<unsigned int> flags;
    std::vector<unsigned int> ids;
    impl.dbs.widths.assign(compiled.size(), 0);
    impl.dbs.starts.assign(compiled.size(), StartRule{});
    impl.dbs.window.assign(compiled.size(), nullptr);
    for (std::size_t i = 0; i < compiled.size(); ++i) {
        if (impl.in_word_list[i]) continue;  // matched by PhraseIndex::reports
        exprs.push_back(compiled[i].c_str());
        // Exact start offsets (SOM) make Vectorscan refuse patterns with wide bounded repeats
        // ("gun.{0,60}think about it": "Pattern is too large"). Those compile without SOM and
        // their span starts at most max_width bytes before the end (hs_expression_info).
        if (has_wide_repeat(compiled[i])) {
            const auto widths = pattern_widths(compiled[i], pattern_origin[i]);
            if (!widths) return std::unexpected(widths.error());
            impl.dbs.widths[i] = widths->max_width == 0xffffffffu ? 200 : std::max<std::size_t>(widths->max_width, 1);
            flags.push_back(HS_FLAG_CASELESS);
            ids.push_back(static_cast<unsigned int>(i));
            continue;
        }
        // Spans need start offsets: for each end the leftmost start (SOM_LEFTMOST). Not UTF8 or
        // UCP: Vectorscan refuses \b in UCP mode, and the normaliser has already folded Latin
        // accents to ASCII, so ASCII word boundaries are right for the languages the rules cover.
        ids.push_back(static_cast<unsigned int>(i));
        if (starts == StartOffsets::in_scan) {
            flags.push_back(HS_FLAG_CASELESS | HS_FLAG_SOM_LEFTMOST);
            continue;
        }
        // After the scan instead (match_starts.h): tracking starts in the shared database cost
        // about a third of a scan, and only the few patterns that matched need one. A pattern
        // of one width needs nothing more; any other gets a database of its own with start
        // tracking, scanned afterwards over just the bytes a match ending there can span.
        flags.push_back(HS_FLAG_CASELESS);
        const auto widths = pattern_widths(compiled[i], pattern_origin[i]);
        if (!widths) return std::unexpected(widths.error());
        const unsigned int min_width = widths->min_width;
        const unsigned int max_width = widths->max_width;
        if (min_width == max_width) {
            impl.dbs.starts[i] = StartRule{StartHow::fixed, min_width};
            continue;
        }
        if (match_starts::literal_set(compiled[i])) {
            impl.dbs.starts[i] = StartRule{StartHow::literals, max_width};
            continue;
        }
        // Written backwards and anchored at the end, the pattern's longest match from there
        // reaches the leftmost start, without start tracking: the one-pattern databases with
        // it cost about 4,200 instructions a scan, the reversed ones far less. A pattern with
        // `^` anchors at the text's start, so its window opens at byte 0.
        bool anchored_start = false;
        if (auto reversed = match_starts::reversed_pattern(compiled[i], anchored_start)) {
            const auto expressions = match_starts::reversed_expressions(*reversed);
            const char* exprs2[] = {expressions[0].c_str(), expressions[1].c_str()};
            const unsigned int flags2[] = {HS_FLAG_CASELESS, HS_FLAG_CASELESS};
            const unsigned int ids2[] = {0, 1};
            hs_database_t* db = nullptr;
            hs_compile_error_t* err = nullptr;
            if (hs_compile_multi(exprs2, flags2, ids2, 2, HS_MODE_BLOCK, vectorscan::compile_platform(), &db, &err) == HS_SUCCESS) {
                impl.dbs.window[i] = db;
                impl.dbs.starts[i] = StartRule{StartHow::reversed, anchored_start || max_width == 0xffffffffu ? match_starts::kUnbounded : max_width};
                continue;
            }
            // Not every pattern Vectorscan takes forwards it takes backwards: the forward scan.
            if (err != nullptr) hs_free_compile_error(err);
        }
        auto window_db = compile_database({compiled[i].c_str()}, {HS_FLAG_CASELESS | HS_FLAG_SOM_LEFTMOST},
                                          {static_cast<unsigned int>(i)}, pattern_origin);
        if (!window_db) return std::unexpected(window_db.error());
        impl.dbs.window[i] = *window_db;
        impl.dbs.starts[i] = StartRule{StartHow::window, max_width == 0xffffffffu ? match_starts::kUnbounded : max_width};
    }
    // The per-role scan databases: the expressions, flags and ids of the rules that apply to
    // the role (role "any" or that role). analyse() reads only those, so scanning for the
    // others only costs: an AI reply's scan of the bench's texts falls from 85k to 21k
    // instructions against one database of every rule (the patient rules are most of the
    // set), a patient turn's by the AI rules' share (-4.6% a message). Databases holding
    // different patterns may report matches ending at one offset in different orders;
    // order_reports() puts every scan's reports in one fixed order, so a per-role scan equals
    // the all-roles scan filtered to the role, order included. Rejected: keeping a database of
    // every rule for scan() without a role (bench_risk --matches, tests) as well: 10 MB more
    // to read at every start (the cached load went from about 85 to 180 ms at load 6); that
    // scan is the union of the per-role scans instead.
    for (std::size_t r = 0; r < kRoles; ++r) {
        const auto role = static_cast<SpeakerRole>(r);
        std::vector<const char*> role_exprs;
        std::vector<unsigned int> role_flags;
        std::vector<unsigned int> role_ids;
        for (std::size_t x = 0; x < exprs.size(); ++x) {
            const RiskRule& rule = impl.rules[impl.pattern_rule[ids[x]]];
            if (rule.role && *rule.role != role) continue;
            role_exprs.push_back(exprs[x]);
            role_flags.push_back(flags[x]);
            role_ids.push_back(ids[x]);
        }
        if (role_exprs.empty()) continue;
        auto scan_db = compile_database(role_exprs, role_flags, role_ids, pattern_origin);
        if (!scan_db) return std::unexpected(scan_db.error());
        impl.dbs.role[r] = *scan_db;
    }

    // The prefilters: per role, the scan databases' expressions and the phrase patterns, with
    // their flags less start-of-match tracking (which decides only where a match starts, never
    // whether there is one), each reported once. The phrase patterns stay in: a "no" from one
    // scan that stops at its first report is cheaper than walking the text's words as well.
    // Rejected: one prefilter of every pattern, since nearly every message has a modifier or a
    // first-person word and would pass it; and scanning the main database
    // only over the prefilter's hits, since Vectorscan cannot restrict a database to a subset
    // of its patterns at scan time.
    for (std::size_t r = 0; r < kRoles; ++r) {
        const auto role = static_cast<SpeakerRole>(r);
        std::vector<const char*> pre_exprs;
        std::vector<unsigned int> pre_flags;
        std::vector<unsigned int> pre_ids;
        for (std::size_t i = 0, x = 0; i < compiled.size(); ++i) {
            // x: the database's expression of pattern i, when it has one (ids ascend).
            const bool in_database = x < ids.size() && ids[x] == i;
            const unsigned int f = in_database ? flags[x++] : HS_FLAG_CASELESS;
            const RiskRule& rule = impl.rules[impl.pattern_rule[i]];
            if (!prefilter_kind(rule.kind) || (rule.role && *rule.role != role)) continue;
            pre_exprs.push_back(compiled[i].c_str());
            pre_flags.push_back((f & ~static_cast<unsigned int>(HS_FLAG_SOM_LEFTMOST)) | HS_FLAG_SINGLEMATCH);
            pre_ids.push_back(static_cast<unsigned int>(i));
        }
        if (pre_exprs.empty()) continue;
        auto pre = compile_database(pre_exprs, pre_flags, pre_ids, pattern_origin);
        if (!pre) return std::unexpected(pre.error());
        impl.dbs.prefilter[r] = *pre;
    }

    return {};
}

Result<RuleSet> RuleSet::load_directory(const std::filesystem::path& dir, const std::optional<std::filesystem::path>& cache_dir,
                                        StartOffsets starts) {
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (entry.is_regular_file() && entry.path().extension() == ".json") files.push_back(entry.path());
    }
    if (ec) return fail(ErrorCode::io, "cannot list rule directory " + dir.string() + ": " + ec.message());
    if (files.empty()) return fail(ErrorCode::not_found, "no *.json rule files in " + dir.string());
    std::sort(files.begin(), files.end());
    std::vector<RuleSource> sources;
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        if (!in) return fail(ErrorCode::io, "cannot read " + f.string());
        std::ostringstream text;
        text << in.rdbuf();
        sources.push_back(RuleSource{f.filename().string(), text.str()});
    }
    return load(sources, cache_dir, starts);
}

std::vector<RuleSource> RuleSet::builtin_sources() {
    std::vector<RuleSource> out;
    for (const auto& f : embedded::risk_rule_files()) out.push_back(RuleSource{std::string(f.name), std::string(f.text)});
    return out;
}

Result<RuleSet> RuleSet::load_builtin(const std::optional<std::filesystem::path>& cache_dir, StartOffsets starts) {
    const auto sources = builtin_sources();
    return load(sources, cache_dir, starts);
}

void RuleSet::scan(std::string_view normalised, std::vector<RuleMatch>& out) const {
    if (normalised.empty()) return;
    const ScratchLease scratch(impl_->scratch, [this] { return all_databases(impl_->dbs); });
    // Every role's database: a rule for any role is in each of them, and its reports, the same
    // in each, are kept once by order_reports().
    auto& raw = raw_reports();
    raw.clear();
    for (const hs_database_t* db : impl_->dbs.role) {
        if (db != nullptr) vectorscan::scan(db, normalised.data(), static_cast<unsigned int>(normalised.size()), scratch.get(), on_report, &raw);
    }
    fill_starts(normalised, {impl_->dbs.starts, impl_->literals, impl_->dbs.window}, scratch.get(), raw);
    impl_->phrases.reports(normalised, (1U << kRoles) - 1, raw);
    order_reports(raw, impl_->pattern_rule, impl_->dbs.widths, out);
}

void RuleSet::scan(std::string_view normalised, SpeakerRole role, std::vector<RuleMatch>& out) const {
    const auto r = static_cast<std::size_t>(role);
    if (normalised.empty() || r >= kRoles) return;
    auto& raw = raw_reports();
    raw.clear();
    if (impl_->dbs.role[r] != nullptr) {
        const ScratchLease scratch(impl_->scratch, [this] { return all_databases(impl_->dbs); });
        vectorscan::scan(impl_->dbs.role[r], normalised.data(), static_cast<unsigned int>(normalised.size()), scratch.get(),
                on_report, &raw);
        fill_starts(normalised, {impl_->dbs.starts, impl_->literals, impl_->dbs.window}, scratch.get(), raw);
    }
    impl_->phrases.reports(normalised, static_cast<std::uint8_t>(1U << r), raw);
    order_reports(raw, impl_->pattern_rule, impl_->dbs.widths, out);
}

bool RuleSet::may_match(std::string_view normalised, SpeakerRole role) const {
    const auto r = static_cast<std::size_t>(role);
    if (normalised.empty() || r >= kRoles || impl_->dbs.prefilter[r] == nullptr) return false;
    const ScratchLease scratch(impl_->scratch, [this] { return all_databases(impl_->dbs); });
    bool found = false;
    vectorscan::scan(impl_->dbs.prefilter[r], normalised.data(), static_cast<unsigned int>(normalised.size()), scratch.get(),
            on_candidate, &found);
    return found;
}

}  // namespace tandem
