#include "tandem/clinician/conversation.h"

#include <algorithm>

#include "tandem/clinician/severity_style.h"

namespace tandem::clinician {
namespace {

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0U) == 0x80U; }

std::size_t code_points_before(const std::string& text, std::size_t byte_offset) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < byte_offset && i < text.size(); ++i) {
        if (!is_continuation(text[i])) ++n;
    }
    return n;
}

std::string sender_label(const Model& model, const MessageInfo& m) {
    switch (m.sender) {
        case Sender::patient: return "Patient";
        case Sender::ai: return "AI";
        case Sender::clinician:
            return m.sender_id.empty() ? "Clinician" : "Clinician: " + model.clinician_name(m.sender_id);
        case Sender::system: return "System";
    }
    return "?";
}

std::string join_categories(const std::vector<RiskCategory>& categories) {
    std::string out;
    for (auto c : categories) {
        if (!out.empty()) out += ", ";
        out += to_string(c);
    }
    return out;
}

}  // namespace

std::vector<Highlight> highlights_for(const std::string& text, const std::vector<EvidenceSpan>& spans) {
    std::vector<Highlight> out;
    for (const auto& s : spans) {
        std::size_t begin = std::min(s.begin, text.size());
        std::size_t end = std::min(s.end, text.size());
        if (begin >= end) continue;
        // Offsets from the engine are bytes; a span cut inside a multi-byte character would
        // split it on screen, so widen to whole characters.
        while (begin > 0 && is_continuation(text[begin])) --begin;
        while (end < text.size() && is_continuation(text[end])) ++end;
        out.push_back(Highlight{begin, end, 0, 0, s.rule_id, s.rationale});
    }
    std::sort(out.begin(), out.end(), [](const Highlight& a, const Highlight& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
    });
    std::vector<Highlight> merged;
    for (auto& h : out) {
        if (!merged.empty() && h.begin < merged.back().end) {
            auto& last = merged.back();
            last.end = std::max(last.end, h.end);
            if (!h.rationale.empty() && last.rationale.find(h.rationale) == std::string::npos) {
                last.rationale += last.rationale.empty() ? h.rationale : "; " + h.rationale;
            }
            if (!h.rule_id.empty() && last.rule_id.find(h.rule_id) == std::string::npos) {
                last.rule_id += last.rule_id.empty() ? h.rule_id : ", " + h.rule_id;
            }
            continue;
        }
        merged.push_back(std::move(h));
    }
    for (auto& h : merged) {
        h.cp_begin = code_points_before(text, h.begin);
        h.cp_end = code_points_before(text, h.end);
    }
    return merged;
}

TranscriptLine line_for(const Model& model, const MessageInfo& m) {
    TranscriptLine line;
    line.message_id = m.id;
    line.sender = m.sender;
    line.sender_label = sender_label(model, m);
    line.time_text = m.created_at == TimePoint{} ? "" : format_clock(m.created_at);
    line.text = m.text;
    line.state = m.state;
    if (m.risk && m.risk->severity >= Severity::low) {
        line.severity = m.risk->severity;
        line.risk_rationale = m.risk->rationale;
        line.highlights = highlights_for(m.text, m.risk->spans);
    }
    return line;
}

std::vector<TranscriptLine> ConversationPresenter::lines(const Model& model) const {
    std::vector<TranscriptLine> out;
    if (patient_id_.empty()) return out;
    for (const auto* m : model.transcript(patient_id_)) {
        if (m->state == MessageState::held) continue;
        out.push_back(line_for(model, *m));
    }
    return out;
}

std::vector<TranscriptLine> ConversationPresenter::held(const Model& model) const {
    std::vector<TranscriptLine> out;
    if (patient_id_.empty()) return out;
    for (const auto* m : model.transcript(patient_id_)) {
        if (m->state == MessageState::held) out.push_back(line_for(model, *m));
    }
    return out;
}

std::string ConversationPresenter::header(const Model& model) const {
    const auto* p = model.patient(patient_id_);
    if (p == nullptr) return "No patient selected";
    std::string s = p->display_name;
    if (p->in_crisis) s += "  \u00b7  \u26a0 IN CRISIS";
    if (p->ai_paused) s += "  \u00b7  AI paused";
    if (!p->assigned_therapist_id.empty()) s += "  \u00b7  therapist " + model.clinician_name(p->assigned_therapist_id);
    return s;
}

std::optional<FlagDetail> flag_detail(const Model& model, const std::string& flag_id, std::size_t before,
                                      std::size_t after) {
    const auto* f = model.flag(flag_id);
    if (f == nullptr) return std::nullopt;
    FlagDetail d;
    d.flag_id = f->id;
    const auto* p = model.patient(f->patient_id);
    d.patient_name = p != nullptr ? p->display_name : f->patient_id;
    d.severity = f->severity;
    d.categories = join_categories(f->categories);
    switch (f->status) {
        case FlagStatus::open: d.status_text = "open"; break;
        case FlagStatus::escalated:
            d.status_text = "escalated (level " + std::to_string(f->escalation_level) + ")";
            break;
        case FlagStatus::acknowledged:
            d.status_text = "acknowledged by " + model.clinician_name(f->acknowledged_by);
            if (f->acknowledged_at) d.status_text += " at " + format_clock(*f->acknowledged_at);
            break;
        case FlagStatus::resolved:
            d.status_text = "resolved";
            if (f->risk_real) d.status_text += *f->risk_real ? " (risk was real)" : " (not a real risk)";
            break;
    }
    for (const auto& n : f->notes) {
        d.notes.push_back(format_clock(n.at) + " " + model.clinician_name(n.clinician_id) + ": " + n.text);
    }
    const auto transcript = model.transcript(f->patient_id);
    const auto it = std::find_if(transcript.begin(), transcript.end(),
                                 [&](const MessageInfo* m) { return m->id == f->message_id; });
    if (it == transcript.end()) {
        // The flagged message is not synced yet (history not fetched): show the latest turns.
        const std::size_t n = std::min(transcript.size(), before + after + 1);
        for (auto j = transcript.end() - static_cast<std::ptrdiff_t>(n); j != transcript.end(); ++j) {
            d.context.push_back(line_for(model, **j));
        }
        d.evidence_index = d.context.size();
        return d;
    }
    const auto index = static_cast<std::size_t>(it - transcript.begin());
    const std::size_t first = index >= before ? index - before : 0;
    const std::size_t last = std::min(transcript.size() - 1, index + after);
    for (std::size_t i = first; i <= last; ++i) d.context.push_back(line_for(model, *transcript[i]));
    d.evidence_index = index - first;
    return d;
}

}  // namespace tandem::clinician
