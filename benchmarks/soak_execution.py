"""Seeded soak of the execution layer against the local exchange (127.0.0.1 only).

Each scenario is one 12h candle: the exchange's clock moves to it, a random signal (long, short
or flat, with or without a protective stop) is traded by ``run_execution`` under a random fault
schedule, then a rerun for the same candle. Faults: lost answers after execution (503, 408/-1007,
502/-1006, dropped connections), 503 before execution, 429 with Retry-After, one -1021, timeouts,
EXPIRED and partial fills, lookups that miss a just-placed order, a manual position change
between candles, two runs started together, and runs killed (SIGKILL, in a forked child) while
the exchange holds one of their requests, before or after executing it.

Checked after every scenario:
- orders executed twice: an order id filled more than once, or more quantity filled on the
  candle's legs than moving from the position before to the intended one needs (must be 0);
- runs away from the target without ``status`` ``mismatch`` and a raised error (a non-zero exit
  on the command line) (must be 0).

    .venv/bin/python benchmarks/soak_execution.py --runs 2000 --seed 1 --max-seconds 900

prints the figures that go to ``benchmarks/RESULTS.md``; it writes only into a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from adalib.binance.fake import FakeBinance
from adalib.data import synthetic_candles
from adalib.data.binance import TWELVE_HOURS_MS
from adalib.execution import ExecutionParams, run_execution
from adalib.forecast import Forecaster, save_weights

REPO = Path(__file__).resolve().parents[1]
LOST = ["503_after", "408_after", "502_after", "drop_after", "lookup_missing", "timeout_after"]
REFUSED = ["503", "429", "-1021"]
FILLS = ["expired", "partial"]
KILL = ["stall_before", "stall_after"]


@dataclass
class Tally:
    """The soak's figures."""

    runs: int = 0
    scenarios: int = 0
    together: int = 0
    killed: int = 0
    faults_injected: Counter = field(default_factory=Counter)
    faults_hit: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    executed_twice: int = 0
    silent_misses: int = 0
    errors: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """The figures as plain JSON."""
        return {k: dict(v) if isinstance(v, Counter) else v for k, v in self.__dict__.items()}


def _weights(folder: Path) -> dict[int, str]:
    paths = {}
    for side in (-1, 0, 1):
        forecaster = Forecaster(
            coef=(0.0, 0.0),
            intercept=0.01 * side,
            lags=2,
            resid_std=0.04,
            symbol="ADAUSDT",
            interval="12h",
            train_start="2020-01-01T00:00:00Z",
            train_end="2020-01-20T00:00:00Z",
        )
        paths[side] = str(folder / f"w{side:+d}.pth")
        save_weights(paths[side], forecaster)
    return paths


class Soak:
    """One soak: a local exchange, three fixed forecasters, and the checks."""

    def __init__(self, fake: FakeBinance, folder: Path, rng: random.Random, tally: Tally) -> None:
        self.fake, self.folder, self.rng, self.tally = fake, folder, rng, tally
        self.weights = _weights(folder)
        self.keys = {"BINANCE_API_KEY": fake.api_key, "BINANCE_API_SECRET": fake.api_secret}

    def params(self, side: int, stop: float | None, out: str) -> ExecutionParams:
        return ExecutionParams(
            mode="testnet",
            base_url=self.fake.url,
            weights_path=self.weights[side],
            output_dir=str(self.folder / out),
            stop_loss=stop,
            leverage=self.rng.choice([1, 2, 3]),
        )

    def run(self, params: ExecutionParams) -> tuple[str, dict[str, Any] | None]:
        """One run; returns (outcome, summary): ``ok``, ``mismatch`` or the error's type name."""
        self.tally.runs += 1
        try:
            result = run_execution(
                params,
                env=self.keys,
                sleep=lambda s: None,
                timeout=0.5,
                lookup_window=1.0,
                lock_wait=30.0,
                out=lambda _: None,
            )
            return result.summary["status"], result.summary
        except Exception as exc:  # every error is counted; the summary says what the run saw
            path = Path(params.output_dir) / "execution_summary.json"
            summary = json.loads(path.read_text()) if path.exists() else None
            name = "mismatch" if type(exc).__name__ == "ExecutionMismatch" else type(exc).__name__
            self.tally.errors[name] += 1
            if len(self.tally.error_samples) < 20:
                self.tally.error_samples.append(f"{name}: {str(exc)[:160]}")
            return name, summary

    def killed_run(self, params: ExecutionParams, kind: str) -> None:
        """``python -m adalib.execution`` in a child process, SIGKILLed while the exchange holds the
        request carrying ``kind`` (not a forked child: polars' thread pool does not survive a fork)."""
        seen = sum(r.get("fault") == kind for r in self.fake.requests)
        args = [
            sys.executable,
            "-m",
            "adalib.execution",
            "--mode",
            "testnet",
            "--base-url",
            params.url(),
            "--weights-path",
            params.weights_path,
            "--output-dir",
            params.output_dir,
            "--leverage",
            str(params.leverage),
        ]
        if params.stop_loss is not None:
            args += ["--stop-loss", str(params.stop_loss)]
        child = subprocess.Popen(
            args,
            env={**os.environ, **self.keys, "PYTHONPATH": str(REPO)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.tally.runs += 1
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and sum(r.get("fault") == kind for r in self.fake.requests) == seen:
            if child.poll() is not None:  # it ended without sending that request
                return
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
        child.wait()
        self.tally.killed += 1

    def inject(self, kinds: list[str]) -> None:
        for kind in kinds:
            path, method = "/fapi/v1/order", "POST"
            if kind not in FILLS and self.rng.random() < 0.2:
                path = "/fapi/v1/algoOrder"
            if kind in REFUSED and self.rng.random() < 0.3:
                path, method = self.rng.choice(
                    [("/fapi/v2/balance", "GET"), ("/fapi/v2/positionRisk", "GET")]
                )
            delay = {"timeout_after": 0.7, "lookup_missing": self.rng.choice([0.2, 3.0])}.get(kind, 1.0)
            self.fake.inject(
                kind,
                path,
                method,
                delay=delay,
                fraction=self.rng.choice([0.3, 0.5, 0.8]),
                retry_after=self.rng.choice([0, 1, 2]),
            )
            self.tally.faults_injected[kind] += 1

    def scenario(self, number: int, together: int, kills: int) -> None:
        rng, fake = self.rng, self.fake
        fake.faults.clear()
        fake.skew_ms += TWELVE_HOURS_MS
        if rng.random() < 0.15:  # someone changed the position by hand between candles
            fake.set_position(rng.choice([-1, 1]) * rng.choice([50, 500, 3000, 60000]))
        side, stop = rng.choice([-1, 1, 1, -1, 0]), rng.choice([None, 0.05, 0.2])
        first = len(fake.orders)
        before = fake.position_amt
        out = f"run{number % 7}"  # a few output folders, as several cron entries would have
        style = rng.choices(["plain", "together", "kill"], weights=[100 - together - kills, together, kills])[
            0
        ]
        if style == "kill":
            kind = rng.choice(KILL)
            path = rng.choice(
                ["/fapi/v1/order", "/fapi/v1/order", "/fapi/v1/algoOrder"] if stop else ["/fapi/v1/order"]
            )
            fake.inject(kind, path, delay=2.0)
            self.tally.faults_injected[kind] += 1
            self.killed_run(self.params(side, stop, out), kind)
            fake.faults.clear()
        self.inject(rng.sample(LOST + REFUSED + FILLS, k=rng.choice([0, 1, 1, 2, 3])))
        params = self.params(side, stop, out)
        if style == "together":
            self.tally.together += 1
            results: list[tuple[str, dict[str, Any] | None]] = []
            other = self.params(side, stop, out if rng.random() < 0.5 else f"other{number % 3}")
            threads = [
                threading.Thread(target=lambda p=p: results.append(self.run(p))) for p in (params, other)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            last = results[-1]
        else:
            last = self.run(params)
        fake.faults.clear()
        if last[0] != "ok":  # the operator reruns (cron's next attempt)
            last = self.run(params)
        self.check(number, first, before, last)

    def check(
        self, number: int, first: int, before: Decimal, last: tuple[str, dict[str, Any] | None]
    ) -> None:
        tally, fake = self.tally, self.fake
        status, summary = last
        tally.statuses[status] += 1
        new = [
            o
            for o in fake.orders[first:]
            if o["clientOrderId"].startswith("adalib-") and Decimal(o["executedQty"])
        ]
        ids = Counter(o["clientOrderId"] for o in new)
        filled = sum((Decimal(o["executedQty"]) for o in new), Decimal(0))
        if summary is not None and summary.get("intended_qty") is not None:
            intended = Decimal(summary["intended_qty"])
            held = Decimal(summary["position_before"])
            need = abs(intended - held) if held * intended > 0 or held == 0 else abs(held) + abs(intended)
            if held == before and filled > need:
                tally.executed_twice += 1
                tally.problems.append(f"scenario {number}: filled {filled} > needed {need}")
            if fake.position_amt != intended and status == "ok":
                tally.silent_misses += 1
                tally.problems.append(
                    f"scenario {number}: position {fake.position_amt} != {intended}, status ok"
                )
        if any(n > 1 for n in ids.values()):
            tally.executed_twice += 1
            tally.problems.append(f"scenario {number}: an id filled twice {ids}")
        for r in fake.requests:
            if r.get("fault"):
                tally.faults_hit[r["fault"]] += 1
        fake.requests.clear()


def soak(
    runs: int = 2000,
    seed: int = 1,
    max_seconds: float = 900.0,
    folder: Path | None = None,
    together: int = 12,
    kills: int = 2,
) -> Tally:
    """Scenarios until ``runs`` runs were made or ``max_seconds`` passed; returns the figures.
    ``together`` and ``kills`` are the percentages of scenarios with two runs started together
    and with a run killed at a request."""
    tally = Tally()
    rng = random.Random(seed)
    start = time.monotonic()
    candles = synthetic_candles(3 + runs, seed=seed)
    folder = Path(folder or tempfile.mkdtemp(prefix="adalib-soak-"))
    os.environ["ADALIB_LOCK_DIR"] = str(folder / "locks")
    now = int(candles["open_time"].dt.epoch("ms")[2]) + TWELVE_HOURS_MS + 60_000
    with FakeBinance(candles, now=now, margin_type="ISOLATED") as fake:
        runner = Soak(fake, folder, rng, tally)
        number = 0
        while tally.runs < runs and time.monotonic() - start < max_seconds and number < runs:
            runner.scenario(number, together, kills)
            number += 1
            tally.scenarios = number
    tally.seconds = round(time.monotonic() - start, 1)
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-seconds", type=float, default=900.0)
    args = parser.parse_args(argv)
    tally = soak(args.runs, args.seed, args.max_seconds)
    print(json.dumps(tally.as_dict(), indent=1, default=str))
    return 0 if tally.executed_twice == 0 and tally.silent_misses == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
