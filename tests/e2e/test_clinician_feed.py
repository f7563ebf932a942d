"""The clinician feed and access rules against the real tandem-bridge binary (python3-websockets
clients): backlog then live with no gap or duplicate across a reconnect and a bridge restart,
and a therapist who can neither read nor act on a patient not assigned to them."""
import unittest

from harness import Bridge, Patient
from clinician import CRISIS_TEXT, Clinician

PASSWORD = "clinician-password-1"


def contiguous(seqs):
    return seqs == list(range(1, len(seqs) + 1))


class ClinicianFeed(unittest.TestCase):
    def setUp(self):
        self.bridge = Bridge()  # offline companion: no LLM process needed
        b = self.bridge
        self.tara = b.add_clinician("tara", "therapist", PASSWORD)
        self.theo = b.add_clinician("theo", "therapist", PASSWORD)
        b.add_clinician("sam", "supervisor", PASSWORD)
        self.alex = b.add_patient("Alex")
        self.blair = b.add_patient("Blair")
        b.assign(self.alex, "tara")
        b.assign(self.blair, "theo")
        self.alex_code = b.invite(self.alex)
        self.blair_code = b.invite(self.blair)
        b.start()

    def tearDown(self):
        self.bridge.close()

    def test_backlog_then_live_without_gap_or_duplicate_across_reconnect_and_restart(self):
        self.backlog_then_live(batch=False)

    def test_batched_feed_frames_bring_the_same_events_without_gap_or_duplicate(self):
        # subscribe {batch: true}: `events` frames (checked against schemas/wire), same rules.
        self.backlog_then_live(batch=True)

    def backlog_then_live(self, batch):
        b = self.bridge
        alex = Patient(b)
        alex.redeem(self.alex_code)
        alex.send("I have been sleeping badly")
        sam = Clinician(b, batch=batch, check_schemas=batch)
        sam.must_login("sam", PASSWORD)
        caught_up = sam.subscribe(0)
        self.assertGreater(len(sam.events), 5)
        self.assertEqual(caught_up["head_seq"], sam.events[-1]["seq"])
        # Live: a new message arrives without asking.
        alex.send("work was long today")
        sam.wait_event(lambda e: e["type"] == "message_appended" and e["payload"]["text"] == "work was long today")
        sam.drain_events()
        cursor = sam.events[-1]["seq"]

        # The clinician's connection drops; the patient carries on; a new connection resumes
        # the session and the feed from the cursor.
        token = sam.token
        sam.ws.close()
        alex.send("are you there")
        self.assertEqual(sam.resume(token)["type"], "login_ok")
        sam.subscribe(cursor)
        sam.drain_events()
        cursor = sam.events[-1]["seq"]

        # The bridge restarts (kill -9); the session token and the cursor still work.
        b.restart()
        alex.reconnect()
        alex.send("back again after the restart")
        self.assertEqual(sam.resume(token)["type"], "login_ok")
        sam.subscribe(cursor)
        sam.find_or_wait(lambda e: e["type"] == "message_appended" and
                         e["payload"]["text"] == "back again after the restart")
        sam.drain_events()
        seqs = [e["seq"] for e in sam.events]
        # A supervisor sees every event: the seqs seen must be exactly 1..N in order.
        self.assertTrue(contiguous(seqs), f"gap or duplicate in {seqs}")
        texts = [e["payload"].get("text") for e in sam.events if e["type"] == "message_appended"]
        for t in ["I have been sleeping badly", "work was long today", "are you there",
                  "back again after the restart"]:
            self.assertEqual(texts.count(t), 1, t)

    def test_therapist_can_neither_read_nor_act_on_an_unassigned_patient(self):
        b = self.bridge
        alex = Patient(b)
        alex.redeem(self.alex_code)
        alex.send(CRISIS_TEXT)  # Alex (tara's) now has an urgent flag and, once the AI answers, a held reply
        blair = Patient(b)
        blair.redeem(self.blair_code)
        blair.send("work is stressful")
        sam = Clinician(b)
        sam.must_login("sam", PASSWORD)
        sam.subscribe(0)
        flag = next(e for e in sam.events if e["type"] == "flag_opened" and e["patient_id"] == self.alex)
        held = sam.find_or_wait(lambda e: e["type"] == "message_appended" and e["payload"]["state"] == "held")
        flag_id, held_id = flag["payload"]["id"], held["payload"]["id"]

        theo = Clinician(b)
        theo.must_login("theo", PASSWORD)
        theo.subscribe(0)
        seen_patients = {e.get("patient_id") for e in theo.events} - {None}
        self.assertEqual(seen_patients, {self.blair}, "theo's feed holds only his own patient's events")
        # Bad input tried: every action kind aimed at Alex's flag, held reply or record.
        attempts = [
            ("flag_acknowledge", {"flag_id": flag_id}),
            ("flag_annotate", {"flag_id": flag_id, "note": "n"}),
            ("flag_escalate", {"flag_id": flag_id}),
            ("flag_resolve", {"flag_id": flag_id, "risk_real": False, "note": "n"}),
            ("held_release", {"message_id": held_id}),
            ("held_edit_send", {"message_id": held_id, "text": "t"}),
            ("held_discard", {"message_id": held_id}),
            ("send_message", {"patient_id": self.alex, "text": "t"}),
            ("ai_pause", {"patient_id": self.alex}),
            ("ai_resume", {"patient_id": self.alex}),
            ("crisis_clear", {"patient_id": self.alex, "note": "n"}),
            ("patient_reassign", {"patient_id": self.alex, "therapist_id": self.theo}),
        ]
        for kind, fields in attempts:
            with self.subTest(kind=kind):
                r = theo.action(kind, **fields)
                self.assertFalse(r["ok"])
                self.assertEqual(r["error"]["code"], "permission_denied")
        # Bad input tried: reading Alex's transcript.
        t = theo.transcript(self.alex)
        self.assertEqual(t["type"], "error")
        self.assertEqual(t["payload"]["code"], "permission_denied")
        # Nothing theo tried reached the log, and nothing of Alex's reached his feed since.
        sam.drain_events()
        theo.drain_events()
        self.assertFalse([e for e in sam.events if e["actor"].get("id") == self.theo and
                          e["type"] not in ("clinician_action",)])
        self.assertFalse([e for e in theo.events if e.get("patient_id") == self.alex])
        # Tara, whose patient it is, may.
        tara = Clinician(b)
        tara.must_login("tara", PASSWORD)
        self.assertTrue(tara.action("flag_acknowledge", flag_id=flag_id)["ok"])
        self.assertEqual(tara.transcript(self.alex)["type"], "transcript")


class SlowClinician(unittest.TestCase):
    """A send queue of 4 frames: a backlog page of dozens of events overflows it at once. The
    patient talks first under the default limit (one streamed turn is a burst of more than 4
    frames), then the bridge restarts with the small queue."""

    def test_a_client_that_falls_behind_is_told_too_slow_before_it_is_dropped_and_resumes(self):
        with Bridge() as b:
            b.add_clinician("sam", "supervisor", PASSWORD)
            alex = b.add_patient("Alex")
            code = b.invite(alex)
            b.start()
            p = Patient(b)
            p.redeem(code)
            for i in range(10):
                p.send(f"ordinary message number {i}")
            p.ws.drain(0.5)
            b.config["send_queue_limit"] = 4
            b.restart()
            sam = Clinician(b)
            sam.must_login("sam", PASSWORD)
            sam.ws.send("subscribe", {"after_seq": 0})
            frames = []
            try:
                while True:
                    frames.append(sam.ws.recv(10))
            except Exception:  # the bridge closed the connection (or nothing more came)
                pass
            errors = [f for f in frames if f["type"] == "error"]
            self.assertEqual([e["payload"]["code"] for e in errors], ["too_slow"], [f["type"] for f in frames])
            self.assertEqual(frames[-1]["type"], "error", "too_slow is the last frame before the close")
            self.assertTrue(sam.ws.closed)
            seqs = [f["seq"] for f in frames if f["type"] == "event"]
            self.assertTrue(contiguous(seqs), seqs)
            self.assertLess(len(seqs), 60)
            # It reconnects and resumes from its cursor; whatever was cut off comes again, in order.
            # (With a queue this small a page may overflow again; each pass still moves on.)
            cursor = seqs[-1] if seqs else 0
            for _ in range(100):
                again = Clinician(b)
                self.assertEqual(again.resume(sam.token)["type"], "login_ok")
                again.ws.send("subscribe", {"after_seq": cursor})
                try:
                    while True:
                        f = again.ws.recv(3)
                        if f["type"] == "event":
                            self.assertEqual(f["seq"], cursor + 1)
                            cursor = f["seq"]
                        elif f["type"] == "caught_up":
                            return
                except Exception:
                    continue
            self.fail("never caught up")


if __name__ == "__main__":
    unittest.main()
