"""Backtest layer (contract section 3): a frozen config, a numpy engine, its readable reference loop,
sweeps, metrics and their significance.

>>> from adalib.backtest import BacktestConfig, run_backtest, sweep
>>> from adalib.backtest.engine import demo_frame
>>> run_backtest(demo_frame(), BacktestConfig(leverage=2.0)).metrics["n_trades"]
2
>>> sweep(demo_frame(), leverage=[1.0, 2.0]).height
2

Modules: ``config`` (BacktestConfig, layouts), ``inputs`` (frame checks), ``funding`` (history
files, per-candle rates), ``kernels`` (numpy), ``engine`` (run_backtest), ``reference`` (the
plain loop), ``result`` (tables, files), ``metrics``, ``returns``, ``significance``, ``sweep``,
``segment`` (the forecasts segment; it needs the forecast layer, so it loads only when used:
``import adalib.backtest`` imports neither torch nor scipy).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from adalib.backtest.config import EQUITY_SCHEMA, TRADE_SCHEMA, BacktestConfig, BacktestError
from adalib.backtest.engine import buy_and_hold, run_backtest
from adalib.backtest.funding import check_funding_coverage, read_funding
from adalib.backtest.metrics import PERIODS_PER_YEAR
from adalib.backtest.reference import reference_backtest
from adalib.backtest.result import BacktestResult, save_backtest
from adalib.backtest.returns import drawdown, format_metric, monthly_returns, period_returns, rolling_sharpe
from adalib.backtest.significance import deflated_sharpe, probabilistic_sharpe, return_significance
from adalib.backtest.sweep import sweep

_LAZY = {name: "adalib.backtest.segment" for name in
         ("ForecastsError", "Segment", "load_segment", "read_forecasts", "walk_forward_signal")}  # fmt: skip

if TYPE_CHECKING:
    from adalib.backtest.segment import (
        ForecastsError,
        Segment,
        load_segment,
        read_forecasts,
        walk_forward_signal,
    )

__all__ = [
    "EQUITY_SCHEMA",
    "PERIODS_PER_YEAR",
    "TRADE_SCHEMA",
    "BacktestConfig",
    "BacktestError",
    "BacktestResult",
    "ForecastsError",
    "Segment",
    "buy_and_hold",
    "check_funding_coverage",
    "deflated_sharpe",
    "drawdown",
    "format_metric",
    "load_segment",
    "monthly_returns",
    "period_returns",
    "probabilistic_sharpe",
    "read_forecasts",
    "read_funding",
    "reference_backtest",
    "return_significance",
    "rolling_sharpe",
    "run_backtest",
    "save_backtest",
    "sweep",
    "walk_forward_signal",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'adalib.backtest' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
