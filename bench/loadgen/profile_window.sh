#!/bin/sh
# A perf profile of the bridge in the middle of a load window:
#   bench/loadgen/profile_window.sh BUILD_DIR PREPARED_DIR RATE PORT OUT
# Runs run_window.sh's window on a copy of PREPARED_DIR, records 15 s of the bridge with
# `perf record -F 149 --call-graph dwarf` once the warm-up is over, and writes OUT.data and the
# stacks as text to OUT.txt (for perf_shares.py).
set -eu
build=$1; prepared=$2; rate=$3; port=$4; out=$5
here=$(cd "$(dirname "$0")" && pwd)
"$here/run_window.sh" "$build" "$prepared" "$rate" "$port" &
runner=$!
sleep 28  # connections (about 10 to 20 s) and the warm-up
pid=$(pgrep -n -f "tandem-bridge serve --data-dir /tmp/tandem-window")
perf record -F 149 --call-graph dwarf -p "$pid" -o "$out.data" -- sleep 15 > /dev/null 2>&1
wait $runner
perf script -i "$out.data" > "$out.txt" 2> /dev/null
