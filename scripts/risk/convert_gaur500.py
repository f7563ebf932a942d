#!/usr/bin/python3
"""Converts Gaur et al. (2019) 500-Reddit-user C-SSRS data into Tandem's labelled format.

Usage:
  /usr/bin/python3 scripts/risk/convert_gaur500.py OUT_DIR [--source DIR]

Writes OUT_DIR/gaur500-users.jsonl (one case per user: the user's posts joined, oldest
first, by blank lines) and OUT_DIR/gaur500-posts.jsonl (one case per post, all posts of a
user sharing "group": the user id, each carrying the user's label, so a scorer takes the
maximum over a user's posts). Labels are per user only, so a per-post file must always be
scored at group level.

Label mapping (the issue's): Supportive and Indicator -> none (no flag), Ideation ->
moderate [suicidal_ideation], Behavior and Attempt -> high [suicidal_behaviour].

The text was written by real people on Reddit: this program never prints it, and its output
must not be committed (the data is not ours; cite it, CC BY via Zenodo 10.5281/zenodo.2667859).
"""
import argparse
import ast
import csv
import json
import os
import re
import sys
from collections import Counter

DEFAULT_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "..", "..", "..", "shared", "data", "gaur500")
CSV_NAME = "500_Reddit_users_posts_labels.csv"
LABELS = {
    "Supportive": ("none", [], "third_party"),
    "Indicator": ("none", [], "benign"),
    "Ideation": ("moderate", ["suicidal_ideation"], "positive"),
    "Behavior": ("high", ["suicidal_behaviour"], "positive"),
    "Attempt": ("high", ["suicidal_behaviour"], "positive"),
}
# One Python string literal, either quote style, with backslash escapes.
_LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", re.S)


def split_posts(cell):
    """The Post column holds a Python list literal of strings.

    28 users' cells were cut at 32,759 characters (a spreadsheet cell limit), leaving an
    unterminated literal; for those the complete strings are kept and the cut tail dropped.
    Returns (posts, truncated).
    """
    try:
        value = ast.literal_eval(cell)
        if isinstance(value, list):
            return [str(p) for p in value], False
    except (SyntaxError, ValueError):
        pass
    posts = []
    position = cell.find("[") + 1
    while True:
        # Walk literal by literal from the start so a quote inside the cut tail can never
        # pair up with a later one and invent a post.
        while position < len(cell) and cell[position] in ", \n":
            position += 1
        match = _LITERAL.match(cell, position)
        if not match:
            break
        try:
            posts.append(str(ast.literal_eval(match.group(0))))
        except (SyntaxError, ValueError):
            break
        position = match.end()
    return posts, True


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir")
    parser.add_argument("--source", default=DEFAULT_SOURCE, help="folder holding " + CSV_NAME)
    args = parser.parse_args()
    path = os.path.join(args.source, CSV_NAME)
    if not os.path.exists(path):
        print(f"gaur500 data not found at {path}; nothing converted", file=sys.stderr)
        return 2
    csv.field_size_limit(1 << 30)
    os.makedirs(args.out_dir, exist_ok=True)
    users_path = os.path.join(args.out_dir, "gaur500-users.jsonl")
    posts_path = os.path.join(args.out_dir, "gaur500-posts.jsonl")
    labels = Counter()
    truncated_users = 0
    post_count = 0
    with open(path, encoding="utf-8", newline="") as source, \
            open(users_path, "w", encoding="utf-8") as users_out, \
            open(posts_path, "w", encoding="utf-8") as posts_out:
        for row in csv.DictReader(source):
            label = row["Label"].strip()
            if label not in LABELS:
                print(f"unknown label for {row['User']}; skipped", file=sys.stderr)
                continue
            severity, categories, kind = LABELS[label]
            posts, truncated = split_posts(row["Post"])
            truncated_users += truncated
            labels[label] += 1
            user = row["User"].strip()
            note = f"Gaur et al. 2019 user label {label}"
            expected = {"severity": severity, "categories": categories}
            users_out.write(json.dumps({
                "id": f"gaur500-{user}", "role": "patient", "text": "\n\n".join(posts),
                "expected": expected, "kind": kind, "lang": "en", "note": note,
                "group": user}, ensure_ascii=False) + "\n")
            for index, post in enumerate(posts):
                post_count += 1
                posts_out.write(json.dumps({
                    "id": f"gaur500-{user}-p{index:03d}", "role": "patient", "text": post,
                    "expected": expected, "kind": kind, "lang": "en", "note": note,
                    "group": user}, ensure_ascii=False) + "\n")
    print(f"wrote {users_path} ({sum(labels.values())} users) and {posts_path} ({post_count} posts)")
    print("users per label: " + ", ".join(f"{k}={v}" for k, v in sorted(labels.items())))
    print(f"users whose cell was cut at the spreadsheet limit (tail dropped): {truncated_users}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
