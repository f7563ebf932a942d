#!/usr/bin/python3
"""Shared reader, validator and metrics for Tandem's labelled risk sets.

The format is described in docs/RISK_DATA.md. Kept stdlib-only so the converters and the
scorer run on a bare Debian python3; only baseline.py needs sklearn.
"""
import json
import sys

SEVERITIES = ["none", "low", "moderate", "high", "imminent"]
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
CATEGORIES = [
    "suicidal_ideation", "suicidal_behaviour", "self_harm", "harm_to_others", "abuse_disclosed",
    "eating_disorder", "substance_misuse", "psychosis",
    "ai_means_information", "ai_validates_self_harm", "ai_harmful_diet_advice",
    "ai_medication_advice", "ai_discourages_care", "ai_boundary_crossing", "ai_risk_ignorance",
]
KINDS = ["positive", "idiom", "negation", "third_party", "history", "topic", "everyday",
         "safe_ai", "context", "spanish", "robustness", "benign"]
ROLES = ["patient", "ai"]
CONTEXT_ROLES = ["ai", "patient", "clinician"]
MODERATE = SEVERITY_RANK["moderate"]
HIGH = SEVERITY_RANK["high"]


def validate_case(case):
    """Returns a list of problems with one decoded case (empty when it is well formed)."""
    problems = []
    if not isinstance(case.get("id"), str) or not case.get("id"):
        problems.append("id must be a non-empty string")
    if case.get("role") not in ROLES:
        problems.append("role must be patient or ai")
    if not isinstance(case.get("text"), str):
        problems.append("text must be a string")
    context = case.get("context", [])
    if not isinstance(context, list) or len(context) > 6:
        problems.append("context must be a list of at most 6 turns")
    else:
        for turn in context:
            if not isinstance(turn, dict) or turn.get("role") not in CONTEXT_ROLES \
                    or not isinstance(turn.get("text"), str):
                problems.append("each context turn needs role ai|patient|clinician and text")
    expected = case.get("expected")
    if not isinstance(expected, dict):
        problems.append("expected must be an object")
        return problems
    severity = expected.get("severity")
    if severity not in SEVERITY_RANK:
        problems.append("expected.severity must be one of " + "|".join(SEVERITIES))
    categories = expected.get("categories")
    if not isinstance(categories, list) or any(c not in CATEGORIES for c in categories):
        problems.append("expected.categories must list category wire names")
    elif severity in ("none", "low") and categories:
        problems.append("none/low cases carry no categories")
    cssrs = expected.get("cssrs")
    if cssrs is not None and (not isinstance(cssrs, int) or not 0 <= cssrs <= 6):
        problems.append("expected.cssrs must be 0..6")
    if case.get("kind") not in KINDS:
        problems.append("kind must be one of " + "|".join(KINDS))
    if case.get("lang") not in ("en", "es"):
        problems.append("lang must be en or es")
    return problems


def read_cases(path, strict=True):
    """Reads a labelled JSON-lines file; exits with file:line and reason on a malformed case."""
    cases = []
    seen = set()
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                case = json.loads(line)
            except json.JSONDecodeError as error:
                sys.exit(f"{path}:{number}: not JSON: {error}")
            problems = validate_case(case) if strict else []
            if case.get("id") in seen:
                problems.append("duplicate id " + str(case.get("id")))
            if problems:
                sys.exit(f"{path}:{number}: " + "; ".join(problems))
            seen.add(case["id"])
            cases.append(case)
    return cases


def metrics(expected, predicted):
    """Band, false-alarm, per-category and confusion figures.

    expected/predicted: parallel lists of (severity name, set of category names).
    """
    ranks_e = [SEVERITY_RANK[s] for s, _ in expected]
    ranks_p = [SEVERITY_RANK[s] for s, _ in predicted]
    pairs = list(zip(ranks_e, ranks_p))

    def share(numerator, denominator):
        return (numerator / denominator if denominator else None), numerator, denominator

    out = {"n": len(pairs)}
    out["urgent_recall"] = share(sum(1 for e, p in pairs if e >= HIGH and p >= HIGH),
                                 sum(1 for e, _ in pairs if e >= HIGH))
    out["urgent_precision"] = share(sum(1 for e, p in pairs if e >= HIGH and p >= HIGH),
                                    sum(1 for _, p in pairs if p >= HIGH))
    out["flag_recall"] = share(sum(1 for e, p in pairs if e >= MODERATE and p >= MODERATE),
                               sum(1 for e, _ in pairs if e >= MODERATE))
    out["flag_precision"] = share(sum(1 for e, p in pairs if e >= MODERATE and p >= MODERATE),
                                  sum(1 for _, p in pairs if p >= MODERATE))
    benign = [p for e, p in pairs if e < MODERATE]
    out["benign_to_high"] = share(sum(1 for p in benign if p >= HIGH), len(benign))
    out["benign_to_moderate"] = share(sum(1 for p in benign if p >= MODERATE), len(benign))
    out["exact_severity"] = share(sum(1 for e, p in pairs if e == p), len(pairs))
    per_category = {}
    for category in CATEGORIES:
        has_e = [category in cats for _, cats in expected]
        has_p = [category in cats for _, cats in predicted]
        support = sum(has_e)
        raised = sum(has_p)
        if not support and not raised:
            continue
        hits = sum(1 for a, b in zip(has_e, has_p) if a and b)
        per_category[category] = (share(hits, support), share(hits, raised))
    out["per_category"] = per_category
    matrix = [[0] * 5 for _ in range(5)]
    for e, p in pairs:
        matrix[e][p] += 1
    out["confusion"] = matrix
    return out


def _fmt(value):
    ratio, numerator, denominator = value
    if ratio is None:
        return "   n/a (0/0)"
    return f"{ratio:6.3f} ({numerator}/{denominator})"


def print_metrics(title, figures, stream=sys.stdout):
    """Prints the figures in the layout shared by score.py and baseline.py."""
    w = stream.write
    w(f"== {title}: {figures['n']} cases\n")
    w(f"  urgent (high+)   recall    {_fmt(figures['urgent_recall'])}   precision {_fmt(figures['urgent_precision'])}\n")
    w(f"  flag (moderate+) recall    {_fmt(figures['flag_recall'])}   precision {_fmt(figures['flag_precision'])}\n")
    w(f"  benign (none/low) raised to high+     {_fmt(figures['benign_to_high'])}\n")
    w(f"  benign (none/low) raised to moderate+ {_fmt(figures['benign_to_moderate'])}\n")
    w(f"  exact severity   {_fmt(figures['exact_severity'])}\n")
    if figures["per_category"]:
        w("  category                   recall            precision\n")
        for category, (recall, precision) in figures["per_category"].items():
            w(f"  {category:<24} {_fmt(recall)}  {_fmt(precision)}\n")
    w("  confusion (rows expected, columns predicted)\n")
    w("              " + "".join(f"{s[:8]:>9}" for s in SEVERITIES) + "\n")
    for name, row in zip(SEVERITIES, figures["confusion"]):
        w(f"    {name:<9} " + "".join(f"{v:>9}" for v in row) + "\n")


def print_breakdown(cases, predicted, stream=sys.stdout):
    """Share raised to moderate+ per kind and language: where false alarms and misses sit."""
    groups = {}
    for case, (severity, _) in zip(cases, predicted):
        for key in ("kind:" + case.get("kind", "?"), "lang:" + case.get("lang", "?")):
            total, raised = groups.get(key, (0, 0))
            groups[key] = (total + 1, raised + (SEVERITY_RANK[severity] >= MODERATE))
    stream.write("  raised to moderate+ by group\n")
    for key in sorted(groups):
        total, raised = groups[key]
        stream.write(f"    {key:<22} {raised:>4}/{total:<4}\n")


def group_max(cases, predicted):
    """Collapses cases sharing a "group" (e.g. one Reddit user's posts) to one case each.

    The group's predicted severity is the highest over its members, its predicted categories
    the union over members raised to that severity; its expected label is the group's label.
    """
    order = []
    merged = {}
    for case, (severity, cats) in zip(cases, predicted):
        key = case.get("group", case["id"])
        if key not in merged:
            order.append(key)
            merged[key] = [case, severity, set(cats)]
            continue
        entry = merged[key]
        if SEVERITY_RANK[severity] > SEVERITY_RANK[entry[1]]:
            entry[1], entry[2] = severity, set(cats)
        elif severity == entry[1]:
            entry[2] |= set(cats)
    cases_out = [merged[k][0] for k in order]
    predicted_out = [(merged[k][1], merged[k][2]) for k in order]
    return cases_out, predicted_out


def expected_of(case):
    return case["expected"]["severity"], set(case["expected"]["categories"])
