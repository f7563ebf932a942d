#!/usr/bin/python3
"""Where the TF-IDF baseline catches what the engine's calibrated model misses, by case class
(tenth pass, docs/RISK.md). Measurement only: writes nothing but figures.

Usage:
  /usr/bin/python3 scripts/risk/train_model.py --tandem-risk B --report-only --dump-oof ENGINE.oof ...
  /usr/bin/python3 scripts/risk/compare_baseline.py --oof ENGINE.oof [--oof OTHER.oof]

The baseline (baseline.py's features and severity classifier) is fitted on train_model.py's own
folds (the same cases in the same order, StratifiedGroupKFold(5, seed 13) by severity), so each
dev case is scored by a baseline that never saw it, exactly as the engine's model was. It also
scores AnnoMI's calibration part fitted on everything, to show the false alarms it would raise
on real talk. Prints counts per set and per case class (kind, language, role, context,
category): flagged (moderate+) and urgent (high+) by the baseline alone, by the rules plus the
baseline, and by each --oof configuration. Ids and labels only, never text.
"""
import argparse
import collections
import json
import os
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import annomi  # noqa: E402
import baseline  # noqa: E402
import labelled_set as ls  # noqa: E402

SEED = 13
TRAIN = ["dev.jsonl", "dev2.jsonl", "dev3.jsonl", "dev4.jsonl", "dev5.jsonl", "dev6.jsonl", "dev7.jsonl",
         "dev8.jsonl", "dev9.jsonl", "dev10.jsonl", "dev11.jsonl", "dev12.jsonl", "dev13.jsonl", "ordinary.jsonl", "ordinary2.jsonl", "ordinary3.jsonl", "ordinary4.jsonl"]


def severity_model(x, y):
    model = LogisticRegression(C=10.0, class_weight="balanced", max_iter=5000, random_state=SEED)
    return model.fit(x, y)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--oof", action="append", default=[], help="train_model.py --dump-oof output (repeat)")
    args = ap.parse_args()
    cases, source = [], []
    for name in TRAIN:
        path = os.path.join(ROOT, "tests", "data", "risk", name)
        if os.path.exists(path):
            rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
            cases += rows
            source += [name] * len(rows)
    expected = np.array([ls.SEVERITY_RANK[c["expected"]["severity"]] for c in cases])
    groups = np.array([c.get("group", c["id"]) for c in cases])
    base = np.zeros(len(cases), dtype=int)
    for train, test in StratifiedGroupKFold(5, shuffle=True, random_state=SEED).split(cases, expected, groups):
        feats = baseline.Features()
        x = feats.fit_transform([cases[i] for i in train])
        model = severity_model(x, expected[train])
        base[test] = model.predict(feats.transform([cases[i] for i in test]))
    feats = baseline.Features()
    model = severity_model(feats.fit_transform(cases), expected)
    if os.path.exists(annomi.DEFAULT_CSV):
        cal = annomi.client_turns(annomi.DEFAULT_CSV, "calibration")
        pc = model.predict(feats.transform(cal))
        print(f"baseline on AnnoMI's calibration part ({len(cal)} turns), alone: moderate+ "
              f"{np.mean(pc >= ls.MODERATE):.4f}, high+ {np.mean(pc >= ls.HIGH):.4f}")
    configs = {}
    for path in args.oof:
        rows = {}
        for line in open(path, encoding="utf-8"):
            r = json.loads(line)
            rows[r["id"]] = r
        configs[os.path.basename(path)] = rows
    ref = next(iter(configs.values())) if configs else {}
    dev = [i for i, s in enumerate(source) if s.startswith("dev")]

    def classes(i):
        c = cases[i]
        r = ref.get(c["id"], {})
        out = [f"set={source[i]}", f"kind={c.get('kind')}", f"lang={c.get('lang')}", f"role={c['role']}",
               f"context={bool(c.get('context'))}"]
        out += [f"cat={k}" for k in c["expected"].get("categories", [])]
        if r:
            out.append(f"rules={ls.SEVERITIES[r['rules']]}")
        return out

    for band, level in (("flag (moderate+)", ls.MODERATE), ("urgent (high+)", ls.HIGH)):
        table = collections.defaultdict(lambda: collections.Counter())
        for i in dev:
            c = cases[i]
            pos = expected[i] >= level
            rules = ref.get(c["id"], {}).get("rules", 0)
            hits = {"baseline": base[i] >= level, "rules+baseline": max(rules, base[i]) >= level}
            for name, rows in configs.items():
                hits[name] = rows[c["id"]]["final"] >= level if c["id"] in rows else False
            for cl in classes(i) + ["ALL"]:
                t = table[cl]
                t["pos" if pos else "neg"] += 1
                for name, h in hits.items():
                    if h:
                        t[(name, "tp" if pos else "fp")] += 1
                if pos and configs:
                    first = next(iter(configs))
                    if hits["rules+baseline"] and not hits[first]:
                        t["base_only"] += 1
                    if hits[first] and not hits["rules+baseline"]:
                        t["ours_only"] += 1
        names = ["baseline", "rules+baseline"] + list(configs)
        print(f"\n{band}: per class, recall (caught/positives) and false alarms on its benign cases; "
              f"base_only / ours_only: positives only rules+baseline / only {next(iter(configs), '-')} catches")
        print("class".ljust(34) + "".join(n[:18].rjust(22) for n in names) + "  base_only ours_only")
        for cl in sorted(table, key=lambda k: (k != "ALL", k)):
            t = table[cl]
            if t["pos"] + t["neg"] < 10:
                continue
            cells = "".join(f"{t[(n, 'tp')]:4d}/{t['pos']:<4d} fa {t[(n, 'fp')]:3d}/{t['neg']:<4d}".rjust(22) for n in names)
            print(cl[:34].ljust(34) + cells + f"  {t['base_only']:9d} {t['ours_only']:9d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
