# Allô — two commands on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run voice test test-under-load install bench clean

# (Re)install when pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# The embedded demo: SQLite under var/, demo data, the server on http://$(HOST):$(PORT).
# Plain HTTP on loopback, so cookies are not marked secure (ALLO_HTTPS=0).
run: $(STAMP)
	ALLO_HTTPS=0 $(BIN)/allo init --demo
	ALLO_HTTPS=0 $(BIN)/allo serve --host $(HOST) --port $(PORT)

# The demo with real calls: Debian's Kamailio, rtpengine, SIPp and espeak-ng (installed when run as
# root), then the demo server with the voice edge in front of it; dial sip:3939@127.0.0.1:5060.
VOICE_PACKAGES := kamailio kamailio-extra-modules rtpengine-daemon sip-tester espeak-ng
voice: $(STAMP)
	@if ! command -v kamailio >/dev/null || ! command -v rtpengine >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $(VOICE_PACKAGES); \
		else echo "make voice : en root, ou d'abord : sudo apt-get install $(VOICE_PACKAGES)"; exit 1; fi; \
	fi
	ALLO_HTTPS=0 $(BIN)/allo init --demo
	ALLO_HTTPS=0 $(BIN)/allo voice demo --host $(HOST) --port $(PORT)

# Lint, then the whole suite on SQLite; then, when ALLO_TEST_DATABASE_URL is set (as in CI),
# the database-sensitive tests again on a real PostgreSQL.
test: $(STAMP)
	$(BIN)/ruff check allo tests bench
	$(BIN)/pytest
	@if [ -n "$$ALLO_TEST_DATABASE_URL" ]; then \
		echo "== PostgreSQL pass ($$ALLO_TEST_DATABASE_URL) =="; \
		DATABASE_URL="$$ALLO_TEST_DATABASE_URL" $(BIN)/pytest -m "postgres or any_db"; \
	else \
		echo "== PostgreSQL pass skipped: ALLO_TEST_DATABASE_URL is not set =="; \
	fi

# The suite with a CPU hog per core beside it (issue 14): timing-dependent faults show here.
test-under-load: $(STAMP)
	$(BIN)/python tests/run_under_load.py

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b --quick || exit 1; done

clean:
	rm -rf $(VENV) var build *.egg-info
