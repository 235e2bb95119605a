"""Conditional (Algo Order) endpoints, and their triggers on the mark price.

Since 2025-12-09 Binance USDT-M serves STOP_MARKET / TAKE_PROFIT_MARKET (and the other
conditional types) on ``/fapi/v1/algoOrder``; ``POST /fapi/v1/order`` refuses them with -4120.
The local exchange serves ``algoType=CONDITIONAL`` STOP_MARKET and TAKE_PROFIT_MARKET.

Triggers. Whatever ``workingType`` says, the trigger is the mark price. When the clock
moves over candle closes (mark price following the candles), each newly closed candle is
walked as the backtest does (CONTRACT section 3): a SELL stop triggers at the open if the
open is already at or below ``triggerPrice``, else at ``triggerPrice`` if the low reaches
it (a BUY stop mirrors it with the high; take-profits the other way round). With a fixed
mark price (``set_mark_price``) a stop triggers at the new mark when that crosses it. A
triggered order executes a MARKET order (clientOrderId = clientAlgoId, reduce-only, of
``quantity`` or, with ``closePosition``, of the whole position) at the trigger price and
ends ``FINISHED`` with ``actualOrderId``; with nothing left to close it ends ``EXPIRED``.

>>> a = Algo(mark_price="0.5")
>>> a.set_position("100")
>>> stop = a.new_algo_order({"algoType": "CONDITIONAL", "symbol": "ADAUSDT", "side": "SELL",
...     "type": "STOP_MARKET", "triggerPrice": "0.45", "closePosition": "true", "clientAlgoId": "s1"})
>>> a.set_mark_price("0.44")
>>> a.query_algo_order({"clientAlgoId": "s1"})["algoStatus"], a.position_amt
('FINISHED', Decimal('0'))
"""

from __future__ import annotations

import time
from decimal import Decimal, InvalidOperation
from typing import Any

from adalib.binance.fake.faults import Reject, mandatory
from adalib.binance.fake.orders import Orders
from adalib.binance.rules import decimal_str, to_decimal

ALGO_TYPES = ("STOP_MARKET", "TAKE_PROFIT_MARKET")
SUPPORTED_ELSEWHERE = ("STOP", "TAKE_PROFIT", "TRAILING_STOP_MARKET")


def _flag(params: dict[str, str], name: str) -> bool:
    value = params.get(name, "false").lower()
    if value not in ("true", "false"):
        raise Reject(-1130, f"Data sent for parameter '{name}' is not valid.")
    return value == "true"


def _falling(algo: dict[str, Any]) -> bool:
    """A SELL stop and a BUY take-profit fire as the price falls; the other two as it rises."""
    return (algo["side"] == "SELL") == (algo["orderType"] == "STOP_MARKET")


def _crossed(algo: dict[str, Any], price: Decimal) -> bool:
    """Whether ``price`` is at or beyond the trigger, on the side that fires this order."""
    trigger = Decimal(algo["triggerPrice"])
    return price <= trigger if _falling(algo) else price >= trigger


class Algo(Orders):
    """The Algo Order endpoints and triggers (mixed into ``FakeBinance``)."""

    def new_algo_order(self, params: dict[str, str]) -> dict[str, Any]:
        """``POST /fapi/v1/algoOrder``: validated, stored NEW (ACK and RESULT answer the same object)."""
        if params.get("algoType") != "CONDITIONAL":
            raise mandatory("algoType")
        self._symbol(params)
        side = params.get("side")
        if side not in ("BUY", "SELL"):
            raise Reject(-1117, "Invalid side.")
        kind = params.get("type")
        if kind in SUPPORTED_ELSEWHERE:
            raise Reject(-1116, "Invalid orderType.")  # real Binance takes them; the local exchange does not
        if kind not in ALGO_TYPES:
            raise Reject(-1116, "Invalid orderType.")
        position_side = params.get("positionSide", "BOTH")
        if (position_side == "BOTH") == self.hedge_mode:
            raise Reject(-4061, "Order's position side does not match user's setting.")
        trigger = self._trigger_price(params.get("triggerPrice"))
        close_position = _flag(params, "closePosition")
        reduce_only = _flag(params, "reduceOnly")
        working = params.get("workingType", "CONTRACT_PRICE")
        if working not in ("MARK_PRICE", "CONTRACT_PRICE"):
            raise Reject(-1130, "Data sent for parameter 'workingType' is not valid.")
        if close_position:
            for name in ("quantity", "reduceOnly"):
                if name in params:
                    raise Reject(-1106, f"Parameter '{name}' sent when not required.")
            qty_text = "0"
        else:
            qty_text = decimal_str(self._quantity(params.get("quantity")))
        client_id = self._client_id(params, "clientAlgoId", "x-fake-algo-")
        live = [a for a in self.algo_orders if a["algoStatus"] == "NEW"]
        if any(a["clientAlgoId"] == client_id for a in live):
            raise Reject(-4116, "ClientOrderId is duplicated.")
        if len(live) >= 10:
            raise Reject(-4045, "Reach max stop order limit.")
        now = self.now_ms()
        algo: dict[str, Any] = {
            "algoId": 3_000_000 + len(self.algo_orders) + 1,
            "clientAlgoId": client_id,
            "algoType": "CONDITIONAL",
            "orderType": kind,
            "symbol": self.symbol,
            "side": side,
            "positionSide": position_side,
            "timeInForce": params.get("timeInForce", "GTC"),
            "quantity": qty_text,
            "algoStatus": "NEW",
            "actualOrderId": "",
            "actualPrice": "0.00000",
            "triggerPrice": decimal_str(trigger),
            "price": "0.0000",
            "icebergQuantity": None,
            "tpTriggerPrice": "0.000",
            "tpPrice": "0.000",
            "slTriggerPrice": "0.000",
            "slPrice": "0.000",
            "tpOrderType": "",
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "workingType": working,
            "priceMatch": "NONE",
            "closePosition": close_position,
            "priceProtect": _flag(params, "priceProtect"),
            "reduceOnly": reduce_only,
            "createTime": now,
            "updateTime": now,
            "triggerTime": 0,
            "goodTillDate": 0,
        }
        if _crossed(algo, self.mark_price()):
            raise Reject(-2021, "Order would immediately trigger.")
        self.algo_orders.append(algo)
        if self.fault is not None and self.fault.kind == "lookup_missing":
            self._hidden_until[algo["algoId"]] = time.monotonic() + self.fault.delay
        return dict(algo)

    def _trigger_price(self, text: str | None) -> Decimal:
        if not text:
            raise mandatory("triggerPrice")
        try:
            price = Decimal(text)
        except InvalidOperation:
            raise mandatory("triggerPrice") from None
        if not price.is_finite() or price <= 0:
            raise mandatory("triggerPrice")
        if self.rules.round_price(price) != price:
            raise Reject(-4014, f"Price not increased by tick size. tick={decimal_str(self.rules.tick_size)}")
        return price

    def _find_algo(self, params: dict[str, str]) -> dict[str, Any] | None:
        if "algoId" in params:
            found = [a for a in self.algo_orders if str(a["algoId"]) == params["algoId"]]
        elif "clientAlgoId" in params:
            found = [a for a in self.algo_orders if a["clientAlgoId"] == params["clientAlgoId"]]
        else:
            raise Reject(-1102, "Param 'algoId' or 'clientAlgoId' must be sent, but both were empty/null!")
        visible = [a for a in found if self._visible(a["algoId"])]
        return visible[-1] if visible else None

    def query_algo_order(self, params: dict[str, str]) -> dict[str, Any]:
        """``GET /fapi/v1/algoOrder`` by ``algoId`` or ``clientAlgoId`` (-2013 if unknown)."""
        algo = self._find_algo(params)
        if algo is None:
            raise Reject(-2013, "Order does not exist.")
        return dict(algo)

    def cancel_algo_order(self, params: dict[str, str]) -> dict[str, Any]:
        """``DELETE /fapi/v1/algoOrder``: only a NEW algo order can be canceled (-2011 otherwise)."""
        algo = self._find_algo(params)
        if algo is None or algo["algoStatus"] != "NEW":
            raise Reject(-2011, "Unknown order sent.")
        algo.update(algoStatus="CANCELED", updateTime=self.now_ms())
        return {
            "algoId": algo["algoId"],
            "clientAlgoId": algo["clientAlgoId"],
            "code": "200",
            "msg": "success",
        }

    def cancel_all_algo(self, params: dict[str, str]) -> dict[str, Any]:
        """``DELETE /fapi/v1/algoOpenOrders``."""
        self._symbol(params)
        return self._cancel_open(self.algo_orders, "algoStatus")

    def open_algo_orders(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """``GET /fapi/v1/openAlgoOrders`` (``symbol`` optional)."""
        self._symbol(params, required=False)
        return [dict(a) for a in self.algo_orders if a["algoStatus"] == "NEW"]

    def all_algo_orders(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """``GET /fapi/v1/allAlgoOrders``: from ``algoId`` on, else the latest ``limit`` (default 500)."""
        self._symbol(params)
        rows = [a for a in self.algo_orders if self._visible(a["algoId"])]
        if "algoId" in params:
            rows = [a for a in rows if a["algoId"] >= int(params["algoId"])]
        limit = min(int(params.get("limit", 500)), 1000)
        return [dict(a) for a in (rows[:limit] if "algoId" in params else rows[-limit:])]

    # -- triggers --------------------------------------------------------------------------------------

    def _on_clock(self) -> None:
        now = self.now_ms()
        if self._mark is None:
            for row in self.closed_candles(self._seen_ms, now):
                self._walk_candle(row)
        else:
            for algo in self._live_algos():
                if _crossed(algo, self._mark):
                    self._trigger(algo, self._mark)
        self._seen_ms = max(self._seen_ms, now)

    def _live_algos(self) -> list[dict[str, Any]]:
        return [a for a in self.algo_orders if a["algoStatus"] == "NEW"]

    def _walk_candle(self, row: list[Any]) -> None:
        """Open, then the extreme on the firing side: the backtest's stop rule on one candle."""
        close_ms = row[0] + 12 * 3600 * 1000
        open_, high, low = (to_decimal(row[i]) for i in (1, 2, 3))
        for algo in self._live_algos():
            if algo["createTime"] >= close_ms:
                continue
            trigger = Decimal(algo["triggerPrice"])
            extreme = low if _falling(algo) else high
            if _crossed(algo, open_):
                self._trigger(algo, open_, close_ms)
            elif _crossed(algo, extreme):
                self._trigger(algo, trigger, close_ms)

    def _trigger(self, algo: dict[str, Any], price: Decimal, when: int | None = None) -> None:
        """Execute the triggered order as a reduce-only MARKET order at ``price``."""
        now = self.now_ms() if when is None else when
        held = abs(self.position_amt)
        closes = self.position_amt != 0 and (self.position_amt > 0) == (algo["side"] == "SELL")
        qty = held if algo["closePosition"] else min(Decimal(algo["quantity"]), held)
        if not closes or qty == 0:
            algo.update(algoStatus="EXPIRED", triggerTime=now, updateTime=now)
            return
        order: dict[str, Any] = {
            "orderId": 8_000_000 + len(self.orders) + 1,
            "symbol": self.symbol,
            "status": "NEW",
            "clientOrderId": algo["clientAlgoId"],
            "price": "0.0000",
            "avgPrice": "0.00",
            "origQty": decimal_str(qty),
            "executedQty": "0",
            "cumQty": "0",
            "cumQuote": "0.00000",
            "timeInForce": "GTC",
            "type": "MARKET",
            "reduceOnly": True,
            "closePosition": algo["closePosition"],
            "side": algo["side"],
            "positionSide": algo["positionSide"],
            "stopPrice": algo["triggerPrice"],
            "workingType": algo["workingType"],
            "priceProtect": algo["priceProtect"],
            "origType": algo["orderType"],
            "priceMatch": "NONE",
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "goodTillDate": 0,
            "time": now,
            "updateTime": now,
        }
        self.orders.append(order)
        self.execute(order, price=price)
        order.update(time=now, updateTime=now)
        algo.update(
            algoStatus="FINISHED",
            actualOrderId=str(order["orderId"]),
            actualPrice=order["avgPrice"],
            triggerTime=now,
            updateTime=now,
        )
