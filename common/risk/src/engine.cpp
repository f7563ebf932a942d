#include "tandem/risk/engine.h"

#include "embedded.h"
#include "prefilter_odds.h"
#include "turn_cache.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <stdexcept>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace tandem {
namespace {

struct Finding {
    const RiskRule* rule = nullptr;
    std::size_t begin = 0;  // normalised bytes
    std::size_t end = 0;
    Severity severity = Severity::none;
};

// What the rules found in one turn.
struct TurnAnalysis {
    NormalizedText norm;
    std::vector<Finding> risks;                 // after modifiers and requirements
    std::vector<const RiskRule*> questions;     // AI questions about risk
    bool safety_response = false;
    std::vector<const RiskRule*> discounted_by; // modifiers that capped a risk match
    bool used_context = false;                  // a requirement looked at the turns before

    // Empties the analysis for reuse, keeping the buffers' capacity.
    void clear() {
        risks.clear();
        questions.clear();
        safety_response = false;
        discounted_by.clear();
        used_context = false;
    }

    Severity max_severity() const {
        Severity s = Severity::none;
        for (const auto& f : risks) s = std::max(s, f.severity);
        return s;
    }
};

// What a lookup of a context turn reads of its analysis (analysis_satisfies, the ignorance check
// of AI replies, the model's context features), kept in the caches instead of the TurnAnalysis:
// its normalised text and byte maps, the modifiers that discounted it and its safety-response
// flag are never read for a context turn. An entry costs about 600 bytes with a chat-length text
// (tests/risk/test_shared_turn_cache.cpp measures the heap), 16,384 of them about 10 MB.
struct ContextAnalysis {
    std::vector<Finding> risks;
    std::vector<const RiskRule*> questions;
    bool used_context = false;
    // The learned model's context features as the last turn (distance 1) then as the one before
    // (distance 2), in one buffer: computed once per cached turn rather than for every message
    // it precedes.
    std::vector<std::uint32_t> model_features;
    std::size_t model_split = 0;  // where distance 2 begins

    std::span<const std::uint32_t> model_context(std::size_t d) const {
        const std::span<const std::uint32_t> all(model_features);
        return d == 0 ? all.first(model_split) : all.subspan(model_split);
    }

    Severity max_severity() const {
        Severity s = Severity::none;
        for (const auto& f : risks) s = std::max(s, f.severity);
        return s;
    }
};

bool contains(const std::vector<RiskCategory>& v, RiskCategory c) {
    return std::find(v.begin(), v.end(), c) != v.end();
}
bool contains(const std::vector<RuleKind>& v, RuleKind k) {
    return std::find(v.begin(), v.end(), k) != v.end();
}

bool role_matches(const RiskRule& rule, SpeakerRole role) { return !rule.role || *rule.role == role; }

// True when a clause break lies in [lo, hi): modifiers do not reach across sentences or "but".
bool crosses_boundary(const std::vector<std::size_t>& breaks, std::size_t lo, std::size_t hi) {
    if (lo >= hi) return false;
    auto it = std::lower_bound(breaks.begin(), breaks.end(), lo);
    return it != breaks.end() && *it < hi;
}

bool prefix_ok(const RiskRule& rule, const RuleRequirement& req) {
    if (req.rule_prefixes.empty()) return true;
    for (const auto& p : req.rule_prefixes) {
        if (rule.id.starts_with(p)) return true;
    }
    return false;
}

bool finding_satisfies(const Finding& f, const RuleRequirement& req) {
    if (f.rule->requires_finding) return false;  // no chains: a conditional finding proves nothing
    if (!prefix_ok(*f.rule, req)) return false;
    if (!req.categories.empty() && (!f.rule->category || !contains(req.categories, *f.rule->category))) return false;
    if (f.severity < req.min_severity) return false;
    if (req.min_cssrs > 0 && f.rule->cssrs.value_or(0) < req.min_cssrs) return false;
    return true;
}

// Of a message's TurnAnalysis or a context turn's ContextAnalysis (the fields they share).
template <class Analysis>
bool analysis_satisfies(const Analysis& a, const RuleRequirement& req) {
    if (contains(req.kinds, RuleKind::risk)) {
        for (const auto& f : a.risks) {
            if (finding_satisfies(f, req)) return true;
        }
    }
    if (contains(req.kinds, RuleKind::question)) {
        for (const RiskRule* q : a.questions) {
            if (!prefix_ok(*q, req)) continue;
            if (req.categories.empty() || (q->category && contains(req.categories, *q->category))) return true;
        }
    }
    return false;
}

// Cache keys of a context turn. In a conversation each turn sits in the context of the next
// few messages, so its analysis is reused from a small per-thread cache instead of scanning it
// again for every new message. `own` covers the turn's role and text; `chain` also every turn
// before it. Most analyses never look at the turns before (only a rule that requires an
// earlier finding does), and those are reused on `own` alone, so a turn is analysed once per
// conversation although the window of turns before it slides with every message; the rest
// need `chain` too. Computed once per screen, each turn's text hashed once.
struct TurnKey {
    std::uint64_t own = 0;
    std::uint64_t chain = 0;
};

std::uint64_t mix_key(std::uint64_t h, std::uint64_t text_hash, SpeakerRole role) {
    h ^= text_hash + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
    h ^= static_cast<std::uint64_t>(role) + 7;
    return h * 0xff51afd7ed558ccdULL;
}

// std::hash of a turn's text, remembered for the texts this thread hashed lately: each screen
// keys its message and every context turn, and in a conversation the same turns come back with
// each message (the window slides by one), so a turn is hashed once rather than seven times.
// Comparing a text against the few remembered ones of its length is cheaper than hashing it
// again (callgrind, bench_risk: hashing was 3.3k instructions a message).
std::uint64_t text_hash(std::string_view text) {
    struct Entry {
        std::string text;
        std::uint64_t hash = 0;
    };
    struct Memo {
        std::array<Entry, 16> entries;
        std::size_t next = 0;
    };
    thread_local Memo memo;
    for (const Entry& e : memo.entries) {
        if (e.text.size() == text.size() && e.text == text) return e.hash;
    }
    Entry& slot = memo.entries[memo.next];
    memo.next = (memo.next + 1) % memo.entries.size();
    slot.text.assign(text);
    slot.hash = std::hash<std::string_view>{}(text);
    return slot.hash;
}

using SharedContextTurn = detail::SharedTurn<ContextAnalysis>;

// 2,000 conversations a bridge serves, each with about 8 turns live (a message's 6 context turns,
// itself and the reply), fit in 16,384 entries (73% full: turn_cache.h): about 10 MB (docs/PERFORMANCE.md).
constexpr std::size_t kSharedTurns = 16384;

// One for the process, as the thread caches are: entries carry the rule set's generation and
// whether the model was on, so no engine sees another's. Never destroyed, since threads may
// still screen while the process exits. Rejected: a member of RiskEngine (the same keys, but a
// change to the public engine.h that everything including it rebuilds for).
detail::SharedTurnCache<ContextAnalysis>& shared_turns() {
    static auto* cache = new detail::SharedTurnCache<ContextAnalysis>(kSharedTurns);
    return *cache;
}

// Working vectors of one analyse() call, kept per thread and per nesting depth (analysing a
// message may analyse its context turns, and those theirs) so no call allocates once warm.
struct Scratch {
    std::vector<RuleMatch> matches;
    std::vector<const RuleMatch*> candidates;
    std::vector<const RuleMatch*> modifiers;
    std::vector<std::size_t> first_person;
    std::vector<std::size_t> breaks;
    std::vector<Finding> conditional;
};

class ScratchLease {
public:
    ScratchLease() {
        if (depth() == pool().size()) pool().push_back(std::make_unique<Scratch>());
        s_ = pool()[depth()++].get();
        s_->matches.clear();
        s_->candidates.clear();
        s_->modifiers.clear();
        s_->first_person.clear();
        s_->breaks.clear();
        s_->conditional.clear();
    }
    ~ScratchLease() { --depth(); }
    ScratchLease(const ScratchLease&) = delete;
    ScratchLease& operator=(const ScratchLease&) = delete;
    Scratch& operator*() const { return *s_; }

private:
    static std::vector<std::unique_ptr<Scratch>>& pool() {
        thread_local std::vector<std::unique_ptr<Scratch>> p;
        return p;
    }
    static std::size_t& depth() {
        thread_local std::size_t d = 0;
        return d;
    }
    Scratch* s_;
};

class Analyser {
public:
    Analyser(const RuleSet& rules, bool with_model) : rules_(rules), with_model_(with_model) {}

    // One turn, with its context for rules that require an earlier finding (context turns
    // themselves are analysed without context: one level is what the clinical cases need).
    TurnAnalysis analyse(std::string_view text, SpeakerRole role, std::span<const Turn> context) const {
        TurnAnalysis out;
        analyse(text, role, context, out);
        return out;
    }

    // As above, into out (cleared first; its buffers reused).
    void analyse(std::string_view text, SpeakerRole role, std::span<const Turn> context, TurnAnalysis& out) const {
        out.clear();
        rules_.normalizer().normalize(text, out.norm);
        // Without a risk, question or safety-response candidate for this role nothing below
        // can add to the analysis (modifiers only act on risk matches): skip the scan with
        // start offsets, the engine's largest cost, for benign turns, as long as enough of the
        // role's recent turns were benign to pay for asking (prefilter_odds.h).
        detail::PrefilterOdds& odds = detail::PrefilterOdds::of(role);
        const bool asked = odds.ask();
        if (asked) {
            const bool candidate = rules_.may_match(out.norm.text, role);
            odds.learn(!candidate);
            if (!candidate) return;
        }
        const ScratchLease lease;
        Scratch& sc = *lease;
        std::vector<RuleMatch>& matches = sc.matches;
        // The role's own database: the same matches as the full scan less other roles' rules,
        // which the loop below would skip anyway.
        rules_.scan(out.norm.text, role, matches);
        if (matches.empty()) {
            if (!asked) odds.learn(true);
            return;
        }

        const auto& all = rules_.rules();
        std::vector<const RuleMatch*>& candidates = sc.candidates;
        std::vector<const RuleMatch*>& modifiers = sc.modifiers;
        std::vector<std::size_t>& first_person = sc.first_person;
        std::vector<std::size_t>& breaks = sc.breaks;
        for (std::size_t i = 0; i < out.norm.text.size(); ++i) {
            const char c = out.norm.text[i];
            if (c == '.' || c == '!' || c == '?' || c == ';' || c == '\n') breaks.push_back(i);
        }
        bool extra_breaks = false;
        for (const auto& m : matches) {
            const RiskRule& rule = all[m.rule];
            if (!role_matches(rule, role)) continue;
            switch (rule.kind) {
                case RuleKind::risk: candidates.push_back(&m); break;
                case RuleKind::safety_response: out.safety_response = true; break;
                case RuleKind::question: out.questions.push_back(&rule); break;
                case RuleKind::first_person: first_person.push_back(m.begin); break;
                case RuleKind::boundary:
                    breaks.push_back(m.begin);
                    extra_breaks = true;
                    break;
                default: modifiers.push_back(&m); break;
            }
        }
        if (extra_breaks) std::sort(breaks.begin(), breaks.end());
        // Unasked, the scan answers what the prefilter would have: with no candidate, the
        // analysis below stays empty, as when the prefilter says no.
        if (!asked) odds.learn(candidates.empty() && out.questions.empty() && !out.safety_response);

        std::vector<Finding>& conditional = sc.conditional;
        for (const RuleMatch* m : candidates) {
            const RiskRule& rule = all[m->rule];
            Finding f{&rule, m->begin, m->end, rule.severity};
            for (const RuleMatch* x : modifiers) {
                const RiskRule& mod = all[x->rule];
                if (contains(rule.ignores, mod.kind)) continue;
                if (!mod.applies_to.empty() && (!rule.category || !contains(mod.applies_to, *rule.category))) continue;
                bool in_reach = false;
                if (x->begin < m->begin && x->end <= m->end) {
                    // Before the risk words, or running into them ("im not going to" before
                    // "going to kill myself": matches are reported longest-first per start).
                    const std::size_t gap = x->end <= m->begin ? m->begin - x->end : 0;
                    in_reach = gap <= mod.window_before &&
                               !crosses_boundary(breaks, std::min(x->end, m->begin), m->begin);
                    if (in_reach && (mod.kind == RuleKind::third_party || mod.kind == RuleKind::topic)) {
                        // "my friend found me after I tried": a first person between the third
                        // party and the risk words makes them the patient's own.
                        for (std::size_t p : first_person) {
                            if (p >= x->end && p < m->begin) in_reach = false;
                        }
                    }
                } else if (x->begin >= m->end) {
                    in_reach = x->begin - m->end <= mod.window_after &&
                               !crosses_boundary(breaks, m->end, x->begin);
                } else if (x->begin <= m->begin && x->end >= m->end) {
                    in_reach = true;  // the modifier phrase contains the risk words ("dying to see")
                } else if (rule.modifiers_within && x->begin >= m->begin && x->end <= m->end) {
                    in_reach = true;  // a broad phrase rule: "i dont want to die" is negated inside
                } else {
                    // Partial overlap: idioms and everyday phrases share words with risk
                    // patterns ("have a rope swing"); negations and the like must stay outside.
                    in_reach = mod.kind == RuleKind::idiom || mod.kind == RuleKind::everyday;
                }
                if (in_reach && mod.cap < f.severity) {
                    f.severity = mod.cap;
                    out.discounted_by.push_back(&mod);
                }
            }
            if (f.severity == Severity::none) continue;
            if (rule.requires_finding) {
                conditional.push_back(f);
            } else {
                out.risks.push_back(f);
            }
        }

        for (const Finding& f : conditional) {
            const RuleRequirement& req = *f.rule->requires_finding;
            bool ok = false;
            if (req.where != RequireWhere::context) ok = analysis_satisfies(out, req);
            if (!ok && req.where != RequireWhere::message) {
                out.used_context = true;
                int seen = 0;
                for (std::size_t i = context.size(); i-- > 0 && seen < req.last_turns && !ok;) {
                    if (context[i].role != req.context_role) continue;
                    ++seen;
                    ok = analysis_satisfies(context_turn(context, i), req);
                }
            }
            if (ok) out.risks.push_back(f);
        }
    }

    // The analysis of context[i] in its own context (the turns before it): from this thread's
    // cache when it saw the same turn recently, else from the shared cache when any thread did
    // (the bridge runs a conversation's turns on any of its workers), else analysed and shared.
    const ContextAnalysis& context_turn(std::span<const Turn> context, std::size_t i) const {
        const TurnKey key = turn_key(context, i);
        const std::string& text = context[i].text;
        if (const ContextAnalysis* hit = cached(key, text)) return *hit;
        if (auto shared = shared_turns().find(shared_key(key), text)) return keep(std::move(shared));
        const TurnAnalysis a = analyse(text, context[i].role, context.first(i));
        return publish(key, text, context[i].role, a);
    }

    // Keeps the analysis of the message just screened for when it comes back as a context turn
    // of the next message, unless it looked at its own context (then the turns before it
    // differ next time, as the window slides, and it would not be reused).
    void remember_message(std::string_view text, SpeakerRole role, const TurnAnalysis& a) const {
        if (a.used_context) return;
        const TurnKey key{mix_key(seed(), text_hash(text), role), 0};
        if (cached(key, text) != nullptr) return;
        // Looked up before building an entry: the model's features of the turn cost more than this.
        if (auto shared = shared_turns().find(shared_key(key), text)) {
            keep(std::move(shared));
            return;
        }
        publish(key, text, role, a);
    }

private:
    // This thread's most recent turns, each shared with the shared cache (one entry, two owners):
    // a hit here takes no lock. The keys sit beside the pointer so a lookup reads no entry but
    // the one whose keys match.
    struct TurnCache {
        static constexpr std::size_t kSize = 32;
        struct Ref {
            std::uint64_t own = 0;
            std::uint64_t chain = 0;
            bool used_context = false;
            std::shared_ptr<const SharedContextTurn> entry;
        };
        std::array<Ref, kSize> entries;
        std::size_t next = 0;  // the slot to replace next
    };
    static TurnCache& cache() {
        thread_local TurnCache c;
        return c;
    }

    const ContextAnalysis* cached(const TurnKey& key, std::string_view text) const {
        for (const auto& c : cache().entries) {
            if (c.entry && c.own == key.own && (!c.used_context || c.chain == key.chain) && c.entry->text == text) {
                return &c.entry->value;
            }
        }
        return nullptr;
    }

    // Into this thread's cache; the reference stays valid until kSize more turns are kept.
    const ContextAnalysis& keep(std::shared_ptr<const SharedContextTurn> entry) const {
        TurnCache& c = cache();
        TurnCache::Ref& slot = c.entries[c.next];
        c.next = (c.next + 1) % TurnCache::kSize;
        slot.own = entry->key.own;
        slot.chain = entry->key.chain;
        slot.used_context = entry->value.used_context;
        slot.entry = std::move(entry);
        return slot.entry->value;
    }

    // Makes the entry of an analysed turn with only what context lookups read, shares it and
    // keeps it in this thread's cache.
    const ContextAnalysis& publish(const TurnKey& key, std::string_view text, SpeakerRole role,
                                   const TurnAnalysis& a) const {
        auto entry = std::make_shared<SharedContextTurn>();
        entry->key = shared_key(key);
        entry->text.assign(text);
        ContextAnalysis& v = entry->value;
        v.risks = a.risks;
        v.questions = a.questions;
        v.used_context = a.used_context;
        if (with_model_) {
            // Built in a buffer of this thread's and copied at its size: one allocation with no
            // spare capacity, where growing the entry's own vector reallocated several times and
            // left up to half of it unused for as long as the entry lives.
            thread_local std::vector<std::uint32_t> features;
            features.clear();
            add_context_features(a.norm.text, role, 1, features);
            v.model_split = features.size();
            add_context_features(a.norm.text, role, 2, features);
            v.model_features.assign(features.begin(), features.end());
        }
        std::shared_ptr<const SharedContextTurn> shared = std::move(entry);
        shared_turns().publish(shared);
        return keep(std::move(shared));
    }

    detail::TurnCacheKey shared_key(const TurnKey& key) const {
        return detail::TurnCacheKey{rules_.generation(), with_model_, key.own, key.chain};
    }

    std::uint64_t seed() const {
        return 1469598103934665603ULL ^ rules_.generation() ^ (with_model_ ? 0x9E3779B97F4A7C15ULL : 0);
    }

    // Key of context[i]. Every context an analysis sees is a prefix of the message's context
    // (a context turn is analysed with the turns before it), so the keys of the first context
    // seen serve all later lookups; another context (model_features on a fresh engine call)
    // gets its own.
    TurnKey turn_key(std::span<const Turn> context, std::size_t i) const {
        const std::uint64_t seed = this->seed();
        auto compute = [&](std::size_t k, std::uint64_t chain_before) {
            // std::hash (word at a time) rather than byte-wise FNV, and remembered (text_hash).
            const std::uint64_t hash = text_hash(context[k].text);
            return TurnKey{mix_key(seed, hash, context[k].role), mix_key(chain_before, hash, context[k].role)};
        };
        if (context.data() != keyed_ || context.size() > keys_count_) {
            keyed_ = context.data();
            keys_count_ = std::min(context.size(), keys_.size());
            for (std::size_t k = 0; k < keys_count_; ++k) keys_[k] = compute(k, k == 0 ? seed : keys_[k - 1].chain);
            if (context.size() > keys_.size()) keyed_ = nullptr;  // longer than any screen passes: not kept
        }
        if (i < keys_count_) return keys_[i];
        TurnKey key{seed, seed};
        for (std::size_t k = 0; k <= i; ++k) key = compute(k, key.chain);
        return key;
    }

    const RuleSet& rules_;
    bool with_model_;
    mutable const Turn* keyed_ = nullptr;
    mutable std::size_t keys_count_ = 0;
    mutable std::array<TurnKey, 8> keys_{};
};

constexpr std::size_t kMaxContext = 6;

// The learned model's features of a message: its own n-grams, and the last two turns'. tokens
// are the message's words (model_tokens), found once for the word count and both feature kinds.
void collect_model_features(const Analyser& analyser, const TurnAnalysis& a, std::span<const ModelToken> tokens,
                            SpeakerRole role, std::span<const Turn> context, ModelFeatures& out) {
    out.clear();
    out.words = tokens.size();
    out.message.reserve(64 + a.norm.text.size() * 4);
    add_message_features(a.norm.text, tokens, role, out.message);
    RiskLexicon::builtin().add_features(a.norm.text, tokens, out.message);
    for (std::size_t d = 0; d < 2 && d < context.size(); ++d) {
        const auto features = analyser.context_turn(context, context.size() - 1 - d).model_context(d);
        out.context.insert(out.context.end(), features.begin(), features.end());
    }
}

std::string probability_text(double p) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.2f", std::floor(p * 100) / 100);
    return buf;
}

// The model alone opens the crisis protocol only when it is this sure. Set by hand, not fitted:
// on the development sets it keeps dev and dev2 whole and dev3's urgent recall at 0.90.
constexpr double kModelAloneUrgent = 0.9;

std::optional<LearnedModel> builtin_model() {
    auto m = LearnedModel::load_builtin();
    if (m) return std::move(*m);
    if (embedded::risk_model().empty()) return std::nullopt;  // a build without a model file: the rules alone
    throw std::runtime_error("built-in risk model does not load: " + m.error().describe());
}

}  // namespace

namespace detail {
std::size_t shared_context_turns() { return shared_turns().size(); }
std::size_t shared_context_turn_capacity() { return shared_turns().capacity(); }
void clear_shared_context_turns() { shared_turns().clear(); }
}  // namespace detail

RiskEngine::RiskEngine(RuleSet rules) : rules_(std::move(rules)), model_(builtin_model()) {}

RiskEngine::RiskEngine(RuleSet rules, std::optional<LearnedModel> model)
    : rules_(std::move(rules)), model_(std::move(model)) {}

RiskAssessment RiskEngine::screen(std::string_view text, SpeakerRole role, std::span<const Turn> context) const {
    if (context.size() > kMaxContext) context = context.subspan(context.size() - kMaxContext);
    const Analyser analyser(rules_, model_.has_value());
    // The message's analysis reuses this thread's buffers (normalised text, byte maps,
    // findings); nothing below screens another message on this thread before returning.
    thread_local TurnAnalysis message_analysis;
    TurnAnalysis& a = message_analysis;
    analyser.analyse(text, role, context, a);
    analyser.remember_message(text, role, a);

    RiskAssessment out;
    out.engine_version = std::string(risk_engine_version);
    if (model_) out.engine_version += "+" + model_->version();
    out.ruleset_version = rules_.version();

    std::vector<std::pair<Severity, std::string>> reasons;
    for (const Finding& f : a.risks) {
        out.severity = std::max(out.severity, f.severity);
        if (f.rule->category) out.categories.push_back(*f.rule->category);
        if (f.rule->cssrs) out.cssrs_level = std::max(out.cssrs_level.value_or(0), *f.rule->cssrs);
        const auto [b, e] = a.norm.to_original(f.begin, f.end);
        EvidenceSpan span{b, e, f.rule->id, f.rule->rationale};
        if (std::find(out.spans.begin(), out.spans.end(), span) == out.spans.end()) out.spans.push_back(std::move(span));
        reasons.emplace_back(f.severity, f.rule->rationale);
    }

    // An AI reply after a patient disclosed risk must respond to it (988, are you safe?, ...).
    if (role == SpeakerRole::ai && !a.safety_response) {
        for (std::size_t i = context.size(), seen = 0; i-- > 0 && seen < 2;) {
            if (context[i].role != SpeakerRole::patient) continue;
            ++seen;
            const ContextAnalysis& p = analyser.context_turn(context, i);
            const Severity disclosed = p.max_severity();
            if (disclosed >= Severity::moderate) {
                // Ignoring urgent suicide, violence or psychosis is urgent itself; ignoring other
                // disclosures (an eating disorder, abuse) is unsafe but not an emergency.
                bool grave = false;
                for (const auto& f : p.risks) {
                    const auto c = f.rule->category;
                    grave = grave || (f.severity >= Severity::high && c &&
                                      (*c == RiskCategory::suicidal_ideation || *c == RiskCategory::suicidal_behaviour ||
                                       *c == RiskCategory::harm_to_others || *c == RiskCategory::psychosis ||
                                       *c == RiskCategory::substance_misuse));
                }
                const Severity s = grave ? Severity::high : Severity::moderate;
                out.severity = std::max(out.severity, s);
                out.categories.push_back(RiskCategory::ai_risk_ignorance);
                reasons.emplace_back(s, "the patient disclosed " + std::string(to_string(disclosed)) +
                                            " risk and this reply does not respond to it with safety support");
                break;
            }
        }
    }

    // The learned model may raise what the rules left lower, never lower it. It does not act
    // on a message whose only risk words a modifier discounted ("I would never hurt myself"):
    // the rules read negations, idioms and third parties in scope; n-grams cannot.
    // Nor on a message too short to read without its context ("tonight", "yes"): the rules'
    // context requirements decide those. The most it can raise to is high, so an urgent verdict
    // skips it (and its cost).
    // Patient text only: on AI replies (DiaSafety's validation split, open-domain replies) it
    // raised 31% of safe replies for 42% recall, no better than the base rate; the AI-reply
    // rules (means, validation, ignorance...) stand alone there.
    // The message's words for the model, found once (the word count, the n-grams, the lexicon).
    thread_local std::vector<ModelToken> tokens;
    bool tokenised = false;
    const auto words = [&]() -> const std::vector<ModelToken>& {
        if (!tokenised) model_tokens(a.norm.text, tokens);
        tokenised = true;
        return tokens;
    };
    if (model_ && role == SpeakerRole::patient && out.severity < Severity::high && !(out.severity == Severity::none && !a.discounted_by.empty()) &&
        words().size() >= risk_model_min_words) {
        thread_local ModelFeatures features;
        collect_model_features(analyser, a, words(), role, context, features);
        const ModelScore p = model_->score(features);
        // Each category family may have thresholds of its own (ninth pass): the AnnoMI
        // false-alarm budget is spent where it buys the most recall, not by one global pair.
        const ModelThresholds t = model_->patient_thresholds(features, p);
        Severity raised = Severity::none;
        double prob = 0;
        // A false urgent verdict sends the patient a crisis message and holds the AI, so the
        // model alone mostly opens a flag for review (moderate): at its own urgent threshold a
        // bag of n-grams read "my pills make me foggy" as urgent. It raises to high where the
        // rules saw a risk sign of their own (low or above), or when it is very sure.
        if (p.urgent >= t.urgent && (out.severity >= Severity::low || p.urgent >= kModelAloneUrgent)) {
            raised = Severity::high;
            prob = p.urgent;
        } else if (p.flag >= t.flag || p.urgent >= t.urgent) {
            raised = Severity::moderate;
            prob = std::max(p.flag, p.urgent);
        }
        if (raised > out.severity) {
            out.severity = raised;
            std::string what = "risk";
            if (out.categories.empty()) {
                if (auto c = model_->best_category(features, role)) {
                    out.categories.push_back(c->first);
                    what = std::string(to_string(c->first));
                }
            }
            const std::string why = "statistical model " + model_->version() + ": phrasing resembles " + what +
                                    " messages rated " + std::string(to_string(raised)) + " or above, p=" +
                                    probability_text(prob);
            reasons.emplace_back(raised, why);
            for (std::size_t i : model_->top_contributions(features, raised >= Severity::high, 3)) {
                const auto& h = features.message[i];
                const auto [b, e] = a.norm.to_original(h.begin, h.end);
                out.spans.push_back(EvidenceSpan{b, e, "model." + std::string(to_string(raised)),
                                                 "statistical model: among the words that most raised p"});
            }
        }
    }

    // AI replies (eighth pass): a head of their own, fitted on DiaSafety's train and validation
    // pairs and the written sets' AI replies, may raise a reply the rules left below moderate to
    // moderate (clinician review), never higher: the rules alone caught 0.18 of DiaSafety's
    // unsafe replies. Its threshold keeps it off the written correct safety responses, and like
    // the patient model it does not act where a modifier discounted the only risk words, nor on
    // replies under risk_model_min_words words.
    if (model_ && role == SpeakerRole::ai && model_->has_ai_head() && out.severity < Severity::moderate &&
        !(out.severity == Severity::none && !a.discounted_by.empty()) && words().size() >= risk_model_min_words) {
        thread_local ModelFeatures features;
        collect_model_features(analyser, a, words(), role, context, features);
        const double p = model_->ai_flag(features);
        if (p >= model_->ai_flag_threshold()) {
            out.severity = Severity::moderate;
            std::string what = "unsafe AI";
            if (out.categories.empty()) {
                if (auto c = model_->best_category(features, role)) {
                    out.categories.push_back(c->first);
                    what = std::string(to_string(c->first));
                }
            }
            reasons.emplace_back(Severity::moderate, "statistical model " + model_->version() + " (AI-reply head): reply resembles " +
                                                         what + " replies rated moderate or above, p=" + probability_text(p));
        }
    }

    std::sort(out.categories.begin(), out.categories.end());
    out.categories.erase(std::unique(out.categories.begin(), out.categories.end()), out.categories.end());
    const bool suicidal = contains(out.categories, RiskCategory::suicidal_ideation) ||
                          contains(out.categories, RiskCategory::suicidal_behaviour);
    if (!suicidal) out.cssrs_level.reset();
    std::sort(out.spans.begin(), out.spans.end(),
              [](const EvidenceSpan& x, const EvidenceSpan& y) { return x.begin < y.begin; });

    if (out.severity == Severity::none) {
        out.rationale = "no risk indicators";
        if (!a.discounted_by.empty()) {
            out.rationale += " (risk words discounted as " + std::string(to_string(a.discounted_by.front()->kind)) +
                             ": " + a.discounted_by.front()->rationale + ")";
        }
    } else {
        std::stable_sort(reasons.begin(), reasons.end(),
                         [](const auto& x, const auto& y) { return x.first > y.first; });
        out.rationale = std::string(to_string(out.severity)) + ": ";
        std::vector<std::string> used;
        for (const auto& [sev, why] : reasons) {
            if (used.size() == 3) break;
            if (std::find(used.begin(), used.end(), why) != used.end()) continue;
            if (!used.empty()) out.rationale += "; ";
            // Rule rationales are sentences; joined, their full stops would read ".;".
            out.rationale += why.ends_with('.') ? why.substr(0, why.size() - 1) : why;
            used.push_back(why);
        }
    }
    return out;
}

ModelFeatures RiskEngine::model_features(std::string_view text, SpeakerRole role, std::span<const Turn> context) const {
    if (context.size() > kMaxContext) context = context.subspan(context.size() - kMaxContext);
    const Analyser analyser(rules_, true);
    const TurnAnalysis a = analyser.analyse(text, role, context);
    std::vector<ModelToken> tokens;
    model_tokens(a.norm.text, tokens);
    ModelFeatures f;
    collect_model_features(analyser, a, tokens, role, context, f);
    return f;
}

RiskAssessment RiskEngine::screen(std::string_view text, SpeakerRole role, std::span<const Turn> context,
                                  SecondOpinion& second_opinion) const {
    RiskAssessment out = screen(text, role, context);
    // Borderline: below urgent but not clearly benign. Urgent verdicts need no second opinion,
    // and a clean "none" without any discounted risk words is not worth an LLM call.
    const bool discounted = out.severity == Severity::none && out.rationale.find("discounted") != std::string::npos;
    const bool borderline = out.severity == Severity::low || out.severity == Severity::moderate || discounted;
    if (!borderline) return out;
    auto opinion = second_opinion.assess(text, role, context, out);
    if (opinion && *opinion > out.severity) {
        out.rationale += "; raised from " + std::string(to_string(out.severity)) + " to " +
                         std::string(to_string(*opinion)) + " by the LLM second opinion";
        out.severity = *opinion;
    }
    return out;
}

}  // namespace tandem
