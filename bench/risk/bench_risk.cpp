// bench_risk: prints the risk engine's speed figures for docs/PERFORMANCE.md.
//   rule-set load time (cached database, and a cold compile with --cold),
//   messages per second on one core for ~200-character messages with a 6-turn context,
//   p50/p99 latency per message.
//   With the learned model (default) or the rules alone (--no-model).
//   A conversation run (--conversation) screens a running conversation instead: every message
//   is new text and its context is the 6 turns before it, so the window slides (the main run
//   repeats one context, whose turns the engine's cache always holds).
//   --verdicts prints the verdict on every bench message instead (each role, each context
//   length), so a speed change can be checked to leave the bench's verdicts byte-identical.
//   --matches reads JSON lines {"text", "context"?: [{"text"}]} on stdin and prints the rule
//   set's raw scan of every text and context turn (each match's rule, start and end, in the
//   order reported) and the prefilter's answer for each role: a change to the matching itself
//   must leave this byte-identical, which is stricter than the verdicts.
//   --rules DIR loads every *.json rule file of DIR instead of the built-in ones (to measure a
//   rewrite of a rule file before it is built in).
//   --starts-in-scan compiles the scan databases with start-of-match tracking, as before match
//   starts were found after the scan (the same matches and verdicts: to measure the difference).
//   --rule-costs compiles every rule alone and prints, dearest first, the CPU time of scanning
//   the bench's 14 texts with it (a rule's cost alone, not its share of the shared database,
//   which Vectorscan partly pools; a ranking of where to look, noisy on a loaded machine).
// Usage: bench_risk [--messages N] [--cold] [--no-model] [--verdicts] [--conversation] [--matches]
//                   [--rules DIR] [--rule-costs] [--starts-in-scan]

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <iostream>

#include <nlohmann/json.hpp>

#include "tandem/risk/engine.h"

namespace {

using Clock = std::chrono::steady_clock;

// CPU time of this thread: the machine is shared, so wall time overstates the cost of a message
// whenever another process holds the core; both figures are printed.
double thread_cpu_us() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Pads a sentence to about 200 characters with everyday filler, so every message has the
// length the target is stated for.
std::string pad200(std::string s) {
    static const char* filler[] = {" Work was long and the bus was late again.", " I talked to my sister for a bit.",
                                   " The weather has been grey all week.", " I tried the breathing exercise."};
    std::size_t i = s.size();
    while (s.size() < 190) s += filler[i++ % 4];
    return s.substr(0, 200);
}

// One line per message, role and context length: everything screen() reports except the
// versions. Messages are screened in a fixed order, so the per-thread context cache is
// exercised as in the timed runs.
void print_verdicts(const tandem::RiskEngine& engine, const std::vector<std::string>& messages,
                    const std::vector<tandem::Turn>& context) {
    for (std::size_t turns = 0; turns <= context.size(); ++turns) {
        const std::span<const tandem::Turn> ctx(context.data() + (context.size() - turns), turns);
        for (std::size_t m = 0; m < messages.size(); ++m) {
            for (const auto role : {tandem::SpeakerRole::patient, tandem::SpeakerRole::ai}) {
                const auto a = engine.screen(messages[m], role, ctx);
                std::printf("turns=%zu message=%zu role=%s severity=%s cssrs=%d categories=", turns, m,
                            std::string(tandem::to_string(role)).c_str(), std::string(tandem::to_string(a.severity)).c_str(),
                            a.cssrs_level.value_or(-1));
                for (const auto c : a.categories) std::printf("%s,", std::string(tandem::to_string(c)).c_str());
                std::printf(" spans=");
                for (const auto& s : a.spans) std::printf("[%zu,%zu,%s]", s.begin, s.end, s.rule_id.c_str());
                std::printf(" rationale=%s\n", a.rationale.c_str());
            }
        }
    }
}

// One line per text: the prefilter's answer per role, then every match of the raw scan.
void print_matches(const tandem::RuleSet& rules) {
    std::vector<tandem::RuleMatch> matches;
    auto one = [&](const std::string& text) {
        const std::string norm = rules.normalizer().canonical(text);
        matches.clear();
        rules.scan(norm, matches);
        std::printf("bytes=%zu may_match=%d%d%d matches=", norm.size(), rules.may_match(norm, tandem::SpeakerRole::patient) ? 1 : 0,
                    rules.may_match(norm, tandem::SpeakerRole::ai) ? 1 : 0, rules.may_match(norm, tandem::SpeakerRole::clinician) ? 1 : 0);
        for (const auto& m : matches) std::printf("[%s,%zu,%zu]", rules.rules()[m.rule].id.c_str(), m.begin, m.end);
        std::printf("\n");
    };
    std::string line;
    while (std::getline(std::cin, line)) {
        if (line.empty()) continue;
        const auto doc = nlohmann::json::parse(line);
        one(doc.value("text", std::string()));
        if (doc.contains("context")) {
            for (const auto& t : doc["context"]) one(t.value("text", std::string()));
        }
    }
}

// Each rule compiled alone, its scan of texts (normalised by the full set) timed on this
// thread's CPU clock; the dearest first.
void print_rule_costs(const tandem::RuleSet& full, const std::vector<std::string>& raw_texts,
                      const std::optional<std::filesystem::path>& rules_dir) {
    std::vector<std::string> texts;
    for (const auto& t : raw_texts) texts.push_back(full.normalizer().canonical(t));
    std::vector<tandem::RuleSource> sources;
    if (rules_dir) {
        for (const auto& entry : std::filesystem::directory_iterator(*rules_dir)) {
            if (entry.path().extension() != ".json") continue;
            std::ifstream in(entry.path(), std::ios::binary);
            std::ostringstream text;
            text << in.rdbuf();
            sources.push_back({entry.path().filename().string(), text.str()});
        }
    } else {
        sources = tandem::RuleSet::builtin_sources();
    }
    struct Cost {
        double us_per_scan;
        std::string id;
        std::string file;
        std::size_t patterns;
    };
    std::vector<Cost> costs;
    constexpr int kRounds = 40;
    std::vector<tandem::RuleMatch> matches;
    for (const auto& src : sources) {
        const auto doc = nlohmann::json::parse(src.text);
        for (const auto& r : doc.at("rules")) {
            const std::string id = r.at("id").get<std::string>();
            nlohmann::json one = doc;
            one["rules"] = nlohmann::json::array({r});
            const std::vector<tandem::RuleSource> single{{src.name, one.dump()}};
            auto set = tandem::RuleSet::load(single, std::nullopt);
            if (!set) {
                std::printf("%s: %s\n", id.c_str(), set.error().describe().c_str());
                continue;
            }
            for (const auto& t : texts) set->scan(t, matches);  // scratch space, caches
            const double c0 = thread_cpu_us();
            for (int k = 0; k < kRounds; ++k) {
                for (const auto& t : texts) {
                    matches.clear();
                    set->scan(t, matches);
                }
            }
            const double us = (thread_cpu_us() - c0) / (kRounds * static_cast<double>(texts.size()));
            costs.push_back({us, id, src.name, r.at("patterns").size()});
        }
    }
    std::sort(costs.begin(), costs.end(), [](const Cost& a, const Cost& b) { return a.us_per_scan > b.us_per_scan; });
    double total = 0;
    for (const auto& c : costs) total += c.us_per_scan;
    std::printf("rules: %zu, sum of their scans alone: %.2f us a text (%zu texts)\n", costs.size(), total, texts.size());
    for (const auto& c : costs) std::printf("%8.3f us  %-40s %-18s %zu patterns\n", c.us_per_scan, c.id.c_str(), c.file.c_str(), c.patterns);
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t n = 50000;
    bool cold = false;
    bool no_model = false;
    bool verdicts = false;
    bool conversation = false;
    bool matches = false;
    bool rule_costs = false;
    auto starts = tandem::StartOffsets::after_scan;
    std::optional<std::filesystem::path> rules_dir;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--messages" && i + 1 < argc) n = std::strtoul(argv[++i], nullptr, 10);
        if (a == "--cold") cold = true;
        if (a == "--no-model") no_model = true;
        if (a == "--verdicts") verdicts = true;
        if (a == "--conversation") conversation = true;
        if (a == "--matches") matches = true;
        if (a == "--rule-costs") rule_costs = true;
        if (a == "--starts-in-scan") starts = tandem::StartOffsets::in_scan;
        if (a == "--rules" && i + 1 < argc) rules_dir = argv[++i];
    }

    auto load_rules = [&](const std::optional<std::filesystem::path>& cache_dir) {
        return rules_dir ? tandem::RuleSet::load_directory(*rules_dir, cache_dir, starts)
                         : tandem::RuleSet::load_builtin(cache_dir, starts);
    };
    if (cold) {
        const auto t0 = Clock::now();
        auto fresh = load_rules(std::nullopt);
        if (!fresh) return std::fprintf(stderr, "%s\n", fresh.error().describe().c_str()), 1;
        std::printf("rule-set load, cold compile (no cache): %.1f ms, %zu patterns\n", ms_since(t0), fresh->pattern_count());
    }
    // Warm the cache once, then time a load that uses it (what every start after the first does).
    const auto cache = std::filesystem::temp_directory_path() / "tandem-bench-risk-cache";
    {
        auto warm = load_rules(cache);
        if (!warm) return std::fprintf(stderr, "%s\n", warm.error().describe().c_str()), 1;
    }
    const auto t0 = Clock::now();
    auto rules = load_rules(cache);
    const double load_ms = ms_since(t0);
    if (!rules) return std::fprintf(stderr, "%s\n", rules.error().describe().c_str()), 1;
    std::printf("rule-set load, cached database: %.1f ms (from cache: %s)\n", load_ms, rules->from_cache() ? "yes" : "no");
    if (matches) {
        print_matches(*rules);
        return 0;
    }
    const auto m0 = Clock::now();
    std::optional<tandem::LearnedModel> model;
    if (!no_model) {
        auto m = tandem::LearnedModel::load_builtin();
        if (!m) return std::fprintf(stderr, "%s\n", m.error().describe().c_str()), 1;
        model = std::move(*m);
        (void)tandem::RiskLexicon::builtin();
        std::printf("learned model and lexicon load: %.1f ms (%s)\n", ms_since(m0), model->version().c_str());
    } else {
        std::printf("learned model: off (--no-model)\n");
    }
    const tandem::RiskEngine engine(std::move(*rules), std::move(model));

    const std::vector<std::string> messages = {
        pad200("Good morning! I actually slept seven hours last night and went for a run before breakfast."),
        pad200("I've been thinking about killing myself again, it's there all the time now."),
        pad200("This homework is killing me, I've been at it for five hours and I'm dying to be done."),
        pad200("My friend told me she's suicidal and I don't know how to help her."),
        pad200("I have the pills lined up on the counter and I'm going to take them tonight."),
        pad200("Can we talk about how to handle my mother-in-law at Thanksgiving? She is a lot."),
        pad200("I used to cut, but I'm six years clean now and honestly life is good."),
        pad200("Me siento sin esperanza, ya no quiero vivir y pienso en matarme."),
    };
    const std::vector<tandem::Turn> context = {
        {tandem::SpeakerRole::patient, pad200("I had a rough week at work and I can't sleep well.")},
        {tandem::SpeakerRole::ai, pad200("That sounds exhausting. What has been keeping you up at night?")},
        {tandem::SpeakerRole::patient, pad200("Mostly worrying about money and my mum's health.")},
        {tandem::SpeakerRole::ai, pad200("Those are heavy worries. Are you having any thoughts of hurting yourself?")},
        {tandem::SpeakerRole::patient, pad200("Sometimes, not a plan though. I just feel stuck.")},
        {tandem::SpeakerRole::ai, pad200("Thank you for telling me. Let's look at your safety plan together.")},
    };

    if (rule_costs) {
        std::vector<std::string> texts = messages;
        for (const auto& t : context) texts.push_back(t.text);
        print_rule_costs(engine.rules(), texts, rules_dir);
        return 0;
    }
    if (verdicts) {
        print_verdicts(engine, messages, context);
        return 0;
    }

    if (conversation) {
        // Patient messages (the bench's eight) and AI replies (the context's three) taking turns;
        // a turn number in front makes every text new, as in a real conversation.
        std::vector<tandem::Turn> turns;
        turns.reserve(n + 6);
        for (std::size_t i = 0; i < n + 6; ++i) {
            const bool ai = i % 2 == 1;
            const std::string& base = ai ? context[1 + 2 * ((i / 2) % 3)].text : messages[(i / 2) % messages.size()];
            turns.push_back({ai ? tandem::SpeakerRole::ai : tandem::SpeakerRole::patient,
                             pad200("(" + std::to_string(i) + ") " + base)});
        }
        std::size_t flagged_c = 0;
        const double c_start = thread_cpu_us();
        for (std::size_t i = 6; i < n + 6; ++i) {
            const std::span<const tandem::Turn> ctx(turns.data() + i - 6, 6);
            flagged_c += engine.screen(turns[i].text, turns[i].role, ctx).severity >= tandem::Severity::moderate ? 1 : 0;
        }
        const double cpu = (thread_cpu_us() - c_start) / 1e6;
        std::printf("conversation run (sliding 6-turn window, every text new): %.0f messages/s of CPU time, flagged %zu\n",
                    static_cast<double>(n) / cpu, flagged_c);
        return 0;
    }

    // Warm-up, then a throughput run without per-message clocks (reading the thread's CPU
    // clock is a system call that would otherwise be part of every message's cost), then a
    // latency run that times each message.
    for (std::size_t i = 0; i < 1000; ++i) (void)engine.screen(messages[i % messages.size()], tandem::SpeakerRole::patient, context);
    {
        std::size_t flagged_t = 0;
        const auto t_start = Clock::now();
        const double c_start = thread_cpu_us();
        for (std::size_t i = 0; i < n; ++i) {
            const bool ai = i % 4 == 3;
            const auto a = engine.screen(messages[i % messages.size()], ai ? tandem::SpeakerRole::ai : tandem::SpeakerRole::patient, context);
            flagged_t += a.severity >= tandem::Severity::moderate ? 1 : 0;
        }
        const double cpu = (thread_cpu_us() - c_start) / 1e6;
        const double wall = std::chrono::duration<double>(Clock::now() - t_start).count();
        std::printf("throughput run (no per-message clocks): %.0f messages/s of CPU time (%.0f/s wall clock), flagged %zu\n",
                    static_cast<double>(n) / cpu, static_cast<double>(n) / wall, flagged_t);
    }
    std::vector<double> latency_us;
    std::vector<double> cpu_us;
    latency_us.reserve(n);
    cpu_us.reserve(n);
    std::size_t flagged = 0;
    const auto start = Clock::now();
    const double cpu_start = thread_cpu_us();
    for (std::size_t i = 0; i < n; ++i) {
        const bool ai = i % 4 == 3;  // one in four messages is an AI reply (screened with its context)
        const auto t = Clock::now();
        const double c = thread_cpu_us();
        const auto a = engine.screen(messages[i % messages.size()], ai ? tandem::SpeakerRole::ai : tandem::SpeakerRole::patient, context);
        cpu_us.push_back(thread_cpu_us() - c);
        latency_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
        flagged += a.severity >= tandem::Severity::moderate ? 1 : 0;
    }
    const double total_s = std::chrono::duration<double>(Clock::now() - start).count();
    const double cpu_s = (thread_cpu_us() - cpu_start) / 1e6;
    std::sort(latency_us.begin(), latency_us.end());
    std::sort(cpu_us.begin(), cpu_us.end());
    auto pct = [](const std::vector<double>& v, double p) { return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))]; };
    std::printf("messages: %zu (200 chars, 6-turn context, 1 in 4 an AI reply), flagged: %zu\n", n, flagged);
    std::printf("latency run, one thread: %.0f messages/s of CPU time (%.0f messages/s wall clock)\n",
                static_cast<double>(n) / cpu_s, static_cast<double>(n) / total_s);
    std::printf("latency per message, CPU time: p50 %.1f us, p99 %.1f us\n", pct(cpu_us, 0.50), pct(cpu_us, 0.99));
    std::printf("latency per message, wall clock: p50 %.1f us, p99 %.1f us, max %.1f us\n", pct(latency_us, 0.50),
                pct(latency_us, 0.99), latency_us.back());
    return 0;
}
