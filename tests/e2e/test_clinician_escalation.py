"""SLA escalation against the real tandem-bridge binary, with the shortest SLA `policy set`
allows (1 minute): an urgent flag nobody acknowledges escalates to the supervisor's live feed at
its deadline, and a flag whose deadline passed while the bridge was down escalates right after
the restart. The two clinics run side by side so the test waits for one deadline, not two
(about 70 s)."""
import calendar
import time
import unittest

from harness import Bridge, Patient
from clinician import CRISIS_TEXT, Clinician

PASSWORD = "clinician-password-1"


def clinic():
    b = Bridge()
    b.add_clinician("tara", "therapist", PASSWORD)
    b.add_clinician("sam", "supervisor", PASSWORD)
    pid = b.add_patient("Alex")
    b.assign(pid, "tara")
    b.run("policy", "set", "--data-dir", str(b.data_dir), "--sla-urgent-minutes", "1", "--sla-second-minutes", "1")
    return b, pid, b.invite(pid)


class Escalation(unittest.TestCase):
    def setUp(self):
        self.live, _, self.live_code = clinic()
        self.down, _, self.down_code = clinic()

    def tearDown(self):
        self.live.close()
        self.down.close()

    def urgent_flag(self, bridge, code):
        bridge.start()
        alex = Patient(bridge)
        alex.redeem(code)
        alex.send(CRISIS_TEXT)
        sam = Clinician(bridge)
        sam.must_login("sam", PASSWORD)
        sam.subscribe(0)
        return sam, sam.find_or_wait(lambda e: e["type"] == "flag_opened")["payload"]

    def test_urgent_flag_escalates_at_its_deadline_and_after_a_restart(self):
        live_sam, live_flag = self.urgent_flag(self.live, self.live_code)
        down_sam, down_flag = self.urgent_flag(self.down, self.down_code)
        self.down.stop()  # this bridge is down when its flag falls due
        for flag in (live_flag, down_flag):
            self.assertIn(flag["severity"], ("high", "imminent"))
        opened = time.monotonic()

        # Live: nobody acknowledges; the supervisor's feed gets the escalation at the deadline.
        esc = live_sam.wait_event(lambda e: e["type"] == "flag_escalated", timeout=100)
        waited = time.monotonic() - opened
        self.assertEqual(esc["payload"]["flag_id"], live_flag["id"])
        self.assertEqual(esc["payload"]["escalation_level"], 1)
        self.assertEqual(esc["payload"]["reason"], "sla_missed")
        self.assertEqual(esc["actor"]["kind"], "system")
        self.assertGreaterEqual(esc["payload"]["at"], live_flag["sla_deadline"])
        self.assertLess(waited, 75)

        # Down: the deadline passed while the bridge was stopped; the first sweep after the
        # restart escalates, once.
        deadline = calendar.timegm(time.strptime(down_flag["sla_deadline"][:19], "%Y-%m-%dT%H:%M:%S")) + 1
        time.sleep(max(0.0, deadline - time.time()))
        self.down.start()
        sam = Clinician(self.down)
        sam.must_login("sam", PASSWORD)
        sam.subscribe(down_sam.events[-1]["seq"])
        esc = sam.find_or_wait(lambda e: e["type"] == "flag_escalated", timeout=20)
        self.assertEqual(esc["payload"]["flag_id"], down_flag["id"])
        self.assertEqual(esc["payload"]["escalation_level"], 1)
        sam.drain_events(1.0)
        self.assertEqual(len([e for e in sam.events if e["type"] == "flag_escalated"]), 1)


if __name__ == "__main__":
    unittest.main()
