#include "tandem/clinician/demo.h"

#include "tandem/clinician/actions.h"

#include <array>
#include <string>

#include <nlohmann/json.hpp>

namespace tandem::clinician {
namespace {

using nlohmann::json;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::array<const char*, 12> kFirst{"Alex", "Jordan", "Sam", "Riley", "Casey", "Morgan",
                                             "Taylor", "Jamie", "Avery", "Quinn", "Rowan", "Skyler"};
constexpr std::array<const char*, 9> kLast{"Rivera", "Okafor", "Lindqvist", "Nakamura", "Brennan",
                                           "Haddad", "Moreau", "Castillo", "Ferreira"};

struct Feed {
    std::vector<StoredEvent> events;
    std::uint64_t seq = 0;

    void add(const std::string& type, TimePoint time, const std::string& patient_id, const std::string& actor_kind,
             const std::string& actor_id, json payload) {
        json e{{"seq", ++seq}, {"id", "demo-ev-" + std::to_string(seq)}, {"type", type}, {"time", format_utc(time)},
               {"actor", {{"kind", actor_kind}}}, {"payload", std::move(payload)}};
        if (!actor_id.empty()) e["actor"]["id"] = actor_id;
        if (!patient_id.empty()) e["patient_id"] = patient_id;
        events.push_back(parse_stored_event(e).value());
    }
};

json risk(const char* severity, const char* category, std::size_t begin, std::size_t end, const char* rule,
          const char* rationale, int cssrs) {
    json r{{"severity", severity},
           {"categories", json::array({category})},
           {"spans", json::array({{{"begin", begin}, {"end", end}, {"rule_id", rule}, {"rationale", rationale}}})},
           {"rationale", rationale},
           {"engine_version", "demo"},
           {"ruleset_version", "demo"}};
    if (cssrs > 0) r["cssrs_level"] = cssrs;
    return r;
}

json message(const std::string& id, const std::string& patient, const char* sender, const std::string& text,
             TimePoint at, const char* state = "delivered") {
    return json{{"id", id}, {"conversation_id", patient + "-c1"}, {"patient_id", patient}, {"sender", sender},
                {"text", text}, {"state", state}, {"created_at", format_utc(at)}};
}

std::size_t find(const std::string& text, const std::string& part) { return text.find(part); }

}  // namespace

ClinicianInfo demo_self() {
    return ClinicianInfo{"demo-ames", "ames", "Dr Demo Ames", {Role::therapist, Role::supervisor}, true};
}

std::vector<StoredEvent> demo_events(TimePoint now, std::size_t patients) {
    patients = std::max<std::size_t>(patients, 8);
    Feed feed;
    const TimePoint start = now - std::chrono::hours{6};
    feed.add("clinic_configured", start, "", "system", "",
             {{"id", "demo-clinic"}, {"name", "Demo Clinic"}, {"timezone", "UTC"},
              {"policy", {{"urgent_sla_minutes", 5}, {"second_escalation_minutes", 15}, {"idle_lock_minutes", 10}}}});
    const std::array<std::pair<const char*, const char*>, 3> therapists{
        {{"demo-ames", "Dr Demo Ames"}, {"demo-berg", "Dr Lena Berg"}, {"demo-cole", "Dr Marcus Cole"}}};
    for (const auto& [id, name] : therapists) {
        feed.add("clinician_added", start, "", "system", "",
                 {{"id", id}, {"clinic_id", "demo-clinic"}, {"username", std::string(id).substr(5)},
                  {"display_name", name},
                  {"roles", std::string(id) == "demo-ames" ? json::array({"therapist", "supervisor"}) : json::array({"therapist"})},
                  {"active", true}});
    }
    for (std::size_t i = 0; i < patients; ++i) {
        const std::string pid = "demo-p" + std::to_string(100 + i);
        const std::string name = std::string(kFirst[i % kFirst.size()]) + " " + kLast[(i * 5 + i / 9) % kLast.size()];
        const char* therapist = therapists[i % 3].first;
        feed.add("patient_registered", start, pid, "system", "",
                 {{"id", pid}, {"clinic_id", "demo-clinic"}, {"display_name", name},
                  {"assigned_therapist_id", therapist}, {"conditions", json::array({i % 2 ? "anxiety" : "depression"})},
                  {"locale", "en-US"}, {"created_at", format_utc(start)}});
        const TimePoint t0 = now - minutes{static_cast<int>(20 + (i * 37) % 300)};
        feed.add("conversation_started", t0, pid, "patient", pid, {{"id", pid + "-c1"}, {"patient_id", pid}});
        feed.add("message_appended", t0, pid, "patient", pid,
                 message(pid + "-m1", pid, "patient", "Hi, I tried the breathing exercise from last week.", t0));
        feed.add("message_appended", t0 + seconds{20}, pid, "ai", "",
                 message(pid + "-m2", pid, "ai",
                         "That's good to hear. How did it feel to try it on a busy day?", t0 + seconds{20}));
    }
    // Risky moments on a few patients: invented lines, kept mild.
    struct Risky {
        std::size_t patient;
        const char* severity;
        const char* category;
        const char* text;
        const char* evidence;
        const char* rule;
        const char* rationale;
        int cssrs;
        int minutes_ago;
        bool acknowledged;
    };
    const std::array<Risky, 6> risky{{
        {0, "imminent", "suicidal_ideation", "I wrote a note tonight and I think I have a plan for it.",
         "I have a plan", "si.plan.demo", "Mentions having a plan (C-SSRS 5)", 5, 2, false},
        {1, "high", "self_harm", "I started cutting again after the argument yesterday.", "started cutting again",
         "sh.recent.demo", "Recent self-harm disclosed", 0, 9, false},
        {2, "high", "eating_disorder", "I fainted at work after not eating for two days.", "fainted",
         "ed.syncope.demo", "Fainting with food restriction", 0, 3, false},
        {3, "moderate", "substance_misuse", "I doubled my sleeping pills to get through the week.",
         "doubled my sleeping pills", "sub.overuse.demo", "Medication taken above the dose", 0, 25, false},
        {4, "moderate", "suicidal_ideation", "Sometimes I wish I could just not wake up.", "wish I could just not wake up",
         "si.wish.demo", "Passive wish to be dead (C-SSRS 1)", 1, 40, true},
        {5, "low", "abuse_disclosed", "My brother shouted at me again, it was scary.", "shouted at me",
         "abuse.verbal.demo", "Verbal aggression at home", 0, 70, false},
    }};
    int serial = 0;
    for (const auto& r : risky) {
        const std::string pid = "demo-p" + std::to_string(100 + r.patient);
        const TimePoint at = now - minutes{r.minutes_ago};
        const std::string mid = pid + "-r" + std::to_string(++serial);
        const std::string text = r.text;
        json m = message(mid, pid, "patient", text, at);
        const auto b = find(text, r.evidence);
        m["risk"] = risk(r.severity, r.category, b, b + std::string(r.evidence).size(), r.rule, r.rationale, r.cssrs);
        feed.add("message_appended", at, pid, "patient", pid, m);
        if (std::string(r.severity) == "low") continue;
        const std::string fid = "demo-f" + std::to_string(serial);
        const bool urgent = std::string(r.severity) == "high" || std::string(r.severity) == "imminent";
        feed.add("flag_opened", at, pid, "system", "",
                 {{"id", fid}, {"patient_id", pid}, {"conversation_id", pid + "-c1"}, {"message_id", mid},
                  {"severity", r.severity}, {"categories", json::array({r.category})}, {"status", "open"},
                  {"opened_at", format_utc(at)}, {"sla_deadline", format_utc(at + minutes{urgent ? 5 : 60})},
                  {"escalation_level", 0}, {"notes", json::array()}});
        if (urgent) {
            feed.add("crisis_entered", at, pid, "system", "", {{"patient_id", pid}});
            const std::string sys = "If you are in danger right now, call or text 988 (Suicide & Crisis Lifeline).";
            feed.add("message_appended", at + seconds{1}, pid, "system", "",
                     message(pid + "-s" + std::to_string(serial), pid, "system", sys, at + seconds{1}));
        }
        if (r.acknowledged) {
            feed.add("flag_acknowledged", at + minutes{3}, pid, "clinician", "demo-berg", {{"flag_id", fid}});
            feed.add("flag_annotated", at + minutes{4}, pid, "clinician", "demo-berg",
                     {{"flag_id", fid}, {"note", "Called patient; safety plan reviewed."}});
        }
    }
    // A held AI reply waiting for review on patient 1.
    {
        const std::string pid = "demo-p101";
        const TimePoint at = now - minutes{8};
        json held = message(pid + "-h1", pid, "ai",
                            "It sounds like the argument really hurt. Maybe just try to push through on your own "
                            "for now.",
                            at, "held");
        held["risk"] = risk("moderate", "ai_discourages_care", 64, 95, "ai.care.demo",
                            "Reply may discourage reaching out for help", 0);
        feed.add("message_appended", at, pid, "ai", "", held);
        feed.add("ai_paused", at + seconds{5}, pid, "clinician", "demo-berg", {{"patient_id", pid}});
    }
    // History for the supervisor's time-to-acknowledge figures: older flags, acknowledged and resolved.
    for (int k = 0; k < 12; ++k) {
        const std::string pid = "demo-p" + std::to_string(100 + 6 + (k % 6));
        const std::string fid = "demo-old" + std::to_string(k);
        const TimePoint at = now - std::chrono::hours{5} + minutes{k * 17};
        feed.add("flag_opened", at, pid, "system", "",
                 {{"id", fid}, {"patient_id", pid}, {"severity", k % 3 == 0 ? "high" : "moderate"},
                  {"categories", json::array({"self_harm"})}, {"status", "open"}, {"opened_at", format_utc(at)},
                  {"sla_deadline", format_utc(at + minutes{5})}, {"escalation_level", 0}});
        const char* who = therapists[static_cast<std::size_t>(k) % 3].first;
        feed.add("flag_acknowledged", at + seconds{60 + k * 25}, pid, "clinician", who, {{"flag_id", fid}});
        feed.add("flag_resolved", at + minutes{20}, pid, "clinician", who,
                 {{"flag_id", fid}, {"resolution", {{"risk_real", k % 4 != 0}, {"note", "Reviewed in session."}}}});
    }
    // One overdue urgent flag that has escalated to the supervisor.
    {
        const std::string pid = "demo-p107";
        const TimePoint at = now - minutes{11};
        const std::string text = "I keep hearing a voice telling me to hurt someone.";
        json m = message(pid + "-r9", pid, "patient", text, at);
        m["risk"] = risk("high", "psychosis", find(text, "hearing a voice"), find(text, "hearing a voice") + 15,
                         "psy.command.demo", "Command hallucination", 0);
        feed.add("message_appended", at, pid, "patient", pid, m);
        feed.add("flag_opened", at, pid, "system", "",
                 {{"id", "demo-f9"}, {"patient_id", pid}, {"message_id", pid + "-r9"}, {"severity", "high"},
                  {"categories", json::array({"psychosis", "harm_to_others"})}, {"status", "open"},
                  {"opened_at", format_utc(at)}, {"sla_deadline", format_utc(at + minutes{5})}});
        feed.add("flag_escalated", at + minutes{5}, pid, "system", "", {{"flag_id", "demo-f9"}, {"escalation_level", 1}});
        feed.add("transcript_viewed", at + minutes{6}, pid, "clinician", "demo-cole", {{"patient_id", pid}});
    }
    return feed.events;
}

std::vector<StoredEvent> demo_live_flag(TimePoint now, std::uint64_t after_seq, int serial) {
    Feed feed;
    feed.seq = after_seq;
    const std::string pid = "demo-p10" + std::to_string(serial % 8);
    const std::string mid = pid + "-live" + std::to_string(serial);
    const std::string text = "I don't see the point anymore, I've been giving my things away.";
    json m = message(mid, pid, "patient", text, now);
    m["risk"] = risk("imminent", "suicidal_behaviour", find(text, "giving my things away"),
                     find(text, "giving my things away") + 21, "sb.prep.demo", "Preparatory behaviour (C-SSRS 6)", 6);
    feed.add("message_appended", now, pid, "patient", pid, m);
    feed.add("flag_opened", now, pid, "system", "",
             {{"id", "demo-live-f" + std::to_string(serial)}, {"patient_id", pid}, {"message_id", mid},
              {"severity", "imminent"}, {"categories", json::array({"suicidal_behaviour"})}, {"status", "open"},
              {"opened_at", format_utc(now)}, {"sla_deadline", format_utc(now + minutes{5})}});
    feed.add("crisis_entered", now, pid, "system", "", {{"patient_id", pid}});
    return feed.events;
}

std::vector<StoredEvent> demo_bridge_events(const Model& model, const ActionRequest& action, TimePoint now) {
    Feed feed;
    feed.seq = model.cursor();
    const json& f = action.fields;
    const std::string self = model.self().id;
    auto field = [&](const char* key) { return f.contains(key) && f[key].is_string() ? f[key].get<std::string>() : std::string{}; };
    auto flag_patient = [&](const std::string& flag_id) {
        const auto* flag = model.flag(flag_id);
        return flag != nullptr ? flag->patient_id : std::string{};
    };
    auto message_patient = [&](const std::string& message_id) {
        const auto* m = model.message(message_id);
        return m != nullptr ? m->patient_id : std::string{};
    };
    const std::string& kind = action.kind;
    if (kind == "flag_acknowledge") {
        feed.add("flag_acknowledged", now, flag_patient(field("flag_id")), "clinician", self, {{"flag_id", field("flag_id")}});
    } else if (kind == "flag_annotate") {
        feed.add("flag_annotated", now, flag_patient(field("flag_id")), "clinician", self,
                 {{"flag_id", field("flag_id")}, {"note", field("note")}});
    } else if (kind == "flag_escalate") {
        feed.add("flag_escalated", now, flag_patient(field("flag_id")), "clinician", self,
                 {{"flag_id", field("flag_id")}, {"note", field("note")}});
    } else if (kind == "flag_resolve") {
        feed.add("flag_resolved", now, flag_patient(field("flag_id")), "clinician", self,
                 {{"flag_id", field("flag_id")}, {"resolution", {{"risk_real", f.value("risk_real", true)}, {"note", field("note")}}}});
    } else if (kind == "held_release" || kind == "held_edit_send" || kind == "held_discard") {
        json payload{{"message_id", field("message_id")}, {"state", kind == "held_discard" ? "withheld" : "delivered"}};
        if (kind == "held_edit_send") payload["text"] = field("text");
        feed.add("message_state_changed", now, message_patient(field("message_id")), "clinician", self, payload);
    } else if (kind == "send_message") {
        const std::string pid = field("patient_id");
        json m = message("demo-sent-" + std::to_string(feed.seq + 1), pid, "clinician", field("text"), now);
        m["sender_id"] = self;
        feed.add("message_appended", now, pid, "clinician", self, m);
    } else if (kind == "ai_pause" || kind == "ai_resume") {
        feed.add(kind == "ai_pause" ? "ai_paused" : "ai_resumed", now, field("patient_id"), "clinician", self,
                 {{"patient_id", field("patient_id")}});
    } else if (kind == "crisis_clear") {
        feed.add("crisis_cleared", now, field("patient_id"), "clinician", self,
                 {{"patient_id", field("patient_id")}, {"note", field("note")}});
    } else if (kind == "patient_reassign") {
        feed.add("patient_assigned", now, field("patient_id"), "clinician", self,
                 {{"patient_id", field("patient_id")}, {"therapist_id", field("therapist_id")}});
    } else if (kind == "report_exported") {
        // The bridge's audit event for an export (docs/BRIDGE.md): a clinician_action, not sent to the patient.
        feed.add("clinician_action", now, field("patient_id"), "clinician", self,
                 {{"action_id", action.action_id}, {"action", "report_exported"}, {"patient_id", field("patient_id")},
                  {"format", field("format")}, {"instruments", f.value("instruments", json::array())},
                  {"assessment_count", f.value("assessment_count", 0)}, {"at", format_utc(now)}});
    }
    return feed.events;
}

}  // namespace tandem::clinician
