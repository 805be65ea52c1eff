# Quick start: `make run` and `make test`; both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench bench-startup bench-traces bench-sweep bench-experiments bench-calibrate lint format clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/lfvsim run scenarios/quickstart.toml

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_engine.py
	$(BIN)/python benchmarks/bench_startup.py

bench-startup: $(STAMP)
	$(BIN)/python benchmarks/bench_startup.py

bench-traces: $(STAMP)
	$(BIN)/python benchmarks/bench_traces.py

bench-sweep: $(STAMP)
	$(BIN)/python benchmarks/bench_sweep.py

bench-experiments: $(STAMP)
	$(BIN)/python benchmarks/bench_experiments.py

bench-calibrate: $(STAMP)
	$(BIN)/python benchmarks/bench_calibrate.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
