"""The backtest's input: a segment of the forecasts (contract section 2) joined with the candles' OHLC.

>>> from adalib.data import load_candles
>>> candles = load_candles("synthetic", end="2021-01-01")
>>> seg = load_segment(candles, forecasts_path=None, weights_path="model_weights.pth",
...                    output_dir="/nonexistent-output", segment="all")
>>> seg.source, seg.frame.columns[:6]
('computed from model_weights.pth', ['open_time', 'open', 'high', 'low', 'close', 'direction'])

``forecasts_path=None`` reads ``{output_dir}/forecasts.parquet`` when the forecasting
notebook wrote it, else computes the forecasts from ``weights_path`` on the candles.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from adalib.data import Candles
from adalib.forecast import ARTIFACT_SET as FORECAST_SET
from adalib.forecast import FORECAST_SCHEMA, forecast_frame, load_weights, walk_forward_frame
from adalib.util.artifacts import check_agree, file_tags, reading_artifact_set
from adalib.util.paths import resolve_existing, resolve_output

SEGMENTS = ("test", "all")
WALK_FORWARD_MIN_TRAIN = 100  # usable rows before the first walk-forward fit


class ForecastsError(ValueError):
    """Unusable forecasts: the message names the file, the field and the problem.

    >>> str(ForecastsError("f.parquet", "missing column 'y_hat'"))
    "f.parquet: missing column 'y_hat'"
    """

    def __init__(self, source: str, problem: str) -> None:
        self.source = source
        self.problem = problem
        super().__init__(f"{source}: {problem}")


@dataclass(frozen=True)
class Segment:
    """``frame``: ``open_time, open, high, low, close, direction, y_hat, confidence, split`` for the
    segment's candles; ``source``: where the forecasts came from (as the parameters name it).

    >>> Segment(pl.DataFrame({"open_time": []}), "computed from model_weights.pth").source
    'computed from model_weights.pth'
    """

    frame: pl.DataFrame
    source: str


def read_forecasts(path: str | Path) -> pl.DataFrame:
    """Read a forecasts file and check its columns, dtypes and values (raises ``ForecastsError``).

    >>> try:
    ...     read_forecasts("/nonexistent/forecasts.parquet")
    ... except ForecastsError as exc:
    ...     print(exc.problem.split(" (")[0])
    forecasts file not found
    """
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise ForecastsError(name, "forecasts file not found (run notebooks/ADA_ML_model.ipynb to write it)")
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # polars raises several types for a bad file: report them as one
        raise ForecastsError(name, f"not a readable parquet file ({type(exc).__name__})") from None
    for column, dtype in FORECAST_SCHEMA.items():
        if column not in frame.columns:
            raise ForecastsError(name, f"missing column '{column}'; have {frame.columns}")
        if frame.schema[column] != dtype:
            raise ForecastsError(
                name, f"column '{column}' has dtype {frame.schema[column]}, expected {dtype}"
            )
    return check_forecasts(frame, name)


def check_forecasts(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    """Values of a forecasts frame: no nulls where the contract has none, valid signals and splits, times
    ascending and unique."""
    for column in ("open_time", "close", "y_hat", "direction", "split"):
        if frame[column].null_count():
            raise ForecastsError(name, f"column '{column}' has {frame[column].null_count()} null value(s)")
    if frame.height < 2:
        raise ForecastsError(name, f"need at least 2 rows, got {frame.height}")
    if not frame["direction"].is_in([-1, 0, 1]).all():
        raise ForecastsError(name, "column 'direction' holds values other than -1, 0, 1")
    if not frame["split"].is_in(["train", "test"]).all():
        raise ForecastsError(name, "column 'split' holds values other than 'train' and 'test'")
    if (frame["open_time"].diff().drop_nulls().dt.total_milliseconds() <= 0).any():
        raise ForecastsError(name, "column 'open_time' is not strictly ascending")
    return frame


def load_segment(
    candles: Candles | pl.DataFrame,
    *,
    forecasts_path: str | Path | None = None,
    weights_path: str | Path = "model_weights.pth",
    output_dir: str | Path = "artifacts",
    segment: str = "test",
    symbol: str | None = None,
) -> Segment:
    """The backtest frame of contract section 3 for ``segment`` (``"test"``: rows with
    ``split == "test"``, the final candle included; ``"all"``: every row).

    Forecasts outside the candles' time span are dropped (that is what ``start``/``end``
    select); every forecast inside it must be one of the candles, with the same ``close``
    (else they were computed on other data). Raises ``ForecastsError`` before any backtest work.

    >>> from adalib import load_candles
    >>> candles = load_candles("synthetic", end="2021-01-01")
    >>> load_segment(candles, forecasts_path="/nonexistent/forecasts.parquet")
    Traceback (most recent call last):
    ...
    adalib.backtest.segment.ForecastsError: /nonexistent/forecasts.parquet: forecasts file not found ...
    """
    frame = candles.frame if isinstance(candles, Candles) else candles
    if segment not in SEGMENTS:
        raise ForecastsError("segment", f"must be one of {SEGMENTS}, got {segment!r}")
    if forecasts_path is None:
        shown = str(Path(output_dir) / "forecasts.parquet")
        path = resolve_output(shown)
    else:
        shown, path = str(forecasts_path), resolve_existing(forecasts_path)
    if forecasts_path is not None or path.is_file():
        with reading_artifact_set(FORECAST_SET, path.parent):  # one complete set, never a mix
            forecasts, source, tags = read_forecasts(path), shown, file_tags(path)
        weights = resolve_existing(weights_path)
        if weights.is_file():  # forecasts of one model beside the weights of another: refuse
            model = load_weights(weights)
            check_agree({shown: tags, str(weights_path): {"lags": model.lags, "symbol": model.symbol}})
    else:
        forecasts = forecast_frame(frame, load_weights(resolve_existing(weights_path), symbol=symbol))
        source = f"computed from {weights_path}"
    first, last = frame["open_time"][0], frame["open_time"][-1]
    inside = forecasts.filter(pl.col("open_time").is_between(first, last))
    joined = inside.join(
        frame.select("open_time", "open", "high", "low", pl.col("close").alias("candle_close")),
        on="open_time",
        how="left",
        maintain_order="left",
    )
    if inside.height == 0:
        raise ForecastsError(source, f"no forecast falls within the candles ({first} .. {last})")
    unmatched = joined.filter(pl.col("candle_close").is_null())
    if unmatched.height:
        raise ForecastsError(
            source, f"column 'open_time': {unmatched['open_time'][0]} is not one of the candles"
        )
    differs = joined.filter((pl.col("close") - pl.col("candle_close")).abs() > 1e-9 * pl.col("candle_close"))
    if differs.height:
        raise ForecastsError(
            source,
            f"column 'close' differs from the candles at {differs['open_time'][0]} "
            f"({differs['close'][0]} vs {differs['candle_close'][0]}): the forecasts were made on other data",
        )
    rows = joined if segment == "all" else joined.filter(pl.col("split") == "test")
    if rows.height < 2:
        raise ForecastsError(source, f"segment {segment!r} has {rows.height} candle(s) here; need at least 2")
    out = rows.select(
        "open_time",
        "open",
        "high",
        "low",
        "close",
        "direction",
        "y_hat",
        "confidence",
        "split",
    )
    return Segment(out, source)


def walk_forward_signal(candles: Candles | pl.DataFrame, frame: pl.DataFrame, *, lags: int) -> pl.Series:
    """``y_hat`` of an expanding-window AR(``lags``) refitted at every candle, for each row of ``frame``.

    The forecast at candle t comes from a least-squares fit on the returns up to the close of
    candle t only (``adalib.forecast.walkforward``). Null where there is none: rows with fewer than
    ``WALK_FORWARD_MIN_TRAIN`` earlier usable rows, and the final candle (no target yet, so the
    walk-forward does not list it; its signal s_{T-1} is never traded). Use it as an alternative
    signal column in ``adalib.backtest.sweep``.

    >>> from adalib.data import load_candles
    >>> candles = load_candles("synthetic", end="2021-01-01")
    >>> seg = load_segment(candles, output_dir="/nonexistent", segment="all")
    >>> y_hat = walk_forward_signal(candles, seg.frame, lags=2)
    >>> y_hat.len() == seg.frame.height, y_hat.null_count() > 0
    (True, True)
    """
    candles = candles.frame if isinstance(candles, Candles) else candles
    wf = walk_forward_frame(candles, lags=lags, min_train=WALK_FORWARD_MIN_TRAIN)
    return frame.select("open_time").join(wf, on="open_time", how="left", maintain_order="left")["y_hat"]
