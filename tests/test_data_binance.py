"""The klines/funding downloader and the cache, against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import polars as pl
import pytest

from adalib.data import (
    MarketDataError,
    fetch,
    fetch_funding,
    fetch_klines,
    load_candles,
    read_cache,
    synthetic_candles,
)
from adalib.data.binance import TWELVE_HOURS_MS, get_json

START = datetime(2023, 1, 1, tzinfo=UTC)


class MarketServer(ThreadingHTTPServer):
    """Serves /fapi/v1/klines and /fapi/v1/fundingRate from frames; faults queued per request."""

    def __init__(self, candles: pl.DataFrame, page_cap: int = 500) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.candles = candles
        self.page_cap = page_cap
        self.faults: list[tuple[int, dict[str, str]]] = []
        self.requests: list[tuple[str, dict[str, str]]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: MarketServer

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        url = urlparse(self.path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.server.requests.append((url.path, params))
        if self.server.faults:
            status, headers = self.server.faults.pop(0)
            return self.reply(status, {"code": -1003, "msg": "fault"}, headers)
        if url.path == "/fapi/v1/klines":
            return self.reply(200, self.klines(params))
        if url.path == "/fapi/v1/fundingRate":
            return self.reply(200, self.funding(params))
        return self.reply(404, {"code": -1, "msg": "not found"})

    def klines(self, params: dict[str, str]) -> list[list[object]]:
        assert params["interval"] == "12h" and params["symbol"] == "ADAUSDT"
        limit = min(int(params.get("limit", 500)), 1500, self.server.page_cap)
        ms = pl.col("open_time").dt.epoch("ms")
        rows = self.server.candles.filter(ms >= int(params["startTime"]))
        if "endTime" in params:
            rows = rows.filter(ms <= int(params["endTime"]))
        opens = [int(r[0].timestamp() * 1000) for r in rows.head(limit).iter_rows()]
        return [
            [ms, *(str(v) for v in r[1:]), ms + TWELVE_HOURS_MS - 1]
            for ms, r in zip(opens, rows.head(limit).iter_rows(), strict=True)
        ]

    def funding(self, params: dict[str, str]) -> list[dict[str, object]]:
        times = [int(START.timestamp() * 1000) + i * 8 * 3600 * 1000 for i in range(2500)]
        rows = [
            {
                "symbol": "ADAUSDT",
                "fundingTime": t,
                "fundingRate": f"{1e-4 * (1 + i % 3):.8f}",
                "markPrice": "0.3",
            }
            for i, t in enumerate(times)
            if t >= int(params["startTime"])
        ]
        return rows[: min(int(params.get("limit", 100)), 1000)]

    def reply(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server() -> Iterator[MarketServer]:
    srv = MarketServer(synthetic_candles(1200, start=START, seed=3))
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def now_after(candles: int) -> int:
    """A clock in the middle of candle ``candles``: that candle is still open."""
    return int((START + timedelta(hours=12 * candles + 5)).timestamp() * 1000)


def test_pagination_returns_every_closed_candle(server: MarketServer) -> None:
    frame = fetch_klines(server.url, "ADAUSDT", start_ms=0, now_ms=now_after(1100))
    assert frame.equals(server.candles.head(1100))  # candle 1100 is still open: left out
    pages = [p for path, p in server.requests if path == "/fapi/v1/klines"]
    assert len(pages) == 3  # 500 + 500 + 100 at the server's page cap
    assert [int(p["startTime"]) for p in pages[1:]] == [
        int(server.candles["open_time"].dt.epoch("ms")[i]) for i in (500, 1000)
    ]


def test_incremental_update_fetches_only_what_is_new(server: MarketServer, tmp_path: Path) -> None:
    fetch(binance_url=server.url, data_dir=tmp_path, now_ms=now_after(700))
    assert read_cache(data_dir=tmp_path).equals(server.candles.head(700))
    server.requests.clear()
    fetch(binance_url=server.url, data_dir=tmp_path, now_ms=now_after(900))
    first = server.requests[0][1]
    assert int(first["startTime"]) == int(server.candles["open_time"].dt.epoch("ms")[700])
    assert read_cache(data_dir=tmp_path).equals(server.candles.head(900))
    server.requests.clear()
    fetch(binance_url=server.url, data_dir=tmp_path, now_ms=now_after(900))
    assert server.requests == []  # nothing new has closed: no request at all


def test_fetch_respects_end(server: MarketServer, tmp_path: Path) -> None:
    end = START + timedelta(days=10)
    fetch(binance_url=server.url, data_dir=tmp_path, end=end, now_ms=now_after(1100))
    assert read_cache(data_dir=tmp_path).equals(server.candles.head(20))


def test_429_with_retry_after_then_success(server: MarketServer) -> None:
    server.faults = [(429, {"Retry-After": "7"}), (429, {"Retry-After": "3"})]
    waits: list[float] = []
    frame = fetch_klines(server.url, "ADAUSDT", start_ms=0, now_ms=now_after(10), sleep=waits.append)
    assert frame.height == 10
    assert waits == [7.0, 3.0]


def test_5xx_backs_off_then_succeeds(server: MarketServer) -> None:
    server.faults = [(503, {}), (500, {}), (502, {})]
    waits: list[float] = []
    now = now_after(10)
    frame = fetch_klines(server.url, "ADAUSDT", start_ms=0, now_ms=now, sleep=waits.append, backoff=0.5)
    assert frame.height == 10
    assert waits == [0.5, 1.0, 2.0]


def test_gives_up_and_does_not_hammer(server: MarketServer) -> None:
    server.faults = [(503, {})] * 10
    with pytest.raises(MarketDataError, match="gave up after 3 attempts; HTTP 503"):
        fetch_klines(server.url, "ADAUSDT", start_ms=0, now_ms=now_after(10), sleep=lambda s: None, retries=2)
    assert len(server.requests) == 3
    server.faults = [(429, {"Retry-After": "7200"})]
    with pytest.raises(MarketDataError, match="asked to wait 7200s"):
        fetch_klines(server.url, "ADAUSDT", start_ms=0, now_ms=now_after(10), sleep=lambda s: None)
    server.faults = [
        (418, {"Retry-After": "3"})
    ]  # banned: one HTTP layer for all Binance calls stops at once
    with pytest.raises(MarketDataError, match="HTTP 418, the IP is banned"):
        fetch_klines(server.url, "ADAUSDT", start_ms=0, now_ms=now_after(10), sleep=lambda s: None)
    server.faults = [(400, {})]
    with pytest.raises(MarketDataError, match="HTTP 400"):
        get_json(__import__("requests").Session(), f"{server.url}/fapi/v1/klines", {}, sleep=lambda s: None)


def test_funding_history_pages_and_updates(server: MarketServer, tmp_path: Path) -> None:
    path = fetch_funding(binance_url=server.url, data_dir=tmp_path)
    frame = pl.read_parquet(path)
    assert frame.height == 2500
    assert frame["funding_time"].is_sorted() and frame["funding_time"].is_unique().all()
    assert frame.schema == pl.Schema(
        {"funding_time": pl.Datetime("ms", "UTC"), "funding_rate": pl.Float64, "mark_price": pl.Float64}
    )
    assert frame["funding_rate"].head(3).to_list() == [0.0001, 0.0002, 0.0003]
    server.requests.clear()
    fetch_funding(binance_url=server.url, data_dir=tmp_path)
    assert len(server.requests) == 1 and pl.read_parquet(path).equals(frame)


def test_auto_uses_cache_then_fetch_then_synthetic(server: MarketServer, tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="SYNTHETIC DATA"):
        offline = load_candles("auto", binance_url="http://127.0.0.1:9", data_dir=tmp_path)
    assert offline.source == "synthetic" and offline.warning and not any(tmp_path.iterdir())
    fetched = load_candles("binance", binance_url=server.url, data_dir=tmp_path, end="2023-02-01")
    assert fetched.source == "binance" and fetched.warning is None and fetched.frame.height == 62
    cached = load_candles("auto", binance_url="http://127.0.0.1:9", data_dir=tmp_path)
    assert cached.source == "cache" and cached.frame.height >= 1100
