"""Shared fixtures: generated candles always; the real data only where it exists."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import polars as pl
import pytest

from adalib.data import cache_path, data_sha256, read_cache
from adalib.util.paths import OUTPUT_ROOT_ENV, REPO_ROOT

SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
# The data the committed notebooks were executed on: the cache imported from the shared
# ../shared/data/ADAUSDT-1h.parquet (4441 candles, 2020-01-31T12:00Z .. 2026-02-28T12:00Z).
REPORTS_DATA_SHA256 = "9552c7738db54d0bcd0a91a80bf498e080aae96dab203e0585d3ff62ad07775b"


def pytest_configure(config: pytest.Config) -> None:
    """Notebooks re-executed by nbval write their outputs to a temporary folder, not the repo."""
    os.environ.setdefault(OUTPUT_ROOT_ENV, tempfile.mkdtemp(prefix="adalib-test-outputs-"))


def nbval_skip_reason() -> str | None:
    """Why the committed notebooks cannot be re-checked here, or None when they can."""
    path = cache_path()
    if not path.exists():
        return f"nbval: the reports ran on real data, and {path.relative_to(REPO_ROOT)} is not cached here"
    found = data_sha256(read_cache())
    if found != REPORTS_DATA_SHA256:
        return f"nbval: the cache holds other data (sha256 {found[:12]}) than the reports ran on"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    notebook_cells = [item for item in items if item.path.suffix == ".ipynb"]
    reason = nbval_skip_reason() if notebook_cells else None
    for item in notebook_cells if reason else []:
        item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def real_candles() -> pl.DataFrame:
    """The cached real ADAUSDT 12h candles; skips (visibly) on a clone without the cache."""
    path = cache_path()
    if not path.exists():
        pytest.skip(f"real data not cached ({path.relative_to(REPO_ROOT)} missing; `make data` fills it)")
    return read_cache()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared reference candle files; skips where ../shared/data is not beside the repo."""
    if not (SHARED_DATA / "ADAUSDT-1h.parquet").exists():
        pytest.skip(f"shared reference data not found at {SHARED_DATA}")
    return SHARED_DATA
