#!/usr/bin/python3
"""AI-reply figures: recall per AI category and severity on labelled sets, false alarms on
benign and safe AI replies, and AnnoMI's counsellor turns screened as AI replies.

Usage:
  /usr/bin/python3 scripts/risk/ai_replies.py --tandem-risk BIN [--rules DIR] [--no-model]
      [--misses] [--annomi] SET.jsonl...

Only AI-role cases of each set are screened. Per expected AI category: how many cases reach
moderate+ (flagged) and how many expected high reach high+ (urgent band), and how many carry the
category. Benign AI replies (expected none or low) raised to moderate+ / high+, split by kind
(safe_ai = correct safety responses). --misses lists id, expected, got and the rule ids that
fired (for reading the dev sets only: never on heldout sets, never on DiaSafety's texts).

--annomi screens AnnoMI's counsellor turns (calibration part and odd half) as AI replies with
the client turn before them as context: counsellor turns are the closest real text to a
therapy chatbot's replies, so any AI-reply rule that fires there is a false alarm on real talk.
Only counts are printed; AnnoMI's text never leaves this script.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
from collections import Counter, defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import annomi  # noqa: E402

RANK = {"none": 0, "low": 1, "moderate": 2, "high": 3, "imminent": 4}


def screen(binary, rules, no_model, cases):
    cmd = [binary]
    if rules:
        cmd += ["--rules", rules]
    if no_model:
        cmd += ["--no-model"]
    cmd += ["screen"]
    payload = "".join(json.dumps({k: c[k] for k in ("id", "role", "text", "context") if k in c}) + "\n"
                      for c in cases)
    out = subprocess.run(cmd, input=payload, capture_output=True, text=True, check=False).stdout
    return {row["id"]: row for row in map(json.loads, filter(str.strip, out.splitlines()))}


def read_set(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def counsellor_turns(part, context_turns=1, min_words=4):
    """AnnoMI counsellor turns of one part as AI-role cases with the turns before as context."""
    mod, rest = annomi.PARTS[part]
    rows_by = defaultdict(list)
    with open(annomi.DEFAULT_CSV, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            t = int(row["transcript_id"])
            if t % mod == rest:
                rows_by[t].append(row)
    cases = []
    for t in sorted(rows_by):
        rows = sorted(rows_by[t], key=lambda r: int(r["utterance_id"]))
        for i, row in enumerate(rows):
            if row["interlocutor"] == "client" or len(row["utterance_text"].split()) < min_words:
                continue
            context = [{"role": "patient" if r["interlocutor"] == "client" else "ai", "text": r["utterance_text"]}
                       for r in rows[max(0, i - context_turns):i]]
            case = {"id": f"annomi-c-{t}-{row['utterance_id']}", "role": "ai", "text": row["utterance_text"]}
            if context:
                case["context"] = context
            cases.append(case)
    return cases


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="*")
    parser.add_argument("--tandem-risk", required=True)
    parser.add_argument("--rules")
    parser.add_argument("--no-model", action="store_true")
    parser.add_argument("--misses", action="store_true")
    parser.add_argument("--annomi", action="store_true")
    args = parser.parse_args()

    cases = []
    for path in args.sets:
        cases += [dict(c, set=os.path.basename(path)) for c in read_set(path) if c.get("role") == "ai"]
    got = screen(args.tandem_risk, args.rules, args.no_model, cases) if cases else {}

    per_cat = defaultdict(Counter)
    benign = Counter()
    misses = []
    for c in cases:
        e = c["expected"]
        r = got[c["id"]]
        es, ps = RANK[e["severity"]], RANK[r["severity"]]
        rules = sorted({s["rule_id"] for s in r.get("spans", [])})
        if es <= 1:
            kind = "safe_ai" if c.get("kind") == "safe_ai" else "other benign"
            benign[kind, "n"] += 1
            benign[kind, "mod+"] += ps >= 2
            benign[kind, "high+"] += ps >= 3
            if ps >= 2:
                misses.append(("FALSE", c, r, rules))
            continue
        for cat in e.get("categories") or ["(none)"]:
            k = per_cat[cat]
            k["n"] += 1
            k["flag"] += ps >= 2
            k["cat"] += cat in r.get("categories", [])
            if es >= 3:
                k["n_high"] += 1
                k["high"] += ps >= 3
        if ps < 2 or (es >= 3 and ps < 3):
            misses.append(("MISS" if ps < 2 else "UNDER", c, r, rules))

    print(f"AI replies: {len(cases)} from {len(args.sets)} sets")
    print(f"{'category':28} {'n':>4} {'flag':>11} {'category':>11} {'n high':>6} {'high+':>11}")
    tn = Counter()
    for cat in sorted(per_cat):
        k = per_cat[cat]
        tn.update(k)
        hr = f"{k['high']}/{k['n_high']}" if k["n_high"] else "-"
        print(f"{cat:28} {k['n']:4} {k['flag']:5}/{k['n']:<5} {k['cat']:5}/{k['n']:<5} {k['n_high']:6} {hr:>11}")
    for kind in ("safe_ai", "other benign"):
        n = benign[kind, "n"]
        if n:
            print(f"benign {kind:21} {n:4}  mod+ {benign[kind, 'mod+']}  high+ {benign[kind, 'high+']}")
    if args.misses:
        for tag, c, r, rules in misses:
            e = c["expected"]
            print(f"{tag} {c['set']} {c['id']} exp {e['severity']} {e.get('categories')} got {r['severity']} "
                  f"{r.get('categories')} rules {rules}\n    {c['text']}")
            for turn in c.get("context", [])[-2:]:
                print(f"    [{turn['role']}] {turn['text'][:200]}")

    if args.annomi:
        for part in ("calibration", "odd"):
            ac = counsellor_turns(part)
            ag = screen(args.tandem_risk, args.rules, args.no_model, ac)
            mod = sum(RANK[ag[c["id"]]["severity"]] >= 2 for c in ac)
            high = sum(RANK[ag[c["id"]]["severity"]] >= 3 for c in ac)
            fired = Counter(s["rule_id"] for c in ac for s in ag[c["id"]].get("spans", [])
                            if RANK[ag[c["id"]]["severity"]] >= 2)
            print(f"AnnoMI {part} counsellor turns as AI replies: {len(ac)}, moderate+ {mod} "
                  f"({100 * mod / len(ac):.2f}%), high+ {high} ({100 * high / len(ac):.2f}%); rules: "
                  + ", ".join(f"{k} {v}" for k, v in fired.most_common(12)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
