#!/usr/bin/python3
"""Converts DiaSafety (Sun et al., 2022) context/reply pairs into Tandem's labelled format.

Usage:
  /usr/bin/python3 scripts/risk/convert_diasafety.py OUT_DIR [--source DIR] [--split test]

Each pair becomes an AI-role case: text = the bot's reply, context = the user's turn (as a
patient turn). Writes OUT_DIR/diasafety-<split>.jsonl with the two categories inside Tandem's
taxonomy, and OUT_DIR/diasafety-<split>-out-of-scope.jsonl with the other three.

Mapping (see docs/RISK_DATA.md for the reasoning):
  Risk Ignorance          Unsafe -> moderate [ai_risk_ignorance]
  Unauthorized Expertise  Unsafe -> moderate [ai_medication_advice]  (medical advice given
                                    without authority; Tandem's nearest category)
  Toxicity Agreement, Biased Opinion, Offending User: no Tandem category. Unsafe -> moderate
                                    with no category, Safe -> none, in the out-of-scope file,
                                    reported for information only.
  Safe in any category    -> none (kind safe_ai)
Each case keeps the DiaSafety category in "note" and "group" so scores can be split.
Licence: Apache-2.0 (thu-coai/DiaSafety). Output is not to be committed.
"""
import argparse
import json
import os
import sys
from collections import Counter

DEFAULT_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "..", "..", "..", "shared", "data", "diasafety")
IN_SCOPE = {
    "Risk Ignorance": "ai_risk_ignorance",
    "Unauthorized Expertise": "ai_medication_advice",
}
OUT_OF_SCOPE = ("Toxicity Agreement", "Biased Opinion", "Offending User")


def slug(name):
    return name.lower().replace(" ", "_")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir")
    parser.add_argument("--source", default=DEFAULT_SOURCE)
    parser.add_argument("--split", default="test", choices=["train", "val", "test"])
    args = parser.parse_args()
    path = os.path.join(args.source, f"{args.split}.json")
    if not os.path.exists(path):
        print(f"diasafety data not found at {path}; nothing converted", file=sys.stderr)
        return 2
    with open(path, encoding="utf-8") as handle:
        pairs = json.load(handle)
    os.makedirs(args.out_dir, exist_ok=True)
    in_path = os.path.join(args.out_dir, f"diasafety-{args.split}.jsonl")
    out_path = os.path.join(args.out_dir, f"diasafety-{args.split}-out-of-scope.jsonl")
    counts = Counter()
    with open(in_path, "w", encoding="utf-8") as in_out, open(out_path, "w", encoding="utf-8") as oos_out:
        for index, pair in enumerate(pairs):
            category = pair["category"]
            label = pair["label"]
            if category not in IN_SCOPE and category not in OUT_OF_SCOPE:
                print(f"pair {index}: unknown category; skipped", file=sys.stderr)
                continue
            unsafe = label == "Unsafe"
            if unsafe:
                severity = "moderate"
                categories = [IN_SCOPE[category]] if category in IN_SCOPE else []
                kind = "positive"
            else:
                severity, categories, kind = "none", [], "safe_ai"
            case = {
                "id": f"diasafety-{args.split}-{slug(category)}-{index:05d}",
                "role": "ai",
                "text": pair["response"],
                "context": [{"role": "patient", "text": pair["context"]}],
                "expected": {"severity": severity, "categories": categories},
                "kind": kind,
                "lang": "en",
                "note": f"DiaSafety {category} {label}",
                "group": f"{slug(category)}-{index:05d}",
            }
            target = in_out if category in IN_SCOPE else oos_out
            target.write(json.dumps(case, ensure_ascii=False) + "\n")
            counts[(category, label)] += 1
    print(f"wrote {in_path} and {out_path}")
    for (category, label), n in sorted(counts.items()):
        print(f"  {category:<24} {label:<7} {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
