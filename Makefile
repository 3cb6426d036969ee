# The two commands in the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

FUTURE ?= +5y
# pytest-xdist workers: one per CPU; each starts its own Dovecot and PostgreSQL. WORKERS=0 runs in one process.
WORKERS ?= auto

.PHONY: setup demo test test-now test-future test-servers clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

setup: $(STAMP)

demo: setup
	$(BIN)/unmentoring demo

test-servers:
	bash scripts/install-test-servers

test: test-now test-future

test-now: setup test-servers
	$(BIN)/python -m pytest -n $(WORKERS) --dist worksteal --durations=20

# The tests that run the service, again with every clock of our code $(FUTURE) ahead (libfaketime;
# the IMAP and database servers keep real time): no test may depend on the day it runs. Their SQLite
# runs only: the PostgreSQL server keeps real time and our code asks it for none (every time is
# ours, passed in), so its runs would repeat the same dates; they run in `test-now`.
test-future: setup test-servers
	faketime -f "$(FUTURE)" $(BIN)/python -m pytest -n $(WORKERS) --dist worksteal -m clock -k "not postgresql" -q -p no:cacheprovider

clean:
	rm -rf $(VENV) data
