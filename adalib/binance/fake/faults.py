"""Injectable faults of the local exchange, and Binance's error answer.

Each fault is consumed by the next request that matches its method and path
(default ``POST /fapi/v1/order``). ``FAULT_HELP`` is what ``--help`` and
``POST /_fake/fault`` document.

>>> status, body = Fault("408_after").answer_after()
>>> status, body["code"]
(408, -1007)
"""

from __future__ import annotations

from dataclasses import dataclass

FAULT_HELP: dict[str, str] = {
    "503": "HTTP 503 (-1001), not executed",
    "503_after": "executed, then HTTP 503 (-1000): the answer is lost",
    "408_after": "executed, then HTTP 408 (-1007, execution status unknown)",
    "502_after": "executed, then HTTP 502 (-1006, execution status unknown)",
    "429": "HTTP 429 (-1003) with Retry-After: retry_after s, not executed",
    "418": "HTTP 418 (-1003, IP banned) with Retry-After: retry_after s, not executed",
    "-1021": "one -1021 (timestamp outside recvWindow), not executed",
    "timeout_after": "executed, then the answer is held delay s (same as stall_after)",
    "stall_after": "executed, then the answer is held delay s",
    "stall_before": "held delay s without executing, then discarded: the connection closes, never executed",
    "drop_after": "executed, then the connection closes without an answer",
    "delay": "accepted as NEW at once (its id is taken among open orders), executed delay s later: races",
    "expired": "a MARKET order answered and stored EXPIRED with executedQty 0 (no liquidity)",
    "partial": "a MARKET order fills fraction of its quantity (down to the step), then EXPIRED (IOC-like)",
    "lookup_missing": "executed; lookups of that order by id answer -2013 for delay s after it was placed",
}
FAULTS = tuple(FAULT_HELP)
ORDER_ONLY = ("expired", "partial")  # only meaningful for POST /fapi/v1/order

UNKNOWN_OUTCOME = {
    "503_after": (503, -1000, "Unknown error, please check your request or try again later."),
    "408_after": (
        408,
        -1007,
        "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
    ),
    "502_after": (
        502,
        -1006,
        "An unexpected response was received from the message bus. Execution status unknown.",
    ),
}


class Reject(Exception):
    """A Binance error answer: HTTP status and ``{"code", "msg"}``.

    >>> Reject(-2013, "Order does not exist.").body()
    {'code': -2013, 'msg': 'Order does not exist.'}
    """

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status

    def body(self) -> dict[str, int | str]:
        """The JSON body Binance sends."""
        return {"code": self.code, "msg": self.msg}


def mandatory(name: str) -> Reject:
    """Binance's -1102 for a missing or malformed parameter.

    >>> mandatory("symbol").msg
    "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."
    """
    return Reject(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


@dataclass
class Fault:
    """One injected fault, consumed by the next ``method`` request to ``path``.

    >>> Fault("partial", fraction=0.25).kind
    'partial'
    """

    kind: str
    method: str = "POST"
    path: str = "/fapi/v1/order"
    retry_after: int = 1
    delay: float = 1.0
    fraction: float = 0.5

    def __post_init__(self) -> None:
        if self.kind not in FAULTS:
            raise ValueError(f"unknown fault {self.kind!r}; expected one of {FAULTS}")
        if self.kind in ORDER_ONLY and (self.method, self.path) != ("POST", "/fapi/v1/order"):
            raise ValueError(f"fault {self.kind!r} applies to POST /fapi/v1/order only")
        if not 0 < self.fraction < 1:
            raise ValueError(f"fault fraction must lie strictly between 0 and 1, got {self.fraction}")
        if self.delay < 0 or self.retry_after < 0:
            raise ValueError("fault delay and retry_after must not be negative")

    def answer_before(self) -> tuple[int, dict[str, int | str]] | None:
        """The answer that replaces execution (nothing executed), if this fault has one."""
        if self.kind == "503":
            return 503, {"code": -1001, "msg": "Service Unavailable."}
        if self.kind == "429":
            return 429, {
                "code": -1003,
                "msg": "Too many requests; current limit is 2400 requests per minute.",
            }
        if self.kind == "418":
            return 418, {"code": -1003, "msg": "Way too many requests; IP banned until further notice."}
        return None

    def answer_after(self) -> tuple[int, dict[str, int | str]] | None:
        """The answer that replaces a successful one after execution, if this fault has one."""
        if self.kind not in UNKNOWN_OUTCOME:
            return None
        status, code, msg = UNKNOWN_OUTCOME[self.kind]
        return status, {"code": code, "msg": msg}
