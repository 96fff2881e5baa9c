# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
# Both (and every other target) first create or update .venv, re-installing only when
# pyproject.toml changed.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: dev run test lint format bench clean-data demo-data

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

dev: $(STAMP)

run: $(STAMP)
	$(PY) -m shared.devstack.run

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy shared services
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

demo-data: $(STAMP)
	@echo "demo data is loaded by 'make run' into empty databases (DEV_DEMO_DATA=0 turns it off)"
	$(PY) -m shared.devstack.run --demo-data-only

bench: $(STAMP)
	$(PY) -m bench

clean-data:
	rm -rf .data
