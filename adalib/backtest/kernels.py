"""The general numpy kernel of the engine: pure functions of arrays, no Polars, no validation.

``simulate`` runs a block of configurations on one candle series at once, with every feature
(stops, and liquidations that leave equity to re-open with, included; ``adalib.backtest.dense``
is the faster kernel for the rest). Candle quantities are
time-major ``(candles, configurations)`` arrays (the candles' prices broadcast along the
configurations; the scans, forward fills, the compounding product and the running peak, run down
each column); a cell's flat index is ``candle * configurations + configuration``. Trade
quantities are flat arrays in the order of their entry cells. ``adalib.backtest.engine`` says
how this maps to the rules of the reference loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

NORMAL, LIQUIDATED, STOPPED = 0, 1, 2
Param = np.ndarray | np.floating | float  # a parameter: one value, or one per trade


@dataclass(frozen=True)
class Market:
    """One candle series as the kernels read it: prices, and per candle the summed rate of its funding
    events (``rate``: the history's, or the number of 8h events for a constant rate) and the part of
    it at its open (``rate_at_open``)."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    rate: np.ndarray
    rate_at_open: np.ndarray

    @cached_property
    def prefix(self) -> np.ndarray:
        """``P[u + 1] = sum_{v <= u} open_v * rate_v`` (``P[0] = 0``): funding per unit of quantity."""
        out = np.zeros(self.open.size + 1)
        np.cumsum(self.open * self.rate, out=out[1:])
        return out


@dataclass(frozen=True)
class Grid:
    """The configurations of a block, one entry each: ``per_bar`` (bool), ``fee``, ``slip`` (a
    fraction), ``leverage``, ``fraction``, ``mmr``, ``stop`` (0: none), ``capital`` and ``funding``
    (the factor on the market's ``rate``: the constant 8h rate, or 1 for a history)."""

    per_bar: np.ndarray
    fee: np.ndarray
    slip: np.ndarray
    leverage: np.ndarray
    fraction: np.ndarray
    mmr: np.ndarray
    stop: np.ndarray
    capital: np.ndarray
    funding: np.ndarray

    def take(self, columns: np.ndarray) -> Grid:
        """The configurations selected by ``columns`` (a mask or indices)."""
        return Grid(**{name: values[columns] for name, values in vars(self).items()})

    def at(self, name: str, col: np.ndarray) -> np.ndarray | np.floating:
        """The parameter ``name`` of each trade's configuration (``col``): one scalar when the block's
        configurations share it (no gather), else one value per trade."""
        values = getattr(self, name)
        return values[0] if values.size == 1 or (values == values[0]).all() else values[col]


def runs(signals: np.ndarray, per_bar: np.ndarray | np.bool_) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions (the previous candle's signal; candle 0 flat), and the cells where a trade begins and
    where one ends before any liquidation or stop: a run of one side (``hold``) or one held candle
    (``per_bar``)."""
    pos = np.empty_like(signals)
    pos[0] = 0
    pos[1:] = signals[:-1]
    held = pos != 0
    start = held.copy()
    start[1:] &= (pos[1:] != pos[:-1]) | per_bar
    end = held.copy()
    end[:-1] &= start[1:] | ~held[1:]
    return pos, start, end


def trade_index(shape: tuple[int, int], first: np.ndarray) -> np.ndarray:
    """Per cell, the number of the last trade entered at or before it in its column (-1 before any);
    trades are numbered in the order of their (flat) entry cells."""
    if shape[1] == 1:  # one column: trades are numbered in time order, a count of the entries so far
        starts = np.zeros(shape[0], dtype=np.int64)
        starts[first] = 1
        return (np.cumsum(starts) - 1).reshape(shape)
    marks = np.full(shape, -1, dtype=np.int64)
    marks.flat[first] = np.arange(first.size)
    return np.maximum.accumulate(marks, axis=0)


def exit_level(
    entry: np.ndarray, side: np.ndarray, g: Grid, col: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per trade: the liquidation price, and the level whose first reach ends the trade: ``P_liq`` when
    it lies between the entry and ``P_stop`` (or without a stop), else ``P_stop``."""
    p_liq = entry * (1 - side / g.at("leverage", col)) / (1 - side * g.at("mmr", col))
    stop = g.at("stop", col)
    if not np.any(stop):
        return p_liq, p_liq
    p_stop = entry * (1 - side * stop)
    return p_liq, np.where((stop == 0) | (side * (p_liq - p_stop) >= 0), p_liq, p_stop)


def _first_per_trade(hits: np.ndarray, trade: np.ndarray, n: int, *, ordered: bool) -> np.ndarray:
    """The first of the (time-ordered per trade) ``hits`` of each of ``n`` trades; -1 where none.
    ``ordered``: ``trade`` is already ascending (no sort needed)."""
    out = np.full(n, -1, dtype=np.int64)
    if hits.size:
        if not ordered:
            order = np.argsort(trade, kind="stable")
            hits, trade = hits[order], trade[order]
        keep = np.ones(hits.size, dtype=bool)
        keep[1:] = trade[1:] != trade[:-1]
        out[trade[keep]] = hits[keep]
    return out


def first_reach_cells(m: Market, pos: np.ndarray, tid: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Per trade, the first held cell whose adverse extreme (a long's low, a short's high) reaches the
    trade's ``level`` (-1 where none does): one vectorised pass over every cell of the block."""
    if not level.size:
        return np.zeros(0, dtype=np.int64)
    adverse = np.where(pos > 0, m.low[:, None], m.high[:, None])
    hits = np.flatnonzero((pos * (adverse - level[tid]) <= 0) & (pos != 0))
    # in one column the trades are numbered in time order, so the hits come sorted by trade
    return _first_per_trade(hits, tid.ravel()[hits], level.size, ordered=pos.shape[1] == 1)


def first_reach_segments(
    m: Market, width: int, first: np.ndarray, last: np.ndarray, side: np.ndarray, level: np.ndarray
) -> np.ndarray:
    """``first_reach_cells`` for a few trades only, each over its cells ``first, first + width, ...,
    last`` (one column)."""
    lengths = (last - first) // width + 1
    segment = np.repeat(np.arange(first.size), lengths)
    step = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    cells = first[segment] + step * width
    u = cells // width
    s = side[segment]
    adverse = np.where(s > 0, m.low[u], m.high[u])
    hits = np.flatnonzero(s * (adverse - level[segment]) <= 0)
    return _first_per_trade(cells[hits], segment[hits], first.size, ordered=True)  # segments ascend


def split_trades(
    m: Market, g: Grid, pos: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[tuple[np.ndarray, ...], np.ndarray | None]:
    """Every trade, in the order of its entry cell: (entry cell, exit cell, kind, entry fill, side,
    column), and the trade index of every cell when no trade was split (else None).

    A trade that reaches its exit level at candle h before its run's last candle leaves the rest of
    the run as a new trade entered at ``open_{h+1}``: the first pass covers every cell, each further
    pass only those new trades."""
    width = pos.shape[1]
    first = np.flatnonzero(start)
    tid = trade_index(pos.shape, first)
    ends = np.flatnonzero(end)
    last = np.empty_like(first)
    last[tid.ravel()[ends]] = ends
    parts: list[tuple[np.ndarray, ...]] = []
    while first.size or not parts:  # the first pass runs even without trades (empty arrays)
        col = first % width
        side = pos.flat[first].astype(np.float64)
        entry = m.open[first // width] * (1 + side * g.at("slip", col))
        p_liq, level = exit_level(entry, side, g, col)
        if parts:
            hit = first_reach_segments(m, width, first, last, side, level)
        else:
            hit = first_reach_cells(m, pos, tid, level)
        kind = np.where(hit < 0, NORMAL, np.where(level == p_liq, LIQUIDATED, STOPPED))
        parts.append((first, np.where(hit >= 0, hit, last), kind, entry, side, col))
        # the rest of the run is a new trade, unless a liquidation of the whole equity ruined the column
        again = (hit >= 0) & (hit < last) & ~((kind == LIQUIDATED) & (g.at("fraction", col) == 1))
        first, last = hit[again] + width, last[again]
    if len(parts) == 1:
        return parts[0], tid
    joined = [np.concatenate(c) for c in zip(*parts, strict=True)]
    order = np.argsort(joined[0])
    return tuple(c[order] for c in joined), None


def compound(shape: tuple[int, int], a: np.ndarray, h: np.ndarray, growth: np.ndarray, g: Grid) -> tuple:
    """The cash after every cell (the capital times the growth factors of the trades settled so far, a
    cumulative product down each column), the equity before each trade, and which trades are opened
    at all: nothing is opened once a column's cash is not positive (ruin)."""
    factors = np.ones(shape)
    factors.flat[h] = growth
    cash = np.cumprod(factors, axis=0) * g.capital
    before = cash.flat[a - shape[1]]  # the cash at the close of the candle before the entry
    dead = before <= 0
    if not dead.any():
        return cash, before, None
    col, u = a % shape[1], a // shape[1]
    ruin = np.full(shape[1], shape[0])
    np.minimum.at(ruin, col[dead], u[dead])
    alive = u < ruin[col]
    if (before < 0).any():  # a cash of 0 stays 0 whatever follows; a negative one must not be compounded
        factors.flat[h[~alive]] = 1.0
        cash = np.cumprod(factors, axis=0) * g.capital
        before = cash.flat[a - shape[1]]
    return cash, before, alive


def simulate(m: Market, signals: np.ndarray, g: Grid, *, paths: bool = True) -> dict[str, np.ndarray]:
    """Run a block: ``signals`` (candles, configurations) int8, one ``g`` entry per configuration.

    Returns per cell ``position`` and ``equity`` (candles, configurations) and the trades as flat
    arrays (``cfg``, ``entry_at``/``exit_at`` candles, ``side``, ``qty``, ``entry_price``,
    ``exit_price``, ``fees``, ``funding``, ``pnl``, ``return``, ``liquidated``, ``stopped``), with
    ``alive`` False for the trades a ruin prevents (their quantity and amounts are 0: drop them).
    """
    shape = signals.shape
    width = shape[1]
    pos, start, end = runs(signals, g.per_bar[0] if g.per_bar.all() or not g.per_bar.any() else g.per_bar)
    (a, h, kind, entry, side, col), tid = split_trades(m, g, pos, start, end)
    ua, uh = a // width, h // width
    funded = bool(g.funding.any())  # else every funding term is 0: no prefix sums
    prefix = m.prefix if funded else np.zeros(0)
    fm, slip, fee, stop = g.at("funding", col), g.at("slip", col), g.at("fee", col), g.at("stop", col)
    leverage, fraction, mmr = g.at("leverage", col), g.at("fraction", col), g.at("mmr", col)
    skip = m.open[ua] * m.rate_at_open[ua] if funded else 0.0  # an event at the entry instant is not paid
    normal = kind == NORMAL
    early = not normal.all()  # some trade is liquidated or stopped
    # funding per unit of quantity: through the exit candle, or before it for a liquidation or stop
    if not np.any(fm):
        per_unit = np.zeros(a.size)
    elif early:
        through = np.where(normal, uh + 1, uh)
        per_unit = np.where(through > ua, side * fm * (prefix[through] - prefix[ua] - skip), 0.0)
    else:
        per_unit = side * fm * (prefix[uh + 1] - prefix[ua] - skip)
    stopped = kind == STOPPED
    trigger = m.close[uh]
    if early and stopped.any():
        p_stop = entry * (1 - side * stop)
        gap = side * (m.open[uh] - p_stop) <= 0  # the open is already beyond the stop
        trigger = np.where(stopped, np.where(gap, m.open[uh], p_stop), trigger)
    exit_fill = trigger * (1 - side * slip)
    liquidated = kind == LIQUIDATED
    # a trade's equity after over before: not a function of the equity, as its quantity scales with it
    ratio = exit_fill / entry
    growth = 1 + fraction * leverage * (side * (ratio - 1) - fee * (1 + ratio) - per_unit / entry)
    if early:
        growth = np.where(liquidated, 1 - fraction, growth)
    cash, before, alive = compound(shape, a, h, growth, g)
    amounts = trade_amounts(
        entry,
        exit_fill,
        side,
        before,
        alive,
        liquidated if early else None,
        per_unit,
        fee,
        fraction,
        leverage,
        mmr,
    )
    out = {
        "cfg": col,
        "entry_at": ua,
        "exit_at": uh,
        "side": side.astype(np.int8),
        "entry_price": entry,
        **amounts,
        "stopped": stopped if alive is None else stopped & alive,
        "alive": np.ones(a.size, dtype=bool) if alive is None else alive,
    }
    qty = amounts["qty"]
    if paths:
        qs = side * qty
        # an open trade's equity, cash + s*qty*(close - entry) - entry fee - funding, is affine in
        # z = close - fm * P: base + qs * z
        base = before - qs * entry - fee * qty * entry
        if funded:
            base = base + qs * fm * (prefix[ua] + skip)
        out["position"], out["equity"] = candle_paths(m, g, prefix, cash, a, uh, qs, base, tid)
    return out


def trade_amounts(
    entry: np.ndarray, exit_fill: np.ndarray, side: np.ndarray, before: np.ndarray, alive: np.ndarray | None,
    liquidated: np.ndarray | None, per_unit: np.ndarray | float, fee: Param, fraction: Param, leverage: Param,
    mmr: Param,
) -> dict[str, np.ndarray]:  # fmt: skip
    """A trade's ``qty``, ``exit_price``, ``fees``, ``funding``, ``pnl``, ``return`` and ``liquidated``
    flag, from its fills, its side, the equity before it and its funding per unit of quantity (flat
    arrays, one entry per trade; parameters one value or one per trade). A liquidation loses the margin
    (``fraction`` of the equity) and pays the entry fee only; a trade that is not opened (``alive``
    False, after a ruin) has no quantity and no amounts."""
    qty = fraction * leverage * before / entry
    if alive is not None:
        qty = np.where(alive, qty, 0.0)
    fees = fee * qty * (entry + (exit_fill if liquidated is None else np.where(liquidated, 0.0, exit_fill)))
    paid = qty * per_unit
    paid = np.where(paid == 0, 0.0, paid)  # no -0.0 for shorts
    pnl = side * qty * (exit_fill - entry) - fees - paid
    exit_price = exit_fill
    if liquidated is None:
        liquidated = np.zeros(np.shape(pnl), dtype=bool)
    else:
        pnl = np.where(liquidated, -fraction * before, pnl)
        exit_price = np.where(liquidated, entry * (1 - side / leverage) / (1 - side * mmr), exit_fill)
    if alive is not None:
        pnl, liquidated = np.where(alive, pnl, 0.0), liquidated & alive
    returns = pnl / (before if alive is None else np.where(alive, before, 1.0))
    return {
        "qty": qty, "exit_price": exit_price, "fees": fees, "funding": paid, "pnl": pnl, "return": returns,
        "liquidated": liquidated,
    }  # fmt: skip


def candle_paths(
    m: Market, g: Grid, prefix: np.ndarray, cash: np.ndarray, a: np.ndarray, uh: np.ndarray, qs: np.ndarray,
    base: np.ndarray, tid: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Per cell the signed quantity held and the equity at the close: ``base + qs * z`` before a trade's
    exit candle, the cash at and after it (and before the first trade)."""
    if tid is None:
        tid = trade_index(cash.shape, a)  # -1 (before any trade) picks the sentinels appended below
    exit_u = np.append(uh, -1)[tid]
    u = np.arange(cash.shape[0])[:, None]
    qs_c = np.append(qs, 0.0)[tid]
    if not g.funding.any():
        z = m.close[:, None]
    elif (g.funding == g.funding[0]).all():
        z = (m.close - g.funding[0] * prefix[1:])[:, None]
    else:
        z = m.close[:, None] - g.funding * prefix[1:, None]
    equity = np.where(u < exit_u, np.append(base, 0.0)[tid] + qs_c * z, cash)
    return np.where(u <= exit_u, qs_c, 0.0), equity
