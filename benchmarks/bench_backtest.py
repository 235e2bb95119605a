"""Timing of adalib's backtest engine on the real ADAUSDT 12h candles: one backtest, 1,000-config sweeps.

Run from the repository root:

    .venv/bin/python benchmarks/bench_backtest.py

It needs the candle cache ``data/ADAUSDT-12h.parquet`` and ``model_weights.pth``, writes
nothing, and prints the table that goes to ``benchmarks/RESULTS.md``. The comparison with
vectorbt is ``benchmarks/bench_vs_vectorbt.py``.
"""

from __future__ import annotations

import os
import platform
import resource
import sys

import polars as pl
from timing import median_seconds

from adalib.backtest import BacktestConfig, load_segment, run_backtest, sweep
from adalib.data import cache_path, read_cache
from adalib.util.paths import REPO_ROOT

REPEATS = 30  # one backtest: median of this many runs
SWEEP_REPEATS = 3
# 1,000 configurations: 10 thresholds x 2 modes x 5 fees x 2 slippages x 5 leverages
GRID = {
    "threshold": [0.0005 * k for k in range(10)],
    "mode": ["hold", "per_bar"],
    "fee_rate": [0.0, 0.0002, 0.00045, 0.0005, 0.001],
    "slippage_bps": [0.0, 5.0],
    "leverage": [1.0, 2.0, 3.0, 5.0, 10.0],
}


def main() -> None:
    if not cache_path().is_file():
        sys.exit(f"{cache_path().relative_to(REPO_ROOT)} is missing: fill the cache first (make data).")
    candles = read_cache()
    frames = {
        name: load_segment(candles, output_dir="/nonexistent", segment=name).frame for name in ("test", "all")
    }
    load = os.getloadavg()[0]
    python = platform.python_version()
    print(f"{platform.machine()}, load average {load:.1f}; Python {python}, polars {pl.__version__}")
    print("| segment | candles | task | configurations | median time | per configuration | liquidations |")
    print("|---|---|---|---|---|---|---|")
    for name, frame in frames.items():
        for mode, leverage in (("hold", 1.0), ("per_bar", 1.0), ("hold", 10.0)):
            args = {"mode": mode, "leverage": leverage}
            seconds = median_seconds(
                lambda f=frame, a=args: run_backtest(f, BacktestConfig(**a)), REPEATS, warm_up=True
            )
            liquidated = run_backtest(frame, BacktestConfig(**args)).metrics["liquidated"]
            task = f"one backtest, {mode}, leverage {leverage:g}"
            print(f"| {name} | {frame.height} | {task} | 1 | {seconds * 1e3:.1f} ms | | {liquidated} |")
        table = sweep(frame, signal="y_hat", **GRID)
        seconds = median_seconds(
            lambda f=frame: sweep(f, signal="y_hat", **GRID), SWEEP_REPEATS, warm_up=True
        )
        task = "sweep (threshold x mode x fee x slippage x leverage)"
        print(
            f"| {name} | {frame.height} | {task} | {table.height} | {seconds:.2f} s "
            f"| {seconds / table.height * 1e3:.2f} ms | {table['liquidated'].sum()} |"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of the process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
