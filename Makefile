# The two commands of the README: `make up` runs the product, `make test` runs the checks.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: up test lint typecheck contracts unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

## Run everything locally: SQLite, the Temporal dev server + Web UI, a worker and the API.
# The example's librarian searches this repository's docs/, outside the workspace.
up: $(VENV)/.installed
	DOC_SEARCH_ROOTS="$${DOC_SEARCH_ROOTS:-$(CURDIR)/docs}" $(BIN)/orch up

## Lint, format check, type check, the import contracts, then the whole test suite.
test: lint typecheck contracts unit

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy

## The layer contracts in pyproject.toml ([tool.importlinter]): imports only point down.
contracts: $(VENV)/.installed
	$(BIN)/lint-imports --no-cache

unit: $(VENV)/.installed
	$(BIN)/pytest -q

# The benchmarks' peers (OpenAI Agents SDK, Pydantic AI): the `bench` extra, only for `make bench`.
$(VENV)/.bench-installed: pyproject.toml | $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $@

## The benchmarks (they print the figures the README quotes).
bench: $(VENV)/.bench-installed
	PYTHONPATH=. $(BIN)/python bench/overhead.py
	$(BIN)/python bench/overhead_scripted.py
	PYTHONPATH=. $(BIN)/python bench/stream_latency.py
	PYTHONPATH=. $(BIN)/python bench/llm_clients.py
	PYTHONPATH=. $(BIN)/python bench/start_path.py
	PYTHONPATH=. $(BIN)/python bench/scale.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache orchestrator.db .orch
