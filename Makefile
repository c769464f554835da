# swift-guestfs: build, appliance, tests, install.  See README.md.
SWIFT       ?= swift
PREFIX      ?= /usr/local
TOP         := $(CURDIR)
APPLIANCE   := $(TOP)/.build-appliance
DAEMON_BIN  := $(TOP)/.build-daemon/release/guestfsd
# The dev tree's appliance; an installed library finds its own without this.
export LIBGUESTFS_PATH ?= $(APPLIANCE)

.PHONY: tools-release all build generate check-generated daemon appliance check swift-tests check-man man demo bench fixed-appliance install clean clib check-c check-python check-fish check-interop

all: build appliance

build:
	$(SWIFT) build

generate:
	$(SWIFT) run generator

check-generated:
	$(SWIFT) run generator --check

# The daemon runs inside the appliance: release build, Swift runtime linked in.
daemon:
	$(SWIFT) build -c release --product guestfsd --static-swift-stdlib --scratch-path $(TOP)/.build-daemon

# What `make install` installs: the prepared (supermin.d) appliance. The
# library builds the full appliance from it on first launch into its cache.
appliance: daemon
	DAEMON=$(DAEMON_BIN) appliance/build-appliance.sh prepare -o $(APPLIANCE)/supermin.d

# Every suite runs even when an earlier one fails; the end says which failed.
SUITES := swift-tests check-c check-python check-fish check-interop
check: check-generated check-man all
	@failed=""; for s in $(SUITES); do echo "==> $$s"; \
	  $(MAKE) --no-print-directory $$s || failed="$$failed $$s"; done; \
	  if [ -n "$$failed" ]; then echo "test suites failed:$$failed"; exit 1; fi; \
	  echo "all test suites passed: $(SUITES)"

# XDR, generator, library, daemon unit tests and the model-driven action
# tests in one shared appliance (InteropTests run under check-interop).
swift-tests:
	GUESTFS_TEST_APPLIANCE=$(APPLIANCE) $(SWIFT) test --skip InteropTests

man:
	bash tools/build-man.sh man/build

check-man:
	bash tools/check-man.sh

demo: all
	$(SWIFT) run guestfs-demo

bench: all
	bench/run.sh

# A libguestfs-style fixed appliance (README.fixed, kernel, initrd, root):
# LIBGUESTFS_PATH=DEST works for libguestfs's library and for ours.
fixed-appliance: appliance
	@test -n "$(DEST)" || { echo "usage: make fixed-appliance DEST=dir"; exit 2; }
	appliance/build-appliance.sh fixed -i $(APPLIANCE)/supermin.d -o $(DEST)

clean:
	rm -rf .build .build-* 

# ---- C library: libguestfs.so.0 + guestfs.h + libguestfs.pc (bindings/c, Sources/GuestfsC)
C_SCRATCH   := $(TOP)/.build-c
C_LIB       := $(C_SCRATCH)/release/libguestfs.so
C_VERSION   := 1.48.0

clib:
	$(SWIFT) build -c release --product guestfs --scratch-path $(C_SCRATCH)

# The prepared appliance, built only when missing (`make appliance` refreshes it).
$(APPLIANCE)/supermin.d/packages:
	$(MAKE) appliance

# guestfish and the virt-* tools (one virt-tools program, a symlink per tool).
VIRT_TOOLS := virt-cat virt-ls virt-df virt-filesystems virt-inspector virt-tar-out virt-tar-in virt-copy-in virt-copy-out virt-edit virt-format virt-log virt-alignment-scan
tools-release:
	$(SWIFT) build -c release --product guestfish --scratch-path $(C_SCRATCH)
	$(SWIFT) build -c release --product virt-tools --scratch-path $(C_SCRATCH)

install: clib tools-release $(APPLIANCE)/supermin.d/packages
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/guestfs $(DESTDIR)$(PREFIX)/share/man $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(C_SCRATCH)/release/guestfish $(C_SCRATCH)/release/virt-tools $(DESTDIR)$(PREFIX)/bin/
	for t in $(VIRT_TOOLS); do ln -sf virt-tools $(DESTDIR)$(PREFIX)/bin/$$t; done
	install -m 755 $(C_LIB) $(DESTDIR)$(PREFIX)/lib/libguestfs.so.0
	ln -sf libguestfs.so.0 $(DESTDIR)$(PREFIX)/lib/libguestfs.so
	install -m 644 bindings/c/include/guestfs.h $(DESTDIR)$(PREFIX)/include/guestfs.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(C_VERSION)|g' bindings/c/libguestfs.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/libguestfs.pc
	rm -rf $(DESTDIR)$(PREFIX)/lib/guestfs/supermin.d
	cp -R $(APPLIANCE)/supermin.d $(DESTDIR)$(PREFIX)/lib/guestfs/supermin.d
	@if [ -f tools/build-man.sh ]; then \
	  rm -rf $(C_SCRATCH)/man && bash tools/build-man.sh $(C_SCRATCH)/man >/dev/null && \
	  for d in $(C_SCRATCH)/man/man[0-9]; do [ -d "$$d" ] || continue; \
	    install -d $(DESTDIR)$(PREFIX)/share/man/$$(basename $$d); \
	    cp $$d/* $(DESTDIR)$(PREFIX)/share/man/$$(basename $$d)/ 2>/dev/null || true; done; \
	else \
	  for pod in man/*.pod; do [ -f "$$pod" ] || continue; n=$$(basename $$pod .pod); \
	    install -d $(DESTDIR)$(PREFIX)/share/man/man3; \
	    pod2man --section=3 --center=swift-guestfs --name=$$n $$pod > $(DESTDIR)$(PREFIX)/share/man/man3/$$n.3; done; \
	fi
	@case "$(DESTDIR)$(PREFIX)" in /usr|/usr/local) [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null && ldconfig || true ;; esac

# C programs written against libguestfs's API, built with pkg-config
# against a temporary `make install` and run (Tests/CTests/run.sh).
check-c:
	Tests/CTests/run.sh

# The Python binding (bindings/python) built with pip against a temporary
# `make install` and tested with pytest (Tests/python/run.sh).
check-python:
	Tests/python/run.sh

# guestfish (Sources/guestfish): script and pseudo-terminal tests (Tests/guestfish/run.sh).
check-fish:
	$(SWIFT) build --product guestfish
	$(SWIFT) build --product virt-tools
	GUESTFISH=$(TOP)/.build/debug/guestfish Tests/guestfish/run.sh

# Interop with libguestfs 1.48 (test peer only): its guestfish on our fixed
# appliance, and our library on its appliance (Tests/interop/run.sh).
INTEROP_APPLIANCE := $(TOP)/.build-interop/fixed-appliance
check-interop:
	$(MAKE) fixed-appliance DEST=$(INTEROP_APPLIANCE)
	FIXED_APPLIANCE=$(INTEROP_APPLIANCE) Tests/interop/run.sh
