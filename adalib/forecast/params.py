"""The forecasting study's parameters (contract section 2), validated before any work.

Each check raises ``ParameterError`` (a ``ValueError``) naming the parameter, the value and the
rule, so a papermill run fails at once, before candles are loaded or anything is written.

>>> ForecastParams(lags=6, test_fraction=0.3).lags
6
>>> ForecastParams(lags=0)
Traceback (most recent call last):
...
adalib.util.validate.ParameterError: parameter lags: 0 must be an integer in [1, 48]
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from adalib.util.paths import resolve_output
from adalib.util.validate import (
    ParameterError,
    check_input_file,
    check_int,
    check_number,
    check_output_dir,
    check_output_file,
    check_symbol,
    check_window,
)

DATA_SOURCES = ("auto", "binance", "synthetic")  # else data_path is a candle file
MAX_LAGS = 48  # 24 days of 12h candles: far beyond any order the data supports


def _url(value: object) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ParameterError("binance_url", value, "must be an http(s) URL")
    return value


@dataclass(frozen=True)
class ForecastParams:
    """The notebook's parameters with the contract's defaults, plus ``start``/``end``.

    Construction validates every field (types, ranges, dates, output paths; a probe file proves
    the output folders writable and is removed) and creates nothing.

    >>> ForecastParams(data_path="synthetic", end="2021-01-01").weights_file.name
    'model_weights.pth'
    >>> ForecastParams(start="yesterday")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    adalib.util.validate.ParameterError: parameter start: 'yesterday' is not an ISO 8601 date ...
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
        if not isinstance(self.data_path, str | os.PathLike) or not str(self.data_path).strip():
            raise ParameterError("data_path", self.data_path, "must be a non-empty path or 'auto'")
        if str(self.data_path) not in DATA_SOURCES:
            check_input_file("data_path", self.data_path)
        check_symbol(self.symbol)
        _url(self.binance_url)
        check_int("lags", self.lags, low=1, high=MAX_LAGS)
        check_int("seed", self.seed, low=0, high=2**63 - 1)
        check_number("test_fraction", self.test_fraction, low=0, high=1, low_open=True, high_open=True)
        # high=inf, not None: check_number's message formatting fails on a missing upper bound
        check_number("threshold", self.threshold, low=0, high=math.inf)
        check_window(self.start, self.end)
        check_output_dir("output_dir", self.output_dir)
        check_output_file("weights_path", self.weights_path)

    @property
    def output_folder(self) -> Path:
        """``output_dir`` resolved (``$ADALIB_OUTPUT_ROOT`` or the repository root)."""
        return resolve_output(self.output_dir)

    @property
    def weights_file(self) -> Path:
        """``weights_path`` resolved like ``output_dir``."""
        return resolve_output(self.weights_path)
