# xqueue-bridge: the two set-up commands of the README are `make demo` and `make test` (`make test-quick`
# for daily work). Each creates the virtualenv (.venv) if needed and installs what it needs into it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip --disable-pip-version-check
PYTEST_ARGS ?=

.PHONY: demo test test-quick test-sqlite test-mysql test-postgresql services lint bench clean

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
	XQUEUE_BRIDGE_TEST_DB=sqlite $(BIN)/pytest $(PYTEST_ARGS)
	XQUEUE_BRIDGE_TEST_DB=mysql $(BIN)/pytest $(PYTEST_ARGS)
	XQUEUE_BRIDGE_TEST_DB=postgresql $(BIN)/pytest $(PYTEST_ARGS)

# Daily work: ruff, then the suite on SQLite without the tests marked slow (under two minutes).
test-quick: $(VENV)/.tests services
	$(BIN)/ruff check xqueue_bridge toggles tests bench
	XQUEUE_BRIDGE_TEST_DB=sqlite $(BIN)/pytest -q -m "not slow" $(PYTEST_ARGS)

test-sqlite test-mysql test-postgresql: test-%: $(VENV)/.tests services
	XQUEUE_BRIDGE_TEST_DB=$* $(BIN)/pytest $(PYTEST_ARGS)

services:
	scripts/ensure-services

lint: $(VENV)/.tests
	$(BIN)/ruff check xqueue_bridge toggles tests bench

bench: $(VENV)/.tests
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .xqueue-bridge .pytest_cache .ruff_cache .hypothesis
