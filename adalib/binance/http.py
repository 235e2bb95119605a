"""The one HTTP layer for every Binance call: base URLs, and one retry policy.

Every request to Binance (the klines and funding download, the signed client) goes through
``Transport.send``, which applies ``RetryPolicy``:

- HTTP 429: wait what ``Retry-After`` says (a back-off step without it), then retry; a wait
  longer than ``max_wait`` gives up instead of hammering.
- HTTP 418 (the IP is banned for ignoring 429s): stop at once, never retried.
- HTTP 5xx, 408, Binance codes -1007 / -1006 ("execution status unknown"), timeouts and
  connection errors: an idempotent request backs off (``backoff``, doubled each time) and
  retries; a request that can change the account raises ``UnknownOutcome`` at once, so that
  its caller looks the order up before anything is resent.
- at most ``retries`` retries, and at most ``total_wait`` seconds of waiting in all.

>>> policy = RetryPolicy(retries=3, backoff=0.5)
>>> [policy.backoff_wait(n) for n in (1, 2, 3)]
[0.5, 1.0, 2.0]
>>> is_live_host("https://fapi.binance.com"), is_live_host(TESTNET_URL), is_live_host("http://127.0.0.1:1")
(True, False, False)
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from adalib.binance.errors import ExchangeUnavailable, IPBanned, RateLimited, UnknownOutcome

LIVE_URL = "https://fapi.binance.com"
TESTNET_URL = "https://demo-fapi.binance.com"
# Binance's USDT-M test hosts (the demo-trading one and the older futures testnet)
TESTNET_HOSTS = frozenset({"demo-fapi.binance.com", "testnet.binancefuture.com"})
LIVE_DOMAINS = ("binance.com", "binance.me", "binance.us")
UNKNOWN_CODES = (-1007, -1006)  # "timeout waiting for the backend" / "unexpected response": status unknown


def is_live_host(url: str) -> bool:
    """True if ``url`` is on one of Binance's live domains (and not one of its test hosts)."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if host in TESTNET_HOSTS:
        return False
    return any(host == d or host.endswith("." + d) for d in LIVE_DOMAINS)


@dataclass(frozen=True)
class RetryPolicy:
    """How long a request may keep trying (see the module docstring)."""

    retries: int = 3
    backoff: float = 0.5
    max_wait: float = 60.0
    total_wait: float = 120.0

    def backoff_wait(self, failures: int) -> float:
        """The back-off before retry number ``failures`` (1, 2, ...)."""
        return self.backoff * 2 ** (failures - 1)


@dataclass(frozen=True)
class Answer:
    """An HTTP answer that the retry policy hands back: 2xx, or a 4xx the caller interprets."""

    status: int
    payload: Any
    headers: Mapping[str, str]

    @property
    def ok(self) -> bool:
        """A 2xx status."""
        return 200 <= self.status < 300


def scrub(text: str) -> str:
    """Drop query strings (they carry signatures) from an error text."""
    return re.sub(r"\?[^\s'\"()]*", "?…", text)[:300]


def _code(payload: Any) -> int | None:
    if isinstance(payload, dict) and isinstance(payload.get("code"), int):
        return int(payload["code"])
    return None


class Transport:
    """Send requests under one ``RetryPolicy``; ``send`` is the only place that talks HTTP.

    ``send`` takes a ``prepare`` callback that builds ``(url, headers)`` for each attempt (a
    signed request needs a fresh timestamp and signature every time) and reports every
    attempt to ``record(answer_or_None, error_or_None)``, so that the journal has one line each.
    """

    def __init__(
        self,
        *,
        session: requests.Session | None = None,
        timeout: float = 10.0,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.session = session or requests.Session()
        self.timeout = timeout
        self.policy = policy or RetryPolicy()
        self.sleep = sleep

    def send(
        self,
        method: str,
        path: str,
        prepare: Callable[[], tuple[str, dict[str, str]]],
        *,
        idempotent: bool,
        record: Callable[[Answer | None, str | None], None] | None = None,
        retries: int | None = None,
    ) -> Answer:
        """One request under the policy; returns a 2xx or a 4xx ``Answer`` (not 408/418/429)."""
        policy = self.policy
        limit = policy.retries if retries is None else retries
        failures, waited = 0, 0.0
        what = f"{method} {path}"
        while True:
            url, headers = prepare()
            try:
                response = self.session.request(method, url, headers=headers, timeout=self.timeout)
            except requests.RequestException as exc:
                error = f"{type(exc).__name__}: {scrub(str(exc))}"
                if record:
                    record(None, error)
                if not idempotent:
                    raise UnknownOutcome(
                        f"{what}: no answer ({type(exc).__name__}); outcome unknown"
                    ) from None
                last = error
                wait = None
            else:
                try:
                    payload = response.json()
                except ValueError:
                    payload = response.text[:300]
                answer = Answer(response.status_code, payload, response.headers)
                if record:
                    record(answer, None)
                status, code = answer.status, _code(payload)
                retry_after = response.headers.get("Retry-After")
                last = f"HTTP {status}: {scrub(str(payload))[:200]}"
                if status == 418:
                    raise IPBanned(
                        f"{what}: HTTP 418, the IP is banned (Retry-After {retry_after}s); stopping",
                        float(retry_after) if retry_after else None,
                    )
                if status == 429:
                    wait = float(retry_after) if retry_after else policy.backoff_wait(failures + 1)
                    if wait > policy.max_wait:
                        raise RateLimited(
                            f"{what}: HTTP 429, asked to wait {wait:.0f}s (> {policy.max_wait:.0f}s)", wait
                        )
                elif status >= 500 or status == 408 or code in UNKNOWN_CODES:
                    if not idempotent:
                        detail = payload.get("msg") if isinstance(payload, dict) else payload
                        raise UnknownOutcome(
                            f"{what}: HTTP {status}" + (f" code {code}" if code else "") + f" ({detail}); "
                            "outcome unknown"
                        )
                    wait = None
                else:
                    return answer
            failures += 1
            if failures > limit:
                message = f"{what}: gave up after {failures} attempts; {last}"
                if last.startswith("HTTP 429"):
                    raise RateLimited(message, wait)
                raise ExchangeUnavailable(message)
            wait = policy.backoff_wait(failures) if wait is None else wait
            if waited + wait > policy.total_wait:
                raise ExchangeUnavailable(
                    f"{what}: giving up, {waited + wait:.0f}s of waiting would exceed the "
                    f"{policy.total_wait:.0f}s bound; {last}"
                )
            waited += wait
            self.sleep(wait)
