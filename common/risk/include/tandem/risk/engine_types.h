#pragma once
// Small value types shared by the engine and its second opinion.

#include <string>

#include "tandem/risk/rule_set.h"

namespace tandem {

/// One earlier turn of the conversation, oldest first in a context span.
struct Turn {
    SpeakerRole role = SpeakerRole::patient;
    std::string text;
};

}  // namespace tandem
