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

import functools
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from numbers import Real
from pathlib import Path
from typing import Any

import polars as pl

from adalib.metrics import one_metrics
from adalib.query import add_columns, collect
from adalib.util.io import write_json, write_parquet

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
PARAM_COLUMNS = ("per_bar", "fee_rate", "slip", "leverage", "position_fraction", "mmr", "funding_rate_8h",
                 "initial_capital")  # fmt: skip


# what the trades are made from (each trade's last candle), and what the liquidation passes read
TRADE_INPUTS = ["cfg", "close_time", "entry_time", "pos", "entry", "p_liq", "exit_fill", "liq", "g", "f",
                "fcum", "fee_rate", "leverage", "position_fraction", "funding_rate_8h", "e_before", "end",
                "alive"]  # fmt: skip
LIQUIDATION_INPUTS = ("cfg", "pos", "held", "open", "high", "low", "slip", "leverage", "mmr")
LIQUIDATION_OUTPUTS = ("start", "entry", "p_liq", "liq", "more")
SPENT = ("high", "low", "signal", "per_bar", "mmr", "hit", "hits", "more")  # not needed after liquidations
EQUITY_ROWS = ["cfg", "i", "open_time", "open", "close", "initial_capital", "position", "equity"]


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
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
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


def check_candles(frame: pl.DataFrame, signals: tuple[str, ...] = ()) -> pl.DataFrame:
    """Validate the candle columns of a segment frame (and that ``signals`` exist).

    Returns ``open_time`` (as ``Datetime("ms", "UTC")``) and the Float64 prices, with what the
    engine needs per candle: ``close_time`` (``open_time`` + the interval), ``events`` (funding
    events at 00:00/08:00/16:00 UTC inside ``[open_time, close_time)``) and ``at_open`` (1 if one
    of them is at ``open_time``). Raises ``BacktestError`` naming the column and the first bad row.
    """
    return collect(_candles(frame, signals))


PRICES = FRAME_COLUMNS[1:5]
STEP = pl.col("open_time").cast(pl.Int64).diff()
BAD_PRICE = {c: pl.col(c).is_null() | pl.col(c).is_nan() | (pl.col(c) <= 0) for c in PRICES}
# aggregates that reveal a bad price (a sum is NaN if a value is): its row is looked up only then
CANDLE_CHECKS = (
    STEP.min().alias("step"),
    STEP.max().alias("step_max"),
    *[pl.col(c).null_count().alias(f"{c} nulls") for c in PRICES],
    *[pl.col(c).min().alias(f"{c} min") for c in PRICES],
    *[pl.col(c).sum().alias(f"{c} sum") for c in PRICES],
)


def _candles(
    frame: pl.DataFrame, signals: tuple[str, ...] = (), directions: tuple[str, ...] = ()
) -> pl.LazyFrame:
    """``check_candles`` as a query (a backtest runs it with its first stages), which also checks that the
    integer columns ``directions`` hold only -1, 0 and 1, and keeps them. The checks are one query."""
    schema = frame.schema
    missing = [c for c in (*FRAME_COLUMNS[:5], *signals, *directions) if c not in schema]
    if missing:
        raise BacktestError(f"frame: missing column(s) {missing}; have {frame.columns}")
    if frame.height < 2:
        raise BacktestError(f"frame: need at least 2 candles, got {frame.height}")
    if not isinstance(schema["open_time"], pl.Datetime):
        raise BacktestError(f"frame column 'open_time': expected a Datetime, got {schema['open_time']}")
    for name in directions:
        if not schema[name].is_integer():
            raise BacktestError(_not_integer(name, schema[name]))
    candles = frame[:, [*FRAME_COLUMNS[:5], *directions]].lazy()  # picked eagerly: cheaper than in a query
    if conversions := _conversions(schema):
        candles = add_columns(candles, (conversions,), frame.height)
    ranges = [e.alias(f"{n} {k}") for n in directions for k, e in _range(n).items()]
    found = collect(candles.select_seq(*CANDLE_CHECKS, *ranges)).row(0, named=True)  # few: one at a time
    for name, bad in BAD_PRICE.items():
        if found[f"{name} nulls"] or not found[f"{name} min"] > 0 or math.isnan(found[f"{name} sum"]):
            row = collect(candles.select(bad.arg_true().first())).item()
            raise BacktestError(f"frame column '{name}': null, NaN or non-positive price at row {row}")
    if found["step"] <= 0 or found["step"] != found["step_max"]:
        raise BacktestError("frame column 'open_time': times must be ascending and evenly spaced (no gaps)")
    for name in directions:
        if found[f"{name} nulls"] or found[f"{name} min"] < -1 or found[f"{name} max"] > 1:
            raise BacktestError(_bad_direction(name, frame.select(_first_bad_direction(name)).item()))
    return add_columns(candles, (_clock(found["step"]),), frame.height)


def _conversions(schema: pl.Schema) -> list[pl.Expr]:
    """What brings ``open_time`` to ``Datetime("ms", "UTC")`` (naive means UTC) and prices to Float64."""
    out = [pl.col(c).cast(pl.Float64, strict=False) for c in PRICES if schema[c] != pl.Float64]
    if schema["open_time"] != TIME:
        times = pl.col("open_time")
        if schema["open_time"].time_zone is None:
            times = times.dt.replace_time_zone("UTC")
        out.append(times.dt.convert_time_zone("UTC").cast(TIME))
    return out


def _range(name: str) -> dict[str, pl.Expr]:
    """Null count, minimum and maximum of an integer signal: -1, 0 and 1 only means none, >= -1, <= 1."""
    return {"nulls": pl.col(name).null_count(), "min": pl.col(name).min(), "max": pl.col(name).max()}


@functools.cache
def _clock(step: int) -> tuple[pl.Expr, ...]:
    """``close_time``, ``events`` and ``at_open`` (see ``check_candles``) for candles of ``step`` ms."""
    t0, every = pl.col("open_time").cast(pl.Int64), FUNDING_EVERY_MS
    return (
        (pl.col("open_time") + pl.duration(milliseconds=step)).alias("close_time"),
        ((t0 + (step + every - 1)) // every - (t0 + (every - 1)) // every).alias("events"),
        (t0 % every == 0).cast(pl.Int64).alias("at_open"),
    )


def _not_integer(name: str, dtype: pl.DataType) -> str:
    return f"frame column '{name}': expected an integer signal (-1, 0, 1), got {dtype}"


def _bad_direction(name: str, row: int) -> str:
    return f"frame column '{name}': values must be -1, 0 or 1 (no nulls); bad row {row}"


def _first_bad_direction(name: str) -> pl.Expr:
    return (pl.col(name).is_null() | ~pl.col(name).is_in([-1, 0, 1])).arg_true().first()


def check_signal(frame: pl.DataFrame, name: str) -> pl.Series:
    """The signal column ``name`` as Int8, after checking it holds only -1, 0 and 1."""
    column = frame[name]
    if not column.dtype.is_integer():
        raise BacktestError(_not_integer(name, column.dtype))
    bad = frame.select(_first_bad_direction(name)).item()
    if bad is not None:
        raise BacktestError(_bad_direction(name, bad))
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
    columns = (
        pl.col("direction").cast(pl.Int8).alias("signal"),
        pl.lit(0, pl.UInt32).alias("cfg"),
        pl.int_range(pl.len(), dtype=pl.Int32).alias("i"),
        pl.lit(mode == "per_bar").alias("per_bar"),
        pl.lit(float(fee_rate)).alias("fee_rate"),
        pl.lit(slippage_bps / 1e4).alias("slip"),
        pl.lit(float(leverage)).alias("leverage"),
        pl.lit(float(position_fraction)).alias("position_fraction"),
        pl.lit(float(maintenance_margin_rate)).alias("mmr"),
        pl.lit(float(funding_rate_8h)).alias("funding_rate_8h"),
        pl.lit(float(initial_capital)).alias("initial_capital"),
    )
    rows = add_columns(_candles(frame, directions=("direction",)), (columns,), frame.height)
    trades, equity = simulate(rows, frame.height)
    return BacktestResult(
        trades=trades[:, list(TRADE_SCHEMA)],
        equity=equity[:, list(EQUITY_SCHEMA)],
        metrics=one_metrics(equity, trades),
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


# The simulation as stages of column expressions, built once: each stage is one ``with_columns`` on
# the long frame (a stage may only use columns that earlier stages made), and a chain of stages runs
# as one query (``adalib.query.add_columns`` and ``collect``).
C = pl.col
FIRST = C("i") == 0
POS, HELD, START, ENTRY, P_LIQ, LIQ, G = (
    C(n) for n in ("pos", "held", "start", "entry", "p_liq", "liq", "g")
)
K = C("position_fraction") * C("leverage")  # return per unit of price move: margin share times leverage
POSITIONS = (
    # the position during candle u is the signal known at the close of candle u-1; candle 0 is flat
    # (as Float64: every product with it needs that type)
    (pl.when(FIRST).then(0).otherwise(C("signal").shift(1)).cast(pl.Float64).alias("pos"),),
    # held candles, and where a trade begins: where a run of one side begins (every held candle in
    # per_bar; the liquidation passes add more); candle 0 is never held, so a shift never carries a
    # previous configuration's rows into a trade
    (
        (POS != 0).alias("held"),
        ((POS != 0) & (C("per_bar") | (POS != POS.shift(1)))).alias("start"),
    ),
)
LIQUIDATION_PRICE = ENTRY * (1 - POS / C("leverage")) / (1 - POS * C("mmr"))  # the contract's, either side
ADVERSE = pl.when(POS > 0).then(C("low")).otherwise(C("high"))  # a long's low, a short's high
HITS = C("hits")
LIQUIDATION_PRICES = (  # given the trade starts: entry fill, liquidation price, candles that reach it
    (pl.when(START).then(C("open") * (1 + POS * C("slip"))).forward_fill().alias("entry"),),
    (LIQUIDATION_PRICE.alias("p_liq"), (HELD & (POS * (LIQUIDATION_PRICE - ADVERSE) >= 0)).alias("hit")),
)
NO_LIQUIDATION = (pl.lit(False).alias("liq"),)  # until the first hits say otherwise
FIRST_HITS = (
    (C("hit").cast(pl.Int32).cum_sum().alias("hits"),),
    # the first hit since the trade's start
    (
        (C("hit") & (HITS - pl.when(START).then(HITS - C("hit").cast(pl.Int32)).forward_fill() == 1)).alias(
            "liq"
        ),
    ),
    # after a liquidation the run goes on as a new trade from the next candle's open
    ((START | (LIQ.shift(1, fill_value=False) & HELD)).alias("more"),),
)
EXIT_FILL = C("close") * (1 - POS * C("slip"))
# A held candle is valued at its close, net of the entry fee; a trade's last candle at its exit fill,
# net of both fees. Funding paid so far is per unit of entry notional.
VALUED_AT = pl.when(C("end")).then(C("exit_fill")).otherwise(C("close"))
FEE_SHARE = pl.when(C("end")).then(C("fee_rate") * (1 + C("exit_fill") / ENTRY)).otherwise(C("fee_rate"))
FUNDING = C("funding_rate_8h") * C("fcum") / ENTRY
TRADE_ROWS = (
    (
        pl.when(START).then(C("open_time")).forward_fill().alias("entry_time"),
        # a trade ends where it is liquidated or where the next candle starts anew or is flat
        (HELD & (LIQ | (START | ~HELD).shift(-1, fill_value=True))).alias("end"),
        # funding per unit of quantity and rate in each held candle: events strictly after the entry
        (POS * C("open") * (C("events") - START.cast(pl.Int64) * C("at_open"))).alias("f"),
    ),
    (C("f").cum_sum().alias("fsum"),),
    # funding since the trade's entry: the running sum minus its value before the entry
    (
        (C("fsum") - pl.when(START).then(C("fsum") - C("f")).forward_fill()).alias("fcum"),
        EXIT_FILL.alias("exit_fill"),
    ),
    (  # the trade's return so far: marked to market, settled at its exit, -fraction if liquidated
        pl.when(LIQ)
        .then(-C("position_fraction"))
        .otherwise(K * (POS * (VALUED_AT - ENTRY) / ENTRY - FEE_SHARE - FUNDING))
        .alias("g"),
    ),
)


def _compounding(by: str | None) -> tuple:
    """Equity compounding at each trade's last candle, per configuration ``by`` (None: the frame holds one
    configuration; a window ``over`` it costs more than the compounding itself on one backtest)."""

    def per_config(expr: pl.Expr) -> pl.Expr:
        return expr.over(by) if by else expr

    growth = pl.when(C("end")).then(1 + G).otherwise(1.0).cum_prod()
    # the equity before the candle's trade: the growth up to the previous trade's last candle
    e_before = C("initial_capital") * pl.when(FIRST).then(1.0).otherwise(C("growth").shift(1))
    # once the equity before a trade is not positive nothing more is opened
    dead = (START & (C("e_before") <= 0)).cum_sum()
    return (
        (per_config(growth).alias("growth"),),
        (e_before.alias("e_before"),),
        ((per_config(dead) == 0).alias("alive"),),
    )


COMPOUNDING = {False: _compounding(None), True: _compounding("cfg")}  # by: several configurations?
LIVE = HELD & C("alive")
MARK = C("e_before") * (1 + G)
EQUITY = (
    pl.when(LIVE).then(POS * K * C("e_before") / ENTRY).otherwise(0.0).alias("position"),
    pl.when(LIVE)
    .then(MARK)
    .otherwise(pl.when(C("end") & LIVE).then(MARK).when(FIRST).then(C("initial_capital")).forward_fill())
    .alias("equity"),
)
QTY = C("qty")
TRADES = (  # on the trades' last candles: one row per trade, in order
    (
        (C("position_fraction") * C("e_before") * C("leverage") / ENTRY).alias("qty"),
        POS.cast(pl.Int8).alias("side"),
        ENTRY.alias("entry_price"),
        pl.when(LIQ).then(P_LIQ).otherwise(C("exit_fill")).alias("exit_price"),
        C("close_time").alias("exit_time"),
        LIQ.alias("liquidated"),
        G.alias("return"),
    ),
    (
        (C("fee_rate") * QTY * (ENTRY + pl.when(LIQ).then(0.0).otherwise(C("exit_fill")))).alias("fees"),
        # a liquidated trade pays the funding of the candles before the liquidation candle
        (C("funding_rate_8h") * QTY * pl.when(LIQ).then(C("fcum") - C("f")).otherwise(C("fcum"))).alias(
            "funding"
        ),
    ),
    (
        pl.when(C("funding") == 0).then(0.0).otherwise("funding").alias("funding"),  # no -0.0 for shorts
        pl.when(LIQ)
        .then(-C("position_fraction") * C("e_before"))
        .otherwise(POS * QTY * (C("exit_price") - ENTRY) - C("fees") - C("funding"))
        .alias("pnl"),
    ),
)


def _liquidations(book: pl.DataFrame) -> pl.DataFrame:
    """The first liquidating candle of each trade (``liq``), then one more pass per liquidation in a row
    within a run (the run goes on as a new trade from the next candle's open: ``more``), over the
    configurations it changes only; ``start``, ``entry`` and ``p_liq`` end up those of every trade."""
    book = collect(add_columns(book.lazy(), FIRST_HITS, book.height))
    while (changed := book["cfg"].filter(book["more"] != book["start"]).unique()).len():
        rows_of = book["cfg"].is_in(changed.implode()).arg_true()
        again = book[rows_of].lazy().select(*LIQUIDATION_INPUTS, start="more")
        again = collect(add_columns(again, (*LIQUIDATION_PRICES, *FIRST_HITS), rows_of.len()))
        book = book.with_columns(book[c].scatter(rows_of, again[c]) for c in LIQUIDATION_OUTPUTS)
    return book


def simulate(rows: pl.LazyFrame, n: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Run every configuration of a long frame at once; return (trades, equity rows), both keyed by ``cfg``.

    ``rows``: a query of ``n`` rows, one per (``cfg``, candle ``i`` = 0..T-1), sorted by ``cfg`` then
    ``i``, with the columns of ``check_candles``, ``signal`` (Int8) and those of ``PARAM_COLUMNS``.
    Inputs are assumed valid (``run_backtest`` and ``adalib.sweep`` check them). Three queries when no
    liquidation splits a run: positions and liquidation prices, then trade rows and equity, then trades.
    """
    book = collect(add_columns(rows, (*POSITIONS, *LIQUIDATION_PRICES, NO_LIQUIDATION), n))
    if book["hit"].any():  # some candle reaches a liquidation price (else no trade is split)
        book = _liquidations(book)
    several = book["cfg"][0] != book["cfg"][-1]
    kept = [c for c in book.columns if c not in SPENT]  # (columns picked eagerly: cheaper than in a query)
    df = collect(add_columns(book[:, kept].lazy(), (*TRADE_ROWS, *COMPOUNDING[several], EQUITY), n))
    trades = collect(add_columns(df[:, TRADE_INPUTS].lazy().filter(C("end") & C("alive")), TRADES, n))
    return trades[:, ["cfg", *TRADE_SCHEMA]], df[:, EQUITY_ROWS]


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
