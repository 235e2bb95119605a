"""Hand-made candle frames for the backtest rule tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

H12 = timedelta(hours=12)
JAN1 = datetime(2024, 1, 1, tzinfo=UTC)


def candles(rows: list[tuple[float, float, float, float]], signals: list[int], start: datetime = JAN1):
    """12h candles from (open, high, low, close) tuples and the signals s_t."""
    return pl.DataFrame(
        {
            "open_time": [start + i * H12 for i in range(len(rows))],
            "open": [r[0] for r in rows],
            "high": [r[1] for r in rows],
            "low": [r[2] for r in rows],
            "close": [r[3] for r in rows],
            "direction": signals,
        },
        schema_overrides={"open_time": pl.Datetime("ms", "UTC"), "direction": pl.Int8},
    )


def approx(x: float) -> object:
    return pytest.approx(x, rel=1e-12, abs=1e-9)
