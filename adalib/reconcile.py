"""Reconciliation against the exchange (CONTRACT.md section 4, steps 1-3), never duplicating an order.

Every order carries a client order id derived from symbol, candle and leg. Before an order
is sent, it is looked up by that id (a rerun for the same candle sends nothing new); when
an answer is unknown (timeout, HTTP 5xx) it is looked up again before anything is resent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from adalib.binance.client import BinanceClient
from adalib.binance.errors import BinanceAPIError, UnknownOutcome
from adalib.execution import Decision, PlannedOrder


def place_order(
    client: BinanceClient,
    symbol: str,
    order: PlannedOrder,
    *,
    sleep: Callable[[float], None] = time.sleep,
    lookup_delay: float = 1.0,
    attempts: int = 2,
    note: Callable[[str], None] = print,
) -> tuple[dict[str, Any], bool]:
    """Send ``order`` at most once per definite answer; returns (order, placed in this call).

    An order already known under its client order id is not sent again. When the answer
    is unknown (timeout, HTTP 5xx), the order is looked up by its client order id at once;
    if it is not found, the lookup is repeated only after ``recvWindow`` (plus
    ``lookup_delay``) has passed, when the exchange can no longer accept the lost request,
    and only then is the order resent. If it still cannot be confirmed either way, this raises.
    """
    existing = client.get_order(symbol, order.client_order_id)
    if existing is not None:
        return existing, False
    for _ in range(attempts):
        try:
            answer = client.new_market_order(
                symbol,
                order.side,
                order.quantity,
                client_order_id=order.client_order_id,
                reduce_only=order.reduce_only,
            )
            return answer, True
        except UnknownOutcome as exc:
            note(f"{exc}: looking up {order.client_order_id} before anything is resent")
            found = client.get_order(symbol, order.client_order_id)
            if found is None:
                wait = client.recv_window / 1000 + lookup_delay
                note(f"{order.client_order_id} not found: looking again in {wait:g} s, past its recvWindow")
                sleep(wait)
                found = client.get_order(symbol, order.client_order_id)
            if found is not None:
                note(f"found {order.client_order_id} ({found.get('status')}): not sent again")
                return found, True
    raise UnknownOutcome(
        f"order {order.client_order_id}: no definite answer after {attempts} attempts and lookups by client "
        "order id; not sent again. Check the account (GET /fapi/v1/order) before rerunning."
    )


def reconcile(
    client: BinanceClient,
    symbol: str,
    decision: Decision,
    *,
    margin_type: str = "ISOLATED",
    leverage: int = 1,
    placed: list[str] | None = None,
    note: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
    lookup_delay: float = 1.0,
) -> Decimal:
    """Steps 1-3 of the contract against the exchange; returns the position afterwards.

    1. margin type ("already set" is fine; if a position blocks the change, it is retried
       after the close leg) and leverage; 2. the close leg; 3. the open leg. Client order ids
       of orders placed here are appended to ``placed`` as they are confirmed.
    """
    placed = [] if placed is None else placed
    margin_pending = False
    try:
        note(f"margin type {margin_type}: {client.set_margin_type(symbol, margin_type)}")
    except BinanceAPIError as exc:
        if exc.code != -4048:
            raise
        margin_pending = True
        note(f"margin type {margin_type} cannot change while a position is open: set after the close")
    client.set_leverage(symbol, leverage)
    for order in decision.orders:
        if order.leg == "open" and margin_pending:
            note(f"margin type {margin_type}: {client.set_margin_type(symbol, margin_type)}")
            margin_pending = False
        answer, new = place_order(client, symbol, order, sleep=sleep, lookup_delay=lookup_delay, note=note)
        if new:
            placed.append(order.client_order_id)
        else:
            note(f"order {order.client_order_id} already exists ({answer.get('status')}): not sent again")
    return client.position_amt(symbol)
