// The cache of context-turn analyses shared by every thread (src/turn_cache.h): a conversation's
// turns screened on any thread give the verdicts of one thread, no engine or model setting
// reuses another's analyses, and the cache stays within its bound.

#include <catch2/catch_test_macros.hpp>

#include <malloc.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "risk_test_support.h"
#include "tandem/domain/json.h"
#include "turn_cache.h"

namespace tandem {
namespace {

// One screen of a conversation: its text and role, and the turns before it (at most 6).
struct Screen {
    std::string text;
    SpeakerRole role;
    std::vector<Turn> context;
};

// The development cases with context, each laid out as a conversation whose every turn is
// screened with the turns before it, as the bridge screens a conversation turn by turn.
std::vector<std::vector<Screen>> development_conversations() {
    std::vector<std::vector<Screen>> out;
    for (const auto& c : test::development_cases()) {
        if (c.context.empty()) continue;
        std::vector<Turn> turns = c.context;
        turns.push_back(Turn{c.role, c.text});
        std::vector<Screen> conversation;
        for (std::size_t k = 0; k < turns.size(); ++k) {
            const std::size_t from = k > 6 ? k - 6 : 0;
            conversation.push_back(Screen{turns[k].text, turns[k].role,
                                          std::vector<Turn>(turns.begin() + static_cast<std::ptrdiff_t>(from),
                                                            turns.begin() + static_cast<std::ptrdiff_t>(k))});
        }
        out.push_back(std::move(conversation));
    }
    return out;
}

// Every field of an assessment, as its record's JSON.
std::string describe(const RiskAssessment& a) {
    nlohmann::json j;
    to_json(j, a);
    return j.dump();
}

// Screens every conversation's turns in rounds (every conversation's first turn, then every
// second...) handing each screen to the next of `threads` threads in turn, as the bridge hands
// turns to whichever worker is free; results by conversation and turn.
std::vector<std::vector<std::string>> screen_round_robin(const RiskEngine& engine,
                                                         const std::vector<std::vector<Screen>>& conversations,
                                                         std::size_t threads) {
    struct Job {
        std::size_t conversation;
        std::size_t turn;
    };
    std::vector<Job> jobs;
    for (std::size_t round = 0;; ++round) {
        bool any = false;
        for (std::size_t c = 0; c < conversations.size(); ++c) {
            if (round >= conversations[c].size()) continue;
            jobs.push_back(Job{c, round});
            any = true;
        }
        if (!any) break;
    }
    std::vector<std::vector<std::string>> out(conversations.size());
    for (std::size_t c = 0; c < conversations.size(); ++c) out[c].resize(conversations[c].size());
    std::vector<std::thread> workers;
    for (std::size_t t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            for (std::size_t j = t; j < jobs.size(); j += threads) {
                const Screen& s = conversations[jobs[j].conversation][jobs[j].turn];
                out[jobs[j].conversation][jobs[j].turn] = describe(engine.screen(s.text, s.role, s.context));
            }
        });
    }
    for (auto& w : workers) w.join();
    return out;
}

// Screens every turn of every conversation on a new thread (its own thread cache empty).
void screen_all_on_new_thread(const RiskEngine& engine, const std::vector<std::vector<Screen>>& conversations) {
    std::thread([&] {
        for (const auto& conversation : conversations) {
            for (const Screen& s : conversation) (void)engine.screen(s.text, s.role, s.context);
        }
    }).join();
}

RuleSet load_rules() {
    auto rules = RuleSet::load_builtin();
    if (!rules) throw std::runtime_error("built-in risk rules do not load: " + rules.error().describe());
    return std::move(*rules);
}

struct Probe {
    bool used_context = false;
    int value = 0;
};

std::shared_ptr<const detail::SharedTurn<Probe>> probe(detail::TurnCacheKey key, std::string text, bool used_context, int value) {
    return std::make_shared<const detail::SharedTurn<Probe>>(
        detail::SharedTurn<Probe>{key, std::move(text), Probe{used_context, value}});
}

}  // namespace

TEST_CASE("conversations screened on 8 threads, turns handed out round-robin, get one thread's assessments", "[risk][shared_cache][engine]") {
    const auto conversations = development_conversations();
    REQUIRE(conversations.size() > 100);
    const RiskEngine& engine = test::builtin_engine();
    const RiskEngine& alone = test::rules_alone_engine();
    for (const RiskEngine* e : {&engine, &alone}) {
        detail::clear_shared_context_turns();
        const auto one = screen_round_robin(*e, conversations, 1);
        // Cleared again: the eight threads fill the shared cache themselves, each turn's context
        // analysed on one thread and read on others.
        detail::clear_shared_context_turns();
        const auto eight = screen_round_robin(*e, conversations, 8);
        // And once more with the cache full of the first run's turns.
        const auto again = screen_round_robin(*e, conversations, 8);
        for (std::size_t c = 0; c < conversations.size(); ++c) {
            for (std::size_t k = 0; k < conversations[c].size(); ++k) {
                if (eight[c][k] == one[c][k] && again[c][k] == one[c][k]) continue;
                INFO("conversation " << c << ", turn " << k << (e == &engine ? ", with the model" : ", rules alone"));
                CHECK(eight[c][k] == one[c][k]);
                CHECK(again[c][k] == one[c][k]);
            }
        }
    }
}

TEST_CASE("another rule set or the model switched on or off never reuses a shared analysis", "[risk][shared_cache][engine]") {
    const auto conversations = development_conversations();
    const RiskEngine& alone = test::rules_alone_engine();
    detail::clear_shared_context_turns();
    screen_all_on_new_thread(alone, conversations);
    const std::size_t first = detail::shared_context_turns();
    REQUIRE(first > 100);
    REQUIRE(2 * first < detail::shared_context_turn_capacity() / 4);  // room enough that nothing is evicted

    SECTION("the same engine again reuses every analysis") {
        screen_all_on_new_thread(alone, conversations);
        CHECK(detail::shared_context_turns() == first);
    }
    SECTION("a reload of the same rule files analyses every turn again") {
        const RiskEngine reloaded(load_rules(), std::nullopt);
        REQUIRE(reloaded.rules().generation() != alone.rules().generation());
        screen_all_on_new_thread(reloaded, conversations);
        CHECK(detail::shared_context_turns() == 2 * first);
    }
    SECTION("the same rules with the model on analyse every turn again, with the model's context features") {
        // model_features() analyses with the model on, on the rules-alone engine's rule set.
        std::vector<std::vector<std::uint32_t>> shared_after_rules_alone;
        std::thread([&] {
            for (const auto& conversation : conversations) {
                const Screen& s = conversation.back();
                shared_after_rules_alone.push_back(alone.model_features(s.text, s.role, s.context).context);
            }
        }).join();
        CHECK(detail::shared_context_turns() > first);
        detail::clear_shared_context_turns();
        std::vector<std::vector<std::uint32_t>> fresh;
        std::thread([&] {
            for (const auto& conversation : conversations) {
                const Screen& s = conversation.back();
                fresh.push_back(alone.model_features(s.text, s.role, s.context).context);
            }
        }).join();
        CHECK(shared_after_rules_alone == fresh);
        std::size_t with_context_features = 0;
        for (const auto& f : fresh) with_context_features += f.empty() ? 0 : 1;
        CHECK(with_context_features > 100);  // not vacuous: the context turns carry features
    }
}

TEST_CASE("a shared turn is found only under its own rule set, model setting, keys and text", "[risk][shared_cache]") {
    detail::SharedTurnCache<Probe> cache(1024);
    const detail::TurnCacheKey key{7, true, 0x1234567890abcdefULL, 42};
    cache.publish(probe(key, "i cant go on", false, 1));
    const detail::TurnCacheKey chained{7, true, 0x0fedcba987654321ULL, 99};
    cache.publish(probe(chained, "tonight", true, 2));

    struct Case {
        const char* name;
        detail::TurnCacheKey key;
        std::string text;
        int expected;  // 0: a miss
    };
    const std::vector<Case> cases = {
        {"the same turn", key, "i cant go on", 1},
        {"another chain, for an analysis that did not read its context", {7, true, key.own, 5}, "i cant go on", 1},
        {"another rule set generation", {8, true, key.own, key.chain}, "i cant go on", 0},
        {"the model off", {7, false, key.own, key.chain}, "i cant go on", 0},
        {"another own key", {7, true, key.own + 1, key.chain}, "i cant go on", 0},
        {"another text under the same keys (a hash collision)", key, "i can go on", 0},
        {"a context-reading analysis under its own chain", chained, "tonight", 2},
        {"a context-reading analysis under another chain", {7, true, chained.own, 100}, "tonight", 0},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const auto hit = cache.find(c.key, c.text);
        CHECK((hit ? hit->value.value : 0) == c.expected);
    }
    cache.publish(probe(key, "i cant go on", false, 3));
    CHECK(cache.find(key, "i cant go on")->value.value == 1);  // the first publication stays
    CHECK(cache.size() == 2);
}

TEST_CASE("the shared cache holds at most its capacity however many turns are published", "[risk][shared_cache]") {
    detail::SharedTurnCache<Probe> cache(1000);
    CHECK(cache.capacity() == 1024);  // rounded up to whole sets
    for (std::uint64_t i = 0; i < 20000; ++i) {
        cache.publish(probe({1, false, i * 0x9E3779B97F4A7C15ULL, 0}, "turn " + std::to_string(i), false, 1));
    }
    CHECK(cache.size() == cache.capacity());
    // The newest are there, the oldest gone.
    CHECK(cache.find({1, false, 19999 * 0x9E3779B97F4A7C15ULL, 0}, "turn 19999"));
    CHECK_FALSE(cache.find({1, false, 0, 0}, "turn 0"));
}

TEST_CASE("the engine's shared cache stays within its bound and its memory budget when fed many distinct conversations", "[risk][shared_cache][engine]") {
    const RiskEngine& engine = test::builtin_engine();
    detail::clear_shared_context_turns();
    const std::size_t capacity = detail::shared_context_turn_capacity();
    CHECK(capacity == 16384);
    // Distinct conversations of 8 turns, each turn with the 6 before it, until the cache has been
    // filled about 1.25 times over; texts of a chat's usual length (80 to 130 bytes).
    const std::size_t conversations = capacity * 5 / 4 / 8;
    const std::size_t heap_before = mallinfo2().uordblks;
    std::thread([&] {
        std::vector<Turn> turns;
        for (std::size_t c = 0; c < conversations; ++c) {
            turns.clear();
            for (std::size_t k = 0; k < 8; ++k) {
                const SpeakerRole role = k % 2 == 0 ? SpeakerRole::patient : SpeakerRole::ai;
                std::string text = role == SpeakerRole::patient
                                       ? "this week at work number " + std::to_string(c) + " was long and i kept thinking about turn " +
                                             std::to_string(k) + " of the project"
                                       : "that sounds like a lot to carry, what helped you get through day " + std::to_string(k) +
                                             " of week " + std::to_string(c) + "?";
                const std::size_t from = turns.size() > 6 ? turns.size() - 6 : 0;
                (void)engine.screen(text, role, std::span<const Turn>(turns).subspan(from));
                turns.push_back(Turn{role, std::move(text)});
            }
        }
    }).join();
    const std::size_t held = detail::shared_context_turns();
    CHECK(held <= capacity);
    CHECK(held > capacity * 3 / 4);  // it was filled: the bound was reached, not just respected
    const std::size_t heap_after = mallinfo2().uordblks;
    const std::size_t grown = heap_after > heap_before ? heap_after - heap_before : 0;
    INFO("heap grown " << grown << " bytes for " << held << " turns");
    CHECK(grown < 20u * 1024 * 1024);  // the bridge's budget for this cache
    detail::clear_shared_context_turns();
}

}  // namespace tandem
