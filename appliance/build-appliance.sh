#!/bin/bash
# Build the swift-guestfs appliance with supermin.  See appliance/README.md.
#
# Usage:
#   build-appliance.sh prepare [-o SUPERMIN_D] [-d DAEMON]   (install-time step)
#   build-appliance.sh build   [-i SUPERMIN_D] [-o OUTDIR]    (first-launch step)
#   build-appliance.sh fixed   [-i SUPERMIN_D] -o DEST        (build + libguestfs-style fixed appliance)
#   build-appliance.sh vmlinux BZIMAGE OUT_VMLINUX            (kernel extractor only)
#   build-appliance.sh all     [-d DAEMON] [-w WORKDIR]       (prepare + build)
#
# Environment:
#   DAEMON           path of the guestfsd binary (default: builds the C stand-in
#                    from appliance/test/fake-guestfsd.c)
#   PACKAGES         package list file (default: appliance/packages.txt)
#   SUPERMIN         supermin binary (default: supermin)
#   SUPERMIN_KERNEL  kernel to use (default: newest /boot/vmlinuz-*), as supermin
#   SUPERMIN_MODULES module dir (default: /lib/modules/<kver>), as supermin
#   STRIP_DAEMON     1 (default): strip the daemon's debug info in prepare
#
# prepare writes SUPERMIN_D/{packages,base.tar.gz,init.tar.gz,excludefiles}
# build writes OUTDIR/{kernel,initrd,root,vmlinux,root.uuid,README.txt}
# fixed also copies the kernel into DEST (no symlink into /boot) and writes
# DEST/README.fixed, which libguestfs's library requires (LIBGUESTFS_PATH=DEST)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOP="$(cd "$HERE/.." && pwd)"
DEFAULT_WORK="$TOP/.build-appliance"
SUPERMIN="${SUPERMIN:-supermin}"
PACKAGES="${PACKAGES:-$HERE/packages.txt}"

log() { printf '[build-appliance %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }

# --------------------------------------------------------------------------
# vmlinux extraction: bzImage -> uncompressed ELF vmlinux (keeps the PVH note)
# --------------------------------------------------------------------------
# Reads the x86 boot protocol header (>= 2.08):
#   0x1f1 setup_sects (u8, 0 means 4), 0x202 "HdrS", 0x206 version (u16),
#   0x248 payload_offset (u32), 0x24c payload_length (u32)
# The payload starts at (setup_sects+1)*512 + payload_offset.  If the header
# looks wrong we fall back to scanning for a compression magic.
u8()  { od -An -tu1 -j "$2" -N1 "$1" | tr -d ' '; }
u16() { od -An -tu2 -j "$2" -N2 --endian=little "$1" | tr -d ' '; }
u32() { od -An -tu4 -j "$2" -N4 --endian=little "$1" | tr -d ' '; }

decompress_at() { # FILE OFFSET LENGTH(0=to end) OUT -> 0 if OUT is an ELF
    local f="$1" off="$2" len="$3" out="$4" magic
    magic="$(od -An -tx1 -j "$off" -N6 "$f" | tr -d ' \n')"
    local cmd
    case "$magic" in
        fd377a585a00*) cmd="xz -dc --single-stream" ;;
        1f8b08*|1f8b09*) cmd="gzip -dc" ;;
        28b52ffd*) cmd="zstd -dcq" ;;
        5d0000*) cmd="xz -dc --format=lzma" ;;
        *) return 1 ;;
    esac
    if [ "$len" -gt 0 ]; then
        tail -c +"$((off + 1))" "$f" | head -c "$len" | $cmd > "$out" 2>/dev/null || true
    else
        tail -c +"$((off + 1))" "$f" | $cmd > "$out" 2>/dev/null || true
    fi
    [ "$(od -An -tx1 -N4 "$out" 2>/dev/null | tr -d ' \n')" = 7f454c46 ]
}

extract_vmlinux() { # BZIMAGE OUT
    local bz="$1" out="$2" tmp="$2.tmp.$$"
    [ -r "$bz" ] || die "cannot read kernel $bz"
    if [ "$(od -An -tx1 -N4 "$bz" | tr -d ' \n')" = 7f454c46 ]; then
        cp "$bz" "$out"; return 0          # already an ELF vmlinux
    fi
    local ok=""
    if [ "$(head -c 4 <(tail -c +$((0x202 + 1)) "$bz"))" = "HdrS" ] &&
       [ "$(u16 "$bz" $((0x206)))" -ge $((0x208)) ]; then
        local ss po pl
        ss="$(u8 "$bz" $((0x1f1)))"; [ "$ss" -eq 0 ] && ss=4
        po="$(u32 "$bz" $((0x248)))"; pl="$(u32 "$bz" $((0x24c)))"
        local off=$(( (ss + 1) * 512 + po ))
        if decompress_at "$bz" "$off" "$pl" "$tmp"; then ok=1
        else log "header payload at $off not decodable, scanning for magic"; fi
    fi
    if [ -z "$ok" ]; then
        # Fallback: try every xz / zstd / gzip magic in the file.
        local o
        for o in $(LC_ALL=C grep -obUaP '\xfd7zXZ\x00|\x28\xb5\x2f\xfd|\x1f\x8b\x08' "$bz" | cut -d: -f1); do
            if decompress_at "$bz" "$o" 0 "$tmp"; then ok=1; break; fi
        done
    fi
    [ -n "$ok" ] || { rm -f "$tmp"; die "could not extract an ELF vmlinux from $bz"; }
    # Check for the Xen PVH entry note (type 0x12 = XEN_ELFNOTE_PHYS32_ENTRY),
    # which is what lets qemu -kernel boot an ELF vmlinux directly.
    if command -v readelf >/dev/null; then
        readelf -n "$tmp" 2>/dev/null | grep -q 'Xen.*0x00000012\|NT_VERSION\|PHYS32_ENTRY' ||
          readelf -n "$tmp" 2>/dev/null | grep -qi 'xen' ||
          log "WARNING: no Xen/PVH ELF note found in vmlinux; qemu -kernel may not boot it"
    else
        LC_ALL=C grep -qa 'Xen' "$tmp" || log "WARNING: no Xen note string in vmlinux"
    fi
    mv "$tmp" "$out"
}

# --------------------------------------------------------------------------
# initrd trimming
# --------------------------------------------------------------------------
# supermin's mini initrd insmods every module matching its built-in patterns
# (virtio*, crc*, libata, ata_piix, nvdimm, fuse, virtio_net, ...): 52 modules
# on Debian 12, ~0.8-1.2 s under TCG.  We keep only the closure of the modules
# both machine layouts need; the rest stay available on the ext2 root
# (/lib/modules) for the daemon to modprobe on demand.
INITRD_MODULES="${INITRD_MODULES:-virtio_mmio virtio_pci virtio_blk virtio_scsi sd_mod virtio_console ext4 crc32c_generic crc64_rocksoft_generic}"

# Drop the appended module signature (verifying RSA/SHA256 signatures of
# ext4.ko & co. costs ~0.1 s under TCG).  Layout at the end of a signed .ko:
#   ... | signature (sig_len bytes) | struct module_signature (12 bytes, sig_len
#   is the big-endian u32 at offset 8) | "~Module signature appended~\n" (28)
# CONFIG_MODULE_SIG_FORCE is off on Debian, so unsigned modules still load
# (the kernel only records a taint flag).
strip_module_sig() { # KO
    local ko="$1" size siglen
    [ "$(tail -c 28 "$ko")" = "~Module signature appended~" ] || return 0
    size="$(stat -c %s "$ko")"
    siglen="$(od -An -tu4 --endian=big -j "$((size - 28 - 4))" -N4 "$ko" | tr -d ' ')"
    truncate -s "$((size - 28 - 12 - siglen))" "$ko"
}

trim_initrd() { # INITRD KVER MODULES_DIR
    local initrd="$1" kver="$2" moddir="$3" tmp want
    tmp="$(mktemp -d)"
    local dflag=()
    if [ "$moddir" != "/lib/modules/$kver" ]; then
        dflag=(-d "$(dirname "$(dirname "$moddir")")")
    fi
    # shellcheck disable=SC2086
    want="$(modprobe -S "$kver" "${dflag[@]}" -a --show-depends $INITRD_MODULES |
            awk '$1 == "insmod" {n=$2; sub(/.*\//, "", n); print n}' | sort -u)"
    [ -n "$want" ] || { rm -rf "$tmp"; die "modprobe --show-depends gave nothing for $INITRD_MODULES"; }
    ( cd "$tmp" && cpio -idm --quiet < "$initrd" )
    [ -f "$tmp/modules" ] && [ -x "$tmp/init" ] || { rm -rf "$tmp"; die "$initrd is not a supermin initrd"; }
    local m keep=()
    while IFS= read -r m; do
        if grep -qxF "$(basename "$m")" <<<"$want"; then keep+=("$m"); else rm -f "$tmp/$m"; fi
    done < "$tmp/modules"
    printf '%s\n' "${keep[@]}" > "$tmp/modules"
    if [ "${STRIP_MODULE_SIGS:-0}" = 1 ]; then
        for m in "${keep[@]}"; do strip_module_sig "$tmp/$m"; done
    fi
    ( cd "$tmp" && find . | LC_ALL=C sort | cpio -o -H newc --quiet --owner=0:0 ) > "$initrd.new"
    mv "$initrd.new" "$initrd"
    rm -rf "$tmp"
    log "initrd trimmed to ${#keep[@]} modules: $(printf '%s ' "${keep[@]}")"
}

default_kernel() {
    if [ -n "${SUPERMIN_KERNEL:-}" ]; then echo "$SUPERMIN_KERNEL"; return; fi
    ls -1v /boot/vmlinuz-* 2>/dev/null | tail -n1
}

build_standin_daemon() { # OUT
    local cc="${CC:-gcc}"
    "$cc" -O2 -static -o "$1" "$HERE/test/fake-guestfsd.c"
}

do_prepare() {
    local outd="$DEFAULT_WORK/supermin.d" daemon="${DAEMON:-}"
    while [ $# -gt 0 ]; do
        case "$1" in
            -o) outd="$2"; shift 2 ;;
            -d) daemon="$2"; shift 2 ;;
            *) die "prepare: unknown arg $1" ;;
        esac
    done
    local t0; t0="$(now)"
    local tmp; tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' RETURN
    mkdir -p "$tmp/root/usr/sbin"
    if [ -z "$daemon" ]; then
        log "DAEMON not given: building the C stand-in (appliance/test/fake-guestfsd.c)"
        build_standin_daemon "$tmp/root/usr/sbin/guestfsd"
    else
        [ -x "$daemon" ] || die "daemon $daemon is not an executable file"
        install -m 0755 "$daemon" "$tmp/root/usr/sbin/guestfsd"
        # Debug info is never loaded in the appliance; without it supermin.d,
        # the root and the library's checksum of supermin.d are smaller
        # (symbols stay, for backtraces). STRIP_DAEMON=0 keeps it all.
        if [ "${STRIP_DAEMON:-1}" = 1 ] && command -v strip >/dev/null; then
            strip --strip-debug "$tmp/root/usr/sbin/guestfsd" || log "WARNING: strip failed; keeping debug info"
        fi
    fi
    # /init is what supermin's initrd init execs after chroot into the ext2
    # root.  A symlink avoids starting a shell: the daemon itself is PID 1.
    ln -s usr/sbin/guestfsd "$tmp/root/init"

    mapfile -t pkgs < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$PACKAGES" | grep -v '^$')
    [ "${#pkgs[@]}" -gt 0 ] || die "no packages in $PACKAGES"
    local missing=()
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] || die "packages not installed on host: ${missing[*]} (apt-get install them)"

    rm -rf "$outd.new"; mkdir -p "$(dirname "$outd")"
    log "supermin --prepare (${#pkgs[@]} packages)"
    "$SUPERMIN" --prepare --use-installed -o "$outd.new" "${pkgs[@]}"
    # Our own files: /init -> /usr/sbin/guestfsd.
    tar -C "$tmp/root" --owner=0 --group=0 --numeric-owner -czf "$outd.new/init.tar.gz" .
    # Keep the ext2 root small: docs, manuals, locales are never used.
    cat > "$outd.new/excludefiles" <<'EOF'
-/usr/share/doc/*
-/usr/share/man/*
-/usr/share/info/*
-/usr/share/locale/*
-/usr/share/lintian/*
-/usr/share/bash-completion/*
-/usr/share/zsh/*
-/usr/share/bug/*
-/usr/share/mime/*
-/etc/init.d/*
-/lib/systemd/system/*
-/usr/lib/systemd/system/*
EOF
    rm -rf "$outd"; mv "$outd.new" "$outd"
    log "prepare done in $(elapsed "$t0") s -> $outd ($(du -sh "$outd" | cut -f1))"
}

do_build() {
    local ind="$DEFAULT_WORK/supermin.d" outd="$DEFAULT_WORK/appliance"
    while [ $# -gt 0 ]; do
        case "$1" in
            -i) ind="$2"; shift 2 ;;
            -o) outd="$2"; shift 2 ;;
            *) die "build: unknown arg $1" ;;
        esac
    done
    [ -d "$ind" ] || die "no supermin.d at $ind (run prepare first)"
    local kernel; kernel="$(default_kernel)"
    [ -n "$kernel" ] || die "no kernel found in /boot"
    local kver="${kernel##*/vmlinuz-}"
    export SUPERMIN_KERNEL="$kernel"
    export SUPERMIN_MODULES="${SUPERMIN_MODULES:-/lib/modules/$kver}"
    mkdir -p "$(dirname "$outd")"
    # Serialise concurrent first launches (supermin's --lock only covers its
    # own step, not our initrd trimming / vmlinux extraction).
    exec 9>"$outd.buildlock"
    flock 9
    local t0; t0="$(now)"
    log "supermin --build -f ext2 (kernel $kernel)"
    "$SUPERMIN" --build -f ext2 --if-newer \
        --size 4G -o "$outd" "$ind"
    local tsup; tsup="$(elapsed "$t0")"
    log "supermin --build done in $tsup s"
    if [ "${TRIM_INITRD:-1}" = 1 ] && [ "$outd/initrd" -nt "$outd/initrd.trimmed" ]; then
        trim_initrd "$outd/initrd" "$kver" "$SUPERMIN_MODULES"
        touch "$outd/initrd.trimmed"
    fi
    local t1; t1="$(now)"
    if [ ! -s "$outd/vmlinux" ] || [ "$outd/kernel" -nt "$outd/vmlinux" ]; then
        extract_vmlinux "$outd/kernel" "$outd/vmlinux"
    fi
    local tvm; tvm="$(elapsed "$t1")"
    log "vmlinux extraction done in $tvm s"
    # UUID of the root ext2 (for the pc layout: root=UUID=...).
    local uuid
    uuid="$(blkid -o value -s UUID "$outd/root" 2>/dev/null ||
            dumpe2fs -h "$outd/root" 2>/dev/null | sed -n 's/^Filesystem UUID:[[:space:]]*//p')"
    echo "$uuid" > "$outd/root.uuid"
    log "build done: $outd (root UUID $uuid), supermin ${tsup}s + vmlinux ${tvm}s"
}

# A libguestfs "fixed appliance": libguestfs (lib/appliance.c) accepts a
# directory of its path holding README.fixed, kernel, initrd and root; it
# boots kernel (a bzImage) on a pc machine with root attached as the last
# virtio-scsi disk and root=UUID=<root's UUID>.  Our daemon is /init.
do_fixed() {
    local ind="$DEFAULT_WORK/supermin.d" outd=""
    while [ $# -gt 0 ]; do
        case "$1" in
            -i) ind="$2"; shift 2 ;;
            -o) outd="$2"; shift 2 ;;
            *) die "fixed: unknown arg $1" ;;
        esac
    done
    [ -n "$outd" ] || die "fixed: -o DEST is required"
    do_build -i "$ind" -o "$outd"
    # A real copy, so DEST can be moved to another machine as a whole.
    if [ -L "$outd/kernel" ]; then
        cp -L "$outd/kernel" "$outd/kernel.tmp.$$" && mv -f "$outd/kernel.tmp.$$" "$outd/kernel"
    fi
    cat > "$outd/README.fixed" <<EOF
This is a swift-guestfs fixed appliance, made by
  appliance/build-appliance.sh fixed -i $ind -o $outd
on $(date -u +%Y-%m-%dT%H:%M:%SZ) with kernel $(basename "$(default_kernel)").

Use it with libguestfs or swift-guestfs by setting LIBGUESTFS_PATH to this
directory.  Files:
  kernel     the kernel (bzImage)
  initrd     supermin's mini initrd (finds root by root=UUID=... or root=/dev/...)
  root       ext2 root file system; /init is swift-guestfs's guestfsd
  vmlinux    the same kernel uncompressed (swift-guestfs's fast PVH boot)
  root.uuid  the file system UUID of root
EOF
    log "fixed appliance ready: $outd"
}

cmd="${1:-}"; shift || true
case "$cmd" in
    prepare) do_prepare "$@" ;;
    build)   do_build "$@" ;;
    fixed)   do_fixed "$@" ;;
    vmlinux) [ $# -eq 2 ] || die "usage: vmlinux BZIMAGE OUT"; extract_vmlinux "$1" "$2" ;;
    all)
        w="$DEFAULT_WORK"; d=()
        while [ $# -gt 0 ]; do
            case "$1" in -w) w="$2"; shift 2 ;; -d) d=(-d "$2"); shift 2 ;; *) die "all: unknown arg $1" ;; esac
        done
        do_prepare -o "$w/supermin.d" "${d[@]}"
        do_build -i "$w/supermin.d" -o "$w/appliance" ;;
    *) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
