# xqueue-bridge: the two set-up commands of the README are `make demo` and `make test`.
# Each creates the virtualenv (.venv) if needed and installs what it needs into it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip --disable-pip-version-check
PYTEST_ARGS ?=

.PHONY: demo test test-sqlite test-mysql test-postgresql services lint bench clean

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

test-sqlite test-mysql test-postgresql: test-%: $(VENV)/.tests services
	XQUEUE_BRIDGE_TEST_DB=$* $(BIN)/pytest $(PYTEST_ARGS)

services:
	scripts/ensure-services

lint: $(VENV)/.tests
	$(BIN)/ruff check xqueue_bridge toggles tests bench

# The benchmark's own virtualenv: edx-submissions 4.0.2 (the anchor), its server and driver, matplotlib.
BENCH_VENV := bench/.venv
$(BENCH_VENV)/.installed: bench/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip --disable-pip-version-check install --quiet -r bench/requirements.txt
	touch $@

# The run of record (bench/scale.py): every target side by side, SQLite and PostgreSQL, 1 and 4 graders.
bench: $(VENV)/.tests $(BENCH_VENV)/.installed services
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(BENCH_VENV) .xqueue-bridge .pytest_cache .ruff_cache .hypothesis
