"""Reconciliation against the exchange (CONTRACT.md section 4, steps 2-6), never executing an order twice.

The position is the truth: it is read again right before every order, and the next order is
whatever still separates it from the intended position (``decision.next_orders``). So an order
that executed is never needed again, whatever its answer said.

Unknown outcomes. An order whose answer is lost (a timeout or connection error after sending,
HTTP 5xx or 408, codes -1007 / -1006) is looked up by its client order id, repeatedly, over
``LOOKUP_WINDOW`` seconds (first at once, then after 0.5, 1, 2, 4, 8 s ...), before anything is
resent. Binance can answer "order does not exist" (-2013) for an order that was just placed while
its matching engine and order database catch up, for several seconds; and a request delayed in
transit can still be accepted until its ``recvWindow`` (5 s) has passed. 30 s is six times that
window. If the order is still not found, the position is read again: an order that executed shows
there even when the lookup does not, so nothing is resent for it.

Unfilled and partial orders. An order that ended with nothing filled (``EXPIRED``, ``CANCELED``,
``REJECTED``) counts as not placed; the next pass sends what is missing under a new attempt id
(``...-open-2``). A partial fill counts for what filled, and the next pass (or a rerun) sends the
rest. At most ``MAX_FRUITLESS`` orders in a row may fill nothing; then the run stops and the
read-back reports the mismatch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from adalib.binance.client import BinanceClient
from adalib.binance.errors import BinanceAPIError, UnknownOutcome
from adalib.binance.rules import SymbolRules, decimal_str, to_decimal
from adalib.execution.decision import client_order_id, id_prefix, next_orders, stop_price

LOOKUP_WINDOW = 30.0
UNFILLED = ("EXPIRED", "CANCELED", "REJECTED", "EXPIRED_IN_MATCH")
MAX_FRUITLESS = 3  # orders in a row that fill nothing before the run gives up
MAX_ORDERS = 40  # orders of one run (parts above maxQty included)


def lookup_waits(window: float = LOOKUP_WINDOW) -> list[float]:
    """The waits between lookups of an order whose outcome is unknown: 0.5, 1, 2, ... summing to ``window``.

    >>> lookup_waits(30.0)
    [0.5, 1.0, 2.0, 4.0, 8.0, 14.5]
    """
    waits: list[float] = []
    step = 0.5
    while sum(waits) < window:
        waits.append(min(step, window - sum(waits)))
        step *= 2
    return waits


@dataclass
class Reconciler:
    """One run's dealings with the exchange for one symbol and candle."""

    client: BinanceClient
    symbol: str
    rules: SymbolRules
    candle: datetime
    note: Callable[[str], None] = print
    sleep: Callable[[float], None] = time.sleep
    lookup_window: float = LOOKUP_WINDOW
    used: set[str] = field(default_factory=set)  # ids an earlier attempt (or run) already gave
    placed: list[str] = field(default_factory=list)
    stopped_out: bool = False  # the stop price was already crossed: the position is closed at once

    # -- ids and lookups -------------------------------------------------------------------------

    def fresh_id(self, leg: str, lookup: Callable[[str], Any]) -> str:
        """The first id of ``leg`` for this candle that no journaled or exchange order has."""
        for number in range(1, 1000):
            cid = client_order_id(self.symbol, self.candle, leg, number)
            if cid in self.used:
                continue
            self.used.add(cid)
            if lookup(cid) is None:
                return cid
        raise RuntimeError(f"no free client order id for leg {leg} of this candle")

    def look_up(self, cid: str, lookup: Callable[[str], Any]) -> Any:
        """Look ``cid`` up at once and then over ``lookup_window`` seconds; None if never found."""
        waits = [0.0, *lookup_waits(self.lookup_window)]
        for wait in waits:
            if wait:
                self.sleep(wait)
            found = lookup(cid)
            if found is not None:
                return found
        return None

    def _get_order(self, cid: str) -> dict[str, Any] | None:
        return self.client.get_order(self.symbol, cid)

    # -- orders ------------------------------------------------------------------------------------

    def send(self, leg: str, side: str, qty: Decimal) -> Decimal:
        """Send one MARKET order; returns the quantity it filled (0 if it filled nothing)."""
        cid = self.fresh_id(leg, self._get_order)
        try:
            answer: dict[str, Any] = self.client.new_market_order(
                self.symbol, side, qty, client_order_id=cid, reduce_only=leg != "open"
            )
        except UnknownOutcome as exc:
            self.note(f"{exc}: looking {cid} up for up to {self.lookup_window:g} s before anything is resent")
            found = self.look_up(cid, self._get_order)
            if found is None:
                self.note(f"{cid} not found in {self.lookup_window:g} s: the position, read again, decides")
                return Decimal(0)
            self.note(
                f"found {cid} ({found.get('status')}, filled {found.get('executedQty')}): not sent again"
            )
            answer = found
        filled = to_decimal(answer.get("executedQty", "0"))
        status = answer.get("status")
        if filled > 0:
            self.placed.append(cid)
            if filled < qty:
                self.note(
                    f"{cid} filled {decimal_str(filled)} of {decimal_str(qty)} ({status}): counted as such"
                )
        elif status in UNFILLED:
            self.note(f"{cid} ended {status} with nothing filled: not placed; the rest goes under a new id")
        return filled

    def reach(
        self,
        intended: Decimal,
        mark_price: Decimal,
        *,
        before_close: Callable[[], None],
        before_open: Callable[[], None],
    ) -> None:
        """Send orders until the position (read again before each) is ``intended`` (or the run gives up)."""
        fruitless = orders = 0
        while True:
            position = self.client.position(self.symbol).amount
            todo = next_orders(position, intended, self.rules)
            if not todo:
                return
            leg, side, qty = todo[0]
            if leg == "open":
                problem = self.rules.order_problem(qty, mark_price)
                if problem is not None:
                    self.note(f"the rest to open, {decimal_str(qty)}, cannot be ordered: {problem}")
                    return
                before_open()
            if leg == "close":
                before_close()
            if fruitless >= MAX_FRUITLESS or orders >= MAX_ORDERS:
                self.note(f"stopping after {orders} orders ({fruitless} in a row filled nothing)")
                return
            filled = self.send(leg, side, qty)
            orders += 1
            fruitless = 0 if filled > 0 else fruitless + 1

    # -- the protective stop -------------------------------------------------------------------------

    def own_stops(self) -> list[dict[str, Any]]:
        """This layer's open conditional orders on the symbol."""
        prefix = id_prefix(self.symbol)
        return [
            o
            for o in self.client.open_algo_orders(self.symbol)
            if str(o.get("clientAlgoId", "")).startswith(prefix)
        ]

    def cancel_stops(self, keep: str | None = None) -> None:
        """Cancel this layer's open stops on the symbol (all but ``keep``)."""
        for order in self.own_stops():
            cid = str(order["clientAlgoId"])
            if cid != keep:
                self.client.cancel_algo_order(cid)
                self.note(f"cancelled the stop {cid}")

    def keep_stop(self, stop_loss: float | None) -> str | None:
        """With ``stop_loss``, make sure one stop-market closes the open position at
        ``entry * (1 - s * stop_loss)`` on the mark price; without one, or when flat, cancel ours."""
        position = self.client.position(self.symbol)
        if stop_loss is None or position.amount == 0:
            self.cancel_stops()
            return None
        s = 1 if position.amount > 0 else -1
        trigger = stop_price(position.entry_price, s, stop_loss, self.rules)
        side = "SELL" if s > 0 else "BUY"
        for order in self.own_stops():
            if order.get("side") == side and to_decimal(order.get("triggerPrice", "0")) == trigger:
                self.cancel_stops(keep=str(order["clientAlgoId"]))
                return str(order["clientAlgoId"])
        self.cancel_stops()
        for _ in range(2):
            cid = self.fresh_id("stop", self.client.get_algo_order)
            try:
                self.client.new_stop_market(self.symbol, side, trigger, client_algo_id=cid)
            except BinanceAPIError as exc:
                if exc.code != -2021:
                    raise
                self.note(f"the mark is already beyond the stop price {decimal_str(trigger)}: the stop rule "
                          "closes the position now")  # fmt: skip
                self.stopped_out = True
                return None
            except UnknownOutcome as exc:
                self.note(f"{exc}: looking the stop {cid} up before anything is resent")
                if self.look_up(cid, self.client.get_algo_order) is None and not self.own_stops():
                    continue
            self.placed.append(cid)
            self.note(f"stop {cid}: {side} STOP_MARKET closePosition at mark {decimal_str(trigger)}")
            return cid
        return None


def set_margin_and_leverage(
    client: BinanceClient, symbol: str, margin_type: str, leverage: int, note: Callable[[str], None]
) -> bool:
    """Step 2: margin type ("already set" is fine) and leverage. Returns True if the margin type
    must wait for the close (-4048: a position is open)."""
    pending = False
    try:
        note(f"margin type {margin_type}: {client.set_margin_type(symbol, margin_type)}")
    except BinanceAPIError as exc:
        if exc.code != -4048:
            raise
        pending = True
        note(f"margin type {margin_type} cannot change while a position is open: set after the close")
    client.set_leverage(symbol, leverage)
    return pending
