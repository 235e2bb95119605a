"""The market side of a run: clock, last closed candles, symbol rules and mark price.

Testnet and live need all of them from the exchange; a dry run that cannot reach it goes on
offline with announced assumptions (CONTRACT.md section 4: ``data_path=None`` falls back to
``"auto"`` and says so).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import polars as pl

from adalib.binance.client import BinanceClient
from adalib.binance.errors import BinanceAPIError, ExchangeUnavailable
from adalib.binance.rules import ADAUSDT_ASSUMED_INFO, SymbolRules, to_decimal
from adalib.data import Candles, load_candles, validate_candles
from adalib.data.binance import TWELVE_HOURS_MS, klines_frame, last_closed_open_ms
from adalib.execution.decision import Signal
from adalib.execution.params import ExecutionParams, ExecutionRefused
from adalib.util.timefmt import iso_z, parse_utc, utc_literal

KLINES_HISTORY = 200  # closed 12h candles fetched for the live signal (the AR model needs lags + 1)


def fetch_candles(
    client: BinanceClient, symbol: str, now_ms: int, start: str | None, end: str | None
) -> Candles:
    """The last closed 12h candles from ``{base_url}/fapi/v1/klines`` (the candle still open is dropped)."""
    end_at = parse_utc(end)
    stop = None if end_at is None else min(now_ms, int(end_at.timestamp() * 1000))
    frame = klines_frame(client.klines(symbol, "12h", limit=KLINES_HISTORY, end_ms=stop))
    frame = frame.filter((pl.col("open_time").dt.epoch("ms") + TWELVE_HOURS_MS) <= now_ms)
    start_at = parse_utc(start)
    if start_at is not None:
        frame = frame.filter(pl.col("open_time") >= utc_literal(start_at))
    validate_candles(frame, f"{client.base_url}/fapi/v1/klines")
    return Candles(frame, "binance")


class MarketView:
    """What one run reads before deciding: the exchange clock, candles, symbol rules and mark price,
    with the dry run's offline fall-backs announced as notes."""

    def __init__(self, params: ExecutionParams, client: BinanceClient, out: Callable[[str], None]) -> None:
        self.params, self.client, self.out = params, client, out
        self.notes: list[str] = []
        self.assumed: list[str] = []
        self.trading = params.mode != "dry-run"

    def note(self, text: str) -> None:
        self.notes.append(text)
        self.out(f"note: {text}")

    def exchange_time(self) -> tuple[int, bool]:
        """(exchange clock in ms, offline?). Only a dry run may go on without the exchange."""
        try:
            return self.client.server_time(retries=None if self.trading else 0), False
        except ExchangeUnavailable:
            if self.trading:
                raise
            self.note(f"Binance ({self.params.url()}) is unreachable: the dry run continues offline")
            return int(time.time() * 1000), True

    def candles(self, now_ms: int, offline: bool) -> Candles:
        p = self.params
        if not offline:
            try:
                return fetch_candles(self.client, p.symbol, now_ms, p.start, p.end)
            except ExchangeUnavailable:
                if self.trading:
                    raise
        self.note("data_path=None needs /fapi/v1/klines: falling back to data_path='auto'")
        return load_candles("auto", symbol=p.symbol, binance_url=p.url(), start=p.start, end=p.end)

    def check_fresh(self, signal: Signal, now_ms: int) -> None:
        """Testnet and live trade only the last closed candle; a dry run says when it is older."""
        last_closed = last_closed_open_ms(now_ms)
        if int(signal.open_time.timestamp() * 1000) == last_closed:
            return
        if self.trading:
            raise ExecutionRefused(
                f"the signal is on candle {iso_z(signal.open_time)} but the last closed candle is "
                f"{iso_z(datetime.fromtimestamp(last_closed / 1000, UTC))}: refusing to trade on stale data "
                "(data_path=None fetches fresh klines)"
            )
        self.note(
            f"the data ends before the last closed candle: this dry run decides on {iso_z(signal.open_time)}"
        )

    def market(self, candles: Candles, offline: bool) -> tuple[SymbolRules, Decimal]:
        """Symbol rules and mark price; a dry run without Binance uses announced assumptions."""
        p = self.params
        if not offline:
            try:
                return self.client.symbol_rules(p.symbol), self.client.mark_price(p.symbol)
            except (ExchangeUnavailable, BinanceAPIError):
                if self.trading:
                    raise
        if p.symbol != "ADAUSDT":
            raise ExecutionRefused(
                f"exchangeInfo unreachable and no assumed rules for {p.symbol} (only ADAUSDT)"
            )
        close = candles.frame["close"][-1]
        self.assumed += [
            "ADAUSDT filters as listed in 2025 (stepSize 1, minQty 1, tickSize 0.0001, min notional 5)",
            f"mark price = the last close, {close}",
        ]
        self.note("exchangeInfo / premiumIndex unreachable; assuming " + "; ".join(self.assumed))
        return SymbolRules.from_exchange_info(ADAUSDT_ASSUMED_INFO, "ADAUSDT"), to_decimal(close)
