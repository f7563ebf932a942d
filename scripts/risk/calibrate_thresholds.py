#!/usr/bin/python3
"""Calibrates the learned model's two thresholds, one per head, on realistic conversation traffic.

Why: thresholds chosen on the written sets' benign cases (hard negatives written to trip rules)
let the model raise a third of real patient talk to moderate or above (sixth pass, docs/RISK.md).
This script runs the whole engine (rules + model, `tandem-risk --model FILE screen`) on the
CALIBRATION part of AnnoMI (client turns of at least 4 words from transcripts % 4 == 2, each with
its two previous turns as context; scripts/risk/annomi.py) and picks, starting from the model
file's own thresholds (the training script's out-of-fold floors, never lowered):
  1. the urgent threshold: the lowest at which at most --high-budget of the part is raised to
     high or above (only the urgent head can raise to high);
  2. the flag threshold: the lowest at which at most --budget is raised to moderate or above,
     given that urgent threshold (if none does, the urgent threshold is raised further).
Shares only fall as a threshold rises, so each is found by bisection on a 0.001 grid. It writes
the thresholds and a provenance note into the model file. Transcripts % 4 == 0 are the training
negatives, odd transcripts are for measuring only. Only numbers derived from AnnoMI ship; no
AnnoMI text enters the product.

  /usr/bin/python3 scripts/risk/calibrate_thresholds.py --tandem-risk build/release/common/risk/tandem-risk \
      --version 2026.11.26-5 [--annomi ../shared/data/annomi/AnnoMI-simple.csv] [--budget 0.10] [--high-budget 0.02]
"""
import argparse
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import annomi  # noqa: E402

MODEL = os.path.join(HERE, '..', '..', 'common', 'risk', 'model', 'risk_model.bin')
# The limits themselves (10% moderate+, 2% high+), a clinical decision of the eleventh
# pass; the margin for unseen talk is checked, not spent: AnnoMI's odd half must stay within
# 9.5% / 1.9% (train_model.py --budget-curve). Until the tenth pass: 8.5% / 1%.
MODERATE_BUDGET = 0.10
HIGH_BUDGET = 0.02
STEP = 0.001


def read_model(path):
    data = open(path, 'rb').read()
    if data[:8] != b'TANDEMRM':
        sys.exit(f'{path}: not a Tandem risk model')
    n = struct.unpack('<I', data[8:12])[0]
    return json.loads(data[12:12 + n]), data[12 + n:]


def write_model(path, header, table):
    body = json.dumps(header).encode()
    with open(path, 'wb') as f:
        f.write(b'TANDEMRM' + struct.pack('<I', len(body)) + body + table)


def lowest(share, floor, budget):
    """Lowest threshold on the STEP grid, >= floor and < 1, with share(t) <= budget, or None.
    share must not increase with t."""
    lo = math.ceil(floor / STEP - 1e-9)  # never below the floor
    hi = round(1 / STEP) - 1
    if share(hi * STEP) > budget:
        return None
    if share(lo * STEP) <= budget:
        return lo * STEP
    while hi - lo > 1:  # share(lo) > budget >= share(hi)
        mid = (lo + hi) // 2
        if share(mid * STEP) <= budget:
            hi = mid
        else:
            lo = mid
    return hi * STEP


def choose(shares, floors, budget, high_budget):
    """Per-head thresholds. shares(tf, tu) -> (moderate+ share, high+ share); floors = (tf, tu)."""
    tf0, tu0 = floors
    tu = lowest(lambda t: shares(tf0, t)[1], tu0, high_budget)
    if tu is None:
        return None
    tf = lowest(lambda t: shares(t, tu)[0], tf0, budget)
    if tf is None:  # the urgent head alone raises too much to moderate: raise it too
        tf = 1 - STEP
        tu = lowest(lambda t: shares(tf, t)[0], tu, budget)
        if tu is None:
            return None
    return round(tf, 3), round(tu, 3)


def engine_shares(tandem_risk, model, messages):
    lines = ''.join(json.dumps({k: m[k] for k in ('id', 'role', 'text', 'context') if k in m}) + '\n'
                    for m in messages)
    out = subprocess.run([tandem_risk, '--model', model, 'screen'], input=lines, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    sev = [json.loads(line)['severity'] for line in out]
    return (sum(s in ('moderate', 'high', 'imminent') for s in sev) / len(sev),
            sum(s in ('high', 'imminent') for s in sev) / len(sev))


def check_families(args, header, table, calibration):
    """Per-family thresholds (ninth pass) were allocated by train_model.py with its float model;
    the engine scores with int8 weights. Measure the whole engine on the calibration part and, if
    it is over a budget, raise every family's thresholds by the least common step (STEP) that
    brings it within (never lower them)."""
    base = json.loads(json.dumps(header['thresholds']['categories']))
    with tempfile.TemporaryDirectory() as tmp:
        trial = os.path.join(tmp, 'trial.bin')

        def shares(delta_flag, delta_urgent):
            header['thresholds']['categories'] = {
                k: {'flag': round(min(0.999, v['flag'] + delta_flag), 3),
                    'urgent': round(min(0.999, v['urgent'] + delta_urgent), 3)} for k, v in base.items()}
            write_model(trial, header, table)
            got = engine_shares(args.tandem_risk, trial, calibration)
            print(f'families +{delta_flag:.3f} / +{delta_urgent:.3f}: moderate+ {got[0]:.4f}, high+ {got[1]:.4f} '
                  f'of {len(calibration)}', file=sys.stderr)
            return got

        du = 0.0
        while shares(0.0, du)[1] > args.high_budget and du < 1:
            du += STEP
        df = 0.0
        while shares(df, du)[0] > args.budget and df < 1:
            df += STEP
        mod, high = shares(df, du)
    if mod > args.budget or high > args.high_budget:
        sys.exit('no thresholds meet the budgets')
    header['version'] = args.version
    header['training']['threshold_calibration'] = (
        f"per-family thresholds from train_model.py raised by +{df:.3f} (flag) / +{du:.3f} (urgent) so that rules + "
        f"model (int8, the engine) raise at most {args.high_budget:.3f} to high+ and {args.budget:.3f} to moderate+ of "
        f"AnnoMI's client turns (>= 4 words, 2 turns of context) from transcripts % 4 == 2 (n={len(calibration)}; "
        f"measured {mod:.4f} / {high:.4f}); scripts/risk/calibrate_thresholds.py")
    write_model(args.model, header, table)
    print(f'{args.model}: {header["name"]}@{args.version}, thresholds {header["thresholds"]}, '
          f'calibration part moderate+ {mod:.4f}, high+ {high:.4f}')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--tandem-risk', required=True)
    ap.add_argument('--annomi', default=annomi.DEFAULT_CSV)
    ap.add_argument('--budget', type=float, default=MODERATE_BUDGET, help='share of the part raised to moderate+')
    ap.add_argument('--high-budget', type=float, default=HIGH_BUDGET, help='share of the part raised to high+')
    ap.add_argument('--version', required=True)
    ap.add_argument('--model', default=MODEL)
    args = ap.parse_args()
    if not os.path.exists(args.annomi):
        sys.exit(f'{args.annomi}: AnnoMI is absent; nothing calibrated')
    header, table = read_model(args.model)
    calibration = annomi.client_turns(args.annomi, 'calibration')
    if 'categories' in header['thresholds']:
        return check_families(args, header, table, calibration)
    floors = (header['thresholds']['flag'], header['thresholds']['urgent'])
    cache = {}
    with tempfile.TemporaryDirectory() as tmp:
        trial = os.path.join(tmp, 'trial.bin')

        def shares(tf, tu):
            key = (round(tf, 3), round(tu, 3))
            if key not in cache:
                header['thresholds'] = dict(header['thresholds'], flag=key[0], urgent=key[1])
                write_model(trial, header, table)
                cache[key] = engine_shares(args.tandem_risk, trial, calibration)
                print(f'flag {key[0]:.3f} urgent {key[1]:.3f}: moderate+ {cache[key][0]:.4f}, high+ {cache[key][1]:.4f} '
                      f'of {len(calibration)}', file=sys.stderr)
            return cache[key]

        chosen = choose(shares, floors, args.budget, args.high_budget)
    if not chosen:
        sys.exit('no thresholds meet the budgets')
    tf, tu = chosen
    mod, high = cache[(tf, tu)] if (tf, tu) in cache else (float('nan'), float('nan'))
    header['thresholds'] = dict(header['thresholds'], flag=tf, urgent=tu)  # the AI-reply head's stays
    header['version'] = args.version
    header['training']['threshold_calibration'] = (
        f"flag {tf:.3f}, urgent {tu:.3f} (out-of-fold floors {floors[0]}, {floors[1]}): the lowest at which rules + "
        f"model raise at most {args.high_budget:.3f} to high+ (urgent head) and {args.budget:.3f} to moderate+ (flag "
        f"head) of AnnoMI's client turns (>= 4 words, 2 turns of context) from transcripts % 4 == 2 "
        f"(n={len(calibration)}; measured {mod:.4f} / {high:.4f}); scripts/risk/calibrate_thresholds.py")
    write_model(args.model, header, table)
    print(f'{args.model}: {header["name"]}@{args.version}, thresholds {header["thresholds"]}, '
          f'calibration part moderate+ {mod:.4f}, high+ {high:.4f}')


if __name__ == '__main__':
    main()
