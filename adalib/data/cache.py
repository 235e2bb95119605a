"""The gitignored candle cache ``data/{symbol}-12h.parquet`` and the two ways to fill it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from adalib.data.binance import TWELVE_HOURS_MS, fetch_funding_rates, fetch_klines
from adalib.data.files import read_candle_file
from adalib.data.schema import CANDLE_SCHEMA, CandleDataError, validate_candles
from adalib.util.artifacts import recover_artifact_set, write_artifact_set
from adalib.util.paths import DATA_DIR
from adalib.util.validate import check_output_dir, check_symbol, describe_os_error

DEFAULT_SYMBOL = "ADAUSDT"
DEFAULT_BINANCE_URL = "https://fapi.binance.com"
# ADAUSDT perpetual trading began on 2020-01-31; earlier requests return the first candles.
HISTORY_START = datetime(2019, 9, 1, tzinfo=UTC)


def cache_path(symbol: str = DEFAULT_SYMBOL, data_dir: Path = DATA_DIR) -> Path:
    """``data/{symbol}-12h.parquet``; the symbol is checked, so the path never leaves ``data_dir``.

    >>> cache_path("ADAUSDT", Path("data")).as_posix()
    'data/ADAUSDT-12h.parquet'
    """
    return Path(data_dir) / f"{check_symbol(symbol)}-12h.parquet"


def funding_cache_path(symbol: str = DEFAULT_SYMBOL, data_dir: Path = DATA_DIR) -> Path:
    """``data/{symbol}-funding.parquet``."""
    return Path(data_dir) / f"{check_symbol(symbol)}-funding.parquet"


def _read_cached(path: Path, what: str) -> pl.DataFrame:
    """Read a cache file after finishing any interrupted write of it; errors name the file."""
    recover_artifact_set(path.stem, path.parent)
    try:
        return pl.read_parquet(path)
    except FileNotFoundError:
        raise CandleDataError(str(path), f"no {what} cache (fill it with `make data`)") from None
    except OSError as exc:
        raise CandleDataError(str(path), f"cannot read the {what} cache: {describe_os_error(exc)}") from exc
    except pl.exceptions.PolarsError as exc:
        raise CandleDataError(
            str(path),
            f"corrupt {what} cache ({type(exc).__name__}: {exc}); "
            "delete it and fill it again with `make data`",
        ) from exc


def _write_cached(path: Path, frame: pl.DataFrame, symbol: str) -> None:
    """Replace a cache file atomically (a kill or a full disk leaves the previous file)."""
    write_artifact_set(path.stem, {path.name: frame}, folder=path.parent, tags={"symbol": symbol})


def read_cache(symbol: str = DEFAULT_SYMBOL, data_dir: Path = DATA_DIR) -> pl.DataFrame:
    """Read and validate the cached 12h candles (errors name the cache file)."""
    path = cache_path(symbol, data_dir)
    raw = _read_cached(path, "candle")
    missing = [c for c in CANDLE_SCHEMA if c not in raw.columns]
    if missing:
        raise CandleDataError(str(path), f"corrupt candle cache: missing column(s) {missing}")
    try:
        frame = raw.select([pl.col(c).cast(t) for c, t in CANDLE_SCHEMA.items()])
    except pl.exceptions.PolarsError as exc:
        raise CandleDataError(str(path), f"corrupt candle cache: {type(exc).__name__}: {exc}") from exc
    validate_candles(frame, str(path))
    return frame


def import_file(source: str | Path, symbol: str = DEFAULT_SYMBOL, data_dir: Path = DATA_DIR) -> Path:
    """Build the cache from a local candle file (validated and resampled first; bad input writes nothing)."""
    path = cache_path(symbol, data_dir)
    check_output_dir("data_dir", data_dir, resolver=Path)
    frame = read_candle_file(source)
    _write_cached(path, frame, symbol)
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
    check_output_dir("data_dir", data_dir, resolver=Path)
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
        _write_cached(path, frame, symbol)
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
    check_output_dir("data_dir", data_dir, resolver=Path)
    cached = _read_cached(path, "funding") if path.exists() else None
    if cached is not None and cached.height:
        start_ms = int(cached["funding_time"].dt.epoch("ms")[-1]) + 1
    else:
        start_ms = int(HISTORY_START.timestamp() * 1000)
    new = fetch_funding_rates(binance_url, symbol, start_ms=start_ms, **kwargs)
    frame = new if cached is None else pl.concat([cached, new]).unique("funding_time").sort("funding_time")
    _write_cached(path, frame, symbol)
    return path
