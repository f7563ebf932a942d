"""Questionnaires in the conversation (issue 8) against the real tandem-bridge binary: the
default schedule's intake forms, a therapist's assessment_request, the form answered in two
sittings (saved, reconnected, submitted), the score back to the patient, assessment_scored on the
therapist's feed, and PHQ-9 item 9 opening an urgent flag with the crisis frame. Every frame the
patient receives is checked against schemas/wire with python3-jsonschema."""
import json
import os
import tempfile
import unittest

from harness import Bridge, Patient
from clinician import Clinician

PASSWORD = "clinician-password-1"


class Assessments(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # One bridge for the file: each test uses its own patient, so they do not interfere.
        cls.bridge = Bridge()
        b = cls.bridge
        b.add_clinician("tara", "therapist", PASSWORD)
        b.add_clinician("theo", "therapist", PASSWORD)
        b.start()

    @classmethod
    def tearDownClass(cls):
        cls.bridge.close()

    def new_patient(self, name):
        b = self.bridge
        pid = b.add_patient(name)
        b.assign(pid, "tara")
        p = Patient(b)
        p.redeem(b.invite(pid))
        return pid, p

    def intake_forms(self, patient):
        got = {}
        while len(got) < 2:
            f = patient.ws.expect("questionnaire")
            got[f["payload"]["instrument"]["id"]] = f["payload"]
        return got

    def test_intake_offers_phq9_and_gad7_by_the_default_schedule(self):
        _, alex = self.new_patient("Alex")
        forms = self.intake_forms(alex)
        self.assertEqual(sorted(forms), ["gad7", "phq9"])
        phq = forms["phq9"]
        self.assertEqual(len(phq["instrument"]["items"]), 10)
        self.assertNotIn("scoring", phq["instrument"])
        self.assertEqual(phq["answers"], [])

    def test_requested_form_answered_in_two_sittings_is_scored_and_reaches_the_therapist(self):
        pid, blair = self.new_patient("Blair")
        self.intake_forms(blair)
        tara = Clinician(self.bridge)
        tara.must_login("tara", PASSWORD)
        tara.subscribe(0)
        result = tara.action("assessment_request", patient_id=pid, instrument="wai_sr")
        self.assertTrue(result["ok"], result)
        form = blair.ws.expect("questionnaire", where=lambda f: f["type"] == "questionnaire" and
                               f["payload"]["instrument"]["id"] == "wai_sr")["payload"]
        aid = form["assessment_id"]

        first = [4, 4, 3, 5, 4, 4]
        saved = blair.ws.request("questionnaire_answers", {"assessment_id": aid, "items": first, "final": False},
                                 "questionnaire_saved")
        self.assertEqual(saved["type"], "questionnaire_saved", saved)
        self.assertEqual(saved["payload"]["answered"], 6)

        blair.reconnect()  # the second sitting: the saved answers come back with the form
        again = blair.ws.expect("questionnaire", where=lambda f: f["type"] == "questionnaire" and
                                f["payload"]["assessment_id"] == aid)["payload"]
        self.assertEqual(again["answers"], first)

        bad = blair.ws.request("questionnaire_answers",
                               {"assessment_id": aid, "items": first + [9] * 6, "final": True}, "questionnaire_result")
        self.assertEqual(bad["type"], "error")
        self.assertEqual(bad["payload"]["code"], "invalid_answers")
        self.assertEqual(bad["payload"]["field"], "/payload/items/6")

        items = first + [4, 5, 3, 4, 4, 5]
        res = blair.ws.request("questionnaire_answers", {"assessment_id": aid, "items": items, "final": True},
                               "questionnaire_result")
        self.assertEqual(res["type"], "questionnaire_result", res)
        self.assertEqual(res["payload"]["score"], sum(items))
        self.assertNotIn("trend", res["payload"])  # share_trends_with_patients is off by default

        scored = tara.wait_event(lambda e: e["type"] == "assessment_scored" and e["payload"]["id"] == aid)
        self.assertEqual(scored["payload"]["score"], sum(items))
        self.assertEqual(scored["payload"]["items"], items)
        listing = tara.answer(tara.ws.send("fetch_assessments", {"patient_id": pid}), "assessments")
        self.assertEqual(listing["type"], "assessments")
        status = {a["id"]: a["status"] for a in listing["payload"]["assessments"]}
        self.assertEqual(status[aid], "completed")

        theo = Clinician(self.bridge)
        theo.must_login("theo", PASSWORD)
        refused = theo.action("assessment_request", patient_id=pid, instrument="gad7")
        self.assertFalse(refused["ok"])
        self.assertEqual(refused["error"]["code"], "permission_denied")

    def test_report_export_is_one_audit_event_listed_for_the_patient_and_the_chain_verifies(self):
        """The contract of the app's "Export report": the bridge records the export (what, for
        whom, by whom; never a path) before the app writes the file."""
        pid, _ = self.new_patient("Casey")
        tara = Clinician(self.bridge)
        tara.must_login("tara", PASSWORD)
        ok = tara.action("report_exported", action_id="export-casey", patient_id=pid, format="png",
                         instruments=["phq9", "gad7"], assessment_count=2)
        self.assertTrue(ok["ok"], ok)
        again = tara.action("report_exported", action_id="export-casey", patient_id=pid, format="png",
                            instruments=["phq9", "gad7"], assessment_count=2)
        self.assertEqual(again["seq"], ok["seq"])
        bad = tara.action("report_exported", patient_id=pid, format="svg", instruments=[], assessment_count=0)
        self.assertEqual((bad["ok"], bad["error"]["code"], bad["error"]["field"]), (False, "schema", "/payload/format"))
        theo = Clinician(self.bridge)
        theo.must_login("theo", PASSWORD)
        refused = theo.action("report_exported", patient_id=pid, format="pdf", instruments=[], assessment_count=0)
        self.assertEqual(refused["error"]["code"], "permission_denied")

        b = self.bridge
        listed = [json.loads(line) for line in
                  b.run("audit", "list", "--data-dir", str(b.data_dir), "--patient", pid).splitlines()]
        exports = [e for e in listed if e.get("action") == "report_exported"]
        self.assertEqual(len(exports), 1, listed)
        self.assertEqual(exports[0]["seq"], ok["seq"])
        self.assertEqual(exports[0]["action_id"], "export-casey")
        self.assertEqual((exports[0]["format"], exports[0]["instruments"], exports[0]["assessment_count"]),
                         ("png", ["phq9", "gad7"], 2))
        self.assertIn("chain ok", b.run("audit", "verify", "--data-dir", str(b.data_dir)))

    def test_phq9_item_9_opens_an_urgent_flag_and_sends_the_crisis_resources(self):
        pid, casey = self.new_patient("Casey")
        forms = self.intake_forms(casey)
        aid = forms["phq9"]["assessment_id"]
        tara = Clinician(self.bridge)
        tara.must_login("tara", PASSWORD)
        tara.subscribe(0)
        casey.ws.send("questionnaire_answers",
                      {"assessment_id": aid, "items": [0, 0, 0, 0, 0, 0, 0, 0, 1], "final": True})
        crisis = casey.ws.expect("crisis")
        self.assertTrue(any("988" in r["contact"] for r in crisis["payload"]["resources"]))
        casey.ws.expect("questionnaire_result")
        flag = tara.find_or_wait(lambda e: e["type"] == "flag_opened" and e["payload"].get("assessment_id") == aid)
        self.assertEqual(flag["payload"]["severity"], "high")
        self.assertEqual(flag["patient_id"], pid)


class ClinicInstrument(unittest.TestCase):
    def test_a_clinic_added_instrument_from_instruments_dir_can_be_requested_and_scored(self):
        """A definition file in the config's instruments_dir (here a copy of GAD-7 under a new
        id) is offered and scored like a built-in, without code."""
        here = os.path.dirname(os.path.abspath(__file__))
        with open(os.path.join(here, "..", "..", "common", "measures", "instruments", "gad7.json")) as f:
            definition = json.load(f)
        definition.update({"id": "clinic_worry", "title": "Clinic worry check", "short_title": "Worry"})
        with tempfile.TemporaryDirectory(prefix="tandem-instruments-") as d:
            with open(os.path.join(d, "clinic_worry.json"), "w") as f:
                json.dump(definition, f)
            with Bridge(config={"instruments_dir": d}) as b:
                b.add_clinician("tara", "therapist", PASSWORD)
                pid = b.add_patient("Dana")
                b.assign(pid, "tara")
                b.start()
                dana = Patient(b)
                dana.redeem(b.invite(pid))
                tara = Clinician(b)
                tara.must_login("tara", PASSWORD)
                self.assertTrue(tara.action("assessment_request", patient_id=pid, instrument="clinic_worry")["ok"])
                form = dana.ws.expect("questionnaire", where=lambda f: f["type"] == "questionnaire" and
                                      f["payload"]["instrument"]["id"] == "clinic_worry")["payload"]
                res = dana.ws.request("questionnaire_answers", {"assessment_id": form["assessment_id"],
                                                                "items": [2] * 7, "final": True},
                                      "questionnaire_result")
                self.assertEqual(res["payload"]["score"], 14)
                self.assertEqual(res["payload"]["band"], "moderate")


if __name__ == "__main__":
    unittest.main()
