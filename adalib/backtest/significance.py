"""How much a Sharpe ratio means: t statistic, probabilistic and deflated Sharpe ratios.

Picking the best of many configurations inflates its Sharpe ratio. ``deflated_sharpe``
answers "is the best one better than the best of as many worthless ones would look?"
(Bailey & López de Prado, 2014). scipy is imported only when a p-value is asked for.

>>> import numpy as np
>>> r = np.array([0.01, -0.02, 0.03, 0.0, 0.01])
>>> bool(np.isclose(sharpe_t_stat(r), r.mean() / r.std(ddof=1) * np.sqrt(len(r))))
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl

from adalib.backtest.config import BacktestError
from adalib.backtest.metrics import PERIODS_PER_YEAR

EULER_GAMMA = 0.5772156649015329


def _norm_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2))


def sharpe_t_stat(returns: np.ndarray) -> float:
    """t statistic of the mean return (``mean / (std / sqrt(n))``): per-period Sharpe times sqrt(n).

    >>> sharpe_t_stat(np.zeros(3))
    nan
    """
    r = np.asarray(returns, dtype=float)
    sd = r.std(ddof=1)
    return float(r.mean() / sd * math.sqrt(r.size)) if sd > 0 else float("nan")


def probabilistic_sharpe(
    sharpe: float, n_obs: int, skew: float = 0.0, kurtosis: float = 3.0, benchmark: float = 0.0
) -> float:
    """Probabilistic Sharpe ratio (Bailey & López de Prado 2012): P(true Sharpe > ``benchmark``).

    ``sharpe`` and ``benchmark`` are per period (not annualised); ``kurtosis`` is not excess.

    >>> round(probabilistic_sharpe(0.1, 101), 4)  # Phi(0.1 * 10 / sqrt(1 + 0.01 / 2))
    0.8407
    """
    spread = 1 - skew * sharpe + (kurtosis - 1) / 4 * sharpe**2
    if n_obs < 2 or not spread > 0:
        return float("nan")
    return _norm_cdf((sharpe - benchmark) * math.sqrt(n_obs - 1) / math.sqrt(spread))


def return_significance(returns: np.ndarray) -> dict[str, float]:
    """Sharpe (annualised), t statistic, one-sided p-value and PSR against 0 of candle returns.

    >>> sig = return_significance(np.array([0.01, -0.01, 0.02, 0.0]))
    >>> sig["n_periods"], round(sig["t_stat"], 4)
    (4, 0.7746)
    """
    from scipy import stats  # only here: a backtest never needs scipy

    r = np.asarray(returns, dtype=float)
    sd = r.std(ddof=1) if r.size > 1 else 0.0
    sr = r.mean() / sd if sd > 0 else float("nan")
    return {
        "n_periods": int(r.size),
        "sharpe": sr * math.sqrt(PERIODS_PER_YEAR),
        "t_stat": sharpe_t_stat(r) if r.size > 1 else float("nan"),
        "p_value": float(stats.t.sf(sharpe_t_stat(r), r.size - 1)) if sd > 0 else float("nan"),
        "psr": probabilistic_sharpe(sr, r.size, float(stats.skew(r)), float(stats.kurtosis(r, fisher=False)))
        if sd > 0
        else float("nan"),
    }


def expected_max_sharpe(n_trials: int, variance: float) -> float:
    """Expected maximum of ``n_trials`` Sharpe ratios whose true value is 0 and whose estimates
    have ``variance`` (Bailey & López de Prado 2014, eq. 2; per-period units in, same units out).

    >>> expected_max_sharpe(1, 0.1)
    0.0
    """
    if n_trials < 2 or not variance > 0:
        return 0.0
    from scipy import stats

    z1 = stats.norm.ppf(1 - 1 / n_trials)
    z2 = stats.norm.ppf(1 - 1 / (n_trials * math.e))
    return float(math.sqrt(variance) * ((1 - EULER_GAMMA) * z1 + EULER_GAMMA * z2))


def deflated_sharpe_ratio(
    sharpe: float, n_obs: int, n_trials: int, sharpe_variance: float, skew: float = 0.0, kurtosis: float = 3.0
) -> float:
    """DSR = PSR of ``sharpe`` against the expected maximum Sharpe of ``n_trials`` null trials.

    All Sharpe figures per period (not annualised); ``kurtosis`` not excess. A DSR above
    0.95 says the best result is unlikely to be the luck of the search.

    >>> round(deflated_sharpe_ratio(0.1581, 1250, 100, 0.002, -3.0, 10.0), 2)
    0.9
    """
    benchmark = expected_max_sharpe(n_trials, sharpe_variance)
    return probabilistic_sharpe(sharpe, n_obs, skew, kurtosis, benchmark)


def deflated_sharpe(table: pl.DataFrame, periods_per_year: int = PERIODS_PER_YEAR) -> dict[str, Any]:
    """The deflated Sharpe ratio of the best row of a ``sweep`` table.

    Every configuration with a defined Sharpe ratio counts as a trial: pass the table of the
    real choices (signal x threshold x mode, ...), not of cost scenarios. Returns the best row's
    annualised Sharpe, the annualised expected maximum Sharpe of as many null trials, the
    cross-trial Sharpe spread, its PSR against 0 and the DSR, plus the best configuration.

    >>> from adalib.backtest import sweep
    >>> from adalib.backtest.engine import demo_frame
    >>> out = deflated_sharpe(sweep(demo_frame(), mode=["hold", "per_bar"]))
    >>> out["n_trials"], 0 <= out["dsr"] <= out["psr"] <= 1
    (2, True)
    """
    trials = table.filter(pl.col("sharpe").is_not_null() & pl.col("sharpe").is_finite())
    if trials.height == 0:
        raise BacktestError("deflated_sharpe: no configuration has a defined Sharpe ratio (no trades?)")
    scale = math.sqrt(periods_per_year)
    per_period = trials["sharpe"].to_numpy() / scale
    variance = float(per_period.var(ddof=1)) if trials.height > 1 else 0.0
    best = trials.row(int(np.argmax(per_period)), named=True)
    sr = best["sharpe"] / scale
    args = (best["n_periods"], best["skew"], best["kurtosis"])
    sr0 = expected_max_sharpe(trials.height, variance)
    return {
        "n_trials": trials.height,
        "best_cfg": best["cfg"],
        "best_sharpe": best["sharpe"],
        "expected_max_sharpe": sr0 * scale,
        "sharpe_std": math.sqrt(variance) * scale,
        "psr": probabilistic_sharpe(sr, args[0], args[1], args[2], 0.0),
        "dsr": probabilistic_sharpe(sr, args[0], args[1], args[2], sr0),
    }
