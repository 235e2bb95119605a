"""The klines/funding downloader and the cache, against the local exchange (adalib.binance.fake)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
import requests

from adalib.binance.fake import FakeBinance
from adalib.data import (
    MarketDataError,
    fetch,
    fetch_funding,
    fetch_klines,
    load_candles,
    read_cache,
    synthetic_candles,
)
from adalib.data.binance import KLINES_LIMIT, get_json

START = datetime(2023, 1, 1, tzinfo=UTC)
CANDLES = synthetic_candles(3200, start=START, seed=3)
EIGHT_HOURS_MS = 8 * 3600 * 1000
FUNDING = pl.DataFrame(
    {
        "funding_time": [int(START.timestamp() * 1000) + i * EIGHT_HOURS_MS for i in range(2500)],
        "funding_rate": [1e-4 * (1 + i % 3) for i in range(2500)],
    }
)


@pytest.fixture
def server() -> Iterator[FakeBinance]:
    with FakeBinance(CANDLES, funding=FUNDING) as fake:
        yield fake


def klines_requests(fake: FakeBinance) -> list[dict[str, str]]:
    return [r["params"] for r in fake.requests if r["path"] == "/fapi/v1/klines"]


def now_after(candles: int) -> int:
    """A clock in the middle of candle ``candles``: that candle is still open."""
    return int((START + timedelta(hours=12 * candles + 5)).timestamp() * 1000)


def test_pagination_returns_every_closed_candle(server: FakeBinance) -> None:
    server.set_time(now_after(3100))
    frame = fetch_klines(server.url, "ADAUSDT", start_ms=0, now_ms=now_after(3100))
    assert frame.equals(CANDLES.head(3100))  # candle 3100 is still open: left out
    pages = klines_requests(server)
    assert len(pages) == 3 and [int(p["limit"]) for p in pages] == [KLINES_LIMIT] * 3  # 1500 + 1500 + 100
    assert [int(p["startTime"]) for p in pages[1:]] == [
        int(CANDLES["open_time"].dt.epoch("ms")[i]) for i in (1500, 3000)
    ]


def test_the_exchange_serves_the_open_candle_and_the_fetcher_leaves_it_out(server: FakeBinance) -> None:
    server.set_time(now_after(10))
    rows = get_json(
        requests.Session(),
        f"{server.url}/fapi/v1/klines",
        {"symbol": "ADAUSDT", "interval": "12h", "startTime": 0, "limit": 1500},
    )
    assert len(rows) == 11 and rows[-1][5] == "0"  # the 11th has just opened: nothing traded yet
    assert fetch_klines(server.url, "ADAUSDT", start_ms=0, now_ms=now_after(10)).height == 10


def test_incremental_update_fetches_only_what_is_new(server: FakeBinance, tmp_path: Path) -> None:
    server.set_time(now_after(700))
    fetch(binance_url=server.url, data_dir=tmp_path, now_ms=now_after(700))
    assert read_cache(data_dir=tmp_path).equals(CANDLES.head(700))
    server.requests.clear()
    server.set_time(now_after(900))
    fetch(binance_url=server.url, data_dir=tmp_path, now_ms=now_after(900))
    first = klines_requests(server)[0]
    assert int(first["startTime"]) == int(CANDLES["open_time"].dt.epoch("ms")[700])
    assert read_cache(data_dir=tmp_path).equals(CANDLES.head(900))
    server.requests.clear()
    fetch(binance_url=server.url, data_dir=tmp_path, now_ms=now_after(900))
    assert server.requests == []  # nothing new has closed: no request at all


def test_fetch_respects_end(server: FakeBinance, tmp_path: Path) -> None:
    end = START + timedelta(days=10)
    fetch(binance_url=server.url, data_dir=tmp_path, end=end, now_ms=now_after(1100))
    assert read_cache(data_dir=tmp_path).equals(CANDLES.head(20))


def test_429_with_retry_after_then_success(server: FakeBinance) -> None:
    server.inject("429", "/fapi/v1/klines", "GET", retry_after=7)
    server.inject("429", "/fapi/v1/klines", "GET", retry_after=3)
    waits: list[float] = []
    frame = fetch_klines(server.url, "ADAUSDT", start_ms=0, now_ms=now_after(10), sleep=waits.append)
    assert frame.height == 10
    assert waits == [7.0, 3.0]


def test_5xx_backs_off_then_succeeds(server: FakeBinance) -> None:
    for kind in ("503", "502_after", "503_after"):  # HTTP 503, 502, 503
        server.inject(kind, "/fapi/v1/klines", "GET")
    waits: list[float] = []
    now = now_after(10)
    frame = fetch_klines(server.url, "ADAUSDT", start_ms=0, now_ms=now, sleep=waits.append, backoff=0.5)
    assert frame.height == 10
    assert waits == [0.5, 1.0, 2.0]
    assert [r["status"] for r in server.requests] == [503, 502, 503, 200]


def test_gives_up_and_does_not_hammer(server: FakeBinance) -> None:
    for _ in range(3):
        server.inject("503", "/fapi/v1/klines", "GET")
    with pytest.raises(MarketDataError, match="gave up after 3 attempts; HTTP 503"):
        fetch_klines(server.url, "ADAUSDT", start_ms=0, now_ms=now_after(10), sleep=lambda s: None, retries=2)
    assert len(server.requests) == 3 and server.faults == []
    server.inject("429", "/fapi/v1/klines", "GET", retry_after=7200)
    with pytest.raises(MarketDataError, match="asked to wait 7200s"):
        fetch_klines(server.url, "ADAUSDT", start_ms=0, now_ms=now_after(10), sleep=lambda s: None)
    with pytest.raises(MarketDataError, match="HTTP 400"):  # no symbol: Binance's -1102
        get_json(requests.Session(), f"{server.url}/fapi/v1/klines", {}, sleep=lambda s: None)


def test_funding_history_pages_and_updates(server: FakeBinance, tmp_path: Path) -> None:
    path = fetch_funding(binance_url=server.url, data_dir=tmp_path)
    frame = pl.read_parquet(path)
    assert frame.height == 2500
    pages = [r["params"] for r in server.requests if r["path"] == "/fapi/v1/fundingRate"]
    assert len(pages) == 3  # 1000 + 1000 + 500
    assert frame["funding_time"].is_sorted() and frame["funding_time"].is_unique().all()
    assert frame.schema == pl.Schema(
        {"funding_time": pl.Datetime("ms", "UTC"), "funding_rate": pl.Float64, "mark_price": pl.Float64}
    )
    assert frame["funding_rate"].head(3).to_list() == [0.0001, 0.0002, 0.0003]
    # each event's mark price is the open of the 12h candle that contains it
    assert frame["mark_price"].head(2).to_list() == [round(CANDLES["open"][0], 8)] * 2
    server.requests.clear()
    fetch_funding(binance_url=server.url, data_dir=tmp_path)
    assert len(server.requests) == 1 and pl.read_parquet(path).equals(frame)


def test_auto_uses_cache_then_fetch_then_synthetic(server: FakeBinance, tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="SYNTHETIC DATA"):
        offline = load_candles("auto", binance_url="http://127.0.0.1:9", data_dir=tmp_path)
    assert offline.source == "synthetic" and offline.warning and not any(tmp_path.iterdir())
    fetched = load_candles("binance", binance_url=server.url, data_dir=tmp_path, end="2023-02-01")
    assert fetched.source == "binance" and fetched.warning is None and fetched.frame.height == 62
    cached = load_candles("auto", binance_url="http://127.0.0.1:9", data_dir=tmp_path)
    assert cached.source == "cache" and cached.frame.height >= 1100
