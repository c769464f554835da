#!/bin/bash
# One entry point for a fresh Debian 12 machine (as root):
#   bash tools/setup.sh demo   install what is needed, build, run the demo
#   bash tools/setup.sh test   install what is needed (plus test peers), build, run every test
#   bash tools/setup.sh deps   only install packages
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-demo}"

log() { printf '\n==> %s\n' "$*"; }

install_packages() {
    local pkgs=(make gcc pkg-config perl qemu-system-x86 qemu-utils supermin linux-image-amd64
                libaugeas-dev libhivex-dev librpm-dev libsystemd-dev libtsk-dev python3 python3-yaml
                libvirt-dev libvirt0 libxml2-dev libfuse3-dev fuse3 libyara-dev
                icoutils netpbm)
    # Everything the appliance is made of must be installed on the host (supermin copies it).
    mapfile -t -O "${#pkgs[@]}" pkgs < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' appliance/packages.txt | grep -v '^$')
    if [ "$what" = test ]; then
        # libguestfs only as a test peer for the interop tests, never by the product.
        pkgs+=(libguestfs-tools python3-guestfs)
        # rpm(8) makes the RPM database of the phony Fedora guest.
        pkgs+=(rpm)
        # systemd-journal-remote writes the journal file the journal tests read.
        pkgs+=(systemd-journal-remote)
    fi
    local missing=()
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        log "apt-get install ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    if ! command -v swift >/dev/null; then
        [ -x /opt/swift/usr/bin/swift ] && export PATH=/opt/swift/usr/bin:$PATH
        command -v swift >/dev/null || { echo "swift is not installed: install Swift 6 first" >&2; exit 1; }
    fi
}

install_packages
case "$what" in
    deps) ;;
    demo) log "build"; make all; log "demo"; make demo ;;
    test) log "build"; make all; log "tests"; make check ;;
    *) echo "usage: $0 demo|test|deps" >&2; exit 2 ;;
esac
