"""Out-of-sample statistics against hand-computed small cases (the arithmetic is written out)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adalib.forecast import (
    Forecaster,
    autocorrelations,
    by_year,
    calibration_table,
    clark_west,
    detection_power,
    diebold_mariano,
    fit_check,
    hit_rate,
    information_criteria,
    mincer_zarnowitz,
    minimum_detectable,
    model_metrics,
    mse_table,
    ols_table,
    oos_metrics,
    pesaran_timmermann,
    score_table,
    significance,
    significance_table,
    sse_gain_curve,
    window_scores,
    yearly_tests,
)

START = datetime(2024, 1, 1, tzinfo=UTC)


def phi(z: float) -> float:
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def t3_cdf(t: float) -> float:
    """Student t with 3 degrees of freedom, closed form (independent of scipy)."""
    return 0.5 + (t / (math.sqrt(3) * (1 + t * t / 3)) + math.atan(t / math.sqrt(3))) / math.pi


def test_diebold_mariano_hand_computed() -> None:
    e_model = np.array([0.1, -0.2, 0.1, 0.3])
    e_zero = np.array([0.2, -0.1, 0.3, 0.2])
    # d = e_model^2 - e_zero^2 = [0.01-0.04, 0.04-0.01, 0.01-0.09, 0.09-0.04] = [-0.03, 0.03, -0.08, 0.05]
    # mean(d) = -0.03 / 4 = -0.0075; deviations -0.0225, 0.0375, -0.0725, 0.0575
    # var0 = (0.00050625 + 0.00140625 + 0.00525625 + 0.00330625) / 4 = 0.010475 / 4 = 0.00261875
    # DM = -0.0075 / sqrt(0.00261875 / 4) * sqrt(3 / 4)
    expected = -0.0075 / math.sqrt(0.00261875 / 4) * math.sqrt(3 / 4)
    assert expected == pytest.approx(-0.253849, abs=1e-6)
    stat, pvalue = diebold_mariano(e_model, e_zero)
    assert stat == pytest.approx(expected, rel=1e-12)
    assert pvalue == pytest.approx(2 * (1 - t3_cdf(abs(expected))), rel=1e-10)  # two-sided, t(n - 1 = 3)
    assert diebold_mariano(e_zero, e_model)[0] == pytest.approx(-expected)  # symmetric in the roles


def test_diebold_mariano_undefined_cases() -> None:
    assert all(math.isnan(v) for v in diebold_mariano(np.array([0.1]), np.array([0.2])))
    # constant loss difference: var0 = 0
    assert all(math.isnan(v) for v in diebold_mariano(np.array([0.1, -0.1]), np.array([0.2, 0.2])))


def test_pesaran_timmermann_hand_computed() -> None:
    forecast = np.array([0.1, 0.2, 0.3, 0.1, 0.2, 0.5, -0.1, -0.2, -0.3, -0.1, 0.4])
    actual = np.array([0.5, 0.1, 0.2, 0.3, -0.1, 0.2, -0.3, 0.4, 0.1, -0.2, 0.0])
    # the last row has a zero target and is dropped: n = 10
    # x = forecast > 0: 1 1 1 1 1 1 0 0 0 0 -> Px = 0.6
    # y = actual > 0:   1 1 1 1 0 1 0 1 1 0 -> Py = 0.7
    # hits: 1 1 1 1 0 1 1 0 0 1 -> P = 0.7
    # Ps = 0.7*0.6 + 0.3*0.4 = 0.54; V = 0.54*0.46/10 = 0.02484
    # Vs = (0.4)^2*0.24/10 + (0.2)^2*0.21/10 + 4*0.7*0.6*0.3*0.4/100 = 0.00384 + 0.00084 + 0.002016 = 0.006696
    # PT = (0.7 - 0.54) / sqrt(0.02484 - 0.006696) = 0.16 / sqrt(0.018144)
    expected = 0.16 / math.sqrt(0.018144)
    assert expected == pytest.approx(1.187828, abs=1e-6)
    stat, pvalue = pesaran_timmermann(forecast, actual)
    assert stat == pytest.approx(expected, rel=1e-12)
    assert pvalue == pytest.approx(1 - phi(expected), rel=1e-10)  # one-sided
    assert hit_rate(forecast, actual) == pytest.approx(0.7)


def test_pesaran_timmermann_undefined_when_every_forecast_has_one_sign() -> None:
    # Px = 1: Ps = Py, V = Py(1-Py)/n, Vs = Py(1-Py)/n -> V - Vs = 0
    stat, pvalue = pesaran_timmermann(np.array([0.1, 0.2, 0.3]), np.array([0.1, -0.1, 0.2]))
    assert math.isnan(stat) and math.isnan(pvalue)


def test_clark_west_hand_computed() -> None:
    y_hat = np.array([0.1, -0.1, 0.2, 0.0])
    target = np.array([0.2, -0.3, -0.1, 0.1])
    # f = target^2 - ((target - y_hat)^2 - y_hat^2):
    #   0.04 - (0.01 - 0.01) = 0.04;  0.09 - (0.04 - 0.01) = 0.06;
    #   0.01 - (0.09 - 0.04) = -0.04; 0.01 - (0.01 - 0) = 0
    # mean(f) = 0.06 / 4 = 0.015; deviations 0.025, 0.045, -0.055, -0.015
    # var0 = (0.000625 + 0.002025 + 0.003025 + 0.000225) / 4 = 0.0059 / 4 = 0.001475
    expected = 0.015 / math.sqrt(0.001475 / 4)
    assert expected == pytest.approx(0.781133, abs=1e-6)
    stat, pvalue = clark_west(y_hat, target)
    assert stat == pytest.approx(expected, rel=1e-12)
    assert pvalue == pytest.approx(1 - phi(expected), rel=1e-10)  # one-sided: the model is better


def test_clark_west_is_not_the_mse_difference() -> None:
    # a forecast with the same MSE as zero still has CW > 0: the y_hat^2 term is the adjustment
    y_hat, target = np.array([0.1, 0.1]), np.array([0.05, 0.05])  # e_model^2 = e_zero^2 = 0.0025
    f = target**2 - ((target - y_hat) ** 2 - y_hat**2)  # = [0.01, 0.01]: constant -> undefined
    assert f.tolist() == pytest.approx([0.01, 0.01])
    assert all(math.isnan(v) for v in clark_west(y_hat, target))
    assert all(math.isnan(v) for v in clark_west(np.array([0.1]), np.array([0.2])))  # n < 2
    # equal MSE (0.0077 / 3 each), so DM is 0, but CW credits the forecast: f = 2 y_hat target
    y_hat, target = np.array([0.1, 0.1, 0.1]), np.array([0.05, 0.06, 0.04])
    assert diebold_mariano(target - y_hat, target)[0] == pytest.approx(0, abs=1e-9)
    f = 2 * y_hat * target  # = [0.01, 0.012, 0.008]: mean 0.01, var0 = 8e-6 / 3
    assert clark_west(y_hat, target)[0] == pytest.approx(0.01 / math.sqrt(8e-6 / 3 / 3))
    assert f.mean() == pytest.approx(0.01)


def test_hit_rate_drops_zero_targets_and_counts_zero_forecasts_as_misses() -> None:
    # rows: (+,+) hit, (0,-) miss (sign 0 != -1), (-,0) dropped, (-,-) hit -> 2/3
    assert hit_rate(np.array([0.1, 0.0, -0.1, -0.2]), np.array([0.3, -0.1, 0.0, -0.2])) == pytest.approx(
        2 / 3
    )
    assert math.isnan(hit_rate(np.array([0.1]), np.array([0.0])))


def forecasts(rows: list[tuple[str, float, float | None]]) -> pl.DataFrame:
    n = len(rows)
    return pl.DataFrame(
        {
            "open_time": [START + timedelta(hours=12 * i) for i in range(n)],
            "y_hat": [r[1] for r in rows],
            "target": [r[2] for r in rows],
            "split": [r[0] for r in rows],
            "confidence": [0.5 + abs(r[1]) for r in rows],
        },
        schema={
            "open_time": pl.Datetime("ms", "UTC"),
            "y_hat": pl.Float64,
            "target": pl.Float64,
            "split": pl.String,
            "confidence": pl.Float64,
        },
    )


def test_model_metrics_hand_computed() -> None:
    frame = forecasts(
        [
            ("train", 0.0, 0.01),
            ("train", 0.0, -0.02),
            ("train", 0.01, 0.03),
            ("test", 0.01, 0.02),
            ("test", 0.01, -0.01),
            ("test", -0.01, 0.0),
            ("test", 0.02, 0.04),
            ("test", 0.05, None),  # the final candle: no target, not scored
        ]
    )
    model = Forecaster(
        (0.1, -0.2), 0.001, 2, 0.03, "ADAUSDT", "12h", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"
    )
    m = model_metrics(model, frame)
    assert (m["n_train"], m["n_test"]) == (3, 4)
    assert (m["train_start"], m["train_end"]) == ("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z")
    assert (m["test_start"], m["test_end"]) == ("2024-01-02T12:00:00Z", "2024-01-04T00:00:00Z")
    assert m["mse_train"] == pytest.approx((0.01**2 + 0.02**2 + 0.02**2) / 3)  # 3e-4
    assert m["mse_test"] == pytest.approx((0.01**2 + 0.02**2 + 0.01**2 + 0.02**2) / 4)  # 2.5e-4
    assert m["mse_test_zero"] == pytest.approx((0.02**2 + 0.01**2 + 0 + 0.04**2) / 4)  # 5.25e-4
    # training mean 0.02/3 = 2/300; test deviations 4/300, -5/300, -2/300, 10/300 -> mse = 145/360000
    assert m["mse_test_mean"] == pytest.approx(145 / 360000)
    assert m["r2_oos"] == pytest.approx(1 - 2.5e-4 / (145 / 360000))  # = 11/29
    assert m["hit_rate_test"] == pytest.approx(2 / 3)  # zero target dropped; (+,+) (+,-) (+,+)
    assert (m["coef"], m["intercept"], m["resid_std"], m["lags"]) == ([0.1, -0.2], 0.001, 0.03, 2)
    d = np.array([0.01, 0.02, 0.01, 0.02]) ** 2 - np.array([0.02, -0.01, 0.0, 0.04]) ** 2
    dm = d.mean() / math.sqrt(d.var() / 4) * math.sqrt(3 / 4)
    assert m["dm_stat"] == pytest.approx(dm) and m["dm_pvalue"] == pytest.approx(2 * (1 - t3_cdf(abs(dm))))
    # Clark-West on the 4 test rows: y_hat 0.01, 0.01, -0.01, 0.02; target 0.02, -0.01, 0.0, 0.04
    # f = target^2 - (e^2 - y_hat^2) = 4e-4 - (1e-4 - 1e-4), 1e-4 - (4e-4 - 1e-4), 0 - (1e-4 - 1e-4),
    #     16e-4 - (4e-4 - 4e-4) = [4e-4, -2e-4, 0, 16e-4]; mean 4.5e-4
    f = np.array([4e-4, -2e-4, 0.0, 16e-4])
    cw = 4.5e-4 / math.sqrt(float(np.mean((f - 4.5e-4) ** 2)) / 4)
    assert m["cw_stat"] == pytest.approx(cw) and m["cw_pvalue"] == pytest.approx(1 - phi(cw))
    contract = {"symbol", "interval", "lags", "n_train", "n_test", "train_start", "train_end", "test_start"}
    contract |= {
        "test_end",
        "coef",
        "intercept",
        "resid_std",
        "mse_train",
        "mse_test",
        "mse_test_zero",
        "r2_oos",
    }
    contract |= {"hit_rate_test", "dm_stat", "dm_pvalue", "pt_stat", "pt_pvalue", "cw_stat", "cw_pvalue"}
    assert contract <= set(m)


def test_oos_metrics_with_a_per_row_benchmark() -> None:
    scores = oos_metrics(np.array([0.0, 0.0]), np.array([0.1, 0.3]), np.array([0.1, 0.1]))
    # model = zero forecast: mse = (0.01 + 0.09)/2 = 0.05; benchmark errors 0, 0.2 -> mse_mean = 0.02
    assert scores["mse"] == pytest.approx(0.05) and scores["mse_mean"] == pytest.approx(0.02)
    assert scores["r2_oos"] == pytest.approx(1 - 0.05 / 0.02) and scores["r2_vs_zero"] == pytest.approx(0.0)


def test_ols_table_hand_computed() -> None:
    x, y = np.array([[0.0], [1.0], [2.0], [3.0], [4.0]]), np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    # xbar 2, ybar 3, Sxx 10, Sxy 8 -> slope 0.8, intercept 1.4; residuals -0.4 0.8 -1.0 1.2 -0.6, SSR 3.6
    # s^2 = 3.6 / (5 - 2) = 1.2; se(slope) = sqrt(1.2 / 10); se(intercept) = sqrt(1.2 (1/5 + 4/10))
    # HC0 se(slope) = sqrt(sum (x - xbar)^2 e^2) / Sxx = sqrt(4*0.16 + 0.64 + 1.44 + 4*0.36) / 10
    table = ols_table(x, y, ["a_1"])
    assert table["term"].to_list() == ["a_1", "intercept"]
    assert table["coef"].to_list() == pytest.approx([0.8, 1.4])
    assert table["std_err"].to_list() == pytest.approx([math.sqrt(0.12), math.sqrt(0.72)])
    assert table["t_stat"][0] == pytest.approx(0.8 / math.sqrt(0.12))
    assert table["p_value"][0] == pytest.approx(2 * (1 - t3_cdf(0.8 / math.sqrt(0.12))))
    assert table["std_err_hc0"][0] == pytest.approx(math.sqrt(4.16) / 10)


def test_autocorrelations_of_an_alternating_series() -> None:
    r = np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])
    table = autocorrelations(r, 2)
    # mean 0, sum r^2 = 6: acf(1) = 5 * (-1) / 6, acf(2) = 4 / 6; r_t = -r_{t-1} exactly -> pacf(1) = -1
    assert table["acf"].to_list() == pytest.approx([-5 / 6, 4 / 6])
    assert table["pacf"][0] == pytest.approx(-1.0)
    assert table["band"].to_list() == pytest.approx([1.96 / math.sqrt(6)] * 2)


def test_information_criteria_use_the_same_rows() -> None:
    r = np.random.default_rng(1).normal(0, 0.04, size=300)
    table = information_criteria(r, 4)
    y = r[4:]
    assert table["sigma2"][0] == pytest.approx(np.mean((y - y.mean()) ** 2))  # AR(0): the mean only
    assert (np.diff(table["sigma2"].to_numpy()) <= 1e-15).all()  # nested fits on one sample never get worse
    m = 296
    assert table["bic"][2] == pytest.approx(math.log(table["sigma2"][2]) + 3 * math.log(m) / m)


def test_calibration_table_buckets_test_rows_by_confidence() -> None:
    rows = [("train", 0.3, 0.1)]  # excluded: train
    rows += [("test", y, t) for y, t in [(0.01, 1.0), (0.02, -1.0), (-0.03, -1.0), (0.04, 1.0), (0.05, 0.0)]]
    rows += [("test", y, t) for y, t in [(-0.06, 1.0), (0.07, 1.0), (0.08, 1.0), (-0.09, -1.0), (0.1, None)]]
    table = calibration_table(forecasts(rows), buckets=2)
    # zero and null targets dropped: 8 rows; by confidence 0.5 + |y_hat|: low 0.01..0.04, high 0.06..0.09
    assert table["n"].to_list() == [4, 4]
    assert table["hit_rate"].to_list() == pytest.approx([3 / 4, 3 / 4])
    assert table["mean_confidence"].to_list() == pytest.approx([0.525, 0.575])
    assert table["hit_rate_se"][0] == pytest.approx(math.sqrt(0.75 * 0.25 / 4))


def test_score_table_by_year() -> None:
    times = [datetime(2023, 12, 31, tzinfo=UTC), datetime(2023, 12, 31, 12, tzinfo=UTC)]
    times += [datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, 12, tzinfo=UTC)]
    frame = pl.DataFrame(
        {
            "open_time": times,
            "y_hat": [0.1, -0.1, 0.1, 0.1],
            "target": [0.2, -0.1, -0.1, 0.3],
            "bench_mean": [0.0] * 4,
        }
    )
    years = by_year(frame)
    assert list(years) == ["2023", "2024"]
    table = score_table({"all": frame, **years})
    assert table["window"].to_list() == ["all", "2023", "2024"]
    assert table["n"].to_list() == [4, 2, 2]
    assert table["hit_rate"].to_list() == pytest.approx([0.75, 1.0, 0.5])
    assert table["start"][1] == "2023-12-31T00:00:00Z"


def test_mincer_zarnowitz_hand_computed() -> None:
    y_hat, target = np.array([0.1, -0.1, 0.2, 0.0]), np.array([0.2, -0.3, 0.1, 0.1])
    # deviations: x = 0.05, -0.15, 0.15, -0.05 (mean 0.05); y = 0.175, -0.325, 0.075, 0.075 (mean 0.025)
    # Sxy = 0.065, Sxx = 0.05 -> slope 1.3, intercept 0.025 - 1.3 * 0.05 = -0.04
    mz = mincer_zarnowitz(y_hat, target)
    assert (mz["slope"], mz["intercept"]) == pytest.approx((1.3, -0.04))
    # White (HC0) variance of the slope: sum(x_dev^2 e^2) / Sxx^2, e the residuals
    e = target - (-0.04 + 1.3 * y_hat)
    se = math.sqrt(float(np.sum((y_hat - 0.05) ** 2 * e**2)) / 0.05**2)
    assert mz["slope_se_hc0"] == pytest.approx(se)
    assert (mz["slope_low"], mz["slope_high"]) == pytest.approx((1.3 - 1.959964 * se, 1.3 + 1.959964 * se))
    assert mz["slope_pvalue"] == pytest.approx(2 * (1 - phi(1.3 / se)))


def test_minimum_detectable_effects_have_the_stated_power() -> None:
    n = 500
    mde = minimum_detectable(n)
    d = 1.959964 + 0.841621
    assert mde["r2"] == pytest.approx(d**2 / (n + d**2), rel=1e-5)
    assert mde["coin_band"] == pytest.approx(1.959964 * 0.5 / math.sqrt(n), rel=1e-5)
    # Monte Carlo (seeded): at the detectable effect a 5% test rejects in about 80% of samples
    rng = np.random.default_rng(0)
    rho = math.sqrt(mde["r2"])
    x = rng.normal(size=(4000, n))
    y = rho * x + math.sqrt(1 - rho**2) * rng.normal(size=(4000, n))
    xc, yc = x - x.mean(axis=1, keepdims=True), y - y.mean(axis=1, keepdims=True)
    r = (xc * yc).sum(axis=1) / np.sqrt((xc**2).sum(axis=1) * (yc**2).sum(axis=1))
    t = r * math.sqrt(n - 2) / np.sqrt(1 - r**2)
    assert np.mean(np.abs(t) > 1.96) == pytest.approx(0.8, abs=0.025)
    hits = rng.binomial(n, mde["hit_rate"], size=20000) / n  # one-sided test of h = 0.5
    assert np.mean((hits - 0.5) / math.sqrt(0.25 / n) > 1.644854) == pytest.approx(0.8, abs=0.025)
    assert detection_power(n, mde["r2"]) == pytest.approx(0.8, abs=1e-3)
    assert detection_power(n, 0.0) == pytest.approx(0.05)
    with pytest.raises(ValueError, match="n must be an integer >= 2"):
        minimum_detectable(1)


def test_sse_gain_curve_and_fit_check() -> None:
    frame = pl.DataFrame({"open_time": [1, 2, 3], "target": [0.02, -0.01, 0.03], "y_hat": [0.01, 0.01, 0.0]})
    # gains: 0.0004 - 0.0001, 0.0001 - 0.0004, 0.0009 - 0.0009 -> cumulative 3e-4, 0, 0
    assert sse_gain_curve(frame)["cum_gain"].to_list() == pytest.approx([3e-4, 0.0, 0.0], abs=1e-15)
    x, y = np.array([[1.0], [2.0], [3.0], [4.0]]), np.array([0.6, 1.0, 1.6, 2.0])  # OLS: 0.48 x + 0.1
    exact = Forecaster((0.48,), 0.1, 1, 0.1, "ADAUSDT", "12h", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z")
    assert fit_check(exact, x, y) < 1e-12
    off = Forecaster((0.4848,), 0.1, 1, 0.1, "ADAUSDT", "12h", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z")
    assert fit_check(off, x, y) == pytest.approx(0.0048 / 0.48)  # max |diff| over max |coefficient|


def year_scores(p_values: list[tuple[float, float, float, float]]) -> pl.DataFrame:
    """Score rows as window_scores writes them: a non-year window, then one per year."""
    rows = [("walk-forward, full history", 0.0, 0.5, 0.5, 0.5)]
    rows += [(f"walk-forward, {2020 + i}", *p) for i, p in enumerate(p_values)]
    return pl.DataFrame(
        rows,
        schema=["window", "dm_stat", "dm_pvalue", "pt_pvalue", "cw_pvalue"],
        orient="row",
    ).with_columns(n=pl.lit(100), r2_oos=pl.lit(0.0), hit_rate=pl.lit(0.5))


def test_yearly_tests_bonferroni() -> None:
    scores = year_scores(
        [
            (-1.0, 0.01, 0.5, 0.5),  # DM rejects at 5% (model better), not at 0.05 / 12
            (2.5, 0.001, 0.5, 0.5),  # DM rejects but the model is worse: not evidence
            (0.0, 0.5, 0.003, 0.5),  # PT below the Bonferroni level 0.05 / 12 = 0.004167
            (0.0, 0.5, 0.5, float("nan")),  # undefined CW: not a rejection
        ]
    )
    yearly = yearly_tests(scores)
    assert yearly["year"].to_list() == ["2020", "2021", "2022", "2023"]
    assert yearly["level"][0] == pytest.approx(0.05 / 12)
    assert yearly["nominal"].to_list() == [True, False, True, False]
    assert yearly["bonferroni"].to_list() == [False, False, True, False]


def test_window_scores_names_and_sizes() -> None:
    start = datetime(2021, 12, 1, tzinfo=UTC)
    times = [start + timedelta(hours=12 * i) for i in range(120)]  # Dec 2021 .. Feb 2022
    rng = np.random.default_rng(1)
    walk = pl.DataFrame(
        {"open_time": times, "target": rng.normal(size=120), "y_hat": rng.normal(size=120) * 0.1}
    ).with_columns(bench_mean=pl.lit(0.0))
    fixed = walk.slice(60)
    scores = window_scores(fixed, 0.0, walk)
    assert dict(scores.select("window", "n").iter_rows()) == {
        "fixed model, test window": 60,
        "walk-forward, test window": 60,
        "walk-forward, full history": 120,
        "walk-forward, 2021": 62,
        "walk-forward, 2022": 58,
    }


def test_mse_and_significance_tables() -> None:
    table = mse_table({"mse_test": 1.5e-3, "mse_test_zero": 1.6e-3, "mse_test_mean": 1.7e-3})
    assert table["minus_zero"].to_list() == pytest.approx([-1e-4, 0.0, 1e-4])
    assert table["r2_vs_zero"].to_list() == pytest.approx([1 / 16, 0.0, -1 / 16])
    scores = {"dm_stat": 2.0, "dm_pvalue": 0.04, "pt_stat": 1.8, "pt_pvalue": 0.04, "cw_stat": 1.0}
    tests = significance_table(
        scores | {"cw_pvalue": 0.16}, {"slope": 1.0, "slope_se_hc0": 0.4, "slope_pvalue": 0.01}
    )
    assert tests["verdict"].to_list() == [
        "no rejection at 5%",
        "rejects at 5%",
        "no rejection at 5%",
        "rejects at 5%",
    ]
    assert tests["stat"][3] == pytest.approx(2.5)
    assert (significance(0.049), significance(0.05)) == ("significant at 5%", "not significant at 5%")


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-0.2, 0.2), st.floats(-0.2, 0.2)), min_size=3, max_size=60),
    st.floats(0.1, 10),
)
def test_clark_west_is_a_t_test_of_target_times_forecast(
    rows: list[tuple[float, float]], scale: float
) -> None:
    y_hat, target = (np.array(column) for column in zip(*rows, strict=True))
    # f = target^2 - (target - y_hat)^2 + y_hat^2 = 2 target y_hat, so CW is the (1/n variance) t-statistic
    # of 2 target y_hat: scale-free in the forecast, and it flips sign with it
    f = 2 * target * y_hat
    stat, pvalue = clark_west(y_hat, target)
    if np.var(f) < 1e-24:
        return  # a (numerically) constant f: undefined
    assert stat == pytest.approx(f.mean() / math.sqrt(np.var(f) / f.size), rel=1e-6, abs=1e-9)
    assert clark_west(scale * y_hat, target)[0] == pytest.approx(stat, rel=1e-6, abs=1e-9)
    assert clark_west(-y_hat, target)[0] == pytest.approx(-stat, rel=1e-6, abs=1e-9)
    assert pvalue == pytest.approx(1 - phi(stat), abs=1e-9)
