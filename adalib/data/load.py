"""``load_candles``: the one entry point every notebook uses to get its candles."""

from __future__ import annotations

import warnings
from datetime import datetime
from pathlib import Path

import polars as pl

from adalib.data.binance import MarketDataError
from adalib.data.cache import DEFAULT_BINANCE_URL, DEFAULT_SYMBOL, cache_path, fetch, read_cache
from adalib.data.files import read_candle_file
from adalib.data.schema import CandleDataError, Candles
from adalib.data.synthetic import synthetic_candles
from adalib.util.paths import DATA_DIR, resolve
from adalib.util.timefmt import iso_z, utc_literal
from adalib.util.validate import ParameterError, check_symbol, check_window

SYNTHETIC_WARNING = (
    "SYNTHETIC DATA: no cached candles and Binance could not be reached, so this run uses "
    "a generated series. Its numbers say nothing about ADA. Import real candles with "
    "`make data SOURCE=path/to/candles.parquet` or fetch them with `make data`."
)


def _window(frame: pl.DataFrame, start: datetime | None, end: datetime | None) -> pl.DataFrame:
    if start is not None:
        frame = frame.filter(pl.col("open_time") >= utc_literal(start))
    if end is not None:
        frame = frame.filter(pl.col("open_time") < utc_literal(end))
    return frame


def load_candles(
    data_path: str | Path | None = "auto",
    *,
    symbol: str = DEFAULT_SYMBOL,
    binance_url: str = DEFAULT_BINANCE_URL,
    start: str | datetime | None = None,
    end: str | datetime | None = None,
    data_dir: Path = DATA_DIR,
) -> Candles:
    """Load validated 12h candles with ``start <= open_time < end``.

    ``data_path``: ``"auto"`` (the cache; fetch it if missing; synthetic with a
    warning if Binance is unreachable), ``"binance"`` (fetch, then the cache),
    ``"synthetic"``, or a parquet/CSV path (relative paths resolve against the
    repository root). ``symbol``, ``start`` and ``end`` are checked first
    (``ParameterError``); bad candles raise ``CandleDataError`` naming the file.

    >>> data = load_candles("synthetic", start="2021-01-01", end="2021-01-03")
    >>> data.source, data.frame.height
    ('synthetic', 4)
    >>> load_candles("synthetic", start="yesterday")
    Traceback (most recent call last):
    ...
    adalib.util.validate.ParameterError: parameter start: 'yesterday' is not an ISO 8601 date or datetime ...
    """
    symbol = check_symbol(symbol)
    start_at, end_at = check_window(start, end)
    if data_path is not None and not isinstance(data_path, str | Path):
        raise ParameterError("data_path", data_path, "must be 'auto', 'binance', 'synthetic' or a file path")
    warning = None
    key = str(data_path) if data_path is not None else "auto"
    if key == "synthetic":
        frame, source = synthetic_candles(), "synthetic"
    elif key in ("auto", "binance"):
        path = cache_path(symbol, data_dir)
        if key == "binance" or not path.exists():
            try:
                fetch(symbol, binance_url, data_dir=data_dir, retries=1, backoff=0.5)
            except (MarketDataError, OSError) as exc:
                if key == "binance":
                    raise
                warning = f"{SYNTHETIC_WARNING} (fetch failed: {exc})"
        if warning:
            warnings.warn(warning, stacklevel=2)
            frame, source = synthetic_candles(), "synthetic"
        else:
            frame, source = read_cache(symbol, data_dir), ("binance" if key == "binance" else "cache")
    else:
        path = resolve(key)
        frame, source = read_candle_file(path), str(data_path)
    windowed = _window(frame, start_at, end_at)
    if windowed.height == 0:
        span = (
            f"{iso_z(frame['open_time'][0])} .. {iso_z(frame['open_time'][-1])}" if frame.height else "none"
        )
        raise CandleDataError(source, f"no candles with {start} <= open_time < {end} (data covers {span})")
    return Candles(windowed, source, warning)
