"""Crash points: ``python -m adalib.execution`` killed (SIGKILL) just before and just after the local
exchange receives each request of a reversal cycle (close, open, stop), then a rerun.

"Before": the exchange holds the request without executing it (``stall_before``) and the run is
killed while it waits. "After": the exchange executes it and holds the answer (``stall_after``).
After the rerun: no order executed twice, the final position is the target, and the journal is
complete (every request that was sent has an answer or a recovery line) and parseable.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from exec_support import CANDLES, NOW, Sleeps, env, trading_params, write_weights

from adalib.binance.fake import FakeBinance
from adalib.binance.journal import Journal, pending_requests
from adalib.execution import run_execution

REPO = Path(__file__).resolve().parents[1]
POINTS = [("close", "/fapi/v1/order", 0), ("open", "/fapi/v1/order", 1), ("stop", "/fapi/v1/algoOrder", 0)]


def _wait_for(fake: FakeBinance, kind: str, count: int, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(r.get("fault") == kind for r in fake.requests) >= count:
            return
        time.sleep(0.02)
    raise AssertionError(f"the run never sent the request carrying {kind}")


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize(("leg", "path", "skip"), POINTS, ids=[p[0] for p in POINTS])
def test_killed_at_a_crash_point_then_rerun(tmp_path, when, leg, path, skip):
    weights = write_weights(tmp_path, intercept=0.01)  # long
    out = tmp_path / "out"
    with FakeBinance(CANDLES, now=NOW) as fake:
        fake.set_position(-500)
        for _ in range(skip):  # let the earlier requests of the same path through untouched
            fake.inject("stall_after", path, delay=0.0)
        kind = "stall_before" if when == "before" else "stall_after"
        fake.inject(kind, path, delay=20.0)
        command = [sys.executable, "-m", "adalib.execution", "--mode", "testnet", "--base-url", fake.url,
                   "--weights-path", weights, "--output-dir", str(out), "--stop-loss", "0.05"]  # fmt: skip
        child_env = {
            **os.environ,
            **env(fake),
            "PYTHONPATH": str(REPO),
            "ADALIB_LOCK_DIR": str(tmp_path / "l"),
        }
        child = subprocess.Popen(command, env=child_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _wait_for(fake, kind, 1 + (skip if kind == "stall_after" else 0))
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(10)
        assert child.returncode == -signal.SIGKILL
        entries = Journal(out / "orders.jsonl").read()
        field = "clientAlgoId" if leg == "stop" else "newClientOrderId"
        (pending,) = pending_requests(entries, field)  # the killed request: journaled before it was sent
        assert pending.split("-")[3] == leg
        assert (when == "after") == any(
            o["clientOrderId"] == pending for o in [*fake.orders, *({"clientOrderId": a["clientAlgoId"]}
                                                                   for a in fake.algo_orders)]
        )  # fmt: skip

        os.environ["ADALIB_LOCK_DIR"] = str(tmp_path / "l")
        try:
            rerun = run_execution(
                trading_params(fake, out, weights, stop_loss=0.05),
                env=env(fake),
                sleep=Sleeps(),
                out=lambda _: None,
            )
        finally:
            os.environ.pop("ADALIB_LOCK_DIR")
        target = int(Decimal(1000) / fake.mark_price())
        assert rerun.summary["status"] == "ok" and fake.position_amt == target
        legs = Counter(o["clientOrderId"].split("-")[3] for o in fake.orders if Decimal(o["executedQty"]) > 0)
        assert legs == {"close": 1, "open": 1}  # nothing executed twice
        assert len([a for a in fake.algo_orders if a["algoStatus"] == "NEW"]) == 1
        journal = Journal(out / "orders.jsonl")
        entries = journal.read()
        assert journal.torn == []
        assert pending_requests(entries) == [] and pending_requests(entries, "clientAlgoId") == []
