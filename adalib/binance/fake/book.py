"""The local exchange's state: clock, candles, mark price, wallet, one-way position, orders.

Quantities and prices are ``Decimal``. The clock is real time plus ``skew_ms``; moving
it (``set_time``, ``skew_ms``, ``set_mark_price``) lets ``_on_clock`` trigger
conditional orders on the mark price path.

>>> book = Book(mark_price="0.5", balance="1000", leverage=2)
>>> book._fill("BUY", Decimal(1000), Decimal("0.5"))  # realized PnL
Decimal('0')
>>> book.position_amt, book.available_balance()
(Decimal('1000'), Decimal('749.75000'))
"""

from __future__ import annotations

import bisect
import secrets
import threading
import time
from collections import deque
from datetime import datetime
from decimal import Decimal
from typing import Any

import polars as pl

from adalib.binance.fake.faults import Fault, Reject
from adalib.binance.rules import ADAUSDT_ASSUMED_INFO, SymbolRules, to_decimal
from adalib.data.binance import TWELVE_HOURS_MS

EIGHT_HOURS_MS = 8 * 3600 * 1000


def epoch_ms(value: datetime | int) -> int:
    """Epoch milliseconds of a datetime (or an int already in ms).

    >>> from datetime import UTC
    >>> epoch_ms(datetime(2024, 1, 1, tzinfo=UTC))
    1704067200000
    """
    return value if isinstance(value, int) else int(value.timestamp() * 1000)


class Book:
    """State and accounting shared by the endpoint modules (see ``FakeBinance`` for the arguments)."""

    def __init__(
        self,
        candles: pl.DataFrame | None = None,
        *,
        symbol: str = "ADAUSDT",
        api_key: str | None = None,
        api_secret: str | None = None,
        balance: Decimal | str = "10000",
        mark_price: Decimal | str | None = None,
        now: datetime | int | None = None,
        exchange_info: dict[str, Any] | None = None,
        fee_rate: Decimal | str = "0.0005",
        leverage: int = 20,
        margin_type: str = "CROSSED",
        hedge_mode: bool = False,
        funding: pl.DataFrame | None = None,
        funding_rate: Decimal | str = "0.0001",
    ) -> None:
        if candles is None and mark_price is None:
            raise ValueError("FakeBinance needs candles or a mark_price")
        self.symbol = symbol
        self.api_key = api_key or secrets.token_hex(32)
        self.api_secret = api_secret or secrets.token_hex(32)
        info = exchange_info or ADAUSDT_ASSUMED_INFO
        self.symbol_info: dict[str, Any] = dict(info["symbols"][0], symbol=symbol)
        self.rules = SymbolRules.from_exchange_info({"symbols": [self.symbol_info]}, symbol)
        self.quantity_precision = self.symbol_info.get("quantityPrecision")
        self._klines = self._kline_rows(candles)
        self._open_times = [row[0] for row in self._klines]
        self._funding = self._funding_rows(funding, to_decimal(funding_rate))
        self.wallet = to_decimal(balance)
        self.fee_rate = to_decimal(fee_rate)
        self._mark = to_decimal(mark_price) if mark_price is not None else None
        self.leverage, self.margin_type, self.hedge_mode = leverage, margin_type, hedge_mode
        self.multi_assets = False
        self.position_amt, self.entry_price = Decimal(0), Decimal(0)
        self.orders: list[dict[str, Any]] = []  # every accepted order, in the order they came
        self.algo_orders: list[dict[str, Any]] = []
        self.trades: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self._windows: dict[str, deque[float]] = {}  # request and order instants, for the rate headers
        self._hidden_until: dict[int, float] = {}  # orderId / algoId -> monotonic time lookups see it again
        self._lock = threading.RLock()
        self._closing = threading.Event()
        self._skew_ms = 0
        if now is None and self._klines:
            now = self._klines[-1][0] + TWELVE_HOURS_MS + 60_000
        if now is not None:
            self._skew_ms = epoch_ms(now) - int(time.time() * 1000)
        self._seen_ms = self.now_ms()  # candles closed up to here have been checked for triggers

    # -- clock and prices ----------------------------------------------------------------------------

    def now_ms(self) -> int:
        """The exchange's clock in epoch ms."""
        return int(time.time() * 1000) + self._skew_ms

    @property
    def skew_ms(self) -> int:
        """The exchange clock minus real time, in ms; setting it moves the clock (and may trigger stops)."""
        return self._skew_ms

    @skew_ms.setter
    def skew_ms(self, value: int) -> None:
        with self._lock:
            self._skew_ms = int(value)
            self._on_clock()

    def set_time(self, instant: datetime | int) -> None:
        """Move the clock to ``instant`` (it keeps running from there); stops trigger on the way."""
        self.skew_ms = epoch_ms(instant) - int(time.time() * 1000)

    def _on_clock(self) -> None:
        """Hook run whenever the clock or the mark price moves (conditional orders override it)."""
        self._seen_ms = max(self._seen_ms, self.now_ms())

    def closed_candles(self, after_ms: int, until_ms: int) -> list[list[Any]]:
        """Kline rows whose close instant lies in ``(after_ms, until_ms]``."""
        return [r for r in self._klines if after_ms < r[0] + TWELVE_HOURS_MS <= until_ms]

    def mark_price(self) -> Decimal:
        """The set mark price, else the close of the last closed candle at the exchange clock."""
        if self._mark is not None:
            return self._mark
        last = bisect.bisect_right(self._open_times, self.now_ms() - TWELVE_HOURS_MS) - 1  # last closed
        if last < 0:
            raise Reject(-1121, "Invalid symbol.")
        return to_decimal(self._klines[last][4]).quantize(Decimal("0.00000001"))  # premiumIndex: 8 places

    def set_mark_price(self, price: Decimal | str | None) -> None:
        """Fix the mark price (None: follow the candles again); stops trigger on the new mark."""
        with self._lock:
            self._mark = to_decimal(price) if price is not None else None
            self._on_clock()

    def set_position(self, amount: Decimal | str, entry_price: Decimal | str | None = None) -> None:
        """Put a one-way position on the book (entry at the mark price by default)."""
        with self._lock:
            self.position_amt = to_decimal(amount)
            self.entry_price = to_decimal(entry_price) if entry_price is not None else self.mark_price()

    # -- accounting ----------------------------------------------------------------------------------

    def margin_used(self) -> Decimal:
        """Initial margin of the open position (at the entry price)."""
        return abs(self.position_amt) * self.entry_price / self.leverage

    def unrealized(self, mark: Decimal | None = None) -> Decimal:
        """Unrealized PnL of the position at ``mark`` (default: the mark price)."""
        if self.position_amt == 0:
            return Decimal(0)
        return self.position_amt * ((self.mark_price() if mark is None else mark) - self.entry_price)

    def available_balance(self) -> Decimal:
        """Wallet + unrealized PnL - initial margin of the open position."""
        return self.wallet + self.unrealized() - self.margin_used()

    def _fill(self, side: str, qty: Decimal, price: Decimal) -> Decimal:
        """Trade ``qty`` at ``price``, pay the taker fee; returns the realized PnL."""
        signed = qty if side == "BUY" else -qty
        old, realized = self.position_amt, Decimal(0)
        if old == 0 or (old > 0) == (signed > 0):  # opening or adding
            self.entry_price = (abs(old) * self.entry_price + qty * price) / (abs(old) + qty)
            self.position_amt = old + signed
        else:  # reducing, maybe flipping
            closed = min(qty, abs(old))
            realized = closed * (price - self.entry_price) * (1 if old > 0 else -1)
            self.wallet += realized
            self.position_amt = old + signed
            if self.position_amt == 0:
                self.entry_price = Decimal(0)
            elif (self.position_amt > 0) != (old > 0):
                self.entry_price = price
        self.wallet -= self.fee_rate * qty * price
        return realized

    # -- market data -----------------------------------------------------------------------------------

    @staticmethod
    def _kline_rows(candles: pl.DataFrame | None) -> list[list[Any]]:
        """Binance's 12-field kline rows (quote volume, trades and taker volumes derived from the candle)."""
        if candles is None:
            return []
        frame = candles.select(
            pl.col("open_time").dt.epoch("ms"),
            *[pl.col(c).cast(pl.String) for c in ("open", "high", "low", "close", "volume")],
            (pl.col("volume") * pl.col("close")).round(4).cast(pl.String).alias("quote"),
            (pl.col("volume") / 2).round(4).cast(pl.String).alias("taker_base"),
            (pl.col("volume") * pl.col("close") / 2).round(4).cast(pl.String).alias("taker_quote"),
        )
        return [
            [t, o, h, lo, c, v, t + TWELVE_HOURS_MS - 1, q, 1000 + i % 997, tb, tq, "0"]
            for i, (t, o, h, lo, c, v, q, tb, tq) in enumerate(frame.iter_rows())
        ]

    def _funding_rows(self, funding: pl.DataFrame | None, rate: Decimal) -> list[tuple[int, str]]:
        """Funding events (epoch ms, rate text): the given frame, else every 8h over the candles."""
        if funding is not None:
            times = funding["funding_time"]
            ms = times.dt.epoch("ms") if times.dtype.is_temporal() else times
            rates = [f"{to_decimal(r):.8f}" for r in funding["funding_rate"].cast(pl.String)]  # 8 places
            return list(zip(ms.cast(pl.Int64).to_list(), rates, strict=True))
        if not self._klines:
            return []
        first = -(-self._klines[0][0] // EIGHT_HOURS_MS) * EIGHT_HOURS_MS
        last = self._klines[-1][0] + TWELVE_HOURS_MS
        return [(t, f"{rate:.8f}") for t in range(first, last, EIGHT_HOURS_MS)]
