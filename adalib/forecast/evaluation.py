"""Out-of-sample evaluation of return forecasts (contract section 2) and the statistics behind it.

>>> import numpy as np
>>> stat, p = diebold_mariano(np.array([0.1, -0.2, 0.1, 0.3]), np.array([0.2, -0.1, 0.3, 0.2]))
>>> round(stat, 4), round(p, 4)
(-0.2538, 0.816)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl
from scipy import stats

from adalib.forecast.model import Forecaster
from adalib.util.timefmt import iso_z


def diebold_mariano(e_model: np.ndarray, e_bench: np.ndarray) -> tuple[float, float]:
    """DM test of equal squared loss, h = 1, with the Harvey-Leybourne-Newbold correction.

    ``d = e_model^2 - e_bench^2``; ``DM = mean(d) / sqrt(var0(d) / n) * sqrt((n - 1) / n)``
    (``var0`` the 1/n variance); two-sided p-value from Student t with n - 1 degrees of
    freedom. Negative means the model's loss is lower. NaN when undefined (n < 2, d constant).

    >>> stat, p = diebold_mariano(np.array([0.1, -0.1, 0.05, 0.0]), np.array([0.3, -0.2, 0.2, 0.1]))
    >>> round(stat, 4), round(p, 4)  # the model's errors are smaller: negative, p about 0.08
    (-2.6726, 0.0755)
    >>> diebold_mariano(np.array([0.1]), np.array([0.2]))  # one row: undefined
    (nan, nan)
    """
    d = np.asarray(e_model, dtype=np.float64) ** 2 - np.asarray(e_bench, dtype=np.float64) ** 2
    n = d.size
    var0 = float(np.mean((d - d.mean()) ** 2)) if n else 0.0
    if n < 2 or var0 == 0:
        return math.nan, math.nan
    stat = float(d.mean() / math.sqrt(var0 / n) * math.sqrt((n - 1) / n))
    return stat, float(2 * stats.t.sf(abs(stat), n - 1))


def pesaran_timmermann(forecast: np.ndarray, actual: np.ndarray) -> tuple[float, float]:
    """PT test that the signs of ``forecast`` predict the signs of ``actual`` (rows with nonzero ``actual``).

    One-sided p-value ``1 - Phi(PT)``. NaN when undefined (e.g. every forecast has the
    same sign, so ``V - Vs`` is 0).

    >>> forecast = np.array([1.0, -1.0, 1.0, -1.0, 1.0, 1.0, -1.0, -1.0])
    >>> actual = np.array([0.02, -0.01, 0.03, 0.01, 0.01, -0.02, -0.03, -0.01])  # 6 of 8 signs right
    >>> stat, p = pesaran_timmermann(forecast, actual)
    >>> round(stat, 4), round(p, 4)
    (1.5119, 0.0653)
    >>> pesaran_timmermann(np.ones(4), actual[:4])  # always long: undefined
    (nan, nan)
    """
    forecast, actual = np.asarray(forecast, dtype=np.float64), np.asarray(actual, dtype=np.float64)
    keep = actual != 0
    x, y = forecast[keep] > 0, actual[keep] > 0
    n = int(keep.sum())
    if n == 0:
        return math.nan, math.nan
    p_hit, py, px = float(np.mean(x == y)), float(y.mean()), float(x.mean())
    ps = py * px + (1 - py) * (1 - px)
    v = ps * (1 - ps) / n
    vs = (
        (2 * py - 1) ** 2 * px * (1 - px) / n
        + (2 * px - 1) ** 2 * py * (1 - py) / n
        + 4 * py * px * (1 - py) * (1 - px) / n**2
    )
    if not v - vs > 0:
        return math.nan, math.nan
    stat = (p_hit - ps) / math.sqrt(v - vs)
    return stat, float(stats.norm.sf(stat))


def clark_west(y_hat: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """Clark-West (2007) test of the model against the nested zero forecast, one-sided.

    ``f = target^2 - ((target - y_hat)^2 - y_hat^2)``, ``CW = mean(f) / sqrt(var0(f) / n)``
    (``var0`` the 1/n variance), p-value ``1 - Phi(CW)``. The ``y_hat^2`` term removes the
    noise a nesting model pays for estimating parameters that are zero under the null, so a
    positive ``CW`` favours the model even when its raw MSE is not lower. Algebraically
    ``f = 2 * target * y_hat``: CW asks whether forecast and return co-move. NaN when undefined.

    >>> stat, p = clark_west(np.array([0.1, -0.1, 0.2, 0.0]), np.array([0.2, -0.3, -0.1, 0.1]))
    >>> round(stat, 4), round(p, 4)
    (0.7811, 0.2174)
    """
    y_hat, target = np.asarray(y_hat, dtype=np.float64), np.asarray(target, dtype=np.float64)
    f = target**2 - ((target - y_hat) ** 2 - y_hat**2)
    n = f.size
    var0 = float(np.mean((f - f.mean()) ** 2)) if n else 0.0
    if n < 2 or var0 == 0:
        return math.nan, math.nan
    stat = float(f.mean() / math.sqrt(var0 / n))
    return stat, float(stats.norm.sf(stat))


def hit_rate(forecast: np.ndarray, actual: np.ndarray) -> float:
    """Share of rows with nonzero ``actual`` where ``sign(forecast) == sign(actual)``."""
    forecast, actual = np.asarray(forecast, dtype=np.float64), np.asarray(actual, dtype=np.float64)
    keep = actual != 0
    return float(np.mean(np.sign(forecast[keep]) == np.sign(actual[keep]))) if keep.any() else math.nan


def oos_metrics(y_hat: np.ndarray, target: np.ndarray, bench_mean: np.ndarray | float) -> dict[str, float]:
    """Out-of-sample scores of ``y_hat`` against ``target``.

    ``bench_mean`` is the historical-mean forecast (a number, or one per row for a
    walk-forward): ``r2_oos = 1 - mse / mse_mean``. DM and Clark-West compare with the zero forecast.
    """
    y_hat, target = np.asarray(y_hat, dtype=np.float64), np.asarray(target, dtype=np.float64)
    bench = np.broadcast_to(np.asarray(bench_mean, dtype=np.float64), target.shape)
    error = target - y_hat
    mse, mse_zero, mse_mean = (float(np.mean(e**2)) for e in (error, target, target - bench))
    dm_stat, dm_pvalue = diebold_mariano(error, target)
    pt_stat, pt_pvalue = pesaran_timmermann(y_hat, target)
    cw_stat, cw_pvalue = clark_west(y_hat, target)
    return {
        "n": int(target.size),
        "mse": mse,
        "mse_zero": mse_zero,
        "mse_mean": mse_mean,
        "r2_oos": 1 - mse / mse_mean,
        "r2_vs_zero": 1 - mse / mse_zero,
        "hit_rate": hit_rate(y_hat, target),
        "dm_stat": dm_stat,
        "dm_pvalue": dm_pvalue,
        "pt_stat": pt_stat,
        "pt_pvalue": pt_pvalue,
        "cw_stat": cw_stat,
        "cw_pvalue": cw_pvalue,
    }


def model_metrics(forecaster: Forecaster, frame: pl.DataFrame) -> dict[str, Any]:
    """The contract's ``model_metrics.json`` fields from a forecasts frame.

    Test rows exclude the final candle (it has no target); ``r2_oos`` is against the
    training mean of the target.

    >>> from adalib.data import synthetic_candles
    >>> from adalib.forecast.signals import train_forecaster
    >>> metrics = model_metrics(*train_forecaster(synthetic_candles(300), lags=2))
    >>> metrics["lags"], metrics["n_train"], metrics["n_test"], metrics["test_end"]
    (2, 222, 75, '2020-05-29T00:00:00Z')
    """
    train = frame.filter(pl.col("split") == "train")
    test = frame.filter((pl.col("split") == "test") & pl.col("target").is_not_null())
    if train.height == 0 or test.height == 0:
        raise ValueError(f"need train and test rows with a target, got {train.height} and {test.height}")
    scores = oos_metrics(
        test["y_hat"].to_numpy(), test["target"].to_numpy(), train["target"].to_numpy().mean()
    )
    return {
        "symbol": forecaster.symbol,
        "interval": forecaster.interval,
        "lags": forecaster.lags,
        "n_train": train.height,
        "n_test": test.height,
        "train_start": iso_z(train["open_time"][0]),
        "train_end": iso_z(train["open_time"][-1]),
        "test_start": iso_z(test["open_time"][0]),
        "test_end": iso_z(test["open_time"][-1]),
        "coef": list(forecaster.coef),
        "intercept": forecaster.intercept,
        "resid_std": forecaster.resid_std,
        "mse_train": float(np.mean((train["target"].to_numpy() - train["y_hat"].to_numpy()) ** 2)),
        "mse_test": scores["mse"],
        "mse_test_zero": scores["mse_zero"],
        "mse_test_mean": scores["mse_mean"],
        "r2_oos": scores["r2_oos"],
        "hit_rate_test": scores["hit_rate"],
        "dm_stat": scores["dm_stat"],
        "dm_pvalue": scores["dm_pvalue"],
        "pt_stat": scores["pt_stat"],
        "pt_pvalue": scores["pt_pvalue"],
        "cw_stat": scores["cw_stat"],
        "cw_pvalue": scores["cw_pvalue"],
    }


def ols_table(features: np.ndarray, target: np.ndarray, names: list[str]) -> pl.DataFrame:
    """OLS with intercept: ``term, coef, std_err, t_stat, p_value`` and White's ``std_err_hc0, t_stat_hc0``.

    Return volatility clusters, so the heteroskedasticity-robust (HC0) errors are the safer read.
    """
    x = np.column_stack([np.asarray(features, dtype=np.float64), np.ones(len(target))])
    y = np.asarray(target, dtype=np.float64)
    n, k = x.shape
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    resid = y - x @ beta
    xtx_inv = np.linalg.inv(x.T @ x)
    se = np.sqrt(np.diag(xtx_inv) * float(resid @ resid) / (n - k))
    se_hc0 = np.sqrt(np.diag(xtx_inv @ (x.T * resid**2) @ x @ xtx_inv))
    t = beta / se
    return pl.DataFrame(
        {
            "term": [*names, "intercept"],
            "coef": beta,
            "std_err": se,
            "t_stat": t,
            "p_value": 2 * stats.t.sf(np.abs(t), n - k),
            "std_err_hc0": se_hc0,
            "t_stat_hc0": beta / se_hc0,
        }
    )


def autocorrelations(returns: np.ndarray, max_lag: int) -> pl.DataFrame:
    """``lag, acf, pacf, band``: sample autocorrelations, partial autocorrelations (last OLS
    coefficient of an AR(k) fit) and the ±1.96/sqrt(n) white-noise band."""
    r = np.asarray(returns, dtype=np.float64)
    n, centred = r.size, r - r.mean()
    acf = [float(centred[k:] @ centred[:-k] / (centred @ centred)) for k in range(1, max_lag + 1)]
    pacf = []
    for k in range(1, max_lag + 1):
        lagged = np.column_stack([r[k - j : n - j] for j in range(1, k + 1)] + [np.ones(n - k)])
        pacf.append(float(np.linalg.lstsq(lagged, r[k:], rcond=None)[0][k - 1]))
    return pl.DataFrame(
        {
            "lag": list(range(1, max_lag + 1)),
            "acf": acf,
            "pacf": pacf,
            "band": [1.96 / math.sqrt(n)] * max_lag,
        },
        schema={"lag": pl.Int64, "acf": pl.Float64, "pacf": pl.Float64, "band": pl.Float64},
    )


def information_criteria(returns: np.ndarray, max_lag: int) -> pl.DataFrame:
    """``lags, sigma2, aic, bic`` of AR(0..max_lag) fits by OLS on the same rows (the last n - max_lag).

    ``aic = ln(sigma2) + 2k/m``, ``bic = ln(sigma2) + k ln(m)/m`` with ``sigma2 = SSR/m``,
    ``k = p + 1`` parameters and ``m`` rows; the lowest value is the preferred lag count.
    """
    r = np.asarray(returns, dtype=np.float64)
    m = r.size - max_lag
    y = r[max_lag:]
    rows = []
    for p in range(max_lag + 1):
        x = np.column_stack([r[max_lag - j : r.size - j] for j in range(1, p + 1)] + [np.ones(m)])
        resid = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
        sigma2 = float(resid @ resid) / m
        rows.append(
            (p, sigma2, math.log(sigma2) + 2 * (p + 1) / m, math.log(sigma2) + (p + 1) * math.log(m) / m)
        )
    return pl.DataFrame(
        rows,
        schema={"lags": pl.Int64, "sigma2": pl.Float64, "aic": pl.Float64, "bic": pl.Float64},
        orient="row",
    )


def calibration_table(frame: pl.DataFrame, buckets: int = 5) -> pl.DataFrame:
    """Hit rate by confidence bucket (quantiles) on test rows with nonzero target.

    Calibrated confidence means ``hit_rate`` close to ``mean_confidence`` in every bucket;
    ``hit_rate_se`` is the binomial standard error.
    """
    rows = frame.filter(
        (pl.col("split") == "test") & pl.col("target").is_not_null() & (pl.col("target") != 0)
    )
    hit = (pl.col("y_hat").sign() == pl.col("target").sign()).cast(pl.Float64)
    bucket = pl.col("confidence").rank("ordinal").sub(1).mul(buckets).floordiv(pl.len()).add(1)
    return (
        rows.with_columns(bucket=bucket.cast(pl.Int64), hit=hit)
        .group_by("bucket")
        .agg(
            n=pl.len(),
            confidence_min=pl.col("confidence").min(),
            confidence_max=pl.col("confidence").max(),
            mean_confidence=pl.col("confidence").mean(),
            hit_rate=pl.col("hit").mean(),
        )
        .sort("bucket")
        .with_columns(
            pl.col("n").cast(pl.Int64),
            hit_rate_se=(pl.col("hit_rate") * (1 - pl.col("hit_rate")) / pl.col("n")).sqrt(),
        )
    )


def score_table(windows: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """One row of ``oos_metrics`` per named window; each frame has ``y_hat``, ``target``, ``bench_mean``."""
    rows = [
        {"window": name, "start": iso_z(w["open_time"][0]), "end": iso_z(w["open_time"][-1])}
        | oos_metrics(w["y_hat"].to_numpy(), w["target"].to_numpy(), w["bench_mean"].to_numpy())
        for name, w in windows.items()
        if w.height
    ]
    return pl.DataFrame(rows)


def by_year(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Split a frame with ``open_time`` into calendar years (UTC), in order."""
    year = pl.col("open_time").dt.year()
    return {str(y): frame.filter(year == y) for y in frame.select(year.unique().sort()).to_series()}
