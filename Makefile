# socialloop developer commands. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DIR ?= demo-workspace
DEMO_POSTS ?= 20000
DEMO_PORT ?= 8000
# DEMO_SERVE=0 ends `make demo` after the report instead of serving the dashboard
DEMO_SERVE ?= 1

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
	SOCIALLOOP_WORKSPACE=$(DEMO_DIR) bash scripts/demo-loop.sh $(BIN)/socialloop
	printf '%s\n' demo-password | $(BIN)/socialloop user add demo --role admin --password-stdin --workspace $(DEMO_DIR)
	$(BIN)/socialloop agent add demo --workspace $(DEMO_DIR)
	@echo
	@echo "Dashboard: http://127.0.0.1:$(DEMO_PORT)/   login: demo / demo-password   (Ctrl-C stops it)"
	@if [ "$(DEMO_SERVE)" = "1" ]; then $(BIN)/socialloop serve --port $(DEMO_PORT) --workspace $(DEMO_DIR); fi

# the benchmarks also time the "usual stack" (lingua + VADER + MiniLM through
# sentence-transformers) beside ours: the train and distill extras (torch pinned, CPU build)
$(VENV)/.bench-stamp: pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,train,distill]'
	touch $(VENV)/.bench-stamp

bench: install $(VENV)/.bench-stamp
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) bench-out .mypy_cache .ruff_cache .pytest_cache
