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

PERIODS_PER_YEAR = 730


def metrics_table(equity: pl.DataFrame, trades: pl.DataFrame, by: str = "cfg") -> pl.DataFrame:
    """One row of backtest_metrics.json fields per configuration ``by``.

    ``equity``: one row per (config, candle ``i``) with ``open``, ``close``, ``position``,
    ``equity`` and ``initial_capital``; ``trades``: the trades with ``by``, ``pnl``, ``return``,
    ``fees``, ``funding`` and ``liquidated``. Also returns ``skew``, ``kurtosis`` (not excess)
    and ``n_periods`` of the candle returns, which the deflated Sharpe ratio needs.
    """
    eq, prev = pl.col("equity"), pl.col("equity").shift(1)
    ret = pl.when(pl.col("i") == 0).then(None).when(prev > 0).then(eq / prev - 1).otherwise(0.0)
    r = pl.col("ret")
    per = (
        equity.with_columns(ret=ret)
        .group_by(by, maintain_order=True)
        .agg(
            initial_capital=pl.col("initial_capital").first(),
            final_equity=eq.last(),
            n_periods=r.count(),
            mean=r.mean(),
            std=r.std(ddof=1),
            downside=(r.clip(upper_bound=0.0) ** 2).mean().sqrt(),
            max_drawdown=(eq / eq.cum_max() - 1).min(),
            exposure=(pl.col("position") != 0).mean(),
            buy_hold_return=pl.col("close").last() / pl.col("open").get(1) - 1,
            skew=r.skew(),
            kurtosis=r.kurtosis(fisher=False),
        )
    )
    pnl = pl.col("pnl")
    per_trade = trades.group_by(by).agg(
        n_trades=pl.len(),
        win_rate=(pnl > 0).mean(),
        gains=pnl.filter(pnl > 0).sum(),
        losses=-pnl.filter(pnl < 0).sum(),
        avg_trade_return=pl.col("return").mean(),
        fees_paid=pl.col("fees").sum(),
        funding_paid=pl.col("funding").sum(),
        liquidated=pl.col("liquidated").sum(),
    )
    years = pl.col("n_periods") / PERIODS_PER_YEAR
    growth = pl.col("final_equity") / pl.col("initial_capital")
    positive = pl.col("std") > 0
    out = per.join(per_trade, on=by, how="left", maintain_order="left").with_columns(
        pl.col("n_trades", "liquidated").fill_null(0).cast(pl.Int64),
        pl.col("fees_paid", "funding_paid").fill_null(0.0),
        total_return=growth - 1,
        cagr=pl.when(growth > 0).then(growth ** (1 / years) - 1).otherwise(-1.0),
        ann_vol=pl.col("std") * math.sqrt(PERIODS_PER_YEAR),
        sharpe=pl.when(positive).then(pl.col("mean") / pl.col("std") * math.sqrt(PERIODS_PER_YEAR)),
        sortino=pl.when(pl.col("downside") > 0).then(
            pl.col("mean") / pl.col("downside") * math.sqrt(PERIODS_PER_YEAR)
        ),
        profit_factor=pl.when(pl.col("losses") > 0)
        .then(pl.col("gains") / pl.col("losses"))
        .when(pl.col("gains") > 0)
        .then(float("inf")),
        periods_per_year=pl.lit(PERIODS_PER_YEAR, pl.Int64),
    )
    return out.with_columns(
        calmar=pl.when(pl.col("max_drawdown") < 0).then(pl.col("cagr") / pl.col("max_drawdown").abs()),
    ).select(
        by,
        "initial_capital",
        "final_equity",
        "total_return",
        "cagr",
        "ann_vol",
        "sharpe",
        "sortino",
        "max_drawdown",
        "calmar",
        "n_trades",
        "win_rate",
        "profit_factor",
        "avg_trade_return",
        "exposure",
        "fees_paid",
        "funding_paid",
        "buy_hold_return",
        "liquidated",
        "periods_per_year",
        "skew",
        "kurtosis",
        "n_periods",
    )


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
