"""Parameter sweeps: many backtests of one candle series, one row of metrics per configuration.

>>> from adalib.backtest import BacktestConfig
>>> from adalib.backtest.engine import demo_frame
>>> table = sweep(demo_frame(), mode=["hold", "per_bar"], fee_rate=[0.0, 0.0005], leverage=[1.0, 2.0])
>>> table.height, table.columns[:4]
(8, ['cfg', 'signal', 'threshold', 'mode'])

Every axis is a ``BacktestConfig`` field with a list of values (the others come from
``base``); the sweep runs their cartesian product for every signal. ``signal`` names columns
of ``frame``: an integer column is a direction (-1, 0, 1) used as is (a walk-forward
``direction``, a random signal); a float column is a forecast ``y_hat``, turned into directions
by each ``threshold`` (+1 above it, -1 below minus it, else 0). Configurations run in chunks
(``adalib.backtest.kernels``), so memory stays bounded whatever the grid.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import polars as pl

from adalib.backtest.config import CONFIG_FIELDS, DEFAULT_CONFIG, BacktestConfig, BacktestError
from adalib.backtest.engine import checked_funding, grid_of, market_of
from adalib.backtest.inputs import candle_arrays
from adalib.backtest.kernels import simulate
from adalib.backtest.metrics import TRADE_FIELDS, metrics_arrays, to_table

BLOCK_CELLS = 131_072  # (configuration, candle) cells simulated at once: the arrays stay in the caches
MAX_BLOCK_CELLS = 1_048_576  # the bound on a block's cells: about 15 arrays of 8 MiB at most in flight


def _axis(value: Any) -> list[Any]:
    return list(value) if isinstance(value, Iterable) and not isinstance(value, str) else [value]


def sweep(
    frame: pl.DataFrame,
    base: BacktestConfig = DEFAULT_CONFIG,
    *,
    signal: str | Sequence[str] = "direction",
    threshold: float | Sequence[float] = 0.0,
    funding: pl.DataFrame | None = None,
    **axes: Sequence[Any],
) -> pl.DataFrame:
    """Backtest every combination of the axes for every signal; one row per configuration.

    Columns: ``cfg``, ``signal``, ``threshold`` (null for integer signals), every
    ``BacktestConfig`` field, then the backtest_metrics.json fields, then ``skew``,
    ``kurtosis`` (not excess) and ``n_periods`` of the candle returns (for ``deflated_sharpe``).
    Each row equals ``run_backtest`` on the same settings. Every value is checked before any work.

    >>> from adalib.backtest.engine import demo_frame
    >>> t = sweep(demo_frame(), fee_rate=[0.0, 0.001])
    >>> t["final_equity"][0] > t["final_equity"][1]
    True
    """
    unknown = [a for a in axes if a not in CONFIG_FIELDS]
    if unknown:
        raise BacktestError(f"parameter {unknown[0]}: not a backtest parameter (one of {CONFIG_FIELDS})")
    grid = {name: _axis(values) for name, values in axes.items()}
    for name, values in grid.items():  # every value of every axis, one at a time
        if not values:
            raise BacktestError(f"parameter {name}: no values to sweep")
        for value in values:
            replace(base, **{name: value})
    names = _axis(signal)
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise BacktestError(f"frame: missing column(s) {missing}; have {frame.columns}")
    integer = tuple(n for n in names if frame.schema[n].is_integer())
    floats = tuple(n for n in names if n not in integer)
    c = candle_arrays(frame, directions=integer, forecasts=floats)
    thresholds = [float(t) for t in _axis(threshold)]
    bad = [t for t in thresholds if not t >= 0]
    if bad:
        raise BacktestError(f"parameter threshold: must be >= 0, got {bad[0]}")
    history = checked_funding(c, funding)
    variants: list[tuple[str, float | None, np.ndarray]] = []  # (signal, threshold or None, directions)
    for name in names:
        if name in integer:
            variants.append((name, None, c.signals[name]))
            continue
        y_hat = c.signals[name]
        for th in thresholds:
            variants.append((name, th, ((y_hat > th).astype(np.int8) - (y_hat < -th).astype(np.int8))))
    combos = [
        replace(base, **dict(zip(grid, combo, strict=True))) for combo in itertools.product(*grid.values())
    ]
    configs = [(v, cfg) for v in range(len(variants)) for cfg in combos]
    table = pl.DataFrame(
        {
            "cfg": pl.Series(np.arange(len(configs)), dtype=pl.UInt32),
            "signal": pl.Series([variants[v][0] for v, _ in configs], dtype=pl.String),
            "threshold": pl.Series([variants[v][1] for v, _ in configs], dtype=pl.Float64),
            **{
                f: pl.Series(
                    [getattr(cfg, f) for _, cfg in configs], dtype=pl.String if f == "mode" else pl.Float64
                )
                for f in CONFIG_FIELDS
            },
        }
    )
    market, chunks = market_of(c, history), []  # the metrics of each block
    # blocks of about BLOCK_CELLS cells; on long series, up to MAX_BLOCK_CELLS to keep a parameter
    # combination's signals together (narrow blocks make the scans down the candles slow)
    per_block = max(1, BLOCK_CELLS // c.n, min(len(variants), MAX_BLOCK_CELLS // c.n))
    buy_hold = float(c.close[-1] / c.open[1] - 1)
    directions = np.stack([v[2] for v in variants], axis=1)  # candles x variants
    which = np.array([v for v, _ in configs])
    order = []
    for rows in _blocks(len(variants), len(combos), per_block):
        block = grid_of([configs[r][1] for r in rows], history is not None)
        out = simulate(market, directions[:, which[rows]], block)
        trades = {f: out[f] for f in (*TRADE_FIELDS, "alive")}
        metrics = metrics_arrays(
            out["equity"], out["position"], buy_hold_return=buy_hold, trades=trades, moments=True
        )
        chunks.append(metrics)
        order.append(rows)
    back = np.argsort(np.concatenate(order))  # back in ``cfg`` order
    metrics_rows = to_table({k: np.concatenate([m[k] for m in chunks])[back] for k in chunks[0]})
    return pl.concat([table, metrics_rows.drop("initial_capital")], how="horizontal")


def _blocks(variants: int, combos: int, per_block: int) -> list[np.ndarray]:
    """The ``cfg`` numbers (variant-major: ``variant * combos + combo``) of each block. With many
    signals, a block holds one parameter combination (its parameters are then scalars in the kernels,
    not per-trade gathers); else blocks run through the configurations in order."""
    if variants * 4 < per_block:
        everything = np.arange(variants * combos)
        return [everything[k : k + per_block] for k in range(0, everything.size, per_block)]
    per_combo = np.arange(variants) * combos
    return [per_combo[k : k + per_block] + j for j in range(combos) for k in range(0, variants, per_block)]
