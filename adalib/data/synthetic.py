"""A deterministic synthetic candle series, for demos and tests only.

Log returns follow a GARCH(1,1) with Student-t innovations (nu = 4): volatility
clusters and tails are fat, as in 12h crypto returns. It has no predictable mean,
so any edge a model finds on it is noise.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from adalib.data.schema import CANDLE_SCHEMA

SYNTHETIC_START = datetime(2020, 1, 1, tzinfo=UTC)
SYNTHETIC_CANDLES = 4400  # ~6 years of 12h candles, like the real history


def synthetic_candles(
    n: int = SYNTHETIC_CANDLES,
    *,
    interval: timedelta = timedelta(hours=12),
    start: datetime = SYNTHETIC_START,
    seed: int = 0,
    start_price: float = 0.05,
    vol_12h: float = 0.045,
) -> pl.DataFrame:
    """Generate ``n`` candles of ``interval`` starting at ``start`` (a candle frame).

    ``vol_12h`` is the unconditional standard deviation of 12h log returns; finer
    intervals scale it by the square root of time. The same arguments always give
    the same frame.

    >>> f = synthetic_candles(3, seed=1)
    >>> f.height, f["open_time"].dt.hour().to_list()
    (3, [0, 12, 0])
    """
    rng = np.random.default_rng(seed)
    sigma = vol_12h * math.sqrt(interval / timedelta(hours=12))
    alpha, beta, nu = 0.08, 0.90, 4.0
    omega = sigma**2 * (1 - alpha - beta)
    shocks = rng.standard_t(nu, size=n) / math.sqrt(nu / (nu - 2))
    returns = np.empty(n)
    variance = sigma**2
    for i in range(n):  # GARCH recursion: each variance depends on the previous shock
        returns[i] = math.sqrt(variance) * shocks[i]
        variance = omega + alpha * returns[i] ** 2 + beta * variance
    close = start_price * np.exp(np.cumsum(returns))
    open_ = np.concatenate([[start_price], close[:-1]])
    wick = np.abs(rng.normal(0.0, 0.5 * sigma, size=(2, n)))
    high = np.maximum(open_, close) * np.exp(wick[0])
    low = np.minimum(open_, close) * np.exp(-wick[1])
    volume = np.exp(rng.normal(math.log(1e8 * interval / timedelta(hours=12)), 0.4, size=n))
    times = pl.datetime_range(start, start + interval * (n - 1), interval, time_zone="UTC", eager=True)
    frame = pl.DataFrame(
        {"open_time": times, "open": open_, "high": high, "low": low, "close": close, "volume": volume}
    )
    return frame.select([pl.col(c).cast(t) for c, t in CANDLE_SCHEMA.items()])
