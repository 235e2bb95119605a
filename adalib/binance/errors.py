"""Typed exceptions for the Binance USDT-M client: every one keeps what Binance said.

>>> err = api_error(400, {"code": -2013, "msg": "Order does not exist."}, "GET", "/fapi/v1/order")
>>> type(err).__name__, err.code, err.msg
('NoSuchOrder', -2013, 'Order does not exist.')
"""

from __future__ import annotations

from typing import Any


class BinanceError(RuntimeError):
    """Base class of everything the execution layer raises about the exchange."""


class BinanceAPIError(BinanceError):
    """Binance answered with an error payload ``{"code": ..., "msg": ...}``."""

    def __init__(self, status: int, code: int | None, msg: str, method: str = "", path: str = "") -> None:
        self.status, self.code, self.msg, self.method, self.path = status, code, msg, method, path
        super().__init__(f"{method} {path}: Binance error {code} (HTTP {status}): {msg}".strip())


class InvalidTimestamp(BinanceAPIError):
    """-1021: the timestamp is outside ``recvWindow`` (the local clock drifted)."""


class InvalidSignature(BinanceAPIError):
    """-1022: the signature does not match (wrong secret, or parameters altered)."""


class BadPrecision(BinanceAPIError):
    """-1111: more decimals than the symbol allows."""


class NoSuchOrder(BinanceAPIError):
    """-2013 (or -2011): no order with that id."""


class MarginInsufficient(BinanceAPIError):
    """-2019: not enough available margin for the order."""


class ReduceOnlyRejected(BinanceAPIError):
    """-2022: a reduce-only order would not reduce the position."""


class InvalidQuantity(BinanceAPIError):
    """-4003/-4004/-4005/-4023: quantity below zero or minQty, above maxQty, or off the step size."""


class MarginTypeUnchanged(BinanceAPIError):
    """-4046: the margin type is already what was asked (not a failure)."""


class PositionSideMismatch(BinanceAPIError):
    """-4061: the order's position side does not match the account's position mode."""


class MinNotional(BinanceAPIError):
    """-4164: the order's notional is below the symbol's minimum."""


class DuplicateClientOrderId(BinanceAPIError):
    """-4116: ``newClientOrderId`` already used."""


ERROR_TYPES: dict[int, type[BinanceAPIError]] = {
    -1021: InvalidTimestamp,
    -1022: InvalidSignature,
    -1111: BadPrecision,
    -2011: NoSuchOrder,
    -2013: NoSuchOrder,
    -2019: MarginInsufficient,
    -2022: ReduceOnlyRejected,
    -4003: InvalidQuantity,
    -4004: InvalidQuantity,
    -4005: InvalidQuantity,
    -4023: InvalidQuantity,
    -4046: MarginTypeUnchanged,
    -4061: PositionSideMismatch,
    -4116: DuplicateClientOrderId,
    -4164: MinNotional,
}


class RateLimited(BinanceError):
    """HTTP 429 and the wait Binance asked for is longer than we are willing to wait."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class IPBanned(BinanceError):
    """HTTP 418: the IP is banned for ignoring 429s. Never retried."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class ExchangeUnavailable(BinanceError):
    """No usable answer (network error, timeout, HTTP 5xx) after the allowed retries."""


class UnknownOutcome(BinanceError):
    """A non-idempotent request (an order) got no definite answer: it may or may not have executed."""


class MissingCredentials(BinanceError):
    """``BINANCE_API_KEY`` / ``BINANCE_API_SECRET`` are not set."""


def api_error(status: int, payload: Any, method: str, path: str) -> BinanceAPIError:
    """The typed exception for an error payload (``BinanceAPIError`` for unlisted codes)."""
    if isinstance(payload, dict) and "code" in payload:
        code, msg = int(payload["code"]), str(payload.get("msg", ""))
    else:
        code, msg = None, str(payload)[:300]
    kind = BinanceAPIError if code is None else ERROR_TYPES.get(code, BinanceAPIError)
    return kind(status, code, msg, method, path)
