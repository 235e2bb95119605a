"""Performance metrics of a backtest (contract section 3) and the significance of a Sharpe ratio.

Returns are the T - 1 simple candle returns ``equity_u / equity_{u-1} - 1`` (0 where the
previous equity is not positive), annualised with 730 periods a year (12h candles, 24/7).

>>> import numpy as np
>>> r = np.array([0.01, -0.02, 0.03, 0.0, 0.01])
>>> bool(np.isclose(sharpe_t_stat(r), r.mean() / r.std(ddof=1) * np.sqrt(len(r))))
True
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from scipy import stats

from adalib.query import add_columns, collect

PERIODS_PER_YEAR = 730

_EQ, _R, _PNL = pl.col("equity"), pl.col("ret"), pl.col("pnl")
_PREV = _EQ.shift(1)
RETURN = (
    pl.when(pl.col("i") == 0).then(None).when(_PREV > 0).then(_EQ / _PREV - 1).otherwise(0.0).alias("ret")
)
CANDLE_AGGREGATES = (
    pl.col("initial_capital").first(),
    _EQ.last().alias("final_equity"),
    _R.count().alias("n_periods"),
    _R.mean().alias("mean"),
    _R.std(ddof=1).alias("std"),
    (_R.clip(upper_bound=0.0) ** 2).mean().sqrt().alias("downside"),  # over all T - 1 returns
    (_EQ / _EQ.cum_max() - 1).min().alias("max_drawdown"),
    (pl.col("position") != 0).mean().alias("exposure"),
    (pl.col("close").last() / pl.col("open").get(1) - 1).alias("buy_hold_return"),
)
MOMENTS = (_R.skew().alias("skew"), _R.kurtosis(fisher=False).alias("kurtosis"))
TRADE_AGGREGATES = (
    pl.len().alias("n_trades"),
    (_PNL > 0).mean().alias("win_rate"),
    _PNL.filter(_PNL > 0).sum().alias("gains"),
    -_PNL.filter(_PNL < 0).sum().alias("losses"),
    pl.col("return").mean().alias("avg_trade_return"),
    pl.col("fees").sum().alias("fees_paid"),
    pl.col("funding").sum().alias("funding_paid"),
    pl.col("liquidated").sum().alias("liquidated"),
)
# The same on the trades of one configuration, without a group_by (see ``one_metrics``).
ONE_TRADE_AGGREGATES = tuple(
    e.over("cfg").first().alias(e.meta.output_name()) if e.meta.output_name() in ("gains", "losses") else e
    for e in TRADE_AGGREGATES
)
_ANNUAL = math.sqrt(PERIODS_PER_YEAR)
_GROWTH, _CAGR, _MDD = pl.col("growth"), pl.col("cagr"), pl.col("max_drawdown")
_GAINS, _LOSSES = pl.col("gains"), pl.col("losses")
_CAGR_OF_GROWTH = pl.when(_GROWTH > 0).then(_GROWTH ** (PERIODS_PER_YEAR / pl.col("n_periods")) - 1)
DERIVED = (  # from the aggregates, in steps: the growth first, the calmar after the cagr
    ((pl.col("final_equity") / pl.col("initial_capital")).alias("growth"),),
    (
        (_GROWTH - 1).alias("total_return"),
        _CAGR_OF_GROWTH.otherwise(-1.0).alias("cagr"),
        (pl.col("std") * _ANNUAL).alias("ann_vol"),
        pl.when(pl.col("std") > 0).then(pl.col("mean") / pl.col("std") * _ANNUAL).alias("sharpe"),
        pl.when(pl.col("downside") > 0).then(pl.col("mean") / pl.col("downside") * _ANNUAL).alias("sortino"),
        pl.col("n_trades").fill_null(0).cast(pl.Int64),
        pl.when(_LOSSES > 0)
        .then(_GAINS / _LOSSES)
        .when(_GAINS > 0)
        .then(float("inf"))
        .alias("profit_factor"),
        pl.col("fees_paid").fill_null(0.0),
        pl.col("funding_paid").fill_null(0.0),
        pl.col("liquidated").fill_null(0).cast(pl.Int64),
        pl.lit(PERIODS_PER_YEAR, pl.Int64).alias("periods_per_year"),
    ),
    (pl.when(_MDD < 0).then(_CAGR / _MDD.abs()).alias("calmar"),),
)
METRICS = [  # the fields of backtest_metrics.json, in order
    "initial_capital", "final_equity", "total_return", "cagr", "ann_vol", "sharpe", "sortino", "max_drawdown",
    "calmar", "n_trades", "win_rate", "profit_factor", "avg_trade_return", "exposure", "fees_paid",
    "funding_paid", "buy_hold_return", "liquidated", "periods_per_year",
]  # fmt: skip


def metrics_table(
    equity: pl.DataFrame, trades: pl.DataFrame, by: str = "cfg", *, moments: bool = False
) -> pl.DataFrame:
    """One row of backtest_metrics.json fields per configuration ``by``, plus ``n_periods`` (T - 1).

    ``equity``: one row per (config, candle ``i``) with ``open``, ``close``, ``position``,
    ``equity`` and ``initial_capital``; ``trades``: the trades with ``by``, ``pnl``, ``return``,
    ``fees``, ``funding`` and ``liquidated``. ``moments=True`` adds ``skew`` and ``kurtosis`` (not
    excess) of the candle returns, which the deflated Sharpe ratio needs.
    """
    extra = MOMENTS if moments else ()
    per = add_columns(equity.lazy(), (RETURN,), equity.height)
    per = per.group_by(by, maintain_order=True).agg(*CANDLE_AGGREGATES, *extra)
    per_trade = trades.lazy().group_by(by).agg(TRADE_AGGREGATES)
    metrics = per.join(per_trade, on=by, how="left", maintain_order="left")
    metrics = add_columns(metrics, DERIVED, 0)  # one row per configuration: a few thousand at most
    return collect(metrics)[:, [by, *METRICS, "n_periods", *[e.meta.output_name() for e in extra]]]


def one_metrics(equity: pl.DataFrame, trades: pl.DataFrame) -> dict[str, float | int | None]:
    """The backtest_metrics.json fields of one configuration without a group_by and a join, which cost
    more than the sums on one backtest. When ``cfg`` is one value flagged sorted (a literal, as in
    ``run_backtest``), they equal ``metrics_table``'s to the bit: its group_by then adds up slices as
    plain aggregations do, and filtered values as a window does."""
    per = add_columns(equity.lazy(), (RETURN,), equity.height).select(*CANDLE_AGGREGATES)
    metrics = pl.concat([per, trades.lazy().select(ONE_TRADE_AGGREGATES)], how="horizontal")
    return collect(add_columns(metrics, DERIVED, 0))[:, METRICS].row(0, named=True)


SIGNED = ("total_return", "cagr", "max_drawdown", "avg_trade_return", "buy_hold_return")
SHARE = ("ann_vol", "win_rate", "exposure")
RATIO = ("sharpe", "sortino", "calmar", "profit_factor")
COUNT = ("n_trades", "liquidated", "periods_per_year")


def format_metric(name: str, value: float | int | None) -> str:
    """A metric as a report shows it: percentages, ratios with 2 decimals, USDT with 2, counts.

    >>> format_metric("total_return", -0.25), format_metric("sharpe", None), format_metric("n_trades", 3.0)
    ('-25.00%', 'n/a', '3')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if name in COUNT:
        return str(int(value))
    if name in SIGNED:
        return f"{value:+.2%}"
    if name in SHARE:
        return f"{value:.2%}"
    if name in RATIO:
        return f"{value:.2f}"
    return f"{value:,.2f}"


def drawdown(equity: pl.Expr | str = "equity") -> pl.Expr:
    """``equity / cummax(equity) - 1`` (0 at a new high, negative below it)."""
    eq = pl.col(equity) if isinstance(equity, str) else equity
    return eq / eq.cum_max() - 1


def monthly_returns(equity: pl.DataFrame) -> pl.DataFrame:
    """Calendar-month returns of an equity frame (``open_time``, ``equity`` at each candle close):
    the last equity of a month over the last equity of the month before (the first month starts from
    the first row), with ``year`` and ``month`` columns."""
    month_end = (
        equity.group_by_dynamic("open_time", every="1mo")
        .agg(pl.col("equity").last())
        .with_columns(year=pl.col("open_time").dt.year(), month=pl.col("open_time").dt.month())
    )
    previous = pl.col("equity").shift(1, fill_value=equity["equity"][0])
    return month_end.select(
        "year", "month", ret=pl.when(previous > 0).then(pl.col("equity") / previous - 1).otherwise(0.0)
    )


def rolling_sharpe(equity: pl.Series, window: int) -> pl.Series:
    """Annualised Sharpe ratio of the last ``window`` candle returns, at every candle (null before)."""
    r = pl.Series(period_returns(equity))
    return pl.concat(
        [pl.Series([None], dtype=pl.Float64), r.rolling_mean(window) / r.rolling_std(window)]
    ) * (math.sqrt(PERIODS_PER_YEAR))


def period_returns(equity: pl.Series) -> np.ndarray:
    """The T - 1 simple returns of an equity curve (0 where the previous equity is not positive)."""
    e = equity.to_numpy().astype(float)
    prev, cur = e[:-1], e[1:]
    return np.where(prev > 0, cur / np.where(prev > 0, prev, 1.0) - 1, 0.0)


def sharpe_t_stat(returns: np.ndarray) -> float:
    """t statistic of the mean return (``mean / (std / sqrt(n))``): per-period Sharpe times sqrt(n)."""
    r = np.asarray(returns, dtype=float)
    sd = r.std(ddof=1)
    return float(r.mean() / sd * math.sqrt(r.size)) if sd > 0 else float("nan")


def probabilistic_sharpe(
    sharpe: float, n_obs: int, skew: float = 0.0, kurtosis: float = 3.0, benchmark: float = 0.0
) -> float:
    """Probabilistic Sharpe ratio (Bailey & López de Prado 2012): P(true Sharpe > ``benchmark``).

    ``sharpe`` and ``benchmark`` are per period (not annualised); ``kurtosis`` is not excess.

    >>> round(probabilistic_sharpe(0.1, 101), 4)  # Phi(0.1 * 10 / sqrt(1 + 0.01 / 2))
    0.8407
    """
    spread = 1 - skew * sharpe + (kurtosis - 1) / 4 * sharpe**2
    if n_obs < 2 or not spread > 0:
        return float("nan")
    return float(stats.norm.cdf((sharpe - benchmark) * math.sqrt(n_obs - 1) / math.sqrt(spread)))


def return_significance(returns: np.ndarray) -> dict[str, float]:
    """Sharpe (annualised), t statistic and PSR against 0 of a series of candle returns."""
    r = np.asarray(returns, dtype=float)
    sd = r.std(ddof=1) if r.size > 1 else 0.0
    sr = r.mean() / sd if sd > 0 else float("nan")
    return {
        "n_periods": int(r.size),
        "sharpe": sr * math.sqrt(PERIODS_PER_YEAR),
        "t_stat": sharpe_t_stat(r) if r.size > 1 else float("nan"),
        "p_value": float(stats.t.sf(sharpe_t_stat(r), r.size - 1)) if sd > 0 else float("nan"),
        "psr": probabilistic_sharpe(sr, r.size, float(stats.skew(r)), float(stats.kurtosis(r, fisher=False)))
        if sd > 0
        else float("nan"),
    }
