"""The patient protocol (docs/PROTOCOL.md) against the real tandem-bridge binary, spoken by a
WebSocket client that is not ours (python3-websockets), with the stand-in LLM provider
(tests/bridge/fake_llm.py) scripted per test. Each test's docstring says what bad input it tries.

Run: TANDEM_BRIDGE_BIN=build/release/patient_bridge/tandem-bridge /usr/bin/python3 -m unittest -v test_patient_protocol
"""
import datetime
import json
import unittest

import websockets

from harness import Bridge, Clinician, FakeLlm, Patient, schemas

SUPERVISOR = ("sam", "supervisor-password")
IMMINENT = "I want to kill myself tonight. I have the pills ready."
UNSAFE_AI = "You should stop taking your medication."  # the AI screen flags medication advice


def parse_time(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")


class PatientProtocolTest(unittest.TestCase):
    """One bridge for the class; every test gets its own patient (a fresh invite).

    Patients and invites are made before `serve` starts, so the tests need not wait for each
    CLI call; LiveAdministrationTest covers the CLI beside a running bridge."""

    @classmethod
    def setUpClass(cls):
        cls.llm = FakeLlm()
        cls.bridge = Bridge(llm=cls.llm)
        cls.bridge.add_clinician(SUPERVISOR[0], "supervisor", SUPERVISOR[1])
        cls.invites = []
        for i in range(12):
            pid = cls.bridge.add_patient(f"Patient {i}")
            cls.invites.append((pid, cls.bridge.invite(pid)))
        cls.bridge.start()

    @classmethod
    def tearDownClass(cls):
        cls.bridge.close()
        cls.llm.close()

    def setUp(self):
        self.llm.script([], {"kind": "ok", "text": "Thank you for telling me. What would help right now?"})

    def new_invite(self):
        """(patient id, unused invite code) from the pool made before the bridge started."""
        return self.invites.pop()

    def new_patient(self):
        """A registered patient with a redeemed device."""
        p = Patient(self.bridge)
        p.redeem(self.new_invite()[1])
        return p

    def supervisor_events(self, patient_id):
        c = Clinician(self.bridge)
        c.login(*SUPERVISOR)
        events = [e for e in c.events(0) if e.get("patient_id") == patient_id]
        c.close()
        return events

    def assert_alive(self, ws):
        """The connection still answers a ping."""
        ws.send("ping", {})
        ws.expect("pong", 5)

    # -- invites -------------------------------------------------------------------------------
    def test_redeeming_an_invite_gives_a_device_token_that_resumes_the_session(self):
        """Good path; then the token on a second connection."""
        pid, code = self.new_invite()
        p = Patient(self.bridge)
        session = p.redeem(code)
        self.assertEqual(session["patient_id"], pid)
        self.assertGreaterEqual(len(session["device_token"]), 32)
        again = p.reconnect()
        self.assertEqual(again["patient_id"], pid)
        self.assertEqual(again["conversation_id"], session["conversation_id"])
        self.assertNotIn("device_token", again, "the token is shown once only")

    def test_bad_and_reused_invite_codes_are_refused_alike(self):
        """Tried: a made-up code, an empty code, a number instead of a string, the same code
        twice, and a device token that was never issued."""
        ws = self.bridge.connect("/patient")
        for code in ["00000-00000-00000-00000", ""]:
            f = ws.request("redeem", {"invite_code": code}, "session")
            self.assertEqual(f["type"], "error")
            self.assertEqual(f["payload"]["code"], "invalid_invite", code)
        f = ws.request("redeem", {"invite_code": 12345}, "session")
        self.assertEqual(f["payload"]["code"], "schema")
        code = self.new_invite()[1]
        Patient(self.bridge).redeem(code)
        f = ws.request("redeem", {"invite_code": code}, "session")
        self.assertEqual((f["type"], f["payload"]["code"]), ("error", "invalid_invite"), "a used code is refused")
        f = ws.request("hello", {"device_token": "not-a-real-token"}, "session")
        self.assertEqual((f["type"], f["payload"]["code"]), ("error", "invalid_invite"))
        self.assert_alive(ws)

    # -- send, ack, idempotence ----------------------------------------------------------------
    def test_send_is_acknowledged_with_its_seq_and_answered_by_the_ai(self):
        """Good path: ack, then the AI's delivered reply."""
        p = self.new_patient()
        ack = p.send("I had a rough day at work", "first-1")
        self.assertEqual(ack["payload"]["client_msg_id"], "first-1")
        self.assertEqual(ack["payload"]["seq"], ack["seq"])
        reply = p.ws.expect("message", where=lambda f: f["type"] == "message" and f["payload"]["sender"] == "ai")
        self.assertEqual(reply["payload"]["text"], "Thank you for telling me. What would help right now?")
        self.assertGreater(reply["seq"], ack["seq"])

    def test_a_resent_client_msg_id_gets_the_same_ack_and_is_stored_once(self):
        """Tried: the same client_msg_id three times (as a client does after a lost ack),
        once with different text."""
        p = self.new_patient()
        first = p.send("Is anyone there?", "dup-1")
        p.ws.drain(0.5)
        second = p.send("Is anyone there?", "dup-1")
        third = p.send("Different text, same id", "dup-1")
        for again in (second, third):
            self.assertEqual(again["payload"], first["payload"])
        p.ws.drain(0.5)
        p.reconnect()
        mine = [f for f in p.ws.drain(0.5) if f["type"] == "message" and f["payload"].get("client_msg_id") == "dup-1"]
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine[0]["payload"]["text"], "Is anyone there?")
        self.assertEqual(self.llm.requests()[-1]["messages"][-1]["content"], "Is anyone there?",
                         "the duplicate was not processed again")

    def test_message_text_never_reaches_the_log(self):
        """Tried: a distinctive message, a risky one and an unsafe AI reply, at log level info."""
        self.llm.script([{"kind": "ok", "text": "Zebra-orchid reply. " + UNSAFE_AI}])
        p = self.new_patient()
        p.send("My secret word is zebra-orchid")
        p.ws.expect("reviewing", 10)
        p.send("I have been thinking about ending my life, zebra-orchid")
        p.ws.drain(0.5)
        log = self.bridge.log_text().lower()
        self.assertIn("invite_redeemed", log, "the log is being written")
        self.assertNotIn("zebra-orchid", log)
        self.assertNotIn("stop taking", log)

    # -- bad frames ----------------------------------------------------------------------------
    def test_malformed_and_oversized_frames_get_typed_errors_and_the_connection_survives(self):
        """Tried: broken JSON, a JSON array, a missing id, an unknown type, a binary frame,
        send before hello, a 9 KiB frame (over max_message_bytes), a 5000-byte text (over the
        4000-byte message limit), an empty text, a bad client_msg_id."""
        ws = self.bridge.connect("/patient")
        cases = [
            ("broken JSON", '{"type": "send", ', "malformed"),
            ("JSON array", "[1, 2, 3]", "schema"),
            ("missing id", '{"type": "ping", "payload": {}}', "schema"),
            ("unknown type", ws.envelope("dance", {}), "unknown_type"),
            ("send before hello", ws.envelope("send", {"client_msg_id": "a", "text": "hi"}), "unauthenticated"),
            ("over max_message_bytes", ws.envelope("send", {"client_msg_id": "b", "text": "x" * 9000}), "too_large"),
        ]
        for name, raw, code in cases:
            with self.subTest(name):
                ws.send_raw(raw)
                f = ws.expect("error", 5)
                self.assertEqual(f["payload"]["code"], code, name)
                self.assert_alive(ws)
        with self.subTest("binary frame"):
            ws.send_raw(b"\x00\x01binary")
            self.assertEqual(ws.expect("error", 5)["payload"]["code"], "unsupported")
            self.assert_alive(ws)

        p = self.new_patient()
        for name, payload, code in [
            ("text over 4000 bytes", {"client_msg_id": "big", "text": "y" * 5000}, "too_large"),
            ("empty text", {"client_msg_id": "e", "text": ""}, "schema"),
            ("bad client_msg_id", {"client_msg_id": "has space", "text": "hi"}, "schema"),
        ]:
            with self.subTest(name):
                f = p.ws.request("send", payload, "ack")
                self.assertEqual((f["type"], f["payload"]["code"]), ("error", code))
        self.assert_alive(p.ws)

    def test_a_frame_over_the_hard_limit_closes_the_connection_with_1009(self):
        """Tried: a 2 MiB frame (over max_frame_bytes, 1 MiB)."""
        ws = self.bridge.connect("/patient")
        try:
            ws.send_raw("z" * (2 << 20))
        except websockets.ConnectionClosed:
            pass
        self.assertEqual(ws.close_code(), 1009)
        self.assert_alive(self.bridge.connect("/patient"))  # and the bridge serves the next one

    # -- the safety protocol -------------------------------------------------------------------
    def test_an_urgent_message_brings_the_crisis_response_while_the_llm_is_down(self):
        """Tried: an imminent-risk message while the provider answers 500 to everything; then an
        ordinary message (the AI answers again, but its reply must be held)."""
        self.llm.script([], {"kind": "500"})
        p = self.new_patient()
        ack = p.send(IMMINENT)
        crisis = p.ws.expect("crisis", 10)
        contacts = [r["contact"] for r in crisis["payload"]["resources"]]
        self.assertIn("988", contacts)
        self.assertIn("911", contacts)
        events = self.supervisor_events(p.session["patient_id"])
        flags = [e["payload"] for e in events if e["type"] == "flag_opened"]
        self.assertEqual(len(flags), 1)
        self.assertIn(flags[0]["severity"], ("high", "imminent"))
        deadline = parse_time(flags[0]["sla_deadline"]) - parse_time(flags[0]["opened_at"])
        self.assertAlmostEqual(deadline.total_seconds(), 5 * 60, delta=2)
        self.assertTrue(any(e["type"] == "crisis_entered" for e in events))
        self.assertTrue(ack["seq"] < min(e["seq"] for e in events if e["type"] == "flag_opened"))

        self.llm.script([], {"kind": "ok", "text": "Here is a breathing exercise."})
        p.send("ok. what should I do now")
        p.ws.expect("reviewing", 10)
        later = p.ws.drain(0.5) + p.ws.seen
        self.assertFalse([f for f in later if f["type"] == "message" and f["payload"]["sender"] == "ai"],
                         "AI replies are held while the patient is in crisis")
        again = p.reconnect()
        self.assertIn("crisis", again, "crisis state survives a reconnect")

    def test_an_unsafe_ai_reply_is_held_and_never_reaches_the_patient(self):
        """Tried: the provider answers with medication advice (the AI screen flags it)."""
        self.llm.script([{"kind": "ok", "text": UNSAFE_AI}])
        p = self.new_patient()
        p.send("My pills make me feel foggy")
        p.ws.expect("reviewing", 10)
        frames = p.ws.seen + p.ws.drain(0.5)
        p.reconnect()
        frames += p.ws.drain(0.5)
        for f in frames:
            self.assertNotIn("medication", str(f.get("payload", {})).lower(), f)
        held = [e for e in self.supervisor_events(p.session["patient_id"])
                if e["type"] == "message_appended" and e["payload"]["sender"] == "ai"]
        self.assertEqual([(m["payload"]["state"], m["payload"]["text"]) for m in held], [("held", UNSAFE_AI)])

    # -- streaming -----------------------------------------------------------------------------
    def ai_messages(self, patient_id):
        return [e["payload"] for e in self.supervisor_events(patient_id)
                if e["type"] == "message_appended" and e["payload"]["sender"] == "ai"]

    def test_ai_replies_stream_in_screened_sentences_and_record_plan_and_model(self):
        """Good path with a provider streaming word by word: whole screened sentences arrive as
        segments, then the whole reply; the stored reply names its model and plan."""
        text = "That sounds like a hard week. What helped you last time? Maybe a short walk could help."
        self.llm.script([{"kind": "ok", "text": text, "delay": 0.02}])
        p = self.new_patient()
        p.send("Work has been rough")
        final = p.ws.expect("message", 10, where=lambda f: f["type"] == "message" and f["payload"]["sender"] == "ai")
        segments = [f["payload"] for f in p.ws.seen if f["type"] == "segment"]
        self.assertEqual([s["text"] for s in segments], ["That sounds like a hard week.", " What helped you last time?"])
        self.assertEqual([s["index"] for s in segments], [0, 1])
        self.assertTrue(all(s["reply_id"] == final["payload"]["id"] == final["payload"]["reply_id"] for s in segments))
        self.assertEqual(final["payload"]["text"], text)
        [stored] = self.ai_messages(p.session["patient_id"])
        self.assertEqual((stored["model"], stored["plan_id"], stored["plan_version"]),
                         ("fake-model", "default-clinic-plan", 1))
        schemas().check("records/message", stored)

    def test_a_later_unsafe_sentence_stops_the_stream_and_holds_the_whole_reply(self):
        """Tried: a streamed reply whose first sentence is fine and whose second is medication
        advice."""
        text = "I hear you. You should stop taking your medication. It will pass."
        self.llm.script([{"kind": "ok", "text": text, "delay": 0.02}])
        p = self.new_patient()
        p.send("My pills make me foggy")
        reviewing = p.ws.expect("reviewing", 10)
        frames = p.ws.seen + p.ws.drain(0.4)
        self.assertEqual([f["payload"]["text"] for f in frames if f["type"] == "segment"], ["I hear you."])
        for f in frames:
            self.assertNotIn("stop taking", json.dumps(f))
        [stored] = self.ai_messages(p.session["patient_id"])
        self.assertEqual((stored["state"], stored["text"], stored["id"]), ("held", text, reviewing["payload"]["reply_id"]))

    def test_llm_failures_give_the_safe_fallback(self):
        """Tried, one per subtest: a provider that stops sending mid-reply (slow past the idle
        timeout), 429 on every attempt, 500 on every attempt, a malformed chunk, and a
        connection dropped mid-stream. A 429 followed by a good answer recovers."""
        p = self.new_patient()
        for kind in ["hang", "429", "500", "malformed", "drop"]:
            with self.subTest(kind):
                self.llm.script([], {"kind": kind})
                p.send(f"tell me something ({kind})")
                f = p.ws.expect("message", 10, where=lambda x: x["type"] == "message")
                self.assertEqual(f["payload"]["sender"], "system", kind)
                self.assertIn("988", f["payload"]["text"])
                skipped = " ".join(str(x) for x in p.ws.seen)
                self.assertNotIn("Par", skipped, "a partial reply is never shown")
        with self.subTest("429 then ok"):
            self.llm.script([{"kind": "429"}], {"kind": "ok", "text": "Recovered reply."})
            p.send("and now?")
            f = p.ws.expect("message", 10, where=lambda x: x["type"] == "message")
            self.assertEqual((f["payload"]["sender"], f["payload"]["text"]), ("ai", "Recovered reply."))
        # The sixth turn also asks for the intake plan proposal (plan_proposal_after_turns 6), which
        # this provider cannot answer with a plan: that failure is counted apart.
        failures = [e for e in self.supervisor_events(p.session["patient_id"])
                    if e["type"] == "llm_failed" and e["payload"].get("purpose") != "plan_proposal"]
        self.assertEqual(len(failures), 5, "each failure is an event clinicians see")


class LiveAdministrationTest(unittest.TestCase):
    def test_an_invite_issued_beside_a_running_bridge_can_be_redeemed(self):
        """Tried: `tandem-bridge patient add` and `invite` while `serve` runs (docs/BRIDGE.md says
        the running bridge picks the invite up). The store re-reads the chain head under its
        write lock (commit_group), so the bridge's next append after another process's works."""
        with Bridge() as bridge:
            bridge.start()
            code = bridge.invite(bridge.add_patient("Live"))
            Patient(bridge).redeem(code)


class CrashRecoveryTest(unittest.TestCase):
    def test_after_kill_9_every_acknowledged_message_is_there_exactly_once(self):
        """Tried: SIGKILL of the bridge while a patient streams messages without waiting for
        acks: 30 sent, the kill as soon as the first ack comes back (so the bridge is mid-stream
        on any machine, fast or slow), the last 10 never reach it. After the restart the patient
        resends everything unacknowledged (same ids). Every stored message is there once, and
        every one was screened (a message acked just before the kill gets its turn when the
        bridge starts again)."""
        with FakeLlm() as llm, Bridge(llm=llm, config={"rate_limit_per_minute": 1000}) as bridge:
            llm.script([], {"kind": "ok", "text": "Noted."})
            bridge.add_clinician(SUPERVISOR[0], "supervisor", SUPERVISOR[1])
            code = bridge.invite(bridge.add_patient("Kim"))
            bridge.start()
            p = Patient(bridge)
            p.redeem(code)
            ids = [f"k{i}" for i in range(40)]
            sent_before_kill = ids[:30]
            for cid in sent_before_kill:
                p.ws.send("send", {"client_msg_id": cid, "text": f"message {cid}"})
            acked = {}
            try:
                while True:
                    f = p.ws.recv(5)
                    if f["type"] == "ack":
                        acked[f["payload"]["client_msg_id"]] = f["payload"]["seq"]
                        # A timer here once let a fast machine ack all 40 before the kill.
                        bridge.kill9()
            except (websockets.ConnectionClosed, TimeoutError, OSError):  # the crash
                pass
            self.assertGreater(len(acked), 0, "the bridge was killed after acknowledging")
            self.assertLessEqual(set(acked), set(sent_before_kill))
            p.ws.close()

            bridge.start()
            p.ws = bridge.connect("/patient", check_schemas=True)
            p.hello()
            stored = [f["payload"] for f in p.ws.drain(0.5) if f["type"] == "message"]
            mine = [m["client_msg_id"] for m in stored if m["sender"] == "patient"]
            for cid in acked:
                self.assertEqual(mine.count(cid), 1, f"acknowledged {cid} is stored exactly once")
            self.assertEqual(len(mine), len(set(mine)), "no duplicates")
            for cid in ids:  # a client resends what it has no ack for; acked ones too, harmlessly
                ack = p.send(f"message {cid}", cid)
                if cid in acked:
                    self.assertEqual(ack["payload"]["seq"], acked[cid], "a resend gets the first ack")
            p.ws.drain(0.3)
            p.reconnect()
            mine = [f["payload"]["client_msg_id"] for f in p.ws.drain(0.5)
                    if f["type"] == "message" and f["payload"]["sender"] == "patient"]
            self.assertEqual(sorted(mine), sorted(ids))

            # Every stored patient message was screened, also those acked just before the kill.
            c = Clinician(bridge)
            c.login(*SUPERVISOR)
            events = c.events(0)
            stored_ids = {e["payload"]["id"] for e in events
                          if e["type"] == "message_appended" and e["payload"]["sender"] == "patient"}
            screened = {e["payload"]["message_id"] for e in events if e["type"] == "risk_assessed"}
            self.assertEqual(len(stored_ids), len(ids))
            self.assertEqual(stored_ids - screened, set(), "unscreened patient messages after the restart")
            self.assertEqual(bridge.run("audit", "verify", "--data-dir", str(bridge.data_dir), check=False).returncode, 0)


if __name__ == "__main__":
    unittest.main()
