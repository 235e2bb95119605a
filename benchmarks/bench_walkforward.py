"""Walk-forward speed: the vectorised expanding-window refits against a loop of ``np.linalg.lstsq``.

Run from the repository root (``make bench`` runs it too):

    .venv/bin/python benchmarks/bench_walkforward.py

On the real 12h cache (skipped, with a note, when it is missing) and on a 100k-candle
synthetic series: median wall time of ``walk_forward`` (refit every candle and every
10 candles), its peak extra memory, and the naive loop (every refit is one lstsq on all
rows so far: O(n^2 p^2)). On 100k candles the naive loop is timed on 200 evenly spaced
refits and extrapolated. Also timed: ``compare_orders`` (AR(1..6), walk-forward on the same
rows, scored in three windows) and the whole ``run_forecast_study`` of the ML notebook
(real data only, warm). Prints the Markdown that goes to ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import platform
import tracemalloc
from collections.abc import Callable

import numpy as np
import polars as pl
from timing import median_seconds

from adalib.data import cache_path, read_cache, synthetic_candles
from adalib.forecast import (
    ForecastParams,
    compare_orders,
    lag_columns,
    lagged_returns,
    run_forecast_study,
    train_forecaster,
    walk_forward,
)

LAGS, MIN_TRAIN, REPEATS, NAIVE_SAMPLE = 2, 730, 5, 200


def peak_mib(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def naive_refit(x: np.ndarray, y: np.ndarray, j: int) -> np.ndarray:
    return np.linalg.lstsq(np.column_stack([x[:j], np.ones(j)]), y[:j], rcond=None)[0]


def naive_seconds(x: np.ndarray, y: np.ndarray) -> tuple[float, bool]:
    """Seconds for the full naive loop (measured, or extrapolated from a sample of refits)."""
    refits = np.arange(MIN_TRAIN, len(y))
    if len(refits) <= 5000:
        return median_seconds(lambda: [naive_refit(x, y, j) for j in refits], repeats=1), False
    sample = refits[np.linspace(0, len(refits) - 1, NAIVE_SAMPLE).astype(int)]
    seconds = median_seconds(lambda: [naive_refit(x, y, j) for j in sample], repeats=1)
    return seconds * len(refits) / NAIVE_SAMPLE, True


def bench(name: str, candles: pl.DataFrame) -> list[str]:
    rows = lagged_returns(candles, LAGS).filter(pl.col("target").is_not_null())
    x, y = rows.select(lag_columns(LAGS)).to_numpy(), rows["target"].to_numpy()
    every_1 = median_seconds(lambda: walk_forward(x, y, min_train=MIN_TRAIN), REPEATS)
    every_10 = median_seconds(lambda: walk_forward(x, y, min_train=MIN_TRAIN, every=10), REPEATS)
    memory = peak_mib(lambda: walk_forward(x, y, min_train=MIN_TRAIN))
    naive, extrapolated = naive_seconds(x, y)
    check = walk_forward(x, y, min_train=MIN_TRAIN)
    last = naive_refit(x, y, len(y) - 1)
    error = float(np.max(np.abs(np.append(check.coef[-1], check.intercept[-1]) - last) / np.abs(last)))
    fit = median_seconds(lambda: train_forecaster(candles, lags=LAGS), repeats=3)
    split = rows["open_time"][int(0.75 * rows.height)]
    orders = median_seconds(
        lambda: compare_orders(candles, max_lags=6, min_train=MIN_TRAIN, test_start=split), repeats=3
    )
    naive_text = f"{naive:.2f} s" + (" (extrapolated)" if extrapolated else "")
    return [
        f"| {name} | {len(y):,} | {len(y) - MIN_TRAIN:,} | {every_1 * 1e3:.1f} ms | {every_10 * 1e3:.1f} ms "
        f"| {memory:.1f} MiB | {naive_text} | {naive / every_1:,.0f}x | {error:.1e} | {fit * 1e3:.0f} ms "
        f"| {orders * 1e3:.0f} ms |"
    ]


def main() -> None:
    lines = [
        f"Machine: {platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}; "
        f"AR({LAGS}), expanding window from row {MIN_TRAIN}; median of {REPEATS} runs.",
        "",
        "| series | rows | refits (every 1) | walk_forward every 1 | every 10 | peak memory "
        "| naive lstsq loop "
        "| speed-up | rel. error last refit | train_forecaster (L-BFGS) | compare_orders AR(1..6) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    train_forecaster(synthetic_candles(500), lags=LAGS)  # warm-up: torch imports its compiler on first use
    if cache_path().exists():
        lines += bench("real ADAUSDT 12h cache", read_cache())
        run_forecast_study(ForecastParams())  # warm-up
        study = median_seconds(lambda: run_forecast_study(ForecastParams()), repeats=3)
        study_line = f"`run_forecast_study` with the notebook's defaults (real data, warm): {study:.2f} s."
    else:
        lines.append(f"| real data: not cached ({cache_path().name}); run `make data` | | | | | | | | | | |")
        study_line = "`run_forecast_study`: not timed (no real data cached)."
    lines += bench("synthetic, 100k candles", synthetic_candles(100_000, seed=1))
    print("\n".join([*lines, "", study_line]))


if __name__ == "__main__":
    main()
