"""Which trades and candles move a backtest's result most, the result without them, and results by regime.

A trade's return (pnl over the equity before its entry) does not depend on the equity
level, and trades follow one another, so the final equity is
``initial_capital * prod(1 + return_i)``. Removing trade k (as if it had been flat) gives
``initial_capital * prod_{i != k} (1 + return_i)``, computed exactly from prefix and suffix
products (a liquidated trade at -100% included). Trades are ranked by ``|ln(1 + return)|``,
their share of the log growth: the pnl's effect on the final result whatever the equity
was at the time. Candles are ranked the same way by the equity's candle return.

>>> import polars as pl
>>> trades = pl.DataFrame({"return": [0.1, -0.5, 0.2], "pnl": [1000.0, -5500.0, 1100.0]})
>>> without_each(trades["return"].to_numpy()).round(4).tolist()  # growth without trade k
[0.6, 1.32, 0.55]
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from adalib.backtest.metrics import PERIODS_PER_YEAR

ANNUAL = math.sqrt(PERIODS_PER_YEAR)


def without_each(returns: np.ndarray) -> np.ndarray:
    """``prod_{i != k} (1 + r_i)`` for every k (exact for r_k = -1: prefix times suffix products)."""
    growth = 1 + np.asarray(returns, dtype=np.float64)
    prefix = np.concatenate([[1.0], np.cumprod(growth)[:-1]])
    suffix = np.concatenate([np.cumprod(growth[::-1])[::-1][1:], [1.0]])
    return prefix * suffix


def _impact(returns: pl.Expr) -> pl.Expr:
    """``|ln(1 + r)|``: a return's share of the log growth (inf for -100%)."""
    return (1 + returns).log().abs()


def top_trades(trades: pl.DataFrame, initial_capital: float, k: int = 5) -> pl.DataFrame:
    """The ``k`` trades with the largest ``|ln(1 + return)|``, in that order, with
    ``total_return_without`` (the run's total return had that trade alone been flat).

    >>> t = pl.DataFrame({"return": [0.1, -0.5, 0.2], "pnl": [1.0, -5.5, 1.1]})
    >>> top_trades(t, 10.0, k=1)["total_return_without"].round(4).to_list()
    [0.32]
    """
    if trades.height == 0:
        return trades.with_columns(rank=pl.lit(0, pl.Int64), total_return_without=pl.lit(0.0)).clear()
    growth_without = without_each(trades["return"].to_numpy())
    ranked = trades.with_columns(total_return_without=pl.Series(growth_without - 1)).with_columns(
        impact=_impact(pl.col("return"))
    )
    top = ranked.sort("impact", descending=True, maintain_order=True).head(k).drop("impact")
    return top.with_row_index("rank", offset=1).with_columns(pl.col("rank").cast(pl.Int64))


def without_top(trades: pl.DataFrame, k: int = 5) -> float:
    """The run's total return had its ``k`` most influential trades (``top_trades``) all been flat
    (NaN without trades).

    >>> without_top(pl.DataFrame({"return": [0.1, -0.5, 0.2]}), k=1)
    0.32000000000000006
    """
    if trades.height == 0:
        return math.nan
    kept = trades.with_columns(impact=_impact(pl.col("return"))).sort("impact", descending=True).slice(k)
    return float((1 + kept["return"]).product() - 1) if kept.height else 0.0


def candle_returns(frame: pl.DataFrame, equity: pl.DataFrame) -> pl.DataFrame:
    """Per segment candle u >= 1: ``open_time``, ADA's own move ``ada_move`` (close / open - 1), the
    ``side`` held during it (sign of ``position``) and the equity's return ``strategy_return``
    (0 where the previous equity is not positive)."""
    prev = pl.col("equity").shift(1)
    joined = frame.select("open_time", "open", "close").join(
        equity.select("open_time", "position", "equity"), on="open_time", how="left", maintain_order="left"
    )
    return joined.select(
        "open_time",
        ada_move=pl.col("close") / pl.col("open") - 1,
        side=pl.col("position").sign().cast(pl.Int8),
        strategy_return=pl.when(prev > 0).then(pl.col("equity") / prev - 1).otherwise(0.0),
    ).slice(1)


def top_candles(frame: pl.DataFrame, equity: pl.DataFrame, k: int = 5) -> pl.DataFrame:
    """The ``k`` candles whose equity return has the largest ``|ln(1 + r)|``, with ADA's move, the side
    held and ``total_return_without`` (the run's total return had the equity not moved in that candle)."""
    per = candle_returns(frame, equity)
    growth_without = without_each(per["strategy_return"].to_numpy())
    ranked = per.with_columns(total_return_without=pl.Series(growth_without - 1)).with_columns(
        impact=_impact(pl.col("strategy_return"))
    )
    top = ranked.sort("impact", descending=True, maintain_order=True).head(k).drop("impact")
    return top.with_row_index("rank", offset=1).with_columns(pl.col("rank").cast(pl.Int64))


def regime_labels(history: pl.DataFrame, *, window: int = 60) -> pl.DataFrame:
    """Per candle of ``history`` (``open_time``, ``close``): the volatility and trend regime known at its
    open, from the ``window`` candles before it (60 = 30 days).

    ``trailing_vol``: the standard deviation of the last ``window`` log returns up to the previous
    close; ``trailing_return``: the previous close over the close ``window`` candles earlier, minus 1.
    Null for the first ``window + 1`` candles.
    """
    log_ret = (pl.col("close") / pl.col("close").shift(1)).log()
    return history.select(
        "open_time",
        trailing_vol=log_ret.rolling_std(window).shift(1),
        trailing_return=(pl.col("close") / pl.col("close").shift(window) - 1).shift(1),
    )


def regime_table(
    returns: pl.DataFrame, labels: pl.DataFrame, *, series: tuple[str, ...] = ("strategy", "buy_hold")
) -> pl.DataFrame:
    """Results by regime: volatility terciles (``low``/``mid``/``high`` ``volatility``) and trend halves
    (``bull``/``bear``: the upper and lower half of the trailing returns), over the segment's candles.

    ``returns``: ``open_time`` and one candle-return column per name of ``series``; ``labels``:
    ``regime_labels`` of a history that covers them. Terciles and halves are those of the segment's
    candles, by rank. Per regime: ``n_candles``, and per series the compounded ``{name}_return`` and the
    annualised ``{name}_sharpe`` over those candles only. Candles without a label are left out.

    >>> from adalib.data import synthetic_candles
    >>> candles = synthetic_candles(200)
    >>> r = candles.select("open_time", strategy=pl.col("close").pct_change().fill_null(0.0),
    ...                    buy_hold=pl.col("close").pct_change().fill_null(0.0))
    >>> regime_table(r, regime_labels(candles))["group"].to_list()
    ['low', 'mid', 'high', 'bull', 'bear']
    """
    rows = returns.join(labels, on="open_time", how="left").drop_nulls(["trailing_vol", "trailing_return"])
    if rows.height == 0:
        return pl.DataFrame(schema={"regime": pl.String, "group": pl.String, "n_candles": pl.UInt32})
    n = rows.height
    # equal-sized groups by rank (ties in time order): terciles of volatility, halves of trend
    vol_group = ((pl.col("trailing_vol").rank("ordinal") - 1) * 3 // n).cast(pl.Int64)
    bull = (pl.col("trailing_return").rank("ordinal") - 1) * 2 // n == 1
    rows = rows.with_columns(
        volatility=vol_group.replace_strict({0: "low", 1: "mid", 2: "high"}, return_dtype=pl.String),
        trend=pl.when(bull).then(pl.lit("bull")).otherwise(pl.lit("bear")),
    )
    stats = [pl.len().alias("n_candles")]
    for name in series:
        r = pl.col(name)
        stats += [
            ((1 + r).product() - 1).alias(f"{name}_return"),
            pl.when(r.std() > 0).then(r.mean() / r.std() * ANNUAL).alias(f"{name}_sharpe"),
        ]
    order = {"low": 0, "mid": 1, "high": 2, "bull": 3, "bear": 4}
    parts = [
        rows.group_by(by).agg(stats).rename({by: "group"}).with_columns(regime=pl.lit(by))
        for by in ("volatility", "trend")
    ]
    table = pl.concat(parts).sort(pl.col("group").replace_strict(order))
    return table.select("regime", "group", "n_candles", *[c for c in table.columns if c.startswith(series)])
