#!/bin/bash
# guestfish tests: every cases/NAME.sh is run with bash (cwd: a fresh
# temporary directory, $GUESTFISH pointing at the binary) and its stdout +
# stderr are compared with cases/NAME.out. Cases named appliance-*.sh need a
# working appliance and are skipped when none launches (or SKIP_APPLIANCE=1).
# interactive.py drives the interactive shell through a pseudo-terminal.
#
#   Tests/guestfish/run.sh [NAME...]     run some or all cases
#   UPDATE=1 Tests/guestfish/run.sh      rewrite the .out files
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
SCRATCH=${FISH_SCRATCH:-$TOP/.build-fish}
if [ -z "${GUESTFISH:-}" ]; then
    (cd "$TOP" && swift build --scratch-path "$SCRATCH" --product guestfish >/dev/null) || {
        echo "guestfish build failed"; exit 1; }
    GUESTFISH=$SCRATCH/debug/guestfish
fi
export GUESTFISH
# The virt-* tools (one program), for the appliance-virt-tools case.
export VIRT_TOOLS=${VIRT_TOOLS:-$(dirname "$GUESTFISH")/virt-tools}
export LIBGUESTFS_PATH=${LIBGUESTFS_PATH:-$TOP/.build-appliance}
unset LIBGUESTFS_DEBUG LIBGUESTFS_TRACE
export LC_ALL=C.UTF-8 TERM=dumb

pass=0; fail=0; skip=0; failed=()

appliance_ok=
have_appliance() {
    if [ -z "$appliance_ok" ]; then
        appliance_ok=no
        if [ "${SKIP_APPLIANCE:-0}" != 1 ] &&
           "$GUESTFISH" -- add-drive-scratch 16M : run >/dev/null 2>&1; then
            appliance_ok=yes
        fi
        [ $appliance_ok = yes ] || echo "(no working appliance: appliance tests skipped)"
    fi
    [ $appliance_ok = yes ]
}

cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
    for f in "$HERE"/cases/*.sh; do cases+=("$(basename "$f" .sh)"); done
    cases+=(interactive)
fi

for name in "${cases[@]}"; do
    case $name in appliance-*|interactive-appliance)
        if ! have_appliance; then skip=$((skip+1)); echo "SKIP $name"; continue; fi ;;
    esac
    work=$(mktemp -d "${TMPDIR:-/tmp}/fishtest.XXXXXX")
    if [ "$name" = interactive ]; then
        out=$(cd "$work" && HOME=$work APPLIANCE=$( [ "${SKIP_APPLIANCE:-0}" = 1 ] && echo no || echo auto ) \
              python3 "$HERE/interactive.py" 2>&1); rc=$?
        if [ $rc -eq 0 ]; then pass=$((pass+1)); echo "PASS $name"
        else fail=$((fail+1)); failed+=("$name"); echo "FAIL $name"; echo "$out" | sed 's/^/    /'; fi
        rm -rf "$work"; continue
    fi
    script=$HERE/cases/$name.sh
    expected=$HERE/cases/$name.out
    actual=$(cd "$work" && HOME=$work bash "$script" 2>&1)
    if [ "${UPDATE:-0}" = 1 ]; then
        printf '%s\n' "$actual" > "$expected"
    fi
    if [ -f "$expected" ] && diff -u "$expected" <(printf '%s\n' "$actual") > "$work/diff"; then
        pass=$((pass+1)); echo "PASS $name"
    else
        fail=$((fail+1)); failed+=("$name"); echo "FAIL $name"
        [ -f "$expected" ] || echo "    (missing $expected)"
        sed 's/^/    /' "$work/diff" 2>/dev/null | head -60
    fi
    rm -rf "$work"
done

echo "$pass passed, $fail failed${skip:+, $skip skipped}"
[ $fail -eq 0 ]
