# Vigil — build, demo, tests and benchmarks. `make demo` and `make test` work on
# a fresh Debian 12 machine with only the Swift toolchain: `deps` installs the rest.

SWIFT      ?= swift
PREFIX     ?= /usr/local
DESTDIR    ?=
VENV       := .venv
PYTHON     := $(VENV)/bin/python
# thingsboard-gateway pins its own pymodbus (3.9.2, installed at its start otherwise): a venv of its own.
TB_VENV    := .venv-thingsboard
APT_DEPS   := libmodbus-dev libcurl4-openssl-dev libssl-dev zlib1g-dev libgpiod-dev libmosquitto-dev pkg-config socat mbpoll openssl systemd mosquitto influxdb victoria-metrics
DEMO_SECONDS ?= 30
BIN        := .build/debug/vigil

.PHONY: deps test-peers build release demo test test-future soak bench install deb deb-check clean

deps:
	@missing=""; \
	for p in $(APT_DEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v python3 >/dev/null 2>&1 && python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing="$$missing python3 python3-venv"; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@[ -x $(PYTHON) ] || python3 -m venv $(VENV)
	@$(PYTHON) -c 'import pymodbus, serial, paho.mqtt.client, pysparkplug' >/dev/null 2>&1 || $(VENV)/bin/pip install -q 'pymodbus==3.16.*' pyserial 'paho-mqtt==1.6.*' 'pysparkplug==0.6.*'

# Peers only the tests need (the demo does not wait for them).
test-peers: deps
	@$(PYTHON) -c 'import linkkit' >/dev/null 2>&1 || $(VENV)/bin/pip install -q 'aliyun-iot-linkkit==1.2.13'
	@[ -x $(TB_VENV)/bin/python ] || python3 -m venv $(TB_VENV)
	@$(TB_VENV)/bin/python -c 'import thingsboard_gateway, pymodbus, serial_asyncio' >/dev/null 2>&1 || \
		$(TB_VENV)/bin/pip install -q 'thingsboard-gateway==3.8.5' 'pymodbus==3.9.2' pyserial pyserial-asyncio

build: deps
	$(SWIFT) build

# Products one at a time: a plain release build would also build the test-support library.
# --static-swift-stdlib: the installed binary needs no Swift runtime on the gateway
# (-Xswiftc -static-stdlib, used before, compiled for it but still linked the shared one).
# Full RELRO and immediate binding, as Debian's hardening asks of a daemon.
RELEASE := -c release --static-swift-stdlib -Xlinker -z -Xlinker relro -Xlinker -z -Xlinker now
release: deps
	$(SWIFT) build $(RELEASE) --product vigil
	$(SWIFT) build $(RELEASE) --product vigil-bench

demo: build
	$(BIN) demo --duration $(DEMO_SECONDS)

test: build test-peers
	$(SWIFT) test --disable-swift-testing

# The whole suite again with the wall clock 400 days ahead, the monotonic clock
# left alone: a test that depends on the date fails here. Why our own shim and not
# libfaketime: Tests/ClockAhead/clock_ahead.c.
CLOCK_AHEAD := .build/clock_ahead.so
test-future: build test-peers
	$(SWIFT) build --build-tests
	gcc -shared -fPIC -O2 -Wall -o $(CLOCK_AHEAD) Tests/ClockAhead/clock_ahead.c -ldl
	@echo "test-future: the wall clock reads $$(LD_PRELOAD=$(CURDIR)/$(CLOCK_AHEAD) VIGIL_CLOCK_AHEAD_DAYS=400 date -u +%F)"
	LD_PRELOAD=$(CURDIR)/$(CLOCK_AHEAD) VIGIL_CLOCK_AHEAD_DAYS=400 $(SWIFT) test --skip-build --disable-swift-testing

# Crash safety at length: 500 SIGKILLs and 500 power cuts instead of 50 each.
soak: build
	VIGIL_CRASH_CYCLES=500 $(SWIFT) test --disable-swift-testing --filter CrashTests

bench: deps release
	bash bench/run.sh

SYSTEMD_UNIT_DIR ?= /lib/systemd/system
SYSUSERS_DIR     ?= /usr/lib/sysusers.d
TMPFILES_DIR     ?= /usr/lib/tmpfiles.d
UDEV_RULES_DIR   ?= /lib/udev/rules.d

install: release
	install -D -m 0755 .build/release/vigil $(DESTDIR)$(PREFIX)/bin/vigil
	for d in Profiles Examples Boards; do \
		[ -d $$d ] && [ -n "$$(ls $$d)" ] || continue; \
		install -d $(DESTDIR)$(PREFIX)/share/vigil/$$d; \
		install -m 0644 $$d/* $(DESTDIR)$(PREFIX)/share/vigil/$$d/; \
	done
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/vigil/README.md
	install -D -m 0644 docs/uplink-protocol.md $(DESTDIR)$(PREFIX)/share/vigil/uplink-protocol.md
	install -D -m 0644 docs/gpio.md $(DESTDIR)$(PREFIX)/share/vigil/gpio.md
	install -D -m 0644 completions/vigil.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/vigil
	install -d $(DESTDIR)$(PREFIX)/share/man/man1
	.build/release/vigil help --man | gzip -9n > $(DESTDIR)$(PREFIX)/share/man/man1/vigil.1.gz
	install -d $(DESTDIR)$(SYSTEMD_UNIT_DIR)
	sed 's|/usr/bin/vigil|$(PREFIX)/bin/vigil|' systemd/vigil.service > $(DESTDIR)$(SYSTEMD_UNIT_DIR)/vigil.service
	install -D -m 0644 systemd/vigil.sysusers.conf $(DESTDIR)$(SYSUSERS_DIR)/vigil.conf
	install -D -m 0644 systemd/vigil.tmpfiles.conf $(DESTDIR)$(TMPFILES_DIR)/vigil.conf
	install -D -m 0644 systemd/vigil.udev.rules $(DESTDIR)$(UDEV_RULES_DIR)/60-vigil.rules

# The Debian package (packaging/deb/build-deb.sh says how and why), checked by lintian:
# no error may remain (the warnings we accept are explained in README's Install section).
DEB_DEPS := dpkg-dev lintian binutils
deb:
	@missing=""; for p in $(DEB_DEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi
	$(MAKE) --no-print-directory deps
	$(SWIFT) build $(RELEASE) --product vigil
	rm -f dist/vigil_*.deb
	bash packaging/deb/build-deb.sh .build/release/vigil dist
	lintian --fail-on error --info dist/vigil_*.deb

# The package installed into a plain Debian 12 root (debootstrap; needs root and the mirror).
deb-check: deb
	bash packaging/deb/check-deb.sh dist/vigil_*.deb

clean:
	rm -rf .build dist $(VENV) $(TB_VENV)
