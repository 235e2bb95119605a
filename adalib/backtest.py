"""The backtest engine of contract section 3: trades, equity and metrics from signals on candles.

>>> from adalib.backtest import demo_frame, run_backtest
>>> result = run_backtest(demo_frame(), mode="hold", fee_rate=0.0005, leverage=2.0)
>>> result.trades.columns[:4], result.equity.columns
(['entry_time', 'exit_time', 'side', 'qty'], ['open_time', 'position', 'equity'])
>>> sorted(result.metrics)[:3]
['ann_vol', 'avg_trade_return', 'buy_hold_return']

``frame`` holds one row per segment candle: ``open_time``, ``open``, ``high``, ``low``,
``close`` and ``direction`` (the signal s_t known at the close of candle t; the position
held during candle t+1).

How it avoids a loop over candles: a trade's return (pnl over the equity before its
entry) does not depend on the equity level, since its quantity scales with that equity.
So trades are delimited and priced per candle with expressions, their returns compound
with a cumulative product, and the mark-to-market equity of a candle is the equity before
its trade times a per-candle ratio. Only liquidations need a loop: a liquidation at candle
u ends the trade there, and the rest of the run is a new trade entered at ``open_{u+1}``
with its own liquidation price. Each pass adds those new entries for every trade at once,
so the loop runs once per liquidation in a row of the same run, never once per candle.

Many configurations run in one pass (``simulate`` on a long frame keyed by ``cfg``):
that is what ``adalib.sweep`` uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from adalib.metrics import metrics_table
from adalib.report import write_json, write_parquet

MODES = ("hold", "per_bar")
TIME = pl.Datetime("ms", "UTC")
FUNDING_EVERY_MS = 8 * 3600 * 1000  # funding events at 00:00, 08:00 and 16:00 UTC
FRAME_COLUMNS = ("open_time", "open", "high", "low", "close", "direction")
TRADE_SCHEMA: dict[str, pl.DataType] = {
    "entry_time": TIME,
    "exit_time": TIME,
    "side": pl.Int8(),
    "qty": pl.Float64(),
    "entry_price": pl.Float64(),
    "exit_price": pl.Float64(),
    "fees": pl.Float64(),
    "funding": pl.Float64(),
    "pnl": pl.Float64(),
    "return": pl.Float64(),
    "liquidated": pl.Boolean(),
}
EQUITY_SCHEMA: dict[str, pl.DataType] = {"open_time": TIME, "position": pl.Float64(), "equity": pl.Float64()}
# The per-configuration parameter columns ``simulate`` reads (slippage as a fraction, not bps).
PARAM_COLUMNS = (
    "per_bar",
    "fee_rate",
    "slip",
    "leverage",
    "position_fraction",
    "mmr",
    "funding_rate_8h",
    "initial_capital",
)


# what ``_trades`` reads from a trade's last candle
TRADE_INPUTS = (
    "cfg",
    "open_time",
    "entry_time",
    "pos",
    "entry",
    "p_liq",
    "exit_fill",
    "liq",
    "g",
    "f",
    "fcum",
    "fee_rate",
    "leverage",
    "position_fraction",
    "funding_rate_8h",
    "initial_capital",
)


class BacktestError(ValueError):
    """Bad backtest input: the message names the field and the problem."""


@dataclass(frozen=True)
class BacktestResult:
    """``trades`` and ``equity`` in the layout of trades.parquet / equity.parquet, and ``metrics``
    with every field of backtest_metrics.json."""

    trades: pl.DataFrame
    equity: pl.DataFrame
    metrics: dict[str, float | int | None]


def check_params(
    *,
    mode: str,
    fee_rate: float,
    slippage_bps: float,
    leverage: float,
    position_fraction: float,
    maintenance_margin_rate: float,
    funding_rate_8h: float,
    initial_capital: float,
) -> None:
    """Raise ``BacktestError`` naming the first bad parameter."""
    finite = {
        "fee_rate": fee_rate,
        "slippage_bps": slippage_bps,
        "leverage": leverage,
        "position_fraction": position_fraction,
        "maintenance_margin_rate": maintenance_margin_rate,
        "funding_rate_8h": funding_rate_8h,
        "initial_capital": initial_capital,
    }
    for name, value in finite.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
            raise BacktestError(f"parameter {name}: expected a finite number, got {value!r}")
    problems = [
        (mode not in MODES, "mode", f"must be one of {MODES}, got {mode!r}"),
        (fee_rate < 0, "fee_rate", f"must be >= 0, got {fee_rate}"),
        (not 0 <= slippage_bps < 1e4, "slippage_bps", f"must be in [0, 10000), got {slippage_bps}"),
        (leverage <= 0, "leverage", f"must be > 0, got {leverage}"),
        (not 0 < position_fraction <= 1, "position_fraction", f"must be in (0, 1], got {position_fraction}"),
        (
            not 0 <= maintenance_margin_rate < 1,
            "maintenance_margin_rate",
            f"must be in [0, 1), got {maintenance_margin_rate}",
        ),
        (initial_capital <= 0, "initial_capital", f"must be > 0, got {initial_capital}"),
    ]
    for bad, name, problem in problems:
        if bad:
            raise BacktestError(f"parameter {name}: {problem}")


def check_candles(frame: pl.DataFrame, signals: tuple[str, ...] = ()) -> tuple[pl.DataFrame, int]:
    """Validate the candle columns of a segment frame (and that ``signals`` exist).

    Returns ``open_time`` (as ``Datetime("ms", "UTC")``) and the Float64 prices, plus the
    candle interval in ms. Raises ``BacktestError`` naming the column and the first bad row.
    """
    missing = [c for c in (*FRAME_COLUMNS[:5], *signals) if c not in frame.columns]
    if missing:
        raise BacktestError(f"frame: missing column(s) {missing}; have {frame.columns}")
    if frame.height < 2:
        raise BacktestError(f"frame: need at least 2 candles, got {frame.height}")
    if not isinstance(frame.schema["open_time"], pl.Datetime):
        raise BacktestError(f"frame column 'open_time': expected a Datetime, got {frame.schema['open_time']}")
    times = pl.col("open_time")
    if frame.schema["open_time"].time_zone is None:  # naive means UTC
        times = times.dt.replace_time_zone("UTC")
    out = frame.select(
        times.dt.convert_time_zone("UTC").cast(TIME).alias("open_time"),
        *[pl.col(c).cast(pl.Float64, strict=False) for c in FRAME_COLUMNS[1:5]],
    )
    step = pl.col("open_time").dt.epoch("ms").diff()
    found = out.select(
        *[
            (pl.col(c).is_null() | pl.col(c).is_nan() | (pl.col(c) <= 0)).arg_true().first().alias(c)
            for c in FRAME_COLUMNS[1:5]
        ],
        step_min=step.min(),
        step_max=step.max(),
    ).row(0, named=True)
    for name in FRAME_COLUMNS[1:5]:
        if found[name] is not None:
            raise BacktestError(
                f"frame column '{name}': null, NaN or non-positive price at row {found[name]}"
            )
    if found["step_min"] <= 0 or found["step_min"] != found["step_max"]:
        raise BacktestError("frame column 'open_time': times must be ascending and evenly spaced (no gaps)")
    return out, int(found["step_min"])


def check_signal(frame: pl.DataFrame, name: str) -> pl.Series:
    """The signal column ``name`` as Int8, after checking it holds only -1, 0 and 1."""
    column = frame[name]
    if not column.dtype.is_integer():
        raise BacktestError(
            f"frame column '{name}': expected an integer signal (-1, 0, 1), got {column.dtype}"
        )
    bad = frame.select((pl.col(name).is_null() | ~pl.col(name).is_in([-1, 0, 1])).arg_true().first()).item()
    if bad is not None:
        raise BacktestError(f"frame column '{name}': values must be -1, 0 or 1 (no nulls); bad row {bad}")
    return column.cast(pl.Int8)


def run_backtest(
    frame: pl.DataFrame,
    *,
    mode: str = "hold",
    fee_rate: float = 0.0005,
    slippage_bps: float = 0.0,
    leverage: float = 1.0,
    position_fraction: float = 1.0,
    maintenance_margin_rate: float = 0.005,
    funding_rate_8h: float = 0.0,
    initial_capital: float = 10000.0,
) -> BacktestResult:
    """Backtest the ``direction`` signals of ``frame`` under the contract's rules.

    ``mode``: ``"hold"`` keeps a position while the signal keeps its sign; ``"per_bar"``
    trades every candle open to close. Fees are taker fees on both legs, slippage moves
    both fills against the trade, sizing compounds (margin = position_fraction * equity),
    funding is charged at 00:00/08:00/16:00 UTC, and isolated-margin liquidation is
    checked against every held candle's low (long) or high (short).

    >>> r = run_backtest(demo_frame(), mode="per_bar", fee_rate=0.0, leverage=1.0)
    >>> r.metrics["n_trades"], round(r.metrics["final_equity"], 1)
    (4, 10194.9)
    """
    params = dict(
        mode=mode,
        fee_rate=fee_rate,
        slippage_bps=slippage_bps,
        leverage=leverage,
        position_fraction=position_fraction,
        maintenance_margin_rate=maintenance_margin_rate,
        funding_rate_8h=funding_rate_8h,
        initial_capital=initial_capital,
    )
    check_params(**params)
    candles, interval_ms = check_candles(frame, ("direction",))
    rows = candles.with_columns(
        signal=check_signal(frame, "direction"),
        cfg=pl.lit(0, pl.UInt32),
        i=pl.int_range(pl.len(), dtype=pl.Int32),
        per_bar=pl.lit(mode == "per_bar"),
        fee_rate=pl.lit(float(fee_rate)),
        slip=pl.lit(slippage_bps / 1e4),
        leverage=pl.lit(float(leverage)),
        position_fraction=pl.lit(float(position_fraction)),
        mmr=pl.lit(float(maintenance_margin_rate)),
        funding_rate_8h=pl.lit(float(funding_rate_8h)),
        initial_capital=pl.lit(float(initial_capital)),
    )
    trades, equity = simulate(rows, interval_ms)
    metrics = metrics_table(equity, trades).drop("cfg", "skew", "kurtosis", "n_periods").row(0, named=True)
    return BacktestResult(
        trades=trades.select(list(TRADE_SCHEMA)),
        equity=equity.select(list(EQUITY_SCHEMA)),
        metrics=metrics,
    )


def buy_and_hold(
    frame: pl.DataFrame,
    *,
    fee_rate: float = 0.0005,
    slippage_bps: float = 0.0,
    initial_capital: float = 10000.0,
) -> BacktestResult:
    """The benchmark on the same candles: long from the open of candle 1 to the close of the last.

    It is the engine itself on a constant long signal (``hold`` mode, leverage 1, fees on
    both legs), so it shares every accounting rule with the strategy.

    >>> bh = buy_and_hold(demo_frame(), fee_rate=0.0)
    >>> round(bh.metrics["total_return"], 10) == round(bh.metrics["buy_hold_return"], 10)
    True
    """
    long = frame.with_columns(direction=pl.lit(1, pl.Int8))
    return run_backtest(
        long, mode="hold", fee_rate=fee_rate, slippage_bps=slippage_bps, initial_capital=initial_capital
    )


def save_backtest(result: BacktestResult, output_dir: Path, extra: dict[str, Any]) -> list[Path]:
    """Write trades.parquet, equity.parquet and backtest_metrics.json (metrics plus ``extra``, e.g. the
    data metadata and the parameters) into ``output_dir``, each atomically; returns the paths."""
    paths = [
        output_dir / "trades.parquet",
        output_dir / "equity.parquet",
        output_dir / "backtest_metrics.json",
    ]
    write_parquet(result.trades, paths[0])
    write_parquet(result.equity, paths[1])
    write_json(paths[2], {**extra, **result.metrics})
    return paths


def _funding_counts(interval_ms: int) -> tuple[pl.Expr, pl.Expr]:
    """Funding events inside ``[open_time, open_time + interval)`` and whether one sits at the open."""
    t0, every = pl.col("open_time").dt.epoch("ms"), FUNDING_EVERY_MS
    inside = (t0 + interval_ms + every - 1) // every - (t0 + every - 1) // every
    return inside, (t0 % every == 0).cast(pl.Int64)


def _liquidations(df: pl.DataFrame, starts: pl.Series) -> pl.DataFrame:
    """Entry fill, liquidation price and first liquidating candle (``liq``) of each trade, given its
    ``starts``; ``more``: the starts plus a new trade after each liquidation that the run continues."""
    start, pos, entry, p_liq = pl.col("start"), pl.col("pos"), pl.col("entry"), pl.col("p_liq")
    hit = pl.col("held") & pl.when(pos > 0).then(pl.col("low") <= p_liq).otherwise(pl.col("high") >= p_liq)
    hits = pl.col("hits")
    return (
        df.lazy()
        .select("pos", "held", "open", "high", "low", "slip", "leverage", "mmr", start=starts)
        .with_columns(entry=pl.when(start).then(pl.col("open") * (1 + pos * pl.col("slip"))).forward_fill())
        .with_columns(
            p_liq=pl.when(pos > 0)
            .then(entry * (1 - 1 / pl.col("leverage")) / (1 - pl.col("mmr")))
            .otherwise(entry * (1 + 1 / pl.col("leverage")) / (1 + pl.col("mmr"))),
        )
        .with_columns(hit=hit)
        .with_columns(hits=pl.col("hit").cast(pl.Int32).cum_sum())
        .with_columns(  # the first hit since the trade's start
            liq=pl.col("hit")
            & (hits - pl.when(start).then(hits - pl.col("hit").cast(pl.Int32)).forward_fill() == 1),
        )
        .select(
            "start", "entry", "p_liq", "liq", more=start | (pl.col("liq").shift(1, fill_value=False) & "held")
        )
        .collect()
    )


def simulate(rows: pl.DataFrame, interval_ms: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Run every configuration of a long frame at once; return (trades, equity rows), both keyed by ``cfg``.

    ``rows``: one row per (``cfg``, candle ``i`` = 0..T-1), sorted by ``cfg`` then ``i``, with
    ``open_time``, ``open``, ``high``, ``low``, ``close``, ``signal`` (Int8) and the columns of
    ``PARAM_COLUMNS``. Inputs are assumed valid (``run_backtest`` and ``adalib.sweep`` check them).
    """
    first = pl.col("i") == 0
    pos, held = pl.col("pos"), pl.col("held")
    df = (
        rows.lazy()
        .with_columns(pos=pl.when(first).then(0).otherwise(pl.col("signal").shift(1)).cast(pl.Int8))
        .with_columns(
            held=pos != 0,
            run_start=(pos != 0) & (pl.col("per_bar") | (pos != pos.shift(1, fill_value=0))),
        )
        .collect()
    )
    book = _liquidations(df, df["run_start"])
    while not book["more"].equals(book["start"]):  # one pass per liquidation in a row within a run
        book = _liquidations(df, book["more"])
    n_events, at_open = _funding_counts(interval_ms)
    start, entry, fcum = pl.col("start"), pl.col("entry"), pl.col("fcum")
    k = pl.col("position_fraction") * pl.col("leverage")
    exit_fill = pl.col("close") * (1 - pos * pl.col("slip"))
    funding = pl.col("funding_rate_8h") * fcum / entry
    df = (
        df.hstack(book.drop("more"))
        .lazy()
        .with_columns(
            tid=start.cast(pl.Int64).cum_sum(),
            entry_time=pl.when(start).then(pl.col("open_time")).forward_fill(),
            end=held
            & (
                pl.col("liq") | (pl.col("i").shift(-1, fill_value=0) == 0) | start.shift(-1) | ~held.shift(-1)
            ).fill_null(True),
            # funding per unit of quantity and rate: events strictly after the entry instant
            f=pos.cast(pl.Float64) * pl.col("open") * (n_events - start.cast(pl.Int64) * at_open),
        )
        .with_columns(fcum=pl.col("f").cum_sum().over("cfg"))
        # funding since the trade's entry: the running sum minus its value before the entry
        .with_columns(fcum=fcum - pl.when(start).then(fcum - pl.col("f")).forward_fill(), exit_fill=exit_fill)
        .with_columns(
            g=pl.when(pl.col("liq"))
            .then(-pl.col("position_fraction"))
            .when(pl.col("end"))
            .then(
                k
                * (pos * (exit_fill - entry) / entry - pl.col("fee_rate") * (1 + exit_fill / entry) - funding)
            )
            .otherwise(k * (pos * (pl.col("close") - entry) / entry - pl.col("fee_rate") - funding)),
        )
        .collect()
    )
    trades = _trades(df.lazy().select(*TRADE_INPUTS, "end").filter("end"), interval_ms).collect()
    # rows before any trade are not held: any valid index will do for them
    book = pl.concat(
        [trades.select("e_before", "alive"), pl.DataFrame({"e_before": [0.0], "alive": [False]})]
    )
    live = held & pl.col("alive")
    mark = pl.col("e_before") * (1 + pl.col("g"))
    index = (pl.col("tid") - 1).clip(0)
    equity = (
        df.lazy()
        .select(
            "cfg",
            "i",
            "open_time",
            "open",
            "close",
            "initial_capital",
            "pos",
            "held",
            "end",
            "g",
            "entry",
            k=k,
            e_before=pl.lit(book["e_before"]).gather(index),
            alive=pl.lit(book["alive"]).gather(index),
        )
        .select(
            "cfg",
            "i",
            "open_time",
            "open",
            "close",
            "initial_capital",
            position=pl.when(live).then(pos * pl.col("k") * pl.col("e_before") / entry).otherwise(0.0),
            equity=pl.when(live)
            .then(mark)
            .otherwise(
                pl.when(pl.col("end") & live)
                .then(mark)
                .when(first)
                .then(pl.col("initial_capital"))
                .forward_fill()
            ),
        )
        .collect()
    )
    return trades.lazy().filter("alive").select("cfg", *TRADE_SCHEMA).collect(), equity


def _trades(ends: pl.LazyFrame, interval_ms: int) -> pl.LazyFrame:
    """One row per trade (its end candle) with the contract's columns, compounding per configuration."""
    liq, entry, side = pl.col("liq"), pl.col("entry"), pl.col("pos")
    growth = (1 + pl.col("g")).cum_prod().over("cfg")
    e_before = pl.col("initial_capital") * growth.shift(1, fill_value=1.0).over("cfg")
    qty = pl.col("position_fraction") * pl.col("e_before") * pl.col("leverage") / entry
    exit_price = pl.when(liq).then(pl.col("p_liq")).otherwise(pl.col("exit_fill"))
    fees = pl.col("fee_rate") * qty * (entry + pl.when(liq).then(0.0).otherwise(pl.col("exit_fill")))
    paid = pl.when(liq).then(pl.col("fcum") - pl.col("f")).otherwise(pl.col("fcum"))
    return (
        ends.with_columns(e_before=e_before)
        .with_columns(alive=((pl.col("e_before") <= 0).cum_sum().over("cfg") == 0))
        .with_columns(
            exit_time=pl.col("open_time") + pl.duration(milliseconds=interval_ms),
            side=side,
            qty=qty,
            entry_price=entry,
            exit_price=exit_price,
            fees=fees,
            funding=pl.col("funding_rate_8h") * qty * paid,
        )
        .with_columns(
            funding=pl.when(pl.col("funding") == 0).then(0.0).otherwise("funding"),  # no -0.0 for shorts
            pnl=pl.when(liq)
            .then(-pl.col("position_fraction") * pl.col("e_before"))
            .otherwise(
                side * pl.col("qty") * (pl.col("exit_price") - entry) - pl.col("fees") - pl.col("funding")
            ),
            liquidated=liq,
        )
        .with_columns(pl.col("g").alias("return"))
    )


def demo_frame() -> pl.DataFrame:
    """Six hand-made 12h candles with signals, for examples: long, long, flat, short, short, long."""
    return pl.DataFrame(
        {
            "open_time": pl.datetime_range(
                datetime(2024, 1, 1, tzinfo=UTC),
                datetime(2024, 1, 3, 12, tzinfo=UTC),
                "12h",
                time_zone="UTC",
                eager=True,
            ),
            "open": [1.00, 1.02, 1.05, 1.03, 1.00, 0.98],
            "high": [1.03, 1.06, 1.07, 1.04, 1.01, 1.00],
            "low": [0.99, 1.01, 1.02, 0.99, 0.97, 0.97],
            "close": [1.02, 1.05, 1.03, 1.00, 0.98, 0.99],
            "direction": [1, 1, 0, -1, -1, 1],
        },
        schema_overrides={"open_time": TIME, "direction": pl.Int8},
    )
