"""Order endpoints: MARKET orders (ACK and RESULT), lookup, cancel, open and all orders, user trades.

A ``newClientOrderId`` is unique among OPEN orders only, as Binance documents: a
MARKET order is open only while it waits to execute (the ``delay`` fault), and an id
may be used again once its order is done. Conditional types are refused with -4120
(they live on the Algo Order endpoints since 2025-12-09).

>>> o = Orders(mark_price="0.5")
>>> order = o.new_order({"symbol": "ADAUSDT", "side": "BUY", "type": "MARKET", "quantity": "100",
...                      "newOrderRespType": "RESULT"})
>>> order["status"], order["executedQty"], o.position_amt
('FILLED', '100', Decimal('100'))
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from adalib.binance.client import CLIENT_ORDER_ID
from adalib.binance.fake.account import Account
from adalib.binance.fake.faults import Fault, Reject, mandatory
from adalib.binance.rules import decimal_str, floor_to_step

CONDITIONAL_TYPES = ("STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET")
QUERY_ONLY = ("cumQty",)  # in order answers, not in lookups


@dataclass
class Deferred:
    """An accepted order whose execution waits ``wait`` seconds (outside the exchange lock)."""

    wait: float
    finish: Callable[[], Any]


class Orders(Account):
    """The order endpoints (mixed into ``FakeBinance``)."""

    fault: Fault | None = None  # the fault of the request being served, set by the request pipeline

    def _quantity(self, text: str | None) -> Decimal:
        if not text:
            raise mandatory("quantity")
        try:
            qty = Decimal(text)
        except InvalidOperation:
            raise mandatory("quantity") from None
        if not qty.is_finite() or "e" in text.lower():
            raise mandatory("quantity")
        decimals = -qty.normalize().as_tuple().exponent  # type: ignore[operator]
        if self.quantity_precision is not None and decimals > self.quantity_precision:
            raise Reject(-1111, "Precision is over the maximum defined for this asset.")
        if qty <= 0:
            raise Reject(-4003, "Quantity less than or equal to zero.")
        if self.rules.round_qty(qty) != qty:
            raise Reject(-4023, f"Qty not increased by step size. step={decimal_str(self.rules.step_size)}")
        if qty < self.rules.min_qty:
            raise Reject(-4004, "Quantity less than min quantity.")
        if qty > self.rules.max_qty:
            raise Reject(-4005, "Quantity greater than max quantity.")
        return qty

    def _client_id(self, params: dict[str, str], name: str, prefix: str) -> str:
        client_id = params.get(name) or f"{prefix}{len(self.orders) + len(self.algo_orders) + 1}"
        if not CLIENT_ORDER_ID.match(client_id):
            raise Reject(-4015, "Client order id is not valid.")
        return client_id

    def _reduce_only_ok(self, side: str, qty: Decimal) -> bool:
        signed = qty if side == "BUY" else -qty
        return (
            self.position_amt != 0
            and (self.position_amt > 0) != (signed > 0)
            and qty <= abs(self.position_amt)
        )

    def new_order(self, params: dict[str, str]) -> dict[str, Any] | Deferred:
        """``POST /fapi/v1/order``: validated like Binance, accepted NEW, executed at the mark price."""
        self._symbol(params)
        side = params.get("side")
        if side not in ("BUY", "SELL"):
            raise Reject(-1117, "Invalid side.")
        kind = params.get("type")
        if kind in CONDITIONAL_TYPES:
            raise Reject(
                -4120,
                "Order type not supported for this endpoint. "
                "Please use the Algo Order API endpoints instead.",
            )
        if kind != "MARKET":
            raise Reject(-1116, "Invalid orderType.")  # the local exchange executes MARKET orders only
        position_side = params.get("positionSide", "BOTH")
        if (position_side == "BOTH") == self.hedge_mode:
            raise Reject(-4061, "Order's position side does not match user's setting.")
        client_id = self._client_id(params, "newClientOrderId", "x-fake-")
        reduce_only = params.get("reduceOnly", "false").lower()
        if reduce_only not in ("true", "false"):
            raise Reject(-1130, "Data sent for parameter 'reduceOnly' is not valid.")
        answer_type = params.get("newOrderRespType", "ACK")
        if answer_type not in ("ACK", "RESULT"):
            raise Reject(-1130, "Data sent for parameter 'newOrderRespType' is not valid.")
        qty, mark = self._quantity(params.get("quantity")), self.mark_price()
        if reduce_only == "true" and not self._reduce_only_ok(side, qty):
            raise Reject(-2022, "ReduceOnly Order is rejected.")
        if reduce_only == "false" and qty * mark < self.rules.min_notional:
            floor = decimal_str(self.rules.min_notional)
            raise Reject(
                -4164, f"Order's notional must be no smaller than {floor} (unless you choose reduce only)."
            )
        if any(o["clientOrderId"] == client_id and o["status"] == "NEW" for o in self.orders):
            raise Reject(-4116, "ClientOrderId is duplicated.")
        signed = qty if side == "BUY" else -qty
        reducing = self.position_amt != 0 and (self.position_amt > 0) != (signed > 0)
        opening = qty - min(qty, abs(self.position_amt)) if reducing else qty
        # only what the order opens needs margin (and its fee): Binance never refuses a close for margin
        if (
            opening > 0
            and opening * mark * (Decimal(1) / self.leverage + self.fee_rate) > self.available_balance()
        ):
            raise Reject(-2019, "Margin is insufficient.")
        now = self.now_ms()
        order: dict[str, Any] = {
            "orderId": 8_000_000 + len(self.orders) + 1,
            "symbol": self.symbol,
            "status": "NEW",
            "clientOrderId": client_id,
            "price": "0.0000",
            "avgPrice": "0.00",
            "origQty": decimal_str(qty),
            "executedQty": "0",
            "cumQty": "0",
            "cumQuote": "0.00000",
            "timeInForce": "GTC",
            "type": "MARKET",
            "reduceOnly": reduce_only == "true",
            "closePosition": False,
            "side": side,
            "positionSide": position_side,
            "stopPrice": "0.0000",
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "origType": "MARKET",
            "priceMatch": "NONE",
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "goodTillDate": 0,
            "time": now,
            "updateTime": now,
        }
        self.orders.append(order)
        fault = self.fault
        if fault is not None and fault.kind == "lookup_missing":
            self._hidden_until[order["orderId"]] = time.monotonic() + fault.delay
        ack = self._answer(order)  # the order as accepted, before execution

        def finish() -> dict[str, Any]:
            if order["status"] == "NEW":
                self.execute(order, fault)
            return self._answer(order) if answer_type == "RESULT" else ack

        if fault is not None and fault.kind == "delay":
            return Deferred(fault.delay, finish)
        return finish()

    def execute(
        self, order: dict[str, Any], fault: Fault | None = None, price: Decimal | None = None
    ) -> None:
        """Fill an accepted MARKET order (``expired`` / ``partial`` faults: out of liquidity)."""
        qty = Decimal(order["origQty"])
        if fault is not None and fault.kind == "expired":
            qty = Decimal(0)
        elif fault is not None and fault.kind == "partial":
            qty = floor_to_step(qty * Decimal(str(fault.fraction)), self.rules.step_size)
        if order["reduceOnly"] and qty and not self._reduce_only_ok(order["side"], qty):
            qty = Decimal(0)  # the position went away while it waited: Binance expires it
        fill = self.mark_price() if price is None else price
        now = self.now_ms()
        if qty:
            realized = self._fill(order["side"], qty, fill)
            self.trades.append(
                {
                    "buyer": order["side"] == "BUY",
                    "commission": decimal_str(self.fee_rate * qty * fill),
                    "commissionAsset": "USDT",
                    "id": 50_000_000 + len(self.trades) + 1,
                    "maker": False,
                    "orderId": order["orderId"],
                    "price": decimal_str(fill),
                    "qty": decimal_str(qty),
                    "quoteQty": decimal_str(qty * fill),
                    "realizedPnl": decimal_str(realized),
                    "side": order["side"],
                    "positionSide": order["positionSide"],
                    "symbol": self.symbol,
                    "time": now,
                }
            )
        full = qty == Decimal(order["origQty"])
        order.update(
            status="FILLED" if full else "EXPIRED",
            executedQty=decimal_str(qty),
            cumQty=decimal_str(qty),
            cumQuote=decimal_str(qty * fill),
            avgPrice=decimal_str(fill) if qty else "0.00",
            updateTime=now,
        )

    @staticmethod
    def _answer(order: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in order.items() if k != "time"}

    def _find(self, params: dict[str, str]) -> dict[str, Any] | None:
        if "orderId" in params:
            found = [o for o in self.orders if str(o["orderId"]) == params["orderId"]]
        elif "origClientOrderId" in params:
            found = [o for o in self.orders if o["clientOrderId"] == params["origClientOrderId"]]
        else:
            raise Reject(
                -1102, "Param 'orderId' or 'origClientOrderId' must be sent, but both were empty/null!"
            )
        visible = [o for o in found if self._visible(o["orderId"])]
        return visible[-1] if visible else None

    def _visible(self, order_id: int) -> bool:
        return time.monotonic() >= self._hidden_until.get(order_id, 0.0)

    def query_order(self, params: dict[str, str]) -> dict[str, Any]:
        """``GET /fapi/v1/order`` by ``orderId`` or ``origClientOrderId`` (the latest with that id)."""
        self._symbol(params)
        order = self._find(params)
        if order is None:
            raise Reject(-2013, "Order does not exist.")
        return {k: v for k, v in order.items() if k not in QUERY_ONLY}

    def cancel_order(self, params: dict[str, str]) -> dict[str, Any]:
        """``DELETE /fapi/v1/order``: only an order still NEW can be canceled (-2011 otherwise)."""
        self._symbol(params)
        order = self._find(params)
        if order is None or order["status"] != "NEW":
            raise Reject(-2011, "Unknown order sent.")
        order.update(status="CANCELED", updateTime=self.now_ms())
        return self._answer(order)

    def cancel_all(self, params: dict[str, str]) -> dict[str, Any]:
        """``DELETE /fapi/v1/allOpenOrders``."""
        self._symbol(params)
        return self._cancel_open(self.orders, "status")

    def _cancel_open(self, rows: list[dict[str, Any]], status: str) -> dict[str, Any]:
        """Cancel every ``rows`` entry whose ``status`` field is NEW: Binance's cancel-all answer."""
        for row in rows:
            if row[status] == "NEW":
                row.update({status: "CANCELED", "updateTime": self.now_ms()})
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    def open_orders(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """``GET /fapi/v1/openOrders``."""
        self._symbol(params, required=False)
        return [self._answer(o) | {"time": o["time"]} for o in self.orders if o["status"] == "NEW"]

    def all_orders(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """``GET /fapi/v1/allOrders``: from ``orderId`` on, else the latest ``limit`` (default 500)."""
        self._symbol(params)
        rows = [o for o in self.orders if self._visible(o["orderId"])]
        if "orderId" in params:
            rows = [o for o in rows if o["orderId"] >= int(params["orderId"])]
        if "startTime" in params:
            rows = [o for o in rows if o["time"] >= int(params["startTime"])]
        if "endTime" in params:
            rows = [o for o in rows if o["time"] <= int(params["endTime"])]
        limit = min(int(params.get("limit", 500)), 1000)
        rows = rows[:limit] if "orderId" in params or "startTime" in params else rows[-limit:]
        return [{k: v for k, v in o.items() if k not in QUERY_ONLY} for o in rows]

    def user_trades(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """``GET /fapi/v1/userTrades``: by ``orderId``, ``fromId`` or time, latest ``limit`` (default 500)."""
        self._symbol(params)
        rows = list(self.trades)
        if "orderId" in params:
            rows = [t for t in rows if str(t["orderId"]) == params["orderId"]]
        if "fromId" in params:
            rows = [t for t in rows if t["id"] >= int(params["fromId"])]
        if "startTime" in params:
            rows = [t for t in rows if t["time"] >= int(params["startTime"])]
        if "endTime" in params:
            rows = [t for t in rows if t["time"] <= int(params["endTime"])]
        limit = min(int(params.get("limit", 500)), 1000)
        return rows[:limit] if "fromId" in params or "startTime" in params else rows[-limit:]
