"""Series views of an equity curve (candle, monthly and rolling returns, drawdown) and metric formatting.

>>> import polars as pl
>>> period_returns(pl.Series([100.0, 110.0, 0.0, 5.0])).round(4).tolist()
[0.1, -1.0, 0.0]
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from adalib.backtest.metrics import COUNTS, PERIODS_PER_YEAR

SIGNED = ("total_return", "cagr", "max_drawdown", "avg_trade_return", "buy_hold_return")
SHARE = ("ann_vol", "win_rate", "exposure")
RATIO = ("sharpe", "sortino", "calmar", "profit_factor")


def period_returns(equity: pl.Series | np.ndarray) -> np.ndarray:
    """The T - 1 simple returns of an equity curve (0 where the previous equity is not positive).

    >>> period_returns(np.array([100.0, 50.0, 75.0])).tolist()
    [-0.5, 0.5]
    """
    e = equity.to_numpy() if isinstance(equity, pl.Series) else np.asarray(equity)
    e = e.astype(float)
    prev, cur = e[:-1], e[1:]
    return np.where(prev > 0, cur / np.where(prev > 0, prev, 1.0) - 1, 0.0)


def rolling_sharpe(equity: pl.Series, window: int) -> pl.Series:
    """Annualised Sharpe ratio of the last ``window`` candle returns, at every candle (null before).

    >>> rolling_sharpe(pl.Series([1.0, 1.1, 1.0, 1.1]), 2).null_count()
    2
    """
    r = pl.Series(period_returns(equity))
    return pl.concat(
        [pl.Series([None], dtype=pl.Float64), r.rolling_mean(window) / r.rolling_std(window)]
    ) * (math.sqrt(PERIODS_PER_YEAR))


def drawdown(equity: pl.Expr | str = "equity") -> pl.Expr:
    """``equity / cummax(equity) - 1`` (0 at a new high, negative below it).

    >>> pl.DataFrame({"equity": [1.0, 2.0, 1.0]}).select(drawdown())["equity"].to_list()
    [0.0, 0.0, -0.5]
    """
    eq = pl.col(equity) if isinstance(equity, str) else equity
    return eq / eq.cum_max() - 1


def monthly_returns(equity: pl.DataFrame) -> pl.DataFrame:
    """Calendar-month returns of an equity frame (``open_time``, ``equity`` at each candle close):
    the last equity of a month over the last equity of the month before (the first month starts from
    the first row), with ``year`` and ``month`` columns.

    >>> from datetime import datetime, UTC
    >>> eq = pl.DataFrame({"open_time": [datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)],
    ...                    "equity": [100.0, 120.0]})
    >>> monthly_returns(eq)["ret"].round(4).to_list()
    [0.0, 0.2]
    """
    month_end = (
        equity.group_by_dynamic("open_time", every="1mo")
        .agg(pl.col("equity").last())
        .with_columns(year=pl.col("open_time").dt.year(), month=pl.col("open_time").dt.month())
    )
    previous = pl.col("equity").shift(1, fill_value=equity["equity"][0])
    return month_end.select(
        "year", "month", ret=pl.when(previous > 0).then(pl.col("equity") / previous - 1).otherwise(0.0)
    )


def format_metric(name: str, value: float | int | None) -> str:
    """A metric as a report shows it: percentages, ratios with 2 decimals, USDT with 2, counts.

    >>> format_metric("total_return", -0.25), format_metric("sharpe", None), format_metric("n_trades", 3.0)
    ('-25.00%', 'n/a', '3')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if name in COUNTS:
        return str(int(value))
    if name in SIGNED:
        return f"{value:+.2%}"
    if name in SHARE:
        return f"{value:.2%}"
    if name in RATIO:
        return f"{value:.2f}"
    return f"{value:,.2f}"
