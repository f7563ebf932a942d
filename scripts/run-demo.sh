#!/usr/bin/env bash
# The main job: the bridge with a demo clinic, simulated patients talking to it, and the
# clinician app connected to it.
#   run-demo.sh BUILD_DIR [--listen HOST:PORT] [--speed X] [--no-app]
# First run (a few seconds after the risk rules are compiled once): a data dir with an encrypted
# store and a self-signed certificate, three therapists and a supervisor, 36 fictional patients
# spread over the therapists, and three spare invite codes for you to try the patient chat page.
# Then it serves, and `tandem-loadgen play` plays the scripted conversations of
# scripts/demo/conversations.json at a human pace: mostly ordinary CBT conversation with the
# offline companion, some moderate risk, and a few urgent disclosures that trigger the crisis
# protocol within the first minute. The patients also answer the questionnaires the bridge offers
# (PHQ-9 and GAD-7 by the default schedule; answers per persona in the scenario file, some in two
# sittings), and a third of them are returning patients whose intake and week-4 results
# `prepare` seeded (marked as demo data), so the clinician app's outcome charts show a trend.
# Without a display the bridge and the patients keep running and the script says how to connect
# an app from another machine.
# Environment: TANDEM_DEMO_DIR (data dir), TANDEM_DEMO_LISTEN (HOST:PORT, default
# 127.0.0.1:8443; 0.0.0.0:8443 to let other machines in), TANDEM_DEMO_PASSWORD, TANDEM_DEMO_SPEED.
set -euo pipefail
build=${1:?usage: run-demo.sh BUILD_DIR [--listen HOST:PORT] [--speed X] [--no-app]}
shift
build=$(cd "$build" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
listen=${TANDEM_DEMO_LISTEN:-127.0.0.1:8443}
speed=${TANDEM_DEMO_SPEED:-1}
open_app=1
while [ $# -gt 0 ]; do
  case "$1" in
    --listen) listen=${2:?--listen needs HOST:PORT}; shift 2 ;;
    --speed) speed=${2:?--speed needs a number}; shift 2 ;;
    --no-app) open_app=0; shift ;;
    *) echo "run-demo: unknown option '$1'" >&2; exit 2 ;;
  esac
done

bridge="$build/patient_bridge/tandem-bridge"
app="$build/clinician_app/tandem-clinician"
loadgen="$build/bench/loadgen/tandem-loadgen"
scenario="$here/demo/conversations.json"
data=${TANDEM_DEMO_DIR:-$build/demo/data}
demo=$(dirname "$data")
password=${TANDEM_DEMO_PASSWORD:-demo-password}
port=${listen##*:}
host=${listen%:*}
local_host=$host
case "$host" in 0.0.0.0|"::"|"[::]") local_host=127.0.0.1 ;; esac
for exe in "$bridge" "$loadgen"; do
  [ -x "$exe" ] || { echo "run-demo: $exe is missing; build first (./scripts/tandem.sh run does)" >&2; exit 1; }
done

mkdir -p "$demo"
pwfile="$demo/admin-password"  # every demo clinician's password (the README names this file)
if [ ! -f "$data/config.json" ]; then
  (umask 077; printf '%s\n' "$password" > "$pwfile")
  # The certificate names this machine too, so an app on another machine can connect by name
  # or address (it pins the fingerprint printed below either way).
  # (init names localhost and 127.0.0.1 already.)
  hosts=(--host "$(hostname)")
  for ip in $(hostname -I 2>/dev/null || true); do
    case "$ip" in *.*) hosts+=(--host "$ip") ;; esac
  done
  "$bridge" init --data-dir "$data" --password-file "$pwfile" "${hosts[@]}" >/dev/null
  # One process makes every account, patient, assignment and invite (group-committed), instead
  # of a tandem-bridge process per patient.
  "$loadgen" prepare --data-dir "$data" --scenario "$scenario" --password-file "$pwfile"
  # Treatment plans (issue 7): the scripted intakes are 3 to 5 turns long, so the demo clinic's
  # companion proposes a plan after 4 turns (the default is 6); most demo patients then have an
  # AI proposal waiting for their therapist to review, edit and approve.
  /usr/bin/python3 - "$data/config.json" <<'PY'
import json, sys
path = sys.argv[1]
with open(path) as f:
    cfg = json.load(f)
cfg["plan_proposal_after_turns"] = 4
with open(path, "w") as f:
    json.dump(cfg, f, indent=2)
    f.write("\n")
PY
  /usr/bin/python3 - "$data/loadgen/roster.json" > "$demo/invites.txt" <<'PY'
import json, sys
roster = json.load(open(sys.argv[1]))
for p in roster["spare_invites"]:
    print(f'{p["display_name"]}\t{p["invite_code"]}')
PY
fi
[ -f "$pwfile" ] || { echo "run-demo: $pwfile is missing; remove $data to start over" >&2; exit 1; }

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$bridge" serve --data-dir "$data" --listen "$listen" > "$demo/bridge.out" 2> "$demo/bridge.log" &
bridge_pid=$!
pids+=("$bridge_pid")
echo "Starting the bridge (the first start compiles the risk rules: up to a minute)..."
for _ in $(seq 1 1500); do
  curl -ksf "https://$local_host:$port/healthz" >/dev/null 2>&1 && break
  if ! kill -0 "$bridge_pid" 2>/dev/null; then
    echo "run-demo: the bridge exited; the end of its log ($demo/bridge.log):" >&2
    tail -n 20 "$demo/bridge.log" >&2
    exit 1
  fi
  sleep 0.2
done

"$loadgen" play --data-dir "$data" --scenario "$scenario" --server "$local_host:$port" --speed "$speed" \
  > "$demo/patients.log" 2>&1 &
pids+=("$!")

fingerprint=$(openssl x509 -in "$data/tls/cert.pem" -noout -fingerprint -sha256 2>/dev/null | sed 's/^.*=//')
cat <<MSG

Tandem demo is running: 36 simulated patients are talking to the offline companion; the first
urgent disclosures (crisis protocol, urgent flags) arrive within a minute; after four turns each
patient has an AI-proposed treatment plan waiting for its therapist to review. The patients fill
in their PHQ-9 and GAD-7 within a few minutes; 12 returning patients (seeded demo history from
intake and week 4) show outcome trends in the app.
  Patient chat page:  https://$local_host:$port/   (self-signed certificate; try it with a spare invite code:)
$(sed 's/^/      /' "$demo/invites.txt")
  Clinician app:      server $local_host:$port; therapists tara, omar, lena; supervisor sam; admin admin
                      (accounts only); password in $pwfile
  Certificate SHA-256 fingerprint (the app shows it on first contact; it must match):
                      $fingerprint
  Logs:               bridge $demo/bridge.log, simulated patients $demo/patients.log
MSG
if [ "$host" = 127.0.0.1 ] || [ "$host" = localhost ]; then
  cat <<MSG
  From another machine: restart with TANDEM_DEMO_LISTEN=0.0.0.0:$port (or run-demo.sh BUILD --listen
  0.0.0.0:$port), then run tandem-clinician --server $(hostname):$port there and check the fingerprint.
MSG
else
  cat <<MSG
  From another machine: tandem-clinician --server $(hostname):$port (or this machine's address:
  $(hostname -I 2>/dev/null | awk '{print $1}'):$port) and check the fingerprint above.
MSG
fi
echo "  Stop with Ctrl+C."
echo

# The app logs in as a therapist at start (the password file is owner-only, as it requires).
# The fingerprint read above from the demo's own certificate answers the first-contact question.
app_args=(--server "$local_host:$port" --user tara --password-file "$pwfile")
[ -n "$fingerprint" ] && app_args+=(--fingerprint "$fingerprint")
if [ "$open_app" = 1 ] && [ -x "$app" ] && [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "Opening the clinician app as tara (close it to stop the demo)."
  "$app" "${app_args[@]}" || true
  exit 0
fi
if [ "$open_app" = 1 ]; then
  echo "No display here, so no clinician app window: the bridge and the simulated patients keep running."
  if [ -x "$app" ] && command -v xvfb-run >/dev/null && command -v import >/dev/null; then
    # A look at what the app would show, once the first flags are in.
    shot="$demo/clinician.png"
    ( timeout 120 xvfb-run -a -s "-screen 0 1366x768x24" bash -c \
        "\"$app\" $(printf '%q ' "${app_args[@]}") & sleep 45; import -window root \"$shot\"; kill %1" \
        >/dev/null 2>&1 && echo "A screenshot of the clinician app under Xvfb: $shot" ) &
    pids+=("$!")
  fi
fi
wait "$bridge_pid"
