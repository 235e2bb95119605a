"""Seeded block-bootstrap 95% intervals for the Sharpe ratio and the total return of equity curves.

A backtest's candle returns are autocorrelated in their volatility (calm and wild
stretches) and, in ``hold`` mode, in their sign (a position lasts several candles), so
resampling single candles would understate the spread. The block bootstraps keep runs of
consecutive returns together:

- ``"stationary"`` (Politis & Romano 1994): blocks start at uniform random candles and
  last a geometric number of candles with mean ``block``, wrapping around the end;
- ``"circular"`` (Politis & Romano 1992): blocks of exactly ``block`` candles, wrapping.

Every curve of a comparison is resampled with the same indices (paired), so the interval
of the difference "strategy minus buy-and-hold" is that of the same resampled history.
The blocks resample realised returns: a liquidation or stop stays where it happened
inside its block and is not re-simulated on the new path.

>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> r = rng.normal(0.001, 0.02, size=500)
>>> ci = bootstrap_intervals({"s": r}, n_boot=400, seed=0)
>>> row = ci.row(0, named=True)
>>> bool(row["sharpe_low"] < row["sharpe"] < row["sharpe_high"])
True
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from adalib.backtest.metrics import PERIODS_PER_YEAR

KINDS = ("stationary", "circular")


def default_block(n: int) -> int:
    """The block length used when none is given: ``ceil(n ** (1/3))`` (the usual rate for a Sharpe
    ratio's variance; 11 candles, five and a half days, for a thousand returns).

    >>> default_block(1000), default_block(2)
    (10, 2)
    """
    return max(1, math.ceil(n ** (1 / 3) - 1e-9))


def bootstrap_indices(n: int, n_boot: int, *, block: int, seed: int, kind: str = "stationary") -> np.ndarray:
    """``(n_boot, n)`` indices into a series of ``n`` returns, one resampled history per row.

    Vectorised: a row is made of blocks; a block starts at a uniform random index and its later
    positions step by one (modulo ``n``). ``stationary`` starts a new block at each position with
    probability ``1 / block``; ``circular`` every ``block`` positions.

    >>> idx = bootstrap_indices(6, 2, block=3, seed=0, kind="circular")
    >>> bool(((np.diff(idx[:, :3], axis=1) % 6) == 1).all())  # the first block is consecutive
    True
    """
    if kind not in KINDS:
        raise ValueError(f"parameter kind: must be one of {KINDS}, got {kind!r}")
    if n < 1 or n_boot < 1 or block < 1:
        raise ValueError(f"need n, n_boot and block >= 1; got n={n}, n_boot={n_boot}, block={block}")
    rng = np.random.default_rng(seed)
    positions = np.arange(n)
    if kind == "circular":
        new = np.broadcast_to(positions % block == 0, (n_boot, n))
    else:
        new = rng.random((n_boot, n)) < 1 / block
        new[:, 0] = True
    starts = rng.integers(0, n, size=(n_boot, n))
    # the position where the current block began, per row: a running maximum of the new-block positions
    began = np.maximum.accumulate(np.where(new, positions, 0), axis=1)
    first = np.take_along_axis(starts, began, axis=1)
    return (first + positions - began) % n


def _sharpe(returns: np.ndarray) -> np.ndarray:
    """Annualised Sharpe ratio of each row (NaN where a row's standard deviation is 0)."""
    sd = returns.std(axis=-1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = returns.mean(axis=-1) / sd * math.sqrt(PERIODS_PER_YEAR)
    return np.where(sd > 0, out, np.nan)


def _total_return(returns: np.ndarray) -> np.ndarray:
    return np.prod(1 + returns, axis=-1) - 1


def bootstrap_intervals(
    returns: dict[str, np.ndarray],
    *,
    n_boot: int = 2000,
    seed: int = 0,
    block: int | None = None,
    kind: str = "stationary",
    level: float = 0.95,
) -> pl.DataFrame:
    """Percentile intervals of Sharpe (annualised, 730 periods) and total return, one row per curve.

    ``returns``: name -> the T - 1 candle returns of an equity curve (``period_returns``), all of
    one length; a ``difference`` row "first minus second" is added when there are two curves.
    Columns: ``series``, ``sharpe`` and ``total_return`` of the actual history, their
    ``_low``/``_high`` bounds, ``p_sharpe_le_0`` (share of resampled Sharpe ratios at or below 0),
    ``n_boot``, ``block``, ``kind``. NaN Sharpe ratios of resamples (a flat resample) are left out
    of the quantiles.

    >>> import numpy as np
    >>> flat = np.zeros(50)
    >>> bootstrap_intervals({"flat": flat}, n_boot=50)["sharpe_low"].to_list()
    [None]
    """
    if not returns:
        raise ValueError("bootstrap_intervals: no return series given")
    series = {name: np.asarray(r, dtype=np.float64) for name, r in returns.items()}
    lengths = {r.shape for r in series.values()}
    if len(lengths) != 1 or len(next(iter(lengths))) != 1:
        raise ValueError(f"bootstrap_intervals: the series must be 1-d and of one length; got {lengths}")
    n = next(iter(series.values())).size
    if n < 2:
        raise ValueError(f"bootstrap_intervals: need at least 2 returns, got {n}")
    if not 0 < level < 1:
        raise ValueError(f"parameter level: must be in (0, 1), got {level}")
    block = default_block(n) if block is None else block
    idx = bootstrap_indices(n, n_boot, block=block, seed=seed, kind=kind)
    tails = [(1 - level) / 2, (1 + level) / 2]
    stats: dict[str, tuple[float, float, np.ndarray, np.ndarray]] = {}
    for name, r in series.items():
        resampled = r[idx]
        stats[name] = (
            float(_sharpe(r)),
            float(_total_return(r)),
            _sharpe(resampled),
            _total_return(resampled),
        )
    if len(series) == 2:
        (a, sa), (b, sb) = stats.items()
        stats[f"{a} minus {b}"] = (sa[0] - sb[0], sa[1] - sb[1], sa[2] - sb[2], sa[3] - sb[3])
    rows = []
    for name, (sharpe, total, boot_sharpe, boot_total) in stats.items():
        defined = boot_sharpe[np.isfinite(boot_sharpe)]
        s_low, s_high = np.quantile(defined, tails) if defined.size else (math.nan, math.nan)
        t_low, t_high = np.quantile(boot_total, tails)
        rows.append(
            {
                "series": name,
                "sharpe": sharpe,
                "sharpe_low": float(s_low),
                "sharpe_high": float(s_high),
                "total_return": total,
                "total_return_low": float(t_low),
                "total_return_high": float(t_high),
                "p_sharpe_le_0": float((defined <= 0).mean()) if defined.size else math.nan,
            }
        )
    table = pl.DataFrame(rows).fill_nan(None)
    return table.with_columns(n_boot=pl.lit(n_boot), block=pl.lit(block), kind=pl.lit(kind))
