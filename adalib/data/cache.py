"""The gitignored candle cache ``data/{symbol}-12h.parquet`` and the two ways to fill it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from adalib.data.binance import TWELVE_HOURS_MS, fetch_funding_rates, fetch_klines
from adalib.data.files import read_candle_file
from adalib.data.schema import CANDLE_SCHEMA, CandleDataError, validate_candles
from adalib.util.atomic import write_atomic
from adalib.util.paths import DATA_DIR

DEFAULT_SYMBOL = "ADAUSDT"
DEFAULT_BINANCE_URL = "https://fapi.binance.com"
# ADAUSDT perpetual trading began on 2020-01-31; earlier requests return the first candles.
HISTORY_START = datetime(2019, 9, 1, tzinfo=UTC)


def cache_path(symbol: str = DEFAULT_SYMBOL, data_dir: Path = DATA_DIR) -> Path:
    """``data/{symbol}-12h.parquet``."""
    return Path(data_dir) / f"{symbol}-12h.parquet"


def funding_cache_path(symbol: str = DEFAULT_SYMBOL, data_dir: Path = DATA_DIR) -> Path:
    """``data/{symbol}-funding.parquet``."""
    return Path(data_dir) / f"{symbol}-funding.parquet"


def read_cache(symbol: str = DEFAULT_SYMBOL, data_dir: Path = DATA_DIR) -> pl.DataFrame:
    """Read and validate the cached 12h candles."""
    path = cache_path(symbol, data_dir)
    frame = pl.read_parquet(path).select([pl.col(c).cast(t) for c, t in CANDLE_SCHEMA.items()])
    validate_candles(frame, str(path))
    return frame


def import_file(source: str | Path, symbol: str = DEFAULT_SYMBOL, data_dir: Path = DATA_DIR) -> Path:
    """Build the cache from a local candle file (validated and resampled first)."""
    frame = read_candle_file(source)
    path = cache_path(symbol, data_dir)
    write_atomic(path, frame.write_parquet)
    return path


def fetch(
    symbol: str = DEFAULT_SYMBOL,
    binance_url: str = DEFAULT_BINANCE_URL,
    *,
    end: datetime | None = None,
    data_dir: Path = DATA_DIR,
    **kwargs: Any,
) -> Path:
    """Download 12h klines into the cache; with a cache, only the candles after its last one."""
    path = cache_path(symbol, data_dir)
    cached = read_cache(symbol, data_dir) if path.exists() else None
    if cached is not None and cached.height:
        start_ms = int(cached["open_time"].dt.epoch("ms")[-1]) + TWELVE_HOURS_MS
    else:
        start_ms = int(HISTORY_START.timestamp() * 1000)
    end_ms = int(end.timestamp() * 1000) if end is not None else None
    new = fetch_klines(binance_url, symbol, start_ms=start_ms, end_ms=end_ms, **kwargs)
    frame = new if cached is None else pl.concat([cached, new])
    if frame.height == 0:
        raise CandleDataError(f"{binance_url}/fapi/v1/klines", f"no klines for {symbol}")
    validate_candles(frame, f"{path} (+ {new.height} candles from {binance_url})")
    if cached is None or new.height:
        write_atomic(path, frame.write_parquet)
    return path


def fetch_funding(
    symbol: str = DEFAULT_SYMBOL,
    binance_url: str = DEFAULT_BINANCE_URL,
    *,
    data_dir: Path = DATA_DIR,
    **kwargs: Any,
) -> Path:
    """Download the funding-rate history into ``data/{symbol}-funding.parquet`` (incrementally)."""
    path = funding_cache_path(symbol, data_dir)
    cached = pl.read_parquet(path) if path.exists() else None
    if cached is not None and cached.height:
        start_ms = int(cached["funding_time"].dt.epoch("ms")[-1]) + 1
    else:
        start_ms = int(HISTORY_START.timestamp() * 1000)
    new = fetch_funding_rates(binance_url, symbol, start_ms=start_ms, **kwargs)
    frame = new if cached is None else pl.concat([cached, new]).unique("funding_time").sort("funding_time")
    write_atomic(path, frame.write_parquet)
    return path
