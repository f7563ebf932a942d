#!/usr/bin/python3
"""Compares two record_verdicts.sh directories by verdict rather than by byte.

    bench/risk/compare_verdicts.py BEFORE_DIR AFTER_DIR

For every screen-*.jsonl and nomodel-screen-*.jsonl (development sets) and the bench verdict
files in both, counts the lines that are identical, the lines that differ only in the order of
spans or in the rationale text (same id, severity, categories, C-SSRS level and set of spans:
ties reordered, or another of several equal-severity clauses among the rationale's three), and
the lines whose verdict changed, which it names by case id (never text). Exit status 1 when a
verdict changed. Use it where a change is allowed to reorder ties (docs/PERFORMANCE.md, the
fixed order of scan reports); otherwise `diff -r` must be empty. Held-out and public sets are
digests in those directories, so they are compared by digest only, by diff -r.
"""
import json
import os
import re
import sys


def screen_key(line):
    d = json.loads(line)
    spans = sorted(json.dumps(s, sort_keys=True) for s in d["spans"])
    return (d["id"], d["severity"], sorted(d["categories"]), d.get("cssrs"), spans)


def bench_key(line):
    m = re.match(r"(.*) spans=(.*) rationale=(\w+)", line)
    if not m:
        return line
    return (m.group(1), sorted(re.findall(r"\[[^\]]*\]", m.group(2))), m.group(3))


def main():
    before, after = sys.argv[1], sys.argv[2]
    same = reordered = changed = 0
    for name in sorted(os.listdir(before)):
        screen = name.endswith(".jsonl") and ("screen-" in name) and name.startswith(("screen-", "nomodel-screen-"))
        bench = name in ("bench-verdicts.txt", "nomodel-bench-verdicts.txt")
        if not (screen or bench):
            continue
        with open(os.path.join(before, name)) as f:
            old = f.read().splitlines()
        with open(os.path.join(after, name)) as f:
            new = f.read().splitlines()
        if len(old) != len(new):
            print(f"{name}: {len(old)} lines before, {len(new)} after")
            changed += 1
            continue
        key = screen_key if screen else bench_key
        for x, y in zip(old, new):
            if x == y:
                same += 1
            elif key(x) == key(y):
                reordered += 1
            else:
                changed += 1
                ident = json.loads(x)["id"] if screen else x.split(" spans=")[0]
                print(f"verdict changed: {name} {ident}")
    print(f"identical {same}, only span order or rationale text differ {reordered}, verdicts changed {changed}")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
