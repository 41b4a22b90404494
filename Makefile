# evalkit — two commands: `make test` and `make reports`. Both build .venv from the lock first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONHASHSEED := 0
export OPENBLAS_NUM_THREADS := 1
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export MPLBACKEND := Agg
export TZ := UTC
export LC_ALL := C.UTF-8

.PHONY: help venv a11y-deps test test-slow test-all lint typecheck reports check-reports lock env-yml bench reference clean docs doctest

help:
	@echo "make test      create .venv from requirements.lock and run the fast tests, lint and type checks"
	@echo "make reports   create .venv and rebuild every report in reports/"
	@echo "make test-slow run the slow simulation studies"
	@echo "make lock      regenerate requirements.lock and environment.yml from pyproject.toml"
	@echo "make reference regenerate tests/reference/*.csv with R (needs r-cran-survival)"
	@echo "make bench     run the scale benchmarks in benchmarks/"
	@echo "make docs      build the documentation site into docs/_build/html (warnings are errors)"
	@echo "make doctest   run the Examples sections of every docstring in evalkit/"

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	# a venv left half-made (an interrupted run) has no pip: make it again
	$(BIN)/python -m pip --version >/dev/null 2>&1 || $(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy evalkit

# Node packages for the browser accessibility audit (axe-core driven through the Debian chromium).
a11y-deps: tools/a11y/node_modules/.package-lock.json

tools/a11y/node_modules/.package-lock.json: tools/a11y/package-lock.json
	npm ci --prefix tools/a11y --no-audit --no-fund --silent

test: lint typecheck a11y-deps
	$(BIN)/python -m pytest -q

test-slow: $(STAMP)
	# pytest exits 5 when no test is marked slow; that is not a failure
	$(BIN)/python -m pytest -q -m slow || test $$? -eq 5

test-all: test test-slow

# The documentation site: Sphinx with every warning an error (API pages generated from
# evalkit.__all__, the R crosswalk checked against tests/reference/).
docs: $(STAMP)
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html

# Every docstring example is a doctest.
doctest: $(STAMP)
	$(BIN)/python -m pytest -q --doctest-modules evalkit -p no:cacheprovider \
		--ignore=evalkit/report/templates

reports: $(STAMP)
	$(BIN)/evalkit build

check-reports: $(STAMP)
	$(BIN)/evalkit build --check

# Regenerate the lock (needs network access to PyPI) and the conda environment file from it.
lock:
	$(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv pip compile pyproject.toml --extra dev --python-version 3.11 \
		--no-header --annotation-style line -o requirements.lock
	$(PYTHON) tools/lock_to_environment.py requirements.lock environment.yml

env-yml:
	$(PYTHON) tools/lock_to_environment.py requirements.lock environment.yml

reference:
	Rscript tests/reference/survival_reference.R
	Rscript tests/reference/proportions_reference.R
	Rscript tests/reference/matching_reference.R
	Rscript tests/reference/timeseries_reference.R
	Rscript tests/reference/jdl_reference.R
	Rscript tests/reference/cohorts_reference.R
	Rscript tests/reference/cox_counting_reference.R

# The whole-pipeline benchmark (benchmarks/pipeline.py; not part of the tests): 1M people by
# default, 10M too with BENCH_SIZES="1e6 1e7" (about 25 minutes on 2 quiet cores; a smoke run,
# BENCH_SIZES=1e5, about a minute). Extracts missing from $EVALKIT_BENCH_DATA (default
# /tmp/evalkit-bench) are written first. Rewrites benchmarks/results.md and results.svg from
# every benchmarks/results/pipeline_n*.json; BENCH_ARGS passes options (e.g. --no-r, --reps 3).
# The per-module scripts benchmarks/bench_*.py run by hand.
BENCH_SIZES ?= 1e6
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python benchmarks/pipeline.py --sizes $(BENCH_SIZES) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
