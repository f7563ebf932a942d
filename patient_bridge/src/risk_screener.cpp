// Adapts tandem_risk's RiskEngine to the pipeline's RiskScreener seam, so the pipeline and its
// tests do not depend on how the engine is built.
#include <memory>

#include "tandem/bridge/patient_service.h"
#include "tandem/risk/engine.h"

namespace tandem::bridge {
namespace {

class RuleEngineScreener final : public RiskScreener {
public:
    explicit RuleEngineScreener(RuleSet rules) : engine_(std::move(rules)) {}
    RiskAssessment screen(std::string_view text, ScreenRole role) override {
        // No conversation context yet: the engine uses it for answers like "yes" to an AI's
        // risk question; passing the window is the next step (docs/BRIDGE.md).
        return engine_.screen(text, role == ScreenRole::patient ? SpeakerRole::patient : SpeakerRole::ai);
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
