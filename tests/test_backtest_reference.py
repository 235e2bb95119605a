"""The engine against an independent, plain candle-by-candle reading of contract section 3.

``reference_backtest`` below shares no code with ``adalib.backtest``: it walks the candles
one at a time with an explicit book (cash, open trade), lists funding events hour by hour,
and checks liquidation on each held candle. Engine and loop must agree to 1e-9 (relative)
on every trade, every equity row and the final equity, on synthetic data (always) and on
the real ADAUSDT candles (when the cache exists).
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from adalib.backtest import run_backtest
from adalib.data import synthetic_candles

HOUR = timedelta(hours=1)
FUNDING_HOURS = (0, 8, 16)


def reference_backtest(candles: pl.DataFrame, signals, cfg: dict) -> tuple[list[dict], list[tuple]]:
    """Candle loop: returns (trades as dicts, equity rows as (position, equity))."""
    rows = candles.to_dicts()
    step = rows[1]["open_time"] - rows[0]["open_time"]
    slip = cfg["slippage_bps"] / 1e4
    fee, lev, frac = cfg["fee_rate"], cfg["leverage"], cfg["position_fraction"]
    mmr, rate = cfg["maintenance_margin_rate"], cfg["funding_rate_8h"]
    cash, book, trades, equity = cfg["initial_capital"], None, [], []
    for u, c in enumerate(rows):
        want = signals[u - 1] if u > 0 else 0  # the position for candle u is the previous signal
        if book is None and want != 0 and cash > 0:  # open at this candle's open
            entry = c["open"] * (1 + want * slip)
            margin = frac * cash
            qty = margin * lev / entry
            liq = entry * (1 - 1 / lev) / (1 - mmr) if want > 0 else entry * (1 + 1 / lev) / (1 + mmr)
            book = dict(
                side=want,
                entry=entry,
                qty=qty,
                margin=margin,
                cash_before=cash,
                liq=liq,
                entry_time=c["open_time"],
                entry_fee=fee * qty * entry,
                funding=0.0,
            )
        if book is None:
            equity.append((0.0, cash))
            continue
        s, qty = book["side"], book["qty"]
        position = s * qty
        if (s > 0 and c["low"] <= book["liq"]) or (s < 0 and c["high"] >= book["liq"]):
            cash -= book["margin"]
            trades.append(
                dict(
                    entry_time=book["entry_time"],
                    exit_time=c["open_time"] + step,
                    side=s,
                    qty=qty,
                    entry_price=book["entry"],
                    exit_price=book["liq"],
                    fees=book["entry_fee"],
                    funding=book["funding"],
                    pnl=-book["margin"],
                    ret=-book["margin"] / book["cash_before"],
                    liquidated=True,
                )
            )
            book = None
            equity.append((position, cash))
            continue
        hours = [c["open_time"] + k * HOUR for k in range(int(step / HOUR))]
        events = [h for h in hours if h.hour in FUNDING_HOURS and h > book["entry_time"]]
        book["funding"] += sum(s * qty * c["open"] * rate for _ in events)
        leaving = cfg["mode"] == "per_bar" or u == len(rows) - 1 or signals[u] != s
        if leaving:
            exit_fill = c["close"] * (1 - s * slip)
            fees = book["entry_fee"] + fee * qty * exit_fill
            pnl = s * qty * (exit_fill - book["entry"]) - fees - book["funding"]
            cash += pnl
            trades.append(
                dict(
                    entry_time=book["entry_time"],
                    exit_time=c["open_time"] + step,
                    side=s,
                    qty=qty,
                    entry_price=book["entry"],
                    exit_price=exit_fill,
                    fees=fees,
                    funding=book["funding"],
                    pnl=pnl,
                    ret=pnl / book["cash_before"],
                    liquidated=False,
                )
            )
            book = None
            equity.append((position, cash))
        else:
            mark = cash + s * qty * (c["close"] - book["entry"]) - book["entry_fee"] - book["funding"]
            equity.append((position, mark))
    return trades, equity


def assert_same(candles: pl.DataFrame, signals: np.ndarray, cfg: dict) -> None:
    frame = candles.select("open_time", "open", "high", "low", "close").with_columns(
        direction=pl.Series(signals, dtype=pl.Int8)
    )
    res = run_backtest(frame, **cfg)
    ref_trades, ref_equity = reference_backtest(candles, [int(x) for x in signals], cfg)
    eq = np.array([e for _, e in ref_equity])
    pos = np.array([p for p, _ in ref_equity])
    np.testing.assert_allclose(
        res.equity["equity"].to_numpy(), eq, rtol=1e-9, atol=1e-9 * cfg["initial_capital"]
    )
    np.testing.assert_allclose(res.equity["position"].to_numpy(), pos, rtol=1e-9, atol=1e-12)
    assert abs(res.metrics["final_equity"] - eq[-1]) <= 1e-9 * max(abs(eq[-1]), 1e-9 * cfg["initial_capital"])
    assert res.trades.height == len(ref_trades)
    if ref_trades:
        ref = pl.DataFrame(ref_trades).rename({"ret": "return"})
        got = res.trades
        for col in ("entry_time", "exit_time", "side", "liquidated"):
            assert got[col].to_list() == ref[col].to_list(), col
        for col in ("qty", "entry_price", "exit_price", "fees", "funding", "pnl", "return"):
            scale = np.abs(ref[col].to_numpy()).max() + 1e-300
            np.testing.assert_allclose(
                got[col].to_numpy(), ref[col].to_numpy(), rtol=1e-9, atol=1e-12 * scale
            )
    assert res.metrics["n_trades"] == len(ref_trades)
    assert res.metrics["liquidated"] == sum(t["liquidated"] for t in ref_trades)


def random_config(rng: np.random.Generator) -> dict:
    return dict(
        mode=str(rng.choice(["hold", "per_bar"])),
        fee_rate=float(rng.choice([0.0, 0.00045, 0.0005, 0.002])),
        slippage_bps=float(rng.choice([0.0, 1.0, 5.0])),
        leverage=float(rng.choice([0.5, 1.0, 3.0, 10.0, 25.0])),
        position_fraction=float(rng.choice([0.3, 1.0])),
        maintenance_margin_rate=float(rng.choice([0.0, 0.005, 0.02])),
        funding_rate_8h=float(rng.choice([0.0, 0.0001, -0.0003])),
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


def test_loop_agreement_covers_liquidations_and_ruin() -> None:
    """High leverage on synthetic data: liquidations in both directions, and full-margin ruin."""
    candles = synthetic_candles(600, seed=3)
    rng = np.random.default_rng(0)
    signals = random_signals(rng, candles.height)
    for frac in (0.5, 1.0):
        cfg = dict(
            mode="hold",
            fee_rate=0.0005,
            slippage_bps=2.0,
            leverage=20.0,
            position_fraction=frac,
            maintenance_margin_rate=0.005,
            funding_rate_8h=0.0001,
            initial_capital=10000.0,
        )
        res = run_backtest(candles.with_columns(direction=pl.Series(signals, dtype=pl.Int8)), **cfg)
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
    cfg = dict(
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
