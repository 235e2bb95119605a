"""Forecast layer: the AR(p) model of 12h log returns, its weights file, signals, evaluation, walk-forward.

>>> from adalib.data import synthetic_candles
>>> from adalib.forecast import train_forecaster
>>> forecaster, forecasts = train_forecaster(synthetic_candles(300), lags=2)
>>> forecaster.lags, forecasts["split"].unique(maintain_order=True).to_list()
(2, ['train', 'test'])
"""

from adalib.forecast.evaluation import (
    autocorrelations,
    by_year,
    calibration_table,
    clark_west,
    diebold_mariano,
    hit_rate,
    information_criteria,
    model_metrics,
    ols_table,
    oos_metrics,
    pesaran_timmermann,
    score_table,
)
from adalib.forecast.findings import verdicts
from adalib.forecast.model import INTERVAL, TARGET, ARModel, Forecaster, fit_ar, model_from, ols
from adalib.forecast.orders import best_orders, compare_orders, order_forecasts
from adalib.forecast.params import ForecastParams
from adalib.forecast.power import detection_power, mincer_zarnowitz, minimum_detectable
from adalib.forecast.signals import (
    FORECAST_SCHEMA,
    forecast_frame,
    lag_columns,
    lagged_returns,
    latest_signal,
    split_sizes,
    train_forecaster,
)
from adalib.forecast.study import ARTIFACT_SET, ForecastStudy, run_forecast_study
from adalib.forecast.summaries import (
    fit_check,
    mse_table,
    significance,
    significance_table,
    sse_gain_curve,
    window_scores,
    yearly_tests,
)
from adalib.forecast.walkforward import WalkForward, walk_forward, walk_forward_frame
from adalib.forecast.weights import WeightsError, load_weights, save_weights, weights_bytes, weights_payload

__all__ = [
    "ARTIFACT_SET",
    "FORECAST_SCHEMA",
    "INTERVAL",
    "TARGET",
    "ARModel",
    "ForecastParams",
    "ForecastStudy",
    "Forecaster",
    "WalkForward",
    "WeightsError",
    "autocorrelations",
    "best_orders",
    "by_year",
    "calibration_table",
    "clark_west",
    "compare_orders",
    "detection_power",
    "diebold_mariano",
    "fit_ar",
    "fit_check",
    "forecast_frame",
    "hit_rate",
    "information_criteria",
    "lag_columns",
    "lagged_returns",
    "latest_signal",
    "load_weights",
    "mincer_zarnowitz",
    "minimum_detectable",
    "model_from",
    "model_metrics",
    "mse_table",
    "ols",
    "ols_table",
    "oos_metrics",
    "order_forecasts",
    "pesaran_timmermann",
    "run_forecast_study",
    "save_weights",
    "score_table",
    "significance",
    "significance_table",
    "split_sizes",
    "sse_gain_curve",
    "train_forecaster",
    "verdicts",
    "walk_forward",
    "walk_forward_frame",
    "weights_bytes",
    "weights_payload",
    "window_scores",
    "yearly_tests",
]
