"""The command-line exchange: startup line, keys, in-progress candle, the control API, SIGTERM."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import requests
from fake_support import BUY_100, REPO, cli_exchange, cli_raw

from adalib.binance.fake.__main__ import shift_to_now
from adalib.data import synthetic_candles
from adalib.data.binance import TWELVE_HOURS_MS


def test_serves_with_the_documented_keys_and_the_last_candle_in_progress(tmp_path: Path) -> None:
    path = tmp_path / "candles.parquet"
    synthetic_candles(50, seed=4).write_parquet(path)
    with cli_exchange("--candles", str(path), "--balance", "2500") as url:
        raw = cli_raw(url)
        now = raw.server_ms()
        rows = requests.get(
            f"{url}/fapi/v1/klines", params={"symbol": "ADAUSDT", "interval": "12h"}, timeout=5
        ).json()
        assert len(rows) == 50 and all(len(r) == 12 for r in rows)
        assert rows[-1][0] <= now < rows[-1][0] + TWELVE_HOURS_MS and rows[-1][5] == "0"  # in progress
        assert rows[-2][6] + 1 == rows[-1][0] and rows[-2][6] < now  # the one before has closed
        assert raw.ok("GET", "/fapi/v2/balance")[0]["balance"] == "2500"
        mark = raw.ok("GET", "/fapi/v1/premiumIndex", {"symbol": "ADAUSDT"})["markPrice"]
        assert float(mark) == round(float(rows[-2][4]), 8)  # the close of the last closed candle, 8 decimals
        assert cli_raw(url).call("GET", "/fapi/v2/balance").status_code == 200
        assert raw.__class__(url, "other-key", "x").code("GET", "/fapi/v2/balance") == -2015


def test_control_api_faults_clock_and_state(tmp_path: Path) -> None:
    with cli_exchange("--mark-price", "0.5") as url:
        raw = cli_raw(url)
        assert requests.post(f"{url}/_fake/fault", data={"kind": "408_after"}, timeout=5).json()[
            "faults"
        ] == ["408_after"]
        lost = raw.call("POST", "/fapi/v1/order", BUY_100 | {"newClientOrderId": "c-1"})
        assert (lost.status_code, lost.json()["code"]) == (408, -1007)
        orders = requests.get(f"{url}/_fake/orders", timeout=5).json()
        assert [(o["clientOrderId"], o["status"]) for o in orders] == [("c-1", "FILLED")]
        stop = {
            "algoType": "CONDITIONAL",
            "symbol": "ADAUSDT",
            "side": "SELL",
            "type": "STOP_MARKET",
            "triggerPrice": "0.45",
            "closePosition": "true",
            "clientAlgoId": "s",
        }
        raw.ok("POST", "/fapi/v1/algoOrder", stop)
        state = requests.post(f"{url}/_fake/mark", data={"price": "0.44"}, timeout=5).json()
        assert state["positionAmt"] == "0" and state["markPrice"] == "0.44"
        before = raw.server_ms()
        requests.post(f"{url}/_fake/time", data={"advance": str(TWELVE_HOURS_MS)}, timeout=5)
        assert raw.server_ms() - before >= TWELVE_HOURS_MS
        bad = requests.post(f"{url}/_fake/fault", data={"kind": "nope"}, timeout=5)
        assert bad.status_code == 400 and "unknown fault" in bad.json()["error"]


def test_help_documents_every_fault_and_sigterm_stops_it() -> None:
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    helptext = subprocess.run(
        [sys.executable, "-m", "adalib.binance.fake", "--help"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
        check=True,
    ).stdout
    from adalib.binance.fake import FAULTS

    assert all(f"  {kind} " in helptext for kind in FAULTS) and "/_fake/fault" in helptext
    started = time.monotonic()
    with cli_exchange("--mark-price", "1") as url:
        assert requests.get(f"{url}/fapi/v1/ping", timeout=5).json() == {}
    assert time.monotonic() - started < 30


def test_shift_keeps_the_12h_grid() -> None:
    frame = synthetic_candles(5)
    now = int(frame["open_time"].dt.epoch("ms")[-1]) + 40 * TWELVE_HOURS_MS + 123
    moved = shift_to_now(frame, now)
    assert int(moved["open_time"].dt.epoch("ms")[-1]) == now - 123 and moved["close"].equals(frame["close"])
