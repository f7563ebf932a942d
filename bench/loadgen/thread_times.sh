#!/bin/bash
# Where the bridge's threads spend a load window: for 10 s in the middle of a run_window.sh
# window, each thread's time on a CPU and its time runnable but waiting for one (Linux
# /proc/PID/task/TID/schedstat), busiest first, with the thread's name.
#   bench/loadgen/thread_times.sh BUILD_DIR PREPARED_DIR RATE PORT
# Waiting time well above CPU time for a thread that never blocks (the store's writer) means the
# cores are saturated: latency is then queueing for CPU, whatever the thread pools' sizes.
set -eu
build=$1; prepared=$2; rate=$3; port=$4
here=$(cd "$(dirname "$0")" && pwd)
"$here/run_window.sh" "$build" "$prepared" "$rate" "$port" > /tmp/thread_times.$$.log 2>&1 &
runner=$!
sleep 25  # connections (about 10 to 20 s) and the warm-up
pid=$(pgrep -n -f "tandem-bridge serve --data-dir /tmp/tandem-window" || true)
[ -n "$pid" ] || { echo "no bridge found" >&2; wait $runner; exit 1; }
snapshot() { for t in /proc/$pid/task/*; do echo "${t##*/} $(cat "$t/schedstat") $(tr ' ' _ < "$t/comm")"; done | sort; }
snapshot > /tmp/thread_times.$$.1; sleep 10; snapshot > /tmp/thread_times.$$.2
echo "thread                 on CPU ms  runnable-waiting ms  (10 s)"
join /tmp/thread_times.$$.1 /tmp/thread_times.$$.2 |
    awk '{cpu=($6-$2)/1e6; wait=($7-$3)/1e6; tc+=cpu; tw+=wait; printf "%-8s %-14s %9d %20d\n", $1, $9, cpu, wait}
         END {printf "%-23s %9d %20d\n", "all threads", tc, tw}' | sort -k3 -rn | head -12
wait $runner
grep -E "acknowledged|send -> |bridge CPU" /tmp/thread_times.$$.log
rm -f /tmp/thread_times.$$.*
