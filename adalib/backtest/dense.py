"""The kernel for configurations that share one signal and one mode: one backtest, and most of a sweep.

When the configurations of a block trade the same signal in the same mode and none of them cuts a
trade short to re-open the rest of its run (a stop, or a liquidation that leaves equity to trade
with), they all enter and leave at the same candles. What depends on the signal is then computed
once, in one dimension (``shared_runs``: each trade's entry and last candle, each candle's trade,
each trade's worst price); what depends on the configuration is a ``(trades, configurations)``
matrix with the parameters as row vectors, so no per-trade gathers. How it maps to the reference
loop (``adalib.backtest.reference``):

- liquidation: a trade's worst price (the lowest low of a long, the highest high of a short over
  its candles, one ``reduceat``) reaches ``P_liq`` iff some candle of it does. With the whole
  equity as margin this ruins the column: nothing opens after it, and a first-hit search over that
  one trade finds the candle. Columns where a liquidation would leave equity to re-open with, and
  configurations with a stop, go to ``kernels.simulate``; ``simulate_shared`` says which;
- compounding: a trade's growth factor ``1 + k (s (x / e - 1) - fee (1 + x / e) - funding / e)``
  (``e``, ``x`` the entry and exit fills, ``k`` the leverage times the position fraction) does not
  depend on the equity it starts from, so the equity before each trade is the capital times a
  cumulative product of growth factors down each column; ruin: nothing opens once it is not positive;
- funding: differences of the prefix sum of ``open * rate`` per candle (``Market.prefix``);
- the equity at a candle's close inside a trade is ``base + s q (close - fm P)``, affine in the close;
  at its exit candle and after, the cash.

>>> from adalib.backtest.engine import demo_frame, grid_of, market_of
>>> from adalib.backtest.inputs import candle_arrays
>>> c = candle_arrays(demo_frame())
>>> m = market_of(c, None, rates=False)
>>> runs = shared_runs(m, c.signals["direction"], per_bar=False)
>>> runs.entry.tolist(), runs.last.tolist(), runs.side.tolist()
([1, 4], [2, 5], [1.0, -1.0])
>>> block, shared = simulate_shared(m, runs, grid_of([BacktestConfig(fee_rate=0.0)], False))
>>> shared.tolist(), block.equity()[:, -1].round(2).tolist()  # as adalib.backtest.reference_backtest
([True], [10199.02])
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from adalib.backtest.config import BacktestConfig  # noqa: F401 (the docstring example)
from adalib.backtest.kernels import Grid, Market, first_reach_segments


@dataclass(frozen=True)
class Runs:
    """One signal's trades as every configuration of a block takes them: per candle the side held
    (``pos``), the number of the trade open or last closed (``tid``, -1 before the first), whether it
    lies in a trade before the trade's last candle (``inside``) and its worst price for the position,
    signed (``adverse``: the low of a long, minus the high of a short, inf when flat); per trade its
    ``entry`` and ``last`` candle and ``side`` (+1.0, -1.0)."""

    pos: np.ndarray
    tid: np.ndarray
    inside: np.ndarray
    adverse: np.ndarray
    entry: np.ndarray
    last: np.ndarray
    side: np.ndarray

    @cached_property
    def worst(self) -> np.ndarray:
        """Per trade the lowest low of a long, the highest high of a short, over its candles."""
        if not self.entry.size:
            return np.zeros(0)
        # flat candles are inf; for a short, -(-x) is exact
        return np.minimum.reduceat(self.adverse, self.entry) * self.side


def shared_runs(m: Market, signal: np.ndarray, per_bar: bool) -> Runs:
    """The trades of ``signal`` (int8 per candle): a run of one side (``hold``) or one held candle
    (``per_bar``), with the position of candle u the signal of candle u - 1."""
    pos = np.empty_like(signal)
    pos[0] = 0
    pos[1:] = signal[:-1]
    held = pos != 0
    start = held.copy()
    if not per_bar:
        start[1:] &= pos[1:] != pos[:-1]
    end = held.copy()
    end[:-1] &= start[1:] | ~held[1:]
    entry, last = np.flatnonzero(start), np.flatnonzero(end)
    adverse = np.where(pos > 0, m.low, np.where(pos < 0, -m.high, np.inf))
    side = pos[entry].astype(np.float64)
    return Runs(pos, np.cumsum(start) - 1, held & ~end, adverse, entry, last, side)


def simulate_shared(m: Market, r: Runs, g: Grid) -> tuple[SharedBlock, np.ndarray]:
    """Run the configurations ``g`` on the trades ``r``: the block of those run here, and per
    configuration whether it is (``shared``); the others (a stop, or a liquidation that leaves
    equity to re-open with) need ``kernels.simulate``."""
    hit = liquidations(m, r, g)
    shared = g.stop == 0
    if hit is not None:
        shared &= ~(hit.any(axis=1) & (g.fraction < 1))
    if not shared.all():
        g, hit = g.take(shared), None if hit is None else hit[shared]
        if hit is not None and not hit.any():
            hit = None
    return SharedBlock(m, r, g, hit), shared


def col(values: np.ndarray) -> np.ndarray:
    """One value per configuration as a column, to broadcast along the trades or the candles."""
    return values[:, None]


class SharedBlock:
    """The trades of one ``Runs`` under the configurations of a ``Grid``, as (configurations, trades)
    matrices (each configuration's row contiguous): what the metrics need is computed at once
    (``change``: each trade's return; the equity ``before`` and ``cash`` after it; ``alive``), the
    rest on demand (``equity`` and ``position``, (configurations, candles); ``trades``)."""

    def __init__(self, m: Market, r: Runs, g: Grid, hit: np.ndarray | None) -> None:
        self.m, self.r, self.g = m, r, g
        o, x = m.open[r.entry], m.close[r.last]
        self.o, self.x, self.lng = o, x, r.side > 0
        k, slip, fee, fm = col(g.fraction * g.leverage), col(g.slip), col(g.fee), col(g.funding)
        self.k = k
        # the exit fill over the entry fill: (x / o) (1 - s slip) / (1 + s slip); a trade's return
        # k (s (ratio - 1) - fee (1 + ratio) - funding / entry) = k (s - fee) ratio - k (s + fee) - funding
        # (exactly 0 for a trade at an unchanged price without costs, as in the reference loop)
        self.ratio = self.per_side((1 - slip) / (1 + slip), (1 + slip) / (1 - slip)) * (x / o)
        self.offset = self.per_side(k * (1 + fee), k * (fee - 1))
        change = self.per_side(k * (1 - fee), -k * (1 + fee)) * self.ratio - self.offset
        self.funded = bool(g.funding.any())
        if self.funded:  # funding per unit of quantity over the entry fill: s fm F / (o (1 + s slip))
            self.skip = o * m.rate_at_open[r.entry]  # an event at the entry instant is not paid
            self.gamma = self.per_side(k * fm / (1 + slip), -k * fm / (1 - slip))
            # F / o: the events through the last candle, per unit of quantity, over the entry open
            self.f_open = (m.prefix[r.last + 1] - m.prefix[r.entry] - self.skip) / o
            change -= self.gamma * self.f_open
        ruined, first_hit, liq_at = ruinous(m, r, g, hit)
        if hit is not None:
            change = np.where(hit, col(-g.fraction), change)  # the margin is lost
        self.before, self.cash, self.alive = compound_trades(change + 1, g.capital)
        if self.alive is not None:  # trades not opened (after a ruin) have no return, and ruin nothing
            change = np.where(self.alive, change, 0.0)
            opened = self.alive[ruined, first_hit]
            ruined, first_hit, liq_at = ruined[opened], first_hit[opened], liq_at[opened]
        self.change = change
        self.ruins = list(zip(ruined, first_hit, liq_at, strict=True))  # (configuration, trade, candle)
        self.liquidated = hit if self.alive is None or hit is None else hit & self.alive

    def per_side(self, long: np.ndarray, short: np.ndarray) -> np.ndarray:
        """Per configuration and trade the ``long`` or the ``short`` value of a parameter (columns)."""
        return np.where(self.lng, long, short)

    def opened(self, values: np.ndarray, otherwise: np.ndarray | float = 0.0) -> np.ndarray:
        """``values`` for the trades that are opened, ``otherwise`` for the others."""
        return values if self.alive is None else np.where(self.alive, values, otherwise)

    def fee_base(self) -> np.ndarray:
        """Each trade's fees over ``fee k``: the entry and exit notionals over the entry fill (a
        liquidation pays the entry fee only)."""
        exit_ratio = self.ratio if self.liquidated is None else np.where(self.liquidated, 0.0, self.ratio)
        return self.opened(self.before * (1 + exit_ratio))

    def funding_paid(self) -> np.ndarray:
        """Each trade's funding (a liquidation pays the events before its candle)."""
        r, m = self.r, self.m
        paid = self.opened(self.before * self.gamma * self.f_open)
        for c, t, h in self.ruins:
            through = 0.0 if h == r.entry[t] else m.prefix[h] - m.prefix[r.entry[t]] - self.skip[t]
            paid[c, t] = self.before[c, t] * self.gamma[c, t] * through / self.o[t]
        return paid

    def sums(self) -> dict[str, np.ndarray]:
        """Per configuration the counts and sums of ``metrics.trade_sums``."""
        width, liquidated, alive = self.g.fee.size, self.liquidated, self.alive
        pnl = self.before * self.change
        won = pnl > 0
        return {
            "count": np.full(width, float(pnl.shape[1])) if alive is None else alive.sum(axis=1, dtype=float),
            "wins": won.sum(axis=1, dtype=float),
            "gains": np.where(won, pnl, 0.0).sum(axis=1),
            "losses": np.where(pnl < 0, pnl, 0.0).sum(axis=1) * -1.0,
            "return": self.change.sum(axis=1),
            "fees": self.fee_base().sum(axis=1) * self.g.fee * self.k[:, 0],
            "funding": self.funding_paid().sum(axis=1) if self.funded else np.zeros(width),
            "liquidated": np.zeros(width) if liquidated is None else liquidated.sum(axis=1, dtype=float),
            "stopped": np.zeros(width),
        }  # fmt: skip

    def exposure(self) -> np.ndarray:
        """Per configuration the number of candles with a position."""
        r = self.r
        lengths = r.last - r.entry + 1
        if self.alive is None and not self.ruins:
            return np.full(self.g.fee.size, lengths.sum())
        exposure = self.opened(np.repeat(lengths[None, :], self.g.fee.size, axis=0), 0)
        for c, t, h in self.ruins:
            exposure[c, t] = h - r.entry[t] + 1
        return exposure.sum(axis=1)

    def signed_qty(self) -> np.ndarray:
        """Each trade's signed quantity ``s q = s k before / entry``."""
        slip, k = col(self.g.slip), self.k
        return self.opened(self.before * self.per_side(k / (1 + slip), -k / (1 - slip)) / self.o)

    def equity(self) -> np.ndarray:
        """Per configuration and candle the equity at the close: inside a trade, the cash before it +
        s q (close - entry) - the entry fee - the funding so far, ``base + s q (close - fm P)``; at its
        last candle and after, the cash after it (before any trade, the capital)."""
        m, r, g = self.m, self.r, self.g
        qs = self.signed_qty()
        base = self.opened(self.before * (1 - self.offset), self.before)  # (no quantity: the cash)
        if self.funded:
            base += qs * col(g.funding) * (m.prefix[r.entry] + self.skip)
        # the cash after each candle's trade; -1 (before any trade) picks the capital
        equity = np.hstack([self.cash, col(g.capital)]).take(r.tid, axis=1)
        inside = np.flatnonzero(r.inside)
        if inside.size:
            t = r.tid[inside]
            z = m.close[inside]
            if self.funded:
                z = z - col(g.funding) * m.prefix[inside + 1]
            equity[:, inside] = base.take(t, axis=1) + qs.take(t, axis=1) * z
        for c, t, h in self.ruins:  # from a ruinous liquidation on: the cash, flat
            equity[c, h : r.last[t] + 1] = self.cash[c, t]
        return equity

    def position(self) -> np.ndarray:
        """Per configuration and candle the signed quantity held."""
        r = self.r
        qs = np.hstack([self.signed_qty(), np.zeros((self.g.fee.size, 1))])
        position = np.where(r.pos != 0, qs.take(r.tid, axis=1), 0.0)
        for c, t, h in self.ruins:
            position[c, h + 1 : r.last[t] + 1] = 0.0
        return position

    def trades(self) -> dict[str, np.ndarray]:
        """The trades as flat arrays in the layout of ``kernels.simulate`` (entry-major)."""
        r, g, s = self.r, self.g, self.r.side
        width, shape = g.fee.size, self.before.shape
        exit_at = np.repeat(r.last[None, :], width, axis=0)
        for c, t, h in self.ruins:
            exit_at[c, t] = h
        entry = self.o * (1 + s * col(g.slip))
        exit_price = self.x * (1 - s * col(g.slip))
        if self.liquidated is not None:
            p_liq = entry * (1 - s / col(g.leverage)) / (1 - s * col(g.mmr))
            exit_price = np.where(self.liquidated, p_liq, exit_price)
        paid = self.funding_paid() if self.funded else np.zeros(shape)
        trades = {
            "exit_at": exit_at,
            "qty": self.signed_qty() * s,
            "entry_price": entry,
            "exit_price": exit_price,
            "fees": self.fee_base() * self.k * col(g.fee),
            "funding": np.where(paid == 0, 0.0, paid),  # no -0.0 for shorts
            "pnl": self.before * self.change,
            "return": self.change,
            "liquidated": np.zeros(shape, dtype=bool) if self.liquidated is None else self.liquidated,
            "stopped": np.zeros(shape, dtype=bool),
            "alive": np.ones(shape, dtype=bool) if self.alive is None else self.alive,
        }
        one = width == 1
        flat = {name: values.ravel() if one else values.T.ravel() for name, values in trades.items()}
        flat["cfg"] = np.tile(np.arange(width), r.entry.size)
        flat["entry_at"] = r.entry if one else np.repeat(r.entry, width)
        flat["side"] = r.pos[r.entry] if one else np.repeat(r.pos[r.entry], width)
        return flat


def liquidations(m: Market, r: Runs, g: Grid) -> np.ndarray | None:
    """Per configuration and trade whether the trade reaches its liquidation price ``P_liq`` (None:
    none does).

    One configuration: each held candle against its trade's ``P_liq``. Several: a first test per
    configuration, on each side's worst price over its entry open, rules out most of them (a long at
    leverage 1 is never liquidated); the exact test, on each trade's worst price against ``P_liq``
    computed as the reference loop does, runs on the rest."""
    if not r.entry.size:
        return None
    s, width, long = r.side, g.fee.size, r.side > 0
    if width == 1:
        e = m.open[r.entry] * (1 + s * g.slip)
        level = s * (e * (1 - s / g.leverage) / (1 - s * g.mmr))  # s P_liq, against the signed adverse price
        cells = np.flatnonzero(r.adverse <= level.take(r.tid))  # flat candles (inf) never
        if not cells.size:
            return None
        hit = np.zeros((1, r.entry.size), dtype=bool)
        hit[0, r.tid[cells]] = True
        return hit
    ratio = r.worst / m.open[r.entry]
    lowest = ratio[long].min() if long.any() else np.inf
    highest = ratio[~long].max() if (~long).any() else 0.0
    tol = 1e-9  # far above the rounding of either side
    cand = (lowest <= (1 + g.slip) * (1 - 1 / g.leverage) / (1 - g.mmr) * (1 + tol)) | (
        highest >= (1 - g.slip) * (1 + 1 / g.leverage) / (1 + g.mmr) * (1 - tol)
    )
    if not cand.any():
        return None
    e = m.open[r.entry] * (1 + s * col(g.slip[cand]))
    p_liq = e * (1 - s / col(g.leverage[cand])) / (1 - s * col(g.mmr[cand]))
    hit = np.zeros((width, r.entry.size), dtype=bool)
    hit[cand] = s * (r.worst - p_liq) <= 0
    return hit if hit.any() else None


def ruinous(m: Market, r: Runs, g: Grid, hit: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The configurations a liquidation ruins (all of those with one: their margin is the whole
    equity), the trade of each one's first liquidation and the candle it happens at (the first that
    reaches it)."""
    if hit is None:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    ruined = np.flatnonzero(hit.any(axis=1))
    first = hit[ruined].argmax(axis=1)
    s = r.side[first]
    e = m.open[r.entry[first]] * (1 + s * g.slip[ruined])
    p_liq = e * (1 - s / g.leverage[ruined]) / (1 - s * g.mmr[ruined])
    return ruined, first, first_reach_segments(m, 1, r.entry[first], r.last[first], s, p_liq)


def compound_trades(
    growth: np.ndarray, capital: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The equity before and after each trade (a cumulative product of growth factors along each
    configuration's row) and which trades are opened: none from a row's first whose equity before
    is not positive (ruin; None: every trade)."""
    cash = np.cumprod(growth, axis=1)
    cash *= col(capital)
    before = np.empty_like(cash)
    before[:, :1], before[:, 1:] = col(capital), cash[:, :-1]
    dead = before <= 0
    if not dead.any():
        return before, cash, None
    ruin = np.where(dead.any(axis=1), dead.argmax(axis=1), dead.shape[1])
    alive = np.arange(growth.shape[1]) < col(ruin)
    if (before < 0).any():  # a cash of 0 stays 0 whatever follows; a negative one must not be compounded
        cash = np.cumprod(np.where(alive, growth, 1.0), axis=1) * col(capital)
        before[:, 1:] = cash[:, :-1]
    return before, cash, alive
