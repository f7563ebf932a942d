"""End-to-end test harness: the REAL tandem-bridge binary on 127.0.0.1, a stand-in LLM, and
WebSocket clients that are not ours (Debian's python3-websockets 10.4). Standard library only
besides websockets; run with /usr/bin/python3.

Typical use (unittest):

    from harness import Bridge, FakeLlm

    llm = FakeLlm()                        # tests/bridge/fake_llm.py as a real HTTP server
    bridge = Bridge(llm=llm)               # temp data dir, `tandem-bridge init` (admin password file)
    pid = bridge.add_patient("Alex")       # `patient add`
    code = bridge.invite(pid)              # `invite`
    bridge.add_clinician("tara", "therapist", "a-long-password")  # `clinician add`
    bridge.start()                         # `serve` on a free port, waits for /healthz
    ws = bridge.connect("/patient")        # wss client trusting the bridge's self-signed cert
    session = ws.request("redeem", {"invite_code": code}, "session")
    ...
    bridge.kill9(); bridge.start()         # crash and restart on the same port and data dir
    bridge.close(); llm.close()            # (or use both as context managers)

The binary comes from $TANDEM_BRIDGE_BIN (CMake passes $<TARGET_FILE:tandem-bridge>), else
build/release/patient_bridge/tandem-bridge under the source tree. Set TANDEM_E2E_KEEP=1 to keep
the temp dir (its bridge.log holds the bridge's stderr) for a failing test.

Every wait has a timeout; nothing here sleeps longer than it must.
"""
import asyncio
import itertools
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import websockets

HERE = Path(__file__).resolve().parent
SOURCE_DIR = HERE.parent.parent
FAKE_LLM = SOURCE_DIR / "tests" / "bridge" / "fake_llm.py"
PYTHON = "/usr/bin/python3"
ADMIN_PASSWORD = "admin-password-e2e"


def bridge_binary():
    """The tandem-bridge under test: $TANDEM_BRIDGE_BIN, else the release build's."""
    return os.environ.get("TANDEM_BRIDGE_BIN") or str(SOURCE_DIR / "build" / "release" / "patient_bridge" / "tandem-bridge")


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=10.0, interval=0.05, what="condition"):
    """Polls predicate() until it returns something truthy (returned); AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class FakeLlm:
    """tests/bridge/fake_llm.py as a real process speaking the OpenAI streaming format.

    Point the bridge at it with model "scripted" (the default of Bridge(llm=...)) and choose
    what each reply does with script(): steps are used one per request (retries take a step
    each), then the default. Kinds: ok (text streamed word by word, optional delay between
    chunks), slow-ok, 500, 429, 401, hang, hang-headers, malformed, drop, unsafe.
    """

    def __init__(self):
        self.proc = subprocess.Popen([PYTHON, str(FAKE_LLM)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.proc.kill()
            raise RuntimeError(f"fake_llm.py did not start: {line!r}")
        self.port = int(line.split()[1])
        self.base_url = f"http://127.0.0.1:{self.port}"

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read() or b"null")

    def script(self, steps=(), default=None):
        """Sets the next replies: steps like {"kind": "ok", "text": "...", "delay": 0.05}."""
        self._call("POST", "/script", {"steps": list(steps), "default": default or {"kind": "ok"}})

    def requests(self):
        """Every chat request body received so far (newest last)."""
        return self._call("GET", "/requests")

    def count(self, model="scripted"):
        """How many chat requests named `model`."""
        return self._call("GET", f"/count?model={model}")["count"]

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()  # fake_llm.py exits when its stdin closes
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Bridge:
    """A data dir made by the real `tandem-bridge init`, and its `serve` process.

    llm: a FakeLlm, or None for the offline companion. config: extra config keys (nested
    "llm" keys merge with the harness's). The config file is written to DIR/e2e-config.json
    and passed with --config at each start.
    """

    def __init__(self, llm=None, model="scripted", config=None, binary=None):
        self.binary = binary or bridge_binary()
        self.tmp = Path(tempfile.mkdtemp(prefix="tandem-e2e-"))
        self.data_dir = self.tmp / "clinic"
        self.cert = self.data_dir / "tls" / "cert.pem"
        self.port = free_port()
        self.proc = None
        self.log_path = self.tmp / "bridge.log"
        self._clients = []
        cfg = {"llm": {"base_url": ""}, "log_level": "info"}
        if llm is not None:
            # Short timeouts and backoff keep failure tests fast; the breaker stays shut.
            cfg["llm"] = {"base_url": llm.base_url, "model": model, "idle_timeout_ms": 1500,
                          "total_timeout_ms": 5000, "connect_timeout_ms": 1000, "max_attempts": 2,
                          "backoff_initial_ms": 50, "breaker_failures": 1000}
        for k, v in (config or {}).items():
            if k == "llm":
                cfg["llm"].update(v)
            else:
                cfg[k] = v
        self.config = cfg
        pw = self.tmp / "admin.pw"
        pw.write_text(ADMIN_PASSWORD + "\n")
        self.run("init", "--data-dir", str(self.data_dir), "--password-file", str(pw))

    # -- administration (the real CLI) ---------------------------------------------------------
    def run(self, *args, check=True):
        """Runs `tandem-bridge ARGS`; returns stdout stripped. Raises on a non-zero exit if check."""
        r = subprocess.run([self.binary, *args], capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        if check and r.returncode != 0:
            raise RuntimeError(f"tandem-bridge {' '.join(args)} exited {r.returncode}: {r.stderr}")
        return r.stdout.strip() if check else r

    def add_patient(self, name="Alex", locale="en-US"):
        """`patient add`; returns the new patient id."""
        return self.run("patient", "add", "--data-dir", str(self.data_dir), "--name", name, "--locale", locale)

    def invite(self, patient_id):
        """`invite`; returns a one-time invite code."""
        return self.run("invite", "--data-dir", str(self.data_dir), "--patient", patient_id).splitlines()[-1].strip()

    def add_clinician(self, username, roles, password, name=None):
        """`clinician add` with a password file; roles is a string or a list. Returns the id."""
        roles = [roles] if isinstance(roles, str) else list(roles)
        pw = self.tmp / f"{username}.pw"
        pw.write_text(password + "\n")
        args = ["clinician", "add", "--data-dir", str(self.data_dir), "--username", username,
                "--password-file", str(pw)]
        for r in roles:
            args += ["--role", r]
        if name:
            args += ["--name", name]
        return self.run(*args).splitlines()[-1].strip()

    def assign(self, patient_id, therapist):
        """`patient assign` (therapist id or username)."""
        self.run("patient", "assign", "--data-dir", str(self.data_dir), "--patient", patient_id,
                 "--therapist", therapist)

    # -- the server process --------------------------------------------------------------------
    def start(self, timeout=30.0):
        """Starts `serve` on self.port (the same port on every restart) and waits for /healthz."""
        assert self.proc is None or self.proc.poll() is not None, "bridge already running"
        cfg_path = self.data_dir / "e2e-config.json"
        cfg_path.write_text(json.dumps(self.config, indent=2))
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen([self.binary, "serve", "--data-dir", str(self.data_dir), "--config",
                                      str(cfg_path), "--listen", f"127.0.0.1:{self.port}"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, text=True)
        log.close()
        line = self.proc.stdout.readline()  # "listening on HOST:PORT", or EOF if it failed
        if not line.startswith("listening on"):
            self.proc.wait(timeout=5)
            self.proc.stdout.close()
            raise RuntimeError(f"serve did not start (exit {self.proc.returncode}); log:\n{self.log_text()[-3000:]}")
        wait_until(lambda: self._healthy(), timeout=timeout, what="/healthz")

    def _healthy(self):
        try:
            return self.get("/healthz")[0] == 200
        except OSError:
            return False

    def stop(self, timeout=15.0):
        """SIGTERM and wait (a clean shutdown); returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        return self.proc.returncode

    def kill9(self):
        """SIGKILL: no shutdown code runs (a crash or power cut)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        if self.proc is not None:
            self.proc.stdout.close()

    def restart(self):
        """kill -9, then start again on the same port and data dir."""
        self.kill9()
        self.start()

    def log_text(self):
        """Everything the bridge wrote to stderr (JSON log lines) so far."""
        return self.log_path.read_text() if self.log_path.exists() else ""

    # -- clients -------------------------------------------------------------------------------
    def ssl_context(self):
        """Trusts exactly the bridge's self-signed certificate (hostname checked: SAN 127.0.0.1)."""
        ctx = ssl.create_default_context(cafile=str(self.cert))
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        return ctx

    @property
    def base_url(self):
        return f"https://127.0.0.1:{self.port}"

    def get(self, path):
        """HTTPS GET; returns (status, body bytes, headers). HTTP errors are returned, not raised."""
        try:
            with urllib.request.urlopen(self.base_url + path, context=self.ssl_context(), timeout=5) as r:
                return r.status, r.read(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read(), dict(e.headers)

    def connect(self, path="/patient", max_size=16 << 20):
        """A connected WsClient on wss://127.0.0.1:PORT/path; closed by close()."""
        c = WsClient(f"wss://127.0.0.1:{self.port}{path}", self.ssl_context(), max_size=max_size)
        self._clients.append(c)
        return c

    def close(self):
        """Closes clients, stops the bridge, removes the temp dir (unless TANDEM_E2E_KEEP)."""
        for c in self._clients:
            c.close()
        self._clients.clear()
        self.stop()
        if os.environ.get("TANDEM_E2E_KEEP"):
            print(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_ids = itertools.count(1)


class WsClient:
    """A blocking WebSocket client over websockets 10.4 (which has only an asyncio API): each
    client owns a private event loop and runs one operation at a time on it.

    Frames are the bridge's envelope {type, id, time, payload}; received frames are dicts.
    Frames skipped by expect() are kept in `seen` (oldest first) so a test can assert on them.
    """

    def __init__(self, uri, ssl_context, max_size=16 << 20, timeout=10.0):
        self.loop = asyncio.new_event_loop()
        self.seen = []

        async def open_():
            # Built inside the loop: websockets 10 binds a connection to the running loop.
            return await websockets.connect(uri, ssl=ssl_context, max_size=max_size, open_timeout=timeout,
                                            ping_interval=None)
        self.ws = self.loop.run_until_complete(open_())

    @staticmethod
    def envelope(type_, payload=None, id_=None):
        """The JSON text of one envelope."""
        return json.dumps({"type": type_, "id": id_ or f"c{next(_ids)}",
                           "time": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                           "payload": payload if payload is not None else {}})

    def send(self, type_, payload=None, id_=None):
        """Sends one envelope; returns its id."""
        text = self.envelope(type_, payload, id_)
        self.send_raw(text)
        return json.loads(text)["id"]

    def send_raw(self, data):
        """Sends text (str) or a binary frame (bytes) as is."""
        self.loop.run_until_complete(self.ws.send(data))

    def recv(self, timeout=10.0):
        """The next frame as a dict; asyncio.TimeoutError if none within timeout,
        websockets.ConnectionClosed if the bridge closed the connection."""
        text = self.loop.run_until_complete(asyncio.wait_for(self.ws.recv(), timeout))
        return json.loads(text)

    def expect(self, type_, timeout=10.0, where=None):
        """The first frame of type_ within timeout, or, if where is given, the first frame for
        which where(frame) is true (whatever its type); frames before it go to `seen`.
        AssertionError on timeout, naming what did arrive."""
        deadline = time.monotonic() + timeout
        skipped = []
        while True:
            left = deadline - time.monotonic()
            try:
                if left <= 0:
                    raise asyncio.TimeoutError()
                f = self.recv(left)
            except asyncio.TimeoutError:
                self.seen += skipped
                raise AssertionError(f"no {type_!r} frame within {timeout}s; got "
                                     f"{[x['type'] for x in skipped]}") from None
            if (where(f) if where is not None else f.get("type") == type_):
                self.seen += skipped
                return f
            skipped.append(f)

    def request(self, type_, payload, answer_type, timeout=10.0):
        """Sends a frame and returns the answer of answer_type, or raises AssertionError with
        the error frame's payload if an error referring to it arrives first."""
        id_ = self.send(type_, payload)
        f = self.expect(answer_type, timeout,
                        where=lambda x: x["type"] == answer_type or
                        (x["type"] == "error" and x["payload"].get("ref") == id_))
        return f

    def drain(self, quiet=0.3):
        """Every frame that arrives until none has for `quiet` seconds."""
        out = []
        while True:
            try:
                out.append(self.recv(quiet))
            except asyncio.TimeoutError:
                return out

    @property
    def closed(self):
        return self.ws.closed

    def close_code(self, timeout=5.0):
        """Waits for the bridge to close the connection; returns the close code."""
        try:
            while True:
                self.recv(timeout)
        except websockets.ConnectionClosed as e:
            return e.code
        except asyncio.TimeoutError:
            return None

    def close(self):
        if self.loop.is_closed():
            return
        try:
            self.loop.run_until_complete(asyncio.wait_for(self.ws.close(), 3))
        except Exception:  # already closed, or the bridge died: nothing to tidy
            pass
        self.loop.close()


class Patient:
    """A patient device speaking the patient protocol (docs/PROTOCOL.md) over a WsClient."""

    def __init__(self, bridge):
        self.bridge = bridge
        self.ws = bridge.connect("/patient")
        self.token = None
        self.session = None

    def redeem(self, code):
        """redeem an invite; returns the session payload and keeps the device token."""
        f = self.ws.request("redeem", {"invite_code": code}, "session")
        if f["type"] == "error":
            raise AssertionError(f"redeem refused: {f['payload']}")
        self.session = f["payload"]
        self.token = self.session["device_token"]
        return self.session

    def hello(self, token=None, last_seq=None):
        """hello with the device token; returns the session payload (the resumed messages
        follow as `message` frames: read them with ws.drain())."""
        payload = {"device_token": token or self.token}
        if last_seq is not None:
            payload["last_seq"] = last_seq
        f = self.ws.request("hello", payload, "session")
        if f["type"] == "error":
            raise AssertionError(f"hello refused: {f['payload']}")
        self.session = f["payload"]
        return self.session

    def send(self, text, client_msg_id=None, timeout=10.0):
        """send a message; returns the ack frame (AssertionError with the error if refused)."""
        client_msg_id = client_msg_id or f"m{next(_ids)}"
        f = self.ws.request("send", {"client_msg_id": client_msg_id, "text": text}, "ack", timeout)
        if f["type"] == "error":
            raise AssertionError(f"send refused: {f['payload']}")
        return f

    def reconnect(self):
        """A new connection with the same device token (hello without last_seq)."""
        self.ws.close()
        self.ws = self.bridge.connect("/patient")
        return self.hello()

    def close(self):
        self.ws.close()


class Clinician:
    """A clinician connection (docs/PROTOCOL.md, clinician section): enough to log in and read
    the feed, so patient-side tests can see the flags and events the bridge recorded."""

    def __init__(self, bridge):
        self.ws = bridge.connect("/clinician")

    def login(self, username, password):
        """login; returns the login_ok payload (AssertionError with the error if refused)."""
        f = self.ws.request("login", {"username": username, "password": password}, "login_ok")
        if f["type"] == "error":
            raise AssertionError(f"login refused: {f['payload']}")
        return f["payload"]

    def events(self, after_seq=0, timeout=10.0):
        """subscribe from after_seq and return the stored events (the `event` payloads) up to
        caught_up; the subscription then stays live (read more with ws.expect("event"))."""
        self.ws.send("subscribe", {"after_seq": after_seq})
        out = []
        while True:
            f = self.ws.expect("event", timeout, where=lambda x: x["type"] in ("event", "caught_up", "error"))
            if f["type"] == "caught_up":
                return out
            if f["type"] == "error":
                raise AssertionError(f"subscribe refused: {f['payload']}")
            out.append(f["payload"])

    def close(self):
        self.ws.close()
