#!/bin/bash
# Builds the man pages and checks that podchecker is clean and that every
# public action of the model has its section in guestfs(3).
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
bash tools/build-man.sh "$out" >/dev/null
missing=0
total=0
for name in $(python3 -c '
import yaml
m = yaml.safe_load(open("actions.yaml"))
for a in m["actions"]:
    if a.get("flags", {}).get("visibility", "public") in ("public", "public_no_fish"):
        print(a["name"])'); do
    total=$((total + 1))
    grep -q "^=head2 guestfs_${name}\$" "$out/pod/guestfs.pod" || { echo "missing from guestfs(3): $name"; missing=$((missing + 1)); }
done
MANWIDTH=80 man -l "$out/man3/guestfs.3" >/dev/null 2>&1 || { echo "man cannot render guestfs.3"; exit 1; }
echo "man pages: $((total - missing)) passed, $missing failed"
[ "$missing" -eq 0 ]
