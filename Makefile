# Game driver: operator tasks.  `make` alone lists them.
#
#   make setup          virtualenv with pinned dependencies, development certificates
#   make run ARGS=...   start the driver in the foreground
#   make test ARGS=...  run the test suite (ARGS go to pytest, e.g. ARGS="-k tls -x")

VENV   ?= .venv
PYTHON ?= python3
ARGS   ?=

VPY          := $(VENV)/bin/python
STAMP        := $(VENV)/.installed
REQUIREMENTS := requirements.txt requirements-dev.txt
CERTS_DIR    := certs

# Debian packages: the interop tests drive `openssl s_client` and
# `gnutls-cli`; `python3 -m venv` needs python3-venv (ensurepip).
TOOL_PACKAGES := openssl gnutls-bin
VENV_PACKAGE  := python3-venv

export DEBIAN_FRONTEND := noninteractive

.DEFAULT_GOAL := help
# The steps share apt and the virtualenv; run them one after another.
.NOTPARALLEL:
.PHONY: help setup certs run tools test lint check-config clean distclean
.PHONY: bench bench-quick bench-instructions bench-libraries
.PHONY: interop interop-tools

help:
	@echo "Targets:"
	@echo "  setup         create $(VENV) with requirements-dev.txt installed, then 'certs' (safe to repeat)"
	@echo "  certs         write development certificates to $(CERTS_DIR)/ (kept while still good)"
	@echo "  run           start the driver in the foreground (ARGS go to driver.py)"
	@echo "  tools         install openssl and gnutls-cli for the interop tests, if missing and root"
	@echo "  test          check the import layers (lint), then run the tests (make test ARGS='-k tls -x')"
	@echo "  lint          check the import contracts of pyproject.toml (the driver's layers)"
	@echo "  check-config  validate config.yaml and exit"
	@echo "  interop       drive TinTin++, KBtin, tf5 and telnet in tmux over TLS and telnet (as root, installs them, tmux and chromium)"
	@echo "  bench         benchmark the driver against openssl s_server and asyncio (under 10 min; bench/RESULTS.md)"
	@echo "  bench-quick   the same with small counts (under a minute; bench/out/quick/)"
	@echo "  bench-instructions  machine instructions per command and per handshake, under callgrind (about 3 min)"
	@echo "  bench-libraries     server CPU per handshake by library (OpenSSL, Python, kernel), sampled by perf (under a minute)"
	@echo "  clean         remove $(VENV) and caches; keeps $(CERTS_DIR)/ and data/"
	@echo "  distclean     clean, and also delete $(CERTS_DIR)/ and data/ (saved characters!)"
	@echo "  help          this list"

# The stamp is newer than the requirement files once they are installed, so
# a repeated `make setup` does not touch the virtualenv.
$(STAMP): $(REQUIREMENTS)
	@if ! $(PYTHON) -c 'import venv, ensurepip' >/dev/null 2>&1; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	        echo "setup: $(PYTHON) cannot create virtualenvs; installing $(VENV_PACKAGE)"; \
	        apt-get update && apt-get install -y --no-install-recommends $(VENV_PACKAGE) || exit 1; \
	    else \
	        echo "setup: $(PYTHON) cannot create virtualenvs: install the Debian package $(VENV_PACKAGE) (as root: apt-get install $(VENV_PACKAGE))" >&2; \
	        exit 1; \
	    fi; \
	fi
	@if ! $(VPY) -m pip --version >/dev/null 2>&1; then \
	    echo "setup: creating $(VENV)"; \
	    $(PYTHON) -m venv --clear $(VENV) || exit 1; \
	fi
	$(VPY) -m pip install --disable-pip-version-check -r requirements-dev.txt
	@touch $@

setup: certs

certs: $(STAMP)
	$(VPY) -m driver.devcerts $(CERTS_DIR)

run: setup
	exec $(VPY) driver.py $(ARGS)

# Never fails: without the tools the interop tests are skipped.
tools:
	@missing=""; \
	command -v openssl >/dev/null 2>&1 || missing="$$missing openssl"; \
	command -v gnutls-cli >/dev/null 2>&1 || missing="$$missing gnutls-cli"; \
	if [ -z "$$missing" ]; then \
	    exit 0; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "tools: missing$$missing; installing $(TOOL_PACKAGES)"; \
	    if apt-get update && apt-get install -y --no-install-recommends $(TOOL_PACKAGES); then :; else \
	        echo "tools: apt-get failed; the interop tests that need$$missing will be skipped"; \
	    fi; \
	else \
	    echo "tools: missing$$missing; the interop tests that need it will be skipped (install the Debian packages $(TOOL_PACKAGES): apt-get install $(TOOL_PACKAGES))"; \
	fi

# pytest options live in pyproject.toml.  Exit status 5 (no tests collected)
# fails like any other.
test: setup tools interop-tools lint
	@status=0; $(VPY) -m pytest $(ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "test: pytest collected no tests; that is a failure" >&2; fi; \
	exit $$status

# The import contracts in pyproject.toml: the layers of driver/ and what the
# mudlib may import.  A broken contract fails `make test`.
lint: $(STAMP)
	$(VENV)/bin/lint-imports --no-cache

check-config: setup
	$(VPY) driver.py --check-config

# TinTin++ (Debian package tintin++, /usr/games/tt++), KBtin (kbtin), tf5
# and plain telnet (Debian package telnet) played through tmux; headless
# Chromium (Debian package chromium) plays the web client through Playwright,
# also behind nginx (nginx-light) as a reverse proxy.
INTEROP_PACKAGES := tintin++ kbtin tf5 telnet tmux chromium nginx-light

interop-tools:
	@missing=""; \
	command -v tmux >/dev/null 2>&1 || missing="$$missing tmux"; \
	{ command -v tt++ >/dev/null 2>&1 || test -x /usr/games/tt++; } || missing="$$missing tintin++"; \
	command -v KBtin >/dev/null 2>&1 || missing="$$missing kbtin"; \
	command -v tf5 >/dev/null 2>&1 || missing="$$missing tf5"; \
	command -v telnet >/dev/null 2>&1 || missing="$$missing telnet"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	test -x /usr/sbin/nginx || missing="$$missing nginx"; \
	if [ -z "$$missing" ]; then \
	    exit 0; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "interop: missing$$missing; installing $(INTEROP_PACKAGES)"; \
	    apt-get update && apt-get install -y --no-install-recommends $(INTEROP_PACKAGES) || exit 1; \
	else \
	    echo "interop: missing$$missing (install the Debian packages $(INTEROP_PACKAGES)); their tests will be skipped"; \
	fi

interop: setup interop-tools
	$(VPY) -m pytest tests/interop $(ARGS)

# Benchmarks (not run by CI): requirements-bench.txt goes into the same
# virtualenv; `openssl` (for the s_server baseline) comes from 'tools'.
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): requirements-bench.txt $(STAMP)
	$(VPY) -m pip install --disable-pip-version-check -r requirements-bench.txt
	@touch $@

bench: $(BENCH_STAMP) tools
	$(VPY) -m bench run $(ARGS)

bench-quick: $(BENCH_STAMP) tools
	$(VPY) -m bench run --quick $(ARGS)

# Instructions per command and per handshake under valgrind's callgrind
# (Debian package valgrind): the figure that does not drift with the machine.
bench-instructions: $(BENCH_STAMP) tools
	@command -v valgrind >/dev/null 2>&1 || { \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	        apt-get update && apt-get install -y --no-install-recommends valgrind || exit 1; \
	    else echo "bench-instructions: install the Debian package valgrind"; exit 2; fi; }
	$(VPY) -m bench instructions $(ARGS)

# Where a handshake's CPU goes, library by library, sampled by perf (Debian
# package linux-perf): the driver beside the asyncio + uvloop baseline.
bench-libraries: $(BENCH_STAMP) tools
	@command -v perf >/dev/null 2>&1 || { \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	        apt-get update && apt-get install -y --no-install-recommends linux-perf || exit 1; \
	    else echo "bench-libraries: install the Debian package linux-perf"; exit 2; fi; }
	$(VPY) -m bench libraries $(ARGS)

# Keeps certs/ (the server's certificates and key, and the CA players trust)
# and data/ (saved characters and other world state): see distclean.
clean:
	rm -rf $(VENV) .pytest_cache
	find . -name .git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(CERTS_DIR) data
