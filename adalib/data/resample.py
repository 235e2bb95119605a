"""Resample evenly spaced candles to 12h candles aligned at 00:00 and 12:00 UTC."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from adalib.data.schema import TWELVE_HOURS


def to_12h(frame: pl.DataFrame, interval: timedelta) -> pl.DataFrame:
    """Aggregate candles of ``interval`` (which divides 12h) into 12h candles.

    first / max / min / last / sum of open / high / low / close / volume. A bucket
    with fewer than ``12h / interval`` candles (only possible at either end of a
    gap-free series) is dropped.

    >>> import polars as pl
    >>> from datetime import datetime, timedelta
    >>> t = pl.datetime_range(datetime(2024, 1, 1, 6), datetime(2024, 1, 2, 5), "1h",
    ...                       time_zone="UTC", eager=True).cast(pl.Datetime("ms", "UTC"))
    >>> f = pl.DataFrame({"open_time": t, "open": 1.0, "high": 2.0, "low": 0.5,
    ...                   "close": 1.5, "volume": 1.0})
    >>> to_12h(f, timedelta(hours=1))["open_time"].dt.hour().to_list()  # 06:00 start and 00:00 bucket cut
    [12]
    """
    per_bucket = int(TWELVE_HOURS / interval)
    if per_bucket == 1:
        return frame
    return (
        frame.lazy()
        .sort("open_time")
        .group_by_dynamic("open_time", every="12h", closed="left", label="left")
        .agg(
            pl.col("open").first(),
            pl.col("high").max(),
            pl.col("low").min(),
            pl.col("close").last(),
            pl.col("volume").sum(),
            pl.len().alias("_n"),
        )
        .filter(pl.col("_n") == per_bucket)
        .drop("_n")
        .collect()
    )
