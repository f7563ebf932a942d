#!/usr/bin/python3
"""A stand-in OpenAI Chat Completions provider for the bridge's tests.

Speaks POST /v1/chat/completions with stream=true (server-sent events). The request's
"model" field picks a scripted behaviour, so one server process covers every case:
  ok, slow-ok, json (non-streaming; a step's text is its content), 500, 429, 429-then-ok, 401, hang (stops mid-stream),
  hang-headers (never answers), malformed (bad JSON chunk), drop (closes mid-stream),
  unsafe (a reply the AI screen must hold),
  auth-check (401 unless the Bearer token is "sekrit"),
  scripted (the next step of the script set by POST /script, see below).
GET /count?model=M answers how many requests M received (to observe retries).
POST /script {"steps": [STEP...], "default": STEP} sets what model "scripted" does: each request
  takes the next step, then the default (initially {"kind": "ok"}). A STEP is {"kind": one of the
  behaviours above, "text"?: the reply (streamed in word chunks), "delay"?: seconds between chunks}.
GET /requests answers the bodies of every chat request received so far (newest last).
Prints "PORT <n>" on stdout once listening on 127.0.0.1.
"""
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

counts = {}
lock = threading.Lock()
script = {"steps": [], "default": {"kind": "ok"}}
requests = []


def chunk(content=None, finish=None):
    delta = {} if content is None else {"content": content}
    body = {"id": "c1", "object": "chat.completion.chunk", "model": "fake-model",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return ("data: " + json.dumps(body) + "\n\n").encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if urlparse(self.path).path == "/requests":
            with lock:
                body = json.dumps(requests).encode()
            return self.reply(200, "application/json", body)
        q = parse_qs(urlparse(self.path).query)
        model = q.get("model", [""])[0]
        with lock:
            n = counts.get(model, 0)
        self.reply(200, "application/json", json.dumps({"count": n}).encode())

    def reply(self, status, ctype, body):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def start_stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def send_chunks(self, parts, delay=0.0):
        for p in parts:
            self.wfile.write(p)
            self.wfile.flush()
            if delay:
                time.sleep(delay)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        req = json.loads(self.rfile.read(length) or b"{}")
        if urlparse(self.path).path == "/script":
            with lock:
                script["steps"] = list(req.get("steps", []))
                script["default"] = req.get("default", {"kind": "ok"})
            return self.reply(200, "application/json", b"{}")
        model = req.get("model", "ok")
        text, delay = None, 0.0
        with lock:
            counts[model] = counts.get(model, 0) + 1
            n = counts[model]
            requests.append(req)
            if model == "scripted":
                step = script["steps"].pop(0) if script["steps"] else script["default"]
                model, text, delay = step.get("kind", "ok"), step.get("text"), float(step.get("delay", 0))
        if text is not None:
            words = text.split(" ")
            ok_parts = [chunk(w if i == 0 else " " + w) for i, w in enumerate(words)]
            ok_parts += [chunk(None, "stop"), b"data: [DONE]\n\n"]
        else:
            ok_parts = [chunk("Hello"), chunk(" there"), chunk("."), chunk(None, "stop"), b"data: [DONE]\n\n"]
        if not req.get("stream") and model != "json":
            self.reply(400, "application/json", b'{"error":{"message":"stream required"}}')
        elif model == "ok":
            self.start_stream()
            self.send_chunks(ok_parts, delay=delay)
        elif model == "slow-ok":
            self.start_stream()
            self.send_chunks(ok_parts, delay=0.1)
        elif model == "json":
            content = "Whole reply." if text is None else text
            body = {"choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                 "finish_reason": "stop"}], "model": "fake-model"}
            self.reply(200, "application/json", json.dumps(body).encode())
        elif model == "500":
            self.reply(500, "application/json", b'{"error":{"message":"boom"}}')
        elif model == "429":
            self.reply(429, "application/json", b'{"error":{"message":"slow down"}}')
        elif model == "429-then-ok":
            if n == 1:
                self.reply(429, "application/json", b'{"error":{"message":"slow down"}}')
            else:
                self.start_stream()
                self.send_chunks(ok_parts)
        elif model == "unsafe":
            # A reply the AI screen must hold: it tells the patient to change their medication.
            self.start_stream()
            self.send_chunks([chunk("You should stop taking your medication."), chunk(None, "stop"),
                              b"data: [DONE]\n\n"])
        elif model == "401":
            self.reply(401, "application/json", b'{"error":{"message":"bad key"}}')
        elif model == "auth-check":
            if self.headers.get("Authorization") == "Bearer sekrit":
                self.start_stream()
                self.send_chunks(ok_parts)
            else:
                self.reply(401, "application/json", b'{"error":{"message":"bad key"}}')
        elif model == "hang":
            self.start_stream()
            self.send_chunks([chunk("Hel")])
            time.sleep(30)
        elif model == "hang-headers":
            time.sleep(30)
        elif model == "malformed":
            self.start_stream()
            self.send_chunks([chunk("Hi"), b"data: {not json\n\n"])
        elif model == "drop":
            self.start_stream()
            self.send_chunks([chunk("Par"), chunk("tial")])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        else:
            self.reply(404, "application/json", b'{"error":{"message":"unknown model"}}')


class Server(ThreadingHTTPServer):
    daemon_threads = True


def main():
    server = Server(("127.0.0.1", 0), Handler)
    print("PORT", server.server_address[1], flush=True)
    # Exit when the test closes our stdin, so a crashed test leaves no stray server.
    threading.Thread(target=lambda: (sys.stdin.read(), server.shutdown()), daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
