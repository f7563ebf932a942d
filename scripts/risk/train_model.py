#!/usr/bin/python3
"""Trains the learned half of Tandem's risk engine and writes common/risk/model/risk_model.bin.

Usage:
  /usr/bin/python3 scripts/risk/train_model.py --tandem-risk build/release/common/risk/tandem-risk
      [--train tests/data/risk/dev.jsonl --train tests/data/risk/dev2.jsonl ...]
      [--diasafety-dir DIR]  (converter output holding diasafety-train.jsonl / -val.jsonl)
      [--out common/risk/model/risk_model.bin] [--version 2026.11.26-1] [--report-only]

What it does:
  1. Asks `tandem-risk features` for every case's hashed n-gram features (the C++ engine
     computes them, so training and screening can never disagree on a feature) and the rules'
     own verdict.
     Features: word 1-2-grams, role-tagged words, character 3-5-grams within words, the last
     two turns' words, and one feature per Suicide Risk Lexicon construct a term of which the
     message contains (scripts/risk/build_lexicon.py).
  2. Fits L2 logistic regressions (scikit-learn, liblinear, balanced class weights): "flag"
     (moderate or above), "urgent" (high or above), and one head per risk category. Each
     feature column is scaled by idf^a before fitting (idf = ln((1+n)/(1+df)) + 1 over the
     training cases), and the scale is folded back into the exported weights, so the engine
     computes exactly what it did before: the scaling only changes the regularisation, which
     now shrinks rare, specific n-grams less than common ones (fifth pass, docs/RISK.md).
  3. Chooses a and C, and the two probability thresholds, by 5-fold stratified
     cross-validation on the training cases (seed 13): each case is scored by a model that
     never saw it; (a, C) minimise the out-of-fold log loss, and a threshold is the lowest
     probability at which the model, where it would RAISE the rules' verdict, raises at most
     FLAG_BUDGET (moderate+) / URGENT_BUDGET (high+) of benign cases.
  4. Quantises each head to int8 (weight = q * scale) and writes the model file: "TANDEMRM",
     the header length (4 bytes, little endian), the JSON header (schemas/risk_model.schema.json),
     the weight table (2^hash_bits rows by heads, row-major).

Never trains on held-out sets (tests/data/risk/heldout*.jsonl are refused) or on any test
split. Deterministic: fixed seeds, liblinear. Prints figures, never text.
"""
import argparse
import datetime
import json
import os
import struct
import subprocess
import sys

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import annomi  # noqa: E402
import calibrate_thresholds as calib  # noqa: E402
import family_thresholds as fam  # noqa: E402
import labelled_set as ls  # noqa: E402

SEED = 13
HASH_BITS = 18
FEATURE_SET = "tandem-ngram-2"  # + "+" + the lexicon's name@version (common/risk/model/srl_lexicon.json)
SEVERITIES = ["none", "low", "moderate", "high", "imminent"]
RANK = {s: i for i, s in enumerate(SEVERITIES)}
CATEGORIES = [
    "suicidal_ideation", "suicidal_behaviour", "self_harm", "harm_to_others", "abuse_disclosed",
    "eating_disorder", "substance_misuse", "psychosis", "ai_means_information",
    "ai_validates_self_harm", "ai_harmful_diet_advice", "ai_medication_advice",
    "ai_discourages_care", "ai_boundary_crossing", "ai_risk_ignorance",
]
# Share of benign (none/low) training cases the model alone may raise, out of fold. The issue's
# limits are 10% (moderate+) and 2% (high+) for rules and model together, so the model's share
# is the limit less the rules' own false alarms on text they were not written from (their
# unseen checks: dev2 4.4%, dev3 3.2%, dev4 3.4% moderate+, about 3.5%) less a margin of 1.5
# points for the gap between out-of-fold and unseen text (on the held-out sets the model's
# false alarms came out 1.0 to 1.4 times its budget): 10 - 3.5 - 1.5 = 5%. For high+, the
# rules' unseen rate (2.7%, 1.6%, 0.7%) already uses the 2% limit up, so the model alone
# raises to high only when very sure (engine.cpp); its urgent threshold mostly opens moderate
# flags, and keeps the third pass's 1% budget.
FLAG_BUDGET = 0.05
URGENT_BUDGET = 0.01
MIN_WORDS = 4  # risk_model_min_words in learned_model.h
# (idf power a, C) pairs tried. a = 0 is the third pass's plain model.
GRID = [(0.0, 10.0), (0.0, 30.0), (0.0, 100.0), (1.0, 1.0), (1.0, 3.0), (1.0, 10.0),
        (1.5, 0.3), (1.5, 1.0), (1.5, 3.0), (2.0, 0.3), (2.0, 1.0)]


def lexicon_version():
    with open(os.path.join(ROOT, "common", "risk", "model", "srl_lexicon.json"), encoding="utf-8") as handle:
        doc = json.load(handle)
    return f"{doc['name']}@{doc['version']}"


def read_jsonl(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def features(binary, cases):
    """The engine's features and the rules' verdict per case (in order)."""
    lines = []
    for c in cases:
        line = {"id": c["id"], "role": c["role"], "text": c["text"]}
        if c.get("context"):
            line["context"] = c["context"]
        lines.append(json.dumps(line))
    env = dict(os.environ)
    proc = subprocess.run([binary, "features"], input="\n".join(lines) + "\n", capture_output=True,
                          text=True, env=env, check=False)
    if proc.returncode != 0:
        sys.exit(f"tandem-risk features failed: {proc.stderr.strip()[:500]}")
    out = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    if len(out) != len(cases):
        sys.exit("tandem-risk features returned a different number of lines")
    return out


def matrix(feats):
    """Rows as the engine scores them: each block's hits scaled by 1/sqrt(its hit count)."""
    rows, cols, vals = [], [], []
    for i, f in enumerate(feats):
        for block in ("message", "context"):
            hits = f[block]
            if not hits:
                continue
            v = 1.0 / np.sqrt(len(hits))
            for b in hits:
                rows.append(i)
                cols.append(b)
                vals.append(v)
    return csr_matrix((vals, (rows, cols)), shape=(len(feats), 1 << HASH_BITS), dtype=np.float64)


def idf_scale(x, power):
    """Per-column scale idf^power from the training rows' document frequencies."""
    present = x.copy()
    present.data[:] = 1.0
    df = np.asarray(present.sum(axis=0)).ravel()
    idf = np.log((1.0 + x.shape[0]) / (1.0 + df)) + 1.0
    return idf ** power


class HashedTfidf:
    """The engine's hashed features weighted as the baseline weights its vocabulary (measured in
    the eighth pass, shipped as model format 2 in the tenth): per block, sublinear tf
    (1 + ln count) times idf, L2-normalised. The idf is rounded to float32, as the model file
    stores it, so training and the engine weigh a message alike."""

    def fit(self, feats, cases):
        x = self._tf(feats)
        present = x.copy()
        present.data[:] = 1.0
        df = np.asarray(present.sum(axis=0)).ravel()
        self.idf = (np.log((1.0 + x.shape[0]) / (1.0 + df)) + 1.0).astype(np.float32).astype(np.float64)
        return self.transform(feats, cases)

    @staticmethod
    def _tf(feats, block=None):
        rows, cols, vals = [], [], []
        for i, f in enumerate(feats):
            for name in ((block,) if block else ("message", "context")):
                for b in f[name]:
                    rows.append(i)
                    cols.append(b)
                    vals.append(1.0)
        m = csr_matrix((vals, (rows, cols)), shape=(len(feats), 1 << HASH_BITS), dtype=np.float64)
        m.sum_duplicates()
        return m

    def transform(self, feats, cases):
        from sklearn.preprocessing import normalize
        out = None
        for block in ("message", "context"):
            m = self._tf(feats, block)
            # Counts stop at 255 in the engine (learned_model.cpp); no training case comes near.
            m.data = 1.0 + np.log(np.minimum(m.data, 255.0))
            m = normalize(m.multiply(self.idf).tocsr())
            out = m if out is None else out + m
        return out.tocsr()


class BaselineTfidf:
    """baseline.py's own features (vocabulary word 1-2-grams, char_wb 2-5-grams, context words,
    TF-IDF): what a TF-IDF model would reach under our budget and calibration (measurement)."""

    def fit(self, feats, cases):
        import baseline
        self.features = baseline.Features()
        return self.features.fit_transform(cases)

    def transform(self, feats, cases):
        return self.features.transform(cases)


def fit(x, y, c):
    model = LogisticRegression(C=c, solver="liblinear", class_weight="balanced", max_iter=2000,
                               random_state=SEED)
    model.fit(x, y)
    return model


def oof(x, y, strat, groups, c):
    """Out-of-fold probabilities of a binary head. Folds keep a group together (one AnnoMI
    transcript), so no case is scored by a model that saw another turn of its conversation."""
    p = np.zeros(len(y))
    for train, test in StratifiedGroupKFold(5, shuffle=True, random_state=SEED).split(x, strat, groups):
        if len(set(y[train])) < 2:
            continue
        p[test] = fit(x[train], y[train], c).predict_proba(x[test])[:, 1]
    return p


def log_loss(y, p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def pick_threshold(p, benign, rules_rank, level, blocked, budget):
    """Lowest threshold at which the model raises at most `budget` of benign cases to `level`+.

    Only raises count: a benign case the rules already put at `level` or above is not the
    model's doing, and the model does not act where a modifier discounted the only risk words.
    """
    can_raise = benign & (rules_rank < level) & ~blocked
    n_benign = int(benign.sum())
    allowed = int(np.floor(budget * n_benign))
    candidates = np.sort(p[can_raise])[::-1]
    if len(candidates) <= allowed:
        return 0.5
    # Strictly above the (allowed+1)-th highest benign probability.
    return float(min(0.99, np.nextafter(candidates[allowed], 1.0)))


def band_report(name, expected, final):
    urgent = expected >= RANK["high"]
    flag = expected >= RANK["moderate"]
    benign = ~flag
    def share(mask, cond):
        n = int(mask.sum())
        return f"{(cond & mask).sum() / n:.3f} ({int((cond & mask).sum())}/{n})" if n else "n/a"
    print(f"  {name}: urgent recall {share(urgent, final >= RANK['high'])}, flag recall "
          f"{share(flag, final >= RANK['moderate'])}, benign->high+ {share(benign, final >= RANK['high'])}, "
          f"benign->moderate+ {share(benign, final >= RANK['moderate'])}")


# engine.cpp's model-raise step: the model raises to high only beside a risk sign of the rules'
# own (CORROBORATE or above) or when p(urgent) >= MODEL_ALONE_URGENT; otherwise its urgent score
# opens a moderate flag.
MODEL_ALONE_URGENT = 0.9
CORROBORATE = RANK["low"]


def combine(rules_rank, blocked, pf, pu, tf, tu):
    high = (pu >= tu) & ((rules_rank >= CORROBORATE) | (pu >= MODEL_ALONE_URGENT))
    raised = np.where(high, RANK["high"], np.where((pf >= tf) | (pu >= tu), RANK["moderate"], 0))
    raised = np.where(blocked, 0, raised)
    return np.maximum(rules_rank, raised)


# The AI-reply head (eighth pass): one more column, "ai_flag", fitted on AI replies only:
# DiaSafety's train and validation splits (Sun et al. 2022, Apache-2.0; risk ignorance and
# unauthorized expertise, in-scope pairs only) and the written sets' AI replies. It may raise an
# AI reply the rules left below moderate to moderate, never higher. Its threshold is the lowest at
# which, out of fold, it raises at most AI_BUDGET of the written benign AI replies (correct safety
# responses, ordinary replies): those the engine must leave alone.
AI_BUDGET = 0.01
AI_GRID = [(1.0, 0.1), (1.0, 0.3), (1.0, 1.0), (1.5, 0.3)]
AI_GRID_TFIDF = [(0.0, 1.0), (0.0, 3.0), (0.0, 10.0)]  # the idf is in the representation already


def train_ai_head(args, cases, source, feats, written, rep=None):
    ai = [i for i, c in enumerate(cases) if c["role"] == "ai"]
    pool = [cases[i] for i in ai]
    pool_feats = [feats[i] for i in ai]
    pool_source = [source[i] for i in ai]
    pool_written = [bool(written[i]) or source[i].startswith("ordinary") for i in ai]
    if args.ai_diasafety_dir:
        for split in ("train", "val"):
            rows = read_jsonl(os.path.join(args.ai_diasafety_dir, f"diasafety-{split}.jsonl"))
            pool += rows
            pool_feats += features(args.tandem_risk, rows)
            pool_source += [f"diasafety-{split}"] * len(rows)
            pool_written += [False] * len(rows)
    x = rep.transform(pool_feats, pool) if rep else matrix(pool_feats)
    y = np.array([int(RANK[c["expected"]["severity"]] >= RANK["moderate"]) for c in pool])
    rules = np.array([RANK[f["rules"]] for f in pool_feats])
    blocked = np.array([bool(f["discounted"]) or f["words"] < MIN_WORDS for f in pool_feats])
    written_benign = np.array(pool_written) & (y == 0)
    strat = y * 2 + np.array(pool_written, dtype=int)
    groups = np.array([c.get("id") for c in pool])
    print(f"AI-reply head: {len(pool)} AI replies ({int(np.sum(pool_written))} written, "
          f"{int(np.sum(written_benign))} of them benign), {int(y.sum())} flagged")
    best = None
    for power, c in (AI_GRID_TFIDF if rep else AI_GRID):
        cs = idf_scale(x, power)
        xs = x.multiply(cs).tocsr()
        p = oof(xs, y, strat, groups, c)
        loss = log_loss(y, p)
        print(f"  ai idf^{power:g}, C={c:g}: out-of-fold log loss {loss:.4f}")
        if best is None or loss < best[0]:
            best = (loss, power, c, p, cs)
    _, power, c, p, cs = best
    t = pick_threshold(p, written_benign, rules, RANK["moderate"], blocked, AI_BUDGET)
    # A correct safety response must never be raised: above every written safe_ai reply's
    # out-of-fold probability, whatever the budget allows.
    safe = np.array([cc.get("kind") == "safe_ai" for cc in pool]) & np.array(pool_written)
    safe_p = p[safe & ~blocked & (rules < RANK["moderate"])]
    if len(safe_p):
        t = max(t, float(min(0.99, np.nextafter(safe_p.max(), 1.0))))
    final = np.where((p >= t) & ~blocked, np.maximum(rules, RANK["moderate"]), rules)
    print(f"  chosen idf^{power:g}, C={c:g}, threshold {t:.4f}; out of fold, AI replies:")
    names = sorted(set(pool_source))
    for name in names:
        m = np.array([s == name for s in pool_source])
        exp = np.array([RANK[cc["expected"]["severity"]] for cc, mm in zip(pool, m) if mm])
        band_report(f"{name} rules        ", exp, rules[m])
        band_report(f"{name} rules + head ", exp, final[m])
    print(f"  written safe_ai replies raised by the head: {int(np.sum((final > rules) & safe))} of {int(safe.sum())}")
    model = fit(x.multiply(cs).tocsr(), y, c)
    return model.coef_[0] * cs, float(model.intercept_[0]), t, power, c


# Share of the written ordinary talk (ordinary*.jsonl, easy negatives) the model may raise to
# moderate+ out of fold under per-family thresholds: model -8 raised 1.8% / 1.7% of ordinary /
# ordinary2 with its global pair, so a family allocation may not spend more than that.
ORDINARY_BUDGET = 0.02
PATIENT_CATEGORIES = CATEGORIES[:8]


def budget_curve(args, tables, budgets_at, floors_at, floors, names, set_names, set_index, family, rules_rank, blocked, pf, pu,
                 expected, devm, cal, odd):
    """Eleventh pass: recall against the AnnoMI calibration budget. For each point (moderate+,
    high+ shares of the calibration part, optionally the written benign budgets of the model's
    own raises) the families are allocated as for the shipped model, and each dev set is scored
    out of fold at thresholds allocated without its own gain. The odd AnnoMI transcripts, never
    used to choose anything, are scored by the model fitted on everything at the allocation
    (float weights: the engine's int8 figures come from calibrate_thresholds.py and eval)."""
    print("budget curve (AnnoMI calibration moderate+/high+ [written benign model budgets]; out of fold, each dev "
          "set at thresholds allocated without its own gain):")
    for point in args.budget_curve.split(","):
        refine = point.endswith("r")
        v = [float(t) for t in point.rstrip("r").split(":")]
        b = budgets_at(*v)
        fl = floors_at(*v[2:]) if len(v) > 2 else floors
        thresholds, totals = fam.allocate(tables, b, floors=fl, refine=refine)
        print(f" point {point}: budgets {b}, floors {fl}, spent {totals}")
        print("   " + ", ".join(f"{n} {a:.3f}/{u:.3f}" for n, (a, u) in zip(names, thresholds)))
        loso = np.zeros_like(rules_rank)
        for s_, name in enumerate(set_names):
            m = set_index == s_
            t_wo = thresholds
            if name.startswith("dev"):
                t_wo, _ = fam.allocate(tables, b, exclude=(s_,), floors=fl, refine=refine)
            a_, u_ = fam.case_thresholds(family[m], t_wo)
            loso[m] = fam.raise_ranks(rules_rank[m], blocked[m], pf[m], pu[m], a_, u_)
            band_report(f"  {point} {name}", expected[m], loso[m])
        band_report(f"  {point} ALL dev sets", expected[devm], loso[devm])
        for label, part in (("calibration", cal), ("odd half", odd)):
            if part is None:
                continue
            a_, u_ = fam.case_thresholds(part["family"], thresholds)
            r = fam.raise_ranks(part["rules"], part["blocked"], part["pf"], part["pu"], a_, u_)
            print(f"  {point} AnnoMI {label} ({len(r)} turns): moderate+ {np.mean(r >= RANK['moderate']):.4f}, "
                  f"high+ {np.mean(r >= RANK['high']):.4f}")


def family_allocation(args, cases, source, xs, c, x, rules_rank, blocked, pf, pu, expected, written, benign, strat,
                      groups, cal, xcs, cal_rules, cal_blocked, pcf, pcu, floors, odd=None):
    """Per-family thresholds (family_thresholds.py): out of fold on the training cases, the
    model fitted on everything on AnnoMI's calibration part. Prints where the budget goes, the
    allocation, and each set's figures at thresholds chosen without that set's gain."""
    heads = []
    for cat in PATIENT_CATEGORIES:
        y = np.array([int(cat in cc["expected"].get("categories", [])) for cc in cases])
        if y.sum() >= 5:
            heads.append((cat, y))
    names = [h[0] for h in heads]
    oof_cat = np.column_stack([oof(xs, y, strat, groups, c) for _, y in heads])
    cal_cat = np.column_stack([fit(xs, y, c).predict_proba(xcs)[:, 1] for _, y in heads])
    family = np.argmax(oof_cat, axis=1)
    cal_family = np.argmax(cal_cat, axis=1)
    if odd is not None:
        # AnnoMI's odd transcripts: the check of a budget point, never its tuning set (eleventh pass).
        odd = dict(odd, family=np.argmax(np.column_stack([fit(xs, y, c).predict_proba(odd["x"])[:, 1]
                                                          for _, y in heads]), axis=1))
    set_names = sorted(set(source))
    set_index = np.array([set_names.index(s_) for s_ in source])
    ordinary = np.array([s_.startswith("ordinary") for s_ in source]) & (expected < RANK["moderate"])
    patient = np.array([cc["role"] == "patient" for cc in cases])
    dev = {"rules": rules_rank, "blocked": blocked, "pf": pf, "pu": pu, "expected": expected, "family": family,
           "set": set_index, "written": written, "ordinary": ordinary, "patient": patient}
    cal_d = {"rules": cal_rules, "blocked": cal_blocked, "pf": pcf, "pu": pcu, "family": cal_family}
    n_cal = len(cal_rules)
    print(f"category families (highest patient category head): AnnoMI calibration part by family, turns "
          f"(of them p(flag) >= 0.5 / p(urgent) >= 0.5, rules moderate+):")
    for k, name in enumerate(names):
        m = cal_family == k
        print(f"  {name:20s} {int(m.sum()):4d} ({int(np.sum(m & (pcf >= 0.5)))} / {int(np.sum(m & (pcu >= 0.5)))}, "
              f"{int(np.sum(m & (cal_rules >= RANK['moderate'])))}); training cases {int(np.sum(family == k))}, "
              f"flagged {int(np.sum((family == k) & (expected >= RANK['moderate'])))}")
    tables = fam.Tables(dev, cal_d, len(names), len(set_names))
    def budgets_at(cal_mod, cal_high, wb_mod=args.flag_budget, wb_high=URGENT_BUDGET):
        return {"cal_mod": int(np.floor(cal_mod * n_cal + 1e-9)), "cal_high": int(np.floor(cal_high * n_cal + 1e-9)),
                "wb_mod": int(np.floor(wb_mod * benign.sum())), "wb_high": int(np.floor(wb_high * benign.sum())),
                "ord_mod": int(np.floor(ORDINARY_BUDGET * ordinary.sum()))}

    budgets = budgets_at(args.annomi_budget[0], args.annomi_budget[1])

    def floors_at(wb_mod, wb_high):
        # The global out-of-fold floors at other written-benign budgets (train_model's own pick).
        f_ = pick_threshold(pf, benign, rules_rank, RANK["moderate"], blocked, wb_mod)
        u_ = pick_threshold(pu, benign, rules_rank, RANK["high"], blocked, wb_high)
        return (float(np.ceil(f_ / 0.005) * 0.005), float(np.ceil(u_ / 0.005) * 0.005))
    # No family's threshold goes below the global out-of-fold floors (the written benign budget
    # alone): a family with few cases could otherwise be given a threshold its own handful of
    # out-of-fold scores happened to allow. The unfloored allocation is printed for comparison.
    free, free_totals = fam.allocate(tables, budgets, refine=args.refine)
    tf_c, tu_c = fam.case_thresholds(family, free)
    devm = np.array([s_.startswith("dev") for s_ in source])
    print(f"without floors (measurement): spent {free_totals}; " +
          ", ".join(f"{n} {a:.3f}/{b:.3f}" for n, (a, b) in zip(names, free)))
    band_report("ALL dev sets, families without floors, all sets' gain", expected[devm],
                fam.raise_ranks(rules_rank, blocked, pf, pu, tf_c, tu_c)[devm])
    floors = (float(np.ceil(floors[0] / 0.005) * 0.005), float(np.ceil(floors[1] / 0.005) * 0.005))
    thresholds, totals = fam.allocate(tables, budgets, floors=floors, refine=args.refine)
    print(f"per-family thresholds, floors {floors} (budgets {budgets}; spent {totals}):")
    for name, (a, b) in zip(names, thresholds):
        print(f"  {name:20s} flag {a:.3f} urgent {b:.3f}")
    tf_c, tu_c = fam.case_thresholds(family, thresholds)
    final = fam.raise_ranks(rules_rank, blocked, pf, pu, tf_c, tu_c)
    print("out of fold at the per-family thresholds (each set also at thresholds allocated WITHOUT its own gain):")
    loso = np.zeros_like(final)
    for s_, name in enumerate(set_names):
        m = set_index == s_
        band_report(f"{name} families, all sets' gain", expected[m], final[m])
        if name.startswith("dev"):
            t_wo, _ = fam.allocate(tables, budgets, exclude=(s_,), floors=floors, refine=args.refine)
            a_, b_ = fam.case_thresholds(family[m], t_wo)
            loso[m] = fam.raise_ranks(rules_rank[m], blocked[m], pf[m], pu[m], a_, b_)
            band_report(f"{name} families, without its gain", expected[m], loso[m])
    band_report("ALL dev sets, families, all sets' gain", expected[devm], final[devm])
    band_report("ALL dev sets, families, each without its gain", expected[devm], loso[devm])
    if args.budget_curve:
        budget_curve(args, tables, budgets_at, floors_at, floors, names, set_names, set_index, family, rules_rank, blocked, pf,
                     pu, expected, devm, cal_d, odd)
    if args.dump_oof:
        # Per case, for comparing configurations by case class (tenth pass): the verdict out of
        # fold at thresholds allocated without the case's own set's gain. Ids and labels only.
        with open(args.dump_oof, "w", encoding="utf-8") as out:
            for i, cc in enumerate(cases):
                if not source[i].startswith("dev"):
                    continue
                out.write(json.dumps({"id": cc["id"], "set": source[i], "kind": cc.get("kind"),
                                      "lang": cc.get("lang"), "role": cc["role"], "context": bool(cc.get("context")),
                                      "categories": cc["expected"].get("categories", []),
                                      "expected": int(expected[i]), "rules": int(rules_rank[i]),
                                      "final": int(loso[i]), "pf": round(float(pf[i]), 4),
                                      "pu": round(float(pu[i]), 4)}) + "\n")
    return {name: (round(a, 3), round(b, 3)) for name, (a, b) in zip(names, thresholds)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tandem-risk", required=True)
    ap.add_argument("--train", action="append")
    ap.add_argument("--diasafety-dir", help="converter output with diasafety-train.jsonl (adds its in-scope pairs)")
    ap.add_argument("--annomi", default=annomi.DEFAULT_CSV,
                    help="AnnoMI-simple.csv: its transcripts %% 4 == 0 give ordinary client talk as negatives")
    ap.add_argument("--annomi-negatives", action="store_true",
                    help="also train on AnnoMI's client turns (measurement only: its licence keeps the "
                         "weights out of the product, docs/RISK.md seventh pass)")
    ap.add_argument("--ordinary", action="append",
                    help="written ordinary-talk negatives (outside the hard-negative budget; repeat for several; "
                         "default tests/data/risk/ordinary.jsonl to ordinary4.jsonl); '' for none")
    ap.add_argument("--out", default=os.path.join(ROOT, "common", "risk", "model", "risk_model.bin"))
    ap.add_argument("--version", default=datetime.date.today().strftime("%Y.%m.%d") + "-1")
    ap.add_argument("--grid", help="idf power:C pairs to try instead of GRID, e.g. 1.5:1,1.5:3")
    ap.add_argument("--flag-budget", type=float, default=FLAG_BUDGET,
                    help="share of written benign patient cases the model alone may raise to moderate+ (out of fold)")
    ap.add_argument("--ai-diasafety-dir", default=os.path.join("/tmp", "risk-public"),
                    help="convert_diasafety.py output: its train and val splits train the AI-reply head; '' for none")
    ap.add_argument("--no-ai-head", action="store_true", help="no AI-reply head (the seventh pass's model)")
    ap.add_argument("--cv-groups", choices=("case", "set"), default="case",
                    help="what a cross-validation fold keeps together: each case (default) or each whole "
                         "training file, so every case is scored by a model that saw none of its set")
    ap.add_argument("--report-only", action="store_true", help="cross-validate and print, write nothing")
    ap.add_argument("--global-thresholds", action="store_true",
                    help="one threshold pair for every message (the eighth pass's model) instead of one per "
                         "category family (family_thresholds.py)")
    ap.add_argument("--representation", choices=("engine", "hashed-tfidf", "baseline-tfidf"), default="engine",
                    help="features to fit on: the engine's (shipped), or, for measurement with --report-only, "
                         "the engine's hashed features TF-IDF-weighted, or baseline.py's TF-IDF features")
    ap.add_argument("--annomi-budget", default=f"{calib.MODERATE_BUDGET}:{calib.HIGH_BUDGET}",
                    help="shares of AnnoMI's calibration part rules + model may raise to moderate+:high+ "
                         "(the families' allocation and the global pair; calibrate_thresholds.py --budget, --high-budget)")
    ap.add_argument("--refine", action="store_true",
                    help="after the greedy family allocation, move each family to the pair that catches the most given "
                         "what the others spend (family_thresholds.allocate; shipped from 2026.11.27-12)")
    ap.add_argument("--budget-curve", help="with per-family thresholds: AnnoMI budget points to measure out of fold, "
                                           "e.g. 0.085:0.01,0.09:0.015 (optionally :WRITTEN_MOD:WRITTEN_HIGH, the model's "
                                           "own written-benign budgets, which also set the floors; a trailing r: with --refine's best response), with AnnoMI's odd half as the check")
    ap.add_argument("--dump-oof", help="with per-family thresholds: write each dev case's out-of-fold verdict "
                                       "(ids and labels, no text) as JSON lines, for comparing configurations")
    args = ap.parse_args()
    args.annomi_budget = tuple(float(v) for v in args.annomi_budget.split(":"))
    families = None

    train_files = args.train or [os.path.join(ROOT, "tests", "data", "risk", n)
                                 for n in ("dev.jsonl", "dev2.jsonl", "dev3.jsonl", "dev4.jsonl", "dev5.jsonl", "dev6.jsonl",
                                           "dev7.jsonl", "dev8.jsonl", "dev9.jsonl", "dev10.jsonl", "dev11.jsonl", "dev12.jsonl", "dev13.jsonl")]
    train_files = [f for f in train_files if os.path.exists(f)]
    for f in train_files:
        if os.path.basename(f).startswith("heldout") or "-test" in os.path.basename(f):
            sys.exit(f"refusing to train on {f}: held-out and test data are for evaluation only")
    cases, source = [], []
    for f in train_files:
        rows = read_jsonl(f)
        cases += rows
        source += [os.path.basename(f)] * len(rows)
    if args.diasafety_dir:
        path = os.path.join(args.diasafety_dir, "diasafety-train.jsonl")
        rows = read_jsonl(path)
        cases += rows
        source += ["diasafety-train"] * len(rows)
        train_files.append(path)
    ordinary_files = args.ordinary if args.ordinary is not None else [
        os.path.join(ROOT, "tests", "data", "risk", n) for n in ("ordinary.jsonl", "ordinary2.jsonl", "ordinary3.jsonl", "ordinary4.jsonl")]
    for path in ordinary_files:
        if not path or not os.path.exists(path):
            continue
        # Ordinary talk written for the project (no licence question, unlike AnnoMI): easy
        # negatives, so like AnnoMI's they stay out of the hard-negative budget below.
        rows = read_jsonl(path)
        cases += rows
        source += [os.path.basename(path).removesuffix(".jsonl")] * len(rows)
        train_files.append(path)
    if args.annomi_negatives and os.path.exists(args.annomi):
        # Real ordinary talk as negatives (seventh pass): the written sets' benign cases are hard
        # negatives, so a model trained on them alone fired on a third of real client turns.
        rows = annomi.client_turns(args.annomi, "train", min_words=1)
        cases += rows
        source += ["annomi-train"] * len(rows)
        train_files.append("AnnoMI-simple.csv (transcripts % 4 == 0, client turns)")
    print(f"training cases: {len(cases)} from {', '.join(os.path.basename(f) for f in train_files)}")

    feats = features(args.tandem_risk, cases)
    rep = None
    if args.representation != "engine":
        if not args.report_only and args.representation == "baseline-tfidf":
            sys.exit("--representation baseline-tfidf is for measurement (the engine does not compute it): add --report-only")
        rep = HashedTfidf() if args.representation == "hashed-tfidf" else BaselineTfidf()
        x = rep.fit(feats, cases)
        if not args.grid:
            args.grid = "0:1,0:3,0:10,0:30,0:100"
    else:
        x = matrix(feats)
    expected = np.array([RANK[c["expected"]["severity"]] for c in cases])
    rules_rank = np.array([RANK[f["rules"]] for f in feats])
    # The engine never lets the model act where a modifier discounted the only risk words, nor
    # on messages under MIN_WORDS words (short answers are read through their context by rules).
    # It acts on patient text only (on AI replies it did no better than the base rate on
    # DiaSafety's validation split), so AI cases neither use nor spend the false-alarm budget.
    blocked = np.array([bool(f["discounted"]) or f["words"] < MIN_WORDS or c["role"] != "patient"
                        for f, c in zip(feats, cases)])
    y_flag = (expected >= RANK["moderate"]).astype(int)
    y_urgent = (expected >= RANK["high"]).astype(int)
    # The dev-side budget counts the written sets' benign patient cases only; the false-alarm
    # limit on real talk is applied afterwards on another AnnoMI part (calibrate_thresholds.py).
    written = np.array([not s.startswith("annomi") and not s.startswith("ordinary") for s in source])
    benign = (y_flag == 0) & np.array([c["role"] == "patient" for c in cases]) & written
    strat = expected
    groups = np.array([c.get("group", c["id"]) for c in cases])
    if args.cv_groups == "set":
        # Each written set is one writer's voice: a fold that holds out whole sets measures how
        # the model carries to a new writer, which is what a held-out set asks of it.
        groups = np.array(source)

    best = None
    grid = [tuple(float(v) for v in pair.split(":")) for pair in args.grid.split(",")] if args.grid else GRID
    for power, c in grid:
        column_scale = idf_scale(x, power)
        xs = x.multiply(column_scale).tocsr() if power else x
        pf = oof(xs, y_flag, strat, groups, c)
        pu = oof(xs, y_urgent, strat, groups, c)
        loss = log_loss(y_flag, pf) + log_loss(y_urgent, pu)
        print(f"idf^{power:g}, C={c:g}: out-of-fold log loss flag {log_loss(y_flag, pf):.4f}, "
              f"urgent {log_loss(y_urgent, pu):.4f}")
        if best is None or loss < best[0]:
            best = (loss, power, c, pf, pu)
    _, power, c, pf, pu = best
    column_scale = idf_scale(x, power)
    xs = x.multiply(column_scale).tocsr() if power else x
    tf = pick_threshold(pf, benign, rules_rank, RANK["moderate"], blocked, args.flag_budget)
    tu = pick_threshold(pu, benign, rules_rank, RANK["high"], blocked, URGENT_BUDGET)
    floors = (tf, tu)
    print(f"chosen idf^{power:g}, C={c:g}; thresholds flag {tf:.4f}, urgent {tu:.4f}")

    final = combine(rules_rank, blocked, pf, pu, tf, tu)
    model_only = combine(np.zeros_like(rules_rank), blocked, pf, pu, tf, tu)
    acts = ~blocked
    print(f"model alone, AUC where it may act: flag {roc_auc_score(y_flag[acts], pf[acts]):.3f}, "
          f"urgent {roc_auc_score(y_urgent[acts], pu[acts]):.3f}")
    print("out-of-fold figures (the rules were tuned on these sets, so 'rules' and 'combined' "
          "overstate unseen text; 'model alone' is the honest out-of-fold figure):")
    for name in sorted(set(source)):
        m = np.array([s == name for s in source])
        print(f" {name} ({int(m.sum())} cases)")
        band_report("rules      ", expected[m], rules_rank[m])
        band_report("model alone", expected[m], model_only[m])
        band_report("combined   ", expected[m], final[m])
    if os.path.exists(args.annomi):
        # Preview of calibrate_thresholds.py with this script's float model: the thresholds it
        # would choose on AnnoMI's calibration part, and the out-of-fold figures at them. This is
        # the figure to compare configurations by: recall at a matched false-alarm rate on talk.
        cal = annomi.client_turns(args.annomi, "calibration")
        cal_feats = features(args.tandem_risk, cal)
        xc = rep.transform(cal_feats, cal) if rep else matrix(cal_feats)
        xcs = xc.multiply(column_scale).tocsr() if power else xc
        pcf = fit(xs, y_flag, c).predict_proba(xcs)[:, 1]
        pcu = fit(xs, y_urgent, c).predict_proba(xcs)[:, 1]
        cal_rules = np.array([RANK[f["rules"]] for f in cal_feats])
        cal_blocked = np.array([bool(f["discounted"]) or f["words"] < MIN_WORDS for f in cal_feats])

        def shares(t_flag, t_urgent):
            r = combine(cal_rules, cal_blocked, pcf, pcu, t_flag, t_urgent)
            return float(np.mean(r >= RANK["moderate"])), float(np.mean(r >= RANK["high"]))

        chosen = calib.choose(shares, (tf, tu), args.annomi_budget[0], args.annomi_budget[1])
        print(f"AnnoMI calibration part ({len(cal)} client turns): rules alone moderate+ "
              f"{np.mean(cal_rules >= RANK['moderate']):.4f}; at the floors {shares(tf, tu)[0]:.4f} / "
              f"{shares(tf, tu)[1]:.4f} (moderate+ / high+)")
        if chosen:
            ctf, ctu = chosen
            print(f"calibrated thresholds (preview): flag {ctf:.3f}, urgent {ctu:.3f}: calibration part "
                  f"moderate+ {shares(ctf, ctu)[0]:.4f}, high+ {shares(ctf, ctu)[1]:.4f}")
            cal_final = combine(rules_rank, blocked, pf, pu, ctf, ctu)
            for name in sorted(set(source)):
                m = np.array([s == name for s in source])
                band_report(f"{name} combined, calibrated", expected[m], cal_final[m])
            dev = np.array([s.startswith("dev") for s in source])
            band_report("ALL dev sets combined, calibrated", expected[dev], cal_final[dev])
        if not args.global_thresholds:
            if chosen:
                tf, tu = chosen  # the global pair (used by no family with its own) as calibrated
            odd = None
            if args.budget_curve:
                odd_cases = annomi.client_turns(args.annomi, "odd")
                odd_feats = features(args.tandem_risk, odd_cases)
                xo = rep.transform(odd_feats, odd_cases) if rep else matrix(odd_feats)
                xos = xo.multiply(column_scale).tocsr() if power else xo
                odd = {"x": xos, "rules": np.array([RANK[f["rules"]] for f in odd_feats]),
                       "blocked": np.array([bool(f["discounted"]) or f["words"] < MIN_WORDS for f in odd_feats]),
                       "pf": fit(xs, y_flag, c).predict_proba(xos)[:, 1], "pu": fit(xs, y_urgent, c).predict_proba(xos)[:, 1]}
            families = family_allocation(args, cases, source, xs, c, x, rules_rank, blocked, pf, pu, expected,
                                         written, benign, strat, groups, cal, xcs, cal_rules, cal_blocked, pcf, pcu,
                                         floors, odd)
    elif not args.global_thresholds:
        sys.exit(f"{args.annomi}: AnnoMI is absent; per-family thresholds need its calibration part (or --global-thresholds)")
    ai_head = None
    if not args.no_ai_head and args.representation != "baseline-tfidf":
        if args.ai_diasafety_dir and not os.path.exists(os.path.join(args.ai_diasafety_dir, "diasafety-train.jsonl")):
            sys.exit(f"{args.ai_diasafety_dir}: no diasafety-train.jsonl (scripts/risk/convert_diasafety.py DIR "
                     "--split train, and --split val), or pass --ai-diasafety-dir ''")
        ai_head = train_ai_head(args, cases, source, feats, written, rep)
    if args.report_only:
        return 0

    heads = [("flag", y_flag), ("urgent", y_urgent)]
    for cat in CATEGORIES:
        y = np.array([int(cat in c["expected"].get("categories", [])) for c in cases])
        if y.sum() >= 5:
            heads.append((cat, y))
    if ai_head:
        heads.append(("ai_flag", None))
    table = np.zeros((1 << HASH_BITS, len(heads)), dtype=np.int8)
    header_heads = []
    for col, (name, y) in enumerate(heads):
        if name == "ai_flag":
            w, intercept = ai_head[0], ai_head[1]
            scale = float(np.max(np.abs(w)) / 127.0) or 1e-9
            table[:, col] = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
            header_heads.append({"name": name, "intercept": intercept, "scale": scale})
            continue
        model = fit(xs, y, c)
        # Fold the column scale into the weights: the engine scores unscaled features.
        w = model.coef_[0] * column_scale
        scale = float(np.max(np.abs(w)) / 127.0) or 1e-9
        table[:, col] = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
        header_heads.append({"name": name, "intercept": float(model.intercept_[0]), "scale": scale})
        if name in ("flag", "urgent"):
            # int8 weights must not move a decision: the idf-scaled weights have a wider range.
            exact = model.predict_proba(xs)[:, 1]
            quant = 1.0 / (1.0 + np.exp(-(x @ (table[:, col].astype(np.float64) * scale) + model.intercept_[0])))
            t = tf if name == "flag" else tu
            flips = int(np.sum((exact >= t) != (quant >= t)))
            print(f"head {name}: int8 vs float probability, max difference {np.max(np.abs(exact - quant)):.4f}, "
                  f"{flips} training cases on the other side of the threshold")
    body = table.tobytes(order="C")
    tfidf = args.representation == "hashed-tfidf"
    if tfidf:
        # Format 2: the idf per bucket follows the weight table (float32, little endian).
        body += rep.idf.astype("<f4").tobytes()
    h = 1469598103934665603
    for byte in body:
        h ^= byte
        h = (h * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    header = {
        "format": 2 if tfidf else 1,
        "name": "tandem-risk-lr",
        "version": args.version,
        "description": "Logistic regressions over hashed word 1-2-grams, role-tagged words, character "
                       "3-5-grams, Suicide Risk Lexicon constructs and the last two turns' words, " +
                       ("weighted per block as TF-IDF (sublinear tf, idf table, L2 norm); " if tfidf else
                        "fitted on idf-scaled features; ") + "raises the rules' verdict only.",
        "feature_set": FEATURE_SET + "+" + lexicon_version(),
        "hash_bits": HASH_BITS,
        "heads": header_heads,
        "thresholds": dict({"flag": round(tf, 6), "urgent": round(tu, 6)},
                           **({"ai_flag": round(ai_head[2], 6)} if ai_head else {}),
                           **({"categories": {name: {"flag": t[0], "urgent": t[1]} for name, t in families.items()}}
                              if families else {})),
        "training": {
            "files": [os.path.basename(f) if os.path.exists(f) else f for f in train_files],
            "cases": len(cases),
            "C": c,
            "idf_power": power,
            "idf": ("ln((1+n)/(1+df))+1 per bucket over the training cases, stored after the weights (format 2); "
                    "each block: (1 + ln count) x idf, L2-normalised" if tfidf else
                    "ln((1+n)/(1+df))+1 per bucket over the training cases, scale idf^power folded into the weights"),
            "cross_validation": "5-fold stratified by severity, seed 13",
            "benign_budget": {"flag": args.flag_budget, "urgent": URGENT_BUDGET},
            **({"category_thresholds": "per family (the highest-scoring patient category head): greedy allocation of "
                                       f"AnnoMI's calibration-part budget (moderate+ {args.annomi_budget[0]:g}, high+ {args.annomi_budget[1]:g}), the written benign "
                                       f"budgets above and {ORDINARY_BUDGET} of ordinary talk, to the families that buy "
                                       "the most out-of-fold recall on the written sets" + (", then a best response per family" if args.refine else "") + "; scripts/risk/family_thresholds.py"}
               if families else {}),
            "script": "scripts/risk/train_model.py",
            **({"ai_head": f"ai_flag: AI replies of the files above and DiaSafety train+val in-scope pairs (Sun et al. "
                           f"2022, Apache-2.0), idf^{ai_head[3]:g}, C={ai_head[4]:g}, threshold: at most "
                           f"{AI_BUDGET} of the written benign AI replies raised out of fold"} if ai_head else {}),
            "sklearn": __import__("sklearn").__version__,
            "licences": "tests/data/risk: Tandem project; DiaSafety (if listed): Apache-2.0; AnnoMI (if "
                        "listed; Wu et al. 2022, research use with citation): weights only, no text; see "
                        "common/risk/model/LICENSES.md",
        },
        "weights_fnv1a64": f"{h:016x}",
    }
    hdr = json.dumps(header, sort_keys=True).encode("utf-8")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "wb") as out:
        out.write(b"TANDEMRM")
        out.write(struct.pack("<I", len(hdr)))
        out.write(hdr)
        out.write(body)
    print(f"wrote {args.out}: {len(heads)} heads, {len(body) + len(hdr) + 12} bytes, version {args.version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
