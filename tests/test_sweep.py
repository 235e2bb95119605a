"""Sweeps equal one backtest per configuration; the deflated Sharpe ratio matches its published example."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from contract_fields import BACKTEST_METRICS
from scipy import stats

from adalib.backtest import (
    PERIODS_PER_YEAR,
    BacktestConfig,
    BacktestError,
    deflated_sharpe,
    run_backtest,
    sweep,
)
from adalib.backtest.significance import EULER_GAMMA, deflated_sharpe_ratio, expected_max_sharpe
from adalib.data import synthetic_candles


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    candles = synthetic_candles(300, seed=11).drop("volume")
    rng = np.random.default_rng(11)
    return candles.with_columns(
        y_hat=pl.Series(rng.normal(0.0, 0.01, candles.height)),
        walk_forward=pl.Series(rng.choice([-1, 0, 1], candles.height), dtype=pl.Int8),
    )


def directions(y_hat: pl.Series, threshold: float) -> pl.Series:
    return pl.Series([1 if v > threshold else -1 if v < -threshold else 0 for v in y_hat], dtype=pl.Int8)


def test_every_row_equals_its_own_backtest(frame: pl.DataFrame) -> None:
    table = sweep(
        frame,
        signal=["y_hat", "walk_forward"],
        threshold=[0.0, 0.008],
        mode=["hold", "per_bar"],
        fee_rate=[0.0, 0.001],
        slippage_bps=[0.0, 3.0],
        leverage=[1.0, 15.0],
        position_fraction=0.6,
        funding_rate_8h=[0.0, 0.0002],
    )
    # 2 thresholds for the float signal + 1 for the integer one, times 2*2*2*2*2
    assert table.height == 3 * 32
    assert table.filter(pl.col("signal") == "walk_forward")["threshold"].null_count() == 32
    assert table["liquidated"].sum() > 0  # the grid reaches liquidations
    for row in table.rows(named=True):
        signal = (
            frame["walk_forward"]
            if row["threshold"] is None
            else directions(frame["y_hat"], row["threshold"])
        )
        res = run_backtest(
            frame.with_columns(direction=signal),
            BacktestConfig(
                mode=row["mode"],
                fee_rate=row["fee_rate"],
                slippage_bps=row["slippage_bps"],
                leverage=row["leverage"],
                position_fraction=0.6,
                funding_rate_8h=row["funding_rate_8h"],
            ),
        )
        for key in BACKTEST_METRICS:
            expected = res.metrics[key]
            assert row[key] == (pytest.approx(expected, rel=1e-9) if expected is not None else None), key


def test_thresholds(frame: pl.DataFrame) -> None:
    table = sweep(frame, signal="y_hat", threshold=[0.0, 1.0])
    assert table["n_trades"][0] > 0 and table["n_trades"][1] == 0
    assert table["final_equity"][1] == 10000
    # numpy arrays and numbers work as axes
    assert sweep(frame, signal="y_hat", threshold=np.array([0.0, 1.0]), leverage=np.float64(1.0)).equals(
        table
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(signal="nope"), r"missing column\(s\) \['nope'\]"),
        (dict(signal="y_hat", threshold=[0.0, -0.1]), "parameter threshold"),
        (dict(fee_rate=[0.0, -0.001]), "parameter fee_rate"),
        (dict(leverage=[1.0, 0.0]), "parameter leverage"),
        (dict(mode=["hold", "swing"]), "parameter mode"),
    ],
)
def test_bad_grids_fail_before_any_work(frame: pl.DataFrame, kwargs: dict, message: str) -> None:
    with pytest.raises(BacktestError, match=message):
        sweep(frame.with_columns(direction=pl.lit(1, pl.Int8)), **kwargs)


def test_deflated_sharpe_published_example() -> None:
    """Bailey & López de Prado (2014), section 'A numerical example': N = 100 trials with annualised
    Sharpe variance 1/2, T = 1250 daily returns, best annualised Sharpe 2.5, skew -3, kurtosis 10
    give DSR = 0.9004."""
    variance = 0.5 / 250  # per day
    z1, z2 = stats.norm.ppf(1 - 1 / 100), stats.norm.ppf(1 - 1 / (100 * math.e))  # 2.3263, 2.6776
    sr0 = math.sqrt(variance) * ((1 - EULER_GAMMA) * z1 + EULER_GAMMA * z2)  # 0.1132 per day
    assert expected_max_sharpe(100, variance) == pytest.approx(sr0, rel=1e-12)
    assert sr0 * math.sqrt(250) == pytest.approx(1.7894, abs=1e-4)
    sr = 2.5 / math.sqrt(250)  # 0.1581 per day
    z = (sr - sr0) * math.sqrt(1249) / math.sqrt(1 + 3 * sr + 9 / 4 * sr**2)
    dsr = deflated_sharpe_ratio(sr, 1250, 100, variance, skew=-3.0, kurtosis=10.0)
    assert dsr == pytest.approx(stats.norm.cdf(z), rel=1e-12)
    assert round(dsr, 4) == 0.9004
    assert expected_max_sharpe(1, variance) == 0.0  # one trial: nothing to deflate


def test_expected_max_sharpe_against_monte_carlo() -> None:
    rng = np.random.default_rng(0)
    for n in (10, 100, 1000):
        draws = rng.normal(0.0, 0.3, size=(4000, n)).max(axis=1).mean()
        assert expected_max_sharpe(n, 0.09) == pytest.approx(draws, rel=0.03)


def test_deflated_sharpe_of_a_sweep_table(frame: pl.DataFrame) -> None:
    table = sweep(
        frame,
        signal="y_hat",
        threshold=[0.0, 0.002, 0.005, 1.0],
        fee_rate=[0.0, 0.0005],
        mode=["hold", "per_bar"],
    )
    out = deflated_sharpe(table)
    trials = table.filter(pl.col("sharpe").is_not_null())
    assert out["n_trials"] == trials.height == 12  # threshold 1.0 never trades: no Sharpe ratio
    best = trials.sort("sharpe", descending=True).row(0, named=True)
    assert (out["best_cfg"], out["best_sharpe"]) == (best["cfg"], best["sharpe"])
    per_period = trials["sharpe"].to_numpy() / math.sqrt(PERIODS_PER_YEAR)
    expected = deflated_sharpe_ratio(
        best["sharpe"] / math.sqrt(PERIODS_PER_YEAR),
        best["n_periods"],
        12,
        per_period.var(ddof=1),
        best["skew"],
        best["kurtosis"],
    )
    assert out["dsr"] == pytest.approx(expected, rel=1e-12)
    assert out["dsr"] < out["psr"]  # deflating for the search only lowers the confidence
