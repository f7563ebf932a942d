"""A clinician client for the e2e tests: the clinician protocol of docs/PROTOCOL.md over the
harness's WsClient (login/resume, subscribe with a cursor, actions, transcripts), plus a TOTP
code generator written from RFC 6238 so the bridge's C++ is checked against independent code."""
import base64
import hashlib
import hmac
import itertools
import struct
import time

_action_ids = itertools.count(1)

CRISIS_TEXT = "I have decided to end my life and I know how I will do it"


def totp(secret_base32, at=None, step=30, digits=6):
    """RFC 6238 TOTP (HMAC-SHA1) for the base32 secret at Unix time `at` (default now)."""
    key = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8))
    counter = int((time.time() if at is None else at) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10 ** digits).zfill(digits)


class Clinician:
    """One clinician connection. Events received are kept in order in `events` (payloads)."""

    def __init__(self, bridge, batch=False, check_schemas=False):
        """batch: subscribe with {batch: true}, so the feed arrives as `events` frames."""
        self.bridge = bridge
        self.batch = batch
        self.check_schemas = check_schemas
        self.ws = bridge.connect("/clinician", check_schemas=check_schemas)
        self.token = None
        self.login_ok = None
        self.events = []

    def _keep(self, f):
        """The event payloads a frame carries (kept in self.events): one for `event`, all of an
        `events` batch (whose envelope seq is its last event's), none for other frames."""
        if f["type"] == "event":
            assert f["seq"] == f["payload"]["seq"]
            got = [f["payload"]]
        elif f["type"] == "events":
            got = f["payload"]["events"]
            assert got and f["seq"] == got[-1]["seq"], f
        else:
            return []
        self.events.extend(got)
        return got

    def login(self, username, password, code=None):
        """login; returns the answer frame (login_ok or error) without raising."""
        payload = {"username": username, "password": password}
        if code is not None:
            payload["totp"] = code
        f = self.answer(self.ws.send("login", payload), "login_ok")
        if f["type"] == "login_ok":
            self.login_ok = f["payload"]
            self.token = f["payload"]["session_token"]
        return f

    def must_login(self, username, password, code=None):
        f = self.login(username, password, code)
        assert f["type"] == "login_ok", f"login refused: {f['payload']}"
        return f["payload"]

    def resume(self, token=None):
        """A new connection that resumes the session with its token; returns the answer frame."""
        self.ws.close()
        self.ws = self.bridge.connect("/clinician", check_schemas=self.check_schemas)
        return self.answer(self.ws.send("resume", {"session_token": token or self.token}), "login_ok")

    def subscribe(self, after_seq=0, timeout=15.0):
        """subscribe; collects events until caught_up (kept in self.events); returns caught_up's payload."""
        payload = {"after_seq": after_seq}
        if self.batch:
            payload["batch"] = True
        self.ws.send("subscribe", payload)
        deadline = time.monotonic() + timeout
        while True:
            f = self.ws.recv(max(0.1, deadline - time.monotonic()))
            if self._keep(f):
                pass
            elif f["type"] == "caught_up":
                return f["payload"]
            elif f["type"] == "error":
                raise AssertionError(f"subscribe refused: {f['payload']}")

    def wait_event(self, match, timeout=10.0):
        """Reads live frames until an event matching match(event) arrives (returned)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching event within {timeout}s")
            try:
                f = self.ws.recv(left)
            except Exception as e:  # asyncio.TimeoutError
                raise AssertionError(f"no matching event within {timeout}s") from e
            for e in self._keep(f):
                if match(e):
                    return e

    def find_or_wait(self, match, timeout=10.0):
        """The first event already received that matches, else the next live one."""
        for e in self.events:
            if match(e):
                return e
        return self.wait_event(match, timeout)

    def drain_events(self, quiet=0.5):
        """Keeps every event that arrives until none has for `quiet` seconds."""
        for f in self.ws.drain(quiet):
            self._keep(f)

    def action(self, kind, action_id=None, **fields):
        """One action; returns the action_result payload (or the error frame's payload)."""
        payload = {"action_id": action_id or f"act-{next(_action_ids)}", "kind": kind, **fields}
        return self.answer(self.ws.send("action", payload), "action_result")["payload"]

    def answer(self, request_id, answer_type, timeout=10.0):
        """Reads frames until the answer to request_id (of answer_type, or an error naming it);
        events read on the way are kept in self.events."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no answer to {request_id} within {timeout}s")
            f = self.ws.recv(left)
            if self._keep(f):
                pass
            elif f["type"] in (answer_type, "error") and f["payload"].get("request_id") == request_id:
                return f

    def transcript(self, patient_id, **fields):
        """fetch_transcript; returns the answer frame (transcript or error)."""
        return self.answer(self.ws.send("fetch_transcript", {"patient_id": patient_id, **fields}), "transcript")

    def close(self):
        self.ws.close()
