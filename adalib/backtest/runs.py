"""One signal's trades, shared by every configuration that trades it in the same mode, and where
each configuration's first liquidation falls.

>>> from adalib.backtest.engine import demo_frame, market_of
>>> from adalib.backtest.inputs import candle_arrays
>>> c = candle_arrays(demo_frame())
>>> runs = shared_runs(market_of(c, None, rates=False), c.signals["direction"], per_bar=False)
>>> runs.entry.tolist(), runs.last.tolist(), runs.side.tolist(), runs.worst.tolist()
([1, 4], [2, 5], [1.0, -1.0], [1.01, 1.01])
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from adalib.backtest.kernels import Grid, Market, first_reach_segments, runs

TOLERANCE = 1e-9  # relative: far above the rounding between a trade's worst ratio and its P_liq test


@dataclass(frozen=True)
class Runs:
    """One signal's trades: per candle the side held (``pos``), the number of the trade open or last
    closed (``tid``, -1 before the first) and its worst price for the position, signed
    (``adverse``: the low of a long, minus the high of a short, inf when flat); the candles inside a
    trade before its last candle (``inside``); per trade its ``entry`` and ``last`` candle and
    ``side`` (+1.0, -1.0); the entry ``open``."""

    pos: np.ndarray
    tid: np.ndarray
    inside: np.ndarray
    adverse: np.ndarray
    entry: np.ndarray
    last: np.ndarray
    side: np.ndarray
    open: np.ndarray

    @cached_property
    def long_short(self) -> np.ndarray:
        """Per trade (1.0, 0.0) for a long, (0.0, 1.0) for a short: sums by side as a product."""
        return np.stack([self.side > 0, self.side < 0], axis=1).astype(np.float64)

    @cached_property
    def inside_tid(self) -> np.ndarray:
        """The trade of each candle of ``inside``."""
        return self.tid[self.inside]

    @cached_property
    def worst(self) -> np.ndarray:
        """Per trade the lowest low of a long, the highest high of a short, over its candles."""
        if not self.entry.size:
            return np.zeros(0)
        # flat candles are inf; for a short, -(-x) is exact
        return np.minimum.reduceat(self.adverse, self.entry) * self.side

    @cached_property
    def by_worst(self) -> dict[float, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per side, its trades ordered by ``s worst / open`` (how far each goes against the side,
        ascending): the keys, the trade numbers, and their running minimum, so that the earliest
        trade among those beyond a level is found by one binary search."""
        out = {}
        for s in (1.0, -1.0):
            trades = np.flatnonzero(self.side == s)
            key = s * self.worst[trades] / self.open[trades]
            order = np.argsort(key, kind="stable")
            out[s] = key[order], trades[order], np.minimum.accumulate(trades[order])
        return out


def shared_runs(m: Market, signal: np.ndarray, per_bar: bool) -> Runs:
    """The trades of ``signal`` (int8 per candle): a run of one side (``hold``) or one held candle
    (``per_bar``), with the position of candle u the signal of candle u - 1."""
    pos, start, end = runs(signal, np.bool_(per_bar))
    held = pos != 0
    entry, last = np.flatnonzero(start), np.flatnonzero(end)
    adverse = np.negative(m.high)  # the worst price for the position, signed: -high for a short,
    np.copyto(adverse, m.low, where=pos > 0)  # the low for a long, inf when flat
    np.copyto(adverse, np.inf, where=~held)
    side = pos[entry].astype(np.float64)
    inside = np.flatnonzero(held & ~end)
    return Runs(pos, np.cumsum(start) - 1, inside, adverse, entry, last, side, m.open[entry])


def liquidation_price(r: Runs, trades: np.ndarray | slice, g: Grid, configs: np.ndarray | int) -> np.ndarray:
    """``P_liq`` of ``trades`` under ``configs`` (pairwise, broadcast), computed as the reference loop
    does: ``entry (1 - s / leverage) / (1 - s mmr)`` with ``entry = open (1 + s slip)``."""
    s = r.side[trades]
    entry = r.open[trades] * (1 + s * g.slip[configs])
    return entry * (1 - s / g.leverage[configs]) / (1 - s * g.mmr[configs])


def first_liquidations(m: Market, r: Runs, g: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Per configuration its first trade that reaches ``P_liq`` and the candle it does so at (-1, -1:
    none does).

    One configuration: every held candle against its trade's ``P_liq``. Several: a trade reaches
    ``P_liq`` iff its worst price does, that is iff ``s worst / open`` is at most ``s P_liq / open``,
    a level per configuration and side; a binary search in ``Runs.by_worst`` finds the earliest
    such trade, and the few trades within ``TOLERANCE`` of the level are tested exactly."""
    width = g.fee.size
    trade, candle = np.full(width, -1), np.full(width, -1)
    if not r.entry.size:
        return trade, candle
    if width == 1:
        level = r.side * liquidation_price(r, slice(None), g, 0)
        cells = np.flatnonzero(r.adverse <= level.take(r.tid))  # s P_liq against the signed adverse price
        if cells.size:
            trade[0], candle[0] = r.tid[cells[0]], cells[0]
        return trade, candle
    none = r.entry.size
    first = np.full(width, none)
    for s, (keys, trades, earliest) in r.by_worst.items():
        if not keys.size:
            continue
        level = s * (1 + s * g.slip) * (1 - s / g.leverage) / (1 - s * g.mmr)  # s P_liq / open
        sure = np.searchsorted(keys, level - TOLERANCE * np.abs(level))  # keys[:sure] are beyond it
        near = np.searchsorted(keys, level + TOLERANCE * np.abs(level), side="right")
        first = np.minimum(first, np.where(sure > 0, earliest[np.maximum(sure - 1, 0)], none))
        for c in np.flatnonzero(near > sure):  # within the tolerance of the level: the exact test
            close = trades[sure[c] : near[c]]
            reached = close[
                s * (r.worst[close] - liquidation_price(r, close, g, np.full(close.size, c))) <= 0
            ]
            if reached.size:
                first[c] = min(first[c], reached.min())
    ruined = np.flatnonzero(first < none)
    if ruined.size:
        t = first[ruined]
        p_liq = liquidation_price(r, t, g, ruined)
        trade[ruined] = t
        candle[ruined] = first_reach_segments(m, 1, r.entry[t], r.last[t], r.side[t], p_liq)
    return trade, candle
