"""The shared-signal kernel (``adalib.backtest.dense``, ``adalib.backtest.runs``) against the general
kernel (``adalib.backtest.kernels.simulate``), which the reference loop checks in
test_backtest_reference.py: every trade, every equity and position row, the trade sums, on random
markets and configuration blocks (liquidations, ruin, a cash driven negative by costs, funding
constant and history); the binary-search liquidation test against a brute force, with exact ties;
and the sweep's routing between the two kernels.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest
from backtest_support import candles
from hypothesis import given, settings
from hypothesis import strategies as st
from test_backtest_properties import markets

from adalib.backtest import BacktestConfig, reference_backtest, run_backtest, sweep
from adalib.backtest.dense import simulate_shared
from adalib.backtest.engine import grid_of, market_of
from adalib.backtest.inputs import candle_arrays
from adalib.backtest.kernels import simulate
from adalib.backtest.metrics import trade_sums
from adalib.backtest.runs import first_liquidations, liquidation_price, shared_runs
from adalib.data import synthetic_candles

TRADE_FIELDS = (
    "entry_at", "exit_at", "side", "qty", "entry_price", "exit_price", "fees", "funding", "pnl", "return",
    "liquidated", "stopped",
)  # fmt: skip


def block_configs(rng: np.random.Generator, mode: str, size: int) -> list[BacktestConfig]:
    return [
        BacktestConfig(
            mode=mode,
            fee_rate=float(rng.choice([0.0, 0.0005, 0.01])),
            slippage_bps=float(rng.choice([0.0, 5.0])),
            leverage=float(rng.choice([0.5, 1.0, 3.0, 10.0, 50.0, 125.0])),
            position_fraction=float(rng.choice([1.0, 1.0, 0.5])),
            maintenance_margin_rate=float(rng.choice([0.0, 0.005])),
            funding_rate_8h=float(rng.choice([0.0, 0.0001, -0.001, 0.02])),
            initial_capital=float(rng.choice([1.0, 10000.0])),
        )
        for _ in range(size)
    ]


def funding_history(frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Irregular funding instants (every 4 to 8 hours) with rates of either sign, covering the candles."""
    first = frame["open_time"][0]
    hours = np.concatenate([[0], np.cumsum(rng.integers(4, 9, size=frame.height * 3 + 4))])
    return pl.DataFrame(
        {
            "funding_time": [first + timedelta(hours=int(h)) for h in hours],
            "funding_rate": rng.normal(0.0, 0.005, hours.size),
        },
        schema={"funding_time": pl.Datetime("ms", "UTC"), "funding_rate": pl.Float64},
    )


def assert_block_matches_general_kernel(frame: pl.DataFrame, configs: list[BacktestConfig], funding=None):
    """Each configuration the shared kernel runs equals the general kernel's run of it; the ones it
    leaves are those with a stop or a liquidation that leaves equity. Returns (shared, liquidations)."""
    from adalib.backtest.engine import checked_funding

    c = candle_arrays(frame)
    history = checked_funding(c, funding)
    m, g = market_of(c, history), grid_of(configs, history is not None)
    signal = c.signals["direction"]
    general = simulate(m, np.repeat(signal[:, None], len(configs), axis=1), g)
    runs = shared_runs(m, signal, configs[0].mode == "per_bar")
    block, shared = simulate_shared(m, runs, g)
    trades, equity, position = block.trades(), block.equity(), block.position()
    sums, exposure = block.sums(), block.exposure()
    liquidations = 0
    for j, col in enumerate(np.flatnonzero(shared)):
        mine, theirs = trades["alive"] & (trades["cfg"] == j), general["alive"] & (general["cfg"] == col)
        scale = configs[col].initial_capital
        np.testing.assert_allclose(equity[j], general["equity"][:, col], rtol=1e-9, atol=1e-9 * scale)
        np.testing.assert_allclose(position[j], general["position"][:, col], rtol=1e-9, atol=1e-12)
        for name in TRADE_FIELDS:
            got, want = trades[name][mine], general[name][theirs]
            assert got.shape == want.shape, name
            np.testing.assert_allclose(got.astype(float), want.astype(float), rtol=1e-9, atol=1e-9 * scale)
        assert exposure[j] == np.count_nonzero(general["position"][:, col])
        one = {k: general[k][general["cfg"] == col] for k in ("pnl", "return", "fees", "funding", "alive")}
        one.update({k: general[k][general["cfg"] == col] for k in ("liquidated", "stopped")})
        want_sums = trade_sums(one, 1)
        for key, value in want_sums.items():
            assert sums[key][j] == pytest.approx(value[0], rel=1e-9, abs=1e-9 * scale), key
        liquidations += int(want_sums["liquidated"][0])
    for col in np.flatnonzero(~shared):
        assert configs[col].stop_loss is not None or configs[col].position_fraction < 1
    return shared, liquidations


@pytest.mark.parametrize("seed", range(40))
def test_shared_kernel_matches_general_kernel_on_random_blocks(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 80))
    frame = synthetic_candles(n, seed=seed).drop("volume")
    signal = rng.choice([-1, 0, 1], n, p=[0.35, 0.15, 0.5]).astype(np.int8)
    frame = frame.with_columns(direction=pl.Series(signal, dtype=pl.Int8))
    mode = ["hold", "per_bar"][seed % 2]
    configs = block_configs(rng, mode, int(rng.integers(1, 7)))
    funding = funding_history(frame, rng) if seed % 3 == 0 else None
    assert_block_matches_general_kernel(frame, configs, funding)


def test_the_random_blocks_cover_ruin_partial_margin_and_one_column() -> None:
    """The blocks above are not trivially easy: liquidations, configurations handed to the general
    kernel, and one-configuration blocks (the per-candle liquidation test) all occur."""
    handed, ruins, single = 0, 0, 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(2, 80))
        frame = synthetic_candles(n, seed=seed).drop("volume")
        signal = rng.choice([-1, 0, 1], n, p=[0.35, 0.15, 0.5]).astype(np.int8)
        frame = frame.with_columns(direction=pl.Series(signal, dtype=pl.Int8))
        configs = block_configs(rng, ["hold", "per_bar"][seed % 2], int(rng.integers(1, 7)))
        shared, liquidations = assert_block_matches_general_kernel(frame, configs)
        handed, ruins, single = (
            handed + int((~shared).sum()),
            ruins + liquidations,
            single + (len(configs) == 1),
        )
    assert handed >= 5 and ruins >= 10 and single >= 3


@settings(max_examples=120, deadline=None)
@given(markets(min_size=2, max_size=30), st.data())
def test_shared_kernel_matches_general_kernel_property(frame: pl.DataFrame, data: st.DataObject) -> None:
    mode = data.draw(st.sampled_from(["hold", "per_bar"]))
    configs = [
        BacktestConfig(
            mode=mode,
            fee_rate=data.draw(st.sampled_from([0.0, 0.0005, 0.02])),
            slippage_bps=data.draw(st.sampled_from([0.0, 3.0])),
            leverage=data.draw(st.sampled_from([0.5, 1.0, 2.0, 20.0, 125.0])),
            position_fraction=data.draw(st.sampled_from([0.25, 1.0])),
            maintenance_margin_rate=data.draw(st.sampled_from([0.0, 0.005])),
            funding_rate_8h=data.draw(st.sampled_from([0.0, 0.0001, -0.002])),
        )
        for _ in range(data.draw(st.integers(1, 4)))
    ]
    assert_block_matches_general_kernel(frame, configs)


def brute_force_first_liquidation(frame: pl.DataFrame, cfg: BacktestConfig) -> tuple[int, int]:
    """The first (trade, candle) whose low (long) or high (short) reaches P_liq, candle by candle."""
    c = candle_arrays(frame)
    runs = shared_runs(market_of(c, None, rates=False), c.signals["direction"], cfg.mode == "per_bar")
    slip = cfg.slippage_bps / 1e4
    for t, (a, b, s) in enumerate(zip(runs.entry, runs.last, runs.side, strict=True)):
        entry = c.open[a] * (1 + s * slip)
        p_liq = entry * (1 - s / cfg.leverage) / (1 - s * cfg.maintenance_margin_rate)
        for u in range(a, b + 1):
            if s * ((c.low[u] if s > 0 else c.high[u]) - p_liq) <= 0:
                return t, u
    return -1, -1


@pytest.mark.parametrize("seed", range(20))
def test_first_liquidations_binary_search_equals_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    frame = synthetic_candles(300, seed=seed).drop("volume")
    signal = rng.choice([-1, 0, 1], frame.height, p=[0.45, 0.1, 0.45]).astype(np.int8)
    frame = frame.with_columns(direction=pl.Series(np.repeat(signal[::6], 6)[: frame.height], dtype=pl.Int8))
    configs = [
        BacktestConfig(leverage=float(lev), slippage_bps=float(slip), maintenance_margin_rate=mmr)
        for lev in (1.0, 2.0, 4.0, 8.0, 16.0, 40.0)
        for slip in (0.0, 10.0)
        for mmr in (0.0, 0.01)
    ]
    c = candle_arrays(frame)
    m = market_of(c, None, rates=False)
    runs = shared_runs(m, c.signals["direction"], False)
    trade, candle = first_liquidations(m, runs, grid_of(configs, False))  # several: the binary search
    for j, cfg in enumerate(configs):
        alone = first_liquidations(m, runs, grid_of([cfg], False))  # one: candle by candle
        want = brute_force_first_liquidation(frame, cfg)
        assert (trade[j], candle[j]) == want == (alone[0][0], alone[1][0]), cfg
    assert (trade >= 0).sum() >= 6  # liquidations do happen at high leverage


@pytest.mark.parametrize("width", [1, 3])
def test_a_low_exactly_at_the_liquidation_price_liquidates(width: int) -> None:
    """P_liq of a long at leverage 2 without slippage or maintenance margin is half the entry: a low of
    exactly that is a liquidation (the reference loop's <=), the next float above it is not, in the
    one-configuration test and in the binary search alike."""
    cfg = BacktestConfig(leverage=2.0, maintenance_margin_rate=0.0, fee_rate=0.0)
    for low, liquidated in ((0.5, True), (np.nextafter(0.5, 1.0), False)):
        frame = candles([(1.0, 1.0, 1.0, 1.0), (1.0, 1.1, low, 0.9), (0.9, 1.0, 0.8, 0.95)], [1, 1, 0])
        c = candle_arrays(frame)
        m = market_of(c, None, rates=False)
        runs = shared_runs(m, c.signals["direction"], False)
        trade, candle = first_liquidations(m, runs, grid_of([cfg] * width, False))
        assert (
            (trade.tolist(), candle.tolist()) == ([0] * width, [1] * width)
            if liquidated
            else ([-1] * width,) * 2
        )
        p_liq = liquidation_price(runs, np.array([0]), grid_of([cfg], False), np.array([0]))[0]
        assert p_liq == 0.5
        assert (
            run_backtest(frame, cfg).metrics["liquidated"]
            == reference_backtest(frame, cfg).metrics["liquidated"]
            == int(liquidated)
        )


def test_sweep_routes_stops_and_partial_margin_liquidations_to_the_general_kernel() -> None:
    """A grid mixing the two kernels' configurations: every row equals its own backtest."""
    frame = synthetic_candles(500, seed=11).drop("volume")
    rng = np.random.default_rng(11)
    frame = frame.with_columns(direction=pl.Series(np.repeat(rng.choice([-1, 1], 50), 10), dtype=pl.Int8))
    table = sweep(
        frame,
        leverage=[1.0, 20.0],
        position_fraction=[0.5, 1.0],
        stop_loss=[None, 0.03],
        mode=["hold", "per_bar"],
    )
    for row in table.iter_rows(named=True):
        cfg = BacktestConfig(
            mode=row["mode"], leverage=row["leverage"], position_fraction=row["position_fraction"],
            stop_loss=row["stop_loss"] if row["stop_loss"] == row["stop_loss"] else None,
        )  # fmt: skip
        alone = run_backtest(frame, cfg).metrics
        for key in ("final_equity", "sharpe", "n_trades", "liquidated", "stopped", "fees_paid", "exposure"):
            assert row[key] == pytest.approx(alone[key], rel=1e-9, abs=1e-9), (cfg, key)
    assert table["liquidated"].sum() > 0 and table["stopped"].sum() > 0
