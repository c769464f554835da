# swift-guestfs: build, appliance, tests, install.  See README.md.
SWIFT       ?= swift
PREFIX      ?= /usr/local
TOP         := $(CURDIR)
APPLIANCE   := $(TOP)/.build-appliance
DAEMON_BIN  := $(TOP)/.build-daemon/release/guestfsd
# The dev tree's appliance; an installed library finds its own without this.
export LIBGUESTFS_PATH ?= $(APPLIANCE)

.PHONY: all build generate check-generated daemon appliance check check-man man demo bench fixed-appliance install clean

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

check: check-generated check-man all
	$(SWIFT) test

man:
	bash tools/build-man.sh man/build

check-man:
	bash tools/check-man.sh

demo: all
	$(SWIFT) run guestfs-demo

bench: all
	bench/run.sh

fixed-appliance: appliance
	@test -n "$(DEST)" || { echo "usage: make fixed-appliance DEST=dir"; exit 2; }
	appliance/build-appliance.sh build -i $(APPLIANCE)/supermin.d -o $(DEST)

clean:
	rm -rf .build .build-* 
