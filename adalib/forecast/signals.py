"""From candles to forecasts: lagged returns, the forecasts frame, the live signal, training.

``forecast_frame`` is the one code path that turns candles into ``y_hat``, ``direction``
and ``confidence``; the backtest and the live execution both go through it.

>>> from adalib.data import synthetic_candles
>>> candles = synthetic_candles(400)
>>> forecaster, frame = train_forecaster(candles, lags=2)
>>> frame.columns
['open_time', 'close', 'ret', 'y_hat', 'confidence', 'target', 'direction', 'split']
>>> frame.height, frame.filter(pl.col("split") == "train").height  # 397 usable rows + the final candle
(398, 297)
>>> latest_signal(candles, forecaster)["open_time"] == candles["open_time"][-1]
True
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl
from scipy.stats import norm

from adalib.data.schema import TWELVE_HOURS, Candles
from adalib.forecast.model import INTERVAL, Forecaster, fit_ar
from adalib.util.timefmt import iso_z, parse_utc, utc_literal

FORECAST_SCHEMA: dict[str, pl.DataType] = {
    "open_time": pl.Datetime("ms", "UTC"),
    "close": pl.Float64(),
    "ret": pl.Float64(),
    "y_hat": pl.Float64(),
    "confidence": pl.Float64(),
    "target": pl.Float64(),
    "direction": pl.Int8(),
    "split": pl.String(),
}


def _frame(candles: pl.DataFrame | Candles) -> pl.DataFrame:
    return candles.frame if isinstance(candles, Candles) else candles


def lag_columns(lags: int) -> list[str]:
    """``["lag_1", ..., "lag_p"]``: ``lag_k`` is ``r_{t-k+1}`` (``lag_1`` is the candle's own return)."""
    return [f"lag_{k}" for k in range(1, lags + 1)]


def lagged_returns(candles: pl.DataFrame | Candles, lags: int) -> pl.DataFrame:
    """One row per candle that has all ``lags`` lags: ``open_time, close, ret, lag_1..lag_p, target``.

    ``ret`` is ``ln(close_t / close_{t-1})`` and ``target`` is the next candle's return
    (null on the final candle). Every column of row t uses closes up to t only, except
    ``target``. Raises ``ValueError`` unless the candles are consecutive 12h candles.
    """
    frame = _frame(candles)
    if not isinstance(lags, int) or lags < 1:
        raise ValueError(f"lags must be a positive integer, got {lags!r}")
    if frame.height < lags + 1:
        raise ValueError(f"need at least lags + 1 = {lags + 1} candles for {lags} lags, got {frame.height}")
    steps = frame.select(pl.col("open_time").diff().drop_nulls().unique()).to_series()
    if steps.len() and steps.to_list() != [TWELVE_HOURS]:
        raise ValueError(
            f"candles must be consecutive 12h candles; open_time steps found: {sorted(steps.to_list())}"
        )
    ret = (pl.col("close") / pl.col("close").shift(1)).log()
    return (
        frame.select("open_time", "close", ret.alias("ret"))
        .with_columns(
            *[pl.col("ret").shift(k - 1).alias(name) for k, name in enumerate(lag_columns(lags), 1)],
            target=pl.col("ret").shift(-1),
        )
        .filter(pl.col(f"lag_{lags}").is_not_null())
    )


def forecast_frame(
    candles: pl.DataFrame | Candles,
    forecaster: Forecaster,
    *,
    threshold: float = 0.0,
    train_end: str | None = None,
    n_train: int | None = None,
) -> pl.DataFrame:
    """The forecasts frame of contract section 2 (``forecasts.parquet``), one row per candle with all lags.

    ``split``: the first ``n_train`` usable rows (with a target) are ``"train"`` when
    ``n_train`` is given; otherwise rows with ``open_time <= train_end`` (default: the
    forecaster's own ``train_end``). Everything else, the final candle included, is ``"test"``.

    >>> from adalib.data import synthetic_candles
    >>> candles = synthetic_candles(300)
    >>> ar1 = Forecaster((0.1,), 0.0, 1, 0.02, "ADAUSDT", "12h", "2020-01-01T00:00:00Z",
    ...                  "2020-04-10T12:00:00Z")
    >>> frame = forecast_frame(candles, ar1)
    >>> n_train = frame.filter(pl.col("split") == "train").height
    >>> frame.height, n_train, frame["y_hat"].equals(0.1 * frame["ret"])
    (299, 201, True)
    """
    if forecaster.interval != INTERVAL:
        raise ValueError(f"forecaster interval is {forecaster.interval!r}; candles are {INTERVAL}")
    if not threshold >= 0:
        raise ValueError(f"threshold must be >= 0, got {threshold!r}")
    rows = lagged_returns(candles, forecaster.lags)
    y_hat = pl.lit(forecaster.intercept, dtype=pl.Float64)
    for a, name in zip(forecaster.coef, lag_columns(forecaster.lags), strict=True):
        y_hat = y_hat + pl.lit(a, dtype=pl.Float64) * pl.col(name)
    if n_train is not None:
        in_train = (pl.int_range(pl.len()) < n_train) & pl.col("target").is_not_null()
    else:
        end = parse_utc(train_end if train_end is not None else forecaster.train_end)
        assert end is not None  # parse_utc maps only None to None
        in_train = (pl.col("open_time") <= utc_literal(end)) & pl.col("target").is_not_null()
    direction = (
        pl.when(pl.col("y_hat") > threshold).then(1).when(pl.col("y_hat") < -threshold).then(-1).otherwise(0)
    )
    return (
        rows.with_columns(
            y_hat=y_hat, split=pl.when(in_train).then(pl.lit("train")).otherwise(pl.lit("test"))
        )
        .with_columns(
            confidence=pl.col("y_hat")
            .abs()
            .truediv(forecaster.resid_std)
            .map_batches(lambda z: pl.Series(norm.cdf(z.to_numpy())), return_dtype=pl.Float64),
            direction=direction,
        )
        .select([pl.col(c).cast(t) for c, t in FORECAST_SCHEMA.items()])
    )


def latest_signal(
    candles: pl.DataFrame | Candles, forecaster: Forecaster, *, threshold: float = 0.0
) -> dict[str, Any]:
    """The last candle's signal: ``open_time`` (datetime, UTC), ``y_hat``, ``direction``, ``confidence``.

    >>> from adalib.data import synthetic_candles
    >>> ar1 = Forecaster((0.1,), 0.0, 1, 0.02, "ADAUSDT", "12h", "2020-01-01T00:00:00Z",
    ...                  "2020-04-10T12:00:00Z")
    >>> signal = latest_signal(synthetic_candles(300), ar1)
    >>> str(signal["open_time"]), round(signal["y_hat"], 6), signal["direction"]
    ('2020-05-29 12:00:00+00:00', -0.001549, -1)
    >>> round(signal["confidence"], 4)  # Phi(|y_hat| / resid_std)
    0.5309
    """
    row = forecast_frame(candles, forecaster, threshold=threshold).row(-1, named=True)
    return {k: row[k] for k in ("open_time", "y_hat", "direction", "confidence")}


def split_sizes(n_usable: int, test_fraction: float) -> tuple[int, int]:
    """``(n_train, n_test)`` with ``n_train = floor(n * (1 - test_fraction))``."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    n_train = math.floor(n_usable * (1 - test_fraction))
    return n_train, n_usable - n_train


def train_forecaster(
    candles: pl.DataFrame | Candles,
    *,
    lags: int = 2,
    test_fraction: float = 0.25,
    seed: int = 0,
    symbol: str = "ADAUSDT",
    threshold: float = 0.0,
) -> tuple[Forecaster, pl.DataFrame]:
    """Fit AR(``lags``) on the chronological train split; return the forecaster and the forecasts frame.

    >>> from adalib.data import synthetic_candles
    >>> forecaster, frame = train_forecaster(synthetic_candles(300), lags=2, test_fraction=0.25)
    >>> forecaster.lags, forecaster.train_start, forecaster.train_end
    (2, '2020-01-02T00:00:00Z', '2020-04-21T12:00:00Z')
    >>> frame.group_by("split").len().sort("split").rows()  # 297 usable rows: 222 / 75, + the last candle
    [('test', 76), ('train', 222)]
    """
    rows = lagged_returns(candles, lags).filter(pl.col("target").is_not_null())
    n_train, n_test = split_sizes(rows.height, test_fraction)
    if n_train < lags + 2 or n_test < 1:
        raise ValueError(
            f"{rows.height} usable rows split into {n_train} train / {n_test} test: "
            f"need at least {lags + 2} train rows and 1 test row for AR({lags})"
        )
    train = rows.head(n_train)
    features, target = train.select(lag_columns(lags)).to_numpy(), train["target"].to_numpy()
    model = fit_ar(features, target, seed=seed)
    coef, intercept = model.coef(), model.intercept()
    resid = target - (features @ coef + intercept)
    forecaster = Forecaster(
        coef=tuple(float(a) for a in coef),
        intercept=intercept,
        lags=lags,
        resid_std=math.sqrt(float(resid @ resid) / (n_train - lags - 1)),
        symbol=symbol,
        interval=INTERVAL,
        train_start=iso_z(train["open_time"][0]),
        train_end=iso_z(train["open_time"][-1]),
    )
    return forecaster, forecast_frame(candles, forecaster, threshold=threshold, n_train=n_train)
