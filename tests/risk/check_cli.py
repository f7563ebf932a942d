"""Runs the tandem-risk binary end to end: --help documents both commands, screen answers one
JSON line per input line in order (with byte spans into the input text), a bad line gives an
error line and exit status 1, and a bad --rules directory is refused with exit status 2."""
import json
import subprocess
import sys
import tempfile
import pathlib


def run(binary, args, stdin=""):
    return subprocess.run([binary, *args], input=stdin, capture_output=True, text=True, timeout=120)


def main() -> int:
    binary = sys.argv[1]
    failures = []

    helptext = run(binary, ["--help"])
    if helptext.returncode != 0 or "screen" not in helptext.stdout or "eval FILE" not in helptext.stdout:
        failures.append("--help does not document screen and eval")

    lines = [
        {"id": "a", "role": "patient", "text": "Caf\u00e9 \u2014 I want to kill myself tonight, I have the rope."},
        {"id": "b", "role": "patient", "text": "This homework is killing me."},
        {"id": "c", "role": "patient", "text": "yes", "context": [{"role": "ai", "text": "Are you thinking about killing yourself?"}]},
    ]
    out = run(binary, ["screen"], "\n".join(json.dumps(x) for x in lines) + "\n")
    results = [json.loads(l) for l in out.stdout.splitlines()]
    if out.returncode != 0 or [r["id"] for r in results] != ["a", "b", "c"]:
        failures.append(f"screen did not answer a, b, c in order (status {out.returncode})")
    else:
        a, b, c = results
        if a["severity"] != "imminent" or "suicidal_ideation" not in a["categories"]:
            failures.append(f"a: expected imminent suicidal_ideation, got {a['severity']} {a['categories']}")
        raw = lines[0]["text"].encode("utf-8")
        for span in a["spans"]:
            piece = raw[span["begin"]:span["end"]].decode("utf-8")
            if span["rule_id"] == "si.active.kill_myself" and piece != "kill myself":
                failures.append(f"a: span of si.active.kill_myself is {piece!r}")
        if b["severity"] != "none":
            failures.append(f"b: idiom raised to {b['severity']}")
        if c["severity"] not in ("high", "imminent") or c["cssrs"] is None:
            failures.append(f"c: 'yes' after the question gave {c['severity']}")
        for key in ("id", "severity", "categories", "cssrs", "spans", "rationale"):
            if key not in a:
                failures.append(f"screen output lacks {key}")

    bad = run(binary, ["screen"], '{"id": "x", "role": "robot", "text": "hi"}\n')
    if bad.returncode != 1 or "error" not in json.loads(bad.stdout.splitlines()[0]):
        failures.append("a bad input line did not give an error line and status 1")

    with tempfile.TemporaryDirectory() as d:
        pathlib.Path(d, "broken.json").write_text('{\n  "format": 1,\n  "name": "x"\n  "version": "1"\n}\n')
        refused = run(binary, ["--rules", d, "check"])
        if refused.returncode != 2 or "broken.json:4" not in refused.stderr:
            failures.append(f"a broken rule file was not refused with its line: {refused.stderr.strip()}")

    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
