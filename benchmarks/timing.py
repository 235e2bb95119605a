"""The timers the benchmark scripts share."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np


def run_times(fn: Callable[[], object], repeats: int, *, warm_up: bool = False) -> list[float]:
    """Wall time of each of ``repeats`` calls of ``fn`` (after one untimed call if ``warm_up``)."""
    if warm_up:
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def median_seconds(fn: Callable[[], object], repeats: int, *, warm_up: bool = False) -> float:
    """Median wall time of ``repeats`` calls of ``fn`` (after one untimed call if ``warm_up``)."""
    return statistics.median(run_times(fn, repeats, warm_up=warm_up))


def quartiles(times: list[float]) -> tuple[float, float, float]:
    """The first quartile, the median and the third quartile of ``times``."""
    q1, q2, q3 = np.percentile(times, [25, 50, 75])
    return float(q1), float(q2), float(q3)
