"""Backtest-live parity: replaying history candle by candle through the live decision gives the
backtest's position side in the next candle.

The live path is ``latest_signal`` (which goes through ``forecast_frame``, like the backtest's
forecasts) on the candles truncated at t, then the pure ``decide`` with the account carried from
the previous candle. The backtest holds ``s_t`` during candle t+1 (contract section 3, hold mode).
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from adalib.backtest import BacktestConfig, run_backtest
from adalib.binance.rules import ADAUSDT_ASSUMED_INFO, SymbolRules
from adalib.data import synthetic_candles
from adalib.execution import Account, decide, signal_from
from adalib.forecast import Forecaster, forecast_frame, latest_signal, load_weights
from adalib.util.paths import REPO_ROOT

RULES = SymbolRules.from_exchange_info(ADAUSDT_ASSUMED_INFO, "ADAUSDT")
FIXED = Forecaster(
    coef=(0.05, -0.08), intercept=0.0004, lags=2, resid_std=0.04, symbol="ADAUSDT", interval="12h",
    train_start="2020-01-01T00:00:00Z", train_end="2020-06-01T00:00:00Z",
)  # fmt: skip


def live_sides(candles: pl.DataFrame, forecaster: Forecaster, threshold: float) -> list[int]:
    """The side of the live position after each candle's run, replaying the candles one at a time."""
    position, sides = Decimal(0), []
    for t in range(forecaster.lags, candles.height):  # the first candle with all lags
        seen = candles.head(t + 1)  # nothing after the close of candle t
        signal = signal_from(latest_signal(seen, forecaster, threshold=threshold))
        mark = Decimal(str(seen["close"][-1]))
        decision = decide(signal, Account(Decimal(10000), position), mark, RULES, symbol="ADAUSDT")
        position += sum((o.quantity if o.side == "BUY" else -o.quantity) for o in decision.orders)
        sides.append((position > 0) - (position < 0))
    return sides


def backtest_sides(candles: pl.DataFrame, forecaster: Forecaster, threshold: float) -> list[int]:
    """The sign of the backtest's position in each candle (hold mode, the whole history)."""
    forecasts = forecast_frame(candles, forecaster, threshold=threshold)
    frame = forecasts.select("open_time", "direction").join(candles, on="open_time")
    equity = run_backtest(frame, BacktestConfig(mode="hold", leverage=1.0)).equity
    return equity["position"].sign().cast(pl.Int8).to_list()


def assert_parity(candles: pl.DataFrame, forecaster: Forecaster, threshold: float) -> None:
    live, backtest = (
        live_sides(candles, forecaster, threshold),
        backtest_sides(candles, forecaster, threshold),
    )
    assert len(live) == len(backtest) == candles.height - forecaster.lags
    assert backtest[0] == 0  # no signal before the first forecast
    mismatches = [t for t in range(len(live) - 1) if live[t] != backtest[t + 1]]
    assert mismatches == [], f"{len(mismatches)} candles differ, first at forecast row {mismatches[:1]}"
    assert {-1, 1} <= set(live)  # both sides occur: the comparison is not vacuous


@pytest.mark.parametrize("threshold", [0.0, 0.004])
def test_parity_on_synthetic_candles(threshold):
    assert_parity(synthetic_candles(500, seed=3), FIXED, threshold)


def test_parity_on_the_real_history_with_the_committed_model(real_candles):
    weights = REPO_ROOT / "model_weights.pth"
    if not weights.exists():
        pytest.skip("model_weights.pth not found (ADA_ML_model.ipynb writes it)")
    assert_parity(real_candles, load_weights(weights), 0.0)
