#!/bin/bash
# Build and test the Python binding against OUR libguestfs:
#   1. `make install` into a temporary PREFIX (C library, header, .pc, appliance);
#   2. `pip install --target` bindings/python into a temporary directory, with
#      pkg-config limited to that PREFIX (setup.py embeds PREFIX/lib as the
#      extension's run path, so no LD_LIBRARY_PATH is used or allowed);
#   3. pytest Tests/python with that directory first on PYTHONPATH.
#
# Environment:
#   PYTESTS_NO_INSTALL=DIR        use an existing install in DIR (no make install)
#   PYTESTS_SOURCE_TREE=1         skip make install: build against the source tree's
#                                 SwiftPM build (setup.py's fallback) instead
#   GUESTFS_PY_SKIP_APPLIANCE=1   skip the tests that launch an appliance
#   PYTESTS_KEEP=1                keep the temporary directory (printed)
#   PYTHON                        the interpreter (default python3)
# Extra arguments go to pytest (e.g. -k events, -x).
# Exits non-zero if anything failed, including when no test ran (pytest's 5).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOP="$(cd "$HERE/../.." && pwd)"
PYTHON="${PYTHON:-python3}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/pytests-XXXXXX")"
cleanup() {
    if [ -n "${PYTESTS_KEEP:-}" ]; then echo "kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

fail() { echo "run.sh: $*" >&2; exit 1; }

# Never let a caller's LD_LIBRARY_PATH pick the library: the run path must.
unset LD_LIBRARY_PATH

if [ -n "${PYTESTS_SOURCE_TREE:-}" ]; then
    echo "== building against the source tree (no make install)"
    unset PKG_CONFIG_PATH
    export PKG_CONFIG_LIBDIR="$WORK/no-pkgconfig"   # hide every .pc
    EXPECT_LIBDIR=""
    # The dev tree's appliance (as the Makefile exports it).
    export LIBGUESTFS_PATH="${LIBGUESTFS_PATH:-$TOP/.build-appliance}"
else
    if [ -n "${PYTESTS_NO_INSTALL:-}" ]; then
        PREFIX="$(cd "$PYTESTS_NO_INSTALL" && pwd)" || fail "no such directory: $PYTESTS_NO_INSTALL"
    else
        PREFIX="$WORK/prefix"
        echo "== make install PREFIX=$PREFIX"
        if ! make -C "$TOP" --no-print-directory install PREFIX="$PREFIX" > "$WORK/install.log" 2>&1; then
            tail -40 "$WORK/install.log"
            fail "make install failed"
        fi
    fi
    # pkg-config sees only our PREFIX: no system libguestfs.pc can be picked.
    export PKG_CONFIG_LIBDIR="$PREFIX/lib/pkgconfig"
    export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
    pkg-config --exists libguestfs || fail "pkg-config cannot find libguestfs in $PREFIX"
    echo "== pkg-config: libguestfs $(pkg-config --modversion libguestfs): $(pkg-config --cflags --libs libguestfs)"
    EXPECT_LIBDIR="$PREFIX/lib"
    # The installed library must find its appliance by itself.
    unset LIBGUESTFS_PATH
fi

SITE="$WORK/site"
echo "== pip install --target $SITE $TOP/bindings/python"
if ! "$PYTHON" -m pip install -v --no-deps --no-cache-dir --disable-pip-version-check \
        --target "$SITE" "$TOP/bindings/python" > "$WORK/pip.log" 2>&1; then
    tail -60 "$WORK/pip.log"
    fail "pip install failed"
fi
grep -E "^ *guestfs setup:" "$WORK/pip.log" | sed 's/^/   /'

ext="$(ls "$SITE"/libguestfsmod*.so 2>/dev/null | head -1)"
[ -n "$ext" ] || fail "libguestfsmod extension not installed in $SITE"
[ -f "$SITE/guestfs.py" ] && [ -f "$SITE/guestfs.pyi" ] || fail "guestfs.py / guestfs.pyi not installed"
echo "== $(basename "$ext") links:"
ldd "$ext" | grep -E "guestfs|not found" | sed 's/^/   /'
if ldd "$ext" | grep -q "not found"; then fail "unresolved libraries"; fi
if ldd "$ext" | grep "libguestfs.so" | grep -qE "=> /(usr/)?lib(64)?/"; then
    fail "the extension resolves the SYSTEM libguestfs, not ours"
fi

# pytest: use the interpreter's own if present, else install it next to the module.
if ! "$PYTHON" -c "import pytest" 2>/dev/null; then
    echo "== pip install pytest (not in $PYTHON)"
    "$PYTHON" -m pip install --quiet --target "$WORK/tools" pytest > "$WORK/pytest-install.log" 2>&1 \
        || { tail -20 "$WORK/pytest-install.log"; fail "cannot install pytest"; }
    TOOLS="$WORK/tools"
else
    TOOLS=""
fi

export PYTHONPATH="$SITE${TOOLS:+:$TOOLS}"
export GUESTFS_PY_EXPECT_SITE="$SITE"
export GUESTFS_PY_EXPECT_LIBDIR="$EXPECT_LIBDIR"
[ -n "$EXPECT_LIBDIR" ] || unset GUESTFS_PY_EXPECT_LIBDIR
export PYTHONDONTWRITEBYTECODE=1
export TMPDIR="${TMPDIR:-/tmp}"

echo "== pytest Tests/python"
cd "$HERE"
"$PYTHON" -m pytest -p no:cacheprovider -ra --basetemp="$WORK/pytest" "$HERE" "$@"
rc=$?
case $rc in
    0) echo "python binding tests: OK" ;;
    5) echo "python binding tests: FAILED (no tests were collected)"; rc=1 ;;
    *) echo "python binding tests: FAILED (pytest exit $rc)" ;;
esac
exit $rc
