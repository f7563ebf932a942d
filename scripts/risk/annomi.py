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
