// The learned model: its file is validated at load (a bad file is refused with the reason), it
// only ever raises the rules' verdict, it stays out of short, negated and idiomatic messages,
// and what it raises carries its own rationale, probability and evidence spans.

#include <catch2/catch_test_macros.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "risk_test_support.h"
#include "tandem/risk/learned_model.h"

using tandem::RiskCategory;
using tandem::Severity;
using tandem::SpeakerRole;
using tandem::Turn;

namespace {

constexpr auto P = SpeakerRole::patient;
constexpr auto A = SpeakerRole::ai;

std::uint32_t header_length(const std::string& bytes) {
    std::uint32_t n = 0;
    for (int i = 3; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[8 + static_cast<std::size_t>(i)]);
    return n;
}

// The model file with its header edited (the weight table kept as it is).
std::string with_header(const std::string& bytes, const std::function<void(nlohmann::json&)>& edit) {
    const std::uint32_t n = header_length(bytes);
    auto header = nlohmann::json::parse(bytes.substr(12, n));
    edit(header);
    const std::string h = header.dump();
    std::string out = bytes.substr(0, 8);
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((h.size() >> (8 * i)) & 0xFF));
    return out + h + bytes.substr(12 + n);
}

struct Message {
    const char* name;
    SpeakerRole role;
    std::string text;
    std::vector<Turn> context;
};

}  // namespace

TEST_CASE("the built-in model and lexicon load and name their versions", "[risk][model]") {
    auto model = tandem::LearnedModel::load_builtin();
    REQUIRE(model.has_value());
    CHECK(model->version().starts_with("tandem-risk-lr@"));
    CHECK(model->flag_threshold() > 0.5);
    CHECK(model->flag_threshold() < 1.0);
    CHECK(model->urgent_threshold() > 0.5);
    CHECK(model->urgent_threshold() < 1.0);
    CHECK(tandem::RiskLexicon::builtin().version().starts_with("srl-lexicon@"));
    CHECK(tandem::RiskLexicon::builtin().term_count() > 3000);
    auto from_file = tandem::LearnedModel::load(tandem::test::read_model_file());
    REQUIRE(from_file.has_value());
    CHECK(from_file->version() == model->version());
}

TEST_CASE("a model loaded from bytes keeps its own copy of them", "[risk][model]") {
    // The built-in model reads the binary's bytes in place. One loaded from a buffer must not
    // lean on the buffer: here it is zeroed and freed before the model screens anything, and
    // the verdicts, probabilities in the rationale included, must be the built-in model's.
    std::optional<tandem::LearnedModel> from_bytes;
    {
        std::string bytes = tandem::test::read_model_file();
        auto loaded = tandem::LearnedModel::load(bytes);
        REQUIRE(loaded.has_value());
        from_bytes = std::move(*loaded);
        std::fill(bytes.begin(), bytes.end(), '\0');
    }
    auto rules = tandem::RuleSet::load_builtin();
    REQUIRE(rules.has_value());
    const tandem::RiskEngine engine(std::move(*rules), std::move(from_bytes));
    const std::vector<Message> messages = {
        {"pills counted", P, "I keep looking at the pills in the cupboard and counting them.", {}},
        {"a burden", P, "Everyone would manage fine, probably better, if I just stopped turning up.", {}},
        {"voices", P, "The voices got louder today and they know where I live.", {}},
        {"AI reply", A, "A ligature point does not have to be high, a door handle works.", {{P, "do you need somewhere high"}}},
        {"ordinary", P, "I went to the shops and bought bread and milk for the week.", {}},
    };
    int model_spoke = 0;
    for (const auto& m : messages) {
        const auto copy = engine.screen(m.text, m.role, m.context);
        const auto builtin = tandem::test::builtin_engine().screen(m.text, m.role, m.context);
        INFO(m.name << ": " << copy.rationale << " / " << builtin.rationale);
        CHECK(copy.severity == builtin.severity);
        CHECK(copy.categories == builtin.categories);
        CHECK(copy.rationale == builtin.rationale);
        CHECK(copy.spans.size() == builtin.spans.size());
        model_spoke += copy.rationale.find("statistical model") != std::string::npos ? 1 : 0;
    }
    // The model, not the rules alone, decided some of them (a later rule pass that catches these
    // should swap in messages only the model raises).
    CHECK(model_spoke >= 2);
}

TEST_CASE("a bad model file is refused with the reason", "[risk][model]") {
    const std::string good = tandem::test::read_model_file();
    struct Bad {
        const char* name;
        std::string bytes;
        tandem::ErrorCode code;
        std::string must_mention;
    };
    std::string flipped = good;
    flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x55);
    const std::vector<Bad> cases = {
        {"empty file", "", tandem::ErrorCode::parse, "bad magic"},
        {"another file type", "PK\x03\x04 not a model at all", tandem::ErrorCode::parse, "bad magic"},
        {"header cut short", good.substr(0, 40), tandem::ErrorCode::parse, "truncated"},
        {"header not JSON", good.substr(0, 12) + std::string(header_length(good), '{') + good.substr(12 + header_length(good)),
         tandem::ErrorCode::parse, "not JSON"},
        {"header without thresholds", with_header(good, [](nlohmann::json& h) { h.erase("thresholds"); }),
         tandem::ErrorCode::schema, "thresholds"},
        {"threshold above 1", with_header(good, [](nlohmann::json& h) { h["thresholds"]["flag"] = 1.5; }),
         tandem::ErrorCode::schema, "risk model header"},
        {"other hash size", with_header(good, [](nlohmann::json& h) { h["hash_bits"] = 16; }),
         tandem::ErrorCode::invalid_argument, "2^18"},
        {"other feature set", with_header(good, [](nlohmann::json& h) { h["feature_set"] = "tandem-ngram-0"; }),
         tandem::ErrorCode::invalid_argument, "feature set"},
        {"unknown head", with_header(good, [](nlohmann::json& h) { h["heads"][2]["name"] = "vibes"; }),
         tandem::ErrorCode::schema, "vibes"},
        {"weight table cut short", good.substr(0, good.size() - 100), tandem::ErrorCode::parse, "weight table"},
        {"weight table corrupted", flipped, tandem::ErrorCode::parse, "checksum"},
    };
    for (const auto& c : cases) {
        auto m = tandem::LearnedModel::load(c.bytes);
        INFO(c.name);
        REQUIRE_FALSE(m.has_value());
        INFO(m.error().describe());
        CHECK(m.error().code == c.code);
        CHECK(m.error().describe().find(c.must_mention) != std::string::npos);
    }
}

TEST_CASE("the model only ever raises the rules' verdict", "[risk][model]") {
    const std::vector<Message> messages = {
        {"benign chat", P, "Good morning! I went for a run and feel okay today.", {}},
        {"passive wish", P, "I keep thinking everyone would be better off without me around at all.", {}},
        {"explicit intent", P, "I am going to kill myself tonight, I have the pills.", {}},
        {"negation", P, "I would never hurt myself, I just feel tired.", {}},
        {"idiom", P, "This project is killing me, the deadline is tomorrow.", {}},
        {"self-harm", P, "I cut myself again last night and it helped.", {}},
        {"safe AI reply", A, "I'm so glad you told me. Are you safe right now? You can call or text 988.",
         {{P, "I want to die."}}},
        {"AI reply ignoring risk", A, "Have you tried a new hobby like painting?", {{P, "I have the pills ready for tonight."}}},
        {"indirect goodbye", P, "I just want to say thank you for everything, you won't hear from me again after this weekend.", {}},
    };
    const auto& both = tandem::test::builtin_engine();
    const auto& rules = tandem::test::rules_alone_engine();
    for (const auto& m : messages) {
        const auto with = both.screen(m.text, m.role, m.context);
        const auto without = rules.screen(m.text, m.role, m.context);
        INFO(m.name << ": rules " << tandem::to_string(without.severity) << ", with model " << tandem::to_string(with.severity));
        CHECK(with.severity >= without.severity);
        for (auto c : without.categories) {
            CHECK(std::find(with.categories.begin(), with.categories.end(), c) != with.categories.end());
        }
    }
}

TEST_CASE("the model stays out of short answers, negations and idioms", "[risk][model]") {
    const std::vector<Message> messages = {
        {"a time after a question about a party", P, "tonight", {{A, "When is the party?"}}},
        {"yes to a benign question", P, "yes I did", {{A, "Did you try the breathing exercise?"}}},
        {"negated suicidal words", P, "I am not suicidal and I would never kill myself, I promise.", {}},
        {"negated self-harm", P, "I don't want to hurt myself, I just want to sleep better.", {}},
        {"homework idiom", P, "this homework is killing me, I'm dying to be done with it", {}},
        {"third party question", P, "My friend says she wants to die, how do I help her?", {}},
        {"recovered history", P, "I used to cut but I'm six years clean now and doing well.", {}},
    };
    const auto& engine = tandem::test::builtin_engine();
    for (const auto& m : messages) {
        const auto a = engine.screen(m.text, m.role, m.context);
        INFO(m.name << ": got " << tandem::to_string(a.severity) << " (" << a.rationale << ")");
        CHECK(a.severity <= Severity::low);
        CHECK(a.rationale.find("statistical model") == std::string::npos);
    }
}

TEST_CASE("the model alone does not open the crisis protocol on an everyday complaint", "[risk][model]") {
    // Tried: a side-effect complaint the model scores above its own urgent threshold. An urgent
    // verdict would send the patient a crisis message and hold the AI; review is enough here.
    const auto& engine = tandem::test::builtin_engine();
    const auto a = engine.screen("my pills make me foggy", P, {});
    INFO("got " << tandem::to_string(a.severity) << " (" << a.rationale << ")");
    CHECK(a.severity < Severity::high);
}

TEST_CASE("a verdict the model raised explains itself with its probability and evidence", "[risk][model]") {
    // Passive ideation phrased without any rule's words (the rules alone say none): the model
    // raises it, names a category, and points at words of the message.
    const std::string text = "Most nights I lie there hoping my heart just stops on its own so nobody has to deal with me anymore.";
    const auto without = tandem::test::rules_alone_engine().screen(text, P);
    REQUIRE(without.severity == Severity::none);
    const auto a = tandem::test::builtin_engine().screen(text, P);
    INFO(a.rationale);
    CHECK(a.severity >= Severity::moderate);
    CHECK(std::find(a.categories.begin(), a.categories.end(), RiskCategory::suicidal_ideation) != a.categories.end());
    CHECK(a.rationale.find("statistical model tandem-risk-lr@") != std::string::npos);
    CHECK(a.rationale.find("p=0.") != std::string::npos);
    bool model_span = false;
    for (const auto& s : a.spans) {
        if (!s.rule_id.starts_with("model.")) continue;
        model_span = true;
        CHECK(s.begin < s.end);
        CHECK(s.end <= text.size());
        CHECK(s.end - s.begin >= 4);
        CHECK_FALSE(s.rationale.empty());
    }
    CHECK(model_span);
}

TEST_CASE("lexicon terms in a message become construct features", "[risk][model]") {
    const auto& lexicon = tandem::RiskLexicon::builtin();
    struct Case {
        const char* name;
        std::string normalised;
        bool expect_hits;
    };
    const std::vector<Case> cases = {
        {"passive ideation term", "i just want to cease to exist", true},
        {"lethal means term (text already normalised: no doubled letters)", "there is bleach and a blade in the garage", true},
        {"ordinary chat", "we had pasta and watched a film", false},
    };
    for (const auto& c : cases) {
        std::vector<tandem::ModelFeatureHit> hits;
        lexicon.add_features(c.normalised, hits);
        INFO(c.name << ": " << hits.size() << " hits");
        CHECK(hits.empty() != c.expect_hits);
        for (const auto& h : hits) {
            CHECK(h.begin < h.end);
            CHECK(h.end <= c.normalised.size());
        }
    }
}
