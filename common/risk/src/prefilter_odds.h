#pragma once
// Whether the engine asks the prefilter (RuleSet::may_match) before the scan with start offsets,
// per thread and speaker role, from how often it has said no lately. Private to tandem_risk
// (engine.cpp); the tests read it to check that both paths give the same verdicts.
//
// The prefilter is exact: may_match is false only when the scan finds no risk, question or
// safety-response candidate for the role, so either path gives the same analysis and only the
// cost differs. A "no" saves the scan (about 100k instructions on a 200-character patient turn)
// for the prefilter's 15k to 40k; a "yes" costs the prefilter on top of the scan, and its stop at
// the first candidate saves little, since most of its cost does not depend on where the
// candidate is (callgrind, bench_risk's texts: 34k for a text whose first candidate ends at byte
// 36, 39k for one at byte 6). So it pays while about a quarter or more of a role's turns are
// benign; a stream where nearly every turn has a candidate (a conversation about risk, the
// bench's messages) is scanned directly. The benign share is learned on both paths: unasked, the
// scan's own matches say what the prefilter would have answered.

#include <array>
#include <cstddef>
#include <cstdint>

#include "tandem/risk/rule_set.h"

namespace tandem::detail {

/// The recent share of a role's turns without a candidate, and whether to ask the prefilter.
class PrefilterOdds {
public:
    /// True while at least an eighth of recent turns were benign: well under the quarter where
    /// the prefilter stops paying, so a mixed stream keeps it. Any thread (on its own odds).
    bool ask() const noexcept { return benign_ >= kOne / 8; }

    /// Records one turn: benign when it has no candidate. A moving average over about the last
    /// 16 turns. Any thread (on its own odds).
    void learn(bool benign) noexcept { benign_ = benign_ - benign_ / 16 + (benign ? kOne / 16 : 0); }

    /// This thread's odds for role; a new thread asks the prefilter first. Any thread.
    static PrefilterOdds& of(SpeakerRole role) noexcept {
        thread_local std::array<PrefilterOdds, 3> odds;
        return odds[static_cast<std::size_t>(role) % odds.size()];
    }

private:
    static constexpr std::uint32_t kOne = 1U << 16;
    std::uint32_t benign_ = kOne;
};

}  // namespace tandem::detail
