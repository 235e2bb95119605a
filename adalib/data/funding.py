"""Funding-rate files (CONTRACT.md section 3, ``funding_path``): read, validate, check coverage.

A funding file holds ``funding_time`` (epoch ms or a UTC datetime) and ``funding_rate``, as
``python -m adalib.data funding`` writes them; Binance's ``fundingTime`` / ``fundingRate`` are
accepted too. Errors name the file, the row and the problem.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "f.csv"
>>> _ = p.write_text("fundingTime,fundingRate\\n1704067200000,0.0001\\n1704096000000,0.5\\n")
>>> read_funding_file(p)
Traceback (most recent call last):
...
adalib.data.funding.FundingDataError: ...f.csv: column 'funding_rate': 0.5 at row 1 (line 3) is beyond ...
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from adalib.data.files import parse_instants, parse_numbers, read_table
from adalib.data.schema import TIME, CandleDataError
from adalib.util.timefmt import iso_z, utc_literal

FUNDING_SCHEMA: dict[str, pl.DataType] = {"funding_time": TIME, "funding_rate": pl.Float64()}
BINANCE_NAMES = {"fundingTime": "funding_time", "fundingRate": "funding_rate"}
# Binance caps a funding event at a few percent (ADAUSDT: 0.75% per 8h, the widest caps 2-4%);
# a rate beyond 5% per event is a unit mistake (percent for a fraction), not a market.
MAX_FUNDING_RATE = 0.05
MAX_FUNDING_STRETCH = timedelta(hours=8)


class FundingDataError(CandleDataError):
    """A bad funding file: the message names the file, the row and the problem.

    >>> str(FundingDataError("f.csv", "no funding events"))
    'f.csv: no funding events'
    """


def validate_funding(frame: pl.DataFrame, source: str, rows: Callable[[int], str] | None = None) -> None:
    """Rates finite and within 5% per event, times unique and ascending.

    ``rows`` names row ``i`` in messages (``row i`` by default).

    >>> from datetime import UTC
    >>> t = [datetime(2024, 1, 1, tzinfo=UTC)] * 2
    >>> validate_funding(pl.DataFrame({"funding_time": t, "funding_rate": [0.0, 0.0]}), "f.csv")
    Traceback (most recent call last):
    ...
    adalib.data.funding.FundingDataError: f.csv: column 'funding_time': duplicate time 2024-01-01T00:00:00Z...
    """
    name_row = rows or (lambda i: f"row {i}")
    if frame.height == 0:
        raise FundingDataError(source, "no funding events")
    rate = frame["funding_rate"]
    checks = [
        (rate.is_null() | rate.is_nan(), "is null or NaN"),
        (rate.is_infinite(), "is infinite"),
        (rate.abs() > MAX_FUNDING_RATE, f"is beyond {MAX_FUNDING_RATE:g} (5% per event; is it in percent?)"),
    ]
    for bad, problem in checks:
        if bad.any():
            row = int(bad.arg_max())  # type: ignore[arg-type]
            raise FundingDataError(source, f"column 'funding_rate': {rate[row]} at {name_row(row)} {problem}")
    step = frame["funding_time"].diff().dt.total_milliseconds().fill_null(1)
    for bad, problem in ((step == 0, "duplicate time"), (step < 0, "times not sorted ascending")):
        if bad.any():
            row = int(bad.arg_max())  # type: ignore[arg-type]
            when = iso_z(frame["funding_time"][row])
            raise FundingDataError(source, f"column 'funding_time': {problem} {when} at {name_row(row)}")


def read_funding_file(path: str | Path) -> pl.DataFrame:
    """Read and validate a funding file: ``funding_time`` (``Datetime("ms", "UTC")``), ``funding_rate``.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "f.csv"
    >>> _ = p.write_text("funding_time,funding_rate\\n2024-01-01T00:00:00Z,0.0001\\n")
    >>> read_funding_file(p).rows()
    [(datetime.datetime(2024, 1, 1, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), 0.0001)]
    """
    path = Path(path)
    source = str(path)
    raw, rows = read_table(path)
    raw = raw.rename({k: v for k, v in BINANCE_NAMES.items() if k in raw.columns and v not in raw.columns})
    missing = [c for c in FUNDING_SCHEMA if c not in raw.columns]
    if missing:
        raise FundingDataError(source, f"missing column(s) {missing}; have {raw.columns}")
    if raw.height == 0:
        raise FundingDataError(source, "no funding events")
    frame = pl.DataFrame(
        [
            parse_instants(raw, "funding_time", rows, source).alias("funding_time"),
            parse_numbers(raw, "funding_rate", rows, source).alias("funding_rate"),
        ]
    )
    validate_funding(frame, source, rows)
    return frame


def check_funding_coverage(events: pl.DataFrame, start: datetime, end: datetime, source: str) -> None:
    """No stretch longer than 8h without an event between ``start`` and ``end``; names the first gap.

    >>> from datetime import UTC
    >>> t0 = datetime(2024, 1, 1, tzinfo=UTC)
    >>> events = pl.DataFrame({"funding_time": [t0, t0 + timedelta(hours=8)], "funding_rate": [0.0, 0.0]})
    >>> check_funding_coverage(events, t0, t0 + timedelta(hours=24), "f.csv")
    Traceback (most recent call last):
    ...
    adalib.data.funding.FundingDataError: f.csv: no funding event between 2024-01-01T08:00:00Z and ...
    """
    inside = events.filter(
        (pl.col("funding_time") > utc_literal(start)) & (pl.col("funding_time") < utc_literal(end))
    )["funding_time"]
    points = pl.concat([pl.Series([start]).cast(TIME), inside.cast(TIME), pl.Series([end]).cast(TIME)])
    stretch = points.diff().slice(1)
    too_long = stretch > MAX_FUNDING_STRETCH
    if too_long.any():
        row = int(too_long.arg_max())  # type: ignore[arg-type]
        first, after = points[row], points[row + 1]
        raise FundingDataError(
            source,
            f"no funding event between {iso_z(first)} and {iso_z(after)}: the file does not cover "
            f"{iso_z(first + MAX_FUNDING_STRETCH)} (the first uncovered instant; at most 8h between events)",
        )
