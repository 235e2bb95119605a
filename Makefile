# Two entry points for a fresh machine (see README): `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Benchmarks get their own venv: vectorbt (and the pandas it pulls) never enter the main one.
BENCH_VENV := benchmarks/.venv
BENCH_STAMP := $(BENCH_VENV)/.installed

.PHONY: install run refresh test data lint typecheck bench

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Reports into reports/ (gitignored), artifacts and weights into artifacts/: the tree stays clean.
run: install
	$(PY) -m adalib.pipeline

# On purpose: re-execute the committed notebooks and model_weights.pth in place.
refresh: install
	$(PY) -m adalib.pipeline --in-place

# Lint and type check first, so CI runs them with the tests.
test: lint typecheck
	$(PY) -m pytest

data: install
ifdef SOURCE
	$(PY) -m adalib.data import $(SOURCE)
else
	$(PY) -m adalib.data fetch
endif

$(BENCH_STAMP): pyproject.toml
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[bench]'
	touch $(BENCH_STAMP)

bench: install $(BENCH_STAMP)
	$(PY) benchmarks/bench_walkforward.py
	$(PY) benchmarks/bench_backtest.py
	$(BENCH_VENV)/bin/python benchmarks/bench_vs_vectorbt.py

LINT_PATHS := adalib tests benchmarks notebooks

lint: install
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)

# mypy's targets and options are in pyproject.toml ([tool.mypy] packages = ["adalib"])
typecheck: install
	$(VENV)/bin/mypy
