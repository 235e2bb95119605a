"""The forecasting report's derived tables: fit check, squared-error gain, window scores, yearly tests,
MSEs side by side, and the test verdicts.

>>> import polars as pl
>>> frame = pl.DataFrame({"open_time": [1, 2, 3], "target": [0.02, -0.01, 0.03], "y_hat": [0.01, 0.01, 0.0]})
>>> [round(g, 6) for g in sse_gain_curve(frame)["cum_gain"]]
[0.0003, 0.0, 0.0]
"""

from __future__ import annotations

import numpy as np
import polars as pl

from adalib.forecast.evaluation import by_year, score_table
from adalib.forecast.model import Forecaster, ols

ALPHA = 0.05
YEARLY_TESTS = ("dm", "pt", "cw")


def fit_check(forecaster: Forecaster, features: np.ndarray, target: np.ndarray) -> float:
    """Largest relative difference between the fitted (torch) and closed-form least-squares
    coefficients ``a_1..a_p, b`` on the training rows (contract: < 1e-4).

    >>> f = Forecaster((0.5,), 0.0, 1, 0.1, "ADAUSDT", "12h", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z")
    >>> fit_check(f, np.array([[1.0], [2.0], [3.0], [4.0]]), np.array([0.5, 1.0, 1.5, 2.0])) < 1e-12
    True
    """
    coef, intercept = ols(features, target)
    fitted = np.append(forecaster.coef, forecaster.intercept)
    reference = np.append(coef, intercept)
    return float(np.max(np.abs(fitted - reference)) / np.max(np.abs(reference)))


def sse_gain_curve(frame: pl.DataFrame) -> pl.DataFrame:
    """``open_time, cum_gain``: the running sum of ``e_zero^2 - e_model^2 = target^2 - (target - y_hat)^2``.

    It climbs while the model beats the zero forecast and falls while it loses.
    """
    gain = pl.col("target") ** 2 - (pl.col("target") - pl.col("y_hat")) ** 2
    return frame.select("open_time", cum_gain=gain.cum_sum())


def window_scores(fixed_test: pl.DataFrame, train_mean: float, walk: pl.DataFrame) -> pl.DataFrame:
    """``score_table`` of the fixed model on the test window and of the walk-forward on the test
    window, the full history and each calendar year; the ``window`` names say which.

    >>> from datetime import datetime, UTC
    >>> walk = pl.DataFrame({"open_time": [datetime(2021, 12, 31, h, tzinfo=UTC) for h in (0, 12)]
    ...                      + [datetime(2022, 1, 1, h, tzinfo=UTC) for h in (0, 12)],
    ...                      "target": [0.01, -0.02, 0.03, 0.01], "y_hat": [0.0, 0.01, 0.01, -0.01],
    ...                      "bench_mean": [0.0] * 4})
    >>> window_scores(walk.tail(2), 0.0, walk)["window"].to_list()[2:]
    ['walk-forward, full history', 'walk-forward, 2021', 'walk-forward, 2022']
    """
    wf_test = walk.filter(pl.col("open_time") >= fixed_test["open_time"][0])
    return score_table(
        {
            "fixed model, test window": fixed_test.select("open_time", "y_hat", "target").with_columns(
                bench_mean=pl.lit(train_mean, dtype=pl.Float64)
            ),
            "walk-forward, test window": wf_test,
            "walk-forward, full history": walk,
            **{f"walk-forward, {year}": frame for year, frame in by_year(walk).items()},
        }
    )


def yearly_tests(scores: pl.DataFrame, alpha: float = ALPHA) -> pl.DataFrame:
    """The calendar-year rows of ``window_scores`` with their DM, PT and Clark-West p-values and
    the multiple-testing verdict: ``nominal`` (some p < ``alpha``) and ``bonferroni`` (some p below
    ``alpha`` divided by the number of tests, 3 per year). ``level`` is that Bonferroni level.

    A DM rejection counts only where the model's loss is lower (``dm_stat < 0``).

    >>> scores = pl.DataFrame({"window": ["walk-forward, 2021", "walk-forward, 2022"], "n": [700, 700],
    ...     "r2_oos": [0.0, 0.0], "hit_rate": [0.5, 0.5], "dm_stat": [1.0, 1.0], "dm_pvalue": [0.5, 0.5],
    ...     "pt_pvalue": [0.03, 0.001], "cw_pvalue": [0.5, 0.5]})
    >>> yearly_tests(scores).select("year", "nominal", "bonferroni").rows()
    [('2021', True, False), ('2022', True, True)]
    """
    years = scores.filter(pl.col("window").str.contains(r"^walk-forward, \d{4}$"))
    level = alpha / max(1, len(YEARLY_TESTS) * years.height)
    return years.select(
        year=pl.col("window").str.strip_prefix("walk-forward, "),
        n=pl.col("n"),
        r2_oos=pl.col("r2_oos"),
        hit_rate=pl.col("hit_rate"),
        dm_pvalue=pl.col("dm_pvalue"),
        pt_pvalue=pl.col("pt_pvalue"),
        cw_pvalue=pl.col("cw_pvalue"),
        nominal=_rejects(alpha),
        bonferroni=_rejects(level),
        level=pl.lit(level),
    )


def _rejects(level: float) -> pl.Expr:
    dm = (pl.col("dm_pvalue") < level) & (pl.col("dm_stat") < 0)
    return (dm | (pl.col("pt_pvalue") < level) | (pl.col("cw_pvalue") < level)).fill_null(False)


def mse_table(scores: dict[str, float]) -> pl.DataFrame:
    """The test window's MSEs side by side: ``forecast, mse, minus_zero`` (MSE minus the zero
    forecast's) and ``r2_vs_zero`` (``1 - mse / mse_zero``), for the model, the zero forecast and
    the training mean (``scores``: ``mse_test``, ``mse_test_zero``, ``mse_test_mean`` as in
    ``model_metrics``).

    >>> mse_table({"mse_test": 1.5e-3, "mse_test_zero": 1.6e-3, "mse_test_mean": 1.6e-3})["minus_zero"][0]
    -0.0001...
    """
    names = ("model", "zero forecast", "training mean")
    mse = [scores["mse_test"], scores["mse_test_zero"], scores["mse_test_mean"]]
    zero = scores["mse_test_zero"]
    return pl.DataFrame(
        {
            "forecast": names,
            "mse": mse,
            "minus_zero": [m - zero for m in mse],
            "r2_vs_zero": [1 - m / zero for m in mse],
        }
    )


def significance_table(scores: dict[str, float], mz: dict[str, float], alpha: float = ALPHA) -> pl.DataFrame:
    """The forecast tests of one window: ``test, null, sided, stat, p_value, verdict`` for
    Diebold-Mariano, Pesaran-Timmermann, Clark-West and the Mincer-Zarnowitz slope (= 0).

    ``verdict`` says whether the p-value is below ``alpha`` (DM only where the model's loss is lower).

    >>> s = {"dm_stat": -2.5, "dm_pvalue": 0.01, "pt_stat": 0.1, "pt_pvalue": 0.46, "cw_stat": 2.0,
    ...      "cw_pvalue": 0.02}
    >>> significance_table(s, {"slope": 1.0, "slope_se_hc0": 2.0, "slope_pvalue": 0.6})["verdict"].to_list()
    ['rejects at 5%', 'no rejection at 5%', 'rejects at 5%', 'no rejection at 5%']
    """
    return pl.DataFrame(
        {
            "test": ["Diebold-Mariano", "Pesaran-Timmermann", "Clark-West", "Mincer-Zarnowitz slope"],
            "null": [
                "equal MSE to the zero forecast",
                "signs of forecast and return independent",
                "no gain over the nested zero forecast",
                "slope of return on forecast = 0",
            ],
            "sided": ["two", "one", "one", "two"],
            "stat": [
                scores["dm_stat"],
                scores["pt_stat"],
                scores["cw_stat"],
                mz["slope"] / mz["slope_se_hc0"],
            ],
            "p_value": [scores["dm_pvalue"], scores["pt_pvalue"], scores["cw_pvalue"], mz["slope_pvalue"]],
            "verdict": [
                _verdict(scores["dm_pvalue"] < alpha and scores["dm_stat"] < 0, alpha),
                _verdict(scores["pt_pvalue"] < alpha, alpha),
                _verdict(scores["cw_pvalue"] < alpha, alpha),
                _verdict(mz["slope_pvalue"] < alpha, alpha),
            ],
        }
    )


def _verdict(rejects: bool, alpha: float) -> str:
    return f"rejects at {alpha:.0%}" if rejects else f"no rejection at {alpha:.0%}"


def significance(pvalue: float, alpha: float = ALPHA) -> str:
    """``"significant at 5%"`` or ``"not significant at 5%"`` (NaN is not significant).

    >>> significance(0.03), significance(float("nan"))
    ('significant at 5%', 'not significant at 5%')
    """
    word = "significant" if pvalue < alpha else "not significant"
    return f"{word} at {alpha:.0%}"
