#!/usr/bin/python3
"""installer/bridge/bridge.json (the packaged /etc/tandem/bridge.json) must say what the bridge
itself writes: same keys, same defaults, same documentation. Fails with a diff when they drift.
usage: check_default_config.py TANDEM_BRIDGE_BIN PACKAGED_JSON"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def without_comments(text):
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))


def main():
    bridge, packaged = sys.argv[1], Path(sys.argv[2])
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([bridge, "init", "--data-dir", f"{tmp}/d"], check=True, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL)
        written = json.loads(Path(f"{tmp}/d/config.json").read_text())
    shipped = json.loads(without_comments(packaged.read_text()))
    if shipped != written:
        for key in sorted(set(shipped) | set(written)):
            if shipped.get(key) != written.get(key):
                print(f"{key}: packaged {shipped.get(key)!r}, bridge writes {written.get(key)!r}")
        sys.exit(f"{packaged} has drifted from the bridge's defaults: regenerate it from `tandem-bridge init`")
    print("packaged config matches the bridge's defaults")


if __name__ == "__main__":
    main()
