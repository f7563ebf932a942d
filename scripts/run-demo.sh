#!/usr/bin/env bash
# The main job: the bridge with demo patients, and the clinician app connected to it.
# Creates a demo data dir on first run (encrypted store, self-signed certificate, an admin, a
# therapist and a supervisor, three fictional patients assigned to the therapist, invite
# codes), serves on 127.0.0.1, and opens the clinician app.
# Without a display the app runs under Xvfb and a screenshot is saved beside the data dir.
set -euo pipefail
build=${1:?usage: run-demo.sh BUILD_DIR}
build=$(cd "$build" && pwd)
bridge="$build/patient_bridge/tandem-bridge"
app="$build/clinician_app/tandem-clinician"
data=${TANDEM_DEMO_DIR:-$build/demo/data}
port=${TANDEM_DEMO_PORT:-8443}
admin_password=${TANDEM_DEMO_PASSWORD:-demo-password}

mkdir -p "$(dirname "$data")"
if [ ! -f "$data/config.json" ]; then
  pwfile="$(dirname "$data")/admin-password"
  (umask 077; printf '%s\n' "$admin_password" > "$pwfile")
  "$bridge" init --data-dir "$data" --password-file "$pwfile"
  "$bridge" clinician add --data-dir "$data" --username therapist --role therapist \
    --name "Dr Demo Therapist" --password-file "$pwfile" >/dev/null
  "$bridge" clinician add --data-dir "$data" --username supervisor --role supervisor \
    --name "Dr Demo Supervisor" --password-file "$pwfile" >/dev/null
  : > "$(dirname "$data")/invites.txt"
  for name in "Alex Rivera" "Sam Okafor" "Jordan Haddad"; do
    id=$("$bridge" patient add --data-dir "$data" --name "$name")
    "$bridge" patient assign --data-dir "$data" --patient "$id" --therapist therapist >/dev/null
    code=$("$bridge" invite --data-dir "$data" --patient "$id")
    printf '%s\t%s\n' "$name" "$code" >> "$(dirname "$data")/invites.txt"
  done
fi

"$bridge" serve --data-dir "$data" --listen "127.0.0.1:$port" &
bridge_pid=$!
cleanup() { kill "$bridge_pid" 2>/dev/null || true; wait "$bridge_pid" 2>/dev/null || true; }
trap cleanup EXIT INT TERM
# The first start compiles the risk rules (tens of seconds) before listening; later starts
# read the compiled rules from the cache.
for _ in $(seq 1 900); do
  curl -ksf "https://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$bridge_pid" 2>/dev/null || { echo "run-demo: the bridge exited; see its log above" >&2; exit 1; }
  sleep 0.2
done

cat <<MSG

Tandem demo is running.
  Patient chat page: https://127.0.0.1:$port/  (self-signed certificate; invite codes below)
$(sed 's/^/    /' "$(dirname "$data")/invites.txt")
  Clinician app:     server 127.0.0.1:$port, users therapist and supervisor (admin: accounts only),
                     password in $(dirname "$data")/admin-password
  Stop with Ctrl+C.
MSG

if [ -n "${DISPLAY:-}" ]; then
  "$app" --server "127.0.0.1:$port"
else
  shot="$(dirname "$data")/clinician.png"
  echo "No display: running the clinician app under Xvfb; a screenshot goes to $shot"
  xvfb-run -a -s "-screen 0 1366x768x24" bash -c \
    "\"$app\" --server 127.0.0.1:$port & sleep 6; import -window root \"$shot\"; wait" 
fi
