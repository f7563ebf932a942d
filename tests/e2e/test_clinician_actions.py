"""Clinician actions, logins and the audit chain against the real tandem-bridge binary:
held AI replies released, edited and discarded; lockout after wrong passwords (kept across a
restart); TOTP logins when the clinic policy requires them; `audit verify` catching a tampered
event in the SQLCipher file."""
import subprocess
import time
import unittest

from harness import Bridge, Patient
from clinician import CRISIS_TEXT, Clinician, totp

PASSWORD = "clinician-password-1"


class ClinicianActions(unittest.TestCase):
    def setUp(self):
        self.bridge = Bridge()
        b = self.bridge
        self.tara = b.add_clinician("tara", "therapist", PASSWORD)
        b.add_clinician("sam", "supervisor", PASSWORD)
        self.alex = b.add_patient("Alex")
        b.assign(self.alex, "tara")
        self.alex_code = b.invite(self.alex)

    def tearDown(self):
        self.bridge.close()

    def held_replies(self, clinician, n):
        """Waits until n AI replies are held for review; returns their message ids, oldest first."""
        held = lambda: [e["payload"]["id"] for e in clinician.events
                        if e["type"] == "message_appended" and e["payload"]["state"] == "held"]
        deadline = time.monotonic() + 15
        while len(held()) < n and time.monotonic() < deadline:
            clinician.drain_events(0.3)
        self.assertGreaterEqual(len(held()), n)
        return held()[:n]

    def test_held_replies_are_released_edited_or_discarded_by_the_therapist(self):
        b = self.bridge
        b.start()
        alex = Patient(b)
        alex.redeem(self.alex_code)
        # In crisis every AI reply is held for the care team; three turns give three held replies.
        alex.send(CRISIS_TEXT)
        alex.send("I do not know what to do")
        alex.send("are you still there")
        tara = Clinician(b)
        tara.must_login("tara", PASSWORD)
        tara.subscribe(0)
        release, edit, discard = self.held_replies(tara, 3)
        alex.ws.drain(0.3)
        held_text = {e["payload"]["id"]: e["payload"]["text"] for e in tara.events if e["type"] == "message_appended"}

        self.assertTrue(tara.action("held_release", message_id=release)["ok"])
        got = alex.ws.expect("message", where=lambda f: f["payload"].get("id") == release)
        self.assertEqual(got["payload"]["text"], held_text[release])

        edited = "This is your care team. We will call you in a few minutes."
        self.assertTrue(tara.action("held_edit_send", message_id=edit, text=edited)["ok"])
        got = alex.ws.expect("message", where=lambda f: f["payload"].get("id") == edit)
        self.assertEqual(got["payload"]["text"], edited)

        self.assertTrue(tara.action("held_discard", message_id=discard, note="not appropriate")["ok"])
        later = alex.ws.drain(0.8)
        self.assertFalse([f for f in later if f["type"] == "message" and f["payload"].get("id") == discard],
                         "a discarded reply must never reach the patient")
        # Bad input tried: a second decision on each reply.
        for kind, mid in [("held_release", discard), ("held_discard", release), ("held_release", edit)]:
            with self.subTest(kind=kind, message=mid):
                r = tara.action(kind, message_id=mid)
                self.assertFalse(r["ok"])
                self.assertEqual(r["error"]["code"], "conflict")
        # The transcript shows the decisions.
        t = tara.transcript(self.alex)["payload"]["messages"]
        states = {m["id"]: (m["state"], m["text"]) for m in t}
        self.assertEqual(states[release][0], "delivered")
        self.assertEqual(states[edit], ("delivered", edited))
        self.assertEqual(states[discard][0], "withheld")

    def test_wrong_passwords_lock_the_account_even_across_a_restart(self):
        b = self.bridge
        b.start()
        c = Clinician(b)
        # Bad input tried: five wrong passwords (the default limit), then the right one.
        for _ in range(5):
            self.assertEqual(c.login("tara", "not the password")["payload"]["code"], "permission_denied")
        locked = c.login("tara", PASSWORD)["payload"]
        self.assertEqual(locked["code"], "locked")
        self.assertGreater(locked["retry_after_seconds"], 0)
        # Another clinician is not affected.
        Clinician(b).must_login("sam", PASSWORD)
        b.restart()  # kill -9: the failures were written to the log
        c = Clinician(b)
        self.assertEqual(c.login("tara", PASSWORD)["payload"]["code"], "locked")

    def test_totp_login_when_the_clinic_policy_requires_it(self):
        b = self.bridge
        out = b.run("clinician", "totp-enroll", "--data-dir", str(b.data_dir), "--username", "tara")
        uri, secret_line = out.splitlines()[-2:]
        self.assertTrue(uri.startswith("otpauth://totp/"), uri)
        self.assertIn("secret=", uri)
        secret = secret_line.split(":")[-1].strip()
        self.assertIn(f"secret={secret}", uri)
        b.start()
        c = Clinician(b)
        self.assertEqual(c.must_login("tara", PASSWORD)["clinic_policy"]["require_totp"], False)
        # The policy changes beside the running bridge and applies to the next login.
        shown = b.run("policy", "set", "--data-dir", str(b.data_dir), "--require-totp", "yes",
                      "--idle-lock-minutes", "7")
        self.assertIn('"require_totp": true', shown)
        c = Clinician(b)
        self.assertEqual(c.login("tara", PASSWORD)["payload"]["code"], "totp_required")
        # Bad input tried: a wrong code.
        code = totp(secret)
        wrong = "000000" if code != "000000" else "111111"
        self.assertEqual(c.login("tara", PASSWORD, wrong)["payload"]["code"], "unauthenticated")
        ok = c.must_login("tara", PASSWORD, code)
        self.assertEqual(ok["clinic_policy"]["idle_lock_minutes"], 7)
        self.assertTrue(ok["clinic_policy"]["require_totp"])
        # Bad input tried: the same code again on another connection (a replay).
        self.assertEqual(Clinician(b).login("tara", PASSWORD, code)["payload"]["code"], "unauthenticated")
        # The secret never reaches a supervisor's feed (sam has no secret: the policy goes back off).
        b.run("policy", "set", "--data-dir", str(b.data_dir), "--require-totp", "no")
        sam = Clinician(b)
        sam.must_login("sam", PASSWORD)
        sam.subscribe(0)
        self.assertTrue(any(e["type"] == "clinic_configured" for e in sam.events))
        for e in sam.events:
            self.assertNotIn("totp_secret", e["payload"])
            self.assertNotIn("password_hash", e["payload"])
        self.assertNotIn(secret, b.log_text())
        show = b.run("policy", "show", "--data-dir", str(b.data_dir))
        self.assertIn('"source": "store"', show)

    def test_audit_verify_detects_a_tampered_event(self):
        b = self.bridge
        b.start()
        tara = Clinician(b)
        tara.must_login("tara", PASSWORD)
        self.assertTrue(tara.action("ai_pause", patient_id=self.alex)["ok"])
        b.stop()
        verify = lambda: b.run("audit", "verify", "--data-dir", str(b.data_dir), check=False)
        r = verify()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("chain ok", r.stdout)
        listed = b.run("audit", "list", "--data-dir", str(b.data_dir), "--clinician", self.tara)
        self.assertIn('"action":"ai_pause"', listed)
        # Bad input tried: someone holding the store key rewrites the patient's name in event 3
        # in place, with the sqlcipher shell.
        key = (b.data_dir / "store.key").read_text().strip()
        sql = (f"PRAGMA key = \"x'{key}'\";\nPRAGMA cipher_page_size = 4096;\n"
               "UPDATE events SET payload = replace(payload, 'Alex', 'Mallory') "
               "WHERE type = 'patient_registered';\nSELECT changes();\n")
        out = subprocess.run(["sqlcipher", str(b.data_dir / "tandem.db")], input=sql, capture_output=True,
                             text=True, timeout=30)
        self.assertIn("1", out.stdout.split(), out.stdout + out.stderr)
        r = verify()
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("BROKEN at seq", r.stdout)


if __name__ == "__main__":
    unittest.main()
