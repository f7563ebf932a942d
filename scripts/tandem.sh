#!/usr/bin/env bash
# The README's two commands. On a fresh Debian 12 machine, as root, from a clean clone:
#   ./scripts/tandem.sh run    install what is missing, build, run the bridge with demo patients
#                              and the clinician app connected to it
#   ./scripts/tandem.sh test   install what is missing, build, run every test (CTest)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
mode=${1:-}
case "$mode" in
  run|test) ;;
  -h|--help|"")
    sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
    [ -n "$mode" ] && exit 0 || exit 2 ;;
  *) echo "tandem.sh: unknown mode '$mode' (use run or test)" >&2; exit 2 ;;
esac

if [ "$(id -u)" -eq 0 ]; then
  ./scripts/install-deps.sh
else
  echo "tandem.sh: not root, so not installing packages; run as root on a fresh machine" >&2
fi

# Paths relative to the clone, so a fresh clone elsewhere (CI) reuses this machine's ccache.
# (-g output would otherwise key the cache on the build directory too.)
export CCACHE_BASEDIR="$here" CCACHE_NOHASHDIR=1

preset=${TANDEM_PRESET:-release}
jobs=${TANDEM_JOBS:-$(nproc)}
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" --parallel "$jobs"

if [ "$mode" = test ]; then
  exec ctest --preset "$preset" --parallel "$jobs" --timeout 900
fi
exec ./scripts/run-demo.sh "build/$preset"
