#include "tandem/domain/records.h"

#include <array>
#include <utility>

namespace tandem {
namespace {

template <class E, std::size_t N>
using Names = std::array<std::pair<E, std::string_view>, N>;

constexpr Names<ResourceKind, 4> kResourceKinds{{{ResourceKind::phone, "phone"},
                                                 {ResourceKind::text, "text"},
                                                 {ResourceKind::web, "web"},
                                                 {ResourceKind::emergency, "emergency"}}};
constexpr Names<ClinicianRole, 3> kRoles{{{ClinicianRole::therapist, "therapist"},
                                          {ClinicianRole::supervisor, "supervisor"},
                                          {ClinicianRole::admin, "admin"}}};
constexpr Names<Sender, 4> kSenders{{{Sender::patient, "patient"},
                                     {Sender::ai, "ai"},
                                     {Sender::clinician, "clinician"},
                                     {Sender::system, "system"}}};
constexpr Names<MessageState, 3> kMessageStates{{{MessageState::delivered, "delivered"},
                                                 {MessageState::held, "held"},
                                                 {MessageState::withheld, "withheld"}}};
constexpr Names<FlagStatus, 4> kFlagStatuses{{{FlagStatus::open, "open"},
                                              {FlagStatus::acknowledged, "acknowledged"},
                                              {FlagStatus::escalated, "escalated"},
                                              {FlagStatus::resolved, "resolved"}}};
constexpr Names<PlanStatus, 4> kPlanStatuses{{{PlanStatus::proposed, "proposed"},
                                              {PlanStatus::approved, "approved"},
                                              {PlanStatus::rejected, "rejected"},
                                              {PlanStatus::superseded, "superseded"}}};
constexpr Names<ProposerKind, 2> kProposerKinds{{{ProposerKind::ai, "ai"},
                                                 {ProposerKind::clinician, "clinician"}}};
template <class E, std::size_t N>
std::string_view name_in(const Names<E, N>& table, E value) noexcept {
    for (const auto& [v, name] : table) {
        if (v == value) return name;
    }
    return "unknown";
}

template <class E, std::size_t N>
std::optional<E> value_in(const Names<E, N>& table, std::string_view name) noexcept {
    for (const auto& [v, n] : table) {
        if (n == name) return v;
    }
    return std::nullopt;
}

// The built-ins' item ranges. The definition files in common/measures/instruments/ are the
// source of truth; these few numbers are repeated here because tandem_domain may not depend on
// tandem_measures (it sits below it), and tests/measures checks the two agree.
struct ItemRange {
    std::size_t count;  // scored items
    int min;
    int max;
};

ItemRange item_range(const Instrument& instrument) noexcept {
    if (instrument == Instrument::phq9) return {9, 0, 3};
    if (instrument == Instrument::gad7) return {7, 0, 3};
    if (instrument == Instrument::cssrs_screener) return {6, 0, 1};
    if (instrument == Instrument::wai_sr) return {12, 1, 5};
    return {0, 0, 0};
}

// The highest value of item `index` (0-based): the screener's question 6 also says "yes, more
// than 3 months ago" (2).
int item_max(const Instrument& instrument, std::size_t index) noexcept {
    if (instrument == Instrument::cssrs_screener && index == 5) return 2;
    return item_range(instrument).max;
}

// Scored items present and in range; skipped (null) items are allowed only where the
// instrument's own logic skips questions (the C-SSRS screener). Trailing unscored items (the
// PHQ-9 difficulty question) are not looked at.
bool items_complete(const Instrument& instrument, const std::vector<std::optional<int>>& items) {
    const ItemRange range = item_range(instrument);
    if (range.count == 0 || items.size() < range.count) return false;
    if (items.size() > range.count + (instrument == Instrument::phq9 ? 1 : 0)) return false;
    for (std::size_t i = 0; i < range.count; ++i) {
        const auto& item = items[i];
        if (!item) {
            if (instrument != Instrument::cssrs_screener) return false;
            continue;
        }
        if (*item < range.min || *item > item_max(instrument, i)) return false;
    }
    return true;
}

bool is_id_char(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

}  // namespace

std::string_view to_string(ResourceKind value) noexcept { return name_in(kResourceKinds, value); }
std::string_view to_string(ClinicianRole value) noexcept { return name_in(kRoles, value); }
std::string_view to_string(Sender value) noexcept { return name_in(kSenders, value); }
std::string_view to_string(MessageState value) noexcept { return name_in(kMessageStates, value); }
std::string_view to_string(FlagStatus value) noexcept { return name_in(kFlagStatuses, value); }
std::string_view to_string(PlanStatus value) noexcept { return name_in(kPlanStatuses, value); }
std::string_view to_string(ProposerKind value) noexcept { return name_in(kProposerKinds, value); }
std::string_view to_string(const Instrument& value) noexcept { return value.id(); }

std::optional<Instrument> Instrument::from_id(std::string_view id) noexcept {
    if (id.size() < 2 || id.size() > kMaxId || id[0] < 'a' || id[0] > 'z') return std::nullopt;
    for (const char c : id) {
        if (!is_id_char(c)) return std::nullopt;
    }
    return Instrument(id);
}

bool Instrument::is_builtin() const noexcept {
    return *this == phq9 || *this == gad7 || *this == cssrs_screener || *this == wai_sr;
}

template <>
std::optional<ResourceKind> from_string<ResourceKind>(std::string_view name) noexcept {
    return value_in(kResourceKinds, name);
}
template <>
std::optional<ClinicianRole> from_string<ClinicianRole>(std::string_view name) noexcept {
    return value_in(kRoles, name);
}
template <>
std::optional<Sender> from_string<Sender>(std::string_view name) noexcept {
    return value_in(kSenders, name);
}
template <>
std::optional<MessageState> from_string<MessageState>(std::string_view name) noexcept {
    return value_in(kMessageStates, name);
}
template <>
std::optional<FlagStatus> from_string<FlagStatus>(std::string_view name) noexcept {
    return value_in(kFlagStatuses, name);
}
template <>
std::optional<PlanStatus> from_string<PlanStatus>(std::string_view name) noexcept {
    return value_in(kPlanStatuses, name);
}
template <>
std::optional<ProposerKind> from_string<ProposerKind>(std::string_view name) noexcept {
    return value_in(kProposerKinds, name);
}
template <>
std::optional<Instrument> from_string<Instrument>(std::string_view name) noexcept {
    return Instrument::from_id(name);
}

std::size_t item_count(const Instrument& instrument) noexcept { return item_range(instrument).count; }

std::optional<int> assessment_score(const Instrument& instrument,
                                    const std::vector<std::optional<int>>& items) {
    if (!items_complete(instrument, items)) return std::nullopt;
    const std::size_t count = item_count(instrument);
    int total = 0;
    for (std::size_t i = 0; i < count; ++i) {
        if (instrument == Instrument::cssrs_screener) {
            total += items[i].value_or(0) > 0 ? 1 : 0;  // a count of "yes" answers
        } else {
            total += items[i].value_or(0);
        }
    }
    return total;
}

std::optional<std::string> assessment_band_of_total(const Instrument& instrument, int s) {
    if (instrument == Instrument::phq9) {
        // Kroenke, Spitzer & Williams (2001) cut points.
        if (s < 0 || s > 27) return std::nullopt;
        if (s <= 4) return "minimal";
        if (s <= 9) return "mild";
        if (s <= 14) return "moderate";
        if (s <= 19) return "moderately_severe";
        return "severe";
    }
    if (instrument == Instrument::gad7) {
        // Spitzer et al. (2006) cut points.
        if (s < 0 || s > 21) return std::nullopt;
        if (s <= 4) return "minimal";
        if (s <= 9) return "mild";
        if (s <= 14) return "moderate";
        return "severe";
    }
    return std::nullopt;
}

std::optional<std::string> assessment_band(const Instrument& instrument,
                                           const std::vector<std::optional<int>>& items) {
    const auto score = assessment_score(instrument, items);
    if (!score) return std::nullopt;
    if (instrument == Instrument::cssrs_screener) {
        // Screener triage: intent (4), plan (5) or behaviour within 3 months (6 = 1) is high;
        // method (3) or behaviour longer ago (6 = 2) is moderate; wish or thoughts (1, 2) low.
        auto answer = [&](std::size_t question) { return items[question - 1].value_or(0); };
        if (answer(4) == 1 || answer(5) == 1 || answer(6) == 1) return "high";
        if (answer(3) == 1 || answer(6) == 2) return "moderate";
        if (answer(1) == 1 || answer(2) == 1) return "low";
        return "none";
    }
    return assessment_band_of_total(instrument, *score);  // WAI-SR: no clinical bands
}

}  // namespace tandem
