"""A small signed-request client for the Binance USDT-M futures REST API.

Signing follows Binance's "SIGNED endpoint security": ``timestamp`` and ``recvWindow``
are added, the parameters are URL-encoded in order, and ``signature`` =
HMAC-SHA256(secret, totalParams) is appended last. Here every parameter travels in
the query string, so totalParams is the query string.

>>> sign("2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9",
...      "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC"
...      "&recvWindow=5000&timestamp=1591702613943")
'3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9'
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import requests

from adalib.binance.errors import (
    InvalidTimestamp,
    MarginTypeUnchanged,
    MissingCredentials,
    NoSuchOrder,
    api_error,
)
from adalib.binance.http import LIVE_URL, TESTNET_URL, Answer, RetryPolicy, Transport
from adalib.binance.journal import Journal
from adalib.binance.rules import SymbolRules, decimal_str, to_decimal

__all__ = ["LIVE_URL", "TESTNET_URL", "BinanceClient", "Position", "encode_params", "sign", "wire_value"]
API_KEY_ENV = "BINANCE_API_KEY"
API_SECRET_ENV = "BINANCE_API_SECRET"
CLIENT_ORDER_ID = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")


def sign(secret: str, total_params: str) -> str:
    """HMAC-SHA256 of ``total_params`` keyed with ``secret``, as lowercase hex."""
    return hmac.new(secret.encode(), total_params.encode(), hashlib.sha256).hexdigest()


def wire_value(value: Any) -> str:
    """A parameter as Binance reads it: Decimals as exact decimal text, booleans as ``true``/``false``.

    Floats are refused: their repr is not a price or quantity anyone meant to send.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return decimal_str(value)
    if isinstance(value, float):
        raise TypeError(f"float parameter {value!r}: pass a Decimal or a string")
    return str(value)


def encode_params(params: Mapping[str, Any]) -> str:
    """URL-encode ``params`` in their given order."""
    return urlencode([(k, wire_value(v)) for k, v in params.items()])


class _RedactSignatures(logging.Filter):
    """urllib3 logs request URLs at DEBUG level; keep signatures out of those records."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "signature=" in message:
            record.msg, record.args = re.sub(r"signature=[0-9a-fA-F]+", "signature=***", message), ()
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_RedactSignatures())


@dataclass(frozen=True)
class Position:
    """The one-way position of a symbol: signed ``amount``, ``entry_price`` and ``margin_type``."""

    amount: Decimal
    entry_price: Decimal
    margin_type: str


class BinanceClient:
    """Public and signed requests against ``base_url``, journaled, through the one HTTP layer.

    Retries follow ``adalib.binance.http.RetryPolicy`` (429 honours ``Retry-After``, 418 stops,
    5xx and timeouts back off, a bounded total wait); a -1021 (timestamp outside ``recvWindow``)
    re-syncs the clock offset and retries once. A request that can change the account is
    journaled before it is sent (``phase`` ``"request"``) and again with its answer.

    Credentials are never shown: not in ``repr``, exceptions or the journal.

    >>> BinanceClient("https://demo-fapi.binance.com", api_key="k", api_secret="s")
    BinanceClient(base_url='https://demo-fapi.binance.com', credentials=set)
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        api_secret: str | None = None,
        session: requests.Session | None = None,
        journal: Journal | None = None,
        timeout: float = 10.0,
        recv_window: int = 5000,
        retries: int = 3,
        backoff: float = 0.5,
        max_wait: float = 60.0,
        total_wait: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._key, self._secret = api_key, api_secret
        self.transport = Transport(
            session=session,
            timeout=timeout,
            policy=RetryPolicy(retries=retries, backoff=backoff, max_wait=max_wait, total_wait=total_wait),
            sleep=sleep,
        )
        self.journal = journal
        self.recv_window = recv_window
        self.sleep, self.clock = sleep, clock
        self.time_offset_ms: int | None = None
        self.used_weight: dict[str, int] = {}
        self.order_count: dict[str, int] = {}

    @classmethod
    def from_env(cls, base_url: str, env: Mapping[str, str] | None = None, **kwargs: Any) -> BinanceClient:
        """A signing client with keys from ``BINANCE_API_KEY`` / ``BINANCE_API_SECRET``."""
        env = os.environ if env is None else env
        missing = [name for name in (API_KEY_ENV, API_SECRET_ENV) if not env.get(name)]
        if missing:
            raise MissingCredentials(
                f"environment variable(s) {', '.join(missing)} not set: needed to sign requests"
            )
        return cls(base_url, api_key=env[API_KEY_ENV], api_secret=env[API_SECRET_ENV], **kwargs)

    def __repr__(self) -> str:
        return f"BinanceClient(base_url={self.base_url!r}, credentials={'set' if self._key else 'none'})"

    @property
    def session(self) -> requests.Session:
        """The HTTP session the transport uses."""
        return self.transport.session

    # -- transport -------------------------------------------------------------------------------

    def now_ms(self) -> int:
        """The exchange's time as this client estimates it (local clock + synced offset)."""
        return int(self.clock() * 1000) + (self.time_offset_ms or 0)

    def sync_time(self) -> int:
        """Measure the offset to ``GET /fapi/v1/time`` (midpoint of the round trip); returns it."""
        before = self.clock()
        server = int(self.request("GET", "/fapi/v1/time")["serverTime"])
        after = self.clock()
        self.time_offset_ms = server - int((before + after) / 2 * 1000)
        return self.time_offset_ms

    def _track(self, headers: Mapping[str, str]) -> None:
        for name, value in headers.items():
            lower = name.lower()
            for prefix, store in (
                ("x-mbx-used-weight-", self.used_weight),
                ("x-mbx-order-count-", self.order_count),
            ):
                if lower.startswith(prefix) and value.isdigit():
                    store[lower[len(prefix) :]] = int(value)

    def _log(self, entry: dict[str, Any]) -> None:
        if self.journal is not None:  # a request that can change the account is fsynced, a read flushed
            self.journal.write(entry, sync=entry["method"] != "GET")

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        signed: bool = False,
        idempotent: bool | None = None,
        retries: int | None = None,
        summarise: Callable[[Any], Any] | None = None,
    ) -> Any:
        """Send one request (retrying as the class docstring says) and return its decoded JSON."""
        idempotent = method == "GET" if idempotent is None else idempotent
        if signed and not (self._key and self._secret):
            raise MissingCredentials(f"{method} {path} is a signed endpoint and this client has no keys")
        for resync in (False, True):
            answer = self._send(method, path, params, signed, idempotent, retries, summarise)
            if answer.ok:
                return answer.payload
            error = api_error(answer.status, answer.payload, method, path)
            if isinstance(error, InvalidTimestamp) and signed and not resync:
                self.sync_time()
                continue
            raise error
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        signed: bool,
        idempotent: bool,
        retries: int | None,
        summarise: Callable[[Any], Any] | None,
    ) -> Answer:
        """One request through the transport: signed afresh and journaled at every attempt."""
        write_ahead = method != "GET"
        entry: dict[str, Any] = {}

        def prepare() -> tuple[str, dict[str, str]]:
            sent = dict(params or {})
            headers = {}
            if signed:
                if self.time_offset_ms is None:
                    self.sync_time()
                sent["recvWindow"] = self.recv_window
                sent["timestamp"] = self.now_ms()
                query = encode_params(sent)
                query = f"{query}&signature={sign(self._secret or '', query)}"
                headers["X-MBX-APIKEY"] = self._key or ""
            else:
                query = encode_params(sent)
            entry.clear()
            entry.update(method=method, path=path, params={k: wire_value(v) for k, v in sent.items()})
            entry["signed"] = signed
            if write_ahead:  # journaled and fsynced before it leaves: a crash cannot hide it
                self._log({**entry, "phase": "request"})
            return f"{self.base_url}{path}" + (f"?{query}" if query else ""), headers

        def record(answer: Answer | None, error: str | None) -> None:
            tail: dict[str, Any] = {"phase": "answer"} if write_ahead else {}
            if answer is None:
                self._log({**entry, **tail, "status": None, "response": None, "error": error})
                return
            self._track(answer.headers)
            shown = summarise(answer.payload) if (answer.ok and summarise) else answer.payload
            self._log({**entry, **tail, "status": answer.status, "response": shown})

        return self.transport.send(
            method, path, prepare, idempotent=idempotent, record=record, retries=retries
        )

    # -- endpoints -------------------------------------------------------------------------------

    def server_time(self, **kwargs: Any) -> int:
        """``GET /fapi/v1/time``: the exchange's clock in epoch ms."""
        return int(self.request("GET", "/fapi/v1/time", **kwargs)["serverTime"])

    def symbol_rules(self, symbol: str) -> SymbolRules:
        """``GET /fapi/v1/exchangeInfo``, parsed for ``symbol`` (the journal keeps only that symbol)."""

        def only_symbol(info: Any) -> Any:
            return {"symbols": [s for s in info.get("symbols", []) if s.get("symbol") == symbol]}

        info = self.request("GET", "/fapi/v1/exchangeInfo", summarise=only_symbol)
        return SymbolRules.from_exchange_info(info, symbol)

    def mark_price(self, symbol: str) -> Decimal:
        """``GET /fapi/v1/premiumIndex``: the mark price."""
        return to_decimal(self.request("GET", "/fapi/v1/premiumIndex", {"symbol": symbol})["markPrice"])

    def klines(
        self, symbol: str, interval: str = "12h", *, limit: int = 500, end_ms: int | None = None
    ) -> list:
        """``GET /fapi/v1/klines``: the last ``limit`` klines before ``end_ms`` (journaled as counts)."""
        params: dict[str, Any] = {"symbol": symbol, "interval": interval, "limit": limit}
        if end_ms is not None:
            params["endTime"] = end_ms - 1

        def count(rows: Any) -> Any:
            return {
                "klines": len(rows),
                "first_open_time": rows[0][0] if rows else None,
                "last_open_time": rows[-1][0] if rows else None,
            }

        return self.request("GET", "/fapi/v1/klines", params, summarise=count)

    def hedge_mode(self) -> bool:
        """``GET /fapi/v1/positionSide/dual``: True if the account is in hedge (dual-side) mode."""
        return bool(self.request("GET", "/fapi/v1/positionSide/dual", signed=True)["dualSidePosition"])

    def available_balance(self, asset: str = "USDT") -> Decimal:
        """``GET /fapi/v2/balance``: ``availableBalance`` of ``asset`` (0 if the account holds none)."""
        rows = self.request("GET", "/fapi/v2/balance", signed=True)
        return sum((to_decimal(r["availableBalance"]) for r in rows if r.get("asset") == asset), Decimal(0))

    def position(self, symbol: str) -> Position:
        """``GET /fapi/v2/positionRisk``: the signed one-way position (``positionSide`` BOTH)."""
        rows = self.request("GET", "/fapi/v2/positionRisk", {"symbol": symbol}, signed=True)
        mine = [r for r in rows if r.get("symbol") == symbol and r.get("positionSide", "BOTH") == "BOTH"]
        amount = sum((to_decimal(r["positionAmt"]) for r in mine), Decimal(0))
        entry = to_decimal(mine[0].get("entryPrice", "0")) if mine else Decimal(0)
        margin = str(mine[0].get("marginType", "")).upper() if mine else ""
        return Position(amount, entry, {"CROSS": "CROSSED"}.get(margin, margin))

    def position_amt(self, symbol: str) -> Decimal:
        """The signed one-way position amount of ``symbol``."""
        return self.position(symbol).amount

    def multi_assets_mode(self) -> bool:
        """``GET /fapi/v1/multiAssetsMargin``: True if the account is in multi-assets mode."""
        return bool(self.request("GET", "/fapi/v1/multiAssetsMargin", signed=True)["multiAssetsMargin"])

    def open_orders(self, symbol: str) -> list[dict[str, Any]]:
        """``GET /fapi/v1/openOrders``: the symbol's open (non-conditional) orders."""
        return list(self.request("GET", "/fapi/v1/openOrders", {"symbol": symbol}, signed=True))

    def open_algo_orders(self, symbol: str) -> list[dict[str, Any]]:
        """``GET /fapi/v1/openAlgoOrders``: the symbol's open conditional orders (stops)."""
        answer = self.request("GET", "/fapi/v1/openAlgoOrders", {"symbol": symbol}, signed=True)
        return list(answer.get("orders", []) if isinstance(answer, dict) else answer)

    def new_stop_market(
        self, symbol: str, side: str, trigger_price: Decimal, *, client_algo_id: str
    ) -> dict[str, Any]:
        """``POST /fapi/v1/algoOrder``: a conditional STOP_MARKET that closes the whole position when
        the mark price reaches ``trigger_price`` (Binance's Algo Order endpoint since 2025-12)."""
        params: dict[str, Any] = {
            "algoType": "CONDITIONAL",
            "symbol": symbol,
            "side": side,
            "type": "STOP_MARKET",
            "triggerPrice": trigger_price,
            "workingType": "MARK_PRICE",
            "closePosition": True,
            "clientAlgoId": client_algo_id,
        }
        return self.request("POST", "/fapi/v1/algoOrder", params, signed=True, idempotent=False)

    def get_algo_order(self, client_algo_id: str) -> dict[str, Any] | None:
        """``GET /fapi/v1/algoOrder`` by ``clientAlgoId``; None if Binance has no such order."""
        try:
            return self.request("GET", "/fapi/v1/algoOrder", {"clientAlgoId": client_algo_id}, signed=True)
        except NoSuchOrder:
            return None

    def cancel_algo_order(self, client_algo_id: str) -> dict[str, Any] | None:
        """``DELETE /fapi/v1/algoOrder`` by ``clientAlgoId`` (None if it is already gone)."""
        try:
            return self.request(
                "DELETE", "/fapi/v1/algoOrder", {"clientAlgoId": client_algo_id}, signed=True, idempotent=True
            )
        except NoSuchOrder:
            return None

    def set_margin_type(self, symbol: str, margin_type: str) -> str:
        """``POST /fapi/v1/marginType``; returns ``"changed"`` or ``"already set"`` (-4046)."""
        try:
            self.request(
                "POST",
                "/fapi/v1/marginType",
                {"symbol": symbol, "marginType": margin_type},
                signed=True,
                idempotent=True,
            )
        except MarginTypeUnchanged:
            return "already set"
        return "changed"

    def set_leverage(self, symbol: str, leverage: int) -> dict[str, Any]:
        """``POST /fapi/v1/leverage``."""
        return self.request(
            "POST",
            "/fapi/v1/leverage",
            {"symbol": symbol, "leverage": int(leverage)},
            signed=True,
            idempotent=True,
        )

    def new_market_order(
        self, symbol: str, side: str, quantity: Decimal, *, client_order_id: str, reduce_only: bool = False
    ) -> dict[str, Any]:
        """``POST /fapi/v1/order``: a MARKET order (never retried blindly: see ``UnknownOutcome``)."""
        if not CLIENT_ORDER_ID.match(client_order_id):
            raise ValueError(
                f"newClientOrderId {client_order_id!r} breaks Binance's rule {CLIENT_ORDER_ID.pattern}"
            )
        params: dict[str, Any] = {"symbol": symbol, "side": side, "type": "MARKET", "quantity": quantity}
        if reduce_only:
            params["reduceOnly"] = True
        params.update(newClientOrderId=client_order_id, newOrderRespType="RESULT")
        return self.request("POST", "/fapi/v1/order", params, signed=True, idempotent=False)

    def get_order(self, symbol: str, client_order_id: str) -> dict[str, Any] | None:
        """``GET /fapi/v1/order`` by ``origClientOrderId``; None if Binance has no such order."""
        try:
            return self.request(
                "GET", "/fapi/v1/order", {"symbol": symbol, "origClientOrderId": client_order_id}, signed=True
            )
        except NoSuchOrder:
            return None
