#!/usr/bin/python3
"""Validates labelled risk sets and prints their composition.

Usage: /usr/bin/python3 scripts/risk/check_set.py tests/data/risk/dev.jsonl [more.jsonl ...]
Exits non-zero with file:line and reason on the first malformed case.
"""
import argparse
import os
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labelled_set  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="+")
    parser.add_argument("--quiet", action="store_true", help="only validate")
    args = parser.parse_args()
    for path in args.sets:
        cases = labelled_set.read_cases(path)
        if args.quiet:
            continue
        benign = sum(1 for c in cases if c["expected"]["severity"] in ("none", "low"))
        print(f"== {path}: {len(cases)} cases, {benign} none/low ({benign / len(cases):.1%})")
        for label, counter in (
                ("kind", Counter(c["kind"] for c in cases)),
                ("severity", Counter(c["expected"]["severity"] for c in cases)),
                ("role", Counter(c["role"] for c in cases)),
                ("lang", Counter(c["lang"] for c in cases)),
                ("cssrs", Counter(c["expected"].get("cssrs") for c in cases if "cssrs" in c["expected"])),
                ("with context", Counter("yes" if c.get("context") else "no" for c in cases)),
                ("category", Counter(x for c in cases for x in c["expected"]["categories"]))):
            items = sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))
            print(f"  {label}: " + ", ".join(f"{k}={v}" for k, v in items))
    return 0


if __name__ == "__main__":
    sys.exit(main())
