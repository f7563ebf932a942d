#!/usr/bin/python3
"""Recalibrates the learned model's two thresholds on realistic conversation traffic.

Why: the model's thresholds were chosen on the dev sets' benign cases, which are written to be
hard negatives and turned out unlike real patient talk. On AnnoMI's client utterances (real
motivational-interviewing conversations, almost none of them a crisis) the model at those
thresholds raised 35% of messages to moderate or above, against 2% for the rules alone: it
would bury clinicians. This script picks the lowest common threshold at which the whole engine
(rules + model) raises at most --budget of the CALIBRATION half of AnnoMI (client utterances of
at least 4 words from even-numbered transcripts) to moderate or above, and writes a new model
file with those thresholds and a provenance note. The odd-numbered transcripts stay for
measuring. Only two numbers are derived from AnnoMI; no AnnoMI text enters the product.

  /usr/bin/python3 scripts/risk/calibrate_thresholds.py --tandem-risk build/release/common/risk/tandem-risk \
      --version 2026.11.26-4 [--annomi ../shared/data/annomi/AnnoMI-simple.csv] [--budget 0.085]
"""
import argparse, csv, json, os, struct, subprocess, sys, tempfile

MODEL = os.path.join(os.path.dirname(__file__), '..', '..', 'common', 'risk', 'model', 'risk_model.bin')


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


def annomi_half(csv_path, parity):
    out = []
    for row in csv.DictReader(open(csv_path, encoding='utf-8')):
        if row['interlocutor'] == 'client' and len(row['utterance_text'].split()) >= 4 \
                and int(row['transcript_id']) % 2 == parity:
            out.append({'id': f"{row['transcript_id']}-{row['utterance_id']}", 'role': 'patient',
                        'text': row['utterance_text']})
    return out


def raised_share(tandem_risk, model, messages):
    lines = ''.join(json.dumps(m) + '\n' for m in messages)
    out = subprocess.run([tandem_risk, '--model', model, 'screen'], input=lines, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    return sum(json.loads(l)['severity'] in ('moderate', 'high', 'imminent') for l in out) / len(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--tandem-risk', required=True)
    ap.add_argument('--annomi', default=os.path.join(os.path.dirname(__file__), '..', '..', '..', 'shared', 'data',
                                                      'annomi', 'AnnoMI-simple.csv'))
    ap.add_argument('--budget', type=float, default=0.085,
                    help="share of calibration messages raised to moderate+ (the issue's 10%% limit less a 1.5-point margin)")
    ap.add_argument('--version', required=True)
    ap.add_argument('--model', default=MODEL)
    args = ap.parse_args()
    if not os.path.exists(args.annomi):
        sys.exit(f'{args.annomi}: AnnoMI is absent; nothing calibrated')
    header, table = read_model(args.model)
    calibration = annomi_half(args.annomi, 0)
    floor = header['thresholds']['urgent']
    chosen = None
    with tempfile.TemporaryDirectory() as tmp:
        trial = os.path.join(tmp, 'trial.bin')
        for step in range(0, 1000):
            t = round(min(header['thresholds']['flag'], floor) + step * 0.002, 3)
            if t >= 1:
                break
            header['thresholds'] = {'flag': t, 'urgent': max(t, floor)}
            write_model(trial, header, table)
            share = raised_share(args.tandem_risk, trial, calibration)
            print(f'threshold {t:.3f}: {share:.4f} of {len(calibration)} calibration messages moderate+', file=sys.stderr)
            if share <= args.budget:
                chosen = (t, share)
                break
    if not chosen:
        sys.exit('no threshold meets the budget')
    header['version'] = args.version
    header['training']['threshold_calibration'] = (
        f"thresholds {chosen[0]:.3f} (flag and urgent, urgent floor {floor}): the lowest at which rules + model raise "
        f"at most {args.budget:.3f} of AnnoMI's even-transcript client utterances (>= 4 words, n={len(calibration)}) "
        f"to moderate+ (measured {chosen[1]:.4f}); scripts/risk/calibrate_thresholds.py")
    write_model(args.model, header, table)
    print(f'{args.model}: {header["name"]}@{args.version}, thresholds {header["thresholds"]}')


if __name__ == '__main__':
    main()
