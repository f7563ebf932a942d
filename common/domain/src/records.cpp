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
constexpr Names<Instrument, 4> kInstruments{{{Instrument::phq9, "phq9"},
                                             {Instrument::gad7, "gad7"},
                                             {Instrument::cssrs_screener, "cssrs_screener"},
                                             {Instrument::wai_sr, "wai_sr"}}};

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

struct ItemRange {
    std::size_t count;
    int min;
    int max;
};

constexpr ItemRange item_range(Instrument instrument) noexcept {
    switch (instrument) {
        case Instrument::phq9: return {9, 0, 3};
        case Instrument::gad7: return {7, 0, 3};
        case Instrument::cssrs_screener: return {6, 0, 1};
        case Instrument::wai_sr: return {12, 1, 5};
    }
    return {0, 0, 0};
}

// Items in range and of the right count; skipped (null) items are allowed only where the
// instrument's own logic skips questions (the C-SSRS screener).
bool items_complete(Instrument instrument, const std::vector<std::optional<int>>& items) {
    const ItemRange range = item_range(instrument);
    if (items.size() != range.count) return false;
    for (const auto& item : items) {
        if (!item) {
            if (instrument != Instrument::cssrs_screener) return false;
            continue;
        }
        if (*item < range.min || *item > range.max) return false;
    }
    return true;
}

}  // namespace

std::string_view to_string(ResourceKind value) noexcept { return name_in(kResourceKinds, value); }
std::string_view to_string(ClinicianRole value) noexcept { return name_in(kRoles, value); }
std::string_view to_string(Sender value) noexcept { return name_in(kSenders, value); }
std::string_view to_string(MessageState value) noexcept { return name_in(kMessageStates, value); }
std::string_view to_string(FlagStatus value) noexcept { return name_in(kFlagStatuses, value); }
std::string_view to_string(PlanStatus value) noexcept { return name_in(kPlanStatuses, value); }
std::string_view to_string(ProposerKind value) noexcept { return name_in(kProposerKinds, value); }
std::string_view to_string(Instrument value) noexcept { return name_in(kInstruments, value); }

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
    return value_in(kInstruments, name);
}

std::size_t item_count(Instrument instrument) noexcept { return item_range(instrument).count; }

std::optional<int> assessment_score(Instrument instrument,
                                    const std::vector<std::optional<int>>& items) {
    if (!items_complete(instrument, items)) return std::nullopt;
    int total = 0;
    for (const auto& item : items) total += item.value_or(0);
    return total;
}

std::optional<std::string> assessment_band(Instrument instrument,
                                           const std::vector<std::optional<int>>& items) {
    const auto score = assessment_score(instrument, items);
    if (!score) return std::nullopt;
    const int s = *score;
    switch (instrument) {
        case Instrument::phq9:
            // Kroenke, Spitzer & Williams (2001) cut points.
            if (s <= 4) return "minimal";
            if (s <= 9) return "mild";
            if (s <= 14) return "moderate";
            if (s <= 19) return "moderately_severe";
            return "severe";
        case Instrument::gad7:
            // Spitzer et al. (2006) cut points.
            if (s <= 4) return "minimal";
            if (s <= 9) return "mild";
            if (s <= 14) return "moderate";
            return "severe";
        case Instrument::cssrs_screener: {
            // Screener triage: a yes to behaviour (6), intent (4) or plan (5) is high; method
            // (3) is moderate; wish to be dead or thoughts (1, 2) is low.
            auto yes = [&](std::size_t question) { return items[question - 1].value_or(0) == 1; };
            if (yes(4) || yes(5) || yes(6)) return "high";
            if (yes(3)) return "moderate";
            if (yes(1) || yes(2)) return "low";
            return "none";
        }
        case Instrument::wai_sr:
            return std::nullopt;  // the alliance total has no clinical bands
    }
    return std::nullopt;
}

}  // namespace tandem
