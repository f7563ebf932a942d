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
  libwxgtk3.2-dev libcairo2-dev libvectorscan-dev libargon2-dev libboost-dev
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
rootfs=/var/cache/tandem/rootfs-bookworm
rootfs_libs=(libargon2-1 libcurl4 libssl3 libvectorscan5 libwxgtk3.2-1)
if [ ! -e "$rootfs/.tandem-rootfs-complete" ]; then
  echo "install-deps: making the installer test's Debian root in $rootfs (once)"
  mkdir -p /var/cache/tandem
  rm -rf "$rootfs.partial"
  debootstrap --variant=minbase bookworm "$rootfs.partial" http://deb.debian.org/debian > /dev/null
  echo "deb http://deb.debian.org/debian bookworm-backports main" \
    > "$rootfs.partial/etc/apt/sources.list.d/bookworm-backports.list"
  chroot "$rootfs.partial" apt-get update -qq
  chroot "$rootfs.partial" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${rootfs_libs[@]}" > /dev/null
  chroot "$rootfs.partial" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends -t bookworm-backports libsqlcipher1 > /dev/null
  chroot "$rootfs.partial" apt-get clean
  rm -rf "$rootfs.partial"/var/lib/apt/lists/*
  touch "$rootfs.partial/.tandem-rootfs-complete"
  rm -rf "$rootfs"
  mv "$rootfs.partial" "$rootfs"
fi
echo "install-deps: done"
