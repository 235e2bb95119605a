"""Public Binance USDT-M market data: klines and funding rates, paginated, with retries.

Usage (needs the network)::

    from adalib.data.binance import fetch_klines
    candles = fetch_klines("https://fapi.binance.com", "ADAUSDT", start_ms=1_700_000_000_000)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import polars as pl
import requests
from tqdm.auto import tqdm

from adalib.binance.errors import BinanceError
from adalib.binance.http import RetryPolicy, Transport
from adalib.data.schema import CANDLE_SCHEMA, TIME

TWELVE_HOURS_MS = 12 * 3600 * 1000
KLINES_LIMIT = 1500
FUNDING_LIMIT = 1000


def last_closed_open_ms(now_ms: int, interval_ms: int = TWELVE_HOURS_MS) -> int:
    """The ``open_time`` (epoch ms) of the last candle that has closed at ``now_ms``.

    >>> last_closed_open_ms(13 * 3600 * 1000)  # 13:00 on day 0: the 00:00 candle closed at 12:00
    0
    """
    return (now_ms // interval_ms - 1) * interval_ms


class MarketDataError(RuntimeError):
    """Binance market data could not be fetched (after retries)."""


def get_json(
    session: requests.Session,
    url: str,
    params: dict[str, Any],
    *,
    retries: int = 5,
    backoff: float = 1.0,
    max_wait: float = 120.0,
    total_wait: float = 600.0,
    timeout: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """GET ``url`` and decode JSON through the one Binance HTTP layer (``adalib.binance.http``):
    429 waits ``Retry-After`` (a wait longer than ``max_wait`` raises), 418 stops at once, 5xx and
    network errors back off exponentially from ``backoff`` seconds, ``total_wait`` bounds it all."""
    query = urlencode(params)
    target = f"{url}?{query}" if query else url
    transport = Transport(
        session=session,
        timeout=timeout,
        policy=RetryPolicy(retries=retries, backoff=backoff, max_wait=max_wait, total_wait=total_wait),
        sleep=sleep,
    )
    try:
        answer = transport.send("GET", url, lambda: (target, {}), idempotent=True)
    except BinanceError as exc:
        raise MarketDataError(f"{exc} ({params})") from None
    if not answer.ok:
        raise MarketDataError(f"GET {url} {params}: HTTP {answer.status}: {str(answer.payload)[:200]}")
    return answer.payload


def klines_frame(rows: list[list[Any]]) -> pl.DataFrame:
    """Turn Binance kline arrays into a candle frame."""
    if not rows:
        return pl.DataFrame(schema=CANDLE_SCHEMA)
    frame = pl.DataFrame(
        {
            "open_time": [int(r[0]) for r in rows],
            **{name: [float(r[i]) for r in rows] for i, name in enumerate(CANDLE_SCHEMA) if i > 0},
        }
    )
    return frame.with_columns(
        pl.from_epoch("open_time", time_unit="ms").dt.replace_time_zone("UTC").cast(TIME)
    )


def fetch_klines(
    binance_url: str,
    symbol: str,
    *,
    start_ms: int,
    end_ms: int | None = None,
    interval: str = "12h",
    interval_ms: int = TWELVE_HOURS_MS,
    session: requests.Session | None = None,
    now_ms: int | None = None,
    **retry: Any,
) -> pl.DataFrame:
    """Closed klines with ``start_ms <= open_time < end_ms`` from ``GET /fapi/v1/klines``.

    Pages of up to 1500 by ``startTime``; the candle still open at ``now_ms`` is left out.
    """
    session = session or requests.Session()
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    last_closed = last_closed_open_ms(now_ms, interval_ms)
    stop = last_closed + 1 if end_ms is None else min(end_ms, last_closed + 1)
    rows: list[list[Any]] = []
    total = max(0, -(-(stop - start_ms) // interval_ms))
    cursor = start_ms
    with tqdm(total=total, desc=f"{symbol} {interval} klines", unit="candle", disable=None) as bar:
        while cursor < stop:
            params = {"symbol": symbol, "interval": interval, "startTime": cursor, "endTime": stop - 1,
                      "limit": KLINES_LIMIT}  # fmt: skip
            page = get_json(session, f"{binance_url.rstrip('/')}/fapi/v1/klines", params, **retry)
            page = [row for row in page if start_ms <= int(row[0]) < stop]
            if not page:
                break
            rows.extend(page)
            bar.update(len(page))
            cursor = int(page[-1][0]) + interval_ms
    return klines_frame(rows).unique("open_time", keep="last").sort("open_time")


def fetch_funding_rates(
    binance_url: str,
    symbol: str,
    *,
    start_ms: int,
    end_ms: int | None = None,
    session: requests.Session | None = None,
    **retry: Any,
) -> pl.DataFrame:
    """Funding history (``GET /fapi/v1/fundingRate``): ``funding_time``, ``funding_rate``, ``mark_price``."""
    session = session or requests.Session()
    rows: list[dict[str, Any]] = []
    cursor = start_ms
    with tqdm(desc=f"{symbol} funding", unit="event", disable=None) as bar:
        while True:
            params: dict[str, Any] = {"symbol": symbol, "startTime": cursor, "limit": FUNDING_LIMIT}
            if end_ms is not None:
                params["endTime"] = end_ms - 1
            page = get_json(session, f"{binance_url.rstrip('/')}/fapi/v1/fundingRate", params, **retry)
            if not page:
                break
            rows.extend(page)
            bar.update(len(page))
            if len(page) < FUNDING_LIMIT:
                break
            cursor = int(page[-1]["fundingTime"]) + 1
    schema = pl.Schema({"funding_time": TIME, "funding_rate": pl.Float64(), "mark_price": pl.Float64()})
    if not rows:
        return pl.DataFrame(schema=schema)
    frame = pl.DataFrame(
        {
            "funding_time": [int(r["fundingTime"]) for r in rows],
            "funding_rate": [float(r["fundingRate"]) for r in rows],
            "mark_price": [
                float(r["markPrice"]) if r.get("markPrice") not in (None, "") else None for r in rows
            ],
        }
    )
    frame = frame.with_columns(pl.from_epoch("funding_time", time_unit="ms").dt.replace_time_zone("UTC"))
    return frame.cast(schema).unique("funding_time", keep="last").sort("funding_time")
