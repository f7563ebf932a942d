"""`tandem-bridge export fhir` against the real binary, checked with the official HL7 FHIR R4 JSON
schema (tests/data/fhir/fhir.schema.json, draft-06) by python3-jsonschema: a real bridge serves a
patient who chats (one crisis message: flag, risk verdict, held replies), a therapist reads the
transcript and acknowledges the flag, then the export runs while the bridge still serves.
Every bundle entry must validate, every reference must resolve inside its bundle, message text
must appear only with --include-transcripts, and an unknown patient must fail and write nothing.
tests/data/fhir/sample_bundle.json (kept equal to the C++ mapping by tests/bridge) covers every
resource kind, plans and questionnaires included, whatever this build's bridge can produce.

Without python3-jsonschema the module is skipped with a message (Debian: python3-jsonschema)."""
import json
import stat
import unittest

from harness import Bridge, Patient, SOURCE_DIR
from clinician import CRISIS_TEXT, Clinician

try:
    import jsonschema
except ImportError:
    jsonschema = None

FHIR_DIR = SOURCE_DIR / "tests" / "data" / "fhir"
PASSWORD = "clinician-password-1"
ORDINARY_TEXT = "my week was long and I kept thinking about the garden"

_schema = None
_validators = {}


def setUpModule():
    global _schema
    if jsonschema is None:
        raise unittest.SkipTest("python3-jsonschema is not installed: FHIR validation skipped "
                                "(apt-get install python3-jsonschema)")
    # 3.3 MB: loaded once for the whole module.
    _schema = json.loads((FHIR_DIR / "fhir.schema.json").read_text())


def resource_errors(resource):
    """Schema errors of one resource against its own R4 definition (empty when valid)."""
    kind = resource.get("resourceType")
    if kind not in _schema["definitions"]:
        return [f"unknown resourceType {kind!r}"]
    if kind not in _validators:
        resolver = jsonschema.RefResolver.from_schema(_schema)
        _validators[kind] = jsonschema.Draft6Validator({"$ref": f"#/definitions/{kind}"}, resolver=resolver)
    return [f"{kind}/{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
            for e in _validators[kind].iter_errors(resource)]


def references(node):
    """Every `reference` string anywhere in node."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "reference" and isinstance(v, str):
                yield v
            else:
                yield from references(v)
    elif isinstance(node, list):
        for v in node:
            yield from references(v)


class BundleChecks:
    """Assertions every bundle must pass."""

    def check_bundle(self, bundle):
        self.assertEqual(bundle["resourceType"], "Bundle")
        self.assertEqual(bundle["type"], "collection")
        self.assertEqual(resource_errors(bundle), [], "the Bundle itself must validate")
        urls = [e["fullUrl"] for e in bundle["entry"]]
        self.assertEqual(len(urls), len(set(urls)), "fullUrls must be unique")
        for e in bundle["entry"]:
            self.assertRegex(e["fullUrl"], r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
            self.assertEqual(e["fullUrl"], "urn:uuid:" + e["resource"]["id"])
            with self.subTest(resource=e["resource"]["resourceType"], id=e["resource"]["id"]):
                self.assertEqual(resource_errors(e["resource"]), [])
        dangling = [r for r in references(bundle) if not r.startswith("#") and r not in urls]
        self.assertEqual(dangling, [], "every reference must resolve inside the bundle")

    @staticmethod
    def kinds(bundle):
        out = {}
        for e in bundle["entry"]:
            out.setdefault(e["resource"]["resourceType"], []).append(e["resource"])
        return out


class SampleBundle(BundleChecks, unittest.TestCase):
    def test_the_sample_bundle_of_every_resource_kind_validates_against_the_r4_schema(self):
        bundle = json.loads((FHIR_DIR / "sample_bundle.json").read_text())
        self.check_bundle(bundle)
        self.assertEqual(set(self.kinds(bundle)),
                         {"Patient", "QuestionnaireResponse", "Observation", "Flag", "RiskAssessment", "CarePlan",
                          "Communication", "AuditEvent", "Practitioner", "Device"})

    def test_the_validator_rejects_a_resource_that_breaks_the_schema(self):
        # Guards against a validator that passes everything (e.g. a schema that failed to load).
        bundle = json.loads((FHIR_DIR / "sample_bundle.json").read_text())
        patient = dict(self.kinds(bundle)["Patient"][0])
        patient["gender"] = "sometimes"
        self.assertNotEqual(resource_errors(patient), [])
        flag = dict(self.kinds(bundle)["Flag"][0])
        flag["status"] = "open"  # a Tandem status, not a FHIR one
        self.assertNotEqual(resource_errors(flag), [])


class ExportFromARunningBridge(BundleChecks, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bridge = b = Bridge()
        try:
            b.add_clinician("tara", "therapist", PASSWORD, name="Tara Ng")
            cls.alex = b.add_patient("Alex")
            cls.sam = b.add_patient("Sam")
            b.assign(cls.alex, "tara")
            code = b.invite(cls.alex)
            b.start()
            alex = Patient(b, check_schemas=False)
            alex.redeem(code)
            alex.send(ORDINARY_TEXT)
            alex.send(CRISIS_TEXT)
            frames = alex.ws.seen + alex.ws.drain(0.5)
            tara = Clinician(b)
            tara.must_login("tara", PASSWORD)
            tara.subscribe(0)
            flag = tara.find_or_wait(lambda e: e["type"] == "flag_opened")
            cls.flag_id = flag["payload"]["id"]
            assert tara.action("flag_acknowledge", flag_id=cls.flag_id)["ok"]
            assert tara.transcript(cls.alex)["type"] == "transcript"
            cls.plan_note = cls.try_plan(tara)
            cls.assessment_note = cls.try_assessment(tara, alex, frames)
            cls.out = b.tmp / "fhir"
            cls.out_text = b.tmp / "fhir-with-text"
            # While the bridge serves: the export opens the store beside it.
            cls.printed = b.run("export", "fhir", "--data-dir", str(b.data_dir), "--patient", cls.alex,
                                "--out", str(cls.out))
            b.run("export", "fhir", "--data-dir", str(b.data_dir), "--all", "--out", str(cls.out_text),
                  "--include-transcripts")
        except Exception:
            b.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.bridge.close()

    @classmethod
    def try_plan(cls, tara):
        """An approved plan through plan_write, when this build's bridge has plan actions."""
        plan = {"presenting_problems": ["low mood"], "conditions": ["depression"],
                "goals": [{"description": "walk three times a week", "measure": "walks logged",
                           "target_date": "2026-12-31"}],
                "interventions": [{"name": "behavioural activation", "how_ai_uses_it": "one small step a day"}],
                "homework": ["activity diary"], "checkin_cadence": "daily",
                "assessment_schedule": [{"instrument": "phq9", "week": 4}],
                "safety_plan": {"warning_signs": ["not sleeping"], "internal_coping": ["music"],
                                "distraction_people_places": [], "people_to_ask": [],
                                "professionals_and_crisis_lines": ["988"], "environment_safety": []},
                "ai_guidance": {"tone": "warm", "avoid_topics": [], "escalate_when": []}}
        try:
            r = tara.action("plan_write", patient_id=cls.alex, plan=plan, approve=True)
        except AssertionError as e:
            return f"plan_write not answered: {e}"
        return None if r.get("ok") else f"plan_write refused: {r.get('error') or r}"

    @classmethod
    def try_assessment(cls, tara, alex, frames):
        """A PHQ-9 answered, when this build's bridge has questionnaires: the one the default
        schedule offers at intake, else one the therapist requests."""
        is_phq9 = lambda f: f["type"] == "questionnaire" and f["payload"]["instrument"].get("id") == "phq9"
        try:
            offered = [f for f in frames if is_phq9(f)]
            if offered:
                q = offered[0]
            else:
                r = tara.action("assessment_request", patient_id=cls.alex, instrument="phq9")
                if not r.get("ok"):
                    return f"assessment_request refused: {r.get('error') or r}"
                q = alex.ws.expect("questionnaire", timeout=10, where=is_phq9)
            alex.ws.send("questionnaire_answers", {"assessment_id": q["payload"]["assessment_id"],
                                                   "items": [1, 1, 2, 0, 1, 0, 1, 0, 0], "final": True})
            alex.ws.expect("questionnaire_result", timeout=10)
        except AssertionError as e:
            return f"questionnaire flow not available: {e}"
        return None

    def bundle(self, out, patient_id):
        return json.loads((out / f"{patient_id}.json").read_text())

    def test_every_exported_resource_validates_and_every_reference_resolves(self):
        for out in (self.out, self.out_text):
            for patient in ((self.alex,) if out == self.out else (self.alex, self.sam)):
                with self.subTest(out=out.name, patient=patient):
                    self.check_bundle(self.bundle(out, patient))

    def test_the_bundle_holds_the_patient_flag_risk_verdict_and_audit_trail(self):
        kinds = self.kinds(self.bundle(self.out, self.alex))
        self.assertEqual(len(kinds["Patient"]), 1)
        self.assertEqual(kinds["Patient"][0]["identifier"][0]["value"], self.alex)
        self.assertEqual([f["status"] for f in kinds["Flag"]], ["active"])  # acknowledged, not resolved
        self.assertIn(kinds["RiskAssessment"][0]["prediction"][0]["qualitativeRisk"]["text"], ("high", "imminent"))
        actions = [a["subtype"][0]["code"] for a in kinds["AuditEvent"]]
        for expected in ("flag_acknowledge", "transcript_viewed", "fhir_export"):
            self.assertIn(expected, actions)
        self.assertNotIn("Communication", kinds)
        self.assertEqual(kinds["Practitioner"][0]["name"][0]["text"], "Tara Ng")

    def test_message_text_is_exported_only_with_include_transcripts(self):
        without = (self.out / f"{self.alex}.json").read_text()
        self.assertNotIn(CRISIS_TEXT, without)
        self.assertNotIn(ORDINARY_TEXT, without)
        with_text = self.bundle(self.out_text, self.alex)
        sent = [c["payload"][0]["contentString"] for c in self.kinds(with_text)["Communication"]]
        self.assertIn(CRISIS_TEXT, sent)
        self.assertIn(ORDINARY_TEXT, sent)

    def test_bundles_are_written_owner_only_and_named_by_patient(self):
        self.assertEqual(sorted(p.name for p in self.out_text.iterdir()), sorted([f"{self.alex}.json", f"{self.sam}.json"]))
        for f in list(self.out.iterdir()) + list(self.out_text.iterdir()):
            self.assertEqual(stat.S_IMODE(f.stat().st_mode), 0o600, f)
        self.assertIn("PHI", self.printed)

    def test_an_unknown_patient_is_refused_and_nothing_is_written(self):
        out = self.bridge.tmp / "fhir-unknown"
        r = self.bridge.run("export", "fhir", "--data-dir", str(self.bridge.data_dir), "--patient", self.alex,
                            "--patient", "no-such-patient", "--out", str(out), check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no such patient: no-such-patient", r.stderr)
        self.assertFalse(out.exists())

    def test_help_says_the_export_contains_phi(self):
        r = self.bridge.run("export", "--help", check=False)
        self.assertEqual(r.returncode, 0)
        self.assertIn("PROTECTED HEALTH INFORMATION", r.stdout)
        r = self.bridge.run("export", "fhir", "--data-dir", str(self.bridge.data_dir), "--out", "x", check=False)
        self.assertEqual(r.returncode, 2, "neither --patient nor --all is a usage error")

    def test_the_chain_still_verifies_after_exports_beside_a_serving_bridge(self):
        self.assertIn("chain ok", self.bridge.run("audit", "verify", "--data-dir", str(self.bridge.data_dir)))

    def test_an_approved_plan_exports_as_an_active_care_plan(self):
        if self.plan_note:
            self.skipTest(f"this build has no plan actions yet ({self.plan_note[:200]})")
        plans = self.kinds(self.bundle(self.out, self.alex)).get("CarePlan", [])
        self.assertEqual([p["status"] for p in plans], ["active"])

    def test_a_scored_phq9_exports_as_a_loinc_coded_observation(self):
        if self.assessment_note:
            self.skipTest(f"this build has no questionnaire flow yet ({self.assessment_note[:200]})")
        kinds = self.kinds(self.bundle(self.out, self.alex))
        obs = kinds["Observation"][0]
        self.assertEqual(obs["code"]["coding"][0], {"system": "http://loinc.org", "code": "44261-6",
                                                    "display": obs["code"]["coding"][0]["display"]})
        self.assertEqual(obs["valueInteger"], 6)
        self.assertEqual(len(kinds["QuestionnaireResponse"][0]["item"]), 9)


if __name__ == "__main__":
    unittest.main()
