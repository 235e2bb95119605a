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
from adalib.forecast.model import INTERVAL, TARGET, ARModel, Forecaster, fit_ar, model_from, ols
from adalib.forecast.signals import (
    FORECAST_SCHEMA,
    forecast_frame,
    lag_columns,
    lagged_returns,
    latest_signal,
    split_sizes,
    train_forecaster,
)
from adalib.forecast.walkforward import WalkForward, walk_forward, walk_forward_frame
from adalib.forecast.weights import WeightsError, load_weights, save_weights, weights_payload

__all__ = [
    "FORECAST_SCHEMA",
    "INTERVAL",
    "TARGET",
    "ARModel",
    "Forecaster",
    "WalkForward",
    "WeightsError",
    "autocorrelations",
    "by_year",
    "calibration_table",
    "clark_west",
    "diebold_mariano",
    "fit_ar",
    "forecast_frame",
    "hit_rate",
    "information_criteria",
    "lag_columns",
    "lagged_returns",
    "latest_signal",
    "load_weights",
    "model_from",
    "model_metrics",
    "ols",
    "ols_table",
    "oos_metrics",
    "pesaran_timmermann",
    "save_weights",
    "score_table",
    "split_sizes",
    "train_forecaster",
    "walk_forward",
    "walk_forward_frame",
    "weights_payload",
]
