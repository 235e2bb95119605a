"""The execution parameters (CONTRACT.md section 4) and their validation, done before any work.

>>> ExecutionParams(leverage=2, dry_run_balance=300.0).validate()
>>> ExecutionParams(leverage=0).validate()
Traceback (most recent call last):
...
ValueError: parameter leverage=0: expected an integer in 1..125
>>> ExecutionParams(mode="testnet", base_url="https://fapi.binance.com").validate()
Traceback (most recent call last):
...
ValueError: parameter base_url='https://fapi.binance.com': mode='testnet' refuses Binance's live hosts \
(use https://demo-fapi.binance.com, or mode='live' with confirm_live=True)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from adalib.binance.http import LIVE_URL, TESTNET_URL, is_live_host
from adalib.util.paths import resolve_existing, resolve_output
from adalib.util.timefmt import parse_utc

MODES = ("dry-run", "testnet", "live")
MARGIN_TYPES = ("ISOLATED", "CROSSED")
SYMBOL = re.compile(r"^[A-Z0-9]{2,20}$")
MAX_LEVERAGE = 125  # Binance's bound
DATA_PATH_WORDS = ("auto", "binance", "synthetic")


class ExecutionRefused(RuntimeError):
    """The run stops before sending anything that could trade (live without confirmation, missing
    keys, an account that fails the checks, another run holding the lock, an unwritable journal).

    >>> from adalib import ExecutionParams, run_execution
    >>> run_execution(ExecutionParams(mode="live", base_url="http://127.0.0.1:9"))
    Traceback (most recent call last):
    ...
    adalib.execution.params.ExecutionRefused: mode='live' trades real money: set confirm_live=True ...
    """


class ExecutionMismatch(RuntimeError):
    """The position read back after the run is not the intended one (``status`` ``"mismatch"``).

    >>> issubclass(ExecutionMismatch, RuntimeError)  # the command line turns it into one error line
    True
    """


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class ExecutionParams:
    """The execution notebook's parameters (contract section 4), plus the ``start`` / ``end`` window.

    >>> ExecutionParams().url(), ExecutionParams(mode="testnet").url()
    ('https://fapi.binance.com', 'https://demo-fapi.binance.com')
    """

    mode: str = "dry-run"
    base_url: str | None = None
    symbol: str = "ADAUSDT"
    leverage: int = 1
    margin_type: str = "ISOLATED"
    position_fraction: float = 1.0
    threshold: float = 0.0
    max_notional: float = 1000.0
    stop_loss: float | None = None
    weights_path: str = "model_weights.pth"
    data_path: str | None = None
    dry_run_balance: float = 10000.0
    confirm_live: bool = False
    output_dir: str = "artifacts"
    start: str | None = None
    end: str | None = None

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad parameter, its value and what was expected."""
        number = _number
        checks = [
            ("mode", self.mode in MODES, f"one of {MODES}"),
            ("symbol", isinstance(self.symbol, str) and bool(SYMBOL.match(self.symbol)),
             "2 to 20 of A-Z and 0-9, like 'ADAUSDT'"),
            ("leverage", type(self.leverage) is int and 1 <= self.leverage <= MAX_LEVERAGE,
             f"an integer in 1..{MAX_LEVERAGE}"),
            ("margin_type", self.margin_type in MARGIN_TYPES, f"one of {MARGIN_TYPES}"),
            ("position_fraction", number(self.position_fraction) and 0 < self.position_fraction <= 1,
             "a number in (0, 1]"),
            ("threshold", number(self.threshold) and self.threshold >= 0, "a finite number >= 0"),
            ("max_notional", number(self.max_notional) and 0 < self.max_notional <= 1e9,
             "a finite number > 0 (USDT)"),
            ("stop_loss", self.stop_loss is None or (number(self.stop_loss) and 0 < self.stop_loss < 1),
             "None or a number in (0, 1)"),
            ("dry_run_balance", number(self.dry_run_balance) and 0 < self.dry_run_balance <= 1e12,
             "a finite number > 0 (USDT)"),
            ("confirm_live", isinstance(self.confirm_live, bool), "True or False"),
            ("base_url", self.base_url is None or _http_url(self.base_url), "None or an http(s) URL"),
            ("weights_path", isinstance(self.weights_path, str) and self.weights_path != "", "a file path"),
            ("data_path", self.data_path is None or _text(self.data_path),
             f"None, one of {DATA_PATH_WORDS} or a candle file"),
            ("output_dir", isinstance(self.output_dir, str) and self.output_dir != "", "a folder path"),
        ]  # fmt: skip
        for name, ok, expected in checks:
            if not ok:
                raise ValueError(f"parameter {name}={getattr(self, name)!r}: expected {expected}")
        for name in ("start", "end"):
            try:
                parse_utc(getattr(self, name))
            except (ValueError, TypeError):
                raise ValueError(
                    f"parameter {name}={getattr(self, name)!r}: expected an ISO 8601 date, "
                    "like '2024-01-01' or '2024-01-01T12:00:00Z'"
                ) from None
        if self.mode == "testnet" and is_live_host(self.url()):
            raise ValueError(
                f"parameter base_url={self.base_url!r}: mode='testnet' refuses Binance's live hosts "
                f"(use {TESTNET_URL}, or mode='live' with confirm_live=True)"
            )
        self._check_paths()

    def _check_paths(self) -> None:
        weights = resolve_existing(self.weights_path)
        if weights.is_dir():
            raise ValueError(
                f"parameter weights_path={self.weights_path!r}: {weights} is a folder, not a file"
            )
        if not weights.exists():
            raise ValueError(
                f"parameter weights_path={self.weights_path!r}: weights file not found: {weights}"
            )
        out = resolve_output(self.output_dir)
        existing = next((p for p in (out, *out.parents) if p.exists()), None)
        if existing is not None and not existing.is_dir():
            raise ValueError(f"parameter output_dir={self.output_dir!r}: {existing} is a file, not a folder")
        if self.data_path is not None and self.data_path not in DATA_PATH_WORDS:
            data = resolve_existing(self.data_path)
            if not data.is_file():
                raise ValueError(f"parameter data_path={self.data_path!r}: no candle file at {data}")

    def url(self) -> str:
        """``base_url``, or the contract's default for the mode."""
        return (self.base_url or (TESTNET_URL if self.mode == "testnet" else LIVE_URL)).rstrip("/")


def _text(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)
