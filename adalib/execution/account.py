"""The account checks that come before any order (CONTRACT.md section 4, step 1), and the
journal's memory of earlier runs for the same candle.

Each check refuses with one sentence that says what is wrong and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from adalib.binance.client import BinanceClient, Position
from adalib.binance.journal import pending_requests
from adalib.binance.rules import SymbolRules, decimal_str, to_decimal
from adalib.execution.decision import id_prefix
from adalib.execution.params import ExecutionRefused


def check_account(
    client: BinanceClient, rules: SymbolRules, margin_type: str, position: Position, intended: Decimal
) -> None:
    """Refuse (``ExecutionRefused``) unless the account can be traded as the contract says."""
    symbol = rules.symbol
    if client.hedge_mode():
        raise ExecutionRefused(
            "the account is in hedge mode (dualSidePosition=true) and adalib trades one-way mode only: "
            "switch with POST /fapi/v1/positionSide/dual dualSidePosition=false, then rerun"
        )
    if margin_type == "ISOLATED" and client.multi_assets_mode():
        raise ExecutionRefused(
            "the account is in multi-assets mode, where Binance refuses isolated margin: turn it off "
            "(POST /fapi/v1/multiAssetsMargin multiAssetsMargin=false) or use margin_type='CROSSED'"
        )
    problem = rules.trading_problem()
    if problem is not None:
        raise ExecutionRefused(f"{problem}: nothing is traded")
    foreign = [str(o.get("clientOrderId", o.get("orderId"))) for o in client.open_orders(symbol)]
    prefix = id_prefix(symbol)
    foreign += [
        str(o.get("clientAlgoId", o.get("algoId")))
        for o in client.open_algo_orders(symbol)
        if not str(o.get("clientAlgoId", "")).startswith(prefix)
    ]
    if foreign:
        raise ExecutionRefused(
            f"{symbol} has open orders that are not this layer's protective stop ({', '.join(foreign[:5])}): "
            "cancel them first; nothing was sent"
        )
    kept = position.amount != 0 and (position.amount > 0) == (intended > 0) and intended != 0
    if kept and position.margin_type and position.margin_type != margin_type:
        raise ExecutionRefused(
            f"margin_type={margin_type!r} but the open {symbol} position of {decimal_str(position.amount)} "
            f"(kept, same side as the target) is {position.margin_type}, and Binance cannot change the "
            f"margin type while it is open (-4048): close it, or run with margin_type="
            f"{position.margin_type!r}; nothing was sent"
        )


@dataclass(frozen=True)
class CandleMemory:
    """What the journal knows about this candle: the planned intended position of an earlier run,
    the client ids already used, and requests sent without a journaled answer (a crash)."""

    planned: Decimal | None
    planned_direction: int | None
    used_ids: frozenset[str]
    pending_orders: tuple[str, ...]
    pending_stops: tuple[str, ...]


def candle_memory(entries: list[dict[str, Any]], symbol: str, candle_iso: str, stem: str) -> CandleMemory:
    """Read the journal ``entries`` for ``symbol`` and the candle ``candle_iso`` (ids start with ``stem``)."""
    planned, direction = None, None
    for entry in entries:
        if entry.get("event") == "plan" and (entry.get("symbol"), entry.get("candle_open_time")) == (
            symbol,
            candle_iso,
        ):
            planned, direction = to_decimal(entry["intended_qty"]), int(entry["direction"])
    used: set[str] = set()
    for entry in entries:
        params = entry.get("params") or {}
        for name in ("newClientOrderId", "clientAlgoId"):
            value = params.get(name)
            if isinstance(value, str) and value.startswith(stem):
                used.add(value)
    prefix = id_prefix(symbol)
    orders = tuple(c for c in pending_requests(entries, "newClientOrderId") if c.startswith(prefix))
    stops = tuple(c for c in pending_requests(entries, "clientAlgoId") if c.startswith(prefix))
    return CandleMemory(planned, direction, frozenset(used), orders, stops)
