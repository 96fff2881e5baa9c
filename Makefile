# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
# Both (and every other target) first create or update .venv, re-installing only when
# pyproject.toml changed.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# make test runs the suite in parallel, one module per worker at a time (each worker has its own
# PostgreSQL and NATS); TEST_WORKERS=1 runs it in one process. The fault suite measures how the
# platform answers during outages and uploads, so it runs afterwards, alone.
TEST_WORKERS ?= 2
STAMP := $(VENV)/.installed-stamp
# checkov (deploy checks) pins packaging<24, which pytest 9 cannot share: it gets its own venv.
TOOLS := $(VENV)/tools
TOOLS_STAMP := $(TOOLS)/.installed-stamp

.PHONY: dev run test lint format bench clean-data demo-data images

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The TypeScript client checked against the combined API document (tests/client): its npm
# packages, exactly as its package-lock.json names them.
CLIENT_STAMP := tests/client/node_modules/.installed-stamp
$(CLIENT_STAMP): tests/client/package.json tests/client/package-lock.json
	@command -v npm >/dev/null || { echo "npm (Node.js 20 or newer) is required for the contract client check"; exit 1; }
	npm ci --prefix tests/client --no-audit --no-fund --silent
	@touch $(CLIENT_STAMP)

$(TOOLS_STAMP): $(STAMP)
	@test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet 'checkov>=3.2,<4'
	@touch $(TOOLS_STAMP)

dev: $(STAMP) $(TOOLS_STAMP) $(CLIENT_STAMP)

run: $(STAMP)
	$(PY) -m shared.devstack.run

test: $(STAMP) $(TOOLS_STAMP) $(CLIENT_STAMP)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --ignore=tests/faults
	$(PY) -m pytest tests/faults

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

VERSION ?= $(shell git describe --tags --always 2>/dev/null || echo 0.1.0)
IMAGE_PREFIX ?= sci-platform/

# Needs a Docker engine that can pull the base image (this workplace has neither).
images:
	@command -v docker >/dev/null || { echo "images: docker with a reachable engine is required"; exit 1; }
	for s in gateway registry projects evaluation; do \
	  docker build -f deploy/images/Dockerfile --target $$s --build-arg VERSION=$(VERSION) \
	    -t $(IMAGE_PREFIX)$$s:$(VERSION) . || exit 1; \
	done

clean-data:
	rm -rf .data
