# socialloop developer commands. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DIR ?= demo-workspace
DEMO_POSTS ?= 20000

.PHONY: install lint test demo bench docs clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "socialloop needs Python >= 3.11"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: install
	$(BIN)/ruff check src tests benchmarks training
	$(BIN)/ruff format --check src tests benchmarks training
	$(BIN)/mypy

test: install lint
	$(BIN)/pytest

docs: install
	$(BIN)/python -m socialloop.cli.docs > docs/cli.md

demo: install
	rm -rf $(DEMO_DIR)
	$(BIN)/socialloop init $(DEMO_DIR)
	$(BIN)/socialloop simulate --posts $(DEMO_POSTS) --seed 7 --workspace $(DEMO_DIR)
	$(BIN)/socialloop status --workspace $(DEMO_DIR)
	$(BIN)/socialloop topics --build --workspace $(DEMO_DIR)
	SOCIALLOOP_WORKSPACE=$(DEMO_DIR) bash scripts/demo-searches.sh $(BIN)/socialloop

bench: install
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) bench-out .mypy_cache .ruff_cache .pytest_cache
