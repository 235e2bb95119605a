"""Contract baselines (cross-checked against single backtests) and random signals shaped like the model's."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adalib.backtest import BacktestConfig, buy_and_hold, run_backtest
from adalib.backtest.baselines import (
    BASELINE_FIELDS,
    BASELINES,
    baseline_metrics,
    baseline_signals,
    percentile,
    random_signal_table,
    random_signals,
    signal_shape,
)
from adalib.data import synthetic_candles


def segment(n: int = 200, seed: int = 3) -> pl.DataFrame:
    frame = synthetic_candles(n, seed=seed)
    rng = np.random.default_rng(seed)
    return frame.with_columns(
        direction=pl.Series(rng.choice([-1, 1], size=n, p=[0.4, 0.6]), dtype=pl.Int8),
        ret=(pl.col("close") / pl.col("close").shift(1)).log().fill_null(0.0),
    )


def test_baseline_signals_follow_the_sign_of_the_candle_return() -> None:
    f = pl.DataFrame({"ret": [0.02, -0.01, 0.0, None]})
    out = baseline_signals(f)
    assert out["always_long"].to_list() == [1, 1, 1, 1]
    assert out["momentum"].to_list() == [1, -1, 0, 0] and out["reversal"].to_list() == [-1, 1, 0, 0]
    assert all(out[c].dtype == pl.Int8 for c in BASELINES)
    with pytest.raises(ValueError, match="'ret'"):
        baseline_signals(pl.DataFrame({"close": [1.0]}))


@pytest.mark.parametrize(
    "config",
    [
        BacktestConfig(mode="hold", fee_rate=0.0005),
        BacktestConfig(mode="per_bar", fee_rate=0.0004, slippage_bps=2.0, leverage=3.0, stop_loss=0.03),
        BacktestConfig(mode="hold", leverage=2.0, funding_rate_8h=0.0001),
    ],
)
def test_each_baseline_is_the_same_backtest_on_its_signal(config: BacktestConfig) -> None:
    frame = segment()
    got = baseline_metrics(frame, config)
    signals = baseline_signals(frame)
    assert list(got) == list(BASELINES)
    for name in BASELINES:
        direct = run_backtest(signals.with_columns(direction=pl.col(name)), config).metrics
        assert set(got[name]) == set(BASELINE_FIELDS)
        for field in BASELINE_FIELDS:
            assert got[name][field] == pytest.approx(direct[field], rel=1e-9, abs=1e-12), (name, field)


def test_always_long_at_leverage_one_is_buy_and_hold() -> None:
    frame = segment()
    config = BacktestConfig(fee_rate=0.0005)
    long = baseline_metrics(frame, config)["always_long"]
    assert long["final_equity"] == pytest.approx(buy_and_hold(frame, config).metrics["final_equity"])
    assert long["n_trades"] == 1


def test_signal_shape_by_hand() -> None:
    shape = signal_shape(np.array([1, 1, 0, -1, -1, 1]))
    assert shape == {"long_share": 0.5, "short_share": 2 / 6, "flat_share": 1 / 6, "flip_rate": 0.6}


@settings(max_examples=15, deadline=None)
@given(
    long=st.floats(0.2, 0.8), flat=st.floats(0.0, 0.3), flips=st.floats(0.02, 0.9), seed=st.integers(0, 99)
)
def test_random_signals_keep_the_shares_and_flip_rate(
    long: float, flat: float, flips: float, seed: int
) -> None:
    short = 1 - long - flat
    if short < 0.1:
        return
    rng = np.random.default_rng(seed)
    model = rng.choice([-1, 0, 1], size=600, p=[short, flat, long]).astype(np.int8)
    shape = signal_shape(model)
    pi = np.array([shape["short_share"], shape["flat_share"], shape["long_share"]])
    feasible = min(shape["flip_rate"], (1 - (pi**2).sum()) / (1 - pi[pi > 0].min()))
    random = random_signals(model, 400, seed=seed)
    assert random.dtype == np.int8 and random.shape == (400, 600)
    assert set(np.unique(random)) <= set(np.unique(model))
    assert (random == 1).mean() == pytest.approx(shape["long_share"], abs=0.03)
    assert (random == 0).mean() == pytest.approx(shape["flat_share"], abs=0.03)
    assert (random[:, 1:] != random[:, :-1]).mean() == pytest.approx(feasible, abs=0.02)


def test_random_signals_are_seeded_and_a_constant_signal_stays_constant() -> None:
    model = np.array([1, -1, -1, 1, 1, 1, -1] * 20, dtype=np.int8)
    assert np.array_equal(random_signals(model, 5, seed=1), random_signals(model, 5, seed=1))
    assert not np.array_equal(random_signals(model, 5, seed=1), random_signals(model, 5, seed=2))
    assert (random_signals(np.zeros(30, dtype=np.int8), 4, seed=0) == 0).all()


def test_random_signal_table_rows_are_single_backtests() -> None:
    frame = segment(150)
    config = BacktestConfig(mode="hold", fee_rate=0.0005, leverage=2.0)
    table = random_signal_table(frame, config, n=12, seed=9)
    signals = random_signals(frame["direction"].to_numpy(), 12, seed=9)
    assert table.height == 12
    for k in (0, 7):
        direct = run_backtest(frame.with_columns(direction=pl.Series(signals[k])), config).metrics
        assert table["final_equity"][k] == pytest.approx(direct["final_equity"], rel=1e-9)
        assert table["n_trades"][k] == direct["n_trades"]
    cfg2 = dataclasses.replace(config, mode="per_bar")
    assert random_signal_table(frame, cfg2, n=3, seed=9)["n_trades"][0] > table["n_trades"][0]


def test_percentile_is_the_mid_rank() -> None:
    values = pl.Series([1.0, 2.0, 2.0, 3.0, None, float("nan")])
    assert percentile(values, 2.0) == pytest.approx(0.5)
    assert percentile(values, 10.0) == 1.0 and percentile(values, 0.0) == 0.0
    assert math.isnan(percentile(values, None)) and math.isnan(
        percentile(pl.Series([None], dtype=pl.Float64), 1.0)
    )
