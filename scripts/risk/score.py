#!/usr/bin/python3
"""Scores any screener's predictions against a labelled set with the shared metrics.

Usage:
  tandem-risk screen < set.jsonl > predictions.jsonl
  /usr/bin/python3 scripts/risk/score.py set.jsonl predictions.jsonl [--group]

predictions: JSON lines {"id", "severity", "categories", ...} (tandem-risk screen's output).
--group collapses cases sharing "group" (gaur500 posts) to one per group, maximum severity.
Prints the same figures as baseline.py so the engine and the baseline sit side by side.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labelled_set as ls  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("labels")
    parser.add_argument("predictions")
    parser.add_argument("--group", action="store_true")
    parser.add_argument("--misses", action="store_true",
                        help="list ids (never text) of flag misses and benign false alarms")
    args = parser.parse_args()
    cases = ls.read_cases(args.labels, strict=False)
    by_id = {}
    with open(args.predictions, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                row = json.loads(line)
                if row.get("severity") not in ls.SEVERITY_RANK:
                    sys.exit(f"{args.predictions}:{number}: bad severity")
                by_id[row["id"]] = (row["severity"], set(row.get("categories", [])))
    missing = [c["id"] for c in cases if c["id"] not in by_id]
    if missing:
        sys.exit(f"{len(missing)} cases have no prediction, first: {missing[0]}")
    predicted = [by_id[c["id"]] for c in cases]
    if args.group:
        cases, predicted = ls.group_max(cases, predicted)
    ls.print_metrics(os.path.basename(args.labels), ls.metrics([ls.expected_of(c) for c in cases], predicted))
    ls.print_breakdown(cases, predicted)
    if args.misses:
        for case, (severity, _) in zip(cases, predicted):
            e = ls.SEVERITY_RANK[case["expected"]["severity"]]
            p = ls.SEVERITY_RANK[severity]
            if (e >= ls.MODERATE) != (p >= ls.MODERATE) or (e >= ls.HIGH) != (p >= ls.HIGH):
                print(f"  {case['id']}: expected {case['expected']['severity']}, got {severity}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
