"""Read candle files (parquet or CSV) in the layouts CONTRACT.md section 1 accepts."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from adalib.data.resample import to_12h
from adalib.data.schema import CANDLE_SCHEMA, TIME, CandleDataError, validate_candles

KLINE_COLUMNS = (
    "open_time", "open", "high", "low", "close", "volume", "close_time",
    "quote_volume", "count", "taker_buy_volume", "taker_buy_quote_volume", "ignore",
)  # fmt: skip
VALUE_COLUMNS = ("open", "high", "low", "close", "volume")


def _read_raw(path: Path) -> pl.DataFrame:
    source = str(path)
    if not path.exists():
        raise CandleDataError(source, "file not found")
    if path.stat().st_size == 0:
        raise CandleDataError(source, "empty file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pl.read_parquet(path)
        if suffix in (".csv", ".txt"):
            first = path.open(encoding="utf-8", errors="replace").readline()
            has_header = not first.split(",")[0].strip().lstrip("-").isdigit()
            df = pl.read_csv(path, has_header=has_header, infer_schema=False)
            if not has_header:  # Binance archive exports come without a header row
                df = df.rename(dict(zip(df.columns, KLINE_COLUMNS, strict=False)))
            return df
    except pl.exceptions.PolarsError as exc:
        raise CandleDataError(source, f"unreadable file ({type(exc).__name__}: {exc})") from exc
    raise CandleDataError(source, f"unknown file type '{suffix}' (expected .parquet or .csv)")


def _parse_time(df: pl.DataFrame, source: str) -> pl.Series:
    name = "open_time" if "open_time" in df.columns else "timestamp" if "timestamp" in df.columns else None
    if name is None:
        raise CandleDataError(source, f"missing column 'open_time' or 'timestamp'; have {df.columns}")
    col = df[name]
    if isinstance(col.dtype, pl.Datetime):
        parsed = col.dt.replace_time_zone("UTC") if col.dtype.time_zone is None else col
        return parsed.dt.convert_time_zone("UTC").cast(TIME).alias("open_time")
    if col.dtype == pl.Date:
        return col.cast(pl.Datetime("ms")).dt.replace_time_zone("UTC").alias("open_time")
    text = col.cast(pl.String).str.strip_chars()
    as_int = text.cast(pl.Int64, strict=False)
    if as_int.null_count() == 0:
        # Epoch integers: Binance uses ms; its newer spot archives use microseconds.
        unit = "us" if as_int.abs().max() > 10**14 else "ms"
        return (
            pl.from_epoch(as_int, time_unit=unit)
            .cast(pl.Datetime("ms"))
            .dt.replace_time_zone("UTC")
            .alias("open_time")
        )
    parsed = text.str.to_datetime(time_zone="UTC", strict=False, time_unit="ms")
    bad = parsed.is_null() & col.is_not_null()
    if bad.any() or col.is_null().any():
        row = int((bad | col.is_null()).arg_max())
        raise CandleDataError(source, f"column '{name}': unparsable time {col[row]!r} at row {row}")
    return parsed.cast(TIME).alias("open_time")


def _parse_values(df: pl.DataFrame, source: str) -> list[pl.Series]:
    missing = [c for c in VALUE_COLUMNS if c not in df.columns]
    if missing:
        raise CandleDataError(source, f"missing column(s) {missing}; have {df.columns}")
    out = []
    for name in VALUE_COLUMNS:
        col = df[name]
        if col.dtype == pl.String:
            cleaned = col.str.strip_chars()
            value = cleaned.cast(pl.Float64, strict=False)
            bad = value.is_null() & cleaned.is_not_null() & (cleaned != "")
            if bad.any():
                row = int(bad.arg_max())
                raise CandleDataError(source, f"column '{name}': unparsable number {col[row]!r} at row {row}")
        elif col.dtype.is_numeric():
            value = col.cast(pl.Float64)
        else:
            raise CandleDataError(source, f"column '{name}': expected numbers, got {col.dtype}")
        out.append(value.alias(name))
    return out


def read_candle_file(path: str | Path) -> pl.DataFrame:
    """Read, validate and resample a candle file to the 12h candle frame.

    Accepts the Binance kline layout (``open_time`` in epoch ms, with or without a
    header) or a datetime column ``open_time``/``timestamp`` plus OHLCV, at any
    interval dividing 12h. Incomplete 12h buckets at either end are dropped.
    Raises ``CandleDataError`` naming the file, the column and the problem.
    """
    path = Path(path)
    source = str(path)
    raw = _read_raw(path)
    if raw.height == 0:
        raise CandleDataError(source, "no rows")
    frame = pl.DataFrame([_parse_time(raw, source), *_parse_values(raw, source)])
    interval = validate_candles(frame, source)
    candles = to_12h(frame, interval)
    if candles.height == 0:
        raise CandleDataError(source, f"no complete 12h candle in {frame.height} candles of {interval}")
    return candles.select([pl.col(c).cast(t) for c, t in CANDLE_SCHEMA.items()])
