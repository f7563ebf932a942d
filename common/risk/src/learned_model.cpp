#include "tandem/risk/learned_model.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "embedded.h"
#include "embedded_schema.h"
#include "tandem/risk/normalizer.h"

namespace tandem {
namespace {

constexpr std::uint64_t kFnvOffset = 1469598103934665603ULL;  // FNV-1a, for the file's checksum
constexpr std::uint64_t kFnvPrime = 1099511628211ULL;
constexpr std::string_view kMagic = "TANDEMRM";

std::uint64_t fnv64(std::string_view bytes) {
    std::uint64_t h = kFnvOffset;
    for (unsigned char c : bytes) {
        h ^= c;
        h *= kFnvPrime;
    }
    return h;
}

const embedded::ParsedSchema& header_schema() {
    static const std::unique_ptr<embedded::ParsedSchema> schema = embedded::parse_schema(embedded::risk_model_schema());
    return *schema;
}

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// 1 + ln(count): the sublinear term frequency of a bucket a block hits count times (format 2).
float sublinear_tf(std::uint32_t count) {
    static const std::array<float, 32> table = [] {
        std::array<float, 32> t{};
        for (std::size_t c = 1; c < t.size(); ++c) t[c] = 1.0F + static_cast<float>(std::log(static_cast<double>(c)));
        return t;
    }();
    return count < table.size() ? table[count] : 1.0F + static_cast<float>(std::log(static_cast<double>(count)));
}

// A bucket's hit count for score() (generation << 8 | count, count <= 255) and its index in a
// list plus one for count_buckets(), for all 2^hash_bits buckets: a call costs a few
// instructions per hit however large the bucket space, and nothing needs clearing between blocks
// (each takes a new generation number; the slots are reset from the list).
constexpr std::uint32_t kCountBits = 8;
constexpr std::uint32_t kCountMask = (1U << kCountBits) - 1;
struct BucketTables {
    std::vector<std::uint32_t> counts = std::vector<std::uint32_t>(std::size_t{1} << risk_model_hash_bits, 0);
    std::vector<std::uint32_t> slots = std::vector<std::uint32_t>(std::size_t{1} << risk_model_hash_bits, 0);
    std::uint32_t generation = 0;

    // A generation number no entry of counts carries yet (the table is cleared when the 24-bit
    // number wraps, once in 16 million blocks).
    std::uint32_t next_generation() {
        generation = (generation + 1) & ((1U << (32 - kCountBits)) - 1);
        if (generation == 0) {
            std::fill(counts.begin(), counts.end(), 0U);
            generation = 1;
        }
        return generation;
    }
};

// The tables are lent for one call, not kept per thread: they are 512 KB, and the bridge screens
// on its 128 turn threads (64 MB of its memory at 1,000 msg/s, docs/PERFORMANCE.md "Bridge
// memory"); lent, there are only as many as calls that ever ran at once. The lock is held only
// to pop or push a pointer.
class BucketTablesLease {
public:
    BucketTablesLease() {
        {
            const std::lock_guard lock(mutex());
            if (!free().empty()) {
                tables_ = std::move(free().back());
                free().pop_back();
            }
        }
        if (!tables_) tables_ = std::make_unique<BucketTables>();
    }
    BucketTablesLease(const BucketTablesLease&) = delete;
    BucketTablesLease& operator=(const BucketTablesLease&) = delete;
    ~BucketTablesLease() {
        const std::lock_guard lock(mutex());
        free().push_back(std::move(tables_));
    }
    BucketTables* operator->() const noexcept { return tables_.get(); }

private:
    static std::mutex& mutex() {
        static std::mutex m;
        return m;
    }
    static std::vector<std::unique_ptr<BucketTables>>& free() {
        static std::vector<std::unique_ptr<BucketTables>> f;
        return f;
    }
    std::unique_ptr<BucketTables> tables_;
};

// What one more hit of a bucket seen c times adds: tf(c + 1) - tf(c), and the same for tf^2,
// with tf(0) = 0 and tf(c) = 1 + ln c.
struct TfStep {
    double tf;
    double tf_squared;
};
double tf_of(std::uint32_t c) { return c == 0 ? 0.0 : 1.0 + std::log(static_cast<double>(c)); }
TfStep make_step(std::uint32_t c) {
    const double a = tf_of(c), b = tf_of(c + 1);
    return TfStep{b - a, b * b - a * a};
}
const std::array<TfStep, 64> kTfSteps = [] {
    std::array<TfStep, 64> t{};
    for (std::uint32_t c = 0; c < t.size(); ++c) t[c] = make_step(c);
    return t;
}();
inline TfStep tf_step(std::uint32_t c) { return c < kTfSteps.size() ? kTfSteps[c] : make_step(c); }

struct BucketCount {
    std::uint32_t bucket;
    std::uint32_t count;
};

// The distinct buckets of a block with their counts, in first-seen order. A per-thread slot per
// bucket (2^hash_bits of them) holds the bucket's index in out plus one, and is reset from out
// afterwards, so a call costs a few instructions per hit however large the bucket space.
template <class Hits, class BucketOf>
void count_buckets(const Hits& hits, BucketOf bucket_of, std::vector<BucketCount>& out) {
    const BucketTablesLease tables;
    std::vector<std::uint32_t>& slot = tables->slots;
    out.clear();
    for (const auto& h : hits) {
        const std::uint32_t b = bucket_of(h);
        std::uint32_t& s = slot[b];
        if (s == 0) {
            out.push_back({b, 1});
            s = static_cast<std::uint32_t>(out.size());
        } else {
            ++out[s - 1].count;
        }
    }
    for (const auto& bc : out) slot[bc.bucket] = 0;
}

}  // namespace

Result<LearnedModel> LearnedModel::load(std::string_view bytes) { return load_owned(std::string(bytes)); }

Result<LearnedModel> LearnedModel::load_owned(std::string bytes) {
    auto owner = std::make_shared<const std::string>(std::move(bytes));
    const std::string_view view = *owner;
    return parse(view, std::move(owner));
}

Result<LearnedModel> LearnedModel::parse(std::string_view bytes, std::shared_ptr<const std::string> owner) {
    if (bytes.size() < kMagic.size() + 4 || bytes.substr(0, kMagic.size()) != kMagic) {
        return fail(ErrorCode::parse, "not a Tandem risk model file (bad magic)");
    }
    std::uint32_t header_len = 0;
    for (int i = 3; i >= 0; --i) {
        header_len = (header_len << 8) | static_cast<unsigned char>(bytes[kMagic.size() + static_cast<std::size_t>(i)]);
    }
    const std::size_t header_at = kMagic.size() + 4;
    if (bytes.size() - header_at < header_len) return fail(ErrorCode::parse, "risk model file truncated in its header");
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(bytes.substr(header_at, header_len));
    } catch (const std::exception& e) {
        return fail(ErrorCode::parse, std::string("risk model header is not JSON: ") + e.what());
    }
    const embedded::ParsedSchema& hs = header_schema();
    if (!hs.ok) return fail(ErrorCode::internal, "risk model schema does not load: " + hs.error);
    {
        valijson::Validator validator;
        valijson::ValidationResults results;
        valijson::adapters::NlohmannJsonAdapter adapter(header);
        if (!validator.validate(hs.schema, adapter, &results)) {
            valijson::ValidationResults::Error err, best;
            while (results.popError(err)) {
                if (err.context.size() >= best.context.size()) best = err;
            }
            std::string pointer;
            for (std::size_t i = 1; i < best.context.size(); ++i) pointer += "/" + best.context[i];
            return fail(ErrorCode::schema, "risk model header: " + best.description, pointer.empty() ? "/" : pointer);
        }
    }
    if (header["hash_bits"].get<std::uint32_t>() != risk_model_hash_bits) {
        return fail(ErrorCode::invalid_argument, "risk model hashes into 2^" + std::to_string(header["hash_bits"].get<std::uint32_t>()) +
                                                     " buckets; this build computes 2^" + std::to_string(risk_model_hash_bits));
    }
    const std::string features = std::string(risk_model_feature_set) + "+" + RiskLexicon::builtin().version();
    if (header["feature_set"].get<std::string>() != features) {
        return fail(ErrorCode::invalid_argument, "risk model needs feature set " + header["feature_set"].get<std::string>() +
                                                     "; this build computes " + features);
    }
    LearnedModel m;
    m.version_ = header["name"].get<std::string>() + "@" + header["version"].get<std::string>();
    const int format = header["format"].get<int>();
    if (format < 1 || format > risk_model_format) {
        return fail(ErrorCode::invalid_argument, "risk model file format " + std::to_string(format) +
                                                     " is newer than this build reads (" + std::to_string(risk_model_format) + ")");
    }
    m.tfidf_ = format >= 2;
    const auto& heads = header["heads"];
    m.columns_ = static_cast<std::uint32_t>(heads.size());
    const std::size_t buckets = std::size_t{1} << risk_model_hash_bits;
    const std::size_t table = buckets * m.columns_;
    // Format 2 carries a float32 idf per bucket after the weight table; the checksum covers both.
    const std::size_t idf_bytes = m.tfidf_ ? buckets * sizeof(float) : 0;
    const std::string_view body = bytes.substr(header_at + header_len);
    if (body.size() != table + idf_bytes) {
        return fail(ErrorCode::parse, "risk model weight table has " + std::to_string(body.size()) + " bytes, expected " +
                                          std::to_string(table + idf_bytes) + " (format " + std::to_string(format) + ")");
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv64(body)));
    if (header["weights_fnv1a64"].get<std::string>() != hex) {
        return fail(ErrorCode::parse, "risk model weight table does not match its checksum (corrupt file)");
    }
    m.owned_bytes_ = std::move(owner);
    m.weights_ = std::span(reinterpret_cast<const std::int8_t*>(body.data()), table);
    std::vector<float> idf;
    if (m.tfidf_) {
        idf.resize(buckets);
        for (std::size_t b = 0; b < buckets; ++b) {
            std::uint32_t v = 0;
            for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(body[table + 4 * b + static_cast<std::size_t>(i)]);
            float f = 0;
            std::memcpy(&f, &v, sizeof f);
            if (!std::isfinite(f) || f < 0) return fail(ErrorCode::parse, "risk model idf table holds a value that is not a finite non-negative number");
            idf[b] = f;
        }
    }

    std::optional<std::size_t> flag_col, urgent_col;
    double flag_scale = 0, urgent_scale = 0;
    for (std::size_t c = 0; c < heads.size(); ++c) {
        const auto& h = heads[c];
        const std::string name = h["name"].get<std::string>();
        const double intercept = h["intercept"].get<double>();
        const double scale = h["scale"].get<double>();
        if (name == "flag") {
            flag_col = c;
            m.flag_intercept_ = intercept;
            flag_scale = scale;
        } else if (name == "urgent") {
            urgent_col = c;
            m.urgent_intercept_ = intercept;
            urgent_scale = scale;
        } else if (name == "ai_flag") {
            m.ai_column_ = c;
            m.ai_intercept_ = intercept;
            m.ai_scale_ = scale;
        } else {
            const auto cat = parse_risk_category(name);
            if (!cat) return fail(ErrorCode::schema, "risk model head " + name + " is not a risk category", "/heads/" + std::to_string(c));
            m.categories_.push_back(CategoryHead{*cat, intercept, scale, c});
        }
    }
    if (!flag_col || !urgent_col) return fail(ErrorCode::schema, "risk model needs a flag and an urgent head", "/heads");
    m.flag_threshold_ = header["thresholds"]["flag"].get<double>();
    m.urgent_threshold_ = header["thresholds"]["urgent"].get<double>();
    // A head without its threshold would never be calibrated: refuse rather than guess one.
    if (m.ai_column_.has_value() != header["thresholds"].contains("ai_flag")) {
        return fail(ErrorCode::schema, "risk model: an ai_flag head and thresholds.ai_flag come together", "/thresholds");
    }
    if (m.ai_column_) m.ai_threshold_ = header["thresholds"]["ai_flag"].get<double>();
    // Category families with thresholds of their own (ninth pass): each must name a patient
    // category the file has a head for, or the threshold could never apply.
    m.lowest_ = ModelThresholds{m.flag_threshold_, m.urgent_threshold_};
    if (header["thresholds"].contains("categories")) {
        m.family_thresholds_.assign(m.categories_.size(), std::nullopt);
        for (const auto& [name, t] : header["thresholds"]["categories"].items()) {
            const auto cat = parse_risk_category(name);
            const auto head = std::find_if(m.categories_.begin(), m.categories_.end(),
                                           [&](const CategoryHead& h) { return cat && h.category == *cat; });
            if (!cat || *cat >= RiskCategory::ai_means_information || head == m.categories_.end()) {
                return fail(ErrorCode::schema, "risk model: thresholds.categories." + name + " names no patient category head",
                            "/thresholds/categories/" + name);
            }
            const ModelThresholds own{t["flag"].get<double>(), t["urgent"].get<double>()};
            m.family_thresholds_[static_cast<std::size_t>(head - m.categories_.begin())] = own;
            m.lowest_.flag = std::min(m.lowest_.flag, own.flag);
            m.lowest_.urgent = std::min(m.lowest_.urgent, own.urgent);
        }
    }
    // The two severity heads run on every message: keep them dequantised side by side, so a
    // feature costs one cache line instead of a row of the full table.
    const auto flag_weight = [&](std::size_t b) { return static_cast<double>(m.weights_[b * m.columns_ + *flag_col]) * flag_scale; };
    const auto urgent_weight = [&](std::size_t b) { return static_cast<double>(m.weights_[b * m.columns_ + *urgent_col]) * urgent_scale; };
    if (m.tfidf_) {
        m.tfidf_rows_.resize(buckets);
        for (std::size_t b = 0; b < buckets; ++b) {
            m.tfidf_rows_[b] = TfidfRow{static_cast<float>(flag_weight(b) * idf[b]), static_cast<float>(urgent_weight(b) * idf[b]),
                                        idf[b] * idf[b], idf[b]};
        }
    } else {
        m.severity_.resize(buckets * 2);
        for (std::size_t b = 0; b < buckets; ++b) {
            m.severity_[2 * b] = static_cast<float>(flag_weight(b));
            m.severity_[2 * b + 1] = static_cast<float>(urgent_weight(b));
        }
    }
    return m;
}

Result<LearnedModel> LearnedModel::load_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) return fail(ErrorCode::io, "cannot read risk model file " + path.string());
    const auto size = in.tellg();
    if (size < 0) return fail(ErrorCode::io, "cannot read risk model file " + path.string());
    std::string bytes(static_cast<std::size_t>(size), '\0');
    in.seekg(0);
    if (!in.read(bytes.data(), size)) return fail(ErrorCode::io, "cannot read risk model file " + path.string());
    auto m = load_owned(std::move(bytes));
    if (!m) return std::unexpected(Error{m.error().code, path.filename().string() + ": " + m.error().message, m.error().field});
    return m;
}

Result<LearnedModel> LearnedModel::load_builtin() { return parse(embedded::risk_model(), nullptr); }

ModelScore LearnedModel::score(const ModelFeatures& f) const {
    if (tfidf_) {
        // Format 2: per block, sum over distinct buckets of weight x idf x (1 + ln count),
        // divided by the block's L2 norm. One pass: a bucket's first hit adds tf 1, each repeat
        // the step from tf(c) to tf(c + 1) (and to the squared norm, idf^2 x the step of tf^2),
        // so no list of distinct buckets is built. Each block takes a new generation number, so
        // the counts never need clearing. This is the model's hot path.
        double logit_f = flag_intercept_, logit_u = urgent_intercept_;
        const BucketTablesLease tables;
        const auto block = [&](const auto& hits, auto bucket_of) {
            if (hits.empty()) return;
            const std::uint32_t gen = tables->next_generation();
            double fl = 0, ur = 0, norm2 = 0;
            for (const auto& h : hits) {
                const std::uint32_t b = bucket_of(h);
                const TfidfRow& row = tfidf_rows_[b];
                std::uint32_t& e = tables->counts[b];
                if ((e >> kCountBits) != gen) {  // most hits: a bucket's first, tf 1
                    e = (gen << kCountBits) | 1U;
                    fl += row.flag;
                    ur += row.urgent;
                    norm2 += row.idf_squared;
                    continue;
                }
                const std::uint32_t c = e & kCountMask;
                if (c == kCountMask) continue;  // counts stop at 255, as train_model.py caps them
                ++e;
                const TfStep step = tf_step(c);
                fl += static_cast<double>(row.flag) * step.tf;
                ur += static_cast<double>(row.urgent) * step.tf;
                norm2 += static_cast<double>(row.idf_squared) * step.tf_squared;
            }
            if (norm2 > 0) {
                const double n = std::sqrt(norm2);
                logit_f += fl / n;
                logit_u += ur / n;
            }
        };
        block(f.message, [](const ModelFeatureHit& h) { return h.bucket; });
        block(f.context, [](std::uint32_t b) { return b; });
        return ModelScore{sigmoid(logit_f), sigmoid(logit_u)};
    }
    // Format 1: each block is scaled by 1/sqrt(its number of hits), the training script's normalisation:
    // a long message must not look riskier just for having more n-grams.
    double flag_m = 0, urgent_m = 0, flag_c = 0, urgent_c = 0;
    for (const auto& h : f.message) {
        flag_m += severity_[2 * h.bucket];
        urgent_m += severity_[2 * h.bucket + 1];
    }
    for (std::uint32_t b : f.context) {
        flag_c += severity_[2 * b];
        urgent_c += severity_[2 * b + 1];
    }
    const double nm = f.message.empty() ? 1.0 : std::sqrt(static_cast<double>(f.message.size()));
    const double nc = f.context.empty() ? 1.0 : std::sqrt(static_cast<double>(f.context.size()));
    return ModelScore{sigmoid(flag_intercept_ + flag_m / nm + flag_c / nc),
                      sigmoid(urgent_intercept_ + urgent_m / nm + urgent_c / nc)};
}

double LearnedModel::head_logit(const ModelFeatures& f, std::size_t column, double intercept, double scale) const {
    double m = 0, c = 0;
    for (const auto& h : f.message) m += weights_[h.bucket * columns_ + column];
    for (std::uint32_t b : f.context) c += weights_[b * columns_ + column];
    const double nm = f.message.empty() ? 1.0 : std::sqrt(static_cast<double>(f.message.size()));
    const double nc = f.context.empty() ? 1.0 : std::sqrt(static_cast<double>(f.context.size()));
    return intercept + scale * (m / nm + c / nc);
}

void LearnedModel::weigh(const ModelFeatures& f, WeightedFeatures& w) const {
    thread_local std::vector<BucketCount> counts;
    const auto block = [&](const auto& hits, auto bucket_of, std::vector<Weighted>& out) {
        out.clear();
        count_buckets(hits, bucket_of, counts);
        double norm2 = 0;
        for (const auto& [b, c] : counts) {
            const float v = tfidf_rows_[b].idf * sublinear_tf(c);
            norm2 += static_cast<double>(v) * v;
            out.push_back({b, v});
        }
        if (norm2 > 0) {
            const double n = std::sqrt(norm2);
            for (auto& x : out) x.value = static_cast<float>(x.value / n);
        }
    };
    block(f.message, [](const ModelFeatureHit& h) { return h.bucket; }, w.message);
    block(f.context, [](std::uint32_t b) { return b; }, w.context);
}

double LearnedModel::head_logit(const WeightedFeatures& w, std::size_t column, double intercept, double scale) const {
    double z = 0;
    for (const auto& x : w.message) z += weights_[x.bucket * columns_ + column] * static_cast<double>(x.value);
    for (const auto& x : w.context) z += weights_[x.bucket * columns_ + column] * static_cast<double>(x.value);
    return intercept + scale * z;
}

double LearnedModel::ai_flag(const ModelFeatures& f) const {
    if (!ai_column_) return 0;
    if (tfidf_) {
        thread_local WeightedFeatures w;
        weigh(f, w);
        return sigmoid(head_logit(w, *ai_column_, ai_intercept_, ai_scale_));
    }
    return sigmoid(head_logit(f, *ai_column_, ai_intercept_, ai_scale_));
}

ModelThresholds LearnedModel::patient_thresholds(const ModelFeatures& f, const ModelScore& p) const {
    const ModelThresholds global{flag_threshold_, urgent_threshold_};
    // Below every family's thresholds no family can raise it: skip the category heads (the
    // common case, and the reason the per-family thresholds cost little).
    if (family_thresholds_.empty() || (p.flag < lowest_.flag && p.urgent < lowest_.urgent)) return global;
    std::optional<std::size_t> best;
    double best_logit = 0;
    thread_local WeightedFeatures w;
    if (tfidf_) weigh(f, w);
    for (std::size_t i = 0; i < categories_.size(); ++i) {
        const auto& h = categories_[i];
        if (h.category >= RiskCategory::ai_means_information) continue;
        const double z = tfidf_ ? head_logit(w, h.column, h.intercept, h.scale) : head_logit(f, h.column, h.intercept, h.scale);
        if (!best || z > best_logit) {
            best = i;
            best_logit = z;
        }
    }
    return best && family_thresholds_[*best] ? *family_thresholds_[*best] : global;
}

std::optional<std::pair<RiskCategory, double>> LearnedModel::best_category(const ModelFeatures& f, SpeakerRole role) const {
    std::optional<std::pair<RiskCategory, double>> best;
    thread_local WeightedFeatures w;
    if (tfidf_) weigh(f, w);
    for (const auto& h : categories_) {
        const bool ai_category = h.category >= RiskCategory::ai_means_information;
        if (ai_category != (role == SpeakerRole::ai)) continue;
        const double p = sigmoid(tfidf_ ? head_logit(w, h.column, h.intercept, h.scale) : head_logit(f, h.column, h.intercept, h.scale));
        if (!best || p > best->second) best = std::pair{h.category, p};
    }
    return best;
}

std::vector<std::size_t> LearnedModel::top_contributions(const ModelFeatures& f, bool urgent, std::size_t max) const {
    std::vector<std::pair<float, std::size_t>> scored;
    for (std::size_t i = 0; i < f.message.size(); ++i) {
        const auto& h = f.message[i];
        // Short words ("i", "my", "if") weigh in every first-person disclosure but tell a
        // clinician nothing as evidence.
        if (!h.word_level || h.end - h.begin < 4) continue;
        const float w = severity_weight(h.bucket, urgent);
        if (w > 0) scored.emplace_back(w, i);
    }
    std::sort(scored.begin(), scored.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
    std::vector<std::size_t> out;
    for (const auto& [w, i] : scored) {
        if (out.size() == max) break;
        const auto& h = f.message[i];
        const bool overlaps = std::any_of(out.begin(), out.end(), [&](std::size_t j) {
            return f.message[j].begin < h.end && h.begin < f.message[j].end;
        });
        if (!overlaps) out.push_back(i);
    }
    return out;
}

std::string_view risk_model_schema_text() { return embedded::risk_model_schema(); }

}  // namespace tandem
