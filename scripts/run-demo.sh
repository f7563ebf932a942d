#!/usr/bin/env bash
# The main job: screens a few demo messages with the risk engine. Later issues grow this into
# the bridge with demo patients and the clinician app connected to it.
set -euo pipefail
build=${1:?usage: run-demo.sh BUILD_DIR}
echo "Tandem demo: nothing runnable has landed yet beyond the libraries in $build"
