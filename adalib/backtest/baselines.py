"""What the model's signal is compared with: simple rules and random signals shaped like it.

- The contract's baselines (section 3): ``always_long`` (s_t = +1), ``momentum``
  (s_t = sign(ret_t)) and ``reversal`` (s_t = -sign(ret_t)), each run through the same
  backtest as the strategy (same segment, mode, costs, leverage, funding and stop).
- Random signals with the model's exposure: a Markov chain over the model's signal values
  whose stationary shares are the model's (long, short, flat) and whose chance of changing
  from one candle to the next is the model's flip rate. Leaving state s, the chain moves to
  state j with probability ``c * pi_j``; this is reversible with stationary law ``pi`` and
  flips with probability ``c * (1 - sum pi^2)``, so ``c`` is set to give the model's flip rate.
  Such a signal trades as often and is long as often as the model, with no information;
  the model's percentile among them is its rank against luck with the same costs.

>>> import numpy as np
>>> model = np.array([1, 1, -1, -1, 1, -1, 1, 1, 1, -1] * 50, dtype=np.int8)
>>> shape = signal_shape(model)
>>> round(shape["long_share"], 2), round(shape["flip_rate"], 2)
(0.6, 0.6)
>>> random = random_signals(model, 2000, seed=0)
>>> abs(float((random == 1).mean()) - 0.6) < 0.02
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl

from adalib.backtest import BacktestConfig, sweep

BASELINES = ("always_long", "momentum", "reversal")
BASELINE_FIELDS = ("final_equity", "total_return", "sharpe", "max_drawdown", "n_trades")
STATES = np.array([-1, 0, 1], dtype=np.int8)
# signal columns per sweep: a frame of a thousand columns makes every schema look-up slow
SIGNALS_PER_SWEEP = 100


def baseline_signals(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with the Int8 signal columns ``always_long``, ``momentum`` and ``reversal`` made from its
    ``ret`` column (the forecasts' log return of each candle; 0 gives a flat signal).

    >>> f = pl.DataFrame({"ret": [0.1, -0.2, 0.0]})
    >>> baseline_signals(f).select(BASELINES).rows()
    [(1, 1, -1), (1, -1, 1), (1, 0, 0)]
    """
    if "ret" not in frame.columns:
        raise ValueError(f"frame: missing column 'ret' (the candle's log return); have {frame.columns}")
    sign = pl.col("ret").sign().fill_null(0).cast(pl.Int8)
    return frame.with_columns(always_long=pl.lit(1, pl.Int8), momentum=sign, reversal=(-sign).cast(pl.Int8))


def baseline_metrics(
    frame: pl.DataFrame, config: BacktestConfig, *, funding: pl.DataFrame | None = None
) -> dict[str, dict[str, Any]]:
    """The ``baselines`` object of backtest_metrics.json: for each baseline the fields of
    ``BASELINE_FIELDS`` of the same backtest as the strategy (``config``, ``funding``) on its signal.

    ``frame``: the segment frame with ``ret`` (see ``baseline_signals``).

    >>> from adalib.backtest.engine import demo_frame
    >>> frame = demo_frame().with_columns(ret=pl.col("close").log().diff().fill_null(0.0))
    >>> got = baseline_metrics(frame, BacktestConfig(fee_rate=0.0))
    >>> got["always_long"]["n_trades"], sorted(got["momentum"])
    (1, ['final_equity', 'max_drawdown', 'n_trades', 'sharpe', 'total_return'])
    """
    table = sweep(baseline_signals(frame), base=config, signal=list(BASELINES), funding=funding)
    return {
        row["signal"]: {field: row[field] for field in BASELINE_FIELDS} for row in table.iter_rows(named=True)
    }


def signal_shape(direction: np.ndarray) -> dict[str, float]:
    """Long, short and flat shares of a signal, and its flip rate (share of candles t >= 1 whose signal
    differs from that of candle t - 1)."""
    s = np.asarray(direction)
    if s.size < 2:
        raise ValueError(f"signal_shape: need at least 2 signals, got {s.size}")
    return {
        "long_share": float((s == 1).mean()),
        "short_share": float((s == -1).mean()),
        "flat_share": float((s == 0).mean()),
        "flip_rate": float((s[1:] != s[:-1]).mean()),
    }


def random_signals(direction: np.ndarray, n: int, *, seed: int) -> np.ndarray:
    """``(n, T)`` Int8 random signals with the stationary shares and flip rate of ``direction`` (T values).

    The flip rate is capped at the largest a chain with these shares can have (a signal that is long
    95% of the time cannot flip at every candle). A constant signal gives ``n`` copies of it.
    The loop runs over candles, each step drawing all ``n`` signals at once.

    >>> random_signals(np.array([1, -1, 1, -1, 1], dtype=np.int8), 3, seed=0).shape
    (3, 5)
    """
    shape = signal_shape(direction)
    pi = np.array([shape["short_share"], shape["flat_share"], shape["long_share"]])
    t = np.asarray(direction).size
    rng = np.random.default_rng(seed)
    out = np.empty((n, t), dtype=np.int8)
    out[:, 0] = STATES[rng.choice(3, size=n, p=pi)]
    spread = 1 - float((pi**2).sum())  # 0 for a constant signal
    if spread <= 0:
        out[:] = out[:, :1]
        return out
    # leaving a visited state s has chance c * (1 - pi_s), at most 1
    c = min(shape["flip_rate"] / spread, 1 / (1 - pi[pi > 0].min()))
    state = out[:, 0].astype(np.int64) + 1  # index into STATES
    rows = np.arange(n)
    for k in range(1, t):
        leave = rng.random(n) < c * (1 - pi[state])
        # the new state is drawn from pi restricted to the other states
        weights = np.tile(pi, (n, 1))
        weights[rows, state] = 0.0
        bounds = weights.cumsum(axis=1)
        u = rng.random(n) * bounds[:, -1]
        drawn = np.minimum((u[:, None] >= bounds).sum(axis=1), 2)
        state = np.where(leave, drawn, state)
        out[:, k] = STATES[state]
    return out


def random_signal_table(
    frame: pl.DataFrame,
    config: BacktestConfig,
    *,
    n: int = 1000,
    seed: int = 0,
    funding: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Backtest ``n`` random signals shaped like ``frame['direction']`` (vectorised sweeps of
    ``SIGNALS_PER_SWEEP`` signal columns each): one row per random signal with its ``final_equity``,
    ``total_return``, ``sharpe``, ``max_drawdown`` and ``n_trades``."""
    signals = random_signals(frame["direction"].to_numpy(), n, seed=seed)
    candles = frame.select("open_time", "open", "high", "low", "close")
    parts = []
    for first in range(0, n, SIGNALS_PER_SWEEP):
        ks = range(first, min(n, first + SIGNALS_PER_SWEEP))
        wide = candles.with_columns(pl.Series(f"random_{k}", signals[k], dtype=pl.Int8) for k in ks)
        parts.append(sweep(wide, base=config, signal=[f"random_{k}" for k in ks], funding=funding))
    table = pl.concat(parts)
    return table.select("signal", "final_equity", "total_return", "sharpe", "max_drawdown", "n_trades")


def percentile(values: pl.Series, value: float | None) -> float:
    """Share of ``values`` below ``value``, ties counted half (the mid-rank percentile, in [0, 1]);
    NaN when ``value`` or every value is undefined.

    >>> percentile(pl.Series([1.0, 2.0, 3.0, None]), 2.0)
    0.5
    """
    x = values.drop_nulls().drop_nans().to_numpy()
    if value is None or not math.isfinite(value) or x.size == 0:
        return math.nan
    return float(((x < value).sum() + 0.5 * (x == value).sum()) / x.size)
