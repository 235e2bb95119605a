"""Performance metrics of backtests (contract section 3), for one or many configurations at once, in numpy.

Returns are the T - 1 simple candle returns ``equity_u / equity_{u-1} - 1`` (0 where the
previous equity is not positive), annualised with 730 periods a year (12h candles, 24/7).
Undefined values (a Sharpe ratio without variance, a win rate without trades) are None. A
downside deviation or a drawdown within ``ROUNDING`` of zero is float rounding, not a loss (the
engines' equity paths and the reference loop round differently): it counts as none, so that the
Sortino and Calmar ratios are undefined rather than astronomically large.

>>> import numpy as np
>>> equity = np.array([[100.0, 110.0, 99.0, 108.9]]).T  # candles x configurations
>>> m = metrics_arrays(equity, np.array([2]), buy_hold_return=0.5, trades=trade_sums(no_trades(), 1))
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
ROUNDING = 1e-12  # a relative equity change this small is float rounding: a price tick is ~1e-5
METRICS = (  # the fields of backtest_metrics.json, in order
    "initial_capital", "final_equity", "total_return", "cagr", "ann_vol", "sharpe", "sortino", "max_drawdown",
    "calmar", "n_trades", "win_rate", "profit_factor", "avg_trade_return", "exposure", "fees_paid",
    "funding_paid", "buy_hold_return", "liquidated", "stopped", "periods_per_year",
)  # fmt: skip
COUNTS = ("n_trades", "liquidated", "stopped", "periods_per_year")
MOMENTS = ("skew", "kurtosis", "n_periods")
TRADE_FIELDS = ("cfg", "pnl", "return", "fees", "funding", "liquidated", "stopped")
SUMMED = ("return", "fees", "funding", "liquidated", "stopped")  # trade fields summed per configuration


def no_trades() -> dict[str, np.ndarray]:
    """The trade arrays ``trade_sums`` reads, for configurations without any trade.

    >>> sorted(no_trades())
    ['cfg', 'fees', 'funding', 'liquidated', 'pnl', 'return', 'stopped']
    """
    return {k: np.zeros(0, dtype=np.int64 if k == "cfg" else float) for k in TRADE_FIELDS}


def trade_sums(trades: dict[str, np.ndarray], m: int) -> dict[str, np.ndarray]:
    """Per configuration the trade counts and sums ``metrics_arrays`` needs, from flat trade arrays
    (``TRADE_FIELDS``, and ``alive``: False for the trades a ruin prevents) of ``m`` configurations.

    >>> t = {**no_trades(), "cfg": np.array([0, 0, 1]), "pnl": np.array([5.0, -2.0, 1.0])}
    >>> {k: v.tolist() for k, v in trade_sums({**t, **{k: np.zeros(3) for k in SUMMED}}, 2).items()}["gains"]
    [5.0, 1.0]
    """
    pnl = trades["pnl"]
    alive = trades["alive"] if "alive" in trades else np.ones(pnl.size, dtype=bool)
    values = {
        "count": alive,
        "wins": pnl > 0,
        "gains": np.where(pnl > 0, pnl, 0.0),
        "losses": np.where(pnl < 0, -pnl, 0.0),
        **{k: trades[k] for k in SUMMED},
    }
    if m == 1:
        return {k: np.array([np.add.reduce(v, dtype=float)]) for k, v in values.items()}
    return {k: np.bincount(trades["cfg"], weights=v, minlength=m)[:m] for k, v in values.items()}


def period_returns_2d(equity: np.ndarray) -> np.ndarray:
    """The T - 1 candle returns of each column of ``equity`` (0 where the previous equity is not positive)."""
    prev, cur = equity[:-1], equity[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.divide(cur, prev)
    r -= 1
    if prev.size and not prev.min() > 0:
        np.copyto(r, 0.0, where=~(prev > 0))
    return r


def max_drawdown(equity: np.ndarray) -> np.ndarray:
    """The largest fall from a running peak, per column of ``equity`` (a vector: one value), as a
    fraction (<= 0); within ``ROUNDING`` of 0 it is 0.

    >>> float(max_drawdown(np.array([100.0, 120.0, 90.0, 130.0])))
    -0.25
    """
    # the running peak is at least the (positive) initial capital; fmax: no NaN to propagate
    drawdown = np.fmax.accumulate(equity, axis=0)
    np.divide(equity, drawdown, out=drawdown)
    mdd = drawdown.min(axis=0) - 1
    return np.where(mdd < -ROUNDING, mdd, 0.0)


def _col_dot(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The dot product of each column."""
    return np.einsum("ij,ij->j", x, y)


def metrics_arrays(
    equity: np.ndarray,
    exposure: np.ndarray,
    *,
    buy_hold_return: float,
    trades: dict[str, np.ndarray],
    moments: bool = False,
) -> dict[str, np.ndarray]:
    """Every backtest_metrics.json field (and, with ``moments``, ``skew``, ``kurtosis``, ``n_periods``)
    for each column of ``equity`` (candles x configurations, the first row being the initial capital);
    ``exposure``: per column the number of candles with a position; ``trades``: per column the trade
    counts and sums of ``trade_sums``. Undefined values are NaN (``to_table`` makes them null). One
    configuration's fields as Python values: ``metrics_record``.
    """
    t, m = equity.shape
    r = period_returns_2d(equity)
    n = t - 1
    mean = r.sum(axis=0) / n
    dev = r - mean
    m2 = _col_dot(dev, dev) / n  # the 1/n variance
    std = np.sqrt(m2 * n / (n - 1)) if n > 1 else np.full(m, np.nan)
    scratch = np.minimum(r, 0.0)  # the negative returns
    downside = np.sqrt(_col_dot(scratch, scratch) / n)
    mdd = max_drawdown(equity)
    # copies, so that no view keeps a sweep's block alive
    initial, final = np.array(equity[0], ndmin=1), np.array(equity[-1], ndmin=1)
    growth = final / initial
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        cagr = np.where(growth > 0, np.abs(growth) ** (PERIODS_PER_YEAR / n) - 1, -1.0)
        # a series constant up to rounding has no Sharpe ratio
        sharpe = np.where(std > 1e-9 * np.abs(mean), mean / std * ANNUAL, np.nan)
        sortino = np.where(downside > ROUNDING, mean / downside * ANNUAL, np.nan)
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
        **_trade_metrics(trades),
        "exposure": exposure / t,
        "buy_hold_return": np.full(m, buy_hold_return),
        "periods_per_year": np.full(m, PERIODS_PER_YEAR),
    }
    out = {k: out[k] for k in METRICS}
    if moments:
        squared = np.multiply(dev, dev, out=scratch)
        with np.errstate(divide="ignore", invalid="ignore"):
            out["skew"] = np.where(m2 > 0, _col_dot(squared, dev) / n / m2**1.5, np.nan)
            out["kurtosis"] = np.where(m2 > 0, _col_dot(squared, squared) / n / m2**2, np.nan)
        out["n_periods"] = np.full(m, n)
    return out


def _trade_metrics(sums: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    count, wins, gains, losses = sums["count"], sums["wins"], sums["gains"], sums["losses"]
    returns, fees, funding, liquidated, stopped = (sums[k] for k in SUMMED)
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


def metrics_record(
    equity: np.ndarray, exposure: int, *, buy_hold_return: float, trades: dict[str, np.ndarray]
) -> dict[str, Any]:
    """``metrics_arrays`` of one configuration (``equity`` a vector, ``trades`` its ``trade_sums``) as
    Python values: counts as int, undefined values as None (inf is kept). Numpy for the sums over the
    candles, plain Python arithmetic for the rest.

    The readable statement of each formula, and the fast path of one backtest (numpy's cost per
    call dominates one-element arrays); the tests hold it to ``metrics_arrays``.

    >>> m = metrics_record(np.array([100.0, 110.0, 99.0, 108.9]), 2, buy_hold_return=0.5,
    ...                    trades=trade_sums(no_trades(), 1))
    >>> round(m["total_return"], 4), round(m["max_drawdown"], 4), m["n_trades"], m["win_rate"]
    (0.089, -0.1, 0, None)
    """
    t = equity.size
    n = t - 1
    r = period_returns_2d(equity)
    mean = float(r.sum()) / n
    dev = r - mean
    m2 = float(np.dot(dev, dev)) / n  # the 1/n variance, as metrics_arrays
    std = math.sqrt(m2 * n / (n - 1)) if n > 1 else math.nan
    negative = np.minimum(r, 0.0)
    downside = math.sqrt(float(np.dot(negative, negative)) / n)
    mdd = float(max_drawdown(equity))
    initial, final = float(equity[0]), float(equity[-1])
    growth = final / initial
    try:
        cagr = abs(growth) ** (PERIODS_PER_YEAR / n) - 1 if growth > 0 else -1.0
    except OverflowError:
        cagr = math.inf
    count, wins, gains, losses, returns = (
        float(trades[k][0]) for k in ("count", "wins", "gains", "losses", "return")
    )
    nan = math.nan
    values = {
        "initial_capital": initial,
        "final_equity": final,
        "total_return": growth - 1,
        "cagr": cagr,
        "ann_vol": std * ANNUAL,
        "sharpe": mean / std * ANNUAL if std > 1e-9 * abs(mean) else nan,  # constant up to rounding: none
        "sortino": mean / downside * ANNUAL if downside > ROUNDING else nan,
        "max_drawdown": mdd,
        "calmar": cagr / abs(mdd) if mdd < 0 else nan,
        "n_trades": int(count),
        "win_rate": wins / count if count > 0 else nan,
        "profit_factor": gains / losses if losses > 0 else math.inf if gains > 0 else nan,
        "avg_trade_return": returns / count if count > 0 else nan,
        "exposure": exposure / t,
        "fees_paid": float(trades["fees"][0]),
        "funding_paid": float(trades["funding"][0]),
        "buy_hold_return": buy_hold_return,
        "liquidated": int(trades["liquidated"][0]),
        "stopped": int(trades["stopped"][0]),
        "periods_per_year": PERIODS_PER_YEAR,
    }
    return {k: None if isinstance(values[k], float) and math.isnan(values[k]) else values[k] for k in METRICS}


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
    sums = trade_sums(arrays, keys.size)
    m = metrics_arrays(e, np.count_nonzero(p, axis=0), buy_hold_return=bh, trades=sums, moments=moments)
    return to_table(m).insert_column(0, pl.Series(by, keys))
