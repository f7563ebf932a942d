// Vectorscan's code path on this processor: a match in the last bytes of a scanned buffer must
// be reported. Debian 12's Vectorscan 5.4.9 missed such matches on AVX-512 processors (its
// AVX-512 tail scan, upstream PR 378); common/risk/src/vectorscan_runtime.* steers the engine
// around that path. On a processor without AVX-512 this checks the library's own path.

#include <catch2/catch_test_macros.hpp>

#include <hs.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tandem/risk/rule_set.h"
#include "vectorscan_runtime.h"

using namespace tandem;

namespace {

struct Reports {
    std::vector<std::pair<unsigned, unsigned long long>> ids_and_ends;
};

int on_match(unsigned int id, unsigned long long, unsigned long long to, unsigned int, void* context) {
    static_cast<Reports*>(context)->ids_and_ends.emplace_back(id, to);
    return 0;
}

struct Database {
    hs_database_t* db = nullptr;
    hs_scratch_t* scratch = nullptr;
    Database(const std::vector<const char*>& patterns) {
        std::vector<unsigned> flags(patterns.size(), HS_FLAG_CASELESS);
        std::vector<unsigned> ids;
        for (unsigned i = 0; i < patterns.size(); ++i) ids.push_back(i);
        hs_compile_error_t* err = nullptr;
        REQUIRE(hs_compile_multi(patterns.data(), flags.data(), ids.data(), static_cast<unsigned>(patterns.size()),
                                 HS_MODE_BLOCK, vectorscan::compile_platform(), &db, &err) == HS_SUCCESS);
        REQUIRE(hs_alloc_scratch(db, &scratch) == HS_SUCCESS);
    }
    ~Database() {
        hs_free_scratch(scratch);
        hs_free_database(db);
    }
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;
};

}  // namespace

TEST_CASE("a match in the last bytes of a buffer is reported, whatever the buffer's length", "[risk][vectorscan]") {
    INFO("Vectorscan " << hs_version() << ", code path: " << vectorscan::runtime_name());
    // The shapes the rule files use: a word list between word boundaries, a literal phrase, a
    // repeated letter, an alternation of phrases.
    const Database d({R"(\b(?:i|im|ive|id|il|me|myself)\b)", R"(\bkil+(?:ing)? myself\b)", R"(\bso+ tired\b)",
                      R"(\b(?:end it|ctb|unalive)\b)"});
    struct Ending {
        const char* name;
        std::string text;
        unsigned id;
    };
    const std::vector<Ending> endings{
        {"a first-person word", " me", 0}, {"a phrase", " killing myself", 1}, {"repeated letters", " sooo tired", 2},
        {"shorthand", " ctb", 3}};
    // Filler words that match nothing, so the only report that can end at the buffer's end is
    // the ending's. Every length from 1 to 300 bytes of filler puts the ending at every offset
    // of the last vector, for 16-, 32- and 64-byte vectors alike.
    for (const auto& e : endings) {
        for (std::size_t filler = 1; filler <= 300; ++filler) {
            std::string text;
            while (text.size() < filler) text += text.size() % 7 == 3 ? "," : "x";
            text += e.text;
            Reports r;
            REQUIRE(vectorscan::scan(d.db, text.data(), static_cast<unsigned>(text.size()), d.scratch, on_match, &r) ==
                    HS_SUCCESS);
            bool at_end = false;
            for (const auto& [id, end] : r.ids_and_ends) at_end = at_end || (id == e.id && end == text.size());
            INFO(e.name << " after " << filler << " bytes of filler (" << text.size() << " bytes in all)");
            CHECK(at_end);
        }
    }
}

TEST_CASE("the engine's scan reports a first-person word and a risk phrase that close a message", "[risk][vectorscan]") {
    INFO("Vectorscan " << hs_version() << ", code path: " << vectorscan::runtime_name());
    // Through the rule set, as screening does it, with the databases that showed the miss: the
    // lists kept inside Vectorscan (a "{1}" keeps them out of the rule set's own phrase
    // matcher), an English and a Spanish first-person list that both match "me". On Debian 12's
    // library and an AVX-512 processor, the development text below lost its closing English
    // "me" (the Spanish one, same bytes, was reported; for AI replies, which have no Spanish
    // list, nothing was).
    const std::string file = R"({"format": 1, "name": "tails", "version": "1", "language": "en", "rules": [
      {"id": "risk.kill", "kind": "risk", "role": "patient", "category": "suicidal_ideation", "severity": "high",
       "patterns": ["\\bkil+(?:ing)? myself\\b"], "rationale": "r"},
      {"id": "fp.en", "kind": "first_person", "role": "any", "patterns": ["\\b(?:i|im|ive|id|il|me|myself){1}\\b"],
       "rationale": "r"},
      {"id": "brk", "kind": "boundary", "role": "any",
       "patterns": ["\\b(?:but|however|anyway|pero|sin embargo|and then|then){1}\\b"], "rationale": "r"},
      {"id": "fp.es", "kind": "first_person", "role": "patient", "patterns": ["\\b(?:yo|me|mi){1}\\b"],
       "rationale": "r"}]})";
    auto loaded = RuleSet::load(std::vector<RuleSource>{RuleSource{"tails.json", file}}, std::nullopt);
    REQUIRE(loaded.has_value());
    const std::string seen = "i see shadows moving in the corners and they talk to each other about me";
    const std::string risk = "some nights i keep thinking about killing myself";
    for (std::size_t cut = 0; cut + 2 <= seen.size(); ++cut) {
        for (const auto& [text, rule] : {std::pair{seen.substr(cut), "fp.en"}, std::pair{risk.substr(cut % 20), "risk.kill"}}) {
            const std::string norm = loaded->normalizer().canonical(text);
            for (const auto role : {SpeakerRole::patient, SpeakerRole::ai}) {
                if (std::string_view(rule) == "risk.kill" && role == SpeakerRole::ai) continue;
                std::vector<RuleMatch> m;
                loaded->scan(norm, role, m);
                bool at_end = false;
                for (const auto& match : m) at_end = at_end || (loaded->rules()[match.rule].id == rule && match.end == norm.size());
                INFO(rule << " closing \"" << norm << "\" (" << norm.size() << " bytes), role " << to_string(role));
                CHECK(at_end);
            }
        }
    }
}
