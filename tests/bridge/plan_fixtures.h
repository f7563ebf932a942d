#pragma once
// Plan content shared by the plan tests: one complete, valid plan (every content field).

#include <nlohmann/json.hpp>

namespace tandem::test {

/// A valid plan's content fields (no id, version, status or proposer).
inline nlohmann::json sample_plan_content() {
    return nlohmann::json::parse(R"json({
      "presenting_problems": ["low mood since losing their job", "poor sleep"],
      "conditions": ["depression"],
      "goals": [
        {"description": "Walk outside three times a week", "measure": "walks logged per week", "target_date": "2027-01-15"},
        {"description": "Reduce depressive symptoms", "measure": "PHQ-9 below 10", "target_date": "2027-02-01"}
      ],
      "interventions": [
        {"name": "behavioural activation", "how_ai_uses_it": "plan one small activity for a set time and ask how it went"},
        {"name": "cognitive restructuring", "how_ai_uses_it": "weigh the evidence for and against a harsh thought"}
      ],
      "homework": ["a 10-minute walk after breakfast", "one thought record a week"],
      "checkin_cadence": "every 2 to 3 days",
      "assessment_schedule": [{"instrument": "phq9", "week": 0}, {"instrument": "phq9", "week": 4}, {"instrument": "gad7", "week": 8}],
      "safety_plan": {
        "warning_signs": ["staying in bed all day"],
        "internal_coping": ["music", "a shower"],
        "distraction_people_places": ["the library"],
        "people_to_ask": ["sister Jo"],
        "professionals_and_crisis_lines": ["988 Suicide & Crisis Lifeline (call or text 988)"],
        "environment_safety": []
      },
      "ai_guidance": {
        "tone": "warm and encouraging, short replies",
        "avoid_topics": ["the divorce"],
        "escalate_when": ["talk of hopelessness"]
      }
    })json");
}

}  // namespace tandem::test
