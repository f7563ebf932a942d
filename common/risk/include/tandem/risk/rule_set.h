#pragma once
// Risk rules as data: JSON rule files (schemas/risk_rules.schema.json) loaded, validated and
// compiled into one Vectorscan database at start. A clinic's clinical lead edits the files; the
// engine never needs recompiling for a new phrase or a new language.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/domain/error.h"
#include "tandem/domain/risk_assessment.h"
#include "tandem/risk/normalizer.h"

namespace tandem {

/// Who wrote a turn of the conversation.
enum class SpeakerRole { patient, ai, clinician };

/// "patient", "ai", "clinician". Any thread.
std::string_view to_string(SpeakerRole role) noexcept;
/// Parses a wire name; nullopt for anything else. Any thread.
std::optional<SpeakerRole> parse_speaker_role(std::string_view name) noexcept;

/// What a rule does when its pattern matches.
enum class RuleKind {
    risk,             ///< raises a category at a severity
    negation,         ///< "I would never": caps nearby risk matches
    idiom,            ///< "dying to see it"
    third_party,      ///< "my friend is"
    history,          ///< "six years clean"
    topic,            ///< "an essay on"
    everyday,         ///< "cut my hair"
    refusal,          ///< an AI declining to give harmful detail
    safety_response,  ///< an AI reply that responds to risk (988, are you safe?)
    question,         ///< an AI turn asking about risk, for "yes" in the next patient turn
    first_person,     ///< "I", "me": stops a third-party modifier reaching past it
    boundary,         ///< a clause break ("but") that modifiers do not cross
};

/// "risk", "negation", ... as in the rule files. Any thread.
std::string_view to_string(RuleKind kind) noexcept;
/// True for the kinds that cap nearby risk matches. Any thread.
bool is_modifier(RuleKind kind) noexcept;

/// Where a rule with `requires` looks for its precondition.
enum class RequireWhere { message, context, either };

/// A precondition: the rule fires only if another finding exists in the message or context.
struct RuleRequirement {
    RequireWhere where = RequireWhere::message;
    SpeakerRole context_role = SpeakerRole::patient;  ///< whose earlier turns count
    std::vector<RuleKind> kinds{RuleKind::risk};      ///< risk findings, or AI questions
    std::vector<RiskCategory> categories;             ///< empty: any category
    std::vector<std::string> rule_prefixes;           ///< empty: any rule; else id starts with one
    Severity min_severity = Severity::low;
    int min_cssrs = 0;
    int last_turns = 6;  ///< how many of context_role's most recent turns to look at
};

/// One rule of a rule file.
struct RiskRule {
    std::string id;
    RuleKind kind = RuleKind::risk;
    std::optional<SpeakerRole> role;  ///< nullopt: any role
    std::string language;
    std::optional<RiskCategory> category;
    Severity severity = Severity::none;   ///< risk rules: the severity a match raises
    std::optional<int> cssrs;             ///< C-SSRS level 0..6 where it applies
    std::vector<std::string> patterns;    ///< as written in the file
    std::string rationale;
    std::size_t window_before = 0;        ///< modifiers: bytes before a risk match they reach
    std::size_t window_after = 0;         ///< modifiers: bytes after a risk match they reach
    Severity cap = Severity::none;        ///< modifiers: the most a capped match keeps
    std::vector<RiskCategory> applies_to; ///< modifiers: empty means every category
    std::vector<RuleKind> ignores;        ///< risk rules: modifier kinds that do not act on it
    bool modifiers_within = false;        ///< broad rules: modifiers inside the match act too
    std::optional<RuleRequirement> requires_finding;
    std::string source;                   ///< "file.json:line" for messages
};

/// One rule file's text and the name to report errors against.
struct RuleSource {
    std::string name;  ///< file name, e.g. "en_patient.json"
    std::string text;
};

/// A raw match of a compiled pattern: rule index and normalised byte range.
struct RuleMatch {
    std::size_t rule = 0;
    std::size_t begin = 0;
    std::size_t end = 0;
};

/// How the scan databases find where a match starts (where it ends they always report).
enum class StartOffsets {
    /// Databases compiled for match ends only; a start is worked out afterwards for each report,
    /// from the pattern's fixed width or a one-pattern scan over the few bytes before the end.
    /// Same starts as in_scan (for each end the leftmost start), at less cost.
    after_scan,
    /// Databases compiled with start-of-match tracking (HS_FLAG_SOM_LEFTMOST), as before: the
    /// reference after_scan is checked against (tests, bench_risk --starts-in-scan).
    in_scan,
};

/// A validated, compiled rule set. Immutable once loaded: any thread may scan with it.
class RuleSet {
public:
    /// Validates every source against the schema, checks semantics, compiles all patterns into
    /// one database. Errors name the file and line and the reason (parse, schema), or the rule
    /// id and the Vectorscan message (a bad regex). Compiling takes seconds, so a compiled
    /// database is kept in cache_dir (keyed by a hash of the sources and the Vectorscan
    /// version) and reused; an unreadable or stale cache is ignored. Any thread.
    /// `starts` chooses how match starts are found (the same starts either way); the cache keeps
    /// the two apart.
    static Result<RuleSet> load(std::span<const RuleSource> sources,
                                const std::optional<std::filesystem::path>& cache_dir = default_cache_dir(),
                                StartOffsets starts = StartOffsets::after_scan);
    /// Loads every *.json file of dir (sorted by name). Errors as load(), or io. Any thread.
    static Result<RuleSet> load_directory(const std::filesystem::path& dir,
                                          const std::optional<std::filesystem::path>& cache_dir = default_cache_dir(),
                                          StartOffsets starts = StartOffsets::after_scan);
    /// The project's rule files, embedded in the binary at build time. Any thread.
    static Result<RuleSet> load_builtin(const std::optional<std::filesystem::path>& cache_dir = default_cache_dir(),
                                        StartOffsets starts = StartOffsets::after_scan);
    /// $TANDEM_RISK_CACHE_DIR, else $XDG_CACHE_HOME/tandem/risk, else ~/.cache/tandem/risk;
    /// nullopt (no caching) when none is set. Any thread.
    static std::optional<std::filesystem::path> default_cache_dir();
    /// The project's rule files as sources (for tests and tools). Any thread.
    static std::vector<RuleSource> builtin_sources();

    RuleSet(RuleSet&&) noexcept;
    RuleSet& operator=(RuleSet&&) noexcept;
    ~RuleSet();

    /// All rules, in file order. Any thread.
    const std::vector<RiskRule>& rules() const noexcept;
    /// "name@version" of each file, joined by "+". Any thread.
    const std::string& version() const noexcept;
    /// The normaliser built from the files' substitutions. Any thread.
    const Normalizer& normalizer() const noexcept;
    /// Number of compiled patterns. Any thread.
    std::size_t pattern_count() const noexcept;
    /// True when the database came from the cache rather than a fresh compile. Any thread.
    bool from_cache() const noexcept;
    /// A number unique to this loaded set in the process (for per-thread caches). Any thread.
    std::uint64_t generation() const noexcept;

    /// Scans normalised text once and appends every match (deduplicated: one per pattern and
    /// start, the longest). Any thread (scratch space is per thread).
    void scan(std::string_view normalised, std::vector<RuleMatch>& out) const;

    /// As scan(), but only the matches of rules that apply to role (role "any" or this role),
    /// in scan()'s order; for AI and clinician turns from a smaller database of just those
    /// rules (an AI reply is not scanned for the patient rules). Any thread.
    void scan(std::string_view normalised, SpeakerRole role, std::vector<RuleMatch>& out) const;

    /// False only when scan() would report no match of a risk, question or safety-response
    /// rule that applies to role (so the rest of scan()'s matches, modifiers alone, could not
    /// change a verdict). A cheap scan without start offsets that stops at the first candidate;
    /// most benign text ends here. Any thread (scratch space is per thread).
    bool may_match(std::string_view normalised, SpeakerRole role) const;

private:
    struct Impl;
    explicit RuleSet(std::unique_ptr<Impl> impl);
    static Result<void> compile(Impl& impl, const std::vector<std::string>& compiled,
                                const std::vector<std::string>& pattern_origin, StartOffsets starts);
    std::unique_ptr<Impl> impl_;
};

/// The JSON Schema text for rule files (embedded from schemas/risk_rules.schema.json). Any thread.
std::string_view risk_rules_schema_text();

}  // namespace tandem
