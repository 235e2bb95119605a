"""The replay: the execution over historical candles against the local exchange, beside the backtest."""

from __future__ import annotations

import pytest
from exec_support import write_weights

from adalib.data import synthetic_candles
from adalib.execution.replay import replay_execution


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    folder = tmp_path_factory.mktemp("replay")
    weights = write_weights(folder, intercept=0.0, coef=(-0.3, 0.1))  # reversal-ish: both sides occur
    candles = synthetic_candles(300, seed=5)
    return replay_execution(candles, weights, segment="all", last=40, position_fraction=0.5)


def test_the_execution_holds_the_backtest_side_in_every_candle(replay):
    sides = replay.candles
    assert replay.summary["same_side"] == replay.summary["candles"] == sides.height == 39
    assert set(sides["execution_side"]) >= {-1, 1}  # not vacuous
    assert (sides["execution_side"] == sides["backtest_side"]).all()


def test_pnl_differences_add_up_to_fills_fees_and_size(replay):
    trades, summary = replay.trades, replay.summary
    assert trades.height == summary["backtest_trades"] >= 5
    diff = trades["execution_pnl"] - trades["backtest_pnl"]
    parts = trades["fills"] + trades["fees"] + trades["size"]
    assert (diff - parts).abs().max() < 1e-6
    # fills differ by close_t vs open_{t+1}, equal in the synthetic series: per unit, nothing else
    assert abs(summary["fills"]) < 1e-2 and abs(summary["fees"]) < 1e-2
    assert summary["execution_final_equity"] == pytest.approx(
        summary["initial_capital"] + summary["execution_pnl"], abs=1e-6
    )
