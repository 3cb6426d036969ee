# The two commands in the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-servers clean

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

test: setup test-servers
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) data
