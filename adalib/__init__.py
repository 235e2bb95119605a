"""adalib: research-to-execution kit for ADA/USDT perpetual futures on Binance.

The three notebooks in ``notebooks/`` are thin reports over this package:

>>> from adalib.data import load_candles
>>> data = load_candles("synthetic", end="2021-01-01")
>>> data.frame.columns
['open_time', 'open', 'high', 'low', 'close', 'volume']
"""

__version__ = "0.1.0"
