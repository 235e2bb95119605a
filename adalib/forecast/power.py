"""How much the forecast tests can see: the Mincer-Zarnowitz slope's interval and minimum detectable effects.

A test that does not reject says little unless it could have rejected. The
Mincer-Zarnowitz regression ``target = c + slope * y_hat`` gives an interval for the
slope (1 for an efficient forecast, 0 for a useless one); ``minimum_detectable`` gives
the smallest effect that a 5% test finds with 80% power at the sample size.

>>> mde = minimum_detectable(1110)
>>> round(mde["r2"], 4), round(mde["hit_rate"], 4)
(0.007, 0.5373)
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, stats

from adalib.forecast.evaluation import ols_table


def mincer_zarnowitz(y_hat: np.ndarray, target: np.ndarray, *, level: float = 0.95) -> dict[str, float]:
    """Regress ``target`` on ``y_hat``: slope, intercept, White (HC0) standard error, the slope's interval.

    ``slope_low`` / ``slope_high`` are ``slope -/+ z * se_hc0`` (normal, ``level`` two-sided);
    ``slope_pvalue`` tests slope = 0 (two-sided, robust t against the normal).

    >>> mz = mincer_zarnowitz(np.array([0.1, -0.1, 0.2, 0.0]), np.array([0.2, -0.3, 0.1, 0.1]))
    >>> round(mz["slope"], 4), mz["slope_low"] < mz["slope"] < mz["slope_high"]
    (1.3, True)
    """
    table = ols_table(np.asarray(y_hat, dtype=np.float64).reshape(-1, 1), target, ["y_hat"]).row(
        0, named=True
    )
    z = float(stats.norm.ppf(0.5 + level / 2))
    slope, se = float(table["coef"]), float(table["std_err_hc0"])
    intercept = float(np.mean(target) - slope * np.mean(y_hat))
    return {
        "n": int(np.size(target)),
        "slope": slope,
        "intercept": intercept,
        "slope_se_hc0": se,
        "slope_low": slope - z * se,
        "slope_high": slope + z * se,
        "slope_pvalue": float(2 * stats.norm.sf(abs(slope / se))) if se > 0 else math.nan,
        "level": level,
    }


def minimum_detectable(n: int, *, alpha: float = 0.05, power: float = 0.8) -> dict[str, float]:
    """Smallest effects a level-``alpha`` test detects with probability ``power`` on ``n`` forecasts.

    - ``r2``: the squared correlation between forecast and return that a two-sided test of
      the slope (or of equal MSE) detects: the test statistic is about
      ``sqrt(n) * rho / sqrt(1 - rho^2)``, so ``rho^2 = d^2 / (n + d^2)``,
      ``d = z_{1-alpha/2} + z_{power}``.
    - ``r2_one_sided``: the same for a one-sided test such as Clark-West (``z_{1-alpha}``).
    - ``hit_rate``: the hit rate ``h`` that a one-sided test of ``h = 0.5`` detects:
      ``(h - 0.5) sqrt(n) = z_{1-alpha} * 0.5 + z_{power} * sqrt(h (1 - h))``.
    - ``coin_band``: half the two-sided ``1 - alpha`` band of a coin's hit rate,
      ``z_{1-alpha/2} * 0.5 / sqrt(n)``.

    >>> round(minimum_detectable(400)["hit_rate"], 3), round(minimum_detectable(400)["coin_band"], 3)
    (0.562, 0.049)
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    z_power = float(stats.norm.ppf(power))
    z_two, z_one = float(stats.norm.ppf(1 - alpha / 2)), float(stats.norm.ppf(1 - alpha))
    d_two, d_one = z_two + z_power, z_one + z_power

    def excess(h: float) -> float:
        return (h - 0.5) * math.sqrt(n) - z_one * 0.5 - z_power * math.sqrt(h * (1 - h))

    return {
        "n": int(n),
        "alpha": alpha,
        "power": power,
        "r2": d_two**2 / (n + d_two**2),
        "r2_one_sided": d_one**2 / (n + d_one**2),
        "hit_rate": float(optimize.brentq(excess, 0.5, 1.0)),
        "coin_band": z_two * 0.5 / math.sqrt(n),
    }


def detection_power(n: int, r2: float, *, alpha: float = 0.05) -> float:
    """Probability that a two-sided level-``alpha`` test finds a forecast with population ``r2`` on ``n``
    forecasts: ``Phi(d - z) + Phi(-d - z)`` with ``d = sqrt(n r2 / (1 - r2))``, ``z = z_{1-alpha/2}``
    (the inverse of ``minimum_detectable``'s ``r2``).

    >>> round(detection_power(1110, minimum_detectable(1110)["r2"]), 3)
    0.8
    """
    if not 0 <= r2 < 1:
        raise ValueError(f"r2 must be in [0, 1), got {r2!r}")
    d, z = math.sqrt(n * r2 / (1 - r2)), float(stats.norm.ppf(1 - alpha / 2))
    return float(stats.norm.cdf(d - z) + stats.norm.cdf(-d - z))
