"""A local fake of the Binance USDT-M REST API, for tests and the execution notebook's demo.

It binds 127.0.0.1 on a port the OS picks, checks requests the way Binance does (API
key, timestamp inside ``recvWindow`` against its own clock, HMAC signature over
query string + body, mandatory parameters, precision and step size, minimum notional,
reduce-only against the open position, available margin), fills MARKET orders at the
mark price, keeps the position, balance, leverage and margin type, serves klines from
a candle frame, and injects faults on demand.

>>> from adalib.binance.client import BinanceClient
>>> with FakeBinance(mark_price="0.5") as fake:
...     client = BinanceClient(fake.url, api_key=fake.api_key, api_secret=fake.api_secret)
...     order = client.new_market_order("ADAUSDT", "BUY", Decimal(100), client_order_id="demo-1")
...     order["status"], order["executedQty"], client.position_amt("ADAUSDT")
('FILLED', '100', Decimal('100'))
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import polars as pl

from adalib.binance.client import API_KEY_ENV, API_SECRET_ENV, CLIENT_ORDER_ID, sign
from adalib.binance.rules import ADAUSDT_ASSUMED_INFO, SymbolRules, decimal_str, to_decimal
from adalib.data.binance import TWELVE_HOURS_MS

SIGNED_PATHS = {
    ("GET", "/fapi/v1/positionSide/dual"),
    ("GET", "/fapi/v2/balance"),
    ("GET", "/fapi/v3/balance"),
    ("GET", "/fapi/v2/positionRisk"),
    ("GET", "/fapi/v3/positionRisk"),
    ("POST", "/fapi/v1/marginType"),
    ("POST", "/fapi/v1/leverage"),
    ("POST", "/fapi/v1/order"),
    ("GET", "/fapi/v1/order"),
}
FAULTS = ("503", "503_after", "429", "418", "-1021", "timeout_after")


class Reject(Exception):
    """A Binance error answer: HTTP status and ``{"code", "msg"}``."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


@dataclass
class Fault:
    """One injected fault, consumed by the next request to ``path``."""

    kind: str
    method: str
    path: str
    retry_after: int = 1
    delay: float = 1.0


def _epoch_ms(value: datetime | int) -> int:
    return value if isinstance(value, int) else int(value.timestamp() * 1000)


class FakeBinance:
    """The fake exchange; use as a context manager (``url`` is valid inside).

    ``candles`` (a candle frame) feeds ``/fapi/v1/klines`` and the default mark price
    (the close of the last closed candle at the fake's clock). ``now`` sets that clock
    (default: the close of the last candle plus one minute, or the real time without
    candles); ``skew_ms`` can move it later. Keys are random unless given.
    """

    def __init__(
        self,
        candles: pl.DataFrame | None = None,
        *,
        symbol: str = "ADAUSDT",
        api_key: str | None = None,
        api_secret: str | None = None,
        balance: Decimal | str = "10000",
        mark_price: Decimal | str | None = None,
        now: datetime | int | None = None,
        exchange_info: dict[str, Any] | None = None,
        fee_rate: Decimal | str = "0.0005",
        leverage: int = 20,
        margin_type: str = "CROSSED",
        hedge_mode: bool = False,
    ) -> None:
        if candles is None and mark_price is None:
            raise ValueError("FakeBinance needs candles or a mark_price")
        self.symbol = symbol
        self.api_key = api_key or secrets.token_hex(32)
        self.api_secret = api_secret or secrets.token_hex(32)
        info = exchange_info or ADAUSDT_ASSUMED_INFO
        self.exchange_info = {
            "timezone": "UTC",
            "symbols": [dict(s, symbol=symbol) for s in info["symbols"]][:1],
        }
        self.rules = SymbolRules.from_exchange_info(self.exchange_info, symbol)
        self.quantity_precision = self.exchange_info["symbols"][0].get("quantityPrecision")
        self._klines = self._kline_rows(candles)
        self.wallet = to_decimal(balance)
        self.fee_rate = to_decimal(fee_rate)
        self._mark = to_decimal(mark_price) if mark_price is not None else None
        self.leverage, self.margin_type, self.hedge_mode = leverage, margin_type, hedge_mode
        self.position_amt, self.entry_price = Decimal(0), Decimal(0)
        self.orders: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self.skew_ms = 0
        if now is None and self._klines:
            now = self._klines[-1][0] + TWELVE_HOURS_MS + 60_000
        if now is not None:
            self.set_time(now)
        self._lock = threading.RLock()
        self._closing = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def __enter__(self) -> FakeBinance:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __repr__(self) -> str:
        return f"FakeBinance(symbol={self.symbol!r}, running={self._server is not None})"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:{port}`` while running."""
        if self._server is None:
            raise RuntimeError("FakeBinance is not running: use it as a context manager")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @contextmanager
    def credentials_env(self) -> Iterator[None]:
        """Set ``BINANCE_API_KEY`` / ``BINANCE_API_SECRET`` to this fake's keys inside the block."""
        saved = {name: os.environ.get(name) for name in (API_KEY_ENV, API_SECRET_ENV)}
        os.environ[API_KEY_ENV], os.environ[API_SECRET_ENV] = self.api_key, self.api_secret
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    # -- state and controls --------------------------------------------------------------------------

    def now_ms(self) -> int:
        """The fake exchange's clock."""
        return int(time.time() * 1000) + self.skew_ms

    def set_time(self, instant: datetime | int) -> None:
        """Move the fake's clock to ``instant`` (it keeps running from there)."""
        self.skew_ms = _epoch_ms(instant) - int(time.time() * 1000)

    def inject(
        self,
        kind: str,
        path: str = "/fapi/v1/order",
        method: str = "POST",
        *,
        retry_after: int = 1,
        delay: float = 1.0,
    ) -> None:
        """Make the next ``method`` request to ``path`` fail: ``"503"`` (not executed), ``"503_after"``
        (executed, then HTTP 503), ``"429"`` / ``"418"`` (with ``Retry-After``), ``"-1021"``,
        or ``"timeout_after"`` (executed, then no answer for ``delay`` seconds)."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; expected one of {FAULTS}")
        self.faults.append(Fault(kind, method, path, retry_after, delay))

    def set_position(self, amount: Decimal | str, entry_price: Decimal | str | None = None) -> None:
        """Put a one-way position on the book (entry at the mark price by default)."""
        self.position_amt = to_decimal(amount)
        self.entry_price = to_decimal(entry_price) if entry_price is not None else self.mark_price()

    def mark_price(self) -> Decimal:
        """The set mark price, else the close of the last closed candle at the fake's clock."""
        if self._mark is not None:
            return self._mark
        closed = [row for row in self._klines if row[0] + TWELVE_HOURS_MS <= self.now_ms()]
        if not closed:
            raise Reject(-1121, "Invalid symbol.")
        return to_decimal(closed[-1][4]).quantize(Decimal("0.00000001"))  # premiumIndex has 8 decimals

    def set_mark_price(self, price: Decimal | str | None) -> None:
        """Fix the mark price (None: follow the candles again)."""
        self._mark = to_decimal(price) if price is not None else None

    def orders_with_id(self, client_order_id: str) -> list[dict[str, Any]]:
        """Every order the fake executed under ``client_order_id`` (a duplicate shows as two)."""
        return [o for o in self.orders if o["clientOrderId"] == client_order_id]

    def signed_requests(self) -> list[dict[str, Any]]:
        """Requests that carried a signature or an API key."""
        return [r for r in self.requests if r["signed"] or r["api_key"]]

    @staticmethod
    def _kline_rows(candles: pl.DataFrame | None) -> list[list[Any]]:
        if candles is None:
            return []
        frame = candles.select(
            pl.col("open_time").dt.epoch("ms"),
            *[pl.col(c).cast(pl.String) for c in ("open", "high", "low", "close", "volume")],
        )
        return [
            [t, o, h, lo, c, v, t + TWELVE_HOURS_MS - 1, "0", 0, "0", "0", "0"]
            for t, o, h, lo, c, v in frame.iter_rows()
        ]

    # -- accounting ----------------------------------------------------------------------------------

    def _margin_used(self) -> Decimal:
        return abs(self.position_amt) * self.entry_price / self.leverage

    def _unrealized(self, mark: Decimal) -> Decimal:
        return self.position_amt * (mark - self.entry_price)

    def available_balance(self) -> Decimal:
        """Wallet + unrealized PnL - initial margin of the open position."""
        mark = self.mark_price() if self.position_amt else Decimal(0)
        return self.wallet + self._unrealized(mark) - self._margin_used()

    def _fill(self, side: str, qty: Decimal, mark: Decimal) -> None:
        signed = qty if side == "BUY" else -qty
        old = self.position_amt
        if old == 0 or (old > 0) == (signed > 0):  # opening or adding
            self.entry_price = (abs(old) * self.entry_price + qty * mark) / (abs(old) + qty)
            self.position_amt = old + signed
        else:  # reducing, maybe flipping
            closed = min(qty, abs(old))
            self.wallet += closed * (mark - self.entry_price) * (1 if old > 0 else -1)
            self.position_amt = old + signed
            if self.position_amt == 0:
                self.entry_price = Decimal(0)
            elif (self.position_amt > 0) != (old > 0):
                self.entry_price = mark
        self.wallet -= self.fee_rate * qty * mark

    # -- endpoints -------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, params: dict[str, str]) -> Any:
        """Answer one authenticated, validated request (raises ``Reject``)."""
        if path == "/fapi/v1/time":
            return {"serverTime": self.now_ms()}
        if path == "/fapi/v1/exchangeInfo":
            return {**self.exchange_info, "serverTime": self.now_ms()}
        if path in (
            "/fapi/v1/premiumIndex",
            "/fapi/v1/klines",
            "/fapi/v2/positionRisk",
            "/fapi/v3/positionRisk",
        ):
            self._symbol(params, required=path != "/fapi/v1/premiumIndex")
        if path == "/fapi/v1/premiumIndex":
            return {"symbol": self.symbol, "markPrice": decimal_str(self.mark_price()), "time": self.now_ms()}
        if path == "/fapi/v1/klines":
            return self._klines_answer(params)
        if path == "/fapi/v1/positionSide/dual":
            return {"dualSidePosition": self.hedge_mode}
        if path in ("/fapi/v2/balance", "/fapi/v3/balance"):
            avail = self.available_balance()
            return [{"accountAlias": "fake", "asset": "USDT", "balance": decimal_str(self.wallet),
                     "crossWalletBalance": decimal_str(self.wallet), "availableBalance": decimal_str(avail),
                     "maxWithdrawAmount": decimal_str(avail), "updateTime": self.now_ms()}]  # fmt: skip
        if path in ("/fapi/v2/positionRisk", "/fapi/v3/positionRisk"):
            return [{"symbol": self.symbol, "positionAmt": decimal_str(self.position_amt),
                     "entryPrice": decimal_str(self.entry_price), "leverage": str(self.leverage),
                     "marginType": "isolated" if self.margin_type == "ISOLATED" else "cross",
                     "positionSide": "BOTH", "updateTime": self.now_ms()}]  # fmt: skip
        if path == "/fapi/v1/marginType":
            return self._margin_type(params)
        if path == "/fapi/v1/leverage":
            self._symbol(params)
            leverage = params.get("leverage", "")
            if not leverage.isdigit() or not 1 <= int(leverage) <= 125:
                raise Reject(-4028, f"Leverage {leverage} is not valid")
            self.leverage = int(leverage)
            return {"leverage": self.leverage, "maxNotionalValue": "1000000", "symbol": self.symbol}
        if path == "/fapi/v1/order" and method == "POST":
            return self._new_order(params)
        if path == "/fapi/v1/order":
            return self._query_order(params)
        raise Reject(-1099, f"Not found: {method} {path}", status=404)

    def _symbol(self, params: dict[str, str], *, required: bool = True) -> None:
        if "symbol" not in params and not required:
            return
        if not params.get("symbol"):
            raise Reject(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
        if params["symbol"] != self.symbol:
            raise Reject(-1121, "Invalid symbol.")

    def _klines_answer(self, params: dict[str, str]) -> list[list[Any]]:
        if params.get("interval") != "12h":
            raise Reject(-1120, "Invalid interval.")
        limit = min(int(params.get("limit", 500)), 1500)
        rows = [r for r in self._klines if r[0] <= self.now_ms()]
        if "startTime" in params:
            rows = [r for r in rows if r[0] >= int(params["startTime"])]
        if "endTime" in params:
            rows = [r for r in rows if r[0] <= int(params["endTime"])]
        return rows[:limit] if "startTime" in params else rows[-limit:]

    def _margin_type(self, params: dict[str, str]) -> dict[str, Any]:
        self._symbol(params)
        wanted = params.get("marginType")
        if wanted not in ("ISOLATED", "CROSSED"):
            raise Reject(
                -1102, "Mandatory parameter 'marginType' was not sent, was empty/null, or malformed."
            )
        if wanted == self.margin_type:
            raise Reject(-4046, "No need to change margin type.")
        if self.position_amt != 0:
            raise Reject(-4048, "Margin type cannot be changed if there exists position.")
        self.margin_type = wanted
        return {"code": 200, "msg": "success"}

    def _quantity(self, text: str | None) -> Decimal:
        if not text:
            raise Reject(-1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.")
        try:
            qty = Decimal(text)
        except InvalidOperation:
            raise Reject(
                -1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed."
            ) from None
        if not qty.is_finite() or "e" in text.lower():
            raise Reject(-1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.")
        decimals = -qty.normalize().as_tuple().exponent
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

    def _new_order(self, params: dict[str, str]) -> dict[str, Any]:
        self._symbol(params)
        side = params.get("side")
        if side not in ("BUY", "SELL"):
            raise Reject(-1117, "Invalid side.")
        if params.get("type") != "MARKET":
            raise Reject(-1116, "Invalid orderType.")  # the fake only fills MARKET orders
        position_side = params.get("positionSide", "BOTH")
        if (position_side == "BOTH") == self.hedge_mode:
            raise Reject(-4061, "Order's position side does not match user's setting.")
        client_id = params.get("newClientOrderId") or f"fake-{len(self.orders) + 1}"
        if not CLIENT_ORDER_ID.match(client_id):
            raise Reject(-4015, "Client order id is not valid.")
        reduce_only = params.get("reduceOnly", "false")
        if reduce_only not in ("true", "false"):
            raise Reject(-1130, "Data sent for parameter 'reduceOnly' is not valid.")
        qty, mark = self._quantity(params.get("quantity")), self.mark_price()
        signed = qty if side == "BUY" else -qty
        if reduce_only == "true":
            if (
                self.position_amt == 0
                or (self.position_amt > 0) == (signed > 0)
                or qty > abs(self.position_amt)
            ):
                raise Reject(-2022, "ReduceOnly Order is rejected.")
        elif qty * mark < self.rules.min_notional:
            floor = decimal_str(self.rules.min_notional)
            raise Reject(
                -4164, f"Order's notional must be no smaller than {floor} (unless you choose reduce only)."
            )
        reducing = self.position_amt != 0 and (self.position_amt > 0) != (signed > 0)
        opening = qty - min(qty, abs(self.position_amt)) if reducing else qty
        if opening * mark / self.leverage + self.fee_rate * qty * mark > self.available_balance():
            raise Reject(-2019, "Margin is insufficient.")
        self._fill(side, qty, mark)
        order = {
            "orderId": 8_000_000 + len(self.orders) + 1, "symbol": self.symbol, "status": "FILLED",
            "clientOrderId": client_id, "price": "0", "avgPrice": decimal_str(mark),
            "origQty": decimal_str(qty), "executedQty": decimal_str(qty), "cumQty": decimal_str(qty),
            "cumQuote": decimal_str(qty * mark),
            "timeInForce": "GTC", "type": "MARKET", "origType": "MARKET", "reduceOnly": reduce_only == "true",
            "closePosition": False, "side": side, "positionSide": position_side, "stopPrice": "0",
            "workingType": "CONTRACT_PRICE", "priceProtect": False, "updateTime": self.now_ms(),
        }  # fmt: skip
        self.orders.append(order)
        return order

    def _query_order(self, params: dict[str, str]) -> dict[str, Any]:
        self._symbol(params)
        if "origClientOrderId" in params:
            found = self.orders_with_id(params["origClientOrderId"])
        elif "orderId" in params:
            found = [o for o in self.orders if str(o["orderId"]) == params["orderId"]]
        else:
            raise Reject(
                -1102, "Param 'orderId' or 'origClientOrderId' must be sent, but both were empty/null!"
            )
        if not found:
            raise Reject(-2013, "Order does not exist.")
        return {**found[-1], "time": found[-1]["updateTime"]}

    # -- request pipeline ------------------------------------------------------------------------------

    def _authenticate(
        self, method: str, path: str, query: str, body: str, api_key: str | None
    ) -> dict[str, str]:
        params = dict(parse_qsl(body, keep_blank_values=True))
        params.update(parse_qsl(query, keep_blank_values=True))  # the query string wins, as on Binance
        if (method, path) not in SIGNED_PATHS:
            return params
        if api_key != self.api_key:
            raise Reject(-2015, "Invalid API-key, IP, or permissions for action.", status=401)
        total = query + body
        match = re.search(r"&?signature=([0-9a-fA-F]*)$", total)
        if not match or not match.group(1):
            raise Reject(-1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
        if "timestamp" not in params or not params["timestamp"].isdigit():
            raise Reject(-1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")
        if match.group(1).lower() != sign(self.api_secret, total[: match.start()]):
            raise Reject(-1022, "Signature for this request is not valid.")
        window = int(params.get("recvWindow", 5000))
        if window > 60000:
            raise Reject(-1130, "Data sent for parameter 'recvWindow' is not valid.")
        server, stamp = self.now_ms(), int(params["timestamp"])
        if not (stamp < server + 1000 and server - stamp <= window):
            raise Reject(-1021, "Timestamp for this request is outside of the recvWindow.")
        return params

    def _pop_fault(self, method: str, path: str) -> Fault | None:
        for i, fault in enumerate(self.faults):
            if (fault.method, fault.path) == (method, path):
                return self.faults.pop(i)
        return None

    def serve(
        self, method: str, target: str, body: str, api_key: str | None
    ) -> tuple[int, Any, dict[str, str], float]:
        """Process one HTTP request: returns (status, JSON payload, headers, seconds to stall first)."""
        split = urlsplit(target)
        path, query = split.path, split.query
        with self._lock:
            fault = self._pop_fault(method, path)
            record = {
                "method": method,
                "path": path,
                "api_key": api_key is not None,
                "fault": fault and fault.kind,
            }
            params = dict(parse_qsl(body, keep_blank_values=True)) | dict(
                parse_qsl(query, keep_blank_values=True)
            )
            record["signed"] = "signature" in params
            record["params"] = {k: v for k, v in params.items() if k != "signature"}
            headers = {"X-MBX-USED-WEIGHT-1M": str(len(self.requests) + 1)}
            self.requests.append(record)
            if fault and fault.kind in ("429", "418"):
                status = int(fault.kind)
                record["status"] = status
                headers["Retry-After"] = str(fault.retry_after)
                return (
                    status,
                    {"code": -1003, "msg": "Too many requests; please use the websocket."},
                    headers,
                    0.0,
                )
            if fault and fault.kind == "503":
                record["status"] = 503
                return 503, {"code": -1001, "msg": "Service Unavailable."}, headers, 0.0
            try:
                if fault and fault.kind == "-1021":
                    raise Reject(-1021, "Timestamp for this request is outside of the recvWindow.")
                answer = self.handle(method, path, self._authenticate(method, path, query, body, api_key))
                status = 200
            except Reject as exc:
                status, answer = exc.status, {"code": exc.code, "msg": exc.msg}
            record["status"] = status
            if status == 200 and fault and fault.kind == "503_after":
                record["status"] = 503
                msg = "Unknown error, please check your request or try again later."
                return 503, {"code": -1000, "msg": msg}, headers, 0.0
            if path == "/fapi/v1/order" and method == "POST" and status == 200:
                headers["X-MBX-ORDER-COUNT-1M"] = str(len(self.orders))
            stall = fault.delay if (fault and fault.kind == "timeout_after") else 0.0
            return status, answer, headers, stall


class _Handler(BaseHTTPRequestHandler):
    fake: FakeBinance

    def _respond(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        status, payload, headers, stall = self.fake.serve(
            method, self.path, body, self.headers.get("X-MBX-APIKEY")
        )
        if stall and self.fake._closing.wait(stall):
            return
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (timeout fault)
            pass

    def do_GET(self) -> None:
        self._respond("GET")

    def do_POST(self) -> None:
        self._respond("POST")

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        pass
