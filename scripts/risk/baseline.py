#!/usr/bin/python3
"""TF-IDF + logistic-regression baseline for Tandem's risk engine (issue 3, "Measuring it").

Usage:
  /usr/bin/python3 scripts/risk/baseline.py [--dev tests/data/risk/dev.jsonl]
      [--heldout tests/data/risk/heldout.jsonl] [--public-dir DIR | --no-public]

Trains on the development set only. Prints, in the same layout as score.py:
  dev       5-fold stratified cross-validation (each case predicted by a model that never saw it)
  heldout   model trained on all of dev
  gaur500   user level two ways: every post classified and the user's severity = max over posts,
            and the user's posts joined into one text
  diasafety test split, the two in-scope categories, then the out-of-scope three
Public sets are converted on the fly from ../shared/data (or read from --public-dir holding
the converters' output); they are skipped with a message when absent. Needs python3-sklearn
(Debian). Deterministic: fixed seeds, single thread.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import labelled_set as ls  # noqa: E402

SEED = 13
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


def context_string(case):
    # The role and the last three context turns as separate features: "yes" means something
    # only after a screening question, and a reply is judged against what the patient said.
    turns = case.get("context", [])[-3:]
    parts = ["role_" + case["role"]]
    for turn in turns:
        parts.append(" ".join(f"{turn['role']}_{w}" for w in turn["text"].lower().split()))
    return " ".join(parts)


class Features:
    """Word 1-2 grams and char_wb 2-5 grams of the message, word 1-2 grams of the context."""

    def __init__(self):
        self.word = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                                    token_pattern=r"(?u)\b\w+\b")
        self.char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
        self.ctx = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                                   token_pattern=r"\S+")

    def fit_transform(self, cases):
        texts = [c["text"] for c in cases]
        ctx = [context_string(c) for c in cases]
        return hstack([self.word.fit_transform(texts), self.char.fit_transform(texts),
                       self.ctx.fit_transform(ctx)]).tocsr()

    def transform(self, cases):
        texts = [c["text"] for c in cases]
        ctx = [context_string(c) for c in cases]
        return hstack([self.word.transform(texts), self.char.transform(texts),
                       self.ctx.transform(ctx)]).tocsr()


class Baseline:
    """A severity classifier (5 classes) plus one binary classifier per category seen in training."""

    def fit(self, cases):
        self.features = Features()
        x = self.features.fit_transform(cases)
        y = np.array([ls.SEVERITY_RANK[c["expected"]["severity"]] for c in cases])
        self.severity = LogisticRegression(C=10.0, class_weight="balanced", max_iter=5000,
                                           random_state=SEED)
        self.severity.fit(x, y)
        self.categories = {}
        for category in ls.CATEGORIES:
            target = np.array([category in c["expected"]["categories"] for c in cases], dtype=int)
            if target.sum() == 0:
                continue
            model = LogisticRegression(C=10.0, class_weight="balanced", max_iter=5000,
                                       random_state=SEED)
            model.fit(x, target)
            self.categories[category] = model
        return self

    def predict(self, cases, batch=2000):
        out = []
        for start in range(0, len(cases), batch):
            out.extend(self._predict(cases[start:start + batch]))
        return out

    def _predict(self, cases):
        x = self.features.transform(cases)
        severities = self.severity.predict(x)
        names = list(self.categories)
        if names:
            probs = np.column_stack([self.categories[n].predict_proba(x)[:, 1] for n in names])
        result = []
        for i, rank in enumerate(severities):
            rank = int(rank)
            cats = set()
            if rank >= ls.MODERATE and names:
                cats = {n for n, p in zip(names, probs[i]) if p >= 0.5}
                if not cats:
                    cats = {names[int(np.argmax(probs[i]))]}
            result.append((ls.SEVERITIES[rank], cats))
        return result


def cross_validate(cases):
    labels = np.array([ls.SEVERITY_RANK[c["expected"]["severity"]] for c in cases])
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    predicted = [None] * len(cases)
    for train, test in folds.split(np.zeros(len(cases)), labels):
        model = Baseline().fit([cases[i] for i in train])
        for i, p in zip(test, model.predict([cases[i] for i in test])):
            predicted[i] = p
    return predicted


def report(title, cases, predicted, breakdown=True):
    figures = ls.metrics([ls.expected_of(c) for c in cases], predicted)
    ls.print_metrics(title, figures)
    if breakdown:
        ls.print_breakdown(cases, predicted)
    sys.stdout.write("\n")
    sys.stdout.flush()


def convert_public(target):
    """Converts the public sets found under ../shared/data into target (absent ones skipped)."""
    for script in ("convert_gaur500.py", "convert_diasafety.py"):
        subprocess.run([sys.executable, os.path.join(HERE, script), target],
                       stdout=subprocess.DEVNULL, check=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dev", action="append",
                        help="training set (repeat to train on several; default dev..dev13 and ordinary..ordinary4)")
    parser.add_argument("--heldout", action="append",
                        help="held-out set to score (repeat for several; default tests/data/risk/heldout*.jsonl)")
    parser.add_argument("--public-dir", help="folder with the converters' output")
    parser.add_argument("--no-public", action="store_true", help="skip gaur500 and DiaSafety")
    args = parser.parse_args()

    # Default: everything the engine's model trains on (train_model.py), so the two compare.
    dev_files = args.dev or [p for p in (os.path.join(ROOT, "tests", "data", "risk", n) for n in (
        "dev.jsonl", "dev2.jsonl", "dev3.jsonl", "dev4.jsonl", "dev5.jsonl", "dev6.jsonl", "dev7.jsonl",
        "dev8.jsonl", "dev9.jsonl", "dev10.jsonl", "dev11.jsonl", "dev12.jsonl", "dev13.jsonl", "ordinary.jsonl", "ordinary2.jsonl", "ordinary3.jsonl", "ordinary4.jsonl")) if os.path.exists(p)]
    dev = [c for f in dev_files for c in ls.read_cases(f)]
    print(f"baseline: TF-IDF (word 1-2, char_wb 2-5, context word 1-2) + logistic regression "
          f"(C=10, balanced), seed {SEED}, trained on {', '.join(dev_files)} ({len(dev)} cases)\n")
    report("dev (5-fold cross-validation)", dev, cross_validate(dev))

    model = Baseline().fit(dev)
    heldout_files = args.heldout or [os.path.join(ROOT, "tests", "data", "risk", n)
                                     for n in ("heldout.jsonl", "heldout2.jsonl")]
    for path in heldout_files:
        if os.path.exists(path):
            heldout = ls.read_cases(path)
            report(f"{os.path.basename(path)} (trained on all training sets)", heldout, model.predict(heldout))

    if args.no_public:
        return 0
    if args.public_dir:
        return report_public(model, args.public_dir)
    # A temporary directory, removed afterwards: the converted text is real people's posts
    # and must not linger on disk.
    with tempfile.TemporaryDirectory(prefix="tandem-risk-public-") as folder:
        convert_public(folder)
        return report_public(model, folder)


def report_public(model, folder):
    posts_path = os.path.join(folder, "gaur500-posts.jsonl")
    users_path = os.path.join(folder, "gaur500-users.jsonl")
    if os.path.exists(posts_path) and os.path.exists(users_path):
        posts = ls.read_cases(posts_path, strict=False)
        users, per_user = ls.group_max(posts, model.predict(posts))
        report("gaur500 users, max over posts (Gaur et al. 2019)", users, per_user, breakdown=False)
        joined = ls.read_cases(users_path, strict=False)
        report("gaur500 users, posts joined into one text", joined, model.predict(joined), breakdown=False)
    else:
        print("gaur500: not found (../shared/data/gaur500 absent); skipped\n")
    for name, title in (("diasafety-test.jsonl", "diasafety test, in scope (Sun et al. 2022)"),
                        ("diasafety-test-out-of-scope.jsonl", "diasafety test, out of scope")):
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            print(f"{name}: not found (../shared/data/diasafety absent); skipped\n")
            continue
        cases = ls.read_cases(path, strict=False)
        predicted = model.predict(cases)
        report(title, cases, predicted, breakdown=False)
        by_source = {}
        for case, p in zip(cases, predicted):
            by_source.setdefault(case["note"].rsplit(" ", 1)[0], []).append((case, p))
        for source, items in sorted(by_source.items()):
            flagged = {}
            for case, (severity, _) in items:
                label = case["note"].rsplit(" ", 1)[1]
                n, k = flagged.get(label, (0, 0))
                flagged[label] = (n + 1, k + (ls.SEVERITY_RANK[severity] >= ls.MODERATE))
            line = ", ".join(f"{label} flagged {k}/{n}" for label, (n, k) in sorted(flagged.items()))
            print(f"  {source}: {line}")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
