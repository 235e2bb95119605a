"""Where the backtest's signals come from: the forecasts file, or the weights, and every bad-file error."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from adalib.data import synthetic_candles
from adalib.forecast import forecast_frame, train_forecaster
from adalib.model import load_weights, save_weights
from adalib.segment import ForecastsError, load_segment


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[pl.DataFrame, pl.DataFrame, Path]:
    """Synthetic candles, the forecasts a model trained on them writes, and its weights file."""
    folder = tmp_path_factory.mktemp("segment")
    candles = synthetic_candles(500, seed=2)
    forecaster, forecasts = train_forecaster(candles, lags=2)
    save_weights(folder / "w.pth", forecaster)
    return candles, forecasts, folder / "w.pth"


def test_reads_the_output_dir_file_when_it_exists(setup, tmp_path: Path) -> None:
    candles, forecasts, weights = setup
    forecasts.write_parquet(tmp_path / "forecasts.parquet")
    seg = load_segment(candles, output_dir=tmp_path, weights_path=weights, segment="test")
    assert seg.source == str(tmp_path / "forecasts.parquet")
    test_rows = forecasts.filter(pl.col("split") == "test")
    assert seg.frame["open_time"].to_list() == test_rows["open_time"].to_list()
    assert seg.frame["direction"].to_list() == test_rows["direction"].to_list()
    # the OHLC are the candles' own
    joined = seg.frame.join(candles, on="open_time", suffix="_c")
    assert (joined["open"] == joined["open_c"]).all() and (joined["low"] == joined["low_c"]).all()
    assert seg.frame["open_time"][-1] == candles["open_time"][-1]  # the final candle is in the test segment


def test_computes_from_the_weights_when_no_file(setup, tmp_path: Path) -> None:
    candles, forecasts, weights = setup
    seg = load_segment(candles, output_dir=tmp_path / "empty", weights_path=weights, segment="all")
    assert seg.source == f"computed from {weights}"
    assert seg.frame.height == forecasts.height
    assert seg.frame["y_hat"].to_list() == pytest.approx(forecasts["y_hat"].to_list(), rel=1e-12)
    assert seg.frame["split"].to_list() == forecasts["split"].to_list()  # split from the weights' train_end


def test_a_window_of_the_candles_keeps_the_forecasts_inside_it(setup, tmp_path: Path) -> None:
    candles, forecasts, _ = setup
    forecasts.write_parquet(tmp_path / "f.parquet")
    window = candles.slice(450, 40)
    seg = load_segment(window, forecasts_path=tmp_path / "f.parquet", segment="all")
    assert seg.frame["open_time"].to_list() == window["open_time"].to_list()


def bad(forecasts: pl.DataFrame) -> list[tuple[pl.DataFrame, str]]:
    return [
        (forecasts.drop("split"), "missing column 'split'"),
        (forecasts.with_columns(pl.col("direction").cast(pl.Int64)), "column 'direction' has dtype Int64"),
        (
            forecasts.with_columns(pl.col("open_time").cast(pl.Datetime("us", "UTC"))),
            "column 'open_time' has",
        ),
        (forecasts.with_columns(direction=pl.lit(2, pl.Int8)), "column 'direction' holds values"),
        (forecasts.with_columns(split=pl.lit("valid")), "column 'split' holds values"),
        (forecasts.with_columns(y_hat=pl.lit(None, pl.Float64)), r"column 'y_hat' has \d+ null"),
        (forecasts.reverse(), "not strictly ascending"),
        (forecasts.with_columns(pl.col("close") * 1.01), "column 'close' differs from the candles"),
        (forecasts.with_columns(pl.col("open_time") + timedelta(hours=1)), "is not one of the candles"),
    ]


def test_bad_forecasts_files_fail_with_one_clear_error(setup, tmp_path: Path) -> None:
    candles, forecasts, _ = setup
    for i, (frame, message) in enumerate(bad(forecasts)):
        path = tmp_path / f"bad{i}.parquet"
        frame.write_parquet(path)
        with pytest.raises(ForecastsError, match=message) as err:
            load_segment(candles, forecasts_path=path)
        assert str(path) in str(err.value)
    with pytest.raises(ForecastsError, match="forecasts file not found"):
        load_segment(candles, forecasts_path=tmp_path / "missing.parquet")
    (tmp_path / "junk.parquet").write_text("not parquet")
    with pytest.raises(ForecastsError, match="not a readable parquet file"):
        load_segment(candles, forecasts_path=tmp_path / "junk.parquet")
    with pytest.raises(ForecastsError, match="segment: must be one of"):
        load_segment(candles, forecasts_path=tmp_path / "bad0.parquet", segment="train")
    later = candles.with_columns(pl.col("open_time") + timedelta(days=3650))
    forecasts.write_parquet(tmp_path / "good.parquet")
    with pytest.raises(ForecastsError, match="no forecast falls within the candles"):
        load_segment(later, forecasts_path=tmp_path / "good.parquet")


def test_forecasts_from_the_weights_equal_the_forecasting_api(setup) -> None:
    candles, _, weights = setup
    seg = load_segment(candles, weights_path=weights, output_dir="/nonexistent", segment="test")
    expected = forecast_frame(candles, load_weights(weights)).filter(pl.col("split") == "test")
    assert seg.frame["y_hat"].to_list() == expected["y_hat"].to_list()
