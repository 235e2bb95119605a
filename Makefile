# Two entry points for a fresh machine (see README): `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Benchmarks get their own venv: vectorbt (and the pandas it pulls) never enter the main one.
BENCH_VENV := benchmarks/.venv
BENCH_STAMP := $(BENCH_VENV)/.installed

.PHONY: install run test data lint bench

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) -m adalib.pipeline

test: install
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

lint: install
	$(VENV)/bin/ruff check adalib tests benchmarks notebooks
