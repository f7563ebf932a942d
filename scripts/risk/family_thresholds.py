"""Per-family thresholds for the learned model (ninth pass; used by train_model.py).

Why: one global threshold pair, calibrated so that rules + model raise at most 8.5% of AnnoMI's
calibration part to moderate+ (1% to high+; 10% / 2% from the eleventh pass), is set by the families that spend that budget on
real talk (substance and diet talk in motivational-interviewing sessions), and so it also
throttles the families whose messages real talk seldom resembles. Here every patient message
belongs to the family of its highest-scoring patient category head (what the engine computes,
LearnedModel::patient_thresholds), and each family gets its own (flag, urgent) pair.

How: the false-alarm budgets are shared resources, and every case belongs to exactly one
family, so each count is a sum over families of what that family's pair does to its own cases.
For each family and each pair on a grid the counts are tabulated once; then a greedy allocation
lowers, step by step, the pair of the family that buys the most recall per unit of budget
spent (AnnoMI moderate+ and high+, the written benign cases' own budgets, ordinary talk), until
no move that keeps every budget buys recall. Recall is counted on the written development sets,
out of fold; a set can be left out of the gain (`exclude`) so its own figures are measured at
thresholds chosen without it.
"""
import numpy as np

SEVERITIES = ["none", "low", "moderate", "high", "imminent"]
RANK = {s: i for i, s in enumerate(SEVERITIES)}
# The threshold grid (both heads): 0.30 .. 0.995 by 0.005, then 0.999 (the starting point: the
# family raises almost nothing).
GRID = np.concatenate([np.round(np.arange(0.30, 0.99501, 0.005), 3), [0.999]])
MODEL_ALONE_URGENT = 0.9  # engine.cpp kModelAloneUrgent
CORROBORATE = RANK["low"]


def raise_ranks(rules, blocked, pf, pu, tf, tu):
    """engine.cpp's raise step with thresholds (tf, tu); arrays broadcast."""
    high = (pu >= tu) & ((rules >= CORROBORATE) | (pu >= MODEL_ALONE_URGENT))
    raised = np.where(high, RANK["high"], np.where((pf >= tf) | (pu >= tu), RANK["moderate"], 0))
    raised = np.where(blocked, 0, raised)
    return np.maximum(rules, raised)


class Tables:
    """For each family and each (flag level, urgent level) on GRID: the counts the allocation
    needs, from that family's own cases only.

    dev: dict of arrays over the training cases (rules, blocked, pf, pu out of fold, expected,
    family, set index, written, ordinary, patient); cal: the AnnoMI calibration part (rules,
    blocked, pf, pu from the model fitted on everything, family).
    """

    COUNTERS = ("cal_mod", "cal_high", "wb_mod", "wb_high", "ord_mod")

    def __init__(self, dev, cal, n_families, n_sets):
        self.n_families = n_families
        self.n_sets = n_sets
        g = len(GRID)
        self.gain = np.zeros((n_families, n_sets, g, g), dtype=np.int64)
        self.count = {k: np.zeros((n_families, g, g), dtype=np.int64) for k in self.COUNTERS}
        tu = GRID[:, None]  # one flag level at a time: urgent levels x cases
        for f in range(n_families):
            m = dev["family"] == f
            c = cal["family"] == f
            d = {k: v[m][None, :] for k, v in dev.items()}
            exp = d["expected"]
            written = d["written"]
            benign = written & (exp < RANK["moderate"]) & d["patient"]
            set_masks = [((d["set"] == s) & written) for s in range(n_sets)]
            q = {k: v[c][None, :] for k, v in cal.items()}
            for i, tf in enumerate(GRID):
                if m.any():
                    r = raise_ranks(d["rules"], d["blocked"], d["pf"], d["pu"], tf, tu)
                    caught = ((exp >= RANK["moderate"]) & (r >= RANK["moderate"])).astype(np.int64) + \
                             ((exp >= RANK["high"]) & (r >= RANK["high"])).astype(np.int64)
                    for s in range(n_sets):
                        if set_masks[s].any():
                            self.gain[f, s, i] = (caught * set_masks[s]).sum(axis=1)
                    rules = d["rules"]
                    self.count["wb_mod"][f, i] = ((r >= RANK["moderate"]) & benign & (rules < RANK["moderate"])).sum(axis=1)
                    self.count["wb_high"][f, i] = ((r >= RANK["high"]) & benign & (rules < RANK["high"])).sum(axis=1)
                    self.count["ord_mod"][f, i] = ((r >= RANK["moderate"]) & d["ordinary"] & (rules < RANK["moderate"])).sum(axis=1)
                if c.any():
                    r = raise_ranks(q["rules"], q["blocked"], q["pf"], q["pu"], tf, tu)
                    self.count["cal_mod"][f, i] = (r >= RANK["moderate"]).sum(axis=1)
                    self.count["cal_high"][f, i] = (r >= RANK["high"]).sum(axis=1)


def allocate(tables, budgets, exclude=(), floors=(0.0, 0.0), refine=False):
    """Greedy allocation. budgets: counter -> the largest total allowed (counts, not shares).
    exclude: set indices whose gain does not count. floors: no threshold below these
    (flag, urgent). refine: then, family by family, move to the pair that catches the most
    given what the others spend (eleventh pass). Returns per-family (flag, urgent) thresholds
    and the totals reached."""
    nf, g = tables.n_families, len(GRID)
    keep = [s for s in range(tables.n_sets) if s not in set(exclude)]
    gain = tables.gain[:, keep].sum(axis=1)  # family x flag level x urgent level
    allowed = (GRID[:, None] >= floors[0]) & (GRID[None, :] >= floors[1])
    state = [(g - 1, g - 1)] * nf
    totals = {k: int(sum(tables.count[k][f][state[f]] for f in range(nf))) for k in tables.COUNTERS}
    weight = {k: 1.0 / max(budgets[k], 0.5) for k in tables.COUNTERS}
    while True:
        best = None
        for f in range(nf):
            i, j = state[f]
            d_gain = gain[f, : i + 1, : j + 1] - gain[f, i, j]
            ok = allowed[: i + 1, : j + 1] & (d_gain > 0)
            cost = np.zeros(d_gain.shape)
            for k in tables.COUNTERS:
                d = tables.count[k][f, : i + 1, : j + 1] - tables.count[k][f, i, j]
                ok &= totals[k] + d <= budgets[k]
                cost += weight[k] * d
            if not ok.any():
                continue
            # Recall per unit of budget; a free gain first, the larger first.
            ratio = np.where(ok, d_gain / (cost + 1e-3), -1.0)
            a, b = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
            # Among moves with that ratio, the one that keeps thresholds highest (least spent).
            if best is None or ratio[a, b] > best[0]:
                best = (ratio[a, b], f, int(a), int(b))
        if best is None:
            break
        _, f, a, b = best
        for k in tables.COUNTERS:
            totals[k] += int(tables.count[k][f, a, b] - tables.count[k][f][state[f]])
        state[f] = (a, b)
    if refine:
        # The greedy steps only ever lower a threshold, so a family whose urgent head could buy
        # urgent cases with the high+ budget, if its flag threshold rose to pay the moderate+
        # budget back, never gets there (the suicidal-ideation family at a looser budget).
        # A best response per family, the others held, may raise one threshold to lower the
        # other; each move catches strictly more, so this ends.
        for _ in range(20):
            moved = False
            for f in range(nf):
                cur = state[f]
                ok = allowed.copy()
                cost = np.zeros(allowed.shape)
                for k in tables.COUNTERS:
                    rest = totals[k] - tables.count[k][f][cur]
                    ok &= rest + tables.count[k][f] <= budgets[k]
                    cost += weight[k] * tables.count[k][f]
                # Most caught first; among equals the least budget spent.
                score = np.where(ok, gain[f] - 1e-6 * cost, -np.inf)
                a, b = np.unravel_index(int(np.argmax(score)), score.shape)
                if gain[f, a, b] > gain[f][cur]:
                    for k in tables.COUNTERS:
                        totals[k] += int(tables.count[k][f, a, b] - tables.count[k][f][cur])
                    state[f] = (int(a), int(b))
                    moved = True
            if not moved:
                break
    thresholds = [(float(GRID[i]), float(GRID[j])) for i, j in state]
    return thresholds, totals


def case_thresholds(family, thresholds):
    """Per-case (flag, urgent) threshold arrays from per-family pairs."""
    tf = np.array([thresholds[f][0] for f in family])
    tu = np.array([thresholds[f][1] for f in family])
    return tf, tu
