"""Treatment plans end to end against the real tandem-bridge binary (offline companion):
intake turns -> the AI's proposal (plan_proposed) -> the therapist approves it with changes ->
the patient gets the `plan` frame and the next AI message carries the new plan_version."""
import time
import unittest

from harness import Bridge, Patient, schemas
from clinician import Clinician

PASSWORD = "clinician-password-1"


class Plans(unittest.TestCase):
    def setUp(self):
        self.bridge = Bridge(config={"plan_proposal_after_turns": 2})
        b = self.bridge
        self.tara = b.add_clinician("tara", "therapist", PASSWORD)
        b.add_clinician("theo", "therapist", PASSWORD)
        self.alex = b.add_patient("Alex")
        b.assign(self.alex, "tara")
        self.code = b.invite(self.alex)

    def tearDown(self):
        self.bridge.close()

    def ai_reply(self, patient, text):
        patient.send(text)
        return patient.ws.expect("message", timeout=15,
                                 where=lambda f: f["type"] == "message" and f["payload"]["sender"] == "ai")

    def test_intake_proposal_approved_with_changes_steers_the_next_ai_turn(self):
        b = self.bridge
        b.start()
        tara = Clinician(b)
        tara.must_login("tara", PASSWORD)
        tara.subscribe(0)
        alex = Patient(b)
        alex.redeem(self.code)
        first = alex.ws.expect("plan")
        self.assertEqual(first["payload"], {"homework": [], "next_assessments": []})

        self.ai_reply(alex, "I've been feeling flat and unmotivated for weeks.")
        self.ai_reply(alex, "I stopped going to the climbing gym, it feels pointless.")
        proposed = tara.find_or_wait(lambda e: e["type"] == "plan_proposed" and e["patient_id"] == self.alex, 15)
        self.assertEqual(proposed["actor"]["kind"], "ai")
        schemas().check("records/treatment_plan", proposed["payload"])
        self.assertEqual(proposed["payload"]["version"], 1)
        self.assertIn("depression", proposed["payload"]["conditions"])

        # Another therapist may neither read nor decide it.
        theo = Clinician(b)
        theo.must_login("theo", PASSWORD)
        refused = theo.action("plan_decide", plan_id=proposed["payload"]["id"], decision="approve")
        self.assertEqual(refused["error"]["code"], "permission_denied")
        f = theo.answer(theo.ws.send("fetch_plans", {"patient_id": self.alex}), "plans")
        self.assertEqual(f["payload"]["code"], "permission_denied")

        f = tara.answer(tara.ws.send("fetch_plans", {"patient_id": self.alex}), "plans")
        self.assertEqual(f["type"], "plans")
        schemas().check("wire/plans", f["payload"])
        self.assertEqual([p["status"] for p in f["payload"]["plans"]], ["proposed"])

        edited = {k: v for k, v in proposed["payload"].items()
                  if k not in ("id", "patient_id", "version", "status", "proposer", "created_at")}
        edited["goals"][0]["description"] = "Go climbing with my sister once a week"
        edited["ai_guidance"]["tone"] = "brief and direct"
        edited["homework"] = ["book one climbing session this week"]
        result = tara.action("plan_decide", plan_id=proposed["payload"]["id"], decision="approve_with_changes",
                             plan=edited, reason="climbing matters to Alex")
        self.assertTrue(result["ok"], result)
        schemas().check("wire/action_result", result)

        plan = alex.ws.expect("plan", timeout=10)
        self.assertEqual(plan["payload"]["homework"], ["book one climbing session this week"])
        self.assertIn("checkin_cadence", plan["payload"])

        approved = tara.find_or_wait(lambda e: e["type"] == "plan_approved", 10)
        rejected = tara.find_or_wait(lambda e: e["type"] == "plan_rejected", 10)
        self.assertEqual(rejected["payload"]["plan_id"], proposed["payload"]["id"])
        self.assertEqual(rejected["payload"]["reason"], "superseded by version 2 with changes")
        new_version = tara.find_or_wait(lambda e: e["type"] == "plan_proposed" and e["payload"]["version"] == 2, 10)
        self.assertEqual(new_version["payload"]["based_on_version"], 1)
        self.assertEqual(approved["payload"]["plan_id"], new_version["payload"]["id"])

        reply = self.ai_reply(alex, "I went for a short walk today.")
        self.assertIn("From your care plan", reply["payload"]["text"])
        message = tara.find_or_wait(lambda e: e["type"] == "message_appended" and e["payload"]["sender"] == "ai"
                                    and e["payload"]["id"] == reply["payload"]["id"], 10)
        self.assertEqual(message["payload"]["plan_version"], 2)
        self.assertEqual(message["payload"]["plan_id"], new_version["payload"]["id"])

        # A reconnecting patient gets the approved plan right after the session.
        alex.reconnect()
        again = alex.ws.expect("plan")
        self.assertEqual(again["payload"]["homework"], ["book one climbing session this week"])


if __name__ == "__main__":
    unittest.main()
