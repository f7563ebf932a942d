#!/usr/bin/env bash
# The Debian packages as an administrator meets them: built with cpack, checked by lintian,
# installed with dpkg into a copy of the clean Debian root that scripts/install-deps.sh made
# (no network here), then files, owners, modes, the unit, --version, the first init as the
# service user, a backup and restore round trip beside a running bridge, remove and purge.
# usage: test_packages.sh BUILD_DIR SOURCE_DIR      exit 77 = skipped (ctest shows why)
set -euo pipefail

build=$1
source=$2
rootfs=${TANDEM_ROOTFS:-/var/cache/tandem/rootfs-bookworm}

skip() { echo "SKIPPED: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (chroot, dpkg into a Debian root)"
for tool in cpack lintian dpkg-deb chroot desktop-file-validate appstreamcli; do
  command -v "$tool" > /dev/null || skip "$tool is not installed (scripts/install-deps.sh)"
done
[ -e "$rootfs/.tandem-rootfs-complete" ] || skip "no Debian root at $rootfs: run scripts/install-deps.sh"

work=$(mktemp -d /tmp/tandem-installer.XXXXXX)
root=$work/root
mounted=()
cleanup() {
  set +e
  if [ -n "${bridge_pid:-}" ]; then kill "$bridge_pid" 2> /dev/null; wait "$bridge_pid" 2> /dev/null; fi
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}"; done
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
check() {  # check "what" command...: one line per check, failures counted
  local what=$1
  shift
  if "$@" > "$work/check.out" 2>&1; then
    echo "ok   $what"
  else
    echo "FAIL $what"
    sed 's/^/     /' "$work/check.out"
    failures=$((failures + 1))
  fi
}
in_root() { chroot "$root" "$@"; }
as_tandem() { chroot "$root" runuser -u _tandem -- "$@"; }
stat_is() {  # stat_is PATH "owner:group mode"
  local got
  got=$(in_root stat -c '%U:%G %a' "$1")
  [ "$got" = "$2" ] || { echo "$1 is $got, expected $2"; return 1; }
}

echo "== packages"
cpack -B "$work/packages" --config "$build/CPackConfig.cmake" > "$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; exit 1; }
bridge_deb=$(ls "$work"/packages/tandem-bridge_*.deb)
clinician_deb=$(ls "$work"/packages/tandem-clinician_*.deb 2> /dev/null || true)
version=$(sed -n 's/^project(Tandem VERSION \([0-9.]*\).*/\1/p' "$source/CMakeLists.txt")
check "bridge package version is the project version ($version-1)" \
  test "$(dpkg-deb -f "$bridge_deb" Version)" = "$version-1"
check "bridge Depends come from dpkg-shlibdeps plus SQLCipher 4" \
  sh -c "dpkg-deb -f '$bridge_deb' Depends | grep -q 'libc6' && dpkg-deb -f '$bridge_deb' Depends | grep -q 'libsqlcipher1 (>= 4.6)'"
check "bridge Depends name libjemalloc2 (tandem-bridge links jemalloc)" \
  sh -c "dpkg-deb -f '$bridge_deb' Depends | grep -q 'libjemalloc2'"
# Errors fail the test; warnings are listed in docs/INSTALL.md.
check "lintian reports no errors" lintian --fail-on error --suppress-tags initial-upload-closes-no-bugs \
  "$bridge_deb" ${clinician_deb:+"$clinician_deb"}
grep -v "root privileges" "$work/check.out" | sed 's/^/     lintian: /' || true

echo "== a clean Debian root"
mkdir -p "$root"
# An overlay over the cached root costs nothing; where overlays are not allowed, a copy.
if mkdir -p "$work/upper" "$work/overlay-work" &&
  mount -t overlay overlay -o "lowerdir=$rootfs,upperdir=$work/upper,workdir=$work/overlay-work" "$root" 2> /dev/null; then
  mounted+=("$root")
else
  cp -a "$rootfs/." "$root/"
fi
mount -t proc proc "$root/proc" && mounted+=("$root/proc")
mkdir -p "$root/tmp/packages"
cp "$bridge_deb" ${clinician_deb:+"$clinician_deb"} "$root/tmp/packages/"
debs=(/tmp/packages/"$(basename "$bridge_deb")")
[ -z "$clinician_deb" ] || debs+=(/tmp/packages/"$(basename "$clinician_deb")")
check "dpkg -i installs the packages with only the root's libraries" in_root dpkg -i "${debs[@]}"
cp "$work/check.out" "$work/dpkg-install.log"
check "postinst says where the first admin's password is" \
  grep -q "password is in /var/lib/tandem/initial-admin-password" "$work/dpkg-install.log"

echo "== files, owners, modes"
check "service user _tandem is a system user without a login shell" \
  sh -c "chroot '$root' getent passwd _tandem | grep -q ':/var/lib/tandem:/usr/sbin/nologin$'"
check "/usr/bin/tandem-bridge root:root 755" stat_is /usr/bin/tandem-bridge "root:root 755"
check "/usr/bin/tandem-risk root:root 755" stat_is /usr/bin/tandem-risk "root:root 755"
check "/etc/tandem/bridge.json root:root 644" stat_is /etc/tandem/bridge.json "root:root 644"
check "bridge.json is a conffile" sh -c "chroot '$root' dpkg-query -W -f='\${Conffiles}' tandem-bridge | grep -q /etc/tandem/bridge.json"
check "/var/lib/tandem _tandem 700" stat_is /var/lib/tandem "_tandem:_tandem 700"
check "store key _tandem 600" stat_is /var/lib/tandem/store.key "_tandem:_tandem 600"
check "TLS key _tandem 600" stat_is /var/lib/tandem/tls/key.pem "_tandem:_tandem 600"
check "store _tandem" sh -c "chroot '$root' stat -c %U /var/lib/tandem/tandem.db | grep -qx _tandem"
check "first admin's password file root:root 600" stat_is /var/lib/tandem/initial-admin-password "root:root 600"
check "changelog and copyright in /usr/share/doc" \
  test -s "$root/usr/share/doc/tandem-bridge/changelog.Debian.gz" -a -s "$root/usr/share/doc/tandem-bridge/copyright"
unit=$root/lib/systemd/system/tandem-bridge.service
for line in "User=_tandem" "StateDirectory=tandem" "ConfigurationDirectory=tandem" "ProtectSystem=strict" \
  "ProtectHome=yes" "NoNewPrivileges=yes" "PrivateTmp=yes" "PrivateDevices=yes" \
  "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" "CapabilityBoundingSet=" "Type=simple" "Restart=on-failure" \
  "ExecStart=/usr/bin/tandem-bridge serve --data-dir /var/lib/tandem --config /etc/tandem/bridge.json"; do
  check "unit has $line" grep -qx "$line" "$unit"
done
check "unit is enabled" test -L "$root/etc/systemd/system/multi-user.target.wants/tandem-bridge.service"

echo "== as the service user"
check "tandem-bridge --version prints $version" sh -c "chroot '$root' runuser -u _tandem -- tandem-bridge --version | grep -qx 'tandem-bridge $version'"
check "init made a store whose chain verifies" as_tandem tandem-bridge audit verify --data-dir /var/lib/tandem
check "init made the admin clinician" sh -c "chroot '$root' runuser -u _tandem -- tandem-bridge clinician list --data-dir /var/lib/tandem | grep -q '\"username\":\"admin\"'"
check "init refuses to run twice" sh -c "chroot '$root' runuser -u _tandem -- tandem-bridge init --data-dir /var/lib/tandem < /dev/null 2>&1 | grep -q 'already initialised'"
check "tandem-risk loads its built-in rules" in_root tandem-risk check

echo "== backup and restore beside a running bridge"
as_tandem tandem-bridge patient add --data-dir /var/lib/tandem --name Alex > /dev/null
chroot "$root" runuser -u _tandem -- tandem-bridge serve --data-dir /var/lib/tandem \
  --config /etc/tandem/bridge.json --listen 127.0.0.1:0 > "$work/serve.out" 2> "$work/serve.err" &
bridge_pid=$!
# Compiling the risk rules takes seconds on a busy machine; the lock is held from the start.
for _ in $(seq 600); do grep -q "listening on" "$work/serve.out" && break; sleep 0.1; done
check "the installed bridge serves on 127.0.0.1" sh -c "grep -q 'listening on 127.0.0.1:' '$work/serve.out' || { cat '$work/serve.err'; false; }"
as_tandem tandem-bridge patient add --data-dir /var/lib/tandem --name Sam > /dev/null
check "backup while serving" as_tandem tandem-bridge backup --data-dir /var/lib/tandem --out /var/lib/tandem/b1.db
check "restore is refused while the bridge runs" sh -c \
  "! chroot '$root' runuser -u _tandem -- tandem-bridge restore --data-dir /var/lib/tandem --from /var/lib/tandem/b1.db > '$work/refused' 2>&1; grep -q 'stop it first' '$work/refused'"
as_tandem tandem-bridge patient add --data-dir /var/lib/tandem --name Kim > /dev/null
kill -TERM "$bridge_pid"
wait "$bridge_pid" || true
bridge_pid=
check "restore once the bridge stopped" as_tandem tandem-bridge restore --data-dir /var/lib/tandem --from /var/lib/tandem/b1.db
check "restored store verifies" as_tandem tandem-bridge audit verify --data-dir /var/lib/tandem
check "restored store is the backup's (3 events: admin, Alex, Sam)" sh -c \
  "chroot '$root' runuser -u _tandem -- tandem-bridge audit verify --data-dir /var/lib/tandem | grep -q 'chain ok: 3 events'"

echo "== reinstall (as an upgrade would) keeps the data"
check "dpkg -i again" in_root dpkg -i "${debs[0]}"
cp "$work/check.out" "$work/reinstall.log"
check "postinst did not run init again" sh -c "! grep -q initialised '$work/reinstall.log'"
check "the store is untouched" sh -c \
  "chroot '$root' runuser -u _tandem -- tandem-bridge audit verify --data-dir /var/lib/tandem | grep -q 'chain ok: 3 events'"

if [ -n "$clinician_deb" ]; then
  echo "== tandem-clinician"
  check "desktop entry validates" desktop-file-validate "$root/usr/share/applications/invalid.tandem.Clinician.desktop"
  check "AppStream metainfo validates" appstreamcli validate --no-net "$root/usr/share/metainfo/invalid.tandem.Clinician.metainfo.xml"
  for size in 16 32 48 64 128 256; do
    check "icon ${size}x${size}" sh -c "file '$root/usr/share/icons/hicolor/${size}x${size}/apps/tandem-clinician.png' | grep -q '$size x $size'"
  done
  check "scalable icon" test -s "$root/usr/share/icons/hicolor/scalable/apps/tandem-clinician.svg"
  check "tandem-clinician finds all its libraries" sh -c "! chroot '$root' ldd /usr/bin/tandem-clinician | grep -q 'not found'"
fi

echo "== remove keeps data, purge deletes it"
check "dpkg -r tandem-bridge" in_root dpkg -r tandem-bridge
cp "$work/check.out" "$work/remove.log"
check "remove says the data was kept" grep -q "Kept: /var/lib/tandem" "$work/remove.log"
check "remove kept the store and the config" test -s "$root/var/lib/tandem/tandem.db" -a -s "$root/etc/tandem/bridge.json"
check "dpkg -P tandem-bridge" in_root dpkg -P tandem-bridge
cp "$work/check.out" "$work/purge.log"
check "purge says what it deleted" grep -q "purged: deleted /var/lib/tandem" "$work/purge.log"
check "purge deleted /var/lib/tandem and /etc/tandem" sh -c "test ! -e '$root/var/lib/tandem' && test ! -e '$root/etc/tandem'"

echo "== $failures failure(s)"
[ "$failures" -eq 0 ]
