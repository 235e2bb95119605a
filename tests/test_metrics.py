"""Backtest metrics on hand-computed equity curves and trades; Sharpe significance against scipy."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest
from scipy import stats

from adalib.backtest import (
    PERIODS_PER_YEAR,
    period_returns,
    probabilistic_sharpe,
    return_significance,
    rolling_sharpe,
)
from adalib.backtest.metrics import (
    COUNTS,
    metrics_arrays,
    metrics_record,
    metrics_table,
    no_trades,
    trade_sums,
)
from adalib.backtest.returns import drawdown, format_metric, monthly_returns
from adalib.backtest.significance import sharpe_t_stat


def equity_rows(equity: list[float], position: list[float], opens=None, closes=None) -> pl.DataFrame:
    n = len(equity)
    return pl.DataFrame(
        {
            "cfg": pl.Series([0] * n, dtype=pl.Int32),
            "i": list(range(n)),
            "open": pl.Series(opens or [1.0] * n, dtype=pl.Float64),
            "close": pl.Series(closes or [1.0] * n, dtype=pl.Float64),
            "position": pl.Series(position, dtype=pl.Float64),
            "equity": pl.Series(equity, dtype=pl.Float64),
            "initial_capital": pl.Series([equity[0]] * n, dtype=pl.Float64),
        }
    )


TRADES = pl.DataFrame(
    {
        "cfg": pl.Series([0, 0, 0], dtype=pl.Int32),
        "pnl": [10.0, -11.0, 9.9],
        "return": [0.1, -0.1, 0.1],
        "fees": [1.0, 1.0, 1.0],
        "funding": [0.5, -0.2, 0.0],
        "liquidated": [False, True, False],
    }
)


def test_hand_computed_metrics() -> None:
    rows = equity_rows([100, 110, 99, 108.9], [0, 1, 1, 0], opens=[1, 2, 3, 4], closes=[1, 2, 3, 5])
    m = metrics_table(rows, TRADES, moments=True).row(0, named=True)
    # returns: 110/100 - 1 = 0.1, 99/110 - 1 = -0.1, 108.9/99 - 1 = 0.1
    mean = 0.1 / 3
    std = math.sqrt((2 * (0.1 - mean) ** 2 + (-0.1 - mean) ** 2) / 2)  # ddof = 1
    downside = math.sqrt((0.1**2) / 3)  # min(r, 0)^2 averaged over all 3 returns
    cagr = (108.9 / 100) ** (730 / 3) - 1
    expected = {
        "initial_capital": 100,
        "final_equity": 108.9,
        "total_return": 0.089,
        "sharpe": mean / std * math.sqrt(730),
        "sortino": mean / downside * math.sqrt(730),
        "ann_vol": std * math.sqrt(730),
        "cagr": cagr,
        "max_drawdown": 99 / 110 - 1,
        "calmar": cagr / (1 - 99 / 110),
        "exposure": 0.5,
        "buy_hold_return": 5 / 2 - 1,  # close of the last candle over the open of the second
        "n_trades": 3,
        "win_rate": 2 / 3,
        "profit_factor": (10 + 9.9) / 11,
        "avg_trade_return": 0.1 / 3,
        "fees_paid": 3.0,
        "funding_paid": 0.3,
        "liquidated": 1,
        "periods_per_year": 730,
        "n_periods": 3,
    }
    for key, value in expected.items():
        assert m[key] == pytest.approx(value, rel=1e-12), key
    assert m["skew"] == pytest.approx(stats.skew([0.1, -0.1, 0.1]), rel=1e-9)
    assert m["kurtosis"] == pytest.approx(stats.kurtosis([0.1, -0.1, 0.1], fisher=False), rel=1e-9)


def test_ruin_no_trades_and_no_losses() -> None:
    ruined = metrics_table(equity_rows([100, 0, 0], [0, 1, 0]), TRADES.head(0)).row(0, named=True)
    # returns -1 then 0 (the previous equity is 0); total loss: cagr -1, drawdown -1
    assert (ruined["total_return"], ruined["cagr"], ruined["max_drawdown"]) == (-1, -1, -1)
    assert ruined["sharpe"] == pytest.approx(-0.5 / math.sqrt(0.5) * math.sqrt(730))
    flat = metrics_table(equity_rows([100, 100, 100], [0, 0, 0]), TRADES.head(0)).row(0, named=True)
    assert flat["n_trades"] == 0 and flat["fees_paid"] == 0 and flat["liquidated"] == 0
    for undefined in ("sharpe", "sortino", "calmar", "win_rate", "profit_factor", "avg_trade_return"):
        assert flat[undefined] is None, undefined
    winners = metrics_table(equity_rows([100, 110, 121], [0, 1, 1]), TRADES.filter(pl.col("pnl") > 0))
    assert winners["profit_factor"][0] == math.inf and winners["sortino"][0] is None


def test_metrics_per_configuration_are_independent() -> None:
    a = equity_rows([100, 110, 99, 108.9], [0, 1, 1, 0])
    b = equity_rows([50, 45, 60, 30], [0, 1, 0, 1]).with_columns(cfg=pl.lit(1, pl.Int32))
    both = metrics_table(pl.concat([a, b]), TRADES)
    alone = metrics_table(b, TRADES.head(0))
    assert both.height == 2 and both["cfg"].to_list() == [0, 1]
    assert both.row(1, named=True)["max_drawdown"] == pytest.approx(30 / 60 - 1)
    assert both.row(1, named=True)["sharpe"] == pytest.approx(alone.row(0, named=True)["sharpe"])


def test_period_returns_and_t_stat_against_scipy() -> None:
    equity = pl.Series([100.0, 0.0, 0.0, 5.0])
    assert period_returns(equity).tolist() == [-1.0, 0.0, 0.0]
    r = np.random.default_rng(1).standard_t(4, size=500) * 0.02 + 0.001
    assert sharpe_t_stat(r) == pytest.approx(stats.ttest_1samp(r, 0.0).statistic, rel=1e-12)
    sig = return_significance(r)
    assert sig["p_value"] == pytest.approx(stats.ttest_1samp(r, 0.0, alternative="greater").pvalue, rel=1e-9)
    assert sig["sharpe"] == pytest.approx(r.mean() / r.std(ddof=1) * math.sqrt(PERIODS_PER_YEAR))


def test_probabilistic_sharpe_hand_computed() -> None:
    # SR = 0.1 per period, n = 101, skew -1, kurtosis 6: z = 0.1 * 10 / sqrt(1 + 0.1 + 5/4 * 0.01)
    z = 0.1 * 10 / math.sqrt(1 + 0.1 + 1.25 * 0.01)
    assert probabilistic_sharpe(0.1, 101, -1.0, 6.0) == pytest.approx(stats.norm.cdf(z), rel=1e-12)
    # against a benchmark equal to the estimate: a coin flip
    assert probabilistic_sharpe(0.1, 101, 0.0, 3.0, benchmark=0.1) == pytest.approx(0.5)


def test_monthly_returns_drawdown_and_rolling_sharpe() -> None:
    times = [
        datetime(2024, 1, 30, tzinfo=UTC),
        datetime(2024, 1, 31, 12, tzinfo=UTC),
        datetime(2024, 2, 15, tzinfo=UTC),
        datetime(2024, 3, 1, tzinfo=UTC),
    ]
    equity = pl.DataFrame({"open_time": times, "equity": [100.0, 110.0, 99.0, 120.0]}).with_columns(
        pl.col("open_time").cast(pl.Datetime("ms", "UTC"))
    )
    months = monthly_returns(equity)
    # January ends at 110 (from the first row's 100), February at 99, March at 120
    assert months.rows() == [
        (2024, 1, pytest.approx(0.1)),
        (2024, 2, pytest.approx(-0.1)),
        (2024, 3, pytest.approx(120 / 99 - 1)),
    ]
    assert equity.select(drawdown("equity"))["equity"].to_list() == [0, 0, pytest.approx(-0.1), 0]
    curve = pl.Series(np.cumprod(1 + np.random.default_rng(3).normal(0.001, 0.02, 60)))
    rolling = rolling_sharpe(curve, 10)
    r = period_returns(curve)
    assert rolling.len() == 60 and rolling[:10].null_count() == 10
    assert rolling[-1] == pytest.approx(r[-10:].mean() / r[-10:].std(ddof=1) * math.sqrt(730), rel=1e-9)


def test_format_metric() -> None:
    shown = {
        k: format_metric(k, v)
        for k, v in {
            "final_equity": 12345.678,
            "total_return": 0.0123,
            "exposure": 0.5,
            "sharpe": 1.234,
            "profit_factor": math.inf,
            "liquidated": 2,
            "win_rate": float("nan"),
        }.items()
    }
    assert shown == {
        "final_equity": "12,345.68",
        "total_return": "+1.23%",
        "exposure": "50.00%",
        "sharpe": "1.23",
        "profit_factor": "inf",
        "liquidated": "2",
        "win_rate": "n/a",
    }


def _sums(rng: np.random.Generator, trades: int) -> dict[str, np.ndarray]:
    pnl = rng.normal(0.0, 10.0, trades) * (rng.random(trades) < 0.9)  # some trades exactly 0
    flat = {
        "cfg": np.zeros(trades, dtype=np.int64),
        "pnl": pnl,
        "return": pnl / 1000,
        "fees": rng.random(trades),
        "funding": rng.normal(0.0, 1.0, trades),
        "liquidated": rng.random(trades) < 0.1,
        "stopped": rng.random(trades) < 0.2,
    }
    return trade_sums(flat, 1)


@pytest.mark.parametrize("seed", range(30))
def test_metrics_record_equals_metrics_arrays(seed: int) -> None:
    """The one-configuration record (plain arithmetic) against the vectorised metrics, on random
    equity paths: ordinary, constant, ruined to 0, driven negative, two candles, no trades, only
    winners."""
    rng = np.random.default_rng(seed)
    n = [2, 3, 50, 400][seed % 4]
    kind = seed % 6
    equity = 10000.0 * np.cumprod(1 + rng.normal(0.0, 0.02, n))
    if kind == 1:
        equity[:] = 10000.0
    elif kind == 2 and n > 2:
        equity[n // 2 :] = 0.0
    elif kind == 3 and n > 2:
        equity[n // 2 :] = -5.0
    equity[0] = 10000.0
    sums = _sums(rng, [0, 1, 7, 40][seed % 4])
    if kind == 4:
        sums["losses"][:] = 0.0
    exposure = int(rng.integers(0, n + 1))
    record = metrics_record(equity, exposure, buy_hold_return=0.25, trades=sums)
    columns = metrics_arrays(equity[:, None], np.array([exposure]), buy_hold_return=0.25, trades=sums)
    # the arrays' one row as Python values: counts as int, NaN as None
    arrays = {
        k: None if math.isnan(v[0]) else int(v[0]) if k in COUNTS else float(v[0]) for k, v in columns.items()
    }
    assert list(record) == list(arrays)
    for key, value in arrays.items():
        if value is None or record[key] is None:
            assert record[key] is value, key
        else:
            assert type(record[key]) is type(value), key
            assert record[key] == pytest.approx(value, rel=1e-12, abs=1e-12), key


def test_a_downside_or_drawdown_of_rounding_size_is_none() -> None:
    """A fall of 1e-15 is float rounding: no drawdown, no Sortino or Calmar ratio; 1e-6 is a loss."""
    for fall, loss in ((1e-15, False), (1e-6, True)):
        equity = np.array([100.0, 110.0, 110.0 * (1 - fall), 121.0])
        m = metrics_record(equity, 3, buy_hold_return=0.2, trades=trade_sums(no_trades(), 1))
        assert (m["max_drawdown"] < 0, m["sortino"] is not None, m["calmar"] is not None) == (loss,) * 3
        assert m["sharpe"] is not None
