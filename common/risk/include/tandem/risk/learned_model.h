#pragma once
// The learned half of the risk engine: a linear model over hashed word and character n-grams
// of the normalised text and its context, trained offline (scripts/risk/train_model.py) and
// shipped as a versioned data file (common/risk/model/). The engine uses it only to RAISE a
// verdict the rules left lower; the rules keep giving evidence spans and rationales.

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
#include "tandem/risk/rule_set.h"

namespace tandem {

/// Bits of the feature hash (buckets = 2^bits); a model file must have been trained with it.
inline constexpr std::uint32_t risk_model_hash_bits = 18;
/// Name of the feature extraction below; a model file names the one it was trained with,
/// followed by "+" and the lexicon's name@version.
inline constexpr std::string_view risk_model_feature_set = "tandem-ngram-2";

/// Newest model file format this build reads. 1: int8 weight table, each block's hits scaled by
/// 1/sqrt(hit count). 2 (tenth pass): the table followed by a float32 idf per bucket; each block
/// weighted as TF-IDF (sublinear tf = 1 + ln count, times idf, L2-normalised per block).
inline constexpr int risk_model_format = 2;

/// One occurrence of a hashed feature of the message, with the normalised bytes it covers.
struct ModelFeatureHit {
    std::uint32_t bucket = 0;
    std::uint32_t begin = 0;   ///< normalised byte range of the word(s) it came from
    std::uint32_t end = 0;
    bool word_level = false;   ///< a word or word pair (shown as evidence), not a character n-gram
};

/// The features of one message: its own n-grams, and those of its recent context.
struct ModelFeatures {
    std::size_t words = 0;  ///< words of the message
    std::vector<ModelFeatureHit> message;
    std::vector<std::uint32_t> context;  ///< buckets only: context spans are never reported

    void clear() {
        words = 0;
        message.clear();
        context.clear();
    }
};

/// One word of normalised text as the features see it: a run of letters, digits and non-ASCII
/// bytes, [begin, end) in normalised bytes.
struct ModelToken {
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
};

/// Replaces out with the words of normalised text, in order: found once per message and shared
/// by the message features, the lexicon and the word count. Any thread.
void model_tokens(std::string_view normalised, std::vector<ModelToken>& out);

/// Appends the hashed features of normalised text written by role: word unigrams and bigrams,
/// role-tagged unigrams, character 3-5-grams within words, and the role. Any thread.
void add_message_features(std::string_view normalised, SpeakerRole role, std::vector<ModelFeatureHit>& out);
/// As above, with the text's words from model_tokens (the same features, in the same order).
/// Any thread.
void add_message_features(std::string_view normalised, std::span<const ModelToken> tokens, SpeakerRole role,
                          std::vector<ModelFeatureHit>& out);
/// The model never raises a message shorter than this many words: a short answer ("tonight",
/// "yes") means what its context makes it mean, which the rules' context requirements read.
inline constexpr std::size_t risk_model_min_words = 4;

/// Number of words of normalised text, as the features count them. Any thread.
std::size_t count_words(std::string_view normalised);

/// Appends the hashed features of one context turn (normalised) at distance 1 (the last turn)
/// or 2 from the message: role-tagged word unigrams and bigrams. Any thread.
void add_context_features(std::string_view normalised, SpeakerRole role, int distance, std::vector<std::uint32_t>& out);

/// Clinician-validated risk terms per construct (the Suicide Risk Lexicon, Low et al.;
/// common/risk/model/srl_lexicon.json): a message's matches become one feature per construct,
/// so a construct's learned weight reaches terms no training message used.
class RiskLexicon {
public:
    /// Parses the lexicon JSON and normalises its terms as messages are normalised. Errors:
    /// parse (not JSON, or not the lexicon format). Any thread.
    static Result<RiskLexicon> load(std::string_view json_text);
    /// The lexicon built into the binary, parsed once. Throws std::runtime_error if the embedded
    /// file is broken (a build fault). Any thread.
    static const RiskLexicon& builtin();

    /// "name@version". Any thread.
    const std::string& version() const noexcept { return version_; }
    /// Number of distinct normalised terms. Any thread.
    std::size_t term_count() const noexcept { return terms_.size(); }
    /// Appends one word-level hit per term occurrence in normalised text, per construct the term
    /// belongs to. Any thread.
    void add_features(std::string_view normalised, std::vector<ModelFeatureHit>& out) const;
    /// As above, with the text's words from model_tokens (the same hits, in the same order).
    /// Any thread.
    void add_features(std::string_view normalised, std::span<const ModelToken> tokens, std::vector<ModelFeatureHit>& out) const;

private:
    struct Term {
        std::uint64_t hash;
        std::uint32_t bucket;  // the construct's feature bucket
    };
    // Open-addressing table over word-sequence hashes: each slot says whether the sequence is
    // a term (and where its constructs are in terms_) and whether longer terms start with it,
    // so matching stops extending as soon as no term can follow.
    struct Slot {
        std::uint64_t hash = 0;
        std::uint32_t first = 0;  // index into terms_ of its first construct
        std::uint16_t count = 0;  // constructs of this term (0: only a prefix)
        bool prefix = false;      // some longer term starts with this sequence
        bool used = false;
    };
    RiskLexicon() = default;
    const Slot* find(std::uint64_t hash) const;
    Slot& insert(std::uint64_t hash);
    std::string version_;
    std::vector<Term> terms_;  // sorted by hash; a term in two constructs appears twice
    std::vector<Slot> table_;  // power-of-two size, at most half full
    std::size_t max_words_ = 0;
};

/// What the model says about one message.
struct ModelScore {
    double flag = 0;     ///< probability the message is moderate or above
    double urgent = 0;   ///< probability it is high or above
};

/// A pair of probability thresholds: the model raises to moderate at flag, and reads urgent at
/// urgent (engine.cpp's raise step).
struct ModelThresholds {
    double flag = 1;
    double urgent = 1;
};

/// A loaded, validated model. Immutable: any thread may score with it concurrently.
class LearnedModel {
public:
    /// Parses a model file's bytes: magic, JSON header (schemas/risk_model.schema.json), the
    /// weight table and its checksum. Errors: parse (bad magic, truncated, checksum), schema
    /// (header), invalid_argument (hash bits or feature set this build does not compute). Any thread.
    static Result<LearnedModel> load(std::string_view bytes);
    /// Reads and loads a model file. Errors as load(), or io. Any thread.
    static Result<LearnedModel> load_file(const std::filesystem::path& path);
    /// The model built into the binary (common/risk/model/risk_model.bin). Any thread.
    static Result<LearnedModel> load_builtin();

    /// "name@version" of the model file. Any thread.
    const std::string& version() const noexcept { return version_; }
    /// Probability thresholds chosen by cross-validation on the development data. Any thread.
    double flag_threshold() const noexcept { return flag_threshold_; }
    double urgent_threshold() const noexcept { return urgent_threshold_; }

    /// Scores features from add_message_features/add_context_features. Any thread.
    ModelScore score(const ModelFeatures& features) const;
    /// Whether the file gives some category families thresholds of their own
    /// (thresholds.categories, model files from 2026.11.26-10 on). Any thread.
    bool has_category_thresholds() const noexcept { return !family_thresholds_.empty(); }
    /// The thresholds that apply to a patient message with this score: those of its category
    /// family (the patient category head that scores highest) when the file gives that family
    /// its own, else the global pair. The category heads are only read when the score reaches
    /// some family's threshold, so most messages cost no more than score(). Any thread.
    ModelThresholds patient_thresholds(const ModelFeatures& features, const ModelScore& score) const;
    /// Whether the file has an AI-reply head (model files from 2026.11.26-8 on). Any thread.
    bool has_ai_head() const noexcept { return ai_column_.has_value(); }
    /// Probability that an AI reply is unsafe (moderate or above) by the AI-reply head; 0 when the
    /// file has none. Any thread.
    double ai_flag(const ModelFeatures& features) const;
    /// Threshold of the AI-reply head, chosen out of fold on the written benign AI replies (1 when
    /// the file has no such head). Any thread.
    double ai_flag_threshold() const noexcept { return ai_threshold_; }
    /// The most probable category among those a role's text can have, with its probability;
    /// nullopt when the model has no category head for the role. Any thread.
    std::optional<std::pair<RiskCategory, double>> best_category(const ModelFeatures& features,
                                                                 SpeakerRole role) const;
    /// Indices into features.message of the word-level hits (words, word pairs, lexicon terms;
    /// at least 4 bytes) that push the flag (or urgent) score up most: at most max, strongest
    /// first, none overlapping another. Any thread.
    std::vector<std::size_t> top_contributions(const ModelFeatures& features, bool urgent, std::size_t max) const;

private:
    // The model keeps bytes it was given (load, load_file) and reads the built-in ones in place:
    // parse's bytes must live as long as owner, or for ever when there is no owner.
    static Result<LearnedModel> load_owned(std::string bytes);
    static Result<LearnedModel> parse(std::string_view bytes, std::shared_ptr<const std::string> owner);
    // The flag or urgent weight of a bucket as score() adds it (times its idf in format 2).
    float severity_weight(std::uint32_t bucket, bool urgent) const noexcept {
        if (tfidf_) return urgent ? tfidf_rows_[bucket].urgent : tfidf_rows_[bucket].flag;
        return severity_[2 * bucket + (urgent ? 1 : 0)];
    }

    struct CategoryHead {
        RiskCategory category;
        double intercept = 0;
        double scale = 0;
        std::size_t column = 0;
    };
    // A block's distinct buckets with their TF-IDF value (format 2), L2-normalised.
    struct Weighted {
        std::uint32_t bucket;
        float value;
    };
    struct WeightedFeatures {
        std::vector<Weighted> message, context;
    };
    LearnedModel() = default;
    double head_logit(const ModelFeatures& f, std::size_t column, double intercept, double scale) const;
    double head_logit(const WeightedFeatures& w, std::size_t column, double intercept, double scale) const;
    // Fills w with f's blocks weighted as the file's format says (thread-local scratch inside).
    void weigh(const ModelFeatures& f, WeightedFeatures& w) const;

    std::string version_;
    std::uint32_t columns_ = 0;              // heads per bucket in weights_
    // A model given as bytes (a file, a test) keeps its own copy here; the built-in one reads
    // the binary's embedded bytes in place, so its 2^18-row table is not held twice.
    std::shared_ptr<const std::string> owned_bytes_;
    std::span<const std::int8_t> weights_;   // [bucket][column], quantised
    std::vector<float> severity_;            // format 1: [bucket][2], flag and urgent, dequantised
    bool tfidf_ = false;                     // format 2: TF-IDF weighting, tfidf_rows_ below
    // Format 2's hot path, one 16-byte row per bucket: flag and urgent weight x idf, idf^2, idf.
    struct TfidfRow {
        float flag, urgent, idf_squared, idf;
    };
    std::vector<TfidfRow> tfidf_rows_;
    double flag_intercept_ = 0, urgent_intercept_ = 0;
    double flag_threshold_ = 1, urgent_threshold_ = 1;
    std::vector<CategoryHead> categories_;
    // Per-family thresholds, indexed like categories_ (nullopt: the global pair applies), and
    // the lowest flag / urgent threshold of any family or the global pair.
    std::vector<std::optional<ModelThresholds>> family_thresholds_;
    ModelThresholds lowest_;
    std::optional<std::size_t> ai_column_;  // the AI-reply head's column in weights_
    double ai_intercept_ = 0, ai_scale_ = 0, ai_threshold_ = 1;
};

/// The JSON Schema text of a model file's header (embedded from schemas/risk_model.schema.json).
/// Any thread.
std::string_view risk_model_schema_text();

}  // namespace tandem
