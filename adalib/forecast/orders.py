"""AR orders compared out of sample: the walk-forward loss of AR(1..max_lags) on the same forecast rows.

Every order forecasts the same rows (those with ``max_lags`` lags, from ``min_train`` on)
from the same expanding windows, so differences in loss come from the order alone. Each
forecast at row t uses rows up to t only (``walk_forward``); the zero forecast is the
benchmark of DM and Clark-West, the running mean that of ``r2_oos``.

>>> from adalib.data import synthetic_candles
>>> table = compare_orders(synthetic_candles(600), max_lags=3, min_train=200)
>>> table["lags"].to_list(), table["n"].unique().to_list()
([1, 2, 3], [396])
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from adalib.data.schema import Candles
from adalib.forecast.evaluation import oos_metrics
from adalib.forecast.signals import lag_columns, lagged_returns
from adalib.forecast.walkforward import walk_forward
from adalib.util.timefmt import utc_literal

SCORES = ("n", "mse", "mse_zero", "r2_vs_zero", "r2_oos", "hit_rate")
TESTS = ("dm_stat", "dm_pvalue", "cw_stat", "cw_pvalue")


def order_forecasts(candles: pl.DataFrame | Candles, *, max_lags: int, min_train: int) -> pl.DataFrame:
    """``open_time, target, bench_mean, y_hat_1..y_hat_{max_lags}``: one walk-forward forecast per order.

    The rows are the usable rows of AR(``max_lags``) from ``min_train`` on; ``y_hat_p``
    uses the first ``p`` lags of the same rows.

    >>> from adalib.data import synthetic_candles
    >>> order_forecasts(synthetic_candles(100), max_lags=2, min_train=50).columns
    ['open_time', 'target', 'bench_mean', 'y_hat_1', 'y_hat_2']
    """
    rows = lagged_returns(candles, max_lags).filter(pl.col("target").is_not_null())
    features, target = rows.select(lag_columns(max_lags)).to_numpy(), rows["target"].to_numpy()
    fits = [walk_forward(features[:, :p], target, min_train=min_train) for p in range(1, max_lags + 1)]
    return (
        rows.select("open_time", "target")
        .with_columns(
            pl.Series("bench_mean", fits[0].bench_mean),
            *[pl.Series(f"y_hat_{p}", fit.y_hat) for p, fit in enumerate(fits, 1)],
        )
        .slice(min_train)
    )


def compare_orders(
    candles: pl.DataFrame | Candles,
    *,
    max_lags: int = 6,
    min_train: int = 730,
    test_start: datetime | None = None,
) -> pl.DataFrame:
    """One row per window and order: ``window, lags`` then ``n, mse, mse_zero, r2_vs_zero, r2_oos,
    hit_rate, dm_stat, dm_pvalue, cw_stat, cw_pvalue`` and ``best`` (lowest MSE in its window).

    Windows: ``"walk-forward"`` (every forecast row); with ``test_start``, also
    ``"before test"`` (``open_time < test_start``) and ``"test window"`` (the rest), a
    window left out when it holds fewer than 2 rows.

    >>> from datetime import datetime, UTC
    >>> from adalib.data import synthetic_candles
    >>> table = compare_orders(synthetic_candles(600), max_lags=2, min_train=200,
    ...                        test_start=datetime(2020, 9, 1, tzinfo=UTC))
    >>> table.filter(pl.col("lags") == 1).select("window", "n").rows()
    [('walk-forward', 397), ('before test', 286), ('test window', 111)]
    """
    forecasts = order_forecasts(candles, max_lags=max_lags, min_train=min_train)
    windows = {"walk-forward": forecasts}
    if test_start is not None:
        before = pl.col("open_time") < utc_literal(test_start)
        windows |= {"before test": forecasts.filter(before), "test window": forecasts.filter(~before)}
    rows = []
    for name, frame in windows.items():
        if frame.height < 2:
            continue
        target, bench = frame["target"].to_numpy(), frame["bench_mean"].to_numpy()
        for p in range(1, max_lags + 1):
            scores = oos_metrics(frame[f"y_hat_{p}"].to_numpy(), target, bench)
            rows.append({"window": name, "lags": p} | {k: scores[k] for k in (*SCORES, *TESTS)})
    table = pl.DataFrame(rows)
    return table.with_columns(best=pl.col("mse") == pl.col("mse").min().over("window"))


def best_orders(table: pl.DataFrame) -> dict[str, int]:
    """The order with the lowest out-of-sample MSE in each window of ``compare_orders``.

    >>> best_orders(pl.DataFrame({"window": ["w", "w"], "lags": [1, 2], "best": [False, True]}))
    {'w': 2}
    """
    best = table.filter(pl.col("best")).unique("window", keep="first", maintain_order=True)
    return dict(zip(best["window"].to_list(), best["lags"].to_list(), strict=True))
