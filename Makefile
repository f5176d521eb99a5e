# Two commands on a fresh machine: `make report` and `make test`.
# Everything else (uv, the virtual environment, the browser for the browser tests) is installed
# here from the lock file and the package registries.

SHELL := /bin/bash
.DEFAULT_GOAL := report

PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.8
UV := .tools/uv/bin/uv
VENV := .venv
SYNCED := $(VENV)/.synced
RUN := $(VENV)/bin/python

# Never let uv download an interpreter: the machine's Python 3.11 is the one we lock for.
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
# matplotlib must never try to open a window, and must cache its font list inside the project.
export MPLBACKEND := Agg
export MPLCONFIGDIR := $(CURDIR)/.venv/mplconfig

.PHONY: report test test-partners lab bench lint validate processed env browser-deps slurm-deps clean

$(UV):
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --target .tools/uv "uv==$(UV_VERSION)"

# Byte-compile at install time: this machine sets PYTHONDONTWRITEBYTECODE=1, and without compiled
# bytecode pandas+statsmodels+seaborn import in ~10 s instead of ~3 s (measured, issue #2).
$(SYNCED): uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	@touch $@

env: $(SYNCED)

## Validate the raw data, write data/processed/, then build every fiscal year's reports in
## Japanese and English (each linking the other).
report: $(SYNCED)
	$(VENV)/bin/kpianalysis build

processed: $(SYNCED)
	$(VENV)/bin/kpianalysis process

validate: $(SYNCED)
	$(VENV)/bin/kpianalysis validate

## Lint, then the test suite in a random order fixed by SEED (printed; `make test SEED=7` to
## reproduce or vary it). Installs Chromium for the browser tests, and Slurm + MUNGE for the
## single-node cluster test, when run as root and missing.
SEED ?= 20240409
test: $(SYNCED) browser-deps slurm-deps
	$(VENV)/bin/ruff check src tests benchmarks notebooks
	@echo "make test: random test order, seed $(SEED) (rerun with: make test SEED=$(SEED))"
	$(RUN) -m pytest -p randomly -p no:cacheprovider --randomly-seed=$(SEED)

## The tests again with every partner fixture added to data/raw, in a copy of the project (the
## suite must not depend on what data/raw holds; run by CI after `make test`).
test-partners: $(SYNCED) browser-deps slurm-deps
	SEED=$(SEED) bash scripts/test-with-partners.sh

browser-deps:
	@bash scripts/ensure-browser.sh

slurm-deps:
	@bash scripts/ensure-slurm.sh

lab: $(SYNCED)
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

bench: $(SYNCED)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(RUN) $$b || exit 1; done

lint: $(SYNCED)
	$(VENV)/bin/ruff check src tests benchmarks notebooks

clean:
	rm -rf $(VENV) .tools .pytest_cache .ruff_cache
