"""The backtest's input frame, checked once and handed to the engines as numpy arrays.

>>> from adalib.backtest.engine import demo_frame
>>> c = candle_arrays(demo_frame())
>>> c.step_ms, c.close[:2].tolist(), c.signals["direction"].tolist()
(43200000, [1.02, 1.05], [1, 1, 0, -1, -1, 1])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from adalib.backtest.config import BacktestError

PRICES = ("open", "high", "low", "close")
FRAME_COLUMNS = ("open_time", *PRICES, "direction")


@dataclass(frozen=True)
class CandleArrays:
    """``open_ms`` (epoch ms), the four price arrays, the candle length and the checked signals
    (Int8 arrays by column name)."""

    open_ms: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    step_ms: int
    signals: dict[str, np.ndarray]

    @property
    def n(self) -> int:
        return int(self.open_ms.size)


def candle_arrays(
    frame: pl.DataFrame, directions: tuple[str, ...] = ("direction",), forecasts: tuple[str, ...] = ()
) -> CandleArrays:
    """Check ``frame`` (``open_time`` and prices, the integer signal columns ``directions``, the float
    ``forecasts``) and return its arrays. Raises ``BacktestError`` naming the column and the first bad row.
    """
    have = frame.columns
    missing = [c for c in (*FRAME_COLUMNS[:5], *directions, *forecasts) if c not in have]
    if missing:
        raise BacktestError(f"frame: missing column(s) {missing}; have {frame.columns}")
    if frame.height < 2:
        raise BacktestError(f"frame: need at least 2 candles, got {frame.height}")
    times = frame.get_column("open_time")
    if not isinstance(times.dtype, pl.Datetime):
        raise BacktestError(f"frame column 'open_time': expected a Datetime, got {times.dtype}")
    open_ms = epoch_ms(times)
    prices = {}
    for name in PRICES:
        column = frame.get_column(name)
        dtype = column.dtype
        if not dtype.is_numeric():
            raise BacktestError(f"frame column '{name}': expected numbers, got {dtype}")
        values = (column if dtype == pl.Float64 else column.cast(pl.Float64)).to_numpy()  # null: NaN
        if not (values.min() > 0 and values.max() < np.inf):  # (a NaN fails the first test)
            bad = ~(values > 0) | ~np.isfinite(values)
            raise BacktestError(
                f"frame column '{name}': null, NaN or non-positive price at row {int(bad.argmax())}"
            )
        prices[name] = values
    steps = np.diff(open_ms)
    shortest = steps.min()
    if shortest <= 0 or shortest != steps.max():
        raise BacktestError("frame column 'open_time': times must be ascending and evenly spaced (no gaps)")
    signals = {name: check_direction(frame, name) for name in directions}
    for name in forecasts:
        values = frame[name].cast(pl.Float64).to_numpy()
        bad = ~np.isfinite(values)
        if bad.any():
            raise BacktestError(f"frame column '{name}': null or NaN forecast at row {int(bad.argmax())}")
        signals[name] = values
    return CandleArrays(open_ms, **prices, step_ms=int(shortest), signals=signals)


def epoch_ms(times: pl.Series) -> np.ndarray:
    """Epoch milliseconds of a Datetime column (naive times are UTC; the physical value is UTC anyway).

    >>> from datetime import datetime
    >>> epoch_ms(pl.Series([datetime(1970, 1, 1, 0, 0, 1)])).tolist()
    [1000]
    """
    physical = times.to_numpy()
    if physical.dtype.kind == "M":
        physical = physical.astype("datetime64[ms]", copy=False).view(np.int64)
    return physical


def check_direction(frame: pl.DataFrame, name: str) -> np.ndarray:
    """The signal column ``name`` as an Int8 array, after checking it holds only -1, 0 and 1.

    >>> check_direction(pl.DataFrame({"s": [1, 0, -1]}), "s").tolist()
    [1, 0, -1]
    """
    column = frame.get_column(name)
    if not column.dtype.is_integer():
        raise BacktestError(
            f"frame column '{name}': expected an integer signal (-1, 0, 1), got {column.dtype}"
        )
    nulls = column.null_count()
    values = column.fill_null(2).to_numpy() if nulls else column.to_numpy()
    if values.size and (values.min() < -1 or values.max() > 1):
        row = int(((values < -1) | (values > 1)).argmax())
        raise BacktestError(f"frame column '{name}': values must be -1, 0 or 1 (no nulls); bad row {row}")
    return values if values.dtype == np.int8 else values.astype(np.int8)
