"""Funding events (contract section 3): a constant rate at 00:00/08:00/16:00 UTC, or a history file.

>>> from datetime import datetime, UTC
>>> history = pl.DataFrame({"fundingTime": [1704067200000, 1704096000000], "fundingRate": [1e-4, -2e-4]})
>>> funding = funding_frame(history, "example")
>>> funding.schema["funding_time"], funding["funding_rate"].to_list()
(Datetime(time_unit='ms', time_zone='UTC'), [0.0001, -0.0002])
>>> check_funding_coverage(funding, datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, 12, tzinfo=UTC))
>>> try:
...     check_funding_coverage(funding, datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC))
... except BacktestError as exc:
...     print(str(exc).split("; ")[1])
first uncovered instant 2024-01-01T16:00:00Z

What the engines read is per candle: the sum of the rates of the events inside
``[open_time, open_time + step)`` and the part of it at ``open_time`` itself (an entry at that
open does not pay it: events count strictly after the entry instant).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

from adalib.backtest.config import TIME, BacktestError
from adalib.util.timefmt import iso_z

EIGHT_HOURS_MS = 8 * 3600 * 1000  # funding events at 00:00, 08:00 and 16:00 UTC
# Binance stamps events a few milliseconds after the hour: a gap up to this much over 8h still counts as 8h.
GAP_TOLERANCE_MS = 60_000
NAMES = {"funding_time": ("funding_time", "fundingTime"), "funding_rate": ("funding_rate", "fundingRate")}
EPOCH_MS_RANGE = (10**11, 10**14)  # 1973 .. 5138 in milliseconds: smaller looks like seconds, larger like us


def read_funding(path: str | Path) -> pl.DataFrame:
    """Read a funding history file (parquet or CSV) as ``funding_time`` (``Datetime("ms", "UTC")``)
    and ``funding_rate`` (``Float64``), sorted by time.

    It takes the file ``python -m adalib.data funding`` writes and Binance's ``fundingTime`` /
    ``fundingRate`` names; times as epoch milliseconds or datetimes (naive means UTC). Raises
    ``BacktestError`` naming the file, the column and the problem.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "funding.csv"
    >>> _ = path.write_text("fundingTime,fundingRate\\n1704067200000,0.0001\\n1704096000000,-0.00005\\n")
    >>> read_funding(path)["funding_time"].dt.hour().to_list()
    [0, 8]
    """
    path = Path(path)
    if not path.is_file():
        raise BacktestError(f"{path}: funding file not found (python -m adalib.data funding writes one)")
    try:
        if path.suffix.lower() == ".csv":
            raw = pl.read_csv(path, try_parse_dates=True)
        else:
            raw = pl.read_parquet(path)
    except Exception as exc:  # polars raises several types for an unreadable file: report them as one
        raise BacktestError(f"{path}: not a readable funding file ({type(exc).__name__})") from None
    return funding_frame(raw, str(path))


def funding_frame(raw: pl.DataFrame, name: str = "funding") -> pl.DataFrame:
    """Check and normalise a funding frame (see ``read_funding``); ``name`` is shown in errors.

    >>> try:
    ...     funding_frame(pl.DataFrame({"funding_time": [1], "funding_rate": [0.1]}), "f.csv")
    ... except BacktestError as exc:
    ...     print(exc)
    f.csv: column 'funding_time': epoch 1 at row 0 is not in milliseconds (seconds or microseconds?)
    """
    columns = {}
    for want, accepted in NAMES.items():
        found = [c for c in accepted if c in raw.columns]
        if not found:
            raise BacktestError(f"{name}: missing column '{want}' (or '{accepted[1]}'); have {raw.columns}")
        columns[want] = raw[found[0]].alias(want)
    times, rates = columns["funding_time"], columns["funding_rate"]
    if raw.height == 0:
        raise BacktestError(f"{name}: no funding events")
    times = _times(times, name)
    if not rates.dtype.is_numeric():
        raise BacktestError(f"{name}: column 'funding_rate': expected numbers, got {rates.dtype}")
    rates = rates.cast(pl.Float64)
    bad = (rates.is_null() | ~rates.is_finite()).arg_true()
    if bad.len():
        raise BacktestError(f"{name}: column 'funding_rate': null, NaN or infinite value at row {bad[0]}")
    frame = pl.DataFrame([times, rates]).sort("funding_time")
    repeated = frame["funding_time"].is_duplicated().arg_true()
    if repeated.len():
        at = iso_z(frame["funding_time"][int(repeated[0])])
        raise BacktestError(f"{name}: column 'funding_time': {at} appears more than once")
    return frame


def _times(times: pl.Series, name: str) -> pl.Series:
    nulls = times.is_null().arg_true()
    if nulls.len():
        raise BacktestError(f"{name}: column 'funding_time': null at row {nulls[0]}")
    if times.dtype.is_integer():
        out_of_range = ((times < EPOCH_MS_RANGE[0]) | (times >= EPOCH_MS_RANGE[1])).arg_true()
        if out_of_range.len():
            row = int(out_of_range[0])
            raise BacktestError(
                f"{name}: column 'funding_time': epoch {times[row]} at row {row} is not in milliseconds "
                "(seconds or microseconds?)"
            )
        return times.cast(pl.Int64).cast(pl.Datetime("ms")).dt.replace_time_zone("UTC").alias("funding_time")
    if isinstance(times.dtype, pl.Datetime):
        if times.dtype.time_zone is None:
            times = times.dt.replace_time_zone("UTC")
        return times.dt.convert_time_zone("UTC").cast(TIME)
    raise BacktestError(
        f"{name}: column 'funding_time': expected epoch milliseconds or datetimes, got {times.dtype}"
    )


def check_funding_coverage(funding: pl.DataFrame, first_open: datetime, last_close: datetime) -> None:
    """Raise ``BacktestError`` if some stretch of more than 8h between ``first_open`` and ``last_close``
    has no funding event, naming the first uncovered instant (8h after the last event before it).

    >>> from datetime import datetime, UTC
    >>> events = pl.DataFrame({"funding_time": [datetime(2024, 1, 1, 8, tzinfo=UTC)], "funding_rate": [0.0]})
    >>> check_funding_coverage(events, datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, 12, tzinfo=UTC))
    """
    lo, hi = _epoch_ms(first_open), _epoch_ms(last_close)
    t = funding["funding_time"].cast(TIME).dt.epoch("ms").to_numpy()
    inside = t[(t >= lo) & (t <= hi)]
    points = np.concatenate([[lo], inside, [hi]])
    gaps = np.diff(points) > EIGHT_HOURS_MS + GAP_TOLERANCE_MS
    if gaps.any():
        k = int(np.argmax(gaps))
        since, uncovered = _iso(points[k]), _iso(points[k] + EIGHT_HOURS_MS)
        raise BacktestError(
            f"funding: no event for more than 8h from {since}; first uncovered instant {uncovered}"
        )


def _epoch_ms(instant: datetime) -> int:
    return int(pl.Series([instant]).cast(TIME).dt.epoch("ms")[0])


def _iso(ms: int) -> str:
    return iso_z(pl.Series([int(ms)]).cast(pl.Datetime("ms")).dt.replace_time_zone("UTC")[0])


def candle_rates(
    open_ms: np.ndarray, step_ms: int, rate_8h: float, funding: pl.DataFrame | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per candle: the summed rate of the events in ``[open, open + step)`` and the part of it at ``open``.

    Without ``funding`` the events are the 8h grid (00:00, 08:00, 16:00 UTC) at ``rate_8h``.

    >>> opens = np.array([0, 12 * 3600 * 1000])
    >>> candle_rates(opens, 12 * 3600 * 1000, 0.001, None)  # 00:00 and 08:00, then 16:00
    (array([0.002, 0.001]), array([0.001, 0.   ]))
    """
    n = open_ms.size
    if funding is None:
        every = EIGHT_HOURS_MS
        count = (open_ms + step_ms + every - 1) // every - (open_ms + every - 1) // every
        return count * rate_8h, np.where(open_ms % every == 0, rate_8h, 0.0)
    t = funding["funding_time"].dt.epoch("ms").to_numpy()
    r = funding["funding_rate"].to_numpy()
    k = np.searchsorted(open_ms, t, side="right") - 1
    inside = (k >= 0) & (t < open_ms[np.clip(k, 0, n - 1)] + step_ms)
    total = np.bincount(k[inside], weights=r[inside], minlength=n)
    at_open = inside & (t == open_ms[np.clip(k, 0, n - 1)])
    return total, np.bincount(k[at_open], weights=r[at_open], minlength=n)
