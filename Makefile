# Círculo. Needs only Python 3.11+, pip and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint pytest bench serve clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## make demo: install, load the demo company into data/demo, switch on the example journeys,
## print the desktop URL, the demo users' passwords (data/demo/demo-users) and API key
## (data/demo/demo-key), serve with simulated traffic (docs/demo.md). Another port: PORT=8080 make demo
demo: $(STAMP)
	CIRCULO_DEMO_TRAFFIC=1 CIRCULO_SURVEYS_FILE=$${CIRCULO_SURVEYS_FILE:-examples/surveys/surveys.yaml} CIRCULO_DATA_DIR=$${CIRCULO_DATA_DIR:-data/demo} CIRCULO_PORT=$${PORT:-$${CIRCULO_PORT:-8000}} \
		$(BIN)/circulo demo --journeys examples/journeys

## make test: lint (ruff, mypy, the import contracts) and the whole test suite
test: lint pytest

## make lint: ruff, mypy, and lint-imports (the dependency order of docs/architecture.md)
lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/pytest

## make bench: the benchmarks of docs/benchmarks.md (takes several minutes)
bench: $(STAMP)
	$(BIN)/python bench/ingest_bench.py
	$(BIN)/python bench/card_bench.py
	$(BIN)/python bench/journeys_bench.py
	$(BIN)/python bench/identity_bench.py all
	$(BIN)/python bench/dedupe_bench.py

serve: $(STAMP)
	CIRCULO_PORT=$${PORT:-$${CIRCULO_PORT:-8000}} $(BIN)/circulo serve

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
