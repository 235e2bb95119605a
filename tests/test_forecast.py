"""Forecasts from candles: lags, the contract's frame, the split, no look-ahead, the live signal."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adalib.data import Candles, synthetic_candles
from adalib.forecast import (
    FORECAST_SCHEMA,
    Forecaster,
    ForecastParams,
    forecast_frame,
    lagged_returns,
    latest_signal,
    load_weights,
    run_forecast_study,
    split_sizes,
    train_forecaster,
    weights_bytes,
)
from adalib.util.paths import REPO_ROOT

START = datetime(2024, 1, 1, tzinfo=UTC)


def candles_from_closes(closes: list[float]) -> pl.DataFrame:
    n = len(closes)
    times = [START + timedelta(hours=12 * i) for i in range(n)]
    return pl.DataFrame(
        {
            "open_time": times,
            "open": closes,
            "high": closes,
            "low": closes,
            "close": closes,
            "volume": [1.0] * n,
        },
        schema={
            "open_time": pl.Datetime("ms", "UTC"),
            **dict.fromkeys(["open", "high", "low", "close", "volume"], pl.Float64),
        },
    )


SMALL = synthetic_candles(60, seed=11)


def forecaster(coef: tuple[float, ...], intercept: float = 0.0, resid_std: float = 0.1) -> Forecaster:
    return Forecaster(
        coef,
        intercept,
        len(coef),
        resid_std,
        "ADAUSDT",
        "12h",
        "2024-01-01T00:00:00Z",
        "2024-01-02T00:00:00Z",
    )


def phi(z: float) -> float:
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def test_lagged_returns_hand_computed() -> None:
    # closes 1, 2, 4, 2, 2 -> returns (null), ln2, ln2, -ln2, 0
    rows = lagged_returns(candles_from_closes([1.0, 2.0, 4.0, 2.0, 2.0]), 2)
    ln2 = math.log(2)
    assert rows.columns == ["open_time", "close", "ret", "lag_1", "lag_2", "target"]
    assert rows["open_time"].to_list() == [START + timedelta(hours=12 * i) for i in (2, 3, 4)]
    assert rows["lag_1"].to_list() == pytest.approx([ln2, -ln2, 0.0])
    assert rows["lag_2"].to_list() == pytest.approx([ln2, ln2, -ln2])
    assert rows["ret"].to_list() == rows["lag_1"].to_list()
    assert rows["target"].to_list()[:2] == pytest.approx([-ln2, 0.0]) and rows["target"][-1] is None


def test_forecast_frame_formula_schema_direction_and_confidence() -> None:
    closes = [1.0, 1.1, 1.0, 1.2, 1.2, 1.17, 0.9, 0.95]
    candles = candles_from_closes(closes)
    model = forecaster((0.5, -0.25), intercept=0.01, resid_std=0.05)
    frame = forecast_frame(candles, model, threshold=0.02)
    assert frame.schema == pl.Schema(FORECAST_SCHEMA)
    r = np.diff(np.log(closes))  # r[i] is the return of candle i + 1
    for row, t in zip(frame.iter_rows(named=True), range(2, 8), strict=True):
        y_hat = 0.01 + 0.5 * r[t - 1] - 0.25 * r[t - 2]
        assert row["y_hat"] == pytest.approx(y_hat, rel=1e-12)
        assert row["confidence"] == pytest.approx(phi(abs(y_hat) / 0.05), rel=1e-12)
        assert row["direction"] == (1 if y_hat > 0.02 else -1 if y_hat < -0.02 else 0)
    assert sorted(set(frame["direction"].to_list())) == [-1, 0, 1]  # the example exercises every branch


@pytest.mark.parametrize(
    ("y_hat", "threshold", "direction"),
    [
        (0.0, 0.0, 0),
        (1e-9, 0.0, 1),
        (-1e-9, 0.0, -1),
        (0.01, 0.01, 0),
        (-0.01, 0.01, 0),
        (0.0101, 0.01, 1),
        (-0.02, 0.01, -1),
    ],
)
def test_direction_rule_with_threshold(y_hat: float, threshold: float, direction: int) -> None:
    # coef 0, intercept y_hat: every row forecasts y_hat; confidence Phi(|y_hat| / resid_std) in [0.5, 1)
    frame = forecast_frame(
        candles_from_closes([1.0, 1.1, 1.2, 1.3]), forecaster((0.0,), y_hat, 0.01), threshold=threshold
    )
    assert frame["direction"].to_list() == [direction] * 3
    assert frame["confidence"].to_list() == pytest.approx([phi(abs(y_hat) / 0.01)] * 3)
    assert 0.5 <= frame["confidence"][0] < 1


@settings(max_examples=30, deadline=None)
@given(
    coef=st.lists(st.floats(-1, 1), min_size=1, max_size=4),
    intercept=st.floats(-0.01, 0.01),
    resid_std=st.floats(1e-4, 0.2),
    threshold=st.floats(0, 0.01),
)
def test_direction_and_confidence_invariants(
    coef: list[float], intercept: float, resid_std: float, threshold: float
) -> None:
    frame = forecast_frame(SMALL, forecaster(tuple(coef), intercept, resid_std), threshold=threshold)
    y_hat, direction, confidence = (frame[c].to_numpy() for c in ("y_hat", "direction", "confidence"))
    assert (direction == np.where(y_hat > threshold, 1, np.where(y_hat < -threshold, -1, 0))).all()
    assert ((confidence >= 0.5) & (confidence <= 1)).all()
    # confidence grows with |y_hat|
    order = np.argsort(np.abs(y_hat), kind="stable")
    assert (np.diff(confidence[order]) >= 0).all()


@given(n=st.integers(1, 10_000), fraction=st.floats(0.01, 0.99))
def test_split_sizes_floor(n: int, fraction: float) -> None:
    n_train, n_test = split_sizes(n, fraction)
    assert n_train == math.floor(n * (1 - fraction)) and n_train + n_test == n


@pytest.mark.parametrize(("n_candles", "lags", "fraction"), [(400, 2, 0.25), (101, 3, 0.3), (250, 1, 0.5)])
def test_train_forecaster_split_and_least_squares(n_candles: int, lags: int, fraction: float) -> None:
    candles = synthetic_candles(n_candles, seed=n_candles)
    model, frame = train_forecaster(candles, lags=lags, test_fraction=fraction)
    usable = n_candles - lags - 1  # lags need lags + 1 closes, the target one more candle
    n_train = math.floor(usable * (1 - fraction))
    assert frame.height == usable + 1 and frame["split"][-1] == "test" and frame["target"][-1] is None
    assert frame["split"].to_list() == ["train"] * n_train + ["test"] * (usable + 1 - n_train)
    # independent least squares from the closes, with numpy only
    r = np.diff(np.log(candles["close"].to_numpy()))
    x = np.column_stack([r[lags - k : lags - k + usable] for k in range(1, lags + 1)] + [np.ones(usable)])
    y = r[lags : lags + usable]
    beta = np.linalg.lstsq(x[:n_train], y[:n_train], rcond=None)[0]
    fitted = np.append(model.coef, model.intercept)
    assert np.max(np.abs(fitted - beta)) / np.max(np.abs(beta)) < 1e-10
    resid = y[:n_train] - x[:n_train] @ beta
    assert model.resid_std == pytest.approx(math.sqrt(resid @ resid / (n_train - lags - 1)), rel=1e-8)
    times = frame["open_time"]
    assert (model.train_start, model.train_end) == (
        times[0].strftime("%Y-%m-%dT%H:%M:%SZ"),
        times[n_train - 1].strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    # the split by date (what a user of the weights file does) gives the same frame
    assert forecast_frame(candles, model, train_end=model.train_end).equals(frame)
    assert forecast_frame(Candles(candles, "synthetic"), model).equals(frame)


def test_forecast_at_t_ignores_later_candles() -> None:
    candles = synthetic_candles(300, seed=3)
    model, _ = train_forecaster(candles, lags=3)
    full = forecast_frame(candles, model, threshold=0.001)
    columns = ["open_time", "close", "ret", "y_hat", "confidence", "direction"]
    for t in (3, 4, 57, 150, 298, 299):
        truncated = forecast_frame(candles.head(t + 1), model, threshold=0.001)
        assert truncated["open_time"][-1] == candles["open_time"][t]
        assert truncated.select(columns).equals(full.head(truncated.height).select(columns))
        last = full.filter(pl.col("open_time") == candles["open_time"][t]).row(0, named=True)
        signal = latest_signal(candles.head(t + 1), model, threshold=0.001)
        assert signal == {k: last[k] for k in ("open_time", "y_hat", "direction", "confidence")}


def test_training_ignores_candles_after_the_last_training_target() -> None:
    candles = synthetic_candles(400, seed=5)
    lags = 2
    model, frame = train_forecaster(candles, lags=lags)
    n_train = frame.filter(pl.col("split") == "train").height
    cut = n_train + lags  # row i is candle i + lags; the last training target is the return of candle cut

    def shocked(first: int) -> pl.DataFrame:
        later = pl.int_range(pl.len()) >= first
        return candles.with_columns(
            [
                pl.when(later).then(pl.col(c) * 1.5).otherwise(pl.col(c))
                for c in ("open", "high", "low", "close")
            ]
        )

    assert train_forecaster(shocked(cut + 1), lags=lags)[0] == model
    assert train_forecaster(shocked(cut), lags=lags)[0].coef != model.coef  # the test can see a leak


def test_latest_signal_is_the_last_row_of_the_frame() -> None:
    candles = synthetic_candles(200, seed=9)
    model, frame = train_forecaster(candles, lags=2)
    signal = latest_signal(candles, model, threshold=0.0)
    last = frame.row(-1, named=True)
    assert signal == {k: last[k] for k in ("open_time", "y_hat", "direction", "confidence")}
    assert signal["open_time"] == candles["open_time"][-1] and isinstance(signal["direction"], int)


def test_bad_arguments_fail_before_any_work() -> None:
    candles = synthetic_candles(50)
    with pytest.raises(ValueError, match="lags must be a positive integer"):
        lagged_returns(candles, 0)
    with pytest.raises(ValueError, match="need at least lags \\+ 1 = 4 candles"):
        lagged_returns(candles.head(3), 3)
    with pytest.raises(ValueError, match="test_fraction must be in"):
        train_forecaster(candles, test_fraction=1.0)
    with pytest.raises(ValueError, match="need at least 4 train rows"):
        train_forecaster(candles.head(6), lags=2, test_fraction=0.5)
    with pytest.raises(ValueError, match="consecutive 12h candles"):
        lagged_returns(candles.filter(pl.int_range(pl.len()) != 10), 2)  # a gap
    with pytest.raises(ValueError, match="consecutive 12h candles"):
        lagged_returns(synthetic_candles(50, interval=timedelta(hours=1)), 2)
    with pytest.raises(ValueError, match="threshold must be >= 0"):
        forecast_frame(candles, forecaster((0.1,)), threshold=-0.1)


def test_committed_weights_are_the_default_fit_on_the_real_data(real_candles: pl.DataFrame) -> None:
    candles = real_candles.filter(pl.col("open_time") < datetime(2026, 3, 1, tzinfo=UTC))
    model, _ = train_forecaster(candles)
    assert load_weights(REPO_ROOT / "model_weights.pth", lags=2, symbol="ADAUSDT") == model


def test_committed_weights_file_is_byte_for_byte_the_notebook_default(real_candles: pl.DataFrame) -> None:
    study = run_forecast_study(ForecastParams())  # the notebook's default parameters, on the cache
    assert study.candles.source == "cache" and study.candles.frame.height <= real_candles.height
    assert weights_bytes(study.forecaster) == (REPO_ROOT / "model_weights.pth").read_bytes()
