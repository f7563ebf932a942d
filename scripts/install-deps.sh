#!/usr/bin/env bash
# Installs, as root and without questions, every Debian package Tandem needs to build,
# run and test. Idempotent: a second run installs nothing and takes seconds.
# SQLCipher 4.6 and Catch2 3 come from bookworm-backports; Boost stays on bookworm's 1.74
# because python3-sklearn (the risk baseline) needs libboost-dev 1.74 (see docs/DEPENDENCIES.md).
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: run as root (it calls apt-get)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive

backports_list=/etc/apt/sources.list.d/tandem-bookworm-backports.list
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "deb http://deb.debian.org/debian bookworm-backports main" > "$backports_list"
fi

from_main=(
  build-essential cmake ninja-build ccache pkg-config git ca-certificates
  libssl-dev libcurl4-openssl-dev nlohmann-json3-dev libvalijson-dev
  libwxgtk3.2-dev libcairo2-dev libvectorscan-dev libargon2-dev libboost-dev libjemalloc-dev
  python3 python3-jsonschema python3-sklearn python3-numpy
  xvfb xauth xdotool imagemagick fonts-dejavu-core openssl
  # Integration tests (foreign WebSocket client, chat page in headless Chromium) and packaging.
  python3-websockets chromium chromium-driver python3-selenium
  dpkg-dev fakeroot file lintian appstream desktop-file-utils debootstrap
)
from_backports=(libsqlcipher-dev sqlcipher libcatch2-dev)

missing=()
for pkg in "${from_main[@]}" "${from_backports[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
# The 3.4.1 SQLCipher from bookworm main must not satisfy us: it lacks UPSERT, RETURNING and FTS5.
if dpkg-query -W -f='${Version}' libsqlcipher-dev 2>/dev/null | grep -q '^3\.'; then
  missing+=(libsqlcipher-dev)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
else
  echo "install-deps: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${from_main[@]}"
  apt-get install -y -qq --no-install-recommends -t bookworm-backports "${from_backports[@]}"
fi

# A clean Debian root for the installer test (tests/installer, docs/INSTALL.md): made here, where
# the network may be used, so the test never downloads anything; it installs our .deb files into
# a copy. minbase plus the shared libraries the packages depend on, from the same suites.
# The marker file lists those libraries: when the list grows (libjemalloc2 came after the first
# roots were made), an existing root gets what it lacks instead of a 5-minute debootstrap anew.
rootfs=/var/cache/tandem/rootfs-bookworm
rootfs_libs=(libargon2-1 libcurl4 libjemalloc2 libssl3 libvectorscan5 libwxgtk3.2-1)
rootfs_backports_libs=(libsqlcipher1)
rootfs_marker=.tandem-rootfs-complete
rootfs_wanted=$(printf '%s\n' "${rootfs_libs[@]}" "${rootfs_backports_libs[@]}" | sort)
rootfs_add_libs() {  # rootfs_add_libs ROOT: installs the lists above (present ones are no-ops)
  chroot "$1" apt-get update -qq
  chroot "$1" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${rootfs_libs[@]}" > /dev/null
  chroot "$1" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends -t bookworm-backports "${rootfs_backports_libs[@]}" > /dev/null
  chroot "$1" apt-get clean
  rm -rf "$1"/var/lib/apt/lists/*
  printf '%s\n' "$rootfs_wanted" > "$1/$rootfs_marker"
}
if [ ! -e "$rootfs/$rootfs_marker" ]; then
  echo "install-deps: making the installer test's Debian root in $rootfs (once)"
  mkdir -p /var/cache/tandem
  rm -rf "$rootfs.partial"
  debootstrap --variant=minbase bookworm "$rootfs.partial" http://deb.debian.org/debian > /dev/null
  echo "deb http://deb.debian.org/debian bookworm-backports main" \
    > "$rootfs.partial/etc/apt/sources.list.d/bookworm-backports.list"
  rootfs_add_libs "$rootfs.partial"
  rm -rf "$rootfs"
  mv "$rootfs.partial" "$rootfs"
elif [ "$(cat "$rootfs/$rootfs_marker")" != "$rootfs_wanted" ]; then
  # Installed in place, not into a copy swapped in: packages only add files, and a test running
  # now has the root mounted as an overlay's lower layer, which a swap and delete would pull
  # from under it. The marker is rewritten last, so an interrupted update is retried next time.
  echo "install-deps: bringing the installer test's Debian root up to date (${rootfs_libs[*]} ${rootfs_backports_libs[*]})"
  rootfs_add_libs "$rootfs"
fi
echo "install-deps: done"
