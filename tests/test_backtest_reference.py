"""The engine against the reference loop (``adalib.backtest.reference``), the plain candle-by-candle
reading of contract section 3: they share the input checks and the metrics, not the accounting.
Engine and loop must agree to 1e-9 (relative) on every trade, every equity row and the final equity,
on synthetic data (always) and on the real ADAUSDT candles (when the cache exists).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_backtest_properties import markets

from adalib.backtest import BacktestConfig, reference_backtest, run_backtest
from adalib.data import synthetic_candles


def assert_same(candles: pl.DataFrame, signals: np.ndarray, cfg: BacktestConfig, funding=None) -> None:
    """Engine and reference loop agree on every trade, every equity row and the metrics."""
    frame = candles.select("open_time", "open", "high", "low", "close").with_columns(
        direction=pl.Series(signals, dtype=pl.Int8)
    )
    res = run_backtest(frame, cfg, funding=funding)
    ref = reference_backtest(frame, cfg, funding=funding)
    scale = cfg.initial_capital
    np.testing.assert_allclose(
        res.equity["equity"].to_numpy(), ref.equity["equity"].to_numpy(), rtol=1e-9, atol=1e-9 * scale
    )
    np.testing.assert_allclose(
        res.equity["position"].to_numpy(), ref.equity["position"].to_numpy(), rtol=1e-9, atol=1e-12
    )
    assert res.equity["open_time"].equals(ref.equity["open_time"])
    assert res.trades.height == ref.trades.height
    for col in ("entry_time", "exit_time", "side", "liquidated", "stopped"):
        assert res.trades[col].to_list() == ref.trades[col].to_list(), col
    for col in ("qty", "entry_price", "exit_price", "fees", "funding", "pnl", "return"):
        want = ref.trades[col].to_numpy()
        top = np.abs(want).max() if want.size else 0.0
        np.testing.assert_allclose(
            res.trades[col].to_numpy(), want, rtol=1e-9, atol=1e-12 * top + 1e-15 * scale
        )
    for key, value in ref.metrics.items():
        got = res.metrics[key]
        if value is None or got is None:
            assert got is value, key
        else:
            assert got == pytest.approx(value, rel=1e-7, abs=1e-9), key


def random_config(rng: np.random.Generator) -> BacktestConfig:
    return BacktestConfig(
        mode=str(rng.choice(["hold", "per_bar"])),
        fee_rate=float(rng.choice([0.0, 0.00045, 0.0005, 0.002])),
        slippage_bps=float(rng.choice([0.0, 1.0, 5.0])),
        leverage=float(rng.choice([0.5, 1.0, 3.0, 10.0, 25.0])),
        position_fraction=float(rng.choice([0.3, 1.0])),
        maintenance_margin_rate=float(rng.choice([0.0, 0.005, 0.02])),
        funding_rate_8h=float(rng.choice([0.0, 0.0001, -0.0003])),
        stop_loss=[None, 0.02, 0.1][int(rng.integers(3))],
        initial_capital=float(rng.choice([1.0, 10000.0])),
    )


def random_signals(rng: np.random.Generator, n: int) -> np.ndarray:
    """Runs of random length so that hold mode has multi-candle trades."""
    out = np.empty(n, dtype=np.int64)
    i = 0
    while i < n:
        length = int(rng.integers(1, 12))
        out[i : i + length] = rng.choice([-1, 0, 1], p=[0.4, 0.2, 0.4])
        i += length
    return out


@pytest.mark.parametrize("seed", range(12))
def test_engine_matches_loop_on_synthetic_data(seed: int) -> None:
    rng = np.random.default_rng(seed)
    candles = synthetic_candles(400, seed=seed)
    assert_same(candles, random_signals(rng, candles.height), random_config(rng))


def _rows(levels: list[float], *columns: list[int]) -> dict[str, list[float]]:
    return {
        name: [levels[k] for k in ks]
        for name, ks in zip(("open", "high", "low", "close"), columns, strict=True)
    }


# Two markets hypothesis found (kept as fixed cases): a short whose exit is 2 ulps above its entry (a
# real loss of 2.4e-17 USDT, which a ratio-based return got 15% wrong), and a short whose mark before
# its exit candle equals the exit, where the engine's marked equity and its cash round 2.2e-16 apart.
TINY_LOSS = _rows(
    [1.0, 1.1331484530668263, 1.1487471055123324, 1.1487471055123326, 1.0137657624676528],
    [0, 2] + [1] * 14 + [3, 3],
    [1, 2] + [1] * 13 + [3, 3, 3],
    [0] + [1] * 15 + [3, 4],
    [1] * 15 + [3, 3, 4],
)
ROUNDED_MARK = _rows(
    [0.8553453273074225, 0.8824969025845953, 1.0],
    [2] * 16 + [1, 0],
    [2] * 16 + [1, 0],
    [2] * 15 + [1, 0, 0],
    [2] * 15 + [1, 0, 0],
)


@pytest.mark.parametrize("rows", [TINY_LOSS, ROUNDED_MARK], ids=["tiny-loss", "rounded-mark"])
def test_engine_matches_loop_on_float_edge_cases(rows: dict[str, list[float]]) -> None:
    """Profit factor from a 2-ulp loss; no Sortino or Calmar ratio from rounding alone."""
    start = datetime(2024, 3, 1, tzinfo=UTC)
    candles = pl.DataFrame(
        {"open_time": [start + timedelta(hours=12 * i) for i in range(18)], **rows},
        schema_overrides={"open_time": pl.Datetime("ms", "UTC")},
    )
    signals = (
        np.array([-1] * 15 + [0, -1, -1]) if rows is TINY_LOSS else np.array([-1] * 14 + [0, -1, -1, -1])
    )
    cfg = BacktestConfig(fee_rate=0.0, slippage_bps=0.0, leverage=0.5, position_fraction=0.25,
                         maintenance_margin_rate=0.0, funding_rate_8h=0.0, initial_capital=1.0)  # fmt: skip
    assert_same(candles, signals, cfg)
    metrics = run_backtest(candles.with_columns(direction=pl.Series(signals, dtype=pl.Int8)), cfg).metrics
    if rows is ROUNDED_MARK:
        assert metrics["sortino"] is None and metrics["calmar"] is None and metrics["max_drawdown"] == 0.0
    else:
        assert metrics["profit_factor"] == pytest.approx(607901926237989.0, rel=1e-9)


def test_loop_agreement_covers_liquidations_and_ruin() -> None:
    """High leverage on synthetic data: liquidations in both directions, and full-margin ruin."""
    candles = synthetic_candles(600, seed=3)
    rng = np.random.default_rng(0)
    signals = random_signals(rng, candles.height)
    for frac in (0.5, 1.0):
        cfg = BacktestConfig(
            mode="hold",
            fee_rate=0.0005,
            slippage_bps=2.0,
            leverage=20.0,
            position_fraction=frac,
            maintenance_margin_rate=0.005,
            funding_rate_8h=0.0001,
            initial_capital=10000.0,
        )
        res = run_backtest(candles.with_columns(direction=pl.Series(signals, dtype=pl.Int8)), cfg)
        liquidated = res.trades.filter("liquidated")
        assert liquidated.height >= (2 if frac < 1 else 1)
        if frac < 1:
            assert set(liquidated["side"].to_list()) == {-1, 1}
        else:  # the whole equity was the margin: ruin, nothing opened afterwards
            assert res.metrics["final_equity"] == 0.0
            assert res.trades["liquidated"][-1]
        assert_same(candles, signals, cfg)


def test_engine_matches_loop_on_real_data(real_candles: pl.DataFrame) -> None:
    rng = np.random.default_rng(42)
    for _ in range(6):
        assert_same(real_candles, random_signals(rng, real_candles.height), random_config(rng))
    # and liquidations on the real candles
    cfg = BacktestConfig(
        mode="hold",
        fee_rate=0.0005,
        slippage_bps=1.0,
        leverage=15.0,
        position_fraction=0.5,
        maintenance_margin_rate=0.005,
        funding_rate_8h=0.0001,
        initial_capital=10000.0,
    )
    assert_same(real_candles, random_signals(rng, real_candles.height), cfg)
    # and stops with a funding history of irregular instants (every 4 to 8 hours) and rates of either sign
    first = real_candles["open_time"][0]
    steps = rng.integers(4, 9, size=real_candles.height * 3)
    hours = np.concatenate([[0], np.cumsum(steps)])
    funding = pl.DataFrame(
        {
            "funding_time": [first + timedelta(hours=int(h)) for h in hours],
            "funding_rate": rng.normal(0.0001, 0.0003, hours.size),
        }
    )
    for stop in (0.03, 0.15):
        cfg = BacktestConfig(leverage=5.0, stop_loss=stop, fee_rate=0.0005, slippage_bps=2.0)
        assert_same(real_candles, random_signals(rng, real_candles.height), cfg, funding)


@st.composite
def configs(draw: st.DrawFn) -> BacktestConfig:
    return BacktestConfig(
        mode=draw(st.sampled_from(["hold", "per_bar"])),
        fee_rate=draw(st.sampled_from([0.0, 0.0005, 0.003])),
        slippage_bps=draw(st.sampled_from([0.0, 3.0])),
        leverage=draw(st.sampled_from([0.5, 1.0, 4.0, 20.0, 125.0])),
        position_fraction=draw(st.sampled_from([0.25, 1.0])),
        maintenance_margin_rate=draw(st.sampled_from([0.0, 0.005])),
        funding_rate_8h=draw(st.sampled_from([0.0, 0.0001, -0.0005])),
        stop_loss=draw(st.sampled_from([None, 0.01, 0.05, 0.3])),
        initial_capital=draw(st.sampled_from([1.0, 10000.0])),
    )


@st.composite
def histories(draw: st.DrawFn, frame: pl.DataFrame) -> pl.DataFrame:
    """Funding events at irregular instants (1 to 8 hours apart) over the frame, rates of either sign."""
    t = frame["open_time"][0] - timedelta(hours=draw(st.integers(0, 8)))
    end = frame["open_time"][-1] + timedelta(hours=12)
    times, rates = [], []
    while t <= end:
        times.append(t)
        rates.append(draw(st.integers(-30, 30)) * 1e-4)  # funding rates have a few decimals
        t += timedelta(minutes=draw(st.integers(60, 480)))
    return pl.DataFrame({"funding_time": times, "funding_rate": rates})


@settings(max_examples=150, deadline=None)
@given(markets(min_size=2, max_size=25), configs(), st.data())
def test_engine_matches_loop_on_random_markets(frame: pl.DataFrame, cfg: BacktestConfig, data) -> None:
    funding = data.draw(histories(frame)) if data.draw(st.booleans()) else None
    assert_same(frame.drop("direction"), frame["direction"].to_numpy(), cfg, funding)
