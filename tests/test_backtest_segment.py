"""Where the backtest's signals come from: the forecasts file, or the weights, and every bad-file error."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from adalib.backtest import (
    TRADE_SCHEMA,
    BacktestConfig,
    ForecastsError,
    load_segment,
    run_backtest,
    save_backtest,
    walk_forward_signal,
)
from adalib.data import synthetic_candles
from adalib.forecast import forecast_frame, lagged_returns, load_weights, save_weights, train_forecaster


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


def test_walk_forward_signal_uses_no_future_data(setup) -> None:
    candles, _, weights = setup
    seg = load_segment(candles, forecasts_path=None, output_dir="/nonexistent", weights_path=weights)
    full = walk_forward_signal(candles, seg.frame, lags=2)
    # every test row has enough history; the final candle has no target, so the walk-forward lists no
    # forecast for it (its signal is never traded anyway)
    assert full.null_count() == 1 and full[-1] is None
    cut = 450  # truncate the candles: forecasts up to the cut must not change
    early = walk_forward_signal(candles.head(cut), seg.frame, lags=2)
    known = seg.frame["open_time"] < candles["open_time"][cut - 1]
    assert early.filter(known).to_list() == pytest.approx(full.filter(known).to_list(), rel=1e-12)
    # and it is the least-squares fit on the rows before: check one row by hand with numpy
    rows = lagged_returns(candles, 2).filter(pl.col("target").is_not_null())
    t = rows["open_time"].to_list().index(seg.frame["open_time"][5])
    x = np.column_stack([rows["lag_1"][:t], rows["lag_2"][:t], np.ones(t)])
    beta = np.linalg.lstsq(x, rows["target"][:t].to_numpy(), rcond=None)[0]
    assert full[5] == pytest.approx(
        rows["lag_1"][t] * beta[0] + rows["lag_2"][t] * beta[1] + beta[2], rel=1e-9
    )


def test_save_backtest_writes_the_contract_files(setup, tmp_path: Path) -> None:
    candles, _, weights = setup
    seg = load_segment(candles, forecasts_path=None, output_dir="/nonexistent", weights_path=weights)
    result = run_backtest(seg.frame, BacktestConfig(leverage=2.0))
    paths = save_backtest(result, tmp_path, {"data_source": "synthetic", "mode": "hold"})
    assert [p.name for p in paths] == ["trades.parquet", "equity.parquet", "backtest_metrics.json"]
    assert pl.read_parquet(paths[0]).schema == pl.Schema(TRADE_SCHEMA)
    assert pl.read_parquet(paths[1]).equals(result.equity)
    saved = json.loads(paths[2].read_text())
    assert saved["data_source"] == "synthetic" and saved["final_equity"] == result.metrics["final_equity"]
