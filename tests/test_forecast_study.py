"""The forecasting study: parameters refused before any work, one call computing the report, its artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from adalib.forecast import (
    ForecastParams,
    forecast_frame,
    load_weights,
    model_metrics,
    run_forecast_study,
    train_forecaster,
    verdicts,
)
from adalib.forecast.findings import interval_reading, orders_reading, predictability, yearly_reading
from adalib.util.artifacts import ArtifactWriteError

SMALL = {"data_path": "synthetic", "end": "2022-01-01"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lags": 0}, r"parameter lags: 0 must be an integer in \[1, 48\]"),
        ({"lags": 49}, r"parameter lags: 49 must be an integer in \[1, 48\]"),
        ({"lags": True}, "parameter lags: True must be an integer, not bool"),
        ({"lags": 2.0}, "parameter lags: 2.0 must be an integer, not float"),
        ({"test_fraction": 0}, r"parameter test_fraction: 0 must be in \(0, 1\)"),
        ({"test_fraction": 1.0}, r"parameter test_fraction: 1.0 must be in \(0, 1\)"),
        ({"test_fraction": float("nan")}, "parameter test_fraction: nan is not a finite number"),
        ({"test_fraction": "0.2"}, "parameter test_fraction: '0.2' must be a number, not str"),
        ({"threshold": -0.001}, r"parameter threshold: -0.001 must be in \[0, inf\]"),
        ({"threshold": float("inf")}, "parameter threshold: inf is not a finite number"),
        ({"seed": -1}, r"parameter seed: -1 must be an integer in \[0, "),
        ({"seed": 1.5}, "parameter seed: 1.5 must be an integer, not float"),
        ({"start": "yesterday"}, "parameter start: 'yesterday' is not an ISO 8601 date or datetime"),
        ({"end": "2026-13-01"}, "parameter end: '2026-13-01' is not an ISO 8601 date"),
        ({"end": 2026}, "parameter end: 2026 is not an ISO 8601 date"),
        ({"start": "2024-01-01", "end": "2023-01-01"}, "parameter start: '2024-01-01' must be before end"),
        ({"symbol": "ada/usdt"}, "parameter symbol: 'ada/usdt' must be 2 to 20 of A-Z and 0-9"),
        ({"binance_url": "ftp://x"}, "parameter binance_url: 'ftp://x' must be an http"),
        ({"data_path": ""}, "parameter data_path: '' must be a non-empty path"),
        ({"data_path": "no/such/candles.csv"}, "parameter data_path: 'no/such/candles.csv' does not exist"),
    ],
)
def test_bad_parameters_are_named(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ForecastParams(**{**SMALL, **changes})  # type: ignore[arg-type]


def test_bad_output_paths_are_refused_before_anything_exists(tmp_path: Path) -> None:
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(ValueError, match=r"parameter output_dir: .*file.txt' is a file, not a folder"):
        ForecastParams(output_dir=str(a_file))
    with pytest.raises(ValueError, match=r"parameter output_dir: .* cannot be created: .*file.txt is a file"):
        ForecastParams(output_dir=str(a_file / "below"))
    with pytest.raises(ValueError, match=r"parameter weights_path: .* is a folder, not a file"):
        ForecastParams(weights_path=str(tmp_path))
    with pytest.raises(
        ValueError, match=r"parameter weights_path: .* cannot be created: .*file.txt is a file"
    ):
        ForecastParams(weights_path=str(a_file / "w.pth"))
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]  # the checks created nothing


@pytest.fixture(scope="module")
def study():  # type: ignore[no-untyped-def]
    return run_forecast_study(ForecastParams(**SMALL, lags=3, threshold=0.001))


def test_study_equals_the_layer_functions(study) -> None:  # type: ignore[no-untyped-def]
    from adalib.data import load_candles

    candles = load_candles("synthetic", end="2022-01-01")
    forecaster, forecasts = train_forecaster(candles, lags=3, threshold=0.001)
    assert study.forecaster == forecaster and study.forecasts.equals(forecasts)
    assert study.metrics == model_metrics(forecaster, forecasts)
    assert {"cw_stat", "cw_pvalue"} <= set(study.metrics)
    assert study.fit_rel_err < 1e-10
    assert study.calibration_band == pytest.approx(1.96 * max(study.calibration["hit_rate_se"]))
    assert study.power["n"] == study.metrics["n_test"] == study.mincer_zarnowitz["n"]
    # the order comparison scores AR(1..6) on one row set per window
    assert study.orders.group_by("window").agg(pl.col("n").n_unique())["n"].to_list() == [1, 1, 1]
    assert sorted(study.orders["lags"].unique()) == [1, 2, 3, 4, 5, 6]
    assert study.gain_test.height == study.metrics["n_test"] and study.gain_walk.height == study.walk.height
    assert set(verdicts(study)) >= {"fixed", "walk_forward", "years", "slope", "orders", "power", "advice"}


def test_write_puts_the_three_artifacts_in_place(study, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    params = ForecastParams(
        **SMALL,
        lags=3,
        threshold=0.001,
        output_dir=str(tmp_path / "out"),
        weights_path=str(tmp_path / "w" / "m.pth"),
    )
    written = run_forecast_study(params).write()
    assert written == [
        tmp_path / "out" / "forecasts.parquet",
        tmp_path / "out" / "model_metrics.json",
        tmp_path / "w" / "m.pth",
    ]
    saved = json.loads(written[1].read_text())
    assert saved["cw_pvalue"] == pytest.approx(study.metrics["cw_pvalue"])
    assert saved["data_source"] == "synthetic" and saved["lags"] == 3 and saved["end"] == "2022-01-01"
    assert [row["lags"] for row in saved["ar_orders"]] == [1, 2, 3, 4, 5, 6]
    assert saved["mincer_zarnowitz"]["slope_low"] < saved["mincer_zarnowitz"]["slope_high"]
    assert saved["fit_max_rel_err_vs_ols"] < 1e-10
    forecaster = load_weights(written[2], lags=3, symbol="ADAUSDT")
    assert forecast_frame(study.candles, forecaster, threshold=0.001).equals(pl.read_parquet(written[0]))


def test_a_failed_write_leaves_the_previous_set(tmp_path: Path) -> None:
    out, weights = tmp_path / "out", tmp_path / "w.pth"
    params = ForecastParams(**SMALL, lags=3, threshold=0.001, output_dir=str(out), weights_path=str(weights))
    run_forecast_study(params).write()
    before = {p: p.read_bytes() for p in (out / "forecasts.parquet", out / "model_metrics.json", weights)}
    other = run_forecast_study(
        ForecastParams(**SMALL, lags=1, output_dir=str(out), weights_path=str(weights))
    )
    weights.unlink()
    weights.mkdir()  # the weights target is now a folder: the set must not be written at all
    with pytest.raises(ArtifactWriteError, match="is a folder, not a file; nothing was written"):
        other.write()
    weights.rmdir()
    assert all(p.read_bytes() == data for p, data in before.items() if p != weights)
    assert json.loads((out / "model_metrics.json").read_text())["lags"] == 3


def test_too_little_data_is_one_clear_error() -> None:
    with pytest.raises(
        ValueError, match=r"data 'synthetic' \(20 candles\) .* needs at least 8 train and 6 test rows"
    ):
        run_forecast_study(ForecastParams(data_path="synthetic", start="2020-01-01", end="2020-01-11"))


def test_verdict_phrases_follow_the_numbers() -> None:
    none = {"dm_stat": 0.3, "dm_pvalue": 0.7, "pt_pvalue": 0.3, "cw_pvalue": 0.3}
    assert predictability(none, 1.0, 1.0) == "no statistically significant predictability"
    assert predictability(none | {"dm_stat": -2.5, "dm_pvalue": 0.01}, 0.9, 1.0).startswith(
        "forecasts significantly"
    )
    assert (
        predictability(none | {"dm_stat": 2.5, "dm_pvalue": 0.01}, 1.1, 1.0)
        == "no statistically significant predictability"
    )
    assert "(Pesaran-Timmermann)" in predictability(none | {"pt_pvalue": 0.01}, 0.99, 1.0)
    assert interval_reading({"slope_low": 0.2, "slope_high": 1.5}).startswith("excludes 0 and includes 1")
    assert interval_reading({"slope_low": -0.5, "slope_high": 0.5}).startswith("includes 0 but not 1")
    yearly = pl.DataFrame({"year": ["2021", "2022"], "nominal": [False, True], "bonferroni": [False, True]})
    assert yearly_reading(yearly) == "a rejection at 5% in 2022; surviving the Bonferroni correction: 2022"
    orders = pl.DataFrame(
        {
            "window": ["w", "w"],
            "lags": [1, 2],
            "mse": [1.0, 0.9],
            "mse_zero": [0.95, 0.95],
            "dm_stat": [1.0, -2.5],
            "dm_pvalue": [0.3, 0.01],
            "cw_pvalue": [0.5, 0.01],
            "best": [False, True],
        }
    )
    assert orders_reading(orders, "w") == (
        "AR(2) has the lowest out-of-sample MSE; an MSE below the zero forecast's: AR(2); "
        "significantly more accurate than zero (DM, 5%): AR(2); Clark-West rejects at 5%: AR(2)"
    )
