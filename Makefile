# xqueue-bridge: the two set-up commands of the README are `make demo` and `make test`.
# Each creates the virtualenv (.venv) if needed and installs what it needs into it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip --disable-pip-version-check
PYTEST_ARGS ?=

.PHONY: demo test test-sqlite test-mysql test-postgresql services lint bench screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel

# The base install: what `xqueue-bridge demo` needs (SQLite, in-process signals).
$(VENV)/.base: $(BIN)/python setup.py
	$(PIP) install --quiet -e .
	touch $@

# Everything the suite needs: service clients (Redis, MariaDB, PostgreSQL, Celery) and test tools.
$(VENV)/.tests: $(VENV)/.base setup.py
	$(PIP) install --quiet -e '.[tests,lint]'
	touch $@

demo: $(VENV)/.base
	$(BIN)/xqueue-bridge demo

# The whole suite on each database backend, with the real services (started if not answering).
test: $(VENV)/.tests services
	$(BIN)/ruff check xqueue_bridge toggles tests bench
	$(BIN)/lint-imports
	XQUEUE_BRIDGE_TEST_DB=sqlite $(BIN)/pytest $(PYTEST_ARGS)
	XQUEUE_BRIDGE_TEST_DB=mysql $(BIN)/pytest $(PYTEST_ARGS)
	XQUEUE_BRIDGE_TEST_DB=postgresql $(BIN)/pytest $(PYTEST_ARGS)

test-sqlite test-mysql test-postgresql: test-%: $(VENV)/.tests services
	XQUEUE_BRIDGE_TEST_DB=$* $(BIN)/pytest $(PYTEST_ARGS)

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

bench: $(VENV)/.tests
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .xqueue-bridge .pytest_cache .ruff_cache .hypothesis
