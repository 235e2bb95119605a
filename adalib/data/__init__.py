"""Data layer: 12h candle frames from the cache, Binance, a file or a synthetic series.

>>> from adalib.data import load_candles
>>> candles = load_candles("synthetic", end="2020-01-03")
>>> candles.metadata()["n_candles"]
4
"""

from adalib.data.binance import MarketDataError, fetch_funding_rates, fetch_klines
from adalib.data.cache import cache_path, fetch, fetch_funding, funding_cache_path, import_file, read_cache
from adalib.data.files import read_candle_file
from adalib.data.load import SYNTHETIC_WARNING, load_candles
from adalib.data.resample import to_12h
from adalib.data.schema import CANDLE_SCHEMA, CandleDataError, Candles, data_sha256, validate_candles
from adalib.data.synthetic import synthetic_candles

__all__ = [
    "CANDLE_SCHEMA",
    "SYNTHETIC_WARNING",
    "CandleDataError",
    "Candles",
    "MarketDataError",
    "cache_path",
    "data_sha256",
    "fetch",
    "fetch_funding",
    "fetch_funding_rates",
    "fetch_klines",
    "funding_cache_path",
    "import_file",
    "load_candles",
    "read_cache",
    "read_candle_file",
    "synthetic_candles",
    "to_12h",
    "validate_candles",
]
