# recexp: every step a user or CI runs. `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
SMOKE_RUNS ?= /tmp/recexp-smoke-runs

.PHONY: install test-extras demo test lint format typecheck unit smoke bench bench-accuracy bench-ranking bench-accuracy-families report-screenshot clean

$(BIN)/recexp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@

install: $(BIN)/recexp ## create .venv: recexp and its dev tools

# the optional extras the tests exercise: MLflow (tracking) and Ray (tune --backend ray)
$(VENV)/.test-extras: $(BIN)/recexp pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev,tracking,ray]"
	@touch $@

test-extras: $(VENV)/.test-extras

demo: install ## train NeuMF on the embedded synthetic dataset, then compare all runs
	$(BIN)/recexp train configs/neumf.yaml
	$(BIN)/recexp compare runs/*

test: test-extras lint unit smoke ## lint + tests + CLI smoke runs on configs/tiny/

lint: install
	$(BIN)/ruff check recexp tests benchmarks
	$(BIN)/ruff format --check recexp tests benchmarks
	$(BIN)/mypy recexp

format: install
	$(BIN)/ruff format recexp tests benchmarks
	$(BIN)/ruff check --fix recexp tests benchmarks

unit: install
	$(BIN)/pytest

smoke: install ## every tiny config trains end to end, then compare reads them
	rm -rf $(SMOKE_RUNS)
	@for spec in configs/tiny/*.yaml; do \
		echo "== $$spec"; \
		$(BIN)/recexp train $$spec --quiet --runs-dir $(SMOKE_RUNS) || exit 1; \
	done
	$(BIN)/recexp compare $(SMOKE_RUNS)/*

bench: install ## speed benchmark: seeds' Keras and Surprise vs recexp, writes benchmarks/results/
	$(BIN)/pip install --quiet -e ".[dev,bench]"
	$(BIN)/python -m benchmarks.speed

bench-accuracy: install ## tuned specs on MovieLens 100K (needs ../shared/data)
	$(BIN)/python -m benchmarks.accuracy

bench-ranking: install ## top-N on ML-100K: recexp's specs and baselines vs implicit's ALS/BPR; evaluation at 25M shape
	$(BIN)/pip install --quiet -e ".[dev,ranking-bench]"
	$(BIN)/python -m benchmarks.ranking
	$(BIN)/python -m benchmarks.ranking_scale

bench-accuracy-families: install ## autorec, svdpp, glocal_k, ensemble (+ Surprise SVD++) on ML-100K: u1, random, folds u1..u5 (~2 h)
	$(BIN)/pip install --quiet -e ".[accuracy]"
	$(BIN)/python -m benchmarks.accuracy_families --split u1
	$(BIN)/python -m benchmarks.accuracy_families --split random
	$(BIN)/python -m benchmarks.accuracy_families --split folds --only ensemble

report-screenshot: install ## headless Chromium photo of a report of hand-made runs -> docs/report.png
	PYTHON=$(BIN)/python scripts/report_screenshot.sh

clean:
	rm -rf $(VENV) $(SMOKE_RUNS) .pytest_cache .mypy_cache .ruff_cache
