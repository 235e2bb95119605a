"""Shared helpers for the execution tests: a fixed forecaster on disk, a fake exchange, fast waits."""

from __future__ import annotations

from pathlib import Path

import requests

from adalib.binance.fake import FakeBinance
from adalib.data import synthetic_candles
from adalib.data.binance import TWELVE_HOURS_MS
from adalib.execution import ExecutionParams
from adalib.forecast import Forecaster, save_weights

CANDLES = synthetic_candles(120)  # 60 days of 12h candles
# the fakes' clock starts one minute after the close of candle 99, leaving 20 candles to move forward into
NOW = int(CANDLES["open_time"].dt.epoch("ms")[99]) + TWELVE_HOURS_MS + 60_000


def write_weights(folder: Path, *, intercept: float, coef: tuple[float, float] = (0.0, 0.0)) -> str:
    """A fixed AR(2) forecaster on disk: with zero ``coef`` its direction is the sign of ``intercept``."""
    forecaster = Forecaster(
        coef=coef, intercept=intercept, lags=2, resid_std=0.04, symbol="ADAUSDT", interval="12h",
        train_start="2020-01-01T00:00:00Z", train_end="2020-01-20T00:00:00Z",
    )  # fmt: skip
    path = folder / f"weights_{intercept:+.3f}_{coef[0]:+.2f}_{coef[1]:+.2f}.pth"
    save_weights(path, forecaster)
    return str(path)


def env(fake: FakeBinance) -> dict[str, str]:
    return {"BINANCE_API_KEY": fake.api_key, "BINANCE_API_SECRET": fake.api_secret}


def trading_params(fake: FakeBinance, out: Path, weights: str, **overrides: object) -> ExecutionParams:
    return ExecutionParams(
        mode="testnet", base_url=fake.url, weights_path=weights, output_dir=str(out), **overrides
    )


class Sleeps(list):
    """A ``sleep`` that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def next_candle(fake: FakeBinance) -> None:
    """Move the fake's clock forward one 12h candle."""
    fake.skew_ms += TWELVE_HOURS_MS


def order_posts(fake: FakeBinance) -> list[dict]:
    """Every POST /fapi/v1/order that reached the fake (whatever its answer)."""
    return [r for r in fake.requests if r["method"] == "POST" and r["path"] == "/fapi/v1/order"]


class Recording(requests.Session):
    """A session that remembers every URL it sent."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        self.urls.append(url)
        return super().request(method, url, *args, **kwargs)
