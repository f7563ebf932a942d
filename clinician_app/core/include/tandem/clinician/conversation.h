#pragma once
// The live conversation of one patient: transcript lines with senders marked, evidence spans to
// highlight (with the rule's rationale for a tooltip), and held AI replies kept apart.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "tandem/clinician/model.h"

namespace tandem::clinician {

struct Highlight {
    std::size_t begin = 0;     ///< byte offsets into the line's UTF-8 text, on character boundaries
    std::size_t end = 0;
    std::size_t cp_begin = 0;  ///< the same range in Unicode code points, for toolkit strings
    std::size_t cp_end = 0;
    std::string rule_id;
    std::string rationale;
};

struct TranscriptLine {
    std::string message_id;
    Sender sender = Sender::patient;
    std::string sender_label;  ///< "Patient", "AI", "Clinician: Dr Ames", "System"
    std::string time_text;     ///< "14:05"
    std::string text;
    MessageState state = MessageState::delivered;
    std::optional<Severity> severity;  ///< present when screened at low or above
    std::string risk_rationale;
    std::vector<Highlight> highlights;
};

/// Cleans evidence spans for display: clamped to the text, widened to whole UTF-8 characters,
/// sorted, overlaps merged (their rationales joined). Any thread.
std::vector<Highlight> highlights_for(const std::string& text, const std::vector<EvidenceSpan>& spans);
/// Builds the line for one message. Any thread.
TranscriptLine line_for(const Model& model, const MessageInfo& message);

/// GUI thread only.
class ConversationPresenter {
public:
    /// Shows this patient's conversation (empty id = none).
    void open(std::string patient_id) { patient_id_ = std::move(patient_id); }
    const std::string& patient_id() const { return patient_id_; }
    /// Delivered and withheld messages in order; held AI replies are not in it.
    std::vector<TranscriptLine> lines(const Model& model) const;
    /// AI replies waiting for Release / Edit and send / Discard, oldest first.
    std::vector<TranscriptLine> held(const Model& model) const;
    /// "Alex Rivera · IN CRISIS · AI paused" for the pane's header.
    std::string header(const Model& model) const;

private:
    std::string patient_id_;
};

/// The evidence of a flag in context: the flagged turn and the turns around it.
struct FlagDetail {
    std::string flag_id;
    std::string patient_name;
    Severity severity = Severity::moderate;
    std::string status_text;       ///< "open", "acknowledged by Dr Ames at 14:07", ...
    std::string categories;
    std::vector<TranscriptLine> context;
    std::size_t evidence_index = 0;  ///< index in context of the flagged turn (== size when unknown)
    std::vector<std::string> notes;  ///< "14:09 Dr Ames: called patient"
};

/// Builds a flag's detail with up to `before` turns before and `after` after. Any thread.
std::optional<FlagDetail> flag_detail(const Model& model, const std::string& flag_id, std::size_t before = 3,
                                      std::size_t after = 2);

}  // namespace tandem::clinician
