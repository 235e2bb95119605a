"""Invariants of the engine: identities, no look-ahead, monotonicity, solvency (hypothesis + seeded cases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from adalib.backtest import BacktestConfig, run_backtest
from adalib.data import synthetic_candles

START = datetime(2024, 3, 1, tzinfo=UTC)


@st.composite
def markets(draw: st.DrawFn, min_size: int = 3, max_size: int = 30) -> pl.DataFrame:
    """Random 12h candles (moves up to ±20% a candle, gaps between close and next open) with signals."""
    n = draw(st.integers(min_size, max_size))
    moves = st.floats(-0.2, 0.2, allow_nan=False)
    ret = np.array(draw(st.lists(moves, min_size=n, max_size=n)))
    gap = np.array(draw(st.lists(st.floats(-0.02, 0.02), min_size=n, max_size=n)))
    wick = np.array(draw(st.lists(st.floats(0.0, 0.1), min_size=2 * n, max_size=2 * n))).reshape(2, n)
    close = 1.0 * np.exp(np.cumsum(ret))
    open_ = np.concatenate([[1.0], close[:-1]]) * np.exp(gap)
    signals = draw(st.lists(st.sampled_from([-1, 0, 1]), min_size=n, max_size=n))
    return pl.DataFrame(
        {
            "open_time": [START + i * timedelta(hours=12) for i in range(n)],
            "open": open_,
            "high": np.maximum(open_, close) * np.exp(wick[0]),
            "low": np.minimum(open_, close) * np.exp(-wick[1]),
            "close": close,
            "direction": signals,
        },
        schema_overrides={"open_time": pl.Datetime("ms", "UTC"), "direction": pl.Int8},
    )


modes = st.sampled_from(["hold", "per_bar"])
FAST = settings(max_examples=40, deadline=None)


def product_identity(frame: pl.DataFrame) -> float:
    """initial * prod_t (1 + s_{t-1} (close_t / open_t - 1)), t = 1..T-1."""
    s = frame["direction"].to_numpy()[:-1]
    r = (frame["close"] / frame["open"] - 1).to_numpy()[1:]
    return 10000.0 * float(np.prod(1 + s * r))


@FAST
@given(markets())
def test_per_bar_without_costs_is_the_product_of_candle_returns(frame: pl.DataFrame) -> None:
    res = run_backtest(
        frame, BacktestConfig(mode="per_bar", fee_rate=0.0, leverage=1.0, maintenance_margin_rate=0.0)
    )
    assume(res.metrics["liquidated"] == 0)  # a short at leverage 1 liquidates only if the price doubles
    assert abs(res.metrics["final_equity"] - product_identity(frame)) <= 1e-9 * product_identity(frame)


def test_product_identity_on_a_long_synthetic_series() -> None:
    candles = synthetic_candles(2000, seed=5)
    signals = np.random.default_rng(5).choice([-1, 0, 1], size=candles.height)
    frame = candles.with_columns(direction=pl.Series(signals, dtype=pl.Int8))
    res = run_backtest(frame, BacktestConfig(mode="per_bar", fee_rate=0.0))
    assert abs(res.metrics["final_equity"] / product_identity(frame) - 1) < 1e-9


@FAST
@given(markets(min_size=4), st.data(), modes, st.sampled_from([0.0, 0.0005]), st.sampled_from([1.0, 3.0]))
def test_changing_signals_after_t_never_changes_the_past(frame, data, mode, fee, leverage) -> None:
    """Signals after candle t leave equity up to t and positions up to t+1 unchanged; with no exit
    costs (or per_bar, which always exits) equity up to t+1 too. In hold mode with costs, equity at
    close_{t+1} may differ: whether the trade exits there is decided by s_{t+1}, known at that close."""
    t = data.draw(st.integers(0, frame.height - 2))
    tail = data.draw(
        st.lists(st.sampled_from([-1, 0, 1]), min_size=frame.height - t - 1, max_size=frame.height - t - 1)
    )
    changed = frame.with_columns(
        direction=pl.Series(frame["direction"].to_list()[: t + 1] + tail, dtype=pl.Int8)
    )
    args = dict(mode=mode, fee_rate=fee, leverage=leverage, funding_rate_8h=0.0003, slippage_bps=2.0)
    a, b = (
        run_backtest(frame, BacktestConfig(**args)).equity,
        run_backtest(changed, BacktestConfig(**args)).equity,
    )
    assert a["position"].to_list()[: t + 2] == b["position"].to_list()[: t + 2]
    assert a["equity"].to_list()[: t + 1] == b["equity"].to_list()[: t + 1]
    costless = dict(mode=mode, fee_rate=0.0, leverage=leverage, funding_rate_8h=0.0003)
    a, b = (
        run_backtest(frame, BacktestConfig(**costless)).equity,
        run_backtest(changed, BacktestConfig(**costless)).equity,
    )
    # (at close_{t+1} one run marks the open trade to market, the other settles it: the same amount,
    # computed two ways, equal to rounding)
    np.testing.assert_allclose(a["equity"].to_numpy()[: t + 2], b["equity"].to_numpy()[: t + 2], rtol=1e-13)
    if mode == "per_bar":
        a, b = (
            run_backtest(frame, BacktestConfig(**args)).equity,
            run_backtest(changed, BacktestConfig(**args)).equity,
        )
        assert a["equity"].to_list()[: t + 2] == b["equity"].to_list()[: t + 2]


@FAST
@given(markets(), modes, st.floats(0.0, 1.0, exclude_max=True), st.floats(0.1, 0.99), st.floats(0.0, 0.003))
def test_equity_stays_positive_without_leverage(frame, mode, leverage_below_one, fraction, fee) -> None:
    """Leverage <= 1 and part of the equity kept aside: even a liquidation cannot empty the account."""
    res = run_backtest(
        frame,
        BacktestConfig(
            mode=mode,
            leverage=max(leverage_below_one, 0.05),
            position_fraction=fraction,
            fee_rate=fee,
            funding_rate_8h=0.0001,
        ),
    )
    assert (res.equity["equity"] > 0).all()


@FAST
@given(markets(), modes)
def test_long_only_at_leverage_one_never_liquidates_nor_empties(frame, mode) -> None:
    long_only = frame.with_columns(pl.col("direction").abs())
    res = run_backtest(long_only, BacktestConfig(mode=mode, leverage=1.0, fee_rate=0.001))
    assert res.metrics["liquidated"] == 0 and (res.equity["equity"] > 0).all()


@FAST
@given(
    markets(),
    modes,
    st.floats(0.0, 0.002),
    st.floats(0.0, 0.002),
    st.sampled_from([1.0, 2.0, 3.0]),
    st.floats(-0.001, 0.001),
)
def test_higher_fees_never_raise_final_equity(frame, mode, fee_a, fee_b, leverage, funding) -> None:
    low, high = sorted((fee_a, fee_b))
    args = dict(mode=mode, leverage=leverage, position_fraction=0.9, funding_rate_8h=funding)
    cheap = run_backtest(frame, BacktestConfig(fee_rate=low, **args)).metrics["final_equity"]
    dear = run_backtest(frame, BacktestConfig(fee_rate=high, **args)).metrics["final_equity"]
    assert dear <= cheap * (1 + 1e-12)


@FAST
@given(markets(), modes, st.sampled_from([0.0, 0.0005]), st.sampled_from([1.0, 5.0, 20.0]))
def test_trade_pnl_adds_up_to_the_equity_change(frame, mode, fee, leverage) -> None:
    res = run_backtest(
        frame,
        BacktestConfig(
            mode=mode,
            fee_rate=fee,
            leverage=leverage,
            funding_rate_8h=0.0002,
            slippage_bps=3.0,
            position_fraction=0.7,
        ),
    )
    total = res.trades["pnl"].sum()
    assert abs(res.metrics["final_equity"] - 10000 - total) <= 1e-9 * 10000
    # every trade's return is its pnl over the equity before it, and pnl follows the contract's formula
    t = res.trades
    assert np.allclose(t["pnl"], t["return"] * (10000 + t["pnl"].cum_sum() - t["pnl"]), rtol=1e-9, atol=1e-9)
    open_ = t.filter(~pl.col("liquidated"))
    formula = (
        open_["side"] * open_["qty"] * (open_["exit_price"] - open_["entry_price"])
        - open_["fees"]
        - open_["funding"]
    )
    assert np.allclose(open_["pnl"], formula, rtol=1e-9, atol=1e-9)
    liq = t.filter("liquidated")
    assert np.allclose(-liq["pnl"], liq["qty"] * liq["entry_price"] / leverage, rtol=1e-9)  # pnl = -margin


@FAST
@given(markets(), modes)
def test_only_fraction_times_leverage_matters_without_liquidation(frame, mode) -> None:
    half = run_backtest(
        frame, BacktestConfig(mode=mode, leverage=2.0, position_fraction=0.5, fee_rate=0.0005)
    )
    assume(half.metrics["liquidated"] == 0)
    whole = run_backtest(
        frame, BacktestConfig(mode=mode, leverage=1.0, position_fraction=1.0, fee_rate=0.0005)
    )
    assume(whole.metrics["liquidated"] == 0)
    assert np.allclose(half.equity["equity"], whole.equity["equity"], rtol=1e-12)
