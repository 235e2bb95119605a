"""The readable statement of the accounting of contract section 3: a plain loop over the candles.

``reference_backtest`` walks the candles one at a time with an explicit book (the cash, the
open trade), lists every funding event by its instant, and checks liquidation and the
protective stop on each held candle. It is slow (a Python loop) and meant to be read: the
fast engine (``adalib.backtest.engine``) must agree with it on every trade and equity row,
and the tests check that they do.

>>> from adalib.backtest import BacktestConfig, run_backtest
>>> from adalib.backtest.engine import demo_frame
>>> cfg = BacktestConfig(leverage=3.0, stop_loss=0.02, funding_rate_8h=0.0001)
>>> slow, fast = reference_backtest(demo_frame(), cfg), run_backtest(demo_frame(), cfg)
>>> abs(slow.metrics["final_equity"] - fast.metrics["final_equity"]) < 1e-9
True
"""

from __future__ import annotations

import bisect
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from adalib.backtest.config import DEFAULT_CONFIG, TRADE_SCHEMA, BacktestConfig
from adalib.backtest.funding import check_funding_coverage, funding_frame
from adalib.backtest.inputs import candle_arrays
from adalib.backtest.result import TRADE_TIMES, BacktestResult, build_result

EIGHT_HOURS = timedelta(hours=8)
DTYPES = {"entry_time": np.int64, "exit_time": np.int64, "side": np.int8, "liquidated": bool, "stopped": bool}


def funding_events(
    first_open: datetime, last_close: datetime, config: BacktestConfig, funding: pl.DataFrame | None
) -> list[tuple[datetime, float]]:
    """(instant, rate) of every funding event in ``[first_open, last_close)``: the history's, else
    00:00, 08:00 and 16:00 UTC at ``funding_rate_8h``."""
    if funding is not None:
        inside = funding.filter(pl.col("funding_time").is_between(first_open, last_close, closed="left"))
        return list(inside.iter_rows())
    day = first_open.replace(hour=0, minute=0, second=0, microsecond=0)
    events, t = [], day
    while t < last_close:
        if t >= first_open:
            events.append((t, config.funding_rate_8h))
        t += EIGHT_HOURS
    return events


def reference_backtest(
    frame: pl.DataFrame, config: BacktestConfig = DEFAULT_CONFIG, *, funding: pl.DataFrame | None = None
) -> BacktestResult:
    """The backtest of ``frame``'s ``direction`` signals under ``config``, candle by candle.

    Same inputs, checks and result as ``run_backtest``. ``funding``: a funding history
    (``funding_time``, ``funding_rate``) that replaces the constant ``funding_rate_8h``.

    >>> from adalib.backtest.engine import demo_frame
    >>> reference_backtest(demo_frame(), BacktestConfig(mode="per_bar", fee_rate=0.0)).metrics["n_trades"]
    4
    """
    arrays = candle_arrays(frame)  # the same input checks as the engine
    signals = [int(s) for s in arrays.signals["direction"]]
    rows = frame.select("open_time", "open", "high", "low", "close").cast(
        {"open_time": pl.Datetime("ms", "UTC")}
    )
    candles = rows.cast({c: pl.Float64 for c in ("open", "high", "low", "close")}).to_dicts()
    step = candles[1]["open_time"] - candles[0]["open_time"]
    first_open, last_close = candles[0]["open_time"], candles[-1]["open_time"] + step
    if funding is not None:
        funding = funding_frame(funding)
        check_funding_coverage(funding, first_open, last_close)
    events = funding_events(first_open, last_close, config, funding)
    event_times = [t for t, _ in events]

    slip = config.slippage_bps / 1e4
    fee, lev, frac = config.fee_rate, config.leverage, config.position_fraction
    mmr, stop = config.maintenance_margin_rate, config.stop_loss
    cash, book = config.initial_capital, None
    trades: list[dict] = []
    positions, equity = [], []

    def close_trade(exit_time: datetime, exit_price: float, fees: float, pnl: float, **flags: bool) -> None:
        nonlocal cash, book
        assert book is not None
        cash += pnl
        trades.append(
            dict(
                entry_time=book["entry_time"],
                exit_time=exit_time,
                side=book["side"],
                qty=book["qty"],
                entry_price=book["entry"],
                exit_price=exit_price,
                fees=fees,
                funding=book["funding"],
                pnl=pnl,
                ret=pnl / book["cash_before"],
                liquidated=flags.get("liquidated", False),
                stopped=flags.get("stopped", False),
            )
        )
        book = None

    for u, c in enumerate(candles):
        want = signals[u - 1] if u > 0 else 0  # the position for candle u is the previous signal
        if book is None and want != 0 and cash > 0:  # open at this candle's open
            entry = c["open"] * (1 + want * slip)
            margin = frac * cash
            qty = margin * lev / entry
            p_liq = entry * (1 - 1 / lev) / (1 - mmr) if want > 0 else entry * (1 + 1 / lev) / (1 + mmr)
            book = dict(
                side=want,
                entry=entry,
                qty=qty,
                margin=margin,
                cash_before=cash,
                p_liq=p_liq,
                p_stop=None if stop is None else entry * (1 - want * stop),
                entry_time=c["open_time"],
                entry_fee=fee * qty * entry,
                funding=0.0,
            )
        if book is None:
            positions.append(0.0)
            equity.append(cash)
            continue
        s, qty, p_liq, p_stop = book["side"], book["qty"], book["p_liq"], book["p_stop"]
        positions.append(s * qty)
        exit_time = c["open_time"] + step
        adverse = c["low"] if s > 0 else c["high"]  # the worst price of the candle for the position
        reaches_liq = s * (adverse - p_liq) <= 0
        # the liquidation comes first unless the stop lies between the entry and P_liq
        liq_first = p_stop is None or s * (p_liq - p_stop) >= 0
        if reaches_liq and liq_first:
            # isolated margin: the whole margin is lost; fees are the entry fee; funding so far
            close_trade(exit_time, p_liq, book["entry_fee"], -book["margin"], liquidated=True)
            equity.append(cash)
            continue
        if p_stop is not None and s * (adverse - p_stop) <= 0:
            trigger = (
                c["open"] if s * (c["open"] - p_stop) <= 0 else p_stop
            )  # a gap through the stop: the open
            exit_fill = trigger * (1 - s * slip)
            fees = book["entry_fee"] + fee * qty * exit_fill
            pnl = s * qty * (exit_fill - book["entry"]) - fees - book["funding"]
            close_trade(exit_time, exit_fill, fees, pnl, stopped=True)
            equity.append(cash)
            continue
        # funding events inside this candle, strictly after the entry instant
        lo = bisect.bisect_left(event_times, c["open_time"])
        hi = bisect.bisect_left(event_times, exit_time)
        for t, rate in events[lo:hi]:
            if t > book["entry_time"]:
                book["funding"] += s * qty * c["open"] * rate
        leaving = config.mode == "per_bar" or u == len(candles) - 1 or signals[u] != s
        if leaving:
            exit_fill = c["close"] * (1 - s * slip)
            fees = book["entry_fee"] + fee * qty * exit_fill
            pnl = s * qty * (exit_fill - book["entry"]) - fees - book["funding"]
            close_trade(exit_time, exit_fill, fees, pnl)
            equity.append(cash)
        else:
            equity.append(cash + s * qty * (c["close"] - book["entry"]) - book["entry_fee"] - book["funding"])

    buy_hold = candles[-1]["close"] / candles[1]["open"] - 1
    return build_result(
        arrays.open_ms, np.array(positions), np.array(equity), _trade_arrays(trades), buy_hold
    )


def _trade_arrays(trades: list[dict]) -> dict[str, np.ndarray]:
    """The trade dicts as one array per ``TRADE_SCHEMA`` column (times as epoch ms)."""
    out = {}
    for name in TRADE_SCHEMA:
        values = [t["ret" if name == "return" else name] for t in trades]
        if name in TRADE_TIMES:
            values = [round(t.timestamp() * 1000) for t in values]
        out[name] = np.array(values, dtype=DTYPES.get(name, float))
    return out
