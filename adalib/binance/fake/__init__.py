"""A local Binance USDT-M futures exchange for tests, demos and any Binance client offline.

In-process: ``with FakeBinance(candles) as fake: ...`` (``fake.url``, ``fake.api_key``).
Out of process: ``python -m adalib.binance.fake --port 0`` (see ``--help``).

>>> from adalib.binance.fake import FAULTS, FakeBinance
>>> "408_after" in FAULTS and FakeBinance(mark_price="1").symbol
'ADAUSDT'
"""

from adalib.binance.fake.exchange import FakeBinance
from adalib.binance.fake.faults import FAULT_HELP, FAULTS, Fault, Reject
from adalib.binance.fake.server import CONTROL_HELP

__all__ = ["CONTROL_HELP", "FAULTS", "FAULT_HELP", "FakeBinance", "Fault", "Reject"]
