"""Public market endpoints: ping, time, exchangeInfo, klines, premiumIndex, fundingRate, ticker price.

Field sets follow Binance's USDT-M docs ("Exchange Information", "Kline/Candlestick Data",
"Mark Price", "Get Funding Rate History").

>>> m = Market(mark_price="0.5")
>>> m.exchange_info({})["symbols"][0]["contractType"], m.premium_index({"symbol": "ADAUSDT"})["markPrice"]
('PERPETUAL', '0.5')
"""

from __future__ import annotations

import bisect
from typing import Any

from adalib.binance.fake.book import EIGHT_HOURS_MS, Book
from adalib.binance.fake.faults import Reject, mandatory
from adalib.binance.rules import decimal_str, to_decimal
from adalib.data.binance import TWELVE_HOURS_MS

RATE_LIMITS = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
    {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
]
ORDER_TYPES = [
    "LIMIT",
    "MARKET",
    "STOP",
    "STOP_MARKET",
    "TAKE_PROFIT",
    "TAKE_PROFIT_MARKET",
    "TRAILING_STOP_MARKET",
]
EXTRA_FILTERS: list[dict[str, Any]] = [
    {"filterType": "MAX_NUM_ORDERS", "limit": 200},
    {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
    {
        "filterType": "PERCENT_PRICE",
        "multiplierUp": "1.0500",
        "multiplierDown": "0.9500",
        "multiplierDecimal": "4",
    },
]


class Market(Book):
    """The public endpoints (mixed into ``FakeBinance``)."""

    def _symbol(self, params: dict[str, str], *, required: bool = True) -> None:
        if "symbol" not in params and not required:
            return
        if not params.get("symbol"):
            raise mandatory("symbol")
        if params["symbol"] != self.symbol:
            raise Reject(-1121, "Invalid symbol.")

    def ping(self, params: dict[str, str]) -> dict[str, Any]:
        """``GET /fapi/v1/ping``."""
        return {}

    def server_time(self, params: dict[str, str]) -> dict[str, Any]:
        """``GET /fapi/v1/time``."""
        return {"serverTime": self.now_ms()}

    def symbol_entry(self) -> dict[str, Any]:
        """The symbol's ``exchangeInfo`` entry with every documented field."""
        base = self.symbol.removesuffix("USDT")
        filters = list(self.symbol_info.get("filters", []))
        present = {f["filterType"] for f in filters}
        entry: dict[str, Any] = {
            "symbol": self.symbol,
            "pair": self.symbol,
            "contractType": "PERPETUAL",
            "deliveryDate": 4133404800000,
            "onboardDate": 1579507200000,
            "status": "TRADING",
            "maintMarginPercent": "2.5000",
            "requiredMarginPercent": "5.0000",
            "baseAsset": base,
            "quoteAsset": "USDT",
            "marginAsset": "USDT",
            "pricePrecision": 4,
            "quantityPrecision": 0,
            "baseAssetPrecision": 8,
            "quotePrecision": 8,
            "underlyingType": "COIN",
            "underlyingSubType": ["Layer-1"],
            "settlePlan": 0,
            "triggerProtect": "0.0500",
            "liquidationFee": "0.015000",
            "marketTakeBound": "0.05",
            "maxMoveOrderLimit": 10000,
            "orderTypes": ORDER_TYPES,
            "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
            "permissionSets": ["GRID", "COPY"],
        }
        entry.update({k: v for k, v in self.symbol_info.items() if k != "filters"})
        entry["filters"] = filters + [f for f in EXTRA_FILTERS if f["filterType"] not in present]
        return entry

    def exchange_info(self, params: dict[str, str]) -> dict[str, Any]:
        """``GET /fapi/v1/exchangeInfo``."""
        return {
            "timezone": "UTC",
            "serverTime": self.now_ms(),
            "futuresType": "U_MARGINED",
            "rateLimits": RATE_LIMITS,
            "exchangeFilters": [],
            "assets": [
                {"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"},
                {"asset": "USDC", "marginAvailable": True, "autoAssetExchange": "-10000"},
            ],
            "symbols": [self.symbol_entry()],
        }

    def klines(self, params: dict[str, str]) -> list[list[Any]]:
        """``GET /fapi/v1/klines`` (12h only): the candle in progress shows its open only, volume 0."""
        self._symbol(params)
        if params.get("interval") != "12h":
            raise Reject(-1120, "Invalid interval.")
        limit = _int(params, "limit", 500)
        if not 1 <= limit <= 1500:
            raise Reject(-1130, "Data sent for parameter 'limit' is not valid.")
        now = self.now_ms()
        rows = [r if r[0] + TWELVE_HOURS_MS <= now else _in_progress(r) for r in self._klines if r[0] <= now]
        if "startTime" in params:
            rows = [r for r in rows if r[0] >= _int(params, "startTime", 0)]
        if "endTime" in params:
            rows = [r for r in rows if r[0] <= _int(params, "endTime", 0)]
        return rows[:limit] if "startTime" in params else rows[-limit:]

    def premium_index(self, params: dict[str, str]) -> dict[str, Any] | list[dict[str, Any]]:
        """``GET /fapi/v1/premiumIndex``: an object with ``symbol``, else a list of one."""
        self._symbol(params, required=False)
        mark, now = self.mark_price(), self.now_ms()
        rate = self._funding[-1][1] if self._funding else "0.00010000"
        entry: dict[str, Any] = {
            "symbol": self.symbol,
            "markPrice": decimal_str(mark),
            "indexPrice": decimal_str(mark),
            "estimatedSettlePrice": decimal_str(mark),
            "lastFundingRate": rate,
            "interestRate": "0.00010000",
            "nextFundingTime": (now // EIGHT_HOURS_MS + 1) * EIGHT_HOURS_MS,
            "time": now,
        }
        return entry if "symbol" in params else [entry]

    def ticker_price(self, params: dict[str, str]) -> dict[str, Any] | list[dict[str, Any]]:
        """``GET /fapi/v1/ticker/price`` and ``/fapi/v2/ticker/price``: the mark price as last price."""
        self._symbol(params, required=False)
        entry = {"symbol": self.symbol, "price": f"{self.mark_price():.4f}", "time": self.now_ms()}
        return entry if "symbol" in params else [entry]

    def funding_rate(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """``GET /fapi/v1/fundingRate``: ascending; ``limit`` default 100, max 1000; past events only."""
        self._symbol(params, required=False)
        limit = _int(params, "limit", 100)
        if not 1 <= limit <= 1000:
            raise Reject(-1130, "Data sent for parameter 'limit' is not valid.")
        now = self.now_ms()
        events = [(t, r) for t, r in self._funding if t <= now]
        if "startTime" in params:
            events = [e for e in events if e[0] >= _int(params, "startTime", 0)]
        if "endTime" in params:
            events = [e for e in events if e[0] <= _int(params, "endTime", 0)]
        events = events[:limit] if "startTime" in params else events[-limit:]
        return [
            {"symbol": self.symbol, "fundingTime": t, "fundingRate": r, "markPrice": self._price_at(t)}
            for t, r in events
        ]

    def _price_at(self, instant: int) -> str:
        """The open of the candle containing ``instant`` (the mark price without candles)."""
        i = bisect.bisect_right(self._open_times, instant) - 1
        if i >= 0 and instant < self._klines[i][0] + TWELVE_HOURS_MS:
            return f"{to_decimal(self._klines[i][1]):.8f}"
        return f"{self.mark_price():.8f}"


def _in_progress(row: list[Any]) -> list[Any]:
    """A candle that has just opened: open = high = low = close, nothing traded yet."""
    return [row[0], row[1], row[1], row[1], row[1], "0", row[6], "0", 0, "0", "0", "0"]


def _int(params: dict[str, str], name: str, default: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    if not text.lstrip("-").isdigit():
        raise Reject(
            -1100, f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'."
        )
    return int(text)
