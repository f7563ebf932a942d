#include <algorithm>
#include <set>

#include "field_path.h"
#include "tandem/domain/records.h"

namespace tandem {
namespace {

using detail::join;
using detail::FieldProblem;

void require(bool ok, const std::string& field, std::string message) {
    if (!ok) detail::problem(ErrorCode::invalid_argument, field, std::move(message));
}

template <class F>
Result<void> guarded(F&& check) {
    try {
        check();
        return {};
    } catch (const FieldProblem& p) {
        return fail(p.code, p.message, p.field);
    }
}

bool blank(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
    });
}

template <class Tag>
void check_id(const Id<Tag>& id, const std::string& field) {
    require(!id.empty(), field, "is required");
}

void check_text(const std::string& text, const std::string& field) {
    require(!blank(text), field, "must not be empty");
}

void check_strings(const std::vector<std::string>& list, const std::string& field) {
    for (std::size_t i = 0; i < list.size(); ++i) check_text(list[i], join(field, i));
}

bool chars_in(std::string_view text, std::string_view extra) {
    return std::all_of(text.begin(), text.end(), [&](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               extra.find(c) != std::string_view::npos;
    });
}

// BCP 47 as we use it: a 2 or 3 letter lowercase language and optional subtags ("en-US").
bool valid_locale(std::string_view tag) {
    std::size_t lang = 0;
    while (lang < tag.size() && tag[lang] >= 'a' && tag[lang] <= 'z') ++lang;
    if (lang < 2 || lang > 3) return false;
    std::size_t pos = lang;
    while (pos < tag.size()) {
        if (tag[pos] != '-') return false;
        const std::size_t start = ++pos;
        while (pos < tag.size() && tag[pos] != '-') ++pos;
        const auto sub = tag.substr(start, pos - start);
        if (sub.size() < 2 || sub.size() > 8 || !chars_in(sub, "")) return false;
    }
    return true;
}

void check_locale(const std::string& tag, const std::string& field) {
    require(valid_locale(tag), field, "must be a language tag like en-US");
}

void check_order(Timestamp earlier, Timestamp later, const std::string& field,
                 std::string_view earlier_name) {
    require(later >= earlier, field, "must not be before " + std::string(earlier_name));
}

template <class E>
void check_unique(const std::vector<E>& list, const std::string& field) {
    std::set<E> seen;
    for (std::size_t i = 0; i < list.size(); ++i) {
        require(seen.insert(list[i]).second, join(field, i), "repeats an earlier entry");
    }
}

void check_risk(const RiskAssessment& r, const std::string& base,
                std::optional<std::size_t> text_size) {
    check_unique(r.categories, join(base, "categories"));
    if (r.cssrs_level) {
        require(*r.cssrs_level >= 0 && *r.cssrs_level <= 6, join(base, "cssrs_level"),
                "must be 0 to 6");
    }
    for (std::size_t i = 0; i < r.spans.size(); ++i) {
        const auto& span = r.spans[i];
        const std::string at = join(join(base, "spans"), i);
        require(span.begin <= span.end, join(at, "end"), "must not be before begin");
        if (text_size) {
            require(span.end <= *text_size, join(at, "end"), "must lie inside the message text");
        }
        check_text(span.rule_id, join(at, "rule_id"));
    }
    check_text(r.engine_version, join(base, "engine_version"));
    check_text(r.ruleset_version, join(base, "ruleset_version"));
}

}  // namespace

Result<void> validate(const RiskAssessment& value) {
    return guarded([&] { check_risk(value, "", std::nullopt); });
}

Result<void> validate(const Clinic& value) {
    return guarded([&] {
        check_id(value.id, "id");
        check_text(value.name, "name");
        require(!value.timezone.empty() && value.timezone.size() <= 64 &&
                    chars_in(value.timezone, "_+-/"),
                "timezone", "must be an IANA time zone name like America/New_York");
        const auto& p = value.policy;
        require(p.urgent_sla_minutes >= 1 && p.urgent_sla_minutes <= 1440,
                "policy.urgent_sla_minutes", "must be 1 to 1440");
        require(p.second_escalation_minutes >= p.urgent_sla_minutes &&
                    p.second_escalation_minutes <= 1440,
                "policy.second_escalation_minutes",
                "must be at least urgent_sla_minutes and at most 1440");
        require(p.idle_lock_minutes >= 1 && p.idle_lock_minutes <= 1440,
                "policy.idle_lock_minutes", "must be 1 to 1440");
        for (const auto& [locale, resources] : p.crisis_resources) {
            const std::string at = join("policy.crisis_resources", locale);
            check_locale(locale, at);
            require(!resources.empty(), at, "must list at least one resource");
            for (std::size_t i = 0; i < resources.size(); ++i) {
                check_text(resources[i].name, join(join(at, i), "name"));
                check_text(resources[i].contact, join(join(at, i), "contact"));
            }
        }
    });
}

Result<void> validate(const Clinician& value) {
    return guarded([&] {
        check_id(value.id, "id");
        check_id(value.clinic_id, "clinic_id");
        require(!value.username.empty() && value.username.size() <= 64 &&
                    chars_in(value.username, "_.@-"),
                "username", "must be 1 to 64 characters from [A-Za-z0-9_.@-]");
        check_text(value.display_name, "display_name");
        require(!value.roles.empty(), "roles", "must hold at least one role");
        check_unique(value.roles, "roles");
    });
}

Result<void> validate(const Patient& value) {
    return guarded([&] {
        check_id(value.id, "id");
        check_id(value.clinic_id, "clinic_id");
        check_text(value.display_name, "display_name");
        if (value.assigned_therapist_id) check_id(*value.assigned_therapist_id, "assigned_therapist_id");
        check_strings(value.conditions, "conditions");
        check_locale(value.locale, "locale");
    });
}

Result<void> validate(const Conversation& value) {
    return guarded([&] {
        check_id(value.id, "id");
        check_id(value.patient_id, "patient_id");
        if (value.ended_at) check_order(value.started_at, *value.ended_at, "ended_at", "started_at");
    });
}

Result<void> validate(const Message& value) {
    return guarded([&] {
        check_id(value.id, "id");
        check_id(value.conversation_id, "conversation_id");
        check_id(value.patient_id, "patient_id");
        if (value.sender_id) {
            require(is_valid_id(*value.sender_id), "sender_id",
                    "must be 1 to 64 characters from [A-Za-z0-9_.-]");
        }
        require(value.sender != Sender::clinician || value.sender_id.has_value(), "sender_id",
                "is required when the sender is a clinician");
        require(!value.text.empty(), "text", "must not be empty");
        if (value.client_msg_id) {
            require(is_valid_id(*value.client_msg_id), "client_msg_id",
                    "must be 1 to 64 characters from [A-Za-z0-9_.-]");
        }
        if (value.plan_version) require(*value.plan_version >= 1, "plan_version", "must be at least 1");
        if (value.plan_id) {
            require(is_valid_id(*value.plan_id), "plan_id", "must be 1 to 64 characters from [A-Za-z0-9_.-]");
        }
        if (value.model) require(!value.model->empty() && value.model->size() <= 200, "model", "must be 1 to 200 bytes");
        if (value.risk) check_risk(*value.risk, "risk", value.text.size());
    });
}

Result<void> validate(const Flag& value) {
    return guarded([&] {
        check_id(value.id, "id");
        check_id(value.patient_id, "patient_id");
        check_unique(value.categories, "categories");
        check_order(value.opened_at, value.sla_deadline, "sla_deadline", "opened_at");
        require(value.escalation_level >= 0 && value.escalation_level <= 2, "escalation_level",
                "must be 0 to 2");
        require(value.status != FlagStatus::escalated || value.escalation_level >= 1,
                "escalation_level", "must be at least 1 when the flag is escalated");
        for (std::size_t i = 0; i < value.notes.size(); ++i) {
            const std::string at = join("notes", i);
            check_id(value.notes[i].clinician_id, join(at, "clinician_id"));
            check_text(value.notes[i].text, join(at, "text"));
            check_order(value.opened_at, value.notes[i].at, join(at, "at"), "opened_at");
        }
        require(value.acknowledged_by.has_value() == value.acknowledged_at.has_value(),
                value.acknowledged_by ? "acknowledged_at" : "acknowledged_by",
                "acknowledged_by and acknowledged_at go together");
        require(value.status != FlagStatus::acknowledged || value.acknowledged_by.has_value(),
                "acknowledged_by", "is required when the flag is acknowledged");
        if (value.acknowledged_at) {
            check_order(value.opened_at, *value.acknowledged_at, "acknowledged_at", "opened_at");
        }
        const bool resolved = value.status == FlagStatus::resolved;
        require(resolved == value.resolution.has_value(), "resolution",
                resolved ? "is required when the flag is resolved"
                         : "is allowed only when the flag is resolved");
        require(resolved == value.resolved_by.has_value(), "resolved_by",
                resolved ? "is required when the flag is resolved"
                         : "is allowed only when the flag is resolved");
        require(resolved == value.resolved_at.has_value(), "resolved_at",
                resolved ? "is required when the flag is resolved"
                         : "is allowed only when the flag is resolved");
        if (value.resolved_at) check_order(value.opened_at, *value.resolved_at, "resolved_at", "opened_at");
    });
}

Result<void> validate(const TreatmentPlan& value) {
    return guarded([&] {
        check_id(value.id, "id");
        check_id(value.patient_id, "patient_id");
        require(value.version >= 1, "version", "must be at least 1");
        if (value.proposer.kind == ProposerKind::clinician) {
            require(value.proposer.clinician_id.has_value(), "proposer.clinician_id",
                    "is required when a clinician proposes");
        } else {
            require(!value.proposer.clinician_id.has_value(), "proposer.clinician_id",
                    "is allowed only when a clinician proposes");
        }
        const bool decided =
            value.status == PlanStatus::approved || value.status == PlanStatus::rejected;
        if (decided) {
            require(value.approver_id.has_value(), "approver_id",
                    "is required once the plan is approved or rejected");
            require(value.decided_at.has_value(), "decided_at",
                    "is required once the plan is approved or rejected");
        }
        if (value.status == PlanStatus::proposed) {
            require(!value.approver_id.has_value(), "approver_id",
                    "is allowed only once the plan is decided");
        }
        if (value.decided_at) check_order(value.created_at, *value.decided_at, "decided_at", "created_at");
        check_strings(value.presenting_problems, "presenting_problems");
        check_strings(value.conditions, "conditions");
        for (std::size_t i = 0; i < value.goals.size(); ++i) {
            const std::string at = join("goals", i);
            check_text(value.goals[i].description, join(at, "description"));
            check_text(value.goals[i].measure, join(at, "measure"));
            require(value.goals[i].target_date.ok(), join(at, "target_date"), "must be a real date");
        }
        for (std::size_t i = 0; i < value.interventions.size(); ++i) {
            const std::string at = join("interventions", i);
            check_text(value.interventions[i].name, join(at, "name"));
            check_text(value.interventions[i].how_ai_uses_it, join(at, "how_ai_uses_it"));
        }
        check_strings(value.homework, "homework");
        check_text(value.checkin_cadence, "checkin_cadence");
        for (std::size_t i = 0; i < value.assessment_schedule.size(); ++i) {
            require(value.assessment_schedule[i].week >= 0 && value.assessment_schedule[i].week <= 520,
                    join(join("assessment_schedule", i), "week"), "must be 0 to 520");
        }
        const auto& sp = value.safety_plan;
        check_strings(sp.warning_signs, "safety_plan.warning_signs");
        check_strings(sp.internal_coping, "safety_plan.internal_coping");
        check_strings(sp.distraction_people_places, "safety_plan.distraction_people_places");
        check_strings(sp.people_to_ask, "safety_plan.people_to_ask");
        check_strings(sp.professionals_and_crisis_lines, "safety_plan.professionals_and_crisis_lines");
        check_strings(sp.environment_safety, "safety_plan.environment_safety");
        check_text(value.ai_guidance.tone, "ai_guidance.tone");
        check_strings(value.ai_guidance.avoid_topics, "ai_guidance.avoid_topics");
        check_strings(value.ai_guidance.escalate_when, "ai_guidance.escalate_when");
    });
}

Result<void> validate(const Assessment& value) {
    return guarded([&] {
        check_id(value.id, "id");
        check_id(value.patient_id, "patient_id");
        const std::size_t count = item_count(value.instrument);
        const std::string name(to_string(value.instrument));
        // Null items are allowed everywhere: a skipped screener question, a missing item of a
        // prorated form or a paused one. Whether a gap may be scored is the definition's rule
        // (tandem::check_assessment); here only what holds for every form is checked.
        if (value.instrument.is_builtin()) {
            const bool with_difficulty = value.instrument == Instrument::phq9;
            require(value.items.size() == count || (with_difficulty && value.items.size() == count + 1),
                    "items", "must hold " + std::to_string(count) + " answers for " + name);
        } else {
            require(!value.items.empty() && value.items.size() <= 200, "items",
                    "must hold 1 to 200 answers for " + name);
        }
        const int lo = value.instrument == Instrument::wai_sr ? 1 : 0;
        for (std::size_t i = 0; i < value.items.size(); ++i) {
            const auto& item = value.items[i];
            if (!item) continue;
            int hi = 100;
            if (value.instrument == Instrument::phq9 || value.instrument == Instrument::gad7) hi = 3;
            if (value.instrument == Instrument::wai_sr) hi = 5;
            if (value.instrument == Instrument::cssrs_screener) hi = i == 5 ? 2 : 1;
            require(*item >= lo && *item <= hi, join("items", i),
                    "must be " + std::to_string(lo) + " to " + std::to_string(hi));
        }
        const auto exact = assessment_score(value.instrument, value.items);
        if (value.score) {
            require(*value.score >= 0, "score", "must not be negative");
            if (exact) {
                require(value.score == exact, "score", "does not match the items");
            } else if (value.instrument.is_builtin()) {
                // A prorated total: it can be no more than the instrument's maximum.
                const int most = value.instrument == Instrument::cssrs_screener
                                     ? 6
                                     : static_cast<int>(count) * (value.instrument == Instrument::wai_sr ? 5 : 3);
                require(*value.score <= most, "score", "is above the instrument's maximum");
            }
        }
        if (value.band) {
            require(value.score.has_value(), "band", "needs a score");
            if (exact) {
                require(value.band == assessment_band(value.instrument, value.items), "band",
                        "does not match the items");
            } else if (value.instrument == Instrument::phq9 || value.instrument == Instrument::gad7) {
                require(value.band == assessment_band_of_total(value.instrument, *value.score), "band",
                        "does not match the score");
            } else {
                require(!value.band->empty() && value.band->size() <= 64 && chars_in(*value.band, "_"),
                        "band", "must be a snake_case label");
            }
        }
        if (value.completed_at) {
            check_order(value.administered_at, *value.completed_at, "completed_at", "administered_at");
        }
        if (value.conversation_id) check_id(*value.conversation_id, "conversation_id");
        if (value.requested_by) {
            require(!value.requested_by->empty() && value.requested_by->size() <= 64 &&
                        chars_in(*value.requested_by, "_.-"),
                    "requested_by", "must be \"schedule\" or a clinician id");
        }
    });
}

Result<void> validate(const AuditEvent& value) {
    return guarded([&] {
        check_id(value.id, "id");
        check_id(value.clinician_id, "clinician_id");
        require(!value.action.empty() && value.action.size() <= 64 &&
                    value.action.front() >= 'a' && value.action.front() <= 'z' &&
                    std::all_of(value.action.begin(), value.action.end(), [](char c) {
                        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                    }),
                "action", "must be a snake_case verb like transcript_viewed");
        if (value.patient_id) check_id(*value.patient_id, "patient_id");
        if (value.target_id) {
            require(is_valid_id(*value.target_id), "target_id",
                    "must be 1 to 64 characters from [A-Za-z0-9_.-]");
        }
    });
}

}  // namespace tandem
