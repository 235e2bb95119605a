"""Timing of adalib's backtest engine: one backtest, the 1,000-configuration grid, scaling, cold start.

Run from the repository root:

    .venv/bin/python benchmarks/bench_backtest.py [--quick]

It needs the candle cache ``data/ADAUSDT-12h.parquet`` and ``model_weights.pth`` for the
real-data rows (the scaling table uses synthetic candles), writes nothing but a temporary
file, and prints the tables that go to ``benchmarks/RESULTS.md``, ending with the targets of
issue #16, each marked met or not. Times are medians with their interquartile range over
runs (the 2-core machine is shared: single runs vary by up to 2x). Peak memory is the peak of
numpy's allocations during the call (tracemalloc), the engine's working memory; the process's
resident peak is printed at the end. ``--quick`` skips the 440k x 1,000 cell (about half a
minute) and estimates it from the 440k x 100 cell. The comparison with vectorbt is
``benchmarks/bench_vs_vectorbt.py``.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
from timing import median_seconds, quartiles, run_times

from adalib.backtest import BacktestConfig, load_segment, run_backtest, sweep
from adalib.data import cache_path, read_cache, synthetic_candles
from adalib.util.paths import REPO_ROOT

REPEATS = 200  # one backtest: median of this many runs
SWEEP_REPEATS = 15
# 1,000 configurations: 10 thresholds x 2 modes x 5 fees x 2 slippages x 5 leverages
GRID = {
    "threshold": [0.0005 * k for k in range(10)],
    "mode": ["hold", "per_bar"],
    "fee_rate": [0.0, 0.0002, 0.00045, 0.0005, 0.001],
    "slippage_bps": [0.0, 5.0],
    "leverage": [1.0, 2.0, 3.0, 5.0, 10.0],
}
GRID_100 = {k: GRID[k] for k in ("threshold", "mode", "fee_rate")}  # 10 x 2 x 5
SIZES = (1_000, 4_439, 44_390, 443_900)
COLD = """
import time
start = time.perf_counter()
import sys
import polars as pl
from adalib.backtest import BacktestConfig, run_backtest
result = run_backtest(pl.read_parquet(sys.argv[1]), BacktestConfig(fee_rate=0.0005, slippage_bps=2.0))
result.metrics["sharpe"]
heavy = [m for m in ("torch", "scipy") if m in sys.modules]
print(time.perf_counter() - start, ",".join(heavy) or "-")
"""


def peak_mib(fn: Callable[[], object]) -> float:
    """Peak of the numpy (traced) allocations during one call, in MiB."""
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def synthetic(n: int) -> pl.DataFrame:
    """``n`` synthetic 12h candles with a forecast-like ``y_hat`` and its signs as ``direction``."""
    frame = synthetic_candles(n, seed=7).drop("volume")
    y_hat = np.random.default_rng(7).normal(0.0, 0.004, n)
    return frame.with_columns(y_hat=pl.Series(y_hat), direction=pl.Series(np.sign(y_hat), dtype=pl.Int8))


def one_backtests(frames: dict[str, pl.DataFrame], found: dict[str, float]) -> None:
    print("\n## One backtest on the real candles (fee 5 bp, slippage 2 bp; median [IQR] and best of runs)")
    print("| segment | candles | configuration | median [IQR] | best | with tables | liquidated | stopped |")
    print("|---|---|---|---|---|---|---|---|")
    cases = {
        "hold, leverage 1": BacktestConfig(fee_rate=0.0005, slippage_bps=2.0),
        "per_bar, leverage 1": BacktestConfig(mode="per_bar", fee_rate=0.0005, slippage_bps=2.0),
        "hold, leverage 10": BacktestConfig(fee_rate=0.0005, slippage_bps=2.0, leverage=10.0),
        "hold, leverage 3, pf 0.5": BacktestConfig(leverage=3.0, position_fraction=0.5),
        "hold, stop 3%, funding 1 bp": BacktestConfig(stop_loss=0.03, funding_rate_8h=0.0001),
    }
    for name, frame in frames.items():
        for label, cfg in cases.items():
            times = run_times(lambda f=frame, c=cfg: run_backtest(f, c), REPEATS, warm_up=True)
            q1, med, q3 = quartiles(times)
            tables = median_seconds(lambda f=frame, c=cfg: _with_tables(f, c), REPEATS // 4)
            m = run_backtest(frame, cfg).metrics
            found[f"{name}, {label}"] = med
            print(
                f"| {name} | {frame.height} | {label} | {med * 1e3:.3f} ms [{q1 * 1e3:.3f}-{q3 * 1e3:.3f}] "
                f"| {min(times) * 1e3:.3f} ms | {tables * 1e3:.3f} ms | {m['liquidated']} | {m['stopped']} |"
            )


def _with_tables(frame: pl.DataFrame, cfg: BacktestConfig) -> None:
    result = run_backtest(frame, cfg)
    result.trades, result.equity  # noqa: B018 (built on first access)


def grid_on_real(frame: pl.DataFrame, found: dict[str, float]) -> None:
    table = sweep(frame, signal="y_hat", **GRID)
    times = run_times(lambda: sweep(frame, signal="y_hat", **GRID), SWEEP_REPEATS, warm_up=True)
    q1, seconds, q3 = quartiles(times)
    memory = peak_mib(lambda: sweep(frame, signal="y_hat", **GRID))
    found["grid"], found["grid memory"] = seconds, memory
    print(f"\n## The 1,000-configuration grid on the real candles ({frame.height}, segment all)")
    print(
        f"{table.height} configurations (threshold x mode x fee x slippage x leverage): median "
        f"{seconds:.3f} s [IQR {q1:.3f}-{q3:.3f}], best {min(times):.3f} s, "
        f"{seconds / table.height / frame.height * 1e9:.1f} ns per (configuration, candle); "
        f"peak numpy memory {memory:.0f} MiB; {table['liquidated'].sum()} liquidations"
    )
    flat = {k: v for k, v in GRID.items() if k != "leverage"}
    for leverage in (1.0, 10.0):
        lever = run_times(
            lambda x=leverage: sweep(frame, signal="y_hat", **flat, leverage=[x]), SWEEP_REPEATS
        )
        found[f"grid leverage {leverage:g}"] = quartiles(lever)[1]
    print(
        f"the 200 configurations at leverage 10 (with their liquidations) over those at leverage 1: "
        f"{found['grid leverage 10'] / found['grid leverage 1']:.2f}x (medians)"
    )


def scaling(quick: bool, found: dict[str, float]) -> None:
    print("\n## Scaling (synthetic candles; time: median of runs; memory: peak of numpy allocations)")
    print("| candles | 1 configuration | 100 configurations | 1,000 configurations | ns per cell (1,000) |")
    print("|---|---|---|---|---|")
    for n in SIZES:
        frame = synthetic(n)
        repeats = 20 if n < 40_000 else 3 if n < 400_000 else 1
        cells = []
        one = median_seconds(lambda f=frame: run_backtest(f), repeats * 5, warm_up=True)
        cells.append(f"{_shown(one)}, {peak_mib(lambda f=frame: run_backtest(f)):.1f} MiB")
        hundred = median_seconds(lambda f=frame: sweep(f, signal="y_hat", **GRID_100), repeats, warm_up=True)
        cells.append(
            f"{_shown(hundred)}, {peak_mib(lambda f=frame: sweep(f, signal='y_hat', **GRID_100)):.0f} MiB"
        )
        if n < 400_000 or not quick:
            thousand = median_seconds(
                lambda f=frame: sweep(f, signal="y_hat", **GRID), repeats, warm_up=n < 40_000
            )
            memory = peak_mib(lambda f=frame: sweep(f, signal="y_hat", **GRID))
            cells.append(f"{_shown(thousand)}, {memory:.0f} MiB")
            found[f"{n} x 1000"], found[f"{n} x 1000 memory"] = thousand, memory
        else:
            thousand = hundred * 10
            cells.append(
                f"not run (about {_shown(thousand)} by 10 x the 100 column; without --quick it runs)"
            )
        print(f"| {n:,} | " + " | ".join(cells) + f" | {thousand / 1000 / n * 1e9:.1f} |")


def _shown(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


def cold_start(frame: pl.DataFrame, found: dict[str, float]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "segment.parquet"
        frame.select("open_time", "open", "high", "low", "close", "direction").write_parquet(path)
        runs = []
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        for _ in range(5):
            start = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", COLD, str(path)], capture_output=True, text=True, check=True, env=env
            )
            wall = time.perf_counter() - start
            inside, heavy = out.stdout.split()
            runs.append((float(inside), wall, heavy))
    inside = float(np.median([r[0] for r in runs]))
    wall = float(np.median([r[1] for r in runs]))
    found["cold"] = inside
    print(
        f"\n## Cold start (fresh process, median of 5): imports + reading the frame + first backtest "
        f"{inside:.3f} s; the whole process, interpreter start included, {wall:.3f} s; "
        f"heavy modules imported: {runs[0][2]}"
    )


def targets(found: dict[str, float]) -> None:
    """Issue #16's targets against this run's figures: (label, measured, bound, unit)."""
    one, big = found["all, hold, leverage 1"], f"{SIZES[2]} x 1000"
    nan = float("nan")
    rows = [
        ("one backtest on the real history (all, hold, leverage 1), median", one * 1e3, 0.5, "ms"),
        ("the 1,000-configuration grid, median", found["grid"], 0.25, "s"),
        ("44k candles x 1,000 configurations", found.get(big, nan), 2.5, "s"),
        ("peak memory of that sweep", found.get(f"{big} memory", nan), 300, "MiB"),
        ("leverage 10 over leverage 1, one backtest", found["all, hold, leverage 10"] / one, 1.5, "x"),
        (
            "leverage 10 over leverage 1, sweeps",
            found["grid leverage 10"] / found["grid leverage 1"],
            1.5,
            "x",
        ),
        ("cold first backtest, import included", found["cold"], 0.4, "s"),
    ]
    print("\n## Issue #16 targets (this run)")
    print("| target | measured | at most | met |")
    print("|---|---|---|---|")
    for label, value, bound, unit in rows:
        met = "yes" if value <= bound else "no"
        print(f"| {label} | {value:.3f} {unit} | {bound:g} {unit} | {met} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="skip the 440k x 1,000 cell (estimated instead)")
    args = parser.parse_args()
    if not cache_path().is_file():
        sys.exit(f"{cache_path().relative_to(REPO_ROOT)} is missing: fill the cache first (make data).")
    candles = read_cache()
    frames = {
        name: load_segment(candles, output_dir="/nonexistent", segment=name).frame for name in ("test", "all")
    }
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
        f"Python {platform.python_version()}, numpy {np.__version__}, polars {pl.__version__}"
    )
    found: dict[str, float] = {}
    cold_start(frames["all"], found)
    one_backtests(frames, found)
    grid_on_real(frames["all"], found)
    scaling(args.quick, found)
    targets(found)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak resident memory of the process: {peak:.0f} MiB; load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
