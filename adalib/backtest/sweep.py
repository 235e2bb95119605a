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
from adalib.backtest.dense import simulate_shared
from adalib.backtest.engine import checked_funding, grid_of, market_of
from adalib.backtest.inputs import candle_arrays
from adalib.backtest.kernels import simulate
from adalib.backtest.metrics import TRADE_FIELDS, metrics_arrays, to_table, trade_sums
from adalib.backtest.runs import shared_runs

SHARED_BLOCK_CELLS = 262_144  # (configuration, candle) cells at once, configurations sharing one signal
BLOCK_CELLS = 131_072  # the same for the general kernel (stops, liquidations that re-open)
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
    market = market_of(c, history)
    buy_hold = float(c.close[-1] / c.open[1] - 1)
    directions = [v[2] for v in variants]
    done: list[tuple[np.ndarray, dict[str, np.ndarray]]] = []  # (cfg numbers, their metrics) per block
    split: list[np.ndarray] = []  # configurations that need the general kernel
    columns = max(1, SHARED_BLOCK_CELLS // c.n)
    for v, direction in enumerate(directions):
        for per_bar in (False, True):
            group = [j for j, cfg in enumerate(combos) if (cfg.mode == "per_bar") == per_bar]
            stops = [j for j in group if combos[j].stop_loss is not None]
            split.append(v * len(combos) + np.array(stops, dtype=np.int64))
            group = [j for j in group if combos[j].stop_loss is None]
            if not group:
                continue
            runs = shared_runs(market, direction, per_bar)
            for k in range(0, len(group), columns):
                rows = v * len(combos) + np.array(group[k : k + columns])
                block = grid_of([configs[r][1] for r in rows], history is not None)
                shared_block, shared = simulate_shared(market, runs, block)
                metrics = metrics_arrays(
                    shared_block.equity().T,  # (candles, configurations), each configuration contiguous
                    shared_block.exposure(),
                    buy_hold_return=buy_hold,
                    trades=shared_block.sums(),
                    moments=True,
                )
                done.append((rows[shared], metrics))
                split.append(rows[~shared])
    rest = np.concatenate(split)
    if rest.size:  # one parameter combination per block where it can (scalars in the kernels)
        rest = rest[np.lexsort((rest // len(combos), rest % len(combos)))]
        per_block = max(1, BLOCK_CELLS // c.n, min(rest.size, MAX_BLOCK_CELLS // c.n))
        stacked = np.stack(directions, axis=1)
        for k in range(0, rest.size, per_block):
            rows = rest[k : k + per_block]
            out = simulate(
                market,
                stacked[:, rows // len(combos)],
                grid_of([configs[r][1] for r in rows], history is not None),
            )
            exposure = np.count_nonzero(out["position"], axis=0)
            sums = trade_sums({f: out[f] for f in (*TRADE_FIELDS, "alive")}, rows.size)
            done.append(
                (
                    rows,
                    metrics_arrays(
                        out["equity"], exposure, buy_hold_return=buy_hold, trades=sums, moments=True
                    ),
                )
            )
    back = np.argsort(np.concatenate([rows for rows, _ in done]))  # back in ``cfg`` order
    metrics_rows = to_table({k: np.concatenate([m[k] for _, m in done])[back] for k in done[0][1]})
    return pl.concat([table, metrics_rows.drop("initial_capital")], how="horizontal")
