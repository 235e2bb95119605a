"""The verdicts the forecasting report states, computed from the study (never typed into the notebook).

Each function returns a short phrase; the notebook's prose puts the numbers around it.

>>> interval_reading({"slope_low": -0.47, "slope_high": 1.68})
'includes both 0 (a useless forecast) and 1 (an efficient one): the test window cannot tell them apart'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from adalib.forecast.orders import best_orders
from adalib.forecast.power import detection_power

if TYPE_CHECKING:
    from adalib.forecast.study import ForecastStudy


def predictability(scores: dict[str, float], mse: float, mse_zero: float, alpha: float = 0.05) -> str:
    """The headline verdict of one window: accuracy (DM), or predictive content only (PT, Clark-West).

    >>> scores = {"dm_stat": 0.4, "dm_pvalue": 0.7, "pt_pvalue": 0.2, "cw_pvalue": 0.04}
    >>> print(predictability(scores, mse=1.2, mse_zero=1.1))
    some predictive content at 5% (Clark-West), yet an MSE above the zero forecast's: no gain in accuracy
    """
    if scores["dm_pvalue"] < alpha and scores["dm_stat"] < 0:
        return f"forecasts significantly more accurate than the zero forecast at {alpha:.0%}"
    rejecting = [name for name, key in _KEYS.items() if scores[key] < alpha]
    if not rejecting:
        return "no statistically significant predictability"
    accuracy = (
        "yet an MSE above the zero forecast's" if mse > mse_zero else "but an MSE not significantly lower"
    )
    return f"some predictive content at {alpha:.0%} ({', '.join(rejecting)}), {accuracy}: no gain in accuracy"


_KEYS = {"Pesaran-Timmermann": "pt_pvalue", "Clark-West": "cw_pvalue"}


def interval_reading(mz: dict[str, float]) -> str:
    """What the Mincer-Zarnowitz slope's interval excludes: 0 (no information), 1 (an efficient forecast)."""
    has_zero = mz["slope_low"] <= 0 <= mz["slope_high"]
    has_one = mz["slope_low"] <= 1 <= mz["slope_high"]
    if has_zero and has_one:
        return (
            "includes both 0 (a useless forecast) and 1 (an efficient one): "
            "the test window cannot tell them apart"
        )
    if has_zero:
        return "includes 0 but not 1: the forecast's scale is wrong and its information not established"
    if has_one:
        return "excludes 0 and includes 1: the forecast carries information at about the right scale"
    return "excludes both 0 and 1: the forecast carries information, at the wrong scale"


def yearly_reading(yearly: pl.DataFrame) -> str:
    """Which calendar years reject at 5%, and which survive the Bonferroni correction."""
    nominal = yearly.filter(pl.col("nominal"))["year"].to_list()
    survivors = yearly.filter(pl.col("bonferroni"))["year"].to_list()
    n_tests = 3 * yearly.height
    if not nominal:
        return f"no calendar year rejects at 5% ({n_tests} tests)"
    expected = f"about {0.05 * n_tests:.1f} of {n_tests} tests reject by chance alone"
    found = f"a rejection at 5% in {', '.join(nominal)}"
    if not survivors:
        return f"{found}, none surviving the Bonferroni correction ({expected})"
    return f"{found}; surviving the Bonferroni correction: {', '.join(survivors)}"


def orders_reading(orders: pl.DataFrame, window: str = "walk-forward") -> str:
    """The best order in a window of ``compare_orders`` and whether any order beats the zero forecast."""
    rows = orders.filter(pl.col("window") == window)
    best = best_orders(orders)[window]
    beat = rows.filter((pl.col("dm_stat") < 0) & (pl.col("dm_pvalue") < 0.05))["lags"].to_list()
    cw = rows.filter(pl.col("cw_pvalue") < 0.05)["lags"].to_list()
    lower = rows.filter(pl.col("mse") < pl.col("mse_zero"))["lags"].to_list()
    parts = [f"AR({best}) has the lowest out-of-sample MSE"]
    parts.append(f"an MSE below the zero forecast's: {_orders(lower)}")
    parts.append(f"significantly more accurate than zero (DM, 5%): {_orders(beat)}")
    parts.append(f"Clark-West rejects at 5%: {_orders(cw)}")
    return "; ".join(parts)


def _orders(lags: list[int]) -> str:
    return ", ".join(f"AR({p})" for p in lags) if lags else "none"


def acf_reading(acf: pl.DataFrame) -> str:
    """The lags whose autocorrelation lies outside the white-noise band, with their values."""
    outside = acf.filter(pl.col("acf").abs() > pl.col("band"))
    return (
        ", ".join(f"{lag} ({value:+.3f})" for lag, value in outside.select("lag", "acf").iter_rows())
        or "none"
    )


def fit_reading(rel_err: float) -> str:
    """The torch-vs-least-squares error as reported: digits below 1e-12 vary by CPU, so they are not shown.

    >>> fit_reading(3e-16), fit_reading(2.5e-9)
    ('below 1e-12', '2.5e-09')
    """
    return "below 1e-12" if rel_err < 1e-12 else f"{rel_err:.1e}"


def calibration_reading(calibration: pl.DataFrame) -> str:
    """How many confidence buckets have a hit rate within 1.96 standard errors of their mean confidence."""
    inside = calibration.filter(
        (pl.col("mean_confidence") - pl.col("hit_rate")).abs() <= 1.96 * pl.col("hit_rate_se")
    ).height
    return f"{inside} of {calibration.height} buckets"


def power_reading(probability: float, detected: bool) -> str:
    """What the tests' power says, given the chance they had of finding an effect of the in-sample size.

    >>> power_reading(0.8, detected=False).split("; ")[1]
    'that none was suggests a smaller effect out of sample, if any'
    """
    found = f"an effect as large as in sample would have been found with probability {probability:.0%}"
    if detected:
        return f"{found}, and the tests do reject"
    if probability >= 0.5:
        return f"{found}; that none was suggests a smaller effect out of sample, if any"
    return f"{found} only: not rejecting is no proof of unpredictability"


def advice(accurate: bool) -> str:
    """What the forecasts are good for, given whether they beat the zero forecast (DM) anywhere."""
    if accurate:
        return "the evidence is statistical, not economic: check that it survives fees in the backtest"
    return "a backtest of these signals measures fees and luck more than predictability"


def verdicts(study: ForecastStudy) -> dict[str, str]:
    """All the phrases of the report, by section.

    >>> from adalib.forecast.study import ForecastParams, run_forecast_study
    >>> params = ForecastParams(data_path="synthetic", start="2020-01-01", end="2020-07-01")
    >>> study = run_forecast_study(params)
    >>> sorted(verdicts(study))[:4]
    ['acf', 'advice', 'aic', 'bic']
    """
    m, full = study.metrics, study.score("walk-forward, full history")
    accurate = any(s["dm_pvalue"] < 0.05 and s["dm_stat"] < 0 for s in (m, full))
    criteria = study.criteria
    return {
        "acf": acf_reading(study.acf),
        "bic": str(criteria.sort("bic")["lags"][0]),
        "aic": str(criteria.sort("aic")["lags"][0]),
        "fit": fit_reading(study.fit_rel_err),
        "calibration": calibration_reading(study.calibration),
        "advice": advice(accurate),
        "power": power_reading(
            detection_power(m["n_test"], study.r2_in_sample),
            detected=bool((m["dm_pvalue"] < 0.05 and m["dm_stat"] < 0) or m["cw_pvalue"] < 0.05),
        ),
        "fixed": predictability(m, m["mse_test"], m["mse_test_zero"]),
        "walk_forward": predictability(full, full["mse"], full["mse_zero"]),
        "years": yearly_reading(study.yearly),
        "slope": interval_reading(study.mincer_zarnowitz),
        "orders": orders_reading(study.orders),
        "orders_test": orders_reading(study.orders, "test window"),
    }
