"""The request pipeline (routing, API key and signature checks, faults, headers), the HTTP
handler, and the control API under ``/_fake/`` that out-of-process tests drive.

>>> ROUTES[("POST", "/fapi/v1/algoOrder")]
('new_algo_order', True)
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from adalib.binance.client import sign
from adalib.binance.fake.algo import Algo
from adalib.binance.fake.faults import Fault, Reject, mandatory
from adalib.binance.fake.orders import Deferred
from adalib.binance.rules import decimal_str

ORDER = ("POST", "/fapi/v1/order")
ORDER_PATHS = (ORDER, ("POST", "/fapi/v1/algoOrder"))
_PUBLIC = {
    "/fapi/v1/ping": "ping",
    "/fapi/v1/time": "server_time",
    "/fapi/v1/exchangeInfo": "exchange_info",
    "/fapi/v1/klines": "klines",
    "/fapi/v1/premiumIndex": "premium_index",
    "/fapi/v1/fundingRate": "funding_rate",
    "/fapi/v1/ticker/price": "ticker_price",
    "/fapi/v2/ticker/price": "ticker_price",
}
_SIGNED = {
    ("GET", "/fapi/v2/balance"): "balance",
    ("GET", "/fapi/v3/balance"): "balance",
    ("GET", "/fapi/v2/account"): "account_v2",
    ("GET", "/fapi/v3/account"): "account_v3",
    ("GET", "/fapi/v2/positionRisk"): "position_risk_v2",
    ("GET", "/fapi/v3/positionRisk"): "position_risk_v3",
    ("GET", "/fapi/v1/symbolConfig"): "symbol_config",
    ("GET", "/fapi/v1/leverageBracket"): "leverage_bracket",
    ("POST", "/fapi/v1/leverage"): "set_leverage",
    ("POST", "/fapi/v1/marginType"): "set_margin_type",
    ("GET", "/fapi/v1/positionSide/dual"): "position_mode",
    ("POST", "/fapi/v1/positionSide/dual"): "set_position_mode",
    ("GET", "/fapi/v1/multiAssetsMargin"): "multi_assets_mode",
    ("POST", "/fapi/v1/multiAssetsMargin"): "set_multi_assets_mode",
    ("GET", "/fapi/v1/commissionRate"): "commission_rate",
    ("POST", "/fapi/v1/order"): "new_order",
    ("GET", "/fapi/v1/order"): "query_order",
    ("DELETE", "/fapi/v1/order"): "cancel_order",
    ("DELETE", "/fapi/v1/allOpenOrders"): "cancel_all",
    ("GET", "/fapi/v1/openOrders"): "open_orders",
    ("GET", "/fapi/v1/allOrders"): "all_orders",
    ("GET", "/fapi/v1/userTrades"): "user_trades",
    ("POST", "/fapi/v1/algoOrder"): "new_algo_order",
    ("GET", "/fapi/v1/algoOrder"): "query_algo_order",
    ("DELETE", "/fapi/v1/algoOrder"): "cancel_algo_order",
    ("DELETE", "/fapi/v1/algoOpenOrders"): "cancel_all_algo",
    ("GET", "/fapi/v1/openAlgoOrders"): "open_algo_orders",
    ("GET", "/fapi/v1/allAlgoOrders"): "all_algo_orders",
}
ROUTES: dict[tuple[str, str], tuple[str, bool]] = {("GET", p): (n, False) for p, n in _PUBLIC.items()} | {
    k: (n, True) for k, n in _SIGNED.items()
}
CONTROL_PREFIX = "/_fake/"
CONTROL_HELP = """\
control API (no key needed; form or query parameters; JSON answers):
  GET  /_fake/state                          clock, mark price, wallet, position, settings
  POST /_fake/time      time=MS | advance=MS  move the clock (conditional orders trigger on the way)
  POST /_fake/mark      price=P | price=      fix the mark price, or follow the candles again
  POST /_fake/position  amount=Q [entry=P]    put a one-way position on the book
  POST /_fake/fault     kind=K [path=/fapi/v1/order] [method=POST] [retry_after=1] [delay=1]
                        [fraction=0.5]       queue a fault for the next matching request
  GET  /_fake/orders | /_fake/algoOrders | /_fake/trades | /_fake/requests   what the exchange holds"""


@dataclass
class Reply:
    """What the handler sends: ``wait`` seconds first; ``drop`` closes the connection unanswered."""

    status: int
    payload: Any
    headers: dict[str, str] = field(default_factory=dict)
    wait: float = 0.0
    drop: bool = False


class Server(Algo):
    """The HTTP side of ``FakeBinance``."""

    _server: ThreadingHTTPServer | None = None

    def _count(self, name: str, seconds: float, *, add: bool) -> int:
        """Events in the last ``seconds`` (weight 1 per request), optionally recording one now."""
        window, now = self._windows.setdefault(name, deque()), time.monotonic()
        if add:
            window.append(now)
        while window and window[0] < now - 60:
            window.popleft()
        return sum(1 for t in window if t >= now - seconds)

    def _authenticate(self, query: str, body: str, api_key: str | None) -> dict[str, str]:
        params = dict(parse_qsl(body, keep_blank_values=True))
        params.update(parse_qsl(query, keep_blank_values=True))  # the query string wins, as on Binance
        if api_key != self.api_key:
            raise Reject(-2015, "Invalid API-key, IP, or permissions for action.", status=401)
        total = query + body
        match = re.search(r"&?signature=([0-9a-fA-F]*)$", total)
        if not match or not match.group(1):
            raise mandatory("signature")
        if "timestamp" not in params or not params["timestamp"].isdigit():
            raise mandatory("timestamp")
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

    def serve(self, method: str, target: str, body: str, api_key: str | None) -> Reply:
        """Process one HTTP request (the handler sends the ``Reply``)."""
        split = urlsplit(target)
        path, query = split.path, split.query
        if path.startswith(CONTROL_PREFIX):
            return self.control(method, path, dict(parse_qsl(body)) | dict(parse_qsl(query)))
        with self._lock:
            self._on_clock()
            fault = self._pop_fault(method, path)
            params = dict(parse_qsl(body, keep_blank_values=True)) | dict(
                parse_qsl(query, keep_blank_values=True)
            )
            record: dict[str, Any] = {
                "method": method,
                "path": path,
                "api_key": api_key is not None,
                "fault": fault and fault.kind,
                "signed": "signature" in params,
                "params": {k: v for k, v in params.items() if k != "signature"},
                "status": None,
                "time": self.now_ms(),
            }
            self.requests.append(record)
            headers = {"X-MBX-USED-WEIGHT-1M": str(self._count("weight", 60, add=True))}
            early = fault.answer_before() if fault else None
            if fault and early:
                record["status"] = early[0]
                if fault.kind in ("429", "418"):
                    headers["Retry-After"] = str(fault.retry_after)
                return Reply(early[0], early[1], headers)
            if fault and fault.kind == "stall_before":
                return Reply(0, None, headers, wait=fault.delay, drop=True)
        if fault and fault.kind == "delay" and (method, path) != ORDER and self._closing.wait(fault.delay):
            return Reply(0, None, headers, drop=True)
        with self._lock:
            status, answer = self._run(method, path, query, body, api_key, fault)
        if isinstance(answer, Deferred):
            if self._closing.wait(answer.wait):
                return Reply(0, None, headers, drop=True)
            with self._lock:
                answer = answer.finish()
        record["status"] = status
        if status == 200 and (method, path) in ORDER_PATHS:
            headers["X-MBX-ORDER-COUNT-10S"] = str(self._count("orders", 10, add=True))
            headers["X-MBX-ORDER-COUNT-1M"] = str(self._count("orders", 60, add=False))
        if fault and status == 200:
            lost = fault.answer_after()
            if lost:
                record["status"] = lost[0]
                return Reply(lost[0], lost[1], headers)
            if fault.kind == "drop_after":
                record["status"] = None
                return Reply(0, None, headers, drop=True)
            if fault.kind in ("stall_after", "timeout_after"):
                return Reply(status, answer, headers, wait=fault.delay)
        return Reply(status, answer, headers)

    def _run(
        self, method: str, path: str, query: str, body: str, api_key: str | None, fault: Fault | None
    ) -> tuple[int, Any]:
        route = ROUTES.get((method, path))
        if route is None:
            return 404, {"code": -1099, "msg": f"Not found: {method} {path}"}
        name, signed = route
        try:
            if fault and fault.kind == "-1021":
                raise Reject(-1021, "Timestamp for this request is outside of the recvWindow.")
            if signed:
                params = self._authenticate(query, body, api_key)
            else:
                params = dict(parse_qsl(body, keep_blank_values=True)) | dict(
                    parse_qsl(query, keep_blank_values=True)
                )
            self.fault = fault
            try:
                return 200, getattr(self, name)(params)
            finally:
                self.fault = None
        except Reject as exc:
            return exc.status, exc.body()

    # -- control API -----------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Clock, mark price, wallet, position and settings, as ``GET /_fake/state`` answers."""
        with self._lock:
            try:
                mark: str | None = decimal_str(self.mark_price())
            except Reject:
                mark = None
            return {
                "now": self.now_ms(),
                "symbol": self.symbol,
                "markPrice": mark,
                "wallet": decimal_str(self.wallet),
                "positionAmt": decimal_str(self.position_amt),
                "entryPrice": decimal_str(self.entry_price),
                "leverage": self.leverage,
                "marginType": self.margin_type,
                "dualSidePosition": self.hedge_mode,
                "multiAssetsMargin": self.multi_assets,
                "faults": [f.kind for f in self.faults],
            }

    def control(self, method: str, path: str, params: dict[str, str]) -> Reply:
        """Answer ``/_fake/...`` (see ``CONTROL_HELP``)."""
        name = path.removeprefix(CONTROL_PREFIX)
        try:
            if (method, name) == ("POST", "time"):
                if "advance" in params:
                    self.skew_ms += int(params["advance"])
                else:
                    self.set_time(int(params["time"]))
            elif (method, name) == ("POST", "mark"):
                self.set_mark_price(params.get("price") or None)
            elif (method, name) == ("POST", "position"):
                self.set_position(params["amount"], params.get("entry"))
            elif (method, name) == ("POST", "fault"):
                self.faults.append(
                    Fault(
                        params["kind"],
                        params.get("method", "POST"),
                        params.get("path", "/fapi/v1/order"),
                        int(params.get("retry_after", 1)),
                        float(params.get("delay", 1.0)),
                        float(params.get("fraction", 0.5)),
                    )
                )
            elif method == "GET" and name in ("orders", "algoOrders", "trades", "requests"):
                attr = {
                    "orders": "orders",
                    "algoOrders": "algo_orders",
                    "trades": "trades",
                    "requests": "requests",
                }
                with self._lock:
                    return Reply(200, list(getattr(self, attr[name])))
            elif (method, name) != ("GET", "state"):
                return Reply(404, {"error": f"unknown control {method} {path}", "help": CONTROL_HELP})
        except (KeyError, ValueError, ArithmeticError) as exc:
            return Reply(400, {"error": f"{method} {path}: {exc!r}", "help": CONTROL_HELP})
        return Reply(200, self.state())

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self, port: int = 0) -> None:
        """Bind ``127.0.0.1:port`` (0: a port the OS picks) and serve in a background thread."""
        handler = type("Handler", (_Handler,), {"fake": self})
        self._closing.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        """Stop serving; held answers are abandoned."""
        self._closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:{port}`` while running."""
        if self._server is None:
            raise RuntimeError("FakeBinance is not running: use it as a context manager")
        return f"http://127.0.0.1:{self._server.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    fake: Server

    def _respond(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        reply = self.fake.serve(method, self.path, body, self.headers.get("X-MBX-APIKEY"))
        if reply.wait and self.fake._closing.wait(reply.wait):
            return
        if reply.drop:
            self.close_connection = True
            return
        data = json.dumps(reply.payload).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
            pass

    def do_GET(self) -> None:
        self._respond("GET")

    def do_POST(self) -> None:
        self._respond("POST")

    def do_DELETE(self) -> None:
        self._respond("DELETE")

    def do_PUT(self) -> None:
        self._respond("PUT")

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        pass
