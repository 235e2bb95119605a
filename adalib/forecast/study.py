"""The whole forecasting study of ``ADA_ML_model.ipynb`` in one call, from validated parameters.

``run_forecast_study`` loads the candles, fits AR(p) on the training split, scores it on
the test window, runs the walk-forward and the AR-order comparison, and states the power
of the tests; ``ForecastStudy.write`` writes the contract's artifacts. The notebook only
displays what the study holds.

>>> study = run_forecast_study(ForecastParams(data_path="synthetic", end="2022-01-01"))
>>> study.metrics["lags"], study.metrics["n_train"] + study.metrics["n_test"] == study.forecasts.height - 1
(2, True)
>>> sorted(study.orders["window"].unique())
['before test', 'test window', 'walk-forward']
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from adalib.data import Candles, load_candles
from adalib.forecast.evaluation import (
    autocorrelations,
    calibration_table,
    information_criteria,
    model_metrics,
    ols_table,
)
from adalib.forecast.model import TARGET, Forecaster
from adalib.forecast.orders import compare_orders
from adalib.forecast.params import ForecastParams
from adalib.forecast.power import mincer_zarnowitz, minimum_detectable
from adalib.forecast.signals import lag_columns, lagged_returns, split_sizes, train_forecaster
from adalib.forecast.summaries import (
    ALPHA,
    fit_check,
    mse_table,
    significance_table,
    sse_gain_curve,
    window_scores,
    yearly_tests,
)
from adalib.forecast.walkforward import walk_forward_frame
from adalib.forecast.weights import weights_bytes
from adalib.util.artifacts import Content, write_artifact_set

ARTIFACT_SET = "forecast"  # the name of the set in {output_dir}/.adalib-sets/
WF_MIN_TRAIN = 730  # one year of 12h candles before the first walk-forward forecast
WF_EVERY = 1  # refit at every candle
MAX_ORDER = 6  # AR(1..6) in the order comparison
ACF_LAGS = 10
MIN_TEST_ROWS = MAX_ORDER  # the order comparison drops up to MAX_ORDER - 1 leading rows
MIN_TRAIN_ROWS = MAX_ORDER + 2  # the smallest expanding window that fits AR(MAX_ORDER)


@dataclass(frozen=True)
class ForecastStudy:
    """Everything the forecasting report shows, computed once.

    ``metrics`` holds the contract's ``model_metrics.json`` fields; ``metrics_file()`` adds
    the data, parameters and study results written beside them.

    >>> params = ForecastParams(data_path="synthetic", start="2020-01-01", end="2020-07-01")
    >>> study = run_forecast_study(params)
    >>> study.mse_table["forecast"].to_list(), "ar_orders" in study.metrics_file()
    (['model', 'zero forecast', 'training mean'], True)
    """

    params: ForecastParams
    candles: Candles
    forecaster: Forecaster
    forecasts: pl.DataFrame  # the contract's forecasts.parquet
    metrics: dict[str, Any]
    acf: pl.DataFrame  # training returns: lag, acf, pacf, band
    criteria: pl.DataFrame  # AR(0..6) information criteria on the training returns
    coef_table: pl.DataFrame  # in-sample OLS table with the torch fit beside it
    fit_rel_err: float  # torch fit vs least squares, max relative error
    mincer_zarnowitz: dict[str, float]  # test window, with the slope's robust 95% interval
    power: dict[str, float]  # minimum detectable R² and hit rate at n_test
    calibration: pl.DataFrame  # hit rate by confidence bucket, with 95% bounds
    walk: pl.DataFrame  # walk-forward forecasts and coefficients
    scores: pl.DataFrame  # window_scores: fixed test, walk-forward test, full, years
    yearly: pl.DataFrame  # yearly_tests with the Bonferroni verdict
    orders: pl.DataFrame  # compare_orders over AR(1..6)
    gain_test: pl.DataFrame  # cumulative squared-error gain, fixed model on the test window
    gain_walk: pl.DataFrame  # the same for the walk-forward

    @property
    def test(self) -> pl.DataFrame:
        """Test rows with a target (the final candle excluded)."""
        return self.forecasts.filter((pl.col("split") == "test") & pl.col("target").is_not_null())

    @property
    def mse_table(self) -> pl.DataFrame:
        """The test window's MSEs side by side (``mse_table``)."""
        return mse_table(self.metrics)

    @property
    def tests_table(self) -> pl.DataFrame:
        """The test window's forecast tests (``significance_table``)."""
        return significance_table(self.metrics, self.mincer_zarnowitz)

    @property
    def r2_in_sample(self) -> float:
        """``1 - mse_train / var0(train target)``: the share of variance the fit explains in sample."""
        train = self.forecasts.filter(pl.col("split") == "train")["target"].to_numpy()
        return 1 - float(self.metrics["mse_train"]) / float(train.var())

    @property
    def calibration_band(self) -> float:
        """Half-width of the widest 95% interval of a bucket's hit rate (``1.96`` standard errors)."""
        return 1.96 * float(self.calibration["hit_rate_se"].max())  # type: ignore[arg-type]

    @property
    def walk_coefficients(self) -> pl.DataFrame:
        """``open_time, coef, value``: the walk-forward coefficients ``a_1..a_p``, long."""
        names = [f"a_{k}" for k in range(1, self.forecaster.lags + 1)]
        return self.walk.unpivot(index="open_time", on=names, variable_name="coef", value_name="value")

    @property
    def fixed_coefficients(self) -> pl.DataFrame:
        """``coef, value``: the fixed fit's ``a_1..a_p``."""
        names = [f"a_{k}" for k in range(1, self.forecaster.lags + 1)]
        return pl.DataFrame({"coef": names, "value": list(self.forecaster.coef)})

    def score(self, window: str) -> dict[str, Any]:
        """One row of ``scores`` as a dict, e.g. ``score("walk-forward, full history")``."""
        return self.scores.filter(pl.col("window") == window).row(0, named=True)

    def metrics_file(self) -> dict[str, Any]:
        """The content of ``model_metrics.json``: the contract's fields, the data, the parameters and
        the study's checks and results."""
        p = self.params
        order_rows = self.orders.filter(pl.col("window") == "walk-forward").drop("window", "best")
        return {
            **self.metrics,
            **self.candles.metadata(),
            "target": TARGET,
            "test_fraction": p.test_fraction,
            "seed": p.seed,
            "threshold": p.threshold,
            "start": p.start,
            "end": p.end,
            "fit_max_rel_err_vs_ols": self.fit_rel_err,
            "mincer_zarnowitz": self.mincer_zarnowitz,
            "minimum_detectable": self.power,
            "walk_forward": {
                "min_train": self.walk_min_train,
                "every": WF_EVERY,
                **self.score("walk-forward, full history"),
            },
            "ar_orders": order_rows.to_dicts(),
        }

    @property
    def walk_min_train(self) -> int:
        """Rows before the first walk-forward forecast: one year, or the training split if shorter."""
        return min(WF_MIN_TRAIN, int(self.metrics["n_train"]))

    def write(self) -> list[Path]:
        """Write ``forecasts.parquet`` and ``model_metrics.json`` to ``output_dir`` and the weights to
        ``weights_path`` as one artifact set (all three appear together or none changes), tagged with
        ``lags`` and ``symbol`` for the cross-check of readers; returns the paths written."""
        weights = self.params.weights_file
        files: dict[str | Path, Content] = {
            "forecasts.parquet": self.forecasts,
            "model_metrics.json": self.metrics_file(),
            weights: weights_bytes(self.forecaster),
        }
        tags = {"lags": self.forecaster.lags, "symbol": self.forecaster.symbol}
        written = write_artifact_set(ARTIFACT_SET, files, folder=self.params.output_folder, tags=tags)
        return list(written.values())


def _check_size(candles: Candles, params: ForecastParams) -> None:
    n_usable = max(0, candles.frame.height - params.lags - 1)
    n_train, n_test = split_sizes(n_usable, params.test_fraction) if n_usable else (0, 0)
    need_train = max(MIN_TRAIN_ROWS, params.lags + 2)
    if n_train < need_train or n_test < MIN_TEST_ROWS:
        raise ValueError(
            f"data {candles.source!r} ({candles.frame.height} candles) gives {n_usable} usable rows for "
            f"AR({params.lags}), split {n_train} train / {n_test} test at test_fraction="
            f"{params.test_fraction}: the study needs at least {need_train} train and "
            f"{MIN_TEST_ROWS} test rows"
        )


def run_forecast_study(params: ForecastParams) -> ForecastStudy:
    """Run the study; nothing is written (call ``write`` on the result).

    >>> params = ForecastParams(data_path="synthetic", start="2020-01-01", end="2020-07-01")
    >>> study = run_forecast_study(params)
    >>> study.metrics["n_test"], study.orders.height, sorted(study.walk.columns)[:3]
    (91, 12, ['a_1', 'a_2', 'bench_mean'])
    """
    candles = load_candles(
        params.data_path,
        symbol=params.symbol,
        binance_url=params.binance_url,
        start=params.start,
        end=params.end,
    )
    _check_size(candles, params)
    forecaster, forecasts = train_forecaster(
        candles,
        lags=params.lags,
        test_fraction=params.test_fraction,
        seed=params.seed,
        symbol=params.symbol,
        threshold=params.threshold,
    )
    metrics = model_metrics(forecaster, forecasts)
    train_rows = lagged_returns(candles, params.lags).head(metrics["n_train"])
    features, target = train_rows.select(lag_columns(params.lags)).to_numpy(), train_rows["target"].to_numpy()
    test = forecasts.filter((pl.col("split") == "test") & pl.col("target").is_not_null())
    min_train = min(WF_MIN_TRAIN, metrics["n_train"])
    walk = walk_forward_frame(candles, lags=params.lags, min_train=min_train, every=WF_EVERY)
    scores = window_scores(test, float(target.mean()), walk)
    calibration = calibration_table(forecasts, buckets=5).with_columns(
        hit_low=pl.col("hit_rate") - 1.96 * pl.col("hit_rate_se"),
        hit_high=pl.col("hit_rate") + 1.96 * pl.col("hit_rate_se"),
    )
    terms = ols_table(features, target, [f"a_{k}" for k in range(1, params.lags + 1)])
    fitted = [*forecaster.coef, forecaster.intercept]
    return ForecastStudy(
        params=params,
        candles=candles,
        forecaster=forecaster,
        forecasts=forecasts,
        metrics=metrics,
        acf=autocorrelations(target, ACF_LAGS),
        criteria=information_criteria(target, MAX_ORDER),
        coef_table=terms.insert_column(1, pl.Series("torch_fit", fitted)),
        fit_rel_err=fit_check(forecaster, features, target),
        mincer_zarnowitz=mincer_zarnowitz(test["y_hat"].to_numpy(), test["target"].to_numpy()),
        power=minimum_detectable(test.height, alpha=ALPHA),
        calibration=calibration,
        walk=walk,
        scores=scores,
        yearly=yearly_tests(scores),
        orders=compare_orders(
            candles, max_lags=MAX_ORDER, min_train=min_train, test_start=test["open_time"][0]
        ),
        gain_test=sse_gain_curve(test),
        gain_walk=sse_gain_curve(walk),
    )
