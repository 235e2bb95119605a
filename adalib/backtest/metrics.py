"""Performance metrics of backtests (contract section 3), for one or many configurations at once, in numpy.

Returns are the T - 1 simple candle returns ``equity_u / equity_{u-1} - 1`` (0 where the
previous equity is not positive), annualised with 730 periods a year (12h candles, 24/7).
Undefined values (a Sharpe ratio without variance, a win rate without trades) are None.

>>> import numpy as np
>>> equity = np.array([[100.0, 110.0, 99.0, 108.9]]).T  # candles x configurations
>>> m = metrics_arrays(equity, np.array([[0, 1, 1, 0.0]]).T, buy_hold_return=0.5, trades=no_trades(1))
>>> round(float(m["total_return"][0]), 4), round(float(m["max_drawdown"][0]), 4)
(0.089, -0.1)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl

PERIODS_PER_YEAR = 730
ANNUAL = math.sqrt(PERIODS_PER_YEAR)
METRICS = (  # the fields of backtest_metrics.json, in order
    "initial_capital", "final_equity", "total_return", "cagr", "ann_vol", "sharpe", "sortino", "max_drawdown",
    "calmar", "n_trades", "win_rate", "profit_factor", "avg_trade_return", "exposure", "fees_paid",
    "funding_paid", "buy_hold_return", "liquidated", "stopped", "periods_per_year",
)  # fmt: skip
COUNTS = ("n_trades", "liquidated", "stopped", "periods_per_year")
MOMENTS = ("skew", "kurtosis", "n_periods")
TRADE_FIELDS = ("cfg", "pnl", "return", "fees", "funding", "liquidated", "stopped")
AMOUNTS = ("return", "fees", "funding")  # trade fields summed per configuration


def no_trades(configs: int = 1) -> dict[str, np.ndarray]:
    """The trade arrays ``metrics_arrays`` reads, for configurations without any trade.

    >>> sorted(no_trades())
    ['cfg', 'fees', 'funding', 'liquidated', 'pnl', 'return', 'stopped']
    """
    del configs
    return {k: np.zeros(0, dtype=np.int64 if k == "cfg" else float) for k in TRADE_FIELDS}


def period_returns_2d(equity: np.ndarray) -> np.ndarray:
    """The T - 1 candle returns of each column of ``equity`` (0 where the previous equity is not positive)."""
    prev, cur = equity[:-1], equity[1:]
    if (prev > 0).all():
        return cur / prev - 1
    alive = prev > 0
    return np.where(alive, cur / np.where(alive, prev, 1.0) - 1, 0.0)


def _row_dot(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->j", x, y)


def metrics_arrays(
    equity: np.ndarray,
    position: np.ndarray,
    *,
    buy_hold_return: float,
    trades: dict[str, np.ndarray],
    moments: bool = False,
) -> dict[str, np.ndarray]:
    """Every backtest_metrics.json field (and, with ``moments``, ``skew``, ``kurtosis``, ``n_periods``)
    for each column of ``equity`` and ``position`` (candles x configurations, the first row being the
    initial capital); ``trades``: flat arrays with ``cfg`` (the column), ``pnl``, ``return``, ``fees``,
    ``funding``, ``liquidated``, ``stopped``. Undefined values are NaN (``to_records`` makes them None).
    """
    t, m = equity.shape
    r = period_returns_2d(equity)
    n = t - 1
    mean = r.sum(axis=0) / n
    dev = r - mean
    m2 = _row_dot(dev, dev) / n  # the 1/n variance
    std = np.sqrt(m2 * n / (n - 1)) if n > 1 else np.full(m, np.nan)
    negative = np.minimum(r, 0.0)
    downside = np.sqrt(_row_dot(negative, negative) / n)
    # the running peak is at least the (positive) initial capital
    mdd = (equity / np.maximum.accumulate(equity, axis=0)).min(axis=0) - 1
    initial, final = equity[0].copy(), equity[-1].copy()  # (copies: views would keep every block alive)
    growth = final / initial
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        cagr = np.where(growth > 0, np.abs(growth) ** (PERIODS_PER_YEAR / n) - 1, -1.0)
        # a series constant up to rounding has no Sharpe ratio
        sharpe = np.where(std > 1e-9 * np.abs(mean), mean / std * ANNUAL, np.nan)
        sortino = np.where(downside > 0, mean / downside * ANNUAL, np.nan)
        calmar = np.where(mdd < 0, cagr / np.abs(mdd), np.nan)
    out = {
        "initial_capital": initial,
        "final_equity": final,
        "total_return": growth - 1,
        "cagr": cagr,
        "ann_vol": std * ANNUAL,
        "sharpe": sharpe,
        "sortino": sortino,
        "max_drawdown": mdd,
        "calmar": calmar,
        **_trade_metrics(trades, m),
        "exposure": np.count_nonzero(position, axis=0) / t,
        "buy_hold_return": np.full(m, buy_hold_return),
        "periods_per_year": np.full(m, PERIODS_PER_YEAR),
    }
    out = {k: out[k] for k in METRICS}
    if moments:
        squared = dev * dev
        with np.errstate(divide="ignore", invalid="ignore"):
            out["skew"] = np.where(m2 > 0, _row_dot(squared, dev) / n / m2**1.5, np.nan)
            out["kurtosis"] = np.where(m2 > 0, _row_dot(squared, squared) / n / m2**2, np.nan)
        out["n_periods"] = np.full(m, n)
    return out


def _trade_metrics(trades: dict[str, np.ndarray], m: int) -> dict[str, np.ndarray]:
    cfg, pnl = trades["cfg"], trades["pnl"]
    alive = trades["alive"] if "alive" in trades else np.ones(pnl.size, dtype=bool)
    flags = (alive, pnl > 0, trades["liquidated"], trades["stopped"])  # counted
    amounts = (np.where(pnl > 0, pnl, 0.0), np.where(pnl < 0, -pnl, 0.0), *(trades[k] for k in AMOUNTS))
    if m == 1:  # one configuration: plain counts and sums
        count, wins, liquidated, stopped = (np.array([np.count_nonzero(f)], dtype=float) for f in flags)
        gains, losses, returns, fees, funding = (np.array([np.sum(a)]) for a in amounts)
    else:
        count, wins, liquidated, stopped, gains, losses, returns, fees, funding = (
            np.bincount(cfg, weights=w, minlength=m)[:m] for w in (*flags, *amounts)
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "n_trades": count,
            "win_rate": np.where(count > 0, wins / count, np.nan),
            "profit_factor": np.where(losses > 0, gains / losses, np.where(gains > 0, np.inf, np.nan)),
            "avg_trade_return": np.where(count > 0, returns / count, np.nan),
            "fees_paid": fees,
            "funding_paid": funding,
            "liquidated": liquidated,
            "stopped": stopped,
        }


def to_records(metrics: dict[str, np.ndarray], row: int = 0) -> dict[str, Any]:
    """One configuration's metrics as Python values: counts as int, NaN as None (inf is kept)."""
    out: dict[str, Any] = {}
    for key, values in metrics.items():
        v = float(values[row])
        out[key] = None if math.isnan(v) else int(v) if key in COUNTS else v
    return out


def to_table(metrics: dict[str, np.ndarray]) -> pl.DataFrame:
    """The metrics of every configuration as a frame (NaN as null, counts as Int64)."""
    columns = {
        k: pl.Series(k, v, dtype=pl.Int64)
        if k in COUNTS
        else pl.Series(k, v, dtype=pl.Float64, nan_to_null=True)
        for k, v in metrics.items()
    }
    return pl.DataFrame(columns)


def metrics_table(
    equity: pl.DataFrame, trades: pl.DataFrame, by: str = "cfg", *, moments: bool = False
) -> pl.DataFrame:
    """One row of backtest_metrics.json fields per configuration ``by`` from long frames, plus ``n_periods``.

    ``equity``: one row per (configuration, candle), sorted, with ``open``, ``close``, ``position`` and
    ``equity``; ``trades``: ``by``, ``pnl``, ``return``, ``fees``, ``funding``, ``liquidated`` and
    (optionally) ``stopped``. ``moments=True`` adds ``skew`` and ``kurtosis`` (not excess).

    >>> eq = pl.DataFrame({"cfg": [0, 0], "open": [1.0, 1.0], "close": [1.0, 2.0], "position": [0.0, 1.0],
    ...                    "equity": [100.0, 200.0]})
    >>> metrics_table(eq, eq.head(0).select("cfg"))["total_return"].to_list()
    [1.0]
    """
    keys, first = np.unique(equity[by].to_numpy(), return_index=True)
    t = equity.height // keys.size
    e = equity["equity"].to_numpy().reshape(keys.size, t).T
    p = equity["position"].to_numpy().reshape(keys.size, t).T
    one = equity[int(first[0]) : int(first[0]) + t]
    arrays = {
        k: trades[k].to_numpy() if k in trades.columns else np.zeros(trades.height)
        for k in TRADE_FIELDS
        if k != "cfg"
    }
    arrays["cfg"] = np.searchsorted(keys, trades[by].to_numpy()).astype(np.int64)
    bh = float(one["close"][-1] / one["open"][1] - 1)
    m = metrics_arrays(e, p, buy_hold_return=bh, trades=arrays, moments=moments)
    return to_table(m).insert_column(0, pl.Series(by, keys))
