#!/bin/bash
# Build and run the C API tests against OUR libguestfs: `make install` into
# a temporary PREFIX, then for each Tests/CTests/test-*.c:
#   cc -Wall -Werror prog.c $(pkg-config --cflags --libs libguestfs)
# with pkg-config limited to that PREFIX (plus an rpath so the program
# loads the library from there, checked with ldd), and run it.
#
# Environment:
#   CTESTS_SKIP_APPLIANCE=1   skip the tests that launch an appliance
#   CTESTS_KEEP=1             keep the temporary PREFIX (printed)
#   CTESTS_ONLY="a b"         run only these tests (names without .c)
#   CTESTS_NO_INSTALL=DIR     use an existing install in DIR (no make install)
#   CC                        the C compiler (default cc)
# Prints `N passed, M failed` last; exits non-zero if anything failed.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOP="$(cd "$HERE/../.." && pwd)"
CC="${CC:-cc}"
# Tests that need a running appliance.
APPLIANCE_TESTS="test-appliance"

passed=0; failed=0; skipped=0
failures=()

if [ -n "${CTESTS_NO_INSTALL:-}" ]; then
    PREFIX="$CTESTS_NO_INSTALL"
    WORK="$(mktemp -d /tmp/ctests-XXXXXX)"
else
    WORK="$(mktemp -d /tmp/ctests-XXXXXX)"
    PREFIX="$WORK/prefix"
fi
cleanup() {
    if [ -n "${CTESTS_KEEP:-}" ]; then echo "kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

if [ -z "${CTESTS_NO_INSTALL:-}" ]; then
    echo "== make install PREFIX=$PREFIX"
    if ! make -C "$TOP" --no-print-directory install PREFIX="$PREFIX" > "$WORK/install.log" 2>&1; then
        tail -40 "$WORK/install.log"
        echo "make install failed"
        echo "0 passed, 1 failed"
        exit 1
    fi
fi

# pkg-config sees only our PREFIX: no system libguestfs.pc can be picked.
export PKG_CONFIG_LIBDIR="$PREFIX/lib/pkgconfig"
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
if ! FLAGS="$(pkg-config --cflags --libs libguestfs)"; then
    echo "pkg-config cannot find libguestfs in $PREFIX"
    echo "0 passed, 1 failed"
    exit 1
fi
echo "== pkg-config: libguestfs $(pkg-config --modversion libguestfs): $FLAGS"

lib="$PREFIX/lib/libguestfs.so.0"
echo "== $lib needs:"
ldd "$lib" | sed 's/^/   /'
if ldd "$lib" | grep -q 'libswift\|libFoundation\|not found'; then
    echo "   (warning: the library depends on Swift runtime libraries or misses some)"
fi

# The installed library must find its appliance by itself.
unset LIBGUESTFS_PATH

mkdir -p "$WORK/bin"
cd "$HERE"
for src in test-*.c; do
    name="${src%.c}"
    if [ -n "${CTESTS_ONLY:-}" ] && ! [[ " $CTESTS_ONLY " == *" $name "* ]]; then continue; fi
    if [ -n "${CTESTS_SKIP_APPLIANCE:-}" ] && [[ " $APPLIANCE_TESTS " == *" $name "* ]]; then
        echo "== $name: SKIPPED (CTESTS_SKIP_APPLIANCE)"
        skipped=$((skipped + 1))
        continue
    fi
    exe="$WORK/bin/$name"
    # shellcheck disable=SC2086
    if ! $CC -Wall -Werror -o "$exe" "$src" $FLAGS -Wl,-rpath,"$PREFIX/lib" 2> "$WORK/$name.cc.log"; then
        cat "$WORK/$name.cc.log"
        echo "== $name: FAILED (compile)"
        failed=$((failed + 1)); failures+=("$name"); continue
    fi
    loaded="$(ldd "$exe" | awk '$1 ~ /^libguestfs\.so/ { print $3 }')"
    if [ "$loaded" != "$lib" ]; then
        echo "== $name: FAILED (loads '$loaded', not $lib)"
        failed=$((failed + 1)); failures+=("$name"); continue
    fi
    start=$(date +%s)
    "$exe" > "$WORK/$name.log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    if [ $rc -eq 0 ]; then
        echo "== $name: PASSED (${secs}s) $(tail -1 "$WORK/$name.log")"
        passed=$((passed + 1))
    else
        tail -60 "$WORK/$name.log"
        echo "== $name: FAILED (exit $rc, ${secs}s)"
        failed=$((failed + 1)); failures+=("$name")
    fi
done

[ $skipped -gt 0 ] && echo "($skipped skipped)"
[ $failed -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
