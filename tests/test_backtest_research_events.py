"""Influential trades and candles, the result without them (cross-checked against the engine), regimes."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest

from adalib.backtest import BacktestConfig, run_backtest
from adalib.backtest.events import (
    regime_labels,
    regime_table,
    top_candles,
    top_trades,
    without_each,
    without_top,
)
from adalib.data import synthetic_candles


def frame_of(n: int = 120, seed: int = 7) -> pl.DataFrame:
    """Synthetic candles with random signals."""
    frame = synthetic_candles(n, seed=seed)
    rng = np.random.default_rng(seed)
    return frame.with_columns(direction=pl.Series(rng.choice([-1, 0, 1], size=frame.height), dtype=pl.Int8))


def test_without_each_is_exact_also_for_a_total_loss() -> None:
    assert without_each(np.array([0.1, -0.5, 0.2])) == pytest.approx([0.6, 1.32, 0.55])
    assert without_each(np.array([0.5, -1.0, 0.2])) == pytest.approx([0.0, 1.8, 0.0])
    assert without_each(np.array([0.3])) == pytest.approx([1.0])


def test_final_equity_is_the_compounded_trade_returns() -> None:
    frame = frame_of()
    for mode in ("hold", "per_bar"):
        result = run_backtest(frame, BacktestConfig(mode=mode, fee_rate=0.0005, leverage=2.0))
        growth = float((1 + result.trades["return"]).product())
        assert result.metrics["final_equity"] == pytest.approx(10000.0 * growth, rel=1e-9)


def test_the_result_without_a_trade_is_the_backtest_with_that_trade_flat() -> None:
    frame = frame_of()
    config = BacktestConfig(mode="per_bar", fee_rate=0.0005)
    result = run_backtest(frame, config)
    top = top_trades(result.trades, config.initial_capital, k=3)
    impacts = np.abs(np.log1p(result.trades["return"].to_numpy()))
    assert top["rank"].to_list() == [1, 2, 3]
    assert np.abs(np.log1p(top["return"].to_numpy())) == pytest.approx(np.sort(impacts)[::-1][:3])
    for row in top.iter_rows(named=True):
        # per_bar: the trade in candle u comes from the signal of candle u - 1; silence it
        u = frame["open_time"].to_list().index(row["entry_time"])
        flat = frame.with_columns(
            direction=pl.when(pl.int_range(pl.len()) == u - 1).then(0).otherwise("direction").cast(pl.Int8)
        )
        assert run_backtest(flat, config).metrics["total_return"] == pytest.approx(
            row["total_return_without"]
        )


def test_without_top_removes_the_k_largest_together() -> None:
    trades = pl.DataFrame({"return": [0.1, -0.5, 0.2, 0.05]})
    assert without_top(trades, 2) == pytest.approx(1.1 * 1.05 - 1)
    assert without_top(trades, 9) == 0.0
    assert np.isnan(without_top(trades.clear(), 1))
    assert top_trades(trades.clear(), 1.0).height == 0


def test_a_planted_jump_while_short_is_the_top_candle() -> None:
    frame = frame_of(80).with_columns(direction=pl.lit(-1, pl.Int8))
    jump, i = 40, pl.int_range(pl.len())
    # ADA +71% within candle 40 (open to close), and every later candle on the new level
    after = pl.when(i > jump).then(1.71).otherwise(1.0)
    frame = frame.with_columns([pl.col(c) * after for c in ("open", "high", "low", "close")])
    frame = frame.with_columns(
        close=pl.when(i == jump).then(pl.col("open") * 1.71).otherwise("close"),
        high=pl.when(i == jump).then(pl.col("open") * 1.75).otherwise("high"),
    )
    result = run_backtest(frame, BacktestConfig(mode="hold", fee_rate=0.0))
    top = top_candles(frame, result.equity, k=2).row(0, named=True)
    assert top["open_time"] == frame["open_time"][jump]
    assert (top["side"], round(top["ada_move"], 6)) == (-1, 0.71)
    assert top["strategy_return"] < -0.3  # the short had gained before: equity above the notional
    final = result.metrics["final_equity"] / 10000.0
    assert top["total_return_without"] == pytest.approx(final / (1 + top["strategy_return"]) - 1)


def test_regime_labels_use_only_the_window_before_each_candle() -> None:
    frame = frame_of(50)
    labels = regime_labels(frame, window=10)
    logs = np.log(frame["close"].to_numpy()[1:] / frame["close"].to_numpy()[:-1])
    k = 30  # candle 30: returns of candles 20..29 (log returns index 19..28)
    assert labels["trailing_vol"][k] == pytest.approx(np.std(logs[k - 11 : k - 1], ddof=1))
    assert labels["trailing_return"][k] == pytest.approx(frame["close"][k - 1] / frame["close"][k - 11] - 1)
    assert labels["trailing_vol"][:11].null_count() == 11


def test_regime_table_by_hand() -> None:
    t = [datetime(2024, 1, 1, h, tzinfo=UTC) for h in range(6)]
    returns = pl.DataFrame({"open_time": t, "strategy": [0.1, -0.1, 0.2, 0.0, 0.05, -0.05],
                            "buy_hold": [0.0] * 6})  # fmt: skip
    labels = pl.DataFrame({"open_time": t, "trailing_vol": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                           "trailing_return": [-3.0, -2.0, -1.0, 1.0, 2.0, 3.0]})  # fmt: skip
    table = regime_table(returns, labels)
    got = {(r["regime"], r["group"]): r for r in table.iter_rows(named=True)}
    assert table["group"].to_list() == ["low", "mid", "high", "bull", "bear"]
    assert got[("volatility", "low")]["strategy_return"] == pytest.approx(1.1 * 0.9 - 1)
    assert got[("volatility", "high")]["strategy_return"] == pytest.approx(1.05 * 0.95 - 1)
    assert got[("trend", "bear")]["strategy_return"] == pytest.approx(1.1 * 0.9 * 1.2 - 1)
    assert got[("trend", "bull")]["n_candles"] == 3 and got[("volatility", "mid")]["buy_hold_sharpe"] is None
    assert regime_table(returns, labels.with_columns(trailing_vol=None)).height == 0
