// Model file formats (tenth pass): format 2 adds a float32 idf per bucket after the weight table
// and weighs each block of features as TF-IDF; format 1 files (models up to 2026.11.26-10) still
// load and score with the old weighting; a newer format, or a format 2 file whose idf table is
// missing or broken, is refused with the reason.

#include <catch2/catch_test_macros.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/risk/learned_model.h"
#include "risk_test_support.h"

namespace {

constexpr std::size_t kBuckets = std::size_t{1} << tandem::risk_model_hash_bits;

struct Parts {
    nlohmann::json header;
    std::string weights;  // the int8 table
    std::string idf;      // format 2's float32 table (empty for format 1)
};

Parts split(const std::string& bytes) {
    std::uint32_t n = 0;
    for (int i = 3; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[8 + static_cast<std::size_t>(i)]);
    Parts p;
    p.header = nlohmann::json::parse(bytes.substr(12, n));
    const std::size_t table = kBuckets * p.header["heads"].size();
    p.weights = bytes.substr(12 + n, table);
    p.idf = bytes.substr(12 + n + table);
    return p;
}

// A model file from its parts, with the checksum over its body recomputed.
std::string join(nlohmann::json header, const std::string& body) {
    const std::string hex = tandem::test::model_body_checksum(body);
    header["weights_fnv1a64"] = hex;
    const std::string text = header.dump();
    std::string out = "TANDEMRM";
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((text.size() >> (8 * i)) & 0xFF));
    return out + text + body;
}

// An idf table of one value for every bucket (float32, little endian).
std::string flat_idf(float value) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    std::string out;
    out.reserve(kBuckets * 4);
    for (std::size_t b = 0; b < kBuckets; ++b) {
        for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
    }
    return out;
}

tandem::ModelFeatures features_of(std::vector<std::uint32_t> message, std::vector<std::uint32_t> context = {}) {
    tandem::ModelFeatures f;
    for (std::uint32_t b : message) f.message.push_back({b, 0, 0, false});
    f.context = std::move(context);
    f.words = message.size();
    return f;
}

double logit(double p) { return std::log(p / (1.0 - p)); }

// A bucket whose flag weight is not zero (most buckets hold no weight at all).
std::uint32_t weighty_bucket(const tandem::LearnedModel& m) {
    const double base = logit(m.score(features_of({})).flag);
    for (std::uint32_t b = 0; b < kBuckets; ++b) {
        if (std::abs(logit(m.score(features_of({b})).flag) - base) > 0.01) return b;
    }
    FAIL("no bucket carries a flag weight");
    return 0;
}

}  // namespace

TEST_CASE("model files of format 1 still load and keep their weighting", "[risk][model]") {
    Parts p = split(tandem::test::read_model_file());
    p.header["format"] = 1;
    auto old = tandem::LearnedModel::load(join(p.header, p.weights));
    REQUIRE(old.has_value());
    // Format 1 scales a block by 1/sqrt(its hit count): a bucket hit twice in a block of two
    // hits weighs sqrt(2) times one hit alone.
    const std::uint32_t b = weighty_bucket(*old);
    const double base = logit(old->score(features_of({})).flag);
    const double once = logit(old->score(features_of({b})).flag) - base;
    const double twice = logit(old->score(features_of({b, b})).flag) - base;
    CHECK(std::abs(twice - std::sqrt(2.0) * once) < 1e-4);
}

TEST_CASE("format 2 weighs each block as TF-IDF with its own idf table", "[risk][model]") {
    Parts p = split(tandem::test::read_model_file());
    p.header["format"] = 2;
    // A flat idf: every bucket weighs the same, so the block's L2 norm makes one hit and the
    // same hit repeated score alike (1 + ln 2 over itself), unlike format 1's 1/sqrt(count).
    auto m = tandem::LearnedModel::load(join(p.header, p.weights + flat_idf(2.0F)));
    REQUIRE(m.has_value());
    const std::uint32_t b = weighty_bucket(*m);
    const auto once = m->score(features_of({b}));
    const auto twice = m->score(features_of({b, b, b}));
    CHECK(std::abs(once.flag - twice.flag) < 1e-9);
    CHECK(std::abs(once.urgent - twice.urgent) < 1e-9);
    // The idf's overall level cancels in the norm: idf 5 everywhere scores as idf 2 does.
    auto scaled = tandem::LearnedModel::load(join(p.header, p.weights + flat_idf(5.0F)));
    REQUIRE(scaled.has_value());
    const auto f = features_of({3, 99, 4000, 3}, {12, 13});
    CHECK(std::abs(m->score(f).flag - scaled->score(f).flag) < 1e-6);
    CHECK(std::abs(m->score(f).urgent - scaled->score(f).urgent) < 1e-6);
}

TEST_CASE("a model file of an unknown format or with a broken idf table is refused", "[risk][model]") {
    Parts p = split(tandem::test::read_model_file());
    struct Bad {
        const char* name;
        std::string bytes;
        tandem::ErrorCode code;
        std::string must_mention;
    };
    nlohmann::json v2 = p.header;
    v2["format"] = 2;
    nlohmann::json v3 = p.header;
    v3["format"] = 3;
    const std::vector<Bad> cases = {
        {"a format this build does not read", join(v3, p.weights + flat_idf(1.0F)), tandem::ErrorCode::schema, "format"},
        {"format 2 without its idf table", join(v2, p.weights), tandem::ErrorCode::parse, "format 2"},
        {"format 2 with half an idf table", join(v2, p.weights + flat_idf(1.0F).substr(0, kBuckets * 2)),
         tandem::ErrorCode::parse, "format 2"},
        {"format 2 with a negative idf", join(v2, p.weights + flat_idf(-1.0F)), tandem::ErrorCode::parse, "idf"},
        {"format 1 with an idf table after it",
         [&] {
             nlohmann::json v1 = p.header;
             v1["format"] = 1;
             return join(v1, p.weights + flat_idf(1.0F));
         }(),
         tandem::ErrorCode::parse, "format 1"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        auto m = tandem::LearnedModel::load(c.bytes);
        REQUIRE_FALSE(m.has_value());
        INFO(m.error().describe());
        CHECK(m.error().code == c.code);
        CHECK(m.error().describe().find(c.must_mention) != std::string::npos);
    }
}
