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
    # execution
    "ExecutionParams": "adalib.execution",
    "ExecutionResult": "adalib.execution",
    "ExecutionRefused": "adalib.execution",
    "ExecutionMismatch": "adalib.execution",
    "run_execution": "adalib.execution",
    "reversal_candles": "adalib.execution",
    "research_findings": "adalib.execution",
    # binance
    "BinanceClient": "adalib.binance",
    "FakeBinance": "adalib.binance",
    "Journal": "adalib.binance",
    "journal_frame": "adalib.binance",
    # reports
}

__all__ = ["__version__", *sorted(_EXPORTS)]

if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from adalib.binance import BinanceClient, FakeBinance, Journal, journal_frame
    from adalib.data import CandleDataError, Candles, load_candles, synthetic_candles
    from adalib.execution import (
        ExecutionMismatch,
        ExecutionParams,
        ExecutionRefused,
        ExecutionResult,
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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'adalib' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
