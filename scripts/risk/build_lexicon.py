#!/usr/bin/python3
"""Writes common/risk/model/srl_lexicon.json from the Suicide Risk Lexicon v1.0 (Low et al.).

Usage:
  /usr/bin/python3 scripts/risk/build_lexicon.py [--source ../shared/data/srl_lexicon] [--out FILE]

The lexicon lists 6,910 clinician-validated terms in 49 constructs (passive and active ideation,
lethal means, self-injury, abuse, substances, hopelessness...). The learned model counts, per
construct, the terms a message contains: a construct feature carries what its weight learned to
every term of the construct, including terms the training messages never used. The lexicon is
a feature source only, never a test set. Licence: Apache-2.0 (danielmlow/construct-tracker); the
licence text is copied beside the output as SRL_LEXICON_LICENSE.
"""
import argparse
import csv
import json
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DEFAULT_SOURCE = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "srl_lexicon"))
CSV_NAME = "suicide_risk_lexicon_validated_24-08-02T21-27-35.csv"
META_ROWS = 4  # construct label, definition, reference, examples
MAX_WORDS = 6


def slug(name):
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", default=DEFAULT_SOURCE)
    ap.add_argument("--out", default=os.path.join(ROOT, "common", "risk", "model", "srl_lexicon.json"))
    args = ap.parse_args()
    path = os.path.join(args.source, CSV_NAME)
    if not os.path.exists(path):
        print(f"lexicon not found at {path}", file=sys.stderr)
        return 2
    with open(path, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    names = [k for k in rows[0] if k and not k.endswith("_include") and not k.endswith("_add")]
    constructs = []
    total = 0
    for name in names:
        terms = sorted({r[name].strip().lower() for r in rows[META_ROWS:] if r[name].strip()
                        and len(r[name].split()) <= MAX_WORDS})
        constructs.append({"name": slug(name), "label": name, "terms": terms})
        total += len(terms)
    doc = {
        "format": 1,
        "name": "srl-lexicon",
        "version": "1.0-2024.08.02",
        "source": "https://github.com/danielmlow/construct-tracker (commit 5cacf8f6da25caa5bbf4d6a5ca733c52be7fec69), "
                  + CSV_NAME,
        "licence": "Apache-2.0 (SRL_LEXICON_LICENSE)",
        "citation": "Low DM, Rankin O, Bentley KH, Nock MK, Ghosh SS. Building lexicons with generative AI "
                    "result in lightweight and interpretable text models with high content validity (Suicide "
                    "Risk Lexicon v1.0).",
        "constructs": constructs,
    }
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(doc, out, ensure_ascii=False, indent=0)
        out.write("\n")
    lic = os.path.join(args.source, "LICENSE")
    if os.path.exists(lic):
        shutil.copyfile(lic, os.path.join(os.path.dirname(args.out), "SRL_LEXICON_LICENSE"))
    print(f"wrote {args.out}: {len(constructs)} constructs, {total} terms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
