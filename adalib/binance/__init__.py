"""Binance USDT-M futures: one HTTP layer, a signed REST client, symbol rules, the request
journal, and a local exchange for tests and demos. Names load lazily, so that
``adalib.data`` can use the HTTP layer without importing the local exchange.

>>> from adalib.binance import BinanceClient, FakeBinance
>>> with FakeBinance(mark_price="0.5") as fake:
...     BinanceClient(fake.url).mark_price("ADAUSDT")
Decimal('0.5')
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "API_KEY_ENV": "adalib.binance.client",
    "API_SECRET_ENV": "adalib.binance.client",
    "LIVE_URL": "adalib.binance.http",
    "TESTNET_URL": "adalib.binance.http",
    "RetryPolicy": "adalib.binance.http",
    "Transport": "adalib.binance.http",
    "is_live_host": "adalib.binance.http",
    "BinanceClient": "adalib.binance.client",
    "encode_params": "adalib.binance.client",
    "sign": "adalib.binance.client",
    "BinanceAPIError": "adalib.binance.errors",
    "BinanceError": "adalib.binance.errors",
    "ExchangeUnavailable": "adalib.binance.errors",
    "IPBanned": "adalib.binance.errors",
    "MissingCredentials": "adalib.binance.errors",
    "RateLimited": "adalib.binance.errors",
    "UnknownOutcome": "adalib.binance.errors",
    "FakeBinance": "adalib.binance.fake",
    "Journal": "adalib.binance.journal",
    "journal_frame": "adalib.binance.journal",
    "ADAUSDT_ASSUMED_INFO": "adalib.binance.rules",
    "SymbolRules": "adalib.binance.rules",
    "decimal_str": "adalib.binance.rules",
}

__all__ = [
    "ADAUSDT_ASSUMED_INFO",
    "API_KEY_ENV",
    "API_SECRET_ENV",
    "LIVE_URL",
    "TESTNET_URL",
    "BinanceAPIError",
    "BinanceClient",
    "BinanceError",
    "ExchangeUnavailable",
    "FakeBinance",
    "IPBanned",
    "Journal",
    "MissingCredentials",
    "RateLimited",
    "RetryPolicy",
    "SymbolRules",
    "Transport",
    "UnknownOutcome",
    "decimal_str",
    "encode_params",
    "is_live_host",
    "journal_frame",
    "sign",
]

if TYPE_CHECKING:
    from adalib.binance.client import API_KEY_ENV, API_SECRET_ENV, BinanceClient, encode_params, sign
    from adalib.binance.errors import (
        BinanceAPIError,
        BinanceError,
        ExchangeUnavailable,
        IPBanned,
        MissingCredentials,
        RateLimited,
        UnknownOutcome,
    )
    from adalib.binance.fake import FakeBinance
    from adalib.binance.http import LIVE_URL, TESTNET_URL, RetryPolicy, Transport, is_live_host
    from adalib.binance.journal import Journal, journal_frame
    from adalib.binance.rules import ADAUSDT_ASSUMED_INFO, SymbolRules, decimal_str


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'adalib.binance' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
