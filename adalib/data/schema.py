"""The candle frame: its schema, its validation and its fingerprint (CONTRACT.md section 1)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

import polars as pl

from adalib.util.timefmt import iso_z

TIME = pl.Datetime("ms", "UTC")
PRICE_COLUMNS = ("open", "high", "low", "close")
CANDLE_SCHEMA: dict[str, pl.DataType] = {
    "open_time": TIME,
    "open": pl.Float64(),
    "high": pl.Float64(),
    "low": pl.Float64(),
    "close": pl.Float64(),
    "volume": pl.Float64(),
}
TWELVE_HOURS = timedelta(hours=12)


class CandleDataError(ValueError):
    """Bad candle input: the message names the file, the field and the problem.

    >>> str(CandleDataError("data/x.csv", "column 'close': NaN at row 3"))
    "data/x.csv: column 'close': NaN at row 3"
    """

    def __init__(self, source: str, problem: str) -> None:
        self.source = source
        self.problem = problem
        super().__init__(f"{source}: {problem}")


def _first_row(df: pl.DataFrame, mask: pl.Expr) -> str:
    index = df.with_row_index("_row").filter(mask)
    row = index.row(0, named=True)
    when = row.get("open_time")
    at = f" at {iso_z(when)}" if when is not None else ""
    return f"{index.height} row(s), first row {row['_row']}{at}"


# Sanity bounds: far above any listed USDT-M contract (the largest price is about 1e5 USDT, the largest
# 12h base volume about 1e13 units), far below float overflow, so sums and products stay finite.
MAX_PRICE = 1e9
MAX_VOLUME = 1e18


def validate_values(df: pl.DataFrame, source: str) -> None:
    """Check prices and volume: finite, prices in (0, 1e9], volume in [0, 1e18], OHLC consistent.

    >>> import polars as pl
    >>> f = pl.DataFrame({"open": [1.0], "high": [float("inf")], "low": [1.0], "close": [1.0],
    ...                   "volume": [1.0]})
    >>> validate_values(f, "x.csv")
    Traceback (most recent call last):
    ...
    adalib.data.schema.CandleDataError: x.csv: column 'high': infinite value in 1 row(s), first row 0
    """
    for name in (*PRICE_COLUMNS, "volume"):
        bad = pl.col(name).is_null() | pl.col(name).is_nan()
        if df.select(bad.any()).item():
            raise CandleDataError(source, f"column '{name}': null or NaN in {_first_row(df, bad)}")
        bad = pl.col(name).is_infinite()
        if df.select(bad.any()).item():
            raise CandleDataError(source, f"column '{name}': infinite value in {_first_row(df, bad)}")
    for name in PRICE_COLUMNS:
        bad = pl.col(name) <= 0
        if df.select(bad.any()).item():
            raise CandleDataError(source, f"column '{name}': non-positive price in {_first_row(df, bad)}")
        bad = pl.col(name) > MAX_PRICE
        if df.select(bad.any()).item():
            raise CandleDataError(
                source,
                f"column '{name}': price above the sanity bound {MAX_PRICE:g} in {_first_row(df, bad)}",
            )
    bad = pl.col("volume") < 0
    if df.select(bad.any()).item():
        raise CandleDataError(source, f"column 'volume': negative volume in {_first_row(df, bad)}")
    bad = pl.col("volume") > MAX_VOLUME
    if df.select(bad.any()).item():
        raise CandleDataError(
            source, f"column 'volume': volume above the sanity bound {MAX_VOLUME:g} in {_first_row(df, bad)}"
        )
    bad = pl.col("high") < pl.max_horizontal("open", "close")
    if df.select(bad.any()).item():
        raise CandleDataError(source, f"column 'high': high < max(open, close) in {_first_row(df, bad)}")
    bad = pl.col("low") > pl.min_horizontal("open", "close")
    if df.select(bad.any()).item():
        raise CandleDataError(source, f"column 'low': low > min(open, close) in {_first_row(df, bad)}")


def _interval_change(steps: pl.Series, base_ms: int) -> tuple[int, int, int] | None:
    """The first change of spacing, ``(step index, before_ms, after_ms)``, in a file of two intervals.

    A gap is an isolated longer step (or two in a row); a change of interval is a run of equal
    steps other than the smallest one that is either at least three long, or two long at an end of
    the file (e.g. 4h candles, then 1h candles).
    """
    runs = (
        pl.DataFrame({"step": steps})
        .with_row_index("row")
        .group_by(pl.col("step").rle_id().alias("run"), maintain_order=True)
        .agg(pl.col("row").first(), pl.col("step").first(), pl.len().alias("n"))
    )
    at_end = (pl.col("run") == 0) | (pl.col("run") == runs.height - 1)
    other = (pl.col("step") != base_ms) & ((pl.col("n") >= 3) | ((pl.col("n") >= 2) & at_end))
    found = runs.filter(other)
    if found.height == 0 or runs.height < 2:
        return None
    first = found.row(0, named=True)
    if first["run"] == 0:  # the file starts in the other interval: the change is where it ends
        after = runs.row(1, named=True)
        return int(after["row"]), int(first["step"]), int(after["step"])
    before = runs.row(int(first["run"]) - 1, named=True)
    return int(first["row"]), int(before["step"]), int(first["step"])


def infer_interval(df: pl.DataFrame, source: str) -> timedelta:
    """Check times are unique, ascending, evenly spaced and return the spacing.

    The spacing is the smallest step; any larger step is a gap, reported with the first missing
    candle, unless the file changes interval (a run of other steps), which is reported as such.
    The spacing must divide 12h and candles must be aligned to it.
    """
    if df.height < 2:
        raise CandleDataError(source, f"column 'open_time': need at least 2 candles, got {df.height}")
    dup = pl.col("open_time").diff() == pl.duration(milliseconds=0)
    if df.select(dup.any()).item():
        raise CandleDataError(source, f"column 'open_time': duplicate times in {_first_row(df, dup)}")
    back = pl.col("open_time").diff() < pl.duration(milliseconds=0)
    if df.select(back.any()).item():
        raise CandleDataError(
            source, f"column 'open_time': times not sorted ascending in {_first_row(df, back)}"
        )
    steps = df.select(step=pl.col("open_time").diff().dt.total_milliseconds()).to_series().slice(1)
    step_ms = int(steps.min())  # type: ignore[arg-type]
    change = _interval_change(steps, step_ms)
    if change is not None:
        row, before, after = change
        raise CandleDataError(
            source,
            f"column 'open_time': the interval changes from {timedelta(milliseconds=before)} to "
            f"{timedelta(milliseconds=after)} at row {row + 1} ({iso_z(df['open_time'][row + 1])}); "
            "a candle file holds one interval",
        )
    interval = timedelta(milliseconds=step_ms)
    twelve_ms = int(TWELVE_HOURS.total_seconds() * 1000)
    if twelve_ms % step_ms:
        raise CandleDataError(source, f"column 'open_time': interval {interval} does not divide 12h")
    misaligned = (pl.col("open_time").dt.epoch("ms") % step_ms) != 0
    if df.select(misaligned.any()).item():
        raise CandleDataError(
            source,
            f"column 'open_time': candles not aligned to the {interval} grid in {_first_row(df, misaligned)}",
        )
    gap = (pl.col("open_time").diff().dt.total_milliseconds() > step_ms).fill_null(False)
    if df.select(gap.any()).item():
        after = df.filter(gap.shift(-1).fill_null(False))["open_time"][0]
        raise CandleDataError(
            source,
            f"column 'open_time': gap in the {interval} series, "
            f"first missing candle {iso_z(after + interval)}",
        )
    return interval


def validate_candles(df: pl.DataFrame, source: str) -> timedelta:
    """Validate a frame with the candle columns; returns its interval. Raises ``CandleDataError``."""
    if df.height == 0:
        raise CandleDataError(source, "no candles (empty file or empty selection)")
    missing = [c for c in CANDLE_SCHEMA if c not in df.columns]
    if missing:
        raise CandleDataError(source, f"missing column(s) {missing}; have {df.columns}")
    validate_values(df, source)
    return infer_interval(df, source)


def data_sha256(frame: pl.DataFrame) -> str:
    """SHA-256 over the candle columns, each a contiguous little-endian array (contract section 1)."""
    digest = hashlib.sha256()
    digest.update(frame["open_time"].dt.epoch("ms").cast(pl.Int64).to_numpy().astype("<i8").tobytes())
    for name in ("open", "high", "low", "close", "volume"):
        digest.update(frame[name].cast(pl.Float64).to_numpy().astype("<f8").tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Candles:
    """A validated 12h candle frame and where it came from.

    ``warning`` is set when the data is not what was asked for (the synthetic
    fallback); every report prints it at its top.

    >>> from adalib.data import load_candles
    >>> candles = load_candles("synthetic", end="2020-01-03")
    >>> candles.source, candles.metadata()["first_candle"]
    ('synthetic', '2020-01-01T00:00:00Z')
    """

    frame: pl.DataFrame
    source: str
    warning: str | None = None

    def metadata(self) -> dict[str, object]:
        """The fields every metrics file carries: ``data_source``, ``data_sha256``, ..."""
        times = self.frame["open_time"]
        return {
            "data_source": self.source,
            "data_sha256": data_sha256(self.frame),
            "n_candles": self.frame.height,
            "first_candle": iso_z(times[0]) if self.frame.height else None,
            "last_candle": iso_z(times[-1]) if self.frame.height else None,
        }
