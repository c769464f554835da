# swift-guestfs Python binding: `import guestfs`, API-compatible with
# libguestfs's python3-guestfs, over swift-guestfs's C library
# (libguestfs.so.0 + guestfs.h).
#
#   pip install ./bindings/python
#
# Where the C library is found, first match wins:
#   1. GUESTFS_PREFIX=DIR                 (DIR/include/guestfs.h, DIR/lib/libguestfs.so*),
#      or GUESTFS_INCLUDE_DIR + GUESTFS_LIB_DIR;
#   2. `pkg-config --cflags --libs libguestfs` (PKG_CONFIG_PATH is honoured), but
#      only if the guestfs.h it points to is swift-guestfs's, never upstream
#      libguestfs's;
#   3. the source tree this directory sits in: bindings/c/include for the
#      header and the SwiftPM build directory (.build or .build-*, then
#      <config> or <triple>/<config>) with the newest libguestfs.so*.
# The library directory is embedded as the extension's run path, so the
# installed module loads our libguestfs.so.0 without LD_LIBRARY_PATH and
# never a system libguestfs with the same soname.

import os
import shlex
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_TREE = os.path.normpath(os.path.join(HERE, "..", ".."))
MARKER = b"swift-guestfs"   # present in our generated guestfs.h, absent from upstream's


def log(msg):
    sys.stderr.write("guestfs setup: %s\n" % msg)


def is_ours(include_dir):
    header = os.path.join(include_dir, "guestfs.h")
    try:
        with open(header, "rb") as f:
            return MARKER in f.read(4096)
    except OSError:
        return False


def library_in(lib_dir):
    """The libguestfs shared object in lib_dir: 'guestfs' if libguestfs.so
    exists (link with -lguestfs), else the versioned file name."""
    if os.path.exists(os.path.join(lib_dir, "libguestfs.so")):
        return "guestfs"
    for name in ("libguestfs.so.0",):
        if os.path.exists(os.path.join(lib_dir, name)):
            return ":" + name
    return None


def config(include_dir, lib_dir, how, extra_cflags=(), version=None):
    lib = library_in(lib_dir)
    if lib is None:
        return None
    if not is_ours(include_dir):
        log("%s: %s/guestfs.h is not swift-guestfs's header, skipping" % (how, include_dir))
        return None
    lib_dir = os.path.realpath(lib_dir)
    log("%s: header %s, library %s/lib%s" % (how, include_dir, lib_dir,
                                              lib.lstrip(":") if lib.startswith(":") else lib + ".so"))
    return {
        "include_dirs": [include_dir],
        "library_dirs": [lib_dir],
        "runtime_library_dirs": [lib_dir],
        "lib": lib,
        "extra_compile_args": list(extra_cflags),
        "version": version,
    }


def from_env():
    prefix = os.environ.get("GUESTFS_PREFIX")
    inc = os.environ.get("GUESTFS_INCLUDE_DIR")
    lib = os.environ.get("GUESTFS_LIB_DIR")
    if prefix:
        inc = inc or os.path.join(prefix, "include")
        if not lib:
            for cand in ("lib", "lib64", "lib/x86_64-linux-gnu", "lib/aarch64-linux-gnu"):
                if library_in(os.path.join(prefix, cand)):
                    lib = os.path.join(prefix, cand)
                    break
    if not (inc and lib):
        if prefix or inc or lib:
            sys.exit("guestfs setup: GUESTFS_PREFIX / GUESTFS_INCLUDE_DIR / GUESTFS_LIB_DIR "
                     "do not point at guestfs.h and libguestfs.so*")
        return None
    c = config(inc, lib, "environment")
    if c is None:
        sys.exit("guestfs setup: no swift-guestfs guestfs.h + libguestfs.so* at %s, %s" % (inc, lib))
    return c


def from_pkg_config():
    pkg_config = os.environ.get("PKG_CONFIG", "pkg-config")
    if shutil.which(pkg_config) is None:
        return None
    try:
        out = subprocess.run([pkg_config, "--cflags", "--libs", "libguestfs"],
                             check=True, capture_output=True, text=True).stdout
        version = subprocess.run([pkg_config, "--modversion", "libguestfs"],
                                 check=True, capture_output=True, text=True).stdout.strip()
    except subprocess.CalledProcessError:
        return None
    incs, libdirs, cflags = [], [], []
    for tok in shlex.split(out):
        if tok.startswith("-I"):
            incs.append(tok[2:])
        elif tok.startswith("-L"):
            libdirs.append(tok[2:])
        elif tok.startswith("-l"):
            pass
        elif not tok.startswith("-Wl,"):
            cflags.append(tok)
    if not incs:
        incs = ["/usr/include"]
    if not libdirs:
        libdir = subprocess.run([pkg_config, "--variable=libdir", "libguestfs"],
                                capture_output=True, text=True).stdout.strip()
        libdirs = [libdir] if libdir else []
    for inc in incs:
        if not os.path.exists(os.path.join(inc, "guestfs.h")):
            continue
        for libdir in libdirs:
            c = config(inc, libdir, "pkg-config", cflags, version or None)
            if c is not None:
                return c
    log("pkg-config found a libguestfs that is not swift-guestfs (or incomplete); ignoring it")
    return None


def elf_soname(path):
    """DT_SONAME of a shared object (via readelf), or None."""
    if shutil.which("readelf") is None:
        return None
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if "(SONAME)" in line and "[" in line:
            return line.split("[", 1)[1].split("]", 1)[0]
    return None


def ensure_soname_link(lib_dir):
    """SwiftPM writes libguestfs.so whose soname is libguestfs.so.0; the
    run path only helps if a file of that name sits next to it, otherwise
    the loader would fall back to a system libguestfs.so.0 (upstream's)."""
    lib = os.path.join(lib_dir, "libguestfs.so")
    soname = elf_soname(lib) if os.path.exists(lib) else None
    if not soname or soname == "libguestfs.so":
        return
    link = os.path.join(lib_dir, soname)
    if os.path.exists(link):
        return
    try:
        os.symlink("libguestfs.so", link)
        log("created %s -> libguestfs.so (the soname the module will load)" % link)
    except OSError as e:
        sys.exit("guestfs setup: %s needs %s next to it (%s); create that symlink" % (lib, soname, e))


def from_source_tree():
    inc = os.path.join(SRC_TREE, "bindings", "c", "include")
    if not os.path.exists(os.path.join(inc, "guestfs.h")):
        return None
    # SwiftPM build directories: .build and any .build-* scratch path, each
    # with <config> or <triple>/<config> subdirectories.  Newest library wins.
    candidates = []
    for top in sorted(os.listdir(SRC_TREE)):
        if not (top == ".build" or top.startswith(".build-")):
            continue
        top = os.path.join(SRC_TREE, top)
        if not os.path.isdir(top):
            continue
        for entry in sorted(os.listdir(top)):
            for sub in (os.path.join(top, entry), *(os.path.join(top, entry, c) for c in ("release", "debug"))):
                if os.path.isdir(sub) and library_in(sub):
                    candidates.append(sub)
    if not candidates:
        return None

    def mtime(d):
        for name in ("libguestfs.so", "libguestfs.so.0"):
            p = os.path.join(d, name)
            if os.path.exists(p):
                return os.path.getmtime(p)
        return 0

    libdir = max(candidates, key=mtime)
    ensure_soname_link(libdir)
    return config(inc, libdir, "source tree")


def package_version():
    """The same answer whether or not the library is needed (metadata and
    wheel builds must agree): GUESTFS_PY_VERSION, else the version of the
    swift-guestfs libguestfs.pc, else the source tree's C_VERSION."""
    if os.environ.get("GUESTFS_PY_VERSION"):
        return os.environ["GUESTFS_PY_VERSION"]
    pkg_config = os.environ.get("PKG_CONFIG", "pkg-config")
    if shutil.which(pkg_config):
        r = subprocess.run([pkg_config, "--modversion", "libguestfs"], capture_output=True, text=True)
        inc = subprocess.run([pkg_config, "--variable=includedir", "libguestfs"],
                             capture_output=True, text=True).stdout.strip()
        if r.returncode == 0 and r.stdout.strip() and inc and is_ours(inc):
            return r.stdout.strip()
    try:
        with open(os.path.join(SRC_TREE, "Makefile")) as f:
            for line in f:
                if line.startswith("C_VERSION") and ":=" in line:
                    return line.split(":=", 1)[1].strip()
    except OSError:
        pass
    return "1.48.0"


def find_library():
    for finder in (from_env, from_pkg_config, from_source_tree):
        c = finder()
        if c is not None:
            return c
    sys.exit(
        "guestfs setup: cannot find swift-guestfs's C library (guestfs.h + libguestfs.so*).\n"
        "  Build and install it (`make all && make install PREFIX=...`), then make it visible\n"
        "  through pkg-config (PKG_CONFIG_PATH=PREFIX/lib/pkgconfig) or GUESTFS_PREFIX=PREFIX,\n"
        "  or build it in this source tree (.build/<config>/libguestfs.so).")


class BuildPyWithStubs(build_py):
    """Also install guestfs.pyi next to guestfs.py (py_modules ignores it)."""

    def run(self):
        super().run()
        stub = os.path.join(HERE, "guestfs.pyi")
        if os.path.exists(stub):
            self.copy_file(stub, os.path.join(self.build_lib, "guestfs.pyi"))


class BuildExtAlways(build_ext):
    """Always recompile and relink: a reused build/ directory would keep a
    stale run path when the C library moved (source tree -> install)."""

    def finalize_options(self):
        super().finalize_options()
        self.force = True


def main():
    # Commands that do not compile (sdist, egg_info, clean) need no library.
    needs_lib = not any(a in ("sdist", "egg_info", "dist_info", "clean", "--name", "--version") for a in sys.argv[1:])
    c = find_library() if needs_lib else {
        "include_dirs": [], "library_dirs": [], "runtime_library_dirs": [],
        "lib": "guestfs", "extra_compile_args": [], "version": None}

    libraries, extra_link_args = [], []
    if c["lib"].startswith(":"):
        extra_link_args.append("-l" + c["lib"])
    else:
        libraries.append(c["lib"])

    ext = Extension(
        "libguestfsmod",
        sources=["src/handle.c", "src/actions.c"],
        include_dirs=["src"] + c["include_dirs"],
        library_dirs=c["library_dirs"],
        runtime_library_dirs=c["runtime_library_dirs"],
        libraries=libraries,
        extra_compile_args=c["extra_compile_args"] + ["-Wno-unused-parameter",
                                                       "-Wno-deprecated-declarations"],
        extra_link_args=extra_link_args,
    )

    version = package_version()

    setup(
        name="guestfs",
        version=version,
        description="swift-guestfs Python bindings (API-compatible with libguestfs's python3-guestfs)",
        license="LGPL-2.1-or-later",
        python_requires=">=3.8",
        py_modules=["guestfs"],
        ext_modules=[ext],
        cmdclass={"build_py": BuildPyWithStubs, "build_ext": BuildExtAlways},
        zip_safe=False,
    )


if __name__ == "__main__":
    os.chdir(HERE)
    main()
