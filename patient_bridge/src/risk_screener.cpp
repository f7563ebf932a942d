// Adapts tandem_risk's RiskEngine to the pipeline's RiskScreener seam, so the pipeline and its
// tests do not depend on how the engine is built.
#include <memory>
#include <vector>

#include "tandem/bridge/patient_service.h"
#include "tandem/risk/engine.h"

namespace tandem::bridge {
namespace {

SpeakerRole speaker(ScreenRole role) {
    switch (role) {
        case ScreenRole::patient: return SpeakerRole::patient;
        case ScreenRole::ai: return SpeakerRole::ai;
        case ScreenRole::clinician: return SpeakerRole::clinician;
    }
    return SpeakerRole::patient;
}

class RuleEngineScreener final : public RiskScreener {
public:
    explicit RuleEngineScreener(RuleSet rules) : engine_(std::move(rules)) {}
    RiskAssessment screen(std::string_view text, ScreenRole role, std::span<const ScreenTurn> context) override {
        // A copy into the engine's Turn type per call: at most a few short turns, and it keeps
        // tandem_risk's types out of the pipeline's header (rejected: making ScreenTurn an alias).
        std::vector<Turn> turns;
        turns.reserve(context.size());
        for (const auto& t : context) turns.push_back(Turn{speaker(t.role), t.text});
        return engine_.screen(text, speaker(role), turns);
    }

private:
    RiskEngine engine_;
};

}  // namespace

Result<std::unique_ptr<RiskScreener>> make_rule_engine_screener() {
    auto rules = RuleSet::load_builtin();
    if (!rules) return std::unexpected(rules.error());
    return std::make_unique<RuleEngineScreener>(std::move(*rules));
}

}  // namespace tandem::bridge
