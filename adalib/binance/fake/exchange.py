"""``FakeBinance``: the local Binance USDT-M exchange, in-process.

>>> from adalib.binance.client import BinanceClient
>>> with FakeBinance(mark_price="0.5") as fake:
...     client = BinanceClient(fake.url, api_key=fake.api_key, api_secret=fake.api_secret)
...     order = client.new_market_order("ADAUSDT", "BUY", Decimal(100), client_order_id="demo-1")
...     order["status"], order["executedQty"], client.position_amt("ADAUSDT")
('FILLED', '100', Decimal('100'))
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from adalib.binance.client import API_KEY_ENV, API_SECRET_ENV
from adalib.binance.fake.faults import Fault
from adalib.binance.fake.server import Server

__all__ = ["Decimal", "FakeBinance"]


class FakeBinance(Server):
    """A simulated Binance USDT-M futures REST API on 127.0.0.1; use it as a context manager.

    It checks requests as Binance does (API key, timestamp inside ``recvWindow`` against
    its own clock, HMAC signature over query string + body, mandatory parameters,
    precision and step size, minimum notional, reduce-only against the open position,
    available margin), fills MARKET orders at the mark price, keeps the one-way position,
    wallet, leverage, margin type, position and multi-assets modes, serves klines and
    funding rates from candles, holds conditional (algo) orders that trigger on the mark
    price, and injects faults on demand (``inject``).

    ``candles`` (a candle frame) feeds ``/fapi/v1/klines`` and the mark price (the close
    of the last closed candle at the exchange clock) unless ``mark_price`` fixes it.
    ``now`` sets the clock (default: one minute after the close of the last candle, or
    real time without candles). ``funding`` (``funding_time``, ``funding_rate``) feeds
    ``/fapi/v1/fundingRate``, else ``funding_rate`` every 8h over the candles. Keys are
    random unless given.
    """

    def __enter__(self) -> FakeBinance:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"FakeBinance(symbol={self.symbol!r}, running={self._server is not None})"

    @contextmanager
    def credentials_env(self) -> Iterator[None]:
        """Set ``BINANCE_API_KEY`` / ``BINANCE_API_SECRET`` to this exchange's keys inside the block."""
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

    def inject(
        self,
        kind: str,
        path: str = "/fapi/v1/order",
        method: str = "POST",
        *,
        retry_after: int = 1,
        delay: float = 1.0,
        fraction: float = 0.5,
    ) -> None:
        """Queue a fault for the next ``method`` request to ``path`` (kinds: ``FAULT_HELP``).

        >>> with FakeBinance(mark_price="0.5") as fake:
        ...     fake.inject("partial", fraction=0.25)
        ...     fake.faults[0].kind, fake.faults[0].fraction
        ('partial', 0.25)
        """
        with self._lock:
            self.faults.append(Fault(kind, method, path, retry_after, delay, fraction))

    def orders_with_id(self, client_order_id: str) -> list[dict[str, Any]]:
        """Every order accepted under ``client_order_id`` (a duplicate shows as two; EXPIRED ones too)."""
        return [o for o in self.orders if o["clientOrderId"] == client_order_id]

    def signed_requests(self) -> list[dict[str, Any]]:
        """Requests that carried a signature or an API key."""
        return [r for r in self.requests if r["signed"] or r["api_key"]]
