"""The backtest engine of contract section 3: trades, equity and metrics from signals on candles.

>>> from adalib.backtest import BacktestConfig, run_backtest
>>> result = run_backtest(demo_frame(), BacktestConfig(fee_rate=0.0005, leverage=2.0))
>>> result.trades.columns[:4], result.equity.columns
(['entry_time', 'exit_time', 'side', 'qty'], ['open_time', 'position', 'equity'])

``frame`` holds one row per segment candle: ``open_time``, ``open``, ``high``, ``low``,
``close`` and ``direction`` (the signal s_t known at the close of candle t; the position
held during candle t+1). Polars is used only at the edges (the input frame, the trade and
equity tables, built on first access); the work is numpy, in two kernels:

- ``adalib.backtest.dense`` (over ``adalib.backtest.runs``) when no trade is cut short to re-open
  the rest of its run, that is without a stop and unless a liquidation leaves equity (a position
  fraction below 1): every configuration of a signal then trades at the same candles, so the
  signal's trades are found once and each configuration's are a row of a matrix;
- ``adalib.backtest.kernels`` otherwise (it handles everything, more slowly).

How they map to the rules of the reference loop (``adalib.backtest.reference``):
- positions: the loop's ``want = signals[u - 1]`` is the signal shifted by one candle; a trade
  begins where a run of one side begins (``hold``) or at every held candle (``per_bar``), and
  ends at the run's last candle;
- liquidation and stop: the loop checks each held candle against ``P_liq`` and ``P_stop``.
  ``dense`` compares each trade's worst price (its lowest low or highest high, one ``reduceat``)
  with ``P_liq``, by a binary search over the trades ordered by it, and only a configuration's
  first liquidation matters: with the whole equity as margin it is ruined. ``kernels`` finds, for
  all trades at once, the first candle whose low (long) or high (short) reaches the trade's exit
  level (``P_liq`` if it lies between the entry and ``P_stop``, else ``P_stop``) by a vectorised
  first-hit search; a trade ended early leaves the rest of its run as a new trade entered at the
  next open, as the loop re-opens a flat book, and one more pass handles those new trades only
  (a pass per liquidation or stop in a row, never per candle);
- funding: the loop adds each event strictly after the entry; the kernels take differences of a
  prefix sum of ``open * rate`` per candle, less the events at the entry instant;
- compounding: a trade's return (pnl over the equity before it) does not depend on the equity
  level, since its quantity scales with that equity; so trade returns compound by a cumulative
  product, and a held candle's equity is affine in its close (``base + s q close``);
- ruin: the loop opens nothing once the cash is not positive; the kernels drop the trades from
  the first one whose equity before entry is not positive.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import polars as pl

from adalib.backtest.config import DEFAULT_CONFIG, TIME, TRADE_SCHEMA, BacktestConfig
from adalib.backtest.dense import SharedBlock, simulate_shared
from adalib.backtest.funding import candle_rates, check_funding_coverage, funding_frame
from adalib.backtest.inputs import CandleArrays, candle_arrays
from adalib.backtest.kernels import Grid, Market, simulate
from adalib.backtest.metrics import metrics_record
from adalib.backtest.result import TRADE_ARRAYS, BacktestResult, build_result
from adalib.backtest.runs import shared_runs


def grid_of(configs: Sequence[BacktestConfig], history: bool) -> Grid:
    """The kernels' view of configurations: one array per parameter (slippage as a fraction, no stop as
    0, the funding factor: the constant 8h rate, or 1 with a ``history``)."""

    rows = np.array(
        [
            (
                c.fee_rate,
                c.slippage_bps / 1e4,
                c.leverage,
                c.position_fraction,
                c.maintenance_margin_rate,
                c.stop_loss or 0.0,
                c.initial_capital,
                1.0 if history else c.funding_rate_8h,
            )
            for c in configs
        ],
        dtype=np.float64,
    ).T  # one row per parameter
    return Grid(np.array([c.mode == "per_bar" for c in configs]), *rows)  # fmt: skip


def market_of(c: CandleArrays, funding: pl.DataFrame | None, *, rates: bool = True) -> Market:
    """The candles with their funding events per candle: the history's rates, else the number of events
    on the 8h grid (the kernels multiply it by each configuration's constant rate). ``rates=False``:
    zeros, for configurations without funding (the kernels then never read them)."""
    if not rates:
        zeros = np.zeros(c.n)
        return Market(c.open, c.high, c.low, c.close, zeros, zeros)
    rate, at_open = candle_rates(c.open_ms, c.step_ms, 1.0, funding)
    return Market(c.open, c.high, c.low, c.close, rate, at_open)


def checked_funding(c: CandleArrays, funding: pl.DataFrame | None) -> pl.DataFrame | None:
    """A funding history checked and normalised, and covering the candles (else ``BacktestError``)."""
    if funding is None:
        return None
    funding = funding_frame(funding)
    first, last = pl.Series([int(c.open_ms[0]), int(c.open_ms[-1]) + c.step_ms]).cast(TIME)
    check_funding_coverage(funding, first, last)
    return funding


def run_backtest(
    frame: pl.DataFrame, config: BacktestConfig = DEFAULT_CONFIG, *, funding: pl.DataFrame | None = None
) -> BacktestResult:
    """Backtest the ``direction`` signals of ``frame`` under ``config`` (contract section 3).

    ``mode``: ``"hold"`` keeps a position while the signal keeps its sign; ``"per_bar"``
    trades every candle open to close. Fees are taker fees on both legs, slippage moves
    both fills against the trade, sizing compounds (margin = position_fraction * equity),
    funding is charged at 00:00/08:00/16:00 UTC (or at the instants of ``funding``, a history
    from ``read_funding``, which must cover the candles), isolated-margin liquidation and the
    protective stop are checked on every held candle.

    >>> r = run_backtest(demo_frame(), BacktestConfig(mode="per_bar", fee_rate=0.0))
    >>> r.metrics["n_trades"], round(r.metrics["final_equity"], 1)
    (4, 10194.9)
    """
    c = candle_arrays(frame)
    history = checked_funding(c, funding)
    market = market_of(c, history, rates=history is not None or config.funding_rate_8h != 0)
    grid, signal = grid_of([config], history is not None), c.signals["direction"]
    if config.stop_loss is None:
        block, shared = simulate_shared(market, shared_runs(market, signal, config.mode == "per_bar"), grid)
        if shared[0]:
            return shared_result(c, block)
    return result_of(c, simulate(market, signal[:, None], grid))


def opened_trades(c: CandleArrays, out: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A kernel's trades that were opened (``alive``), with their times (epoch ms)."""
    alive = out["alive"]
    keep = slice(None) if alive.all() else alive
    trades = {name: out[name][keep] for name in TRADE_ARRAYS}
    trades["entry_time"] = c.open_ms[trades["entry_at"]]
    trades["exit_time"] = c.open_ms[trades["exit_at"]] + c.step_ms
    return trades


def result_of(c: CandleArrays, out: dict[str, np.ndarray]) -> BacktestResult:
    """The contract's tables and metrics from ``kernels.simulate``'s arrays (one configuration)."""
    buy_hold = float(c.close[-1] / c.open[1] - 1)
    return build_result(
        c.open_ms, out["position"][:, 0], out["equity"][:, 0], opened_trades(c, out), buy_hold
    )


def shared_result(c: CandleArrays, block: SharedBlock) -> BacktestResult:
    """The metrics of a one-configuration ``SharedBlock``; its tables are computed on first access."""
    equity = block.equity()[0]
    buy_hold = float(c.close[-1] / c.open[1] - 1)
    metrics = metrics_record(equity, int(block.exposure()[0]), buy_hold_return=buy_hold, trades=block.sums())

    def columns() -> dict[str, np.ndarray]:
        trades = opened_trades(c, block.trades())
        return {
            **{name: trades[name] for name in TRADE_SCHEMA},
            "open_ms": c.open_ms, "position": block.position()[0], "equity": equity,
        }  # fmt: skip

    return BacktestResult(columns, metrics)


def buy_and_hold(
    frame: pl.DataFrame, config: BacktestConfig = DEFAULT_CONFIG, *, funding: pl.DataFrame | None = None
) -> BacktestResult:
    """The benchmark on the same candles: long from the open of candle 1 to the close of the last.

    It is the engine itself on a constant long signal in ``hold`` mode at leverage 1 with the whole
    equity and no stop, with ``config``'s fees, slippage, funding and capital, so it shares every
    accounting rule with the strategy.

    >>> bh = buy_and_hold(demo_frame(), BacktestConfig(fee_rate=0.0))
    >>> round(bh.metrics["total_return"], 10) == round(bh.metrics["buy_hold_return"], 10)
    True
    """
    from dataclasses import replace

    long = frame.with_columns(direction=pl.lit(1, pl.Int8))
    plain = replace(config, mode="hold", leverage=1.0, position_fraction=1.0, stop_loss=None)
    return run_backtest(long, plain, funding=funding)


def demo_frame() -> pl.DataFrame:
    """Six hand-made 12h candles with signals, for examples: long, long, flat, short, short, long.

    >>> demo_frame().height
    6
    """
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
