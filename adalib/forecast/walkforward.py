"""Expanding-window walk-forward: refit the AR(p) by least squares every ``every`` rows, forecast the next.

The forecast of row i uses the fit on rows ``0 .. j - 1``, j being the latest refit
point ``<= i`` (row j - 1's target is the return of candle j, known at the close of
row j's candle, so nothing from the future is used). The refits come from cumulative
sums of ``z z'`` and ``z y`` (``z = [lags, 1]``): O(n p^2) to build, one small batched
solve per refit, no Python loop over rows.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x, y = rng.normal(size=(50, 2)), rng.normal(size=50)
>>> wf = walk_forward(x, y, min_train=10, every=5)
>>> bool(np.isnan(wf.y_hat[:10]).all() and np.isfinite(wf.y_hat[10:]).all())
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from adalib.data.schema import Candles
from adalib.forecast.signals import lag_columns, lagged_returns


@dataclass(frozen=True)
class WalkForward:
    """Per-row results (NaN before ``min_train``): coefficients ``(n, p)``, intercept,
    forecast, and the mean of the targets the fit saw (the historical-mean benchmark)."""

    coef: np.ndarray
    intercept: np.ndarray
    y_hat: np.ndarray
    bench_mean: np.ndarray


def walk_forward(features: np.ndarray, target: np.ndarray, *, min_train: int, every: int = 1) -> WalkForward:
    """Expanding-window OLS forecasts; the first refit is at row ``min_train``, then every ``every`` rows."""
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(target, dtype=np.float64)
    n, p = x.shape
    if y.shape != (n,):
        raise ValueError(f"features must be (n, p) and target (n,); got {x.shape} and {y.shape}")
    if every < 1 or min_train < p + 2 or min_train >= n:
        raise ValueError(
            f"need every >= 1 and p + 2 <= min_train < n = {n}; got every={every}, min_train={min_train}"
        )
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("features and target must be finite (no NaN or inf)")
    z = np.column_stack([x, np.ones(n)])
    refits = np.arange(min_train, n, every)
    # row j - 1 of the running sums covers rows 0 .. j - 1: the data of the refit at row j
    zz = np.cumsum(z[:, :, None] * z[:, None, :], axis=0)[refits - 1]
    zy = np.cumsum(z * y[:, None], axis=0)[refits - 1]
    beta = np.linalg.solve(zz, zy[:, :, None])[:, :, 0]
    bench = (np.cumsum(y)[refits - 1]) / refits
    which = (np.arange(min_train, n) - min_train) // every
    coef = np.full((n, p), np.nan)
    intercept, y_hat, bench_mean = (np.full(n, np.nan) for _ in range(3))
    coef[min_train:] = beta[which, :p]
    intercept[min_train:] = beta[which, p]
    y_hat[min_train:] = np.einsum("ij,ij->i", x[min_train:], coef[min_train:]) + intercept[min_train:]
    bench_mean[min_train:] = bench[which]
    return WalkForward(coef, intercept, y_hat, bench_mean)


def walk_forward_frame(
    candles: pl.DataFrame | Candles, *, lags: int, min_train: int, every: int = 1
) -> pl.DataFrame:
    """Walk-forward on candles: ``open_time, target, y_hat, bench_mean, intercept, a_1..a_p``, one row per
    forecast (usable rows from ``min_train`` on).

    >>> from adalib.data import synthetic_candles
    >>> wf = walk_forward_frame(synthetic_candles(300), lags=2, min_train=100, every=10)
    >>> wf.columns
    ['open_time', 'target', 'y_hat', 'bench_mean', 'intercept', 'a_1', 'a_2']
    >>> wf.height, wf["y_hat"].null_count(), wf["intercept"].n_unique()  # 297 usable rows; 10 refits
    (197, 0, 20)
    """
    rows = lagged_returns(candles, lags).filter(pl.col("target").is_not_null())
    wf = walk_forward(
        rows.select(lag_columns(lags)).to_numpy(), rows["target"].to_numpy(), min_train=min_train, every=every
    )
    return (
        rows.select("open_time", "target")
        .with_columns(
            pl.Series("y_hat", wf.y_hat),
            pl.Series("bench_mean", wf.bench_mean),
            pl.Series("intercept", wf.intercept),
            *[pl.Series(f"a_{k + 1}", wf.coef[:, k]) for k in range(lags)],
        )
        .slice(min_train)
    )
