#!/usr/bin/python3
"""Inclusive CPU shares of symbols in a `perf script` dump of `perf record --call-graph dwarf`.

    perf script -i perf.data > stacks.txt
    bench/loadgen/perf_shares.py stacks.txt commit_group handle_send malloc nlohmann

For each symbol (a substring of the frame's name): the share of samples with that symbol anywhere
on the stack, and which libraries those samples' leaf frames are in (where the time is spent).
"""
import collections
import re
import sys

FRAME = re.compile(r"\s*[0-9a-f]+ (.*) \((.*)\)$")


def read_samples(path):
    samples, current = [], []
    for line in open(path, errors="replace"):
        if line.strip() and not line[0].isspace():  # a sample's header line
            if current:
                samples.append(current)
            current = []
            continue
        m = FRAME.match(line.rstrip("\n"))
        if m:
            current.append((m.group(1), m.group(2).rsplit("/", 1)[-1]))
    if current:
        samples.append(current)
    return samples


def leaf_library(frame):
    symbol, dso = frame
    if "kernel" in dso or (not dso and symbol.startswith("[")):
        return "kernel"
    return dso.split(".so")[0] or "?"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    samples = read_samples(sys.argv[1])
    total = len(samples) or 1
    print(f"samples {len(samples)}")
    for key in sys.argv[2:]:
        hits = [s for s in samples if any(key in symbol for symbol, _ in s)]
        leaves = collections.Counter(leaf_library(s[0]) for s in hits)
        detail = ", ".join(f"{lib}:{100 * n / total:.1f}" for lib, n in leaves.most_common(5))
        print(f"{key:40s} {100 * len(hits) / total:5.1f}%  {detail}")


if __name__ == "__main__":
    main()
