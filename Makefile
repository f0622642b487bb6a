# xqueue-bridge: the two set-up commands of the README are `make demo` and `make test` (`make test-quick`
# for daily work). Each creates the virtualenv (.venv) if needed and installs what it needs into it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip --disable-pip-version-check
PYTEST_ARGS ?=

.PHONY: demo test test-quick test-sqlite test-mysql test-postgresql services lint bench bench-backlog clean requirements upgrade screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel

# The base install: what `xqueue-bridge demo` needs (SQLite, in-process signals), from the pinned versions.
$(VENV)/.base: $(BIN)/python setup.py requirements/base.txt
	$(PIP) install --quiet -r requirements/base.txt
	$(PIP) install --quiet --no-deps -e .
	touch $@

# Everything the suite needs: service clients (Redis, MariaDB, PostgreSQL, Celery), test tools, ruff.
$(VENV)/.tests: $(VENV)/.base setup.py requirements/test.txt
	$(PIP) install --quiet -r requirements/test.txt
	$(PIP) install --quiet --no-deps -e .
	touch $@

# Compile requirements/*.in into pinned .txt files (pip-tools); `upgrade` moves every pin to the newest allowed.
PIP_COMPILE = $(BIN)/pip-compile --quiet --allow-unsafe --resolver=backtracking --strip-extras
requirements: $(VENV)/.tests
	$(PIP) install --quiet -r requirements/dev.txt
	$(PIP_COMPILE) -o requirements/base.txt requirements/base.in
	$(PIP_COMPILE) -o requirements/test.txt requirements/test.in
	$(PIP_COMPILE) -o requirements/dev.txt requirements/dev.in

upgrade: $(VENV)/.tests
	$(PIP) install --quiet -r requirements/dev.txt
	$(PIP_COMPILE) --upgrade -o requirements/base.txt requirements/base.in
	$(PIP_COMPILE) --upgrade -o requirements/test.txt requirements/test.in
	$(PIP_COMPILE) --upgrade -o requirements/dev.txt requirements/dev.in

demo: $(VENV)/.base
	$(BIN)/xqueue-bridge demo

# The whole suite on each database backend, with the real services (started if not answering).
test: $(VENV)/.tests services
	$(BIN)/ruff check xqueue_bridge toggles tests bench
	$(BIN)/lint-imports
	$(MAKE) test-sqlite test-mysql test-postgresql

# Daily work: ruff, then the suite on SQLite without the tests marked slow (under two minutes).
test-quick: $(VENV)/.tests services
	$(BIN)/ruff check xqueue_bridge toggles tests bench
	XQUEUE_BRIDGE_TEST_DB=sqlite $(BIN)/pytest -q -m "not slow" $(PYTEST_ARGS)

# Per database: the suite, then the LMS-shaped host that loads the bridge as a plugin (tests/lms_host).
test-sqlite test-mysql test-postgresql: test-%: $(VENV)/.tests services
	XQUEUE_BRIDGE_TEST_DB=$* $(BIN)/pytest $(PYTEST_ARGS)
	XQUEUE_BRIDGE_TEST_DB=$* $(BIN)/pytest --ds tests.lms_host.settings tests/lms_host $(PYTEST_ARGS)

# The databases and Redis, and the browser of the dashboard's test (Debian's chromium and chromedriver).
services:
	scripts/ensure-services
	scripts/ensure-browser

# The README's pictures of the dashboard, taken by its browser test.
screenshots: $(VENV)/.tests
	scripts/ensure-browser
	XQB_SCREENSHOTS=$(CURDIR)/docs/images $(BIN)/pytest -q tests/cockpit/test_browser.py

# Import contracts (pyproject.toml [tool.importlinter]): no import loop, and the forbidden directions.
lint: $(VENV)/.tests
	$(BIN)/ruff check xqueue_bridge toggles tests bench
	$(BIN)/lint-imports

# The benchmark's own virtualenv: edx-submissions 4.0.2 (the anchor), its server and drivers, matplotlib.
BENCH_VENV := bench/.venv
$(BENCH_VENV)/.installed: bench/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip --disable-pip-version-check install --quiet -r bench/requirements.txt
	touch $@

# The run of record (bench/scale.py): every target side by side, SQLite, PostgreSQL and MariaDB, 1 and 4
# graders, and one serve against two (DELIVERY_MODE worker). The databases only: no browser to install.
bench: $(VENV)/.tests $(BENCH_VENV)/.installed
	scripts/ensure-services
	$(BIN)/python -m bench

# A deep queue and a long outbox (bench/backlog.py): pulls flat from 1,000 to 100,000 queued submissions,
# and a backlog of pending deliveries drained in memory that does not grow with it.
bench-backlog: $(VENV)/.tests
	scripts/ensure-services
	$(BIN)/python -m bench.backlog

clean:
	rm -rf $(VENV) $(BENCH_VENV) .xqueue-bridge .pytest_cache .ruff_cache .hypothesis
