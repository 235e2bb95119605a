"""Shared fixtures: generated candles always; the real data only where it exists."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from adalib.data import cache_path, read_cache
from adalib.paths import REPO_ROOT

SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


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
