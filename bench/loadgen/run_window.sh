#!/bin/sh
# One measured load window against a fresh bridge, as docs/PERFORMANCE.md "Bridge under load" runs:
#   bench/loadgen/run_window.sh BUILD_DIR PREPARED_DIR RATE PORT [extra tandem-loadgen run options]
# PREPARED_DIR comes from `tandem-loadgen prepare --data-dir DIR --patients 2000 --rate-limit 120`
# and one run at --rate 1 (which redeems the invites). Each window runs on a fresh copy of it, so
# runs start from the same store; the copy is removed afterwards.
set -eu
build=$1; prepared=$2; rate=$3; port=$4; shift 4
dir=$(mktemp -d /tmp/tandem-window.XXXXXX)
cp -a "$prepared/." "$dir/"
"$build/patient_bridge/tandem-bridge" serve --data-dir "$dir" --listen "127.0.0.1:$port" > "$dir.serve.log" 2>&1 &
bridge=$!
# The loadgen does not retry refused connects: wait until the bridge answers.
for _ in $(seq 120); do
    curl -sk -o /dev/null "https://127.0.0.1:$port/healthz" && break
    sleep 0.5
done
uptime
"$build/bench/loadgen/tandem-loadgen" run --data-dir "$dir" --server "127.0.0.1:$port" --patients 2000 \
    --clinicians 10 --rate "$rate" --warmup 5 --duration 20 --drain 5 --bridge-pid "$bridge" "$@"
uptime
kill "$bridge"; wait "$bridge" 2>/dev/null || true
rm -rf "$dir" "$dir.serve.log"
