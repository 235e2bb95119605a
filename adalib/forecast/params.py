"""The forecasting study's parameters (contract section 2), validated before any work.

Each check raises ``ValueError`` naming the parameter, the value and the rule, so a
papermill run fails at once, before candles are loaded or anything is written.

>>> ForecastParams(lags=6, test_fraction=0.3).lags
6
>>> ForecastParams(lags=0)
Traceback (most recent call last):
...
ValueError: parameter 'lags' must be an integer from 1 to 48, got 0
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from adalib.util.paths import resolve_output
from adalib.util.timefmt import parse_utc

MAX_LAGS = 48  # 24 days of 12h candles: far beyond any order the data supports
SYMBOL_PATTERN = re.compile(r"[A-Z0-9]{2,20}")


def _integer(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"parameter {name!r} must be an integer from {low} to {high}, got {value!r}")
    return value


def _number(name: str, value: object, *, rule: str, low: float, high: float, closed: bool) -> float:
    """A finite real number in ``[low, high]`` (``closed``) or ``(low, high)``."""
    problem = ValueError(f"parameter {name!r} must be {rule}, got {value!r}")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise problem
    if not ((low <= value <= high) if closed else (low < value < high)):
        raise problem
    return float(value)


def _instant(name: str, value: object) -> datetime | None:
    if value is not None and not isinstance(value, str | datetime):
        raise ValueError(f"parameter {name!r} must be an ISO 8601 date or None, got {value!r}")
    try:
        return parse_utc(value)
    except ValueError:
        raise ValueError(
            f"parameter {name!r} is not an ISO 8601 date or datetime: {value!r} (e.g. '2026-03-01')"
        ) from None


def _writable_folder(name: str, folder: Path) -> None:
    """``folder`` is a folder we can write into, or can be created under a writable folder."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(f"parameter {name!r}: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"parameter {name!r}: folder {existing} is not writable")


@dataclass(frozen=True)
class ForecastParams:
    """The notebook's parameters with the contract's defaults, plus ``start``/``end``.

    Construction validates every field (types, ranges, dates, output paths) and touches
    nothing on disk.
    """

    data_path: str = "auto"
    symbol: str = "ADAUSDT"
    binance_url: str = "https://fapi.binance.com"
    lags: int = 2
    test_fraction: float = 0.25
    seed: int = 0
    threshold: float = 0.0
    output_dir: str = "artifacts"
    weights_path: str = "model_weights.pth"
    start: str | None = None
    end: str | None = "2026-03-01"

    def __post_init__(self) -> None:
        for name in ("data_path", "binance_url", "output_dir", "weights_path"):
            value = getattr(self, name)
            if not isinstance(value, str | os.PathLike) or not str(value).strip():
                raise ValueError(f"parameter {name!r} must be a non-empty string, got {value!r}")
        if not isinstance(self.symbol, str) or not SYMBOL_PATTERN.fullmatch(self.symbol):
            raise ValueError(f"parameter 'symbol' must be 2 to 20 of A-Z and 0-9, got {self.symbol!r}")
        if not str(self.binance_url).startswith(("http://", "https://")):
            raise ValueError(f"parameter 'binance_url' must be an http(s) URL, got {self.binance_url!r}")
        _integer("lags", self.lags, 1, MAX_LAGS)
        _integer("seed", self.seed, 0, 2**63 - 1)
        _number("test_fraction", self.test_fraction, rule="a number in (0, 1)", low=0, high=1, closed=False)
        _number("threshold", self.threshold, rule="a finite number >= 0", low=0, high=math.inf, closed=True)
        start, end = _instant("start", self.start), _instant("end", self.end)
        if start is not None and end is not None and not start < end:
            raise ValueError(f"parameter 'start' ({self.start}) must be before 'end' ({self.end})")
        out = resolve_output(self.output_dir)
        if out.exists() and not out.is_dir():
            raise ValueError(f"parameter 'output_dir': {out} exists and is not a folder")
        _writable_folder("output_dir", out)
        weights = self.weights_file
        if weights.is_dir():
            raise ValueError(f"parameter 'weights_path': {weights} is a folder, not a file")
        _writable_folder("weights_path", weights.parent)

    @property
    def output_folder(self) -> Path:
        """``output_dir`` resolved (``$ADALIB_OUTPUT_ROOT`` or the repository root)."""
        return resolve_output(self.output_dir)

    @property
    def weights_file(self) -> Path:
        """``weights_path`` resolved like ``output_dir``."""
        return resolve_output(self.weights_path)
