"""Helpers for the local-exchange tests: raw signed requests, and the command-line server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests

from adalib.binance.client import sign
from adalib.binance.fake import FakeBinance
from adalib.binance.fake.__main__ import DOC_API_KEY, DOC_API_SECRET
from adalib.data import synthetic_candles

REPO = Path(__file__).resolve().parents[1]
BUY_100 = {
    "symbol": "ADAUSDT",
    "side": "BUY",
    "type": "MARKET",
    "quantity": "100",
    "newOrderRespType": "RESULT",
}


class Raw:
    """Signed requests straight to an exchange URL: the answer's status, headers and JSON, unparsed."""

    def __init__(self, url: str, key: str, secret: str, timeout: float = 5.0) -> None:
        self.url, self.key, self.secret, self.timeout = url, key, secret, timeout

    @classmethod
    def of(cls, fake: FakeBinance, timeout: float = 5.0) -> Raw:
        return cls(fake.url, fake.api_key, fake.api_secret, timeout)

    def server_ms(self) -> int:
        return int(requests.get(f"{self.url}/fapi/v1/time", timeout=self.timeout).json()["serverTime"])

    def call(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        signed: bool = True,
        timeout: float | None = None,
    ) -> requests.Response:
        query = dict(params or {})
        if signed:
            query["timestamp"] = self.server_ms()
            text = urlencode(query)
            text += "&signature=" + sign(self.secret, text)
        else:
            text = urlencode(query)
        return requests.request(
            method,
            f"{self.url}{path}?{text}",
            headers={"X-MBX-APIKEY": self.key},
            timeout=self.timeout if timeout is None else timeout,
        )

    def ok(self, method: str, path: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        answer = self.call(method, path, params, **kw)
        assert answer.status_code == 200, (answer.status_code, answer.text)
        return answer.json()

    def code(self, method: str, path: str, params: dict[str, Any] | None = None, **kw: Any) -> int:
        answer = self.call(method, path, params, **kw)
        assert answer.status_code != 200, answer.text
        return int(answer.json()["code"])


@contextmanager
def cli_exchange(*args: str, timeout: float = 30.0) -> Iterator[str]:
    """``python -m adalib.binance.fake --port 0 ...`` in a subprocess: yields its URL; SIGTERM at the end."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-m", "adalib.binance.fake", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout
        line = proc.stdout.readline()
        assert time.monotonic() < deadline and line.startswith("listening on http://127.0.0.1:"), line
        yield line.split()[-1]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cli_raw(url: str, timeout: float = 5.0) -> Raw:
    """A ``Raw`` with the documented example keys the command-line exchange accepts by default."""
    return Raw(url, DOC_API_KEY, DOC_API_SECRET, timeout)


class Control:
    """Drive the exchange the tests talk to, in-process or through ``/_fake/``: faults, position, mark."""

    def __init__(self, fake: FakeBinance | None = None, url: str | None = None) -> None:
        self.fake, self.url = fake, url

    def _post(self, name: str, **data: Any) -> dict[str, Any]:
        answer = requests.post(f"{self.url}/_fake/{name}", data=data, timeout=5)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def fault(self, kind: str, path: str = "/fapi/v1/order", method: str = "POST", delay: float = 1) -> None:
        if self.fake is not None:
            self.fake.inject(kind, path, method, delay=delay)
        else:
            self._post("fault", kind=kind, path=path, method=method, delay=delay)

    def position(self, amount: str) -> None:
        if self.fake is not None:
            self.fake.set_position(amount)
        else:
            self._post("position", amount=amount)

    def mark(self, price: str) -> None:
        if self.fake is not None:
            self.fake.set_mark_price(price)
        else:
            self._post("mark", price=price)

    def orders(self) -> list[dict[str, Any]]:
        if self.fake is not None:
            return list(self.fake.orders)
        return requests.get(f"{self.url}/_fake/orders", timeout=5).json()


@dataclass
class Venue:
    """An exchange to point a real client at: URL, keys, and its controls."""

    kind: str
    url: str
    key: str
    secret: str
    control: Control


@contextmanager
def venue(kind: str, folder: Path) -> Iterator[Venue]:
    """The command-line exchange (``kind="cli"``) or the in-process one, on 200 candles, mark price 0.5."""
    candles = synthetic_candles(200, seed=7)
    if kind == "cli":
        path = folder / "candles.parquet"
        candles.write_parquet(path)
        with cli_exchange("--candles", str(path), "--mark-price", "0.5") as url:
            yield Venue(kind, url, DOC_API_KEY, DOC_API_SECRET, Control(url=url))
    else:
        with FakeBinance(candles, mark_price="0.5") as fake:
            yield Venue(kind, fake.url, fake.api_key, fake.api_secret, Control(fake=fake))
