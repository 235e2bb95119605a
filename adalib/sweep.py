"""Parameter sweeps, vectorised across configurations, and the deflated Sharpe ratio of their best result.

>>> from adalib.backtest import demo_frame
>>> table = sweep(demo_frame(), mode=["hold", "per_bar"], fee_rate=[0.0, 0.0005], leverage=[1.0, 2.0])
>>> table.height, table.columns[:4]
(8, ['cfg', 'signal', 'threshold', 'mode'])

Every axis takes a value or a list; the sweep runs their cartesian product. ``signal``
names columns of ``frame``: an integer column is a direction (-1, 0, 1) used as is (for
example a walk-forward forecast's ``direction``); a float column is a forecast ``y_hat``,
turned into directions by each ``threshold`` (+1 above it, -1 below minus it, else 0).
All configurations are simulated together (``adalib.backtest.simulate`` on a long frame of
(configuration, candle) rows, in chunks of about a million rows to bound memory), so a
thousand of them cost about as much as one backtest on a thousand times the candles.

Picking the best of many configurations inflates its Sharpe ratio. ``deflated_sharpe``
answers "is the best one better than the best of as many worthless ones would look?"
(Bailey & López de Prado, 2014).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import polars as pl
from scipy import stats

from adalib.backtest import BacktestError, check_candles, check_params, check_signal, simulate
from adalib.metrics import PERIODS_PER_YEAR, metrics_table, probabilistic_sharpe

EULER_GAMMA = 0.5772156649015329
CHUNK_ROWS = 1_000_000  # (configuration, candle) rows simulated at once


def _axis(value: Any) -> list[Any]:
    return list(value) if isinstance(value, Iterable) and not isinstance(value, str) else [value]


def _variants(frame: pl.DataFrame, signals: list[str], thresholds: list[float]) -> list[tuple[str, Any, Any]]:
    """(signal name, threshold or None, Int8 directions) for every signal column and threshold."""
    bad = [th for th in thresholds if not th >= 0]
    if bad:
        raise BacktestError(f"parameter threshold: must be >= 0, got {bad[0]}")
    out = []
    for name in signals:
        column = frame[name]
        if not column.dtype.is_float():
            out.append((name, None, check_signal(frame, name).to_numpy()))
            continue
        row = frame.select((pl.col(name).is_null() | pl.col(name).is_nan()).arg_true().first()).item()
        if row is not None:
            raise BacktestError(f"frame column '{name}': null or NaN forecast at row {row}")
        for th in thresholds:
            direction = (column > th).cast(pl.Int8) - (column < -th).cast(pl.Int8)
            out.append((name, th, direction.cast(pl.Int8).to_numpy()))
    return out


def sweep(
    frame: pl.DataFrame,
    *,
    signal: str | Sequence[str] = "direction",
    threshold: float | Sequence[float] = 0.0,
    mode: str | Sequence[str] = "hold",
    fee_rate: float | Sequence[float] = 0.0005,
    slippage_bps: float | Sequence[float] = 0.0,
    leverage: float | Sequence[float] = 1.0,
    position_fraction: float | Sequence[float] = 1.0,
    maintenance_margin_rate: float | Sequence[float] = 0.005,
    funding_rate_8h: float | Sequence[float] = 0.0,
    initial_capital: float | Sequence[float] = 10000.0,
) -> pl.DataFrame:
    """Backtest every combination of the axes; one row per configuration with its metrics.

    Columns: ``cfg``, the configuration (``signal``, ``threshold`` — null for integer
    signals —, ``mode``, ``fee_rate``, ...), then the backtest_metrics.json fields, then
    ``skew``, ``kurtosis`` and ``n_periods`` of the candle returns (for ``deflated_sharpe``).
    Each row equals ``run_backtest`` on the same settings.

    >>> from adalib.backtest import demo_frame
    >>> t = sweep(demo_frame(), fee_rate=[0.0, 0.001])
    >>> t["final_equity"][0] > t["final_equity"][1]
    True
    """
    names = _axis(signal)
    candles = check_candles(frame, tuple(names))
    grid = {
        "mode": _axis(mode),
        "fee_rate": _axis(fee_rate),
        "slippage_bps": _axis(slippage_bps),
        "leverage": _axis(leverage),
        "position_fraction": _axis(position_fraction),
        "maintenance_margin_rate": _axis(maintenance_margin_rate),
        "funding_rate_8h": _axis(funding_rate_8h),
        "initial_capital": _axis(initial_capital),
    }
    first = {axis: values[0] for axis, values in grid.items()}
    for axis, values in grid.items():  # every value of every axis, one at a time
        for value in values:
            check_params(**{**first, axis: value})
    variants = _variants(frame, names, [float(t) for t in _axis(threshold)])
    configs = (
        pl.DataFrame(
            [
                (k, *v[:2], *combo)
                for k, v in enumerate(variants)
                for combo in itertools.product(*grid.values())
            ],
            schema={
                "variant": pl.Int64,
                "signal": pl.String,
                "threshold": pl.Float64,
                "mode": pl.String,
                **{a: pl.Float64 for a in list(grid)[1:]},
            },
            orient="row",
        )
        .with_row_index("cfg")
        .with_columns(pl.col("cfg").cast(pl.UInt32))
    )
    directions = np.stack([v[2] for v in variants])
    per_chunk = max(1, CHUNK_ROWS // candles.height)  # bounds memory: about 1.5 kB per row in flight
    chunks = []
    for k in range(0, configs.height, per_chunk):
        rows = _long_rows(candles, configs.slice(k, per_chunk), directions)
        trades, equity = simulate(rows.lazy(), rows.height)
        chunks.append(metrics_table(equity, trades, moments=True))
    metrics = pl.concat(chunks).drop("initial_capital")
    return configs.drop("variant").join(metrics, on="cfg", how="left", maintain_order="left")


def _long_rows(candles: pl.DataFrame, configs: pl.DataFrame, directions: np.ndarray) -> pl.DataFrame:
    """One row per (configuration, candle), with the configuration's signal and parameters."""
    n = candles.height
    take = np.tile(np.arange(n), configs.height)
    repeat = {name: np.repeat(configs[name].to_numpy(), n) for name in configs.columns}
    return candles[take].with_columns(
        cfg=pl.Series(repeat["cfg"], dtype=pl.UInt32),
        i=pl.Series(take, dtype=pl.Int32),
        signal=pl.Series(directions[configs["variant"].to_numpy()].ravel(), dtype=pl.Int8),
        per_bar=pl.Series(repeat["mode"] == "per_bar"),
        slip=pl.Series(repeat["slippage_bps"] / 1e4),
        mmr=pl.Series(repeat["maintenance_margin_rate"]),
        **{
            name: pl.Series(repeat[name])
            for name in ("fee_rate", "leverage", "position_fraction", "funding_rate_8h", "initial_capital")
        },
    )


def expected_max_sharpe(n_trials: int, variance: float) -> float:
    """Expected maximum of ``n_trials`` Sharpe ratios whose true value is 0 and whose estimates
    have ``variance`` (Bailey & López de Prado 2014, eq. 2; per-period units in, same units out)."""
    if n_trials < 2 or not variance > 0:
        return 0.0
    z1 = stats.norm.ppf(1 - 1 / n_trials)
    z2 = stats.norm.ppf(1 - 1 / (n_trials * math.e))
    return math.sqrt(variance) * ((1 - EULER_GAMMA) * z1 + EULER_GAMMA * z2)


def deflated_sharpe_ratio(
    sharpe: float, n_obs: int, n_trials: int, sharpe_variance: float, skew: float = 0.0, kurtosis: float = 3.0
) -> float:
    """DSR = PSR of ``sharpe`` against the expected maximum Sharpe of ``n_trials`` null trials.

    All Sharpe figures per period (not annualised); ``kurtosis`` not excess. A DSR above
    0.95 says the best result is unlikely to be the luck of the search.
    """
    benchmark = expected_max_sharpe(n_trials, sharpe_variance)
    return probabilistic_sharpe(sharpe, n_obs, skew, kurtosis, benchmark)


def deflated_sharpe(table: pl.DataFrame, periods_per_year: int = PERIODS_PER_YEAR) -> dict[str, Any]:
    """The deflated Sharpe ratio of the best row of a ``sweep`` table.

    Every configuration with a defined Sharpe ratio counts as a trial (conservative:
    correlated trials such as neighbouring fees make the effective number smaller).
    Returns the best row's annualised Sharpe, the annualised expected maximum Sharpe of
    as many null trials, its PSR against 0 and the DSR, plus the best configuration.
    """
    trials = table.filter(pl.col("sharpe").is_not_null() & pl.col("sharpe").is_finite())
    if trials.height == 0:
        raise BacktestError("deflated_sharpe: no configuration has a defined Sharpe ratio (no trades?)")
    scale = math.sqrt(periods_per_year)
    per_period = trials["sharpe"].to_numpy() / scale
    variance = float(per_period.var(ddof=1)) if trials.height > 1 else 0.0
    best = trials.row(int(np.argmax(per_period)), named=True)
    sr = best["sharpe"] / scale
    args = (best["n_periods"], best["skew"], best["kurtosis"])
    sr0 = expected_max_sharpe(trials.height, variance)
    return {
        "n_trials": trials.height,
        "best_cfg": best["cfg"],
        "best_sharpe": best["sharpe"],
        "expected_max_sharpe": sr0 * scale,
        "sharpe_std": math.sqrt(variance) * scale,
        "psr": probabilistic_sharpe(sr, args[0], args[1], args[2], 0.0),
        "dsr": probabilistic_sharpe(sr, args[0], args[1], args[2], sr0),
    }
