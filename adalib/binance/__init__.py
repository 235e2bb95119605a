"""Binance USDT-M futures: a signed REST client, symbol rules, the request journal, a local fake.

>>> from adalib.binance import BinanceClient, FakeBinance
>>> with FakeBinance(mark_price="0.5") as fake:
...     BinanceClient(fake.url).mark_price("ADAUSDT")
Decimal('0.5')
"""

from adalib.binance.client import (
    API_KEY_ENV,
    API_SECRET_ENV,
    LIVE_URL,
    TESTNET_URL,
    BinanceClient,
    encode_params,
    sign,
)
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
from adalib.binance.journal import Journal, journal_frame
from adalib.binance.rules import ADAUSDT_ASSUMED_INFO, SymbolRules, decimal_str

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
    "SymbolRules",
    "UnknownOutcome",
    "decimal_str",
    "encode_params",
    "journal_frame",
    "sign",
]
