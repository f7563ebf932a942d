#!/bin/sh
# Records every verdict a speed change must leave byte-identical, so the change can be checked:
#   bench/risk/record_verdicts.sh BUILD_DIR OUT_DIR [PUBLIC_DIR]
#   diff -r BEFORE_DIR AFTER_DIR      # no output: no verdict changed
# Writes to OUT_DIR:
#   screen-<set>.jsonl    tandem-risk screen over each development set in tests/data/risk/
#   screen-<set>.sha256   the same for held-out sets, as a digest only: their content is never
#                         written or printed (they are not to be read, only compared)
#   eval-dev*.txt         tandem-risk eval figures on the development sets (never the held-out)
#   features-dev*.jsonl   tandem-risk features (the learned model's hashed features) on them
#   bench-verdicts.txt    bench_risk --verdicts (the bench corpus, each role and context length)
#   nomodel-*             the same screens with the rules alone (--no-model)
#   matches-<set>.txt     bench_risk --matches: the raw scan of every text and context turn
#                         (rule, start, end, in report order) and the prefilter's answers;
#                         .sha256 for held-out and public sets
#   public-*.sha256       screens of the public sets in PUBLIC_DIR (written by
#                         scripts/risk/convert_gaur500.py and convert_diasafety.py), if given,
#                         with and without the model
set -eu
build=$1
out=$2
public=${3:-}
here=$(cd "$(dirname "$0")/../.." && pwd)
risk="$build/common/risk/tandem-risk"
bench="$build/bench/risk/bench_risk"
mkdir -p "$out"
for f in "$here"/tests/data/risk/*.jsonl; do
    name=$(basename "$f" .jsonl)
    case "$name" in
        heldout*)
            "$risk" screen < "$f" | sha256sum | cut -d' ' -f1 > "$out/screen-$name.sha256"
            "$risk" --no-model screen < "$f" | sha256sum | cut -d' ' -f1 > "$out/nomodel-screen-$name.sha256"
            "$bench" --matches < "$f" | grep "^bytes=" | sha256sum | cut -d' ' -f1 > "$out/matches-$name.sha256"
            ;;
        *)
            "$risk" screen < "$f" > "$out/screen-$name.jsonl"
            "$risk" --no-model screen < "$f" > "$out/nomodel-screen-$name.jsonl"
            "$risk" eval "$f" | sed "s#$here/##" > "$out/eval-$name.txt"
            "$risk" features < "$f" > "$out/features-$name.jsonl"
            "$bench" --matches < "$f" | grep "^bytes=" > "$out/matches-$name.txt"
            ;;
    esac
done
"$bench" --verdicts | grep "^turns=" > "$out/bench-verdicts.txt"
"$bench" --verdicts --no-model | grep "^turns=" > "$out/nomodel-bench-verdicts.txt"
if [ -n "$public" ]; then
    for f in "$public"/*.jsonl; do
        name=$(basename "$f" .jsonl)
        "$risk" screen < "$f" | sha256sum | cut -d' ' -f1 > "$out/public-$name.sha256"
        "$risk" --no-model screen < "$f" | sha256sum | cut -d' ' -f1 > "$out/nomodel-public-$name.sha256"
        "$bench" --matches < "$f" | grep "^bytes=" | sha256sum | cut -d' ' -f1 > "$out/matches-public-$name.sha256"
    done
fi
