"""The kernel for configurations that share one signal and one mode: one backtest, and most of a sweep.

When the configurations of a block trade the same signal in the same mode and none of them cuts a
trade short to re-open the rest of its run (a stop, or a liquidation that leaves equity to trade
with), they all enter and leave at the same candles. What depends on the signal is then computed
once, in one dimension (``adalib.backtest.runs``: each trade's entry and last candle, each candle's
trade, each trade's worst price); what depends on the configuration is a (configurations, trades)
matrix, one contiguous row per configuration, with the parameters as columns. How it maps to the
reference loop (``adalib.backtest.reference``):

- liquidation: a trade reaches ``P_liq`` iff its worst price does; with the whole equity as margin
  that ruins the configuration (nothing opens after it), so only its first liquidation matters,
  found by a binary search over the trades ordered by worst price (``runs.first_liquidations``).
  Configurations where a liquidation leaves equity to re-open with, and those with a stop, go to
  ``kernels.simulate``; ``simulate_shared`` says which;
- compounding: a trade's return ``k (s (x / e - 1) - fee (1 + x / e) - funding / e)`` (``e``, ``x``
  the entry and exit fills, ``k`` the leverage times the position fraction) does not depend on the
  equity it starts from, so the equity before each trade is the capital times a cumulative product
  of growth factors along each row; ruin: nothing opens once it is not positive;
- funding: differences of the prefix sum of ``open * rate`` per candle (``Market.prefix``);
- the equity at a candle's close inside a trade is ``base + s q (close - fm P)``, affine in the close;
  at the trade's last candle and after, the cash.

>>> from adalib.backtest.engine import demo_frame, grid_of, market_of
>>> from adalib.backtest.inputs import candle_arrays
>>> from adalib.backtest.runs import shared_runs
>>> c = candle_arrays(demo_frame())
>>> m = market_of(c, None, rates=False)
>>> runs = shared_runs(m, c.signals["direction"], per_bar=False)
>>> block, shared = simulate_shared(m, runs, grid_of([BacktestConfig(fee_rate=0.0)], False))
>>> shared.tolist(), block.equity()[:, -1].round(2).tolist()  # as adalib.backtest.reference_backtest
([True], [10199.02])
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from adalib.backtest.config import BacktestConfig  # noqa: F401 (the docstring example)
from adalib.backtest.kernels import Grid, Market
from adalib.backtest.runs import Runs, first_liquidations, liquidation_price


def simulate_shared(m: Market, r: Runs, g: Grid) -> tuple[SharedBlock, np.ndarray]:
    """Run the configurations ``g`` on the trades ``r``: the block of those run here, and per
    configuration whether it is (``shared``); the others (a stop, or a liquidation that leaves
    equity to re-open with) need ``kernels.simulate``."""
    trade, candle = first_liquidations(m, r, g)
    shared = (g.stop == 0) & ~((trade >= 0) & (g.fraction < 1))
    if not shared.all():
        g, trade, candle = g.take(shared), trade[shared], candle[shared]
    return SharedBlock(m, r, g, trade, candle), shared


def col(values: np.ndarray) -> np.ndarray:
    """One value per configuration as a column, to broadcast along the trades or the candles."""
    return values[:, None]


class SharedBlock:
    """The trades of one ``Runs`` under the configurations of a ``Grid``, as (configurations, trades)
    matrices: what every metric needs is computed at once (``change``: each trade's return; the
    equity ``before`` and ``cash`` after each trade; ``alive``: which are opened, None for all),
    the rest on demand: ``sums`` and ``exposure`` for the metrics, ``equity`` and ``position``
    (configurations, candles), ``trades``. ``liquidated``: the first liquidation of each
    configuration (trade, candle; -1 for none), as ``runs.first_liquidations`` gives them."""

    def __init__(self, m: Market, r: Runs, g: Grid, trade: np.ndarray, candle: np.ndarray) -> None:
        self.m, self.r, self.g = m, r, g
        self.lng = r.side > 0
        x = m.close[r.last]
        self.price_ratio = x / r.open  # x / o: exit close over entry open
        k, slip, fee, fm = col(g.fraction * g.leverage), col(g.slip), col(g.fee), col(g.funding)
        self.k = k
        self.fill = ((1 - slip) / (1 + slip), (1 + slip) / (1 - slip))  # exit over entry fill, per x / o
        # the return k (s (ratio - 1) - fee (1 + ratio) - funding / e) with ratio = fill x / o is
        # a (x - o) / o + (a - k (s + fee)) - funding / e with a = k (s - fee) fill: the price move taken
        # as a difference, so that a small move keeps its digits (and an unchanged price without costs
        # gives exactly 0), as the reference loop's s q (x - e)
        slope = (k * (1 - fee) * self.fill[0], -k * (1 + fee) * self.fill[1])
        change = self.per_side(*slope)
        change *= (x - r.open) / r.open
        change += self.per_side(slope[0] - k * (1 + fee), slope[1] - k * (fee - 1))
        self.funded = bool(g.funding.any())
        if self.funded:  # funding per unit of quantity over the entry fill: s fm F / (o (1 + s slip))
            self.skip = r.open * m.rate_at_open[r.entry]  # an event at the entry instant is not paid
            self.gamma = (k * fm / (1 + slip), -k * fm / (1 - slip))
            # F / o: the events through the last candle, per unit of quantity, over the entry open
            self.f_open = (m.prefix[r.last + 1] - m.prefix[r.entry] - self.skip) / r.open
            change -= self.per_side(*self.gamma) * self.f_open
        ruined = np.flatnonzero(trade >= 0)
        if ruined.size:
            change[ruined, trade[ruined]] = -g.fraction[ruined]  # the margin is lost
        self.before, self.cash, self.opened_count = compound_trades(change + 1, g.capital)
        self.alive = None if self.opened_count is None else np.arange(r.entry.size) < col(self.opened_count)
        if self.alive is not None:  # trades not opened (after a ruin) have no return, and ruin nothing
            change = np.where(self.alive, change, 0.0)
            ruined = ruined[self.alive[ruined, trade[ruined]]]
        self.change = change
        # after a ruin to a cash of exactly 0 (a liquidation) every amount of the trades not opened is
        # 0 anyway: only a negative cash needs them masked
        self.masked = self.alive is not None and bool((self.before < 0).any())
        # (configuration, trade, candle) of each liquidation
        self.liquidated = [(int(c), int(trade[c]), int(candle[c])) for c in ruined]

    def per_side(self, long: np.ndarray, short: np.ndarray) -> np.ndarray:
        """Per configuration and trade the ``long`` or the ``short`` value of a parameter (columns)."""
        return np.where(self.lng, long, short)

    def opened(self, values: np.ndarray, otherwise: np.ndarray | float = 0.0) -> np.ndarray:
        """``values`` for the trades that are opened, ``otherwise`` (0 or the cash) for the others: an
        amount proportional to the equity before the trade, which is 0 after a ruin to 0."""
        return np.where(self.alive, values, otherwise) if self.masked and self.alive is not None else values

    def side_sums(self, values: np.ndarray, long: np.ndarray, short: np.ndarray) -> np.ndarray:
        """Per configuration ``sum_trades values * (long or short, by the trade's side)``: two
        matrix-vector products instead of a (configurations, trades) selection."""
        by_side = values @ self.r.long_short
        return by_side[:, 0] * long[:, 0] + by_side[:, 1] * short[:, 0]

    def at_trade(self, pair: tuple[np.ndarray, np.ndarray], c: int, t: int) -> float:
        """The (long, short) parameter ``pair``'s value for configuration ``c`` and trade ``t``."""
        return float(pair[0 if self.lng[t] else 1][c, 0])

    def liquidation_funding(self, c: int, t: int, h: int) -> float:
        """``s fm F / (o (1 + s slip))`` of a trade liquidated at candle ``h``: the events before it."""
        r, m = self.r, self.m
        events = 0.0 if h == r.entry[t] else m.prefix[h] - m.prefix[r.entry[t]] - self.skip[t]
        return self.at_trade(self.gamma, c, t) * events / r.open[t]

    def sums(self) -> dict[str, np.ndarray]:
        """Per configuration the counts and sums of ``metrics.trade_sums``."""
        g, width, before = self.g, self.g.fee.size, self.opened(self.before)
        opened = self.opened_count
        pnl = before * self.change
        won = pnl > 0
        # fees / (fee k) = the entry and exit notionals over the entry fill; a liquidation pays no exit
        fees = before.sum(axis=1) + self.side_sums(before * self.price_ratio, *self.fill)
        funding = self.side_sums(before * self.f_open, *self.gamma) if self.funded else np.zeros(width)
        liquidated = np.zeros(width)
        for c, t, h in self.liquidated:
            liquidated[c] += 1
            fees[c] -= before[c, t] * self.at_trade(self.fill, c, t) * self.price_ratio[t]
            if self.funded:
                through_last = self.at_trade(self.gamma, c, t) * self.f_open[t]
                funding[c] += before[c, t] * (self.liquidation_funding(c, t, h) - through_last)
        return {
            "count": np.full(width, float(pnl.shape[1])) if opened is None else opened.astype(float),
            "wins": won.sum(axis=1, dtype=float),
            "gains": np.where(won, pnl, 0.0).sum(axis=1),
            "losses": np.where(pnl < 0, pnl, 0.0).sum(axis=1) * -1.0,
            "return": self.change.sum(axis=1),
            "fees": fees * g.fee * self.k[:, 0],
            "funding": funding,
            "liquidated": liquidated,
            "stopped": np.zeros(width),
        }  # fmt: skip

    def exposure(self) -> np.ndarray:
        """Per configuration the number of candles with a position."""
        r = self.r
        lengths = r.last - r.entry + 1
        if self.opened_count is None:
            exposure = np.full(self.g.fee.size, lengths.sum())
        else:  # the trades opened are the first ones of each row
            exposure = np.concatenate([[0], np.cumsum(lengths)])[self.opened_count]
        for c, t, h in self.liquidated:
            exposure[c] -= r.last[t] - h
        return exposure

    @cached_property
    def signed_qty(self) -> np.ndarray:
        """Each trade's signed quantity ``s q = s k before / entry`` (the equity, the positions and the
        trade table all read it)."""
        slip, k = col(self.g.slip), self.k
        qs = self.per_side(k / (1 + slip), -k / (1 - slip))
        qs *= self.before
        qs /= self.r.open
        return self.opened(qs)

    def equity(self) -> np.ndarray:
        """Per configuration and candle the equity at the close: inside a trade, the cash before it +
        s q (close - entry) - the entry fee - the funding so far, ``base + s q (close - fm P)``; at its
        last candle and after, the cash after it (before any trade, the capital)."""
        m, r, g = self.m, self.r, self.g
        qs = self.signed_qty
        # cash before + s q (close - e) - fee q e = before (1 - k (s + fee)) + s q close
        k, fee = self.k, col(g.fee)
        base = self.opened(self.before * self.per_side(1 - k * (1 + fee), 1 - k * (fee - 1)), self.before)
        if self.funded:
            base += qs * col(g.funding) * (m.prefix[r.entry] + self.skip)
        # the cash after each candle's trade; -1 (before any trade) picks the capital
        equity = np.hstack([self.cash, col(g.capital)]).take(r.tid, axis=1)
        inside = r.inside
        if inside.size:
            trade = r.inside_tid
            z = m.close[inside]
            if self.funded:
                z = z - col(g.funding) * m.prefix[inside + 1]
            marked = qs.take(trade, axis=1)
            marked *= z
            marked += base.take(trade, axis=1)
            equity[:, inside] = marked
        for c, t, h in self.liquidated:  # from a ruinous liquidation on: the cash, flat
            equity[c, h : r.last[t] + 1] = self.cash[c, t]
        return equity

    def position(self) -> np.ndarray:
        """Per configuration and candle the signed quantity held."""
        r = self.r
        qs = np.hstack([self.signed_qty, np.zeros((self.g.fee.size, 1))])
        position = np.where(r.pos != 0, qs.take(r.tid, axis=1), 0.0)
        for c, t, h in self.liquidated:
            position[c, h + 1 : r.last[t] + 1] = 0.0
        return position

    def trades(self) -> dict[str, np.ndarray]:
        """The trades as flat arrays in the layout of ``kernels.simulate`` (entry-major)."""
        r, g, s = self.r, self.g, self.r.side
        width, shape = g.fee.size, self.before.shape
        before = self.opened(self.before)
        exit_at = np.repeat(r.last[None, :], width, axis=0)
        entry = r.open * (1 + s * col(g.slip))
        exit_price = self.m.close[r.last] * (1 - s * col(g.slip))
        exit_notional = self.per_side(*self.fill) * self.price_ratio  # exit over entry fill
        per_unit = self.per_side(*self.gamma) * self.f_open if self.funded else np.zeros(shape)
        liquidated = np.zeros(shape, dtype=bool)
        for c, t, h in self.liquidated:
            exit_at[c, t], liquidated[c, t], exit_notional[c, t] = h, True, 0.0
            exit_price[c, t] = liquidation_price(r, np.array([t]), g, np.array([c]))[0]
            if self.funded:
                per_unit[c, t] = self.liquidation_funding(c, t, h)
        paid = before * per_unit
        trades = {
            "exit_at": exit_at,
            "qty": self.signed_qty * s,
            "entry_price": entry,
            "exit_price": exit_price,
            "fees": before * (1 + exit_notional) * self.k * col(g.fee),
            "funding": np.where(paid == 0, 0.0, paid),  # no -0.0 for shorts
            "pnl": before * self.change,
            "return": self.change,
            "liquidated": liquidated,
            "stopped": np.zeros(shape, dtype=bool),
            "alive": np.ones(shape, dtype=bool) if self.alive is None else self.alive,
        }
        one = width == 1
        flat = {name: values.ravel() if one else values.T.ravel() for name, values in trades.items()}
        flat["cfg"] = np.tile(np.arange(width), r.entry.size)
        flat["entry_at"] = r.entry if one else np.repeat(r.entry, width)
        flat["side"] = r.pos[r.entry] if one else np.repeat(r.pos[r.entry], width)
        return flat


def compound_trades(
    growth: np.ndarray, capital: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The equity before and after each trade (a cumulative product of growth factors along each
    configuration's row) and per row the number of trades opened: none from the first whose equity
    before is not positive (ruin; None: every trade of every row)."""
    cash = np.cumprod(growth, axis=1)
    cash *= col(capital)
    before = np.empty_like(cash)
    before[:, :1], before[:, 1:] = col(capital), cash[:, :-1]
    if not growth.size or growth.min() > 0:  # (the capital is positive)
        return before, cash, None
    cash += 0.0  # a cash of 0 times the growth of a trade not opened: -0.0 made 0.0
    before[:, 1:] = cash[:, :-1]
    dead = before <= 0
    ruin = np.where(dead.any(axis=1), dead.argmax(axis=1), dead.shape[1])
    if (before < 0).any():  # a cash of 0 stays 0 whatever follows; a negative one must not be compounded
        alive = np.arange(growth.shape[1]) < col(ruin)
        cash = np.cumprod(np.where(alive, growth, 1.0), axis=1) * col(capital)
        before[:, 1:] = cash[:, :-1]
    return before, cash, ruin
