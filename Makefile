# Two entry points for a fresh machine (see README): `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

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

lint: install
	$(VENV)/bin/ruff check adalib tests benchmarks notebooks
