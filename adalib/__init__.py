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
    # util: parameter checks (before any work) and artifact sets (outputs written together)
    "ParameterError": "adalib.util.validate",
    "check_bool": "adalib.util.validate",
    "check_choice": "adalib.util.validate",
    "check_input_file": "adalib.util.validate",
    "check_instant": "adalib.util.validate",
    "check_int": "adalib.util.validate",
    "check_number": "adalib.util.validate",
    "check_optional_number": "adalib.util.validate",
    "check_output_dir": "adalib.util.validate",
    "check_output_file": "adalib.util.validate",
    "check_symbol": "adalib.util.validate",
    "check_window": "adalib.util.validate",
    "ArtifactMismatchError": "adalib.util.artifacts",
    "ArtifactWriteError": "adalib.util.artifacts",
    "check_agree": "adalib.util.artifacts",
    "file_tags": "adalib.util.artifacts",
    "read_manifest": "adalib.util.artifacts",
    "reading_artifact_set": "adalib.util.artifacts",
    "recover_artifact_set": "adalib.util.artifacts",
    "write_artifact_set": "adalib.util.artifacts",
    # data
    "Candles": "adalib.data",
    "CandleDataError": "adalib.data",
    "load_candles": "adalib.data",
    "synthetic_candles": "adalib.data",
    # forecast
    "ForecastParams": "adalib.forecast",
    "ForecastStudy": "adalib.forecast",
    "Forecaster": "adalib.forecast",
    "train_forecaster": "adalib.forecast",
    "load_weights": "adalib.forecast",
    "save_weights": "adalib.forecast",
    "forecast_frame": "adalib.forecast",
    "latest_signal": "adalib.forecast",
    "model_metrics": "adalib.forecast",
    "walk_forward_frame": "adalib.forecast",
    "run_forecast_study": "adalib.forecast",
    "compare_orders": "adalib.forecast",
    "clark_west": "adalib.forecast",
    "diebold_mariano": "adalib.forecast",
    "pesaran_timmermann": "adalib.forecast",
    "mincer_zarnowitz": "adalib.forecast",
    "minimum_detectable": "adalib.forecast",
    "significance": "adalib.forecast",
    "verdicts": "adalib.forecast",
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
    "SelectionRule": "adalib.backtest.selection",
    "StrategyReport": "adalib.backtest.narrative",
    "StrategyStudy": "adalib.backtest.study",
    "baseline_metrics": "adalib.backtest.baselines",
    "bootstrap_intervals": "adalib.backtest.uncertainty",
    "preregistered_selection": "adalib.backtest.selection",
    "random_signals": "adalib.backtest.baselines",
    "regime_table": "adalib.backtest.events",
    "save_strategy_study": "adalib.backtest.study",
    "strategy_study": "adalib.backtest.study",
    "top_trades": "adalib.backtest.events",
    # execution
    "ExecutionParams": "adalib.execution",
    "ExecutionResult": "adalib.execution",
    "ExecutionRefused": "adalib.execution",
    "ExecutionMismatch": "adalib.execution",
    "run_execution": "adalib.execution",
    "reversal_candles": "adalib.execution",
    "after_close": "adalib.execution",
    "demo_folder": "adalib.execution",
    "replay_execution": "adalib.execution",
    "research_findings": "adalib.execution",
    # binance
    "BinanceClient": "adalib.binance",
    "FakeBinance": "adalib.binance",
    "Journal": "adalib.binance",
    "journal_frame": "adalib.binance",
    # reports
    "Table": "adalib.report",
    "data_banner": "adalib.report",
    "format_value": "adalib.report",
    "setup_charts": "adalib.report",
    "setup_reports": "adalib.report",
    "show_data_banner": "adalib.report",
    "table": "adalib.report",
    "time_x": "adalib.report",
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
    from adalib.backtest.baselines import baseline_metrics, random_signals
    from adalib.backtest.events import regime_table, top_trades
    from adalib.backtest.narrative import StrategyReport
    from adalib.backtest.selection import SelectionRule, preregistered_selection
    from adalib.backtest.study import StrategyStudy, save_strategy_study, strategy_study
    from adalib.backtest.uncertainty import bootstrap_intervals
    from adalib.binance import BinanceClient, FakeBinance, Journal, journal_frame
    from adalib.data import CandleDataError, Candles, load_candles, synthetic_candles
    from adalib.execution import (
        ExecutionMismatch,
        ExecutionParams,
        ExecutionRefused,
        ExecutionResult,
        after_close,
        demo_folder,
        replay_execution,
        research_findings,
        reversal_candles,
        run_execution,
    )
    from adalib.forecast import (
        Forecaster,
        ForecastParams,
        ForecastStudy,
        clark_west,
        compare_orders,
        diebold_mariano,
        forecast_frame,
        latest_signal,
        load_weights,
        mincer_zarnowitz,
        minimum_detectable,
        model_metrics,
        pesaran_timmermann,
        run_forecast_study,
        save_weights,
        significance,
        train_forecaster,
        verdicts,
        walk_forward_frame,
    )
    from adalib.report import (
        Table,
        data_banner,
        format_value,
        setup_charts,
        setup_reports,
        show_data_banner,
        table,
        time_x,
    )
    from adalib.util.artifacts import (
        ArtifactMismatchError,
        ArtifactWriteError,
        check_agree,
        file_tags,
        read_manifest,
        reading_artifact_set,
        recover_artifact_set,
        write_artifact_set,
    )
    from adalib.util.validate import (
        ParameterError,
        check_bool,
        check_choice,
        check_input_file,
        check_instant,
        check_int,
        check_number,
        check_optional_number,
        check_output_dir,
        check_output_file,
        check_symbol,
        check_window,
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
