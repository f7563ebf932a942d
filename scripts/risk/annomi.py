#!/usr/bin/python3
"""AnnoMI (Wu et al. 2022) client turns as realistic, non-crisis patient messages.

AnnoMI holds 133 transcribed motivational-interviewing conversations (alcohol, smoking, diet,
exercise...). Its client turns are the closest thing we have to ordinary patient talk, which the
written sets' benign cases (hard negatives built to trip rules) are not. It is research data
("research use with citation"; ../shared/data/README.md): its text never enters the repository
or the product, only numbers derived from it (model weights, thresholds) may ship.

The transcripts are split by transcript number so that no conversation is in two parts:
  transcript % 4 == 0  training negatives, for measurement only (train_model.py --annomi-negatives;
                       the shipped model is not trained on AnnoMI: licence, docs/RISK.md seventh pass)
  transcript % 4 == 2  threshold calibration (calibrate_thresholds.py)
  transcript odd       measurement only, never trained or tuned on
Each case is a patient message with the two turns before it as context (the therapist plays
the AI's part), so the model sees ordinary talk the way the engine screens it. Stdlib only.
"""
import csv
import os

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CSV = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data", "annomi", "AnnoMI-simple.csv"))
PARTS = {"train": (4, 0), "calibration": (4, 2), "odd": (2, 1)}


def client_turns(csv_path, part, min_words=4, context_turns=2):
    """Client turns of one part ("train", "calibration", "odd") as labelled-set cases (expected
    none), with at most `context_turns` earlier turns as context, in transcript order."""
    mod, rest = PARTS[part]
    by_transcript = {}
    with open(csv_path, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            t = int(row["transcript_id"])
            if t % mod != rest:
                continue
            by_transcript.setdefault(t, []).append(row)
    out = []
    for t in sorted(by_transcript):
        rows = sorted(by_transcript[t], key=lambda r: int(r["utterance_id"]))
        for i, row in enumerate(rows):
            if row["interlocutor"] != "client" or len(row["utterance_text"].split()) < min_words:
                continue
            context = [{"role": "patient" if r["interlocutor"] == "client" else "ai", "text": r["utterance_text"]}
                       for r in rows[max(0, i - context_turns):i]]
            case = {"id": f"annomi-{t}-{row['utterance_id']}", "role": "patient", "text": row["utterance_text"],
                    "expected": {"severity": "none", "categories": []}, "kind": "benign", "lang": "en",
                    "group": f"annomi-{t}"}
            if context:
                case["context"] = context
            out.append(case)
    return out


def main():
    """Screens one part's client turns with the whole engine and prints the shares it raises:
    the false-alarm check on real talk (docs/RISK.md). Prints figures, never text."""
    import argparse
    import json
    import subprocess
    ap = argparse.ArgumentParser(description="share of AnnoMI client turns tandem-risk raises to moderate+ and high+")
    ap.add_argument("--tandem-risk", required=True)
    ap.add_argument("--annomi", default=DEFAULT_CSV)
    ap.add_argument("--model", help="model file instead of the built-in one")
    ap.add_argument("--no-model", action="store_true", help="the rules alone")
    ap.add_argument("--write", metavar="DIR", help="also write each part as a labelled set DIR/annomi-PART.jsonl "
                                                   "(for baseline.py --heldout; outside the repository: AnnoMI text)")
    ap.add_argument("parts", nargs="+", choices=sorted(PARTS))
    args = ap.parse_args()
    command = [args.tandem_risk] + (["--model", args.model] if args.model else []) + \
        (["--no-model"] if args.no_model else []) + ["screen"]
    for part in args.parts:
        cases = client_turns(args.annomi, part)
        if args.write:
            with open(os.path.join(args.write, f"annomi-{part}.jsonl"), "w", encoding="utf-8") as out:
                out.writelines(json.dumps(c) + "\n" for c in cases)
        lines = "".join(json.dumps({"id": c["id"], "role": "patient", "text": c["text"],
                                    "context": c.get("context", [])}) + "\n" for c in cases)
        out = subprocess.run(command, input=lines, capture_output=True, text=True, check=True).stdout.splitlines()
        severities = [json.loads(line)["severity"] for line in out]
        moderate = sum(s in ("moderate", "high", "imminent") for s in severities)
        high = sum(s in ("high", "imminent") for s in severities)
        print(f"AnnoMI {part} ({len(cases)} client turns): moderate+ {moderate} ({moderate / len(cases):.2%}), "
              f"high+ {high} ({high / len(cases):.2%})")


if __name__ == "__main__":
    main()
