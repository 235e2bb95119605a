"""The numpy kernels of the engine: pure functions of arrays, no Polars, no validation.

``simulate`` is one configuration on one candle series. See ``adalib.backtest.engine`` for how
it maps to the rules of the reference loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NORMAL, LIQUIDATED, STOPPED = 0, 1, 2


@dataclass(frozen=True)
class Market:
    """One candle series as the kernels read it: prices, and per candle the summed funding rate of
    its events (``rate``) and the part of it at its open (``rate_at_open``)."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    rate: np.ndarray
    rate_at_open: np.ndarray

    def funding_prefix(self) -> np.ndarray:
        """``P[u + 1] = sum_{v <= u} open_v * rate_v`` (``P[0] = 0``): funding per unit of quantity."""
        out = np.zeros(self.open.size + 1)
        np.cumsum(self.open * self.rate, out=out[1:])
        return out


@dataclass(frozen=True)
class Params:
    """One configuration, slippage as a fraction; ``stop`` is 0 for no stop."""

    per_bar: bool
    fee: float
    slip: float
    leverage: float
    fraction: float
    mmr: float
    stop: float
    capital: float


def runs(signal: np.ndarray, per_bar: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions and trade segments before any liquidation or stop: ``pos`` per candle (the previous
    signal; candle 0 flat), and the first and last candle of each trade (a run of one side in
    ``hold``, every held candle in ``per_bar``)."""
    pos = np.zeros(signal.size, dtype=np.int8)
    pos[1:] = signal[:-1]
    held = pos != 0
    if per_bar:
        start = held
        end = held
    else:
        start = held.copy()
        start[1:] &= pos[1:] != pos[:-1]
        end = held.copy()
        end[:-1] &= start[1:] | ~held[1:]
    return pos, np.flatnonzero(start), np.flatnonzero(end)


def ranges(first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The candle indices of the segments ``[first, last]``, concatenated, and their segment numbers."""
    lengths = last - first + 1
    segment = np.repeat(np.arange(first.size), lengths)
    offsets = np.cumsum(lengths) - lengths
    return np.arange(lengths.sum()) - np.repeat(offsets, lengths) + np.repeat(first, lengths), segment


def exit_levels(entry: np.ndarray, side: np.ndarray, p: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per trade: the liquidation price, the stop price (NaN without a stop), and the level whose first
    reach ends the trade: ``P_liq`` when it lies between the entry and ``P_stop`` (or without a stop),
    else ``P_stop``."""
    p_liq = entry * (1 - side / p.leverage) / (1 - side * p.mmr)
    if not p.stop:
        return p_liq, np.full(entry.size, np.nan), p_liq
    p_stop = entry * (1 - side * p.stop)
    return p_liq, p_stop, np.where(side * (p_liq - p_stop) >= 0, p_liq, p_stop)


def first_reach(
    m: Market, first: np.ndarray, last: np.ndarray, side: np.ndarray, level: np.ndarray
) -> np.ndarray:
    """Per segment, the first candle in ``[first, last]`` whose adverse extreme (a long's low, a
    short's high) reaches ``level``; -1 where none does (a vectorised first-hit search)."""
    where, segment = ranges(first, last)
    s = side[segment]
    adverse = np.where(s > 0, m.low[where], m.high[where])
    hits = np.flatnonzero(s * (adverse - level[segment]) <= 0)
    out = np.full(first.size, -1, dtype=np.int64)
    if hits.size:
        seg = segment[hits]
        firsts = np.ones(hits.size, dtype=bool)
        firsts[1:] = seg[1:] != seg[:-1]
        out[seg[firsts]] = where[hits[firsts]]
    return out


def split_trades(
    m: Market, pos: np.ndarray, first: np.ndarray, last: np.ndarray, p: Params
) -> tuple[np.ndarray, ...]:
    """Every trade: (first candle, exit candle, kind, entry fill, side). A trade that reaches its
    exit level at candle h < its segment's last candle leaves the rest of the segment as a new trade
    entered at ``open_{h+1}``; each pass handles those new trades only."""
    done: list[tuple[np.ndarray, ...]] = []
    while first.size:
        side = pos[first].astype(np.float64)
        entry = m.open[first] * (1 + side * p.slip)
        p_liq, _, level = exit_levels(entry, side, p)
        hit = first_reach(m, first, last, side, level)
        exits = np.where(hit >= 0, hit, last)
        kind = np.where(hit < 0, NORMAL, np.where(level == p_liq, LIQUIDATED, STOPPED))
        done.append((first, exits, kind, entry, side))
        again = (hit >= 0) & (hit < last)
        first, last = hit[again] + 1, last[again]
    parts = [np.concatenate(column) for column in zip(*done, strict=True)] if done else []
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros(0), np.zeros(0)
    order = np.argsort(parts[0], kind="stable")
    return tuple(part[order] for part in parts)


def simulate(m: Market, signal: np.ndarray, p: Params) -> dict[str, np.ndarray]:
    """One configuration: per candle ``position`` and ``equity``, and the trades (candle indices
    ``entry_at``/``exit_at``, ``side``, ``qty``, ``entry_price``, ``exit_price``, ``fees``,
    ``funding``, ``pnl``, ``return``, ``liquidated``, ``stopped``)."""
    n = signal.size
    pos, first, last = runs(signal, p.per_bar)
    a, h, kind, entry, side = split_trades(m, pos, first, last, p)
    prefix = m.funding_prefix()
    skip = m.open[a] * m.rate_at_open[a]  # an event at the entry instant is not paid
    paid_through_exit = side * (prefix[h + 1] - prefix[a] - skip)
    paid_before_exit = np.where(h > a, side * (prefix[h] - prefix[a] - skip), 0.0)
    liquidated, stopped = kind == LIQUIDATED, kind == STOPPED
    funding = np.where(kind == NORMAL, paid_through_exit, paid_before_exit)  # per unit of quantity
    trigger = m.close[h]
    if p.stop:
        p_stop = entry * (1 - side * p.stop)
        gap = side * (m.open[h] - p_stop) <= 0
        trigger = np.where(stopped, np.where(gap, m.open[h], p_stop), trigger)
    exit_fill = trigger * (1 - side * p.slip)
    k = p.fraction * p.leverage
    growth = np.where(
        liquidated,
        1 - p.fraction,
        1 + k * (side * (exit_fill / entry - 1) - p.fee * (1 + exit_fill / entry) - funding / entry),
    )
    before = p.capital * np.concatenate(([1.0], np.cumprod(growth)))
    ruined = np.flatnonzero(before[:-1] <= 0)  # nothing is opened once the equity is not positive
    if ruined.size:
        cut = int(ruined[0])
        a, h, kind, entry, side, funding, exit_fill, growth, skip = (
            x[:cut] for x in (a, h, kind, entry, side, funding, exit_fill, growth, skip)
        )
        liquidated, stopped, before = liquidated[:cut], stopped[:cut], before[: cut + 1]
    e0 = before[:-1]
    qty = p.fraction * e0 * p.leverage / entry

    # per candle: the trade it belongs to (if any), marked to market at its close
    candles = np.arange(n)
    trade_of = np.searchsorted(a, candles, side="right") - 1
    equity = before[trade_of + 1]  # flat candles: the cash after the last trade
    position = np.zeros(n)
    if a.size:
        u = np.flatnonzero((trade_of >= 0) & (candles <= h[np.maximum(trade_of, 0)]))
        t = trade_of[u]
        s, e = side[t], entry[t]
        paid_so_far = s * (prefix[u + 1] - prefix[a[t]] - skip[t])  # events count from their candle's close
        mark = 1 + k * (s * (m.close[u] / e - 1) - p.fee - paid_so_far / e)
        equity[u] = e0[t] * np.where(u == h[t], growth[t], mark)
        position[u] = s * qty[t]
    fees = p.fee * qty * (entry + np.where(liquidated, 0.0, exit_fill))
    paid = qty * funding
    paid = np.where(paid == 0, 0.0, paid)  # no -0.0 for shorts
    pnl = np.where(liquidated, -p.fraction * e0, side * qty * (exit_fill - entry) - fees - paid)
    p_liq = entry * (1 - side / p.leverage) / (1 - side * p.mmr)
    return {
        "position": position,
        "equity": equity,
        "entry_at": a,
        "exit_at": h,
        "side": side.astype(np.int8),
        "qty": qty,
        "entry_price": entry,
        "exit_price": np.where(liquidated, p_liq, exit_fill),
        "fees": fees,
        "funding": paid,
        "pnl": pnl,
        "return": pnl / e0,
        "liquidated": liquidated,
        "stopped": stopped,
    }
