"""adalib: research-to-execution kit for ADA/USDT perpetual futures on Binance USDT-M.

Everything a notebook or a script needs is a top-level name; the layers below are
``adalib.data`` -> ``adalib.forecast`` -> ``adalib.backtest``, and ``adalib.execution`` over
``adalib.binance``. Names load lazily, so ``import adalib`` is cheap and a backtest never
imports torch.

>>> import adalib
>>> candles = adalib.load_candles("synthetic", end="2021-01-01")
>>> forecaster, forecasts = adalib.train_forecaster(candles, lags=2)
>>> candles.frame.columns, forecaster.lags
(['open_time', 'open', 'high', 'low', 'close', 'volume'], 2)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

# public name -> the module that defines it (one section per layer)
_EXPORTS: dict[str, str] = {
    # data
    "Candles": "adalib.data",
    "CandleDataError": "adalib.data",
    "load_candles": "adalib.data",
    "synthetic_candles": "adalib.data",
    # forecast
    "Forecaster": "adalib.forecast",
    "train_forecaster": "adalib.forecast",
    "load_weights": "adalib.forecast",
    "save_weights": "adalib.forecast",
    "forecast_frame": "adalib.forecast",
    "latest_signal": "adalib.forecast",
    "model_metrics": "adalib.forecast",
    "walk_forward_frame": "adalib.forecast",
    # backtest
    "BacktestConfig": "adalib.backtest",
    "BacktestError": "adalib.backtest",
    "BacktestResult": "adalib.backtest",
    "EQUITY_SCHEMA": "adalib.backtest",
    "ForecastsError": "adalib.backtest",
    "PERIODS_PER_YEAR": "adalib.backtest",
    "Segment": "adalib.backtest",
    "TRADE_SCHEMA": "adalib.backtest",
    "buy_and_hold": "adalib.backtest",
    "check_funding_coverage": "adalib.backtest",
    "deflated_sharpe": "adalib.backtest",
    "drawdown": "adalib.backtest",
    "format_metric": "adalib.backtest",
    "load_segment": "adalib.backtest",
    "monthly_returns": "adalib.backtest",
    "period_returns": "adalib.backtest",
    "probabilistic_sharpe": "adalib.backtest",
    "read_forecasts": "adalib.backtest",
    "read_funding": "adalib.backtest",
    "reference_backtest": "adalib.backtest",
    "return_significance": "adalib.backtest",
    "rolling_sharpe": "adalib.backtest",
    "run_backtest": "adalib.backtest",
    "save_backtest": "adalib.backtest",
    "sweep": "adalib.backtest",
    "walk_forward_signal": "adalib.backtest",
    # execution
    "ExecutionParams": "adalib.execution",
    "ExecutionResult": "adalib.execution",
    "ExecutionRefused": "adalib.execution",
    "ExecutionMismatch": "adalib.execution",
    "run_execution": "adalib.execution",
    "reversal_candles": "adalib.execution",
    "after_close": "adalib.execution",
    "replay_execution": "adalib.execution",
    "research_findings": "adalib.execution",
    # binance
    "BinanceClient": "adalib.binance",
    "FakeBinance": "adalib.binance",
    "Journal": "adalib.binance",
    "journal_frame": "adalib.binance",
    # reports
    "setup_charts": "adalib.report",
    "show_data_banner": "adalib.report",
}

__all__ = ["__version__", *sorted(_EXPORTS)]

if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from adalib.backtest import (
        EQUITY_SCHEMA,
        PERIODS_PER_YEAR,
        TRADE_SCHEMA,
        BacktestConfig,
        BacktestError,
        BacktestResult,
        ForecastsError,
        Segment,
        buy_and_hold,
        check_funding_coverage,
        deflated_sharpe,
        drawdown,
        format_metric,
        load_segment,
        monthly_returns,
        period_returns,
        probabilistic_sharpe,
        read_forecasts,
        read_funding,
        reference_backtest,
        return_significance,
        rolling_sharpe,
        run_backtest,
        save_backtest,
        sweep,
        walk_forward_signal,
    )
    from adalib.binance import BinanceClient, FakeBinance, Journal, journal_frame
    from adalib.data import CandleDataError, Candles, load_candles, synthetic_candles
    from adalib.execution import (
        ExecutionMismatch,
        ExecutionParams,
        ExecutionRefused,
        ExecutionResult,
        after_close,
        replay_execution,
        research_findings,
        reversal_candles,
        run_execution,
    )
    from adalib.forecast import (
        Forecaster,
        forecast_frame,
        latest_signal,
        load_weights,
        model_metrics,
        save_weights,
        train_forecaster,
        walk_forward_frame,
    )
    from adalib.report import setup_charts, show_data_banner


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'adalib' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
