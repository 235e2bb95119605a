"""The vectorised walk-forward equals a naive loop of least-squares refits and never looks ahead."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adalib.data import synthetic_candles
from adalib.forecast import (
    best_orders,
    compare_orders,
    lagged_returns,
    oos_metrics,
    order_forecasts,
    walk_forward,
    walk_forward_frame,
)


def naive(x: np.ndarray, y: np.ndarray, min_train: int, every: int) -> tuple[np.ndarray, np.ndarray]:
    """One ``np.linalg.lstsq`` per refit, rows ``0 .. j - 1``; forecasts held until the next refit."""
    n, p = x.shape
    beta, y_hat = np.full((n, p + 1), np.nan), np.full(n, np.nan)
    for i in range(min_train, n):
        j = min_train + (i - min_train) // every * every
        beta[i] = np.linalg.lstsq(np.column_stack([x[:j], np.ones(j)]), y[:j], rcond=None)[0]
        y_hat[i] = x[i] @ beta[i, :p] + beta[i, p]
    return beta, y_hat


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(20, 300),
    p=st.integers(1, 4),
    every=st.integers(1, 40),
    first=st.integers(0, 50),
    seed=st.integers(0, 2**16),
)
def test_walk_forward_equals_naive_refits(n: int, p: int, every: int, first: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, y = 0.04 * rng.standard_t(4, size=(n, p)), 0.001 + 0.04 * rng.standard_t(4, size=n)
    min_train = min(p + 2 + first, n - 1)
    wf = walk_forward(x, y, min_train=min_train, every=every)
    beta, y_hat = naive(x, y, min_train, every)
    assert np.allclose(wf.coef, beta[:, :p], rtol=1e-7, atol=1e-9, equal_nan=True)
    assert np.allclose(wf.intercept, beta[:, p], rtol=1e-7, atol=1e-9, equal_nan=True)
    assert np.allclose(wf.y_hat, y_hat, rtol=1e-7, atol=1e-11, equal_nan=True)
    j = min_train + (np.arange(min_train, n) - min_train) // every * every
    assert np.allclose(wf.bench_mean[min_train:], [y[:k].mean() for k in j], rtol=1e-10, atol=1e-15)
    assert np.isnan(wf.y_hat[:min_train]).all()


def test_walk_forward_never_uses_later_rows() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(200, 2)), rng.normal(size=200)
    full = walk_forward(x, y, min_train=30, every=7)
    for end in (31, 77, 150):
        part = walk_forward(x[:end], y[:end], min_train=30, every=7)
        assert np.array_equal(part.y_hat[30:], full.y_hat[30:end])
    # row i's target is not used for row i's forecast: changing it moves only later forecasts
    y2 = y.copy()
    y2[100] += 5.0
    moved = walk_forward(x, y2, min_train=30, every=1)
    base = walk_forward(x, y, min_train=30, every=1)
    assert np.array_equal(moved.y_hat[:101], base.y_hat[:101], equal_nan=True) and not np.allclose(
        moved.y_hat[101:], base.y_hat[101:]
    )


def test_walk_forward_frame_on_candles() -> None:
    candles = synthetic_candles(300, seed=2)
    frame = walk_forward_frame(candles, lags=2, min_train=100, every=5)
    rows = lagged_returns(candles, 2).filter(pl.col("target").is_not_null())
    assert frame.columns == ["open_time", "target", "y_hat", "bench_mean", "intercept", "a_1", "a_2"]
    assert frame.height == rows.height - 100 and frame["open_time"][0] == rows["open_time"][100]
    x = rows.select("lag_1", "lag_2").to_numpy()
    beta = np.linalg.lstsq(
        np.column_stack([x[:100], np.ones(100)]), rows["target"].to_numpy()[:100], rcond=None
    )[0]
    assert [frame["a_1"][0], frame["a_2"][0], frame["intercept"][0]] == pytest.approx(beta.tolist(), rel=1e-8)


@pytest.mark.parametrize(
    ("min_train", "every", "message"), [(3, 1, "min_train"), (50, 1, "min_train"), (10, 0, "every")]
)
def test_walk_forward_rejects_bad_settings(min_train: int, every: int, message: str) -> None:
    x, y = np.zeros((50, 2)), np.zeros(50)
    with pytest.raises(ValueError, match=message):
        walk_forward(x, y, min_train=min_train, every=every)


def test_order_forecasts_are_naive_refits_on_the_same_rows() -> None:
    candles = synthetic_candles(160, seed=4)
    frame = order_forecasts(candles, max_lags=3, min_train=40)
    rows = lagged_returns(candles, 3).filter(pl.col("target").is_not_null())
    x, y = rows.select("lag_1", "lag_2", "lag_3").to_numpy(), rows["target"].to_numpy()
    assert frame["open_time"].to_list() == rows["open_time"].to_list()[40:]  # one row set for every p
    for p in (1, 2, 3):
        _, expected = naive(x[:, :p], y, 40, 1)  # lags 1..p of the same rows, refit on rows < i
        np.testing.assert_allclose(frame[f"y_hat_{p}"].to_numpy(), expected[40:], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(frame["bench_mean"].to_numpy(), np.cumsum(y)[39:-1] / np.arange(40, y.size))


def test_order_forecasts_never_use_later_candles() -> None:
    candles = synthetic_candles(200, seed=5)
    cut = 150  # candles after the cut are changed: forecasts made at candles before it must not move
    shocked = candles.with_columns(
        close=pl.when(pl.int_range(pl.len()) > cut).then(pl.col("close") * 1.3).otherwise(pl.col("close"))
    )
    before, after = (order_forecasts(c, max_lags=2, min_train=50) for c in (candles, shocked))
    known = pl.col("open_time") < candles["open_time"][cut - 1]  # its target is the return of candle cut
    assert before.filter(known).equals(after.filter(known))
    assert not before.equals(after)


def test_compare_orders_scores_each_window() -> None:
    candles = synthetic_candles(400, seed=6)
    frame = order_forecasts(candles, max_lags=4, min_train=100)
    split = frame["open_time"][150]
    table = compare_orders(candles, max_lags=4, min_train=100, test_start=split)
    assert table.select("window").unique(maintain_order=True).to_series().to_list() == [
        "walk-forward",
        "before test",
        "test window",
    ]
    counts = dict(table.filter(pl.col("lags") == 1).select("window", "n").iter_rows())
    assert counts == {"walk-forward": frame.height, "before test": 150, "test window": frame.height - 150}
    test = frame.slice(150)
    for p in (1, 4):  # each row is oos_metrics of that order's forecasts on that window
        row = table.filter((pl.col("window") == "test window") & (pl.col("lags") == p)).row(0, named=True)
        scores = oos_metrics(
            test[f"y_hat_{p}"].to_numpy(), test["target"].to_numpy(), test["bench_mean"].to_numpy()
        )
        assert {k: row[k] for k in ("mse", "dm_pvalue", "cw_stat", "cw_pvalue")} == pytest.approx(
            {k: scores[k] for k in ("mse", "dm_pvalue", "cw_stat", "cw_pvalue")}
        )
    for window, best in best_orders(table).items():  # the flagged order has the lowest MSE of its window
        rows = table.filter(pl.col("window") == window)
        assert rows.filter(pl.col("best"))["lags"].to_list() == [best]
        assert rows.filter(pl.col("lags") == best)["mse"][0] == rows["mse"].min()
    assert compare_orders(candles, max_lags=2, min_train=100)["window"].unique().to_list() == ["walk-forward"]
