#!/bin/bash
# Side-by-side benchmark: swift-guestfs against libguestfs (when installed),
# same machine, same run. Usage: bench/run.sh [launches] [calls] [MiB]
# LIBGUESTFS_DEBUG=1 adds the daemon's own account of the upload (channel
# reads, time reading vs writing); GUESTFS_BENCH_DAEMON_ENV="NAME=VALUE ..."
# sets daemon variables first (GUESTFSD_NO_DIRECT=1: page-cache writes).
set -euo pipefail
cd "$(dirname "$0")/.."
launches="${1:-3}" calls="${2:-1000}" mib="${3:-256}"
export LIBGUESTFS_BACKEND_SETTINGS="${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}"
# The tree's own appliance unless told otherwise (make all builds it).
export LIBGUESTFS_PATH="${LIBGUESTFS_PATH:-$PWD/.build-appliance}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
swift build -c release --product guestfs-bench >/dev/null
echo "swift-guestfs: launches=$launches calls=$calls upload/download=${mib} MiB ..." >&2
.build/release/guestfs-bench --launches "$launches" --calls "$calls" --mib "$mib" > "$out/ours.json"
if /usr/bin/python3 -c 'import guestfs' 2>/dev/null; then
    echo "libguestfs (reference) ..." >&2
    env -u LIBGUESTFS_PATH LIBGUESTFS_BACKEND=direct /usr/bin/python3 bench/libguestfs_bench.py "$launches" "$calls" "$mib" > "$out/theirs.json"
else
    echo "libguestfs is not installed (apt-get install python3-guestfs): showing swift-guestfs only" >&2
    echo '{}' > "$out/theirs.json"
fi
python3 - "$out/ours.json" "$out/theirs.json" <<'PY'
import json, sys
ours = json.load(open(sys.argv[1])); theirs = json.load(open(sys.argv[2]))
rows = [("launch to READY (median, s)", "launch_median_s", False),
        ("round trip is_file (ms)", "roundtrip_ms", False),
        ("upload (MB/s)", "upload_MBps", True),
        ("download (MB/s)", "download_MBps", True)]
print(f"{'':32} {'swift-guestfs':>14} {'libguestfs':>12} {'ratio':>8}")
for label, key, higher in rows:
    a = ours.get(key); b = theirs.get(key)
    ratio = "" if b is None else (f"{a / b:.2f}x" if higher else f"{b / a:.2f}x")
    print(f"{label:32} {a:14.3f} {('' if b is None else f'{b:12.3f}'):>12} {ratio:>8}")
print("(ratio > 1 means swift-guestfs is better)")
if not ours.get("download_matches", True):
    print("WARNING: downloaded file differs from the uploaded one"); sys.exit(1)
PY
