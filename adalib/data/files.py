"""Read candle files (parquet or CSV) in the layouts CONTRACT.md section 1 accepts.

Rows are numbered from 0 (the first candle); for CSV files the message also gives the line of the
file (from 1, the header included), so a repeated header or trailing junk is found at once.
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import NoReturn

import polars as pl

from adalib.data.resample import to_12h
from adalib.data.schema import CANDLE_SCHEMA, TIME, CandleDataError, validate_candles
from adalib.util.validate import describe_os_error

KLINE_COLUMNS = (
    "open_time", "open", "high", "low", "close", "volume", "close_time",
    "quote_volume", "count", "taker_buy_volume", "taker_buy_quote_volume", "ignore",
)  # fmt: skip
VALUE_COLUMNS = ("open", "high", "low", "close", "volume")
HEADER_WORDS = {"open_time", "timestamp", "open time", "time", "date", "datetime"}
# Epoch integers by size (instants between 1973 and 5138): below 1e11 seconds, below 1e14
# milliseconds (Binance's kline layout), below 1e17 microseconds (Binance's newer spot archives),
# else nanoseconds.
UNIT_NAMES = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}


class RowNames:
    """How to name row ``i`` of a file: ``row i`` and, for CSV, ``line n``.

    >>> RowNames(2)(5), RowNames(None)(5)
    ('row 5 (line 7)', 'row 5')
    """

    def __init__(self, first_line: int | None) -> None:
        self.first_line = first_line

    def __call__(self, row: int) -> str:
        return f"row {row}" if self.first_line is None else f"row {row} (line {row + self.first_line})"


def _check_path(path: Path, source: str) -> None:
    try:
        info = path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise CandleDataError(source, "a symlink loop, not a candle file") from None
        if path.is_symlink():
            raise CandleDataError(source, "a broken symlink (file not found)") from None
        if exc.errno == errno.ENOENT:
            raise CandleDataError(source, "file not found") from None
        raise CandleDataError(source, f"cannot be read: {describe_os_error(exc)}") from None
    if path.is_dir():
        raise CandleDataError(source, "a folder, not a candle file (expected a .parquet or .csv file)")
    if not path.is_file():
        raise CandleDataError(source, "not a regular file")
    if info.st_size == 0:
        raise CandleDataError(source, "empty file")


def read_table(path: Path) -> tuple[pl.DataFrame, RowNames]:
    """A parquet or CSV file as a frame (CSV: all text), and how to name its rows in messages.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text("a,b\\n1,x\\n")
    >>> frame, rows = read_table(p)
    >>> frame.rows(), rows(0)
    ([('1', 'x')], 'row 0 (line 2)')
    """
    source = str(path)
    _check_path(path, source)
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pl.read_parquet(path), RowNames(None)
        if suffix in (".csv", ".txt"):
            with path.open(encoding="utf-8-sig", errors="replace") as handle:  # a BOM is not data
                first = handle.readline()
            has_header = not first.split(",")[0].strip().lstrip("-").isdigit()
            df = pl.read_csv(path, has_header=has_header, infer_schema=False, truncate_ragged_lines=True)
            if not has_header:  # Binance archive exports come without a header row
                df = df.rename(dict(zip(df.columns, KLINE_COLUMNS, strict=False)))
            last = df.select(pl.any_horizontal(pl.all().is_not_null()).arg_true().max()).item()
            rows = RowNames(2 if has_header else 1)
            return df.head(0 if last is None else last + 1), rows  # without trailing blank lines
    except pl.exceptions.PolarsError as exc:
        raise CandleDataError(source, f"unreadable file ({type(exc).__name__}: {exc})") from exc
    except OSError as exc:
        raise CandleDataError(source, f"cannot be read: {describe_os_error(exc)}") from exc
    raise CandleDataError(source, f"unknown file type '{suffix}' (expected .parquet or .csv)")


def _bad_row(df: pl.DataFrame, name: str, bad: pl.Series, rows: RowNames, source: str, what: str) -> NoReturn:
    """Raise for the first ``bad`` row: a repeated header or trailing junk (judged by the time column),
    else an unparsable value."""
    row = int(bad.arg_max())  # type: ignore[arg-type]
    value = df[name][row]
    if value is None or str(value).strip() == "":
        raise CandleDataError(source, f"column '{name}': empty value at {rows(row)}")
    text = str(value).strip()
    if what == "time" and (text.lower() in HEADER_WORDS or text == name):
        raise CandleDataError(source, f"a repeated header row at {rows(row)}: {text!r}")
    if what == "time" and bad.slice(row).all():
        raise CandleDataError(
            source, f"trailing junk from {rows(row)} to the end ({bad.len() - row} line(s)), first {text!r}"
        )
    raise CandleDataError(source, f"column '{name}': unparsable {what} {value!r} at {rows(row)}")


def _epoch_unit(values: pl.Series, rows: RowNames, source: str, name: str) -> str:
    """The unit of epoch integers: ms or us; seconds, nanoseconds and mixtures are refused."""
    size = values.abs()
    unit = pl.select(
        pl.when(size < 1e11).then(pl.lit("s"))
        .when(size < 1e14).then(pl.lit("ms"))
        .when(size < 1e17).then(pl.lit("us"))
        .otherwise(pl.lit("ns"))
    ).to_series()  # fmt: skip
    first = str(unit[0])
    other = unit != first
    if other.any():
        row = int(other.arg_max())  # type: ignore[arg-type]
        raise CandleDataError(
            source,
            f"column '{name}': mixed epoch units: {values[row]} at {rows(row)} looks like "
            f"{UNIT_NAMES[str(unit[row])]}, {values[0]} at {rows(0)} like {UNIT_NAMES[first]}",
        )
    if first in ("s", "ns"):
        raise CandleDataError(
            source,
            f"column '{name}': epoch times look like {UNIT_NAMES[first]} ({values[0]} at {rows(0)}); "
            "they must be milliseconds (microseconds are recognised too)",
        )
    return first


def parse_instants(df: pl.DataFrame, name: str, rows: RowNames, source: str) -> pl.Series:
    """Column ``name`` as ``Datetime("ms", "UTC")``: datetimes, ISO strings or epoch ms/us integers.

    >>> frame = pl.DataFrame({"t": ["1704067200000", "1704070800000"]})
    >>> parse_instants(frame, "t", RowNames(2), "x.csv").dt.hour().to_list()
    [0, 1]
    """
    col = df[name]
    if isinstance(col.dtype, pl.Datetime):
        parsed = col.dt.replace_time_zone("UTC") if col.dtype.time_zone is None else col
        return parsed.dt.convert_time_zone("UTC").cast(TIME)
    if col.dtype == pl.Date:
        return col.cast(pl.Datetime("ms")).dt.replace_time_zone("UTC")
    text = col.cast(pl.String).str.strip_chars()
    as_int = text.cast(pl.Int64, strict=False)
    as_time = (
        None
        if as_int.null_count() == 0
        else text.str.to_datetime(time_zone="UTC", strict=False, time_unit="ms")
    )
    if as_time is None or as_int.null_count() <= as_time.null_count():  # epoch integers (the kline layout)
        if as_int.null_count():
            _bad_row(df, name, as_int.is_null(), rows, source, "time")
        unit = _epoch_unit(as_int, rows, source, name)
        epoch = pl.from_epoch(as_int, time_unit="us" if unit == "us" else "ms")
        return epoch.cast(pl.Datetime("ms")).dt.replace_time_zone("UTC")
    if as_time.null_count():
        _bad_row(df, name, as_time.is_null(), rows, source, "time")
    return as_time.cast(TIME)


def parse_numbers(df: pl.DataFrame, name: str, rows: RowNames, source: str) -> pl.Series:
    """Column ``name`` as ``Float64`` (text is parsed; an unparsable value names its row).

    >>> parse_numbers(pl.DataFrame({"v": ["1.5", "x", "2"]}), "v", RowNames(2), "x.csv")
    Traceback (most recent call last):
    ...
    adalib.data.schema.CandleDataError: x.csv: column 'v': unparsable number 'x' at row 1 (line 3)
    """
    col = df[name]
    if col.dtype == pl.String:
        cleaned = col.str.strip_chars()
        value = cleaned.cast(pl.Float64, strict=False)
        bad = value.is_null() & cleaned.is_not_null() & (cleaned != "")
        if bad.any():
            _bad_row(df, name, bad, rows, source, "number")
        return value
    if col.dtype.is_numeric():
        return col.cast(pl.Float64)
    raise CandleDataError(source, f"column '{name}': expected numbers, got {col.dtype}")


def _parse_time(df: pl.DataFrame, rows: RowNames, source: str) -> pl.Series:
    name = "open_time" if "open_time" in df.columns else "timestamp" if "timestamp" in df.columns else None
    if name is None:
        raise CandleDataError(source, f"missing column 'open_time' or 'timestamp'; have {df.columns}")
    return parse_instants(df, name, rows, source).alias("open_time")


def _parse_values(df: pl.DataFrame, rows: RowNames, source: str) -> list[pl.Series]:
    missing = [c for c in VALUE_COLUMNS if c not in df.columns]
    if missing:
        raise CandleDataError(source, f"missing column(s) {missing}; have {df.columns}")
    return [parse_numbers(df, name, rows, source).alias(name) for name in VALUE_COLUMNS]


def read_candle_file(path: str | Path) -> pl.DataFrame:
    """Read, validate and resample a candle file to the 12h candle frame.

    Accepts the Binance kline layout (``open_time`` in epoch ms or us, with or without a
    header, a UTF-8 byte-order mark ignored) or a datetime column ``open_time``/``timestamp``
    plus OHLCV, at any interval dividing 12h. Incomplete 12h buckets at either end are dropped.
    Raises ``CandleDataError`` naming the file, the row or column, and the problem.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "k.csv"
    >>> _ = p.write_text("1672531200,1,1,1,1,1\\n1672534800,1,1,1,1,1\\n")
    >>> read_candle_file(p)
    Traceback (most recent call last):
    ...
    adalib.data.schema.CandleDataError: ...k.csv: column 'open_time': epoch times look like seconds ...
    """
    path = Path(path)
    source = str(path)
    raw, rows = read_table(path)
    if raw.height == 0:
        raise CandleDataError(source, "no rows")
    frame = pl.DataFrame([_parse_time(raw, rows, source), *_parse_values(raw, rows, source)])
    interval = validate_candles(frame, source)
    candles = to_12h(frame, interval)
    if candles.height == 0:
        raise CandleDataError(source, f"no complete 12h candle in {frame.height} candles of {interval}")
    return candles.select([pl.col(c).cast(t) for c, t in CANDLE_SCHEMA.items()])
