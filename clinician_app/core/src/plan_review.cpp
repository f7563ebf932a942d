#include "tandem/clinician/plan_review.h"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "tandem/domain/time.h"

namespace tandem::clinician {
namespace {

std::string trimmed(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

bool blank(const std::string& s) { return trimmed(s).empty(); }

ActionRequest make(std::string kind, nlohmann::json fields) {
    return ActionRequest{new_uuid(), std::move(kind), std::move(fields)};
}

std::string indexed(const char* field, std::size_t i, const char* member) {
    return std::string(field) + "[" + std::to_string(i) + "]." + member;
}

// The wire's date is a real calendar date: the domain parser rejects 2026-02-30, which a
// pattern check alone would let through to the bridge's refusal.
bool valid_date(const std::string& s) { return s.size() == 10 && parse_date(s).has_value(); }

std::string short_time(std::optional<TimePoint> t) {
    if (!t || *t == TimePoint{}) return {};
    std::string s = format_utc(*t);  // 2026-11-26T10:00:00.000Z
    return s.substr(0, 10) + " " + s.substr(11, 5);
}

std::string who(const Model& model, const PlanVersion& v) {
    return v.proposed_by_ai ? std::string{"AI"} : model.clinician_name(v.proposer_id);
}

}  // namespace

Result<PlanContent> checked_plan_content(const PlanContent& in) {
    PlanContent out;
    for (auto l : kPlanLists) {
        for (const auto& line : in.list(l)) {
            if (!blank(line)) out.list(l).push_back(trimmed(line));
        }
    }
    for (std::size_t i = 0; i < in.goals.size(); ++i) {
        const auto& g = in.goals[i];
        PlanGoalItem t{trimmed(g.description), trimmed(g.measure), trimmed(g.target_date)};
        if (t.description.empty() && t.measure.empty() && t.target_date.empty()) continue;
        const std::size_t at = out.goals.size();
        if (t.description.empty()) return fail(ErrorCode::invalid_argument, "a goal needs a description", indexed("goals", at, "description"));
        if (t.measure.empty()) return fail(ErrorCode::invalid_argument, "a goal needs a measure", indexed("goals", at, "measure"));
        if (!valid_date(t.target_date)) {
            return fail(ErrorCode::invalid_argument, "a goal's target date is a date like 2026-12-31",
                        indexed("goals", at, "target_date"));
        }
        out.goals.push_back(std::move(t));
    }
    for (const auto& iv : in.interventions) {
        PlanInterventionItem t{trimmed(iv.name), trimmed(iv.how_ai_uses_it)};
        if (t.name.empty() && t.how_ai_uses_it.empty()) continue;
        const std::size_t at = out.interventions.size();
        if (t.name.empty()) return fail(ErrorCode::invalid_argument, "an intervention needs a name", indexed("interventions", at, "name"));
        if (t.how_ai_uses_it.empty()) {
            return fail(ErrorCode::invalid_argument, "say how the AI uses the intervention",
                        indexed("interventions", at, "how_ai_uses_it"));
        }
        out.interventions.push_back(std::move(t));
    }
    for (const auto& a : in.assessment_schedule) {
        PlanAssessmentItem t{trimmed(a.instrument), a.week};
        if (t.instrument.empty()) continue;
        if (t.week < 0 || t.week > 520) {
            return fail(ErrorCode::invalid_argument, "a questionnaire's week is 0 to 520",
                        indexed("assessment_schedule", out.assessment_schedule.size(), "week"));
        }
        out.assessment_schedule.push_back(std::move(t));
    }
    out.checkin_cadence = trimmed(in.checkin_cadence);
    if (out.checkin_cadence.empty()) return fail(ErrorCode::invalid_argument, "the check-in cadence is required", "checkin_cadence");
    out.tone = trimmed(in.tone);
    if (out.tone.empty()) return fail(ErrorCode::invalid_argument, "the AI's tone is required", "ai_guidance.tone");
    return out;
}

namespace actions {

ActionRequest plan_request(const std::string& patient_id) { return make("plan_request", {{"patient_id", patient_id}}); }

Result<ActionRequest> plan_approve(const PlanVersion& proposal) {
    if (proposal.status != PlanState::proposed) {
        return fail(ErrorCode::conflict, "version " + std::to_string(proposal.version) + " is already " +
                                             std::string(to_string(proposal.status)), "plan_id");
    }
    return make("plan_decide", {{"plan_id", proposal.id}, {"decision", "approve"}});
}

Result<ActionRequest> plan_approve_with_changes(const PlanVersion& proposal, const PlanContent& edited,
                                                const std::string& reason) {
    if (proposal.status != PlanState::proposed) {
        return fail(ErrorCode::conflict, "version " + std::to_string(proposal.version) + " is already " +
                                             std::string(to_string(proposal.status)), "plan_id");
    }
    auto content = checked_plan_content(edited);
    if (!content) return std::unexpected(content.error());
    const auto original = checked_plan_content(proposal.content);
    if (original && *original == *content) {
        return fail(ErrorCode::invalid_argument, "nothing was changed: approve the proposal as it is", "plan");
    }
    nlohmann::json fields{{"plan_id", proposal.id}, {"decision", "approve_with_changes"},
                          {"plan", plan_content_json(*content)}};
    if (!blank(reason)) fields["reason"] = trimmed(reason);
    return make("plan_decide", std::move(fields));
}

Result<ActionRequest> plan_reject(const PlanVersion& proposal, const std::string& reason) {
    if (proposal.status != PlanState::proposed) {
        return fail(ErrorCode::conflict, "version " + std::to_string(proposal.version) + " is already " +
                                             std::string(to_string(proposal.status)), "plan_id");
    }
    if (blank(reason)) return fail(ErrorCode::invalid_argument, "a reason is required to reject a proposal", "reason");
    return make("plan_decide", {{"plan_id", proposal.id}, {"decision", "reject"}, {"reason", trimmed(reason)}});
}

Result<ActionRequest> plan_write(const std::string& patient_id, const PlanContent& content, bool approve,
                                 const std::string& reason) {
    auto checked = checked_plan_content(content);
    if (!checked) return std::unexpected(checked.error());
    nlohmann::json fields{{"patient_id", patient_id}, {"plan", plan_content_json(*checked)}, {"approve", approve}};
    if (!blank(reason)) fields["reason"] = trimmed(reason);
    return make("plan_write", std::move(fields));
}

Result<ActionRequest> plan_restore(const PlanVersion& version, const std::string& reason) {
    if (blank(reason)) return fail(ErrorCode::invalid_argument, "a reason is required to restore a version", "reason");
    return make("plan_restore", {{"plan_id", version.id}, {"reason", trimmed(reason)}});
}

}  // namespace actions

void PlanReview::open(const std::string& patient_id) {
    if (patient_id == patient_id_ && loaded_) return;
    patient_id_ = patient_id;
    proposal_id_.clear();
    base_version_ = 0;
    base_ = PlanContent{};
    edited_ = PlanContent{};
    loaded_ = false;
}

bool PlanReview::refresh(const Model& model) {
    const auto& book = model.plans();
    const PlanVersion* waiting = book.awaiting_review(patient_id_);
    const PlanVersion* source = waiting != nullptr ? waiting : book.active(patient_id_);
    const std::string want_proposal = waiting != nullptr ? waiting->id : std::string{};
    if (loaded_) {
        const int source_version = source != nullptr ? source->version : 0;
        if (want_proposal == proposal_id_ && (!proposal_id_.empty() || base_version_ == source_version)) return false;
        // A new proposal (or a decision made elsewhere) replaces the buffer only when nothing was
        // typed: an edit in progress is never lost to a live event; the buttons say what happened.
        if (has_edits()) return false;
    }
    proposal_id_ = want_proposal;
    base_version_ = source != nullptr ? source->version : 0;
    base_ = source != nullptr ? source->content : PlanContent{};
    edited_ = base_;
    loaded_ = true;
    return true;
}

const PlanVersion* PlanReview::proposal(const Model& model) const {
    if (proposal_id_.empty()) return nullptr;
    const PlanVersion* v = model.plans().find(proposal_id_);
    return v != nullptr && v->status == PlanState::proposed ? v : nullptr;
}

const PlanVersion* PlanReview::active(const Model& model) const { return model.plans().active(patient_id_); }

bool PlanReview::has_edits() const {
    const auto a = checked_plan_content(edited_);
    const auto b = checked_plan_content(base_);
    if (a && b) return *a != *b;
    return edited_ != base_;
}

std::vector<PlanDiffRow> PlanReview::rows(const Model& model) const {
    const PlanVersion* a = active(model);
    return diff_plans(a != nullptr ? &a->content : nullptr, edited_);
}

PlanButtons PlanReview::buttons(const Model& model, bool online) const {
    PlanButtons b;
    const auto avail = availability(model, online, patient_id_);
    if (!avail.enabled) {
        b.reason = avail.reason == "Not assigned to you"
                       ? "Only the assigned therapist or a supervisor may decide on this plan"
                       : avail.reason;
        return b;
    }
    b.request = true;
    b.write = true;
    b.restore = true;
    const PlanVersion* p = proposal(model);
    if (p == nullptr) {
        if (!proposal_id_.empty()) {
            const PlanVersion* gone = model.plans().find(proposal_id_);
            b.reason = gone != nullptr ? "Version " + std::to_string(gone->version) + " was " +
                                             std::string(to_string(gone->status)) +
                                             (gone->approver_id.empty() ? "" : " by " + model.clinician_name(gone->approver_id)) +
                                             " meanwhile; your edit can still be written as a new version"
                                       : "The proposal is no longer available";
        } else {
            b.reason = "No proposal is waiting for review";
        }
        return b;
    }
    b.approve = true;
    b.reject = true;
    b.approve_with_changes = has_edits();
    return b;
}

std::string PlanReview::summary(const Model& model) const {
    const PlanVersion* a = active(model);
    const std::string active_text = a != nullptr ? "active plan v" + std::to_string(a->version) +
                                                       " (approved " + short_time(a->decided_at) + ")"
                                                 : "no approved plan yet";
    if (const PlanVersion* p = proposal(model)) {
        return "Proposal v" + std::to_string(p->version) + " by " + who(model, *p) + ", " + short_time(p->created_at) +
               " \u2014 compared with " + active_text;
    }
    if (!proposal_id_.empty()) return "The proposal was decided meanwhile \u2014 compared with " + active_text;
    if (a != nullptr) return "No proposal waiting \u2014 editing a copy of the " + active_text;
    return "No plan yet \u2014 write one, or ask for a proposal";
}

std::vector<PlanHistoryRow> plan_history_rows(const Model& model, const std::string& patient_id) {
    std::vector<PlanHistoryRow> out;
    const auto history = model.plans().history(patient_id);
    const PlanVersion* active = model.plans().active(patient_id);
    for (auto it = history.rbegin(); it != history.rend(); ++it) {
        const PlanVersion& v = **it;
        PlanHistoryRow row;
        row.plan_id = v.id;
        row.version = v.version;
        row.status = std::string(to_string(v.status));
        if (&v == active) row.status += " (active)";
        if (v.status == PlanState::proposed) row.status += ": awaiting review";
        row.proposer = who(model, v);
        row.approver = v.approver_id.empty() ? std::string{} : model.clinician_name(v.approver_id);
        row.reason = v.reason;
        row.created = short_time(v.created_at);
        row.decided = short_time(v.decided_at);
        if (v.based_on_version) row.based_on = "v" + std::to_string(*v.based_on_version);
        out.push_back(std::move(row));
    }
    return out;
}

std::string plan_badge(const Model& model, const std::string& patient_id) {
    const std::size_t n = model.plans().awaiting_count(patient_id);
    if (n == 0) return {};
    return n == 1 ? "\u25cf plan to review" : "\u25cf " + std::to_string(n) + " plans to review";
}

}  // namespace tandem::clinician
