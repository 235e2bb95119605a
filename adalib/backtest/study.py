"""The strategy notebook's whole computation: ``strategy_study`` from validated parameters, then
``save_strategy_study`` writes the contract's artifacts (section 3) as one set.

Every parameter is checked before any work (``BacktestConfig``, the segment, the forecasts,
the funding file and its coverage); nothing is written by ``strategy_study``.

>>> from adalib.data import load_candles
>>> candles = load_candles("synthetic", end="2021-06-01")
>>> study = strategy_study(candles, segment="all", n_random=20, n_boot=50)
>>> sorted(study.metrics()["baselines"])
['always_long', 'momentum', 'reversal']
>>> study.metrics()["funding_path"] is None, study.funding_used.startswith("constant")
(True, True)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from adalib.backtest import (
    BacktestConfig,
    BacktestResult,
    buy_and_hold,
    check_funding_coverage,
    load_segment,
    period_returns,
    read_funding,
    return_significance,
    run_backtest,
)
from adalib.backtest.baselines import (
    BASELINES,
    baseline_metrics,
    percentile,
    random_signal_table,
    signal_shape,
)
from adalib.backtest.events import regime_labels, regime_table, top_candles, top_trades, without_top
from adalib.backtest.metrics import PERIODS_PER_YEAR
from adalib.backtest.replication import Replication, replicate
from adalib.backtest.scenarios import (
    cost_scenarios,
    fee_scenarios,
    leverage_sweep,
    stop_sweep,
    trial_config,
    trials,
)
from adalib.backtest.selection import Selection, preregistered_selection, walk_forward_columns
from adalib.backtest.uncertainty import bootstrap_intervals
from adalib.data import Candles
from adalib.forecast import load_weights
from adalib.util.artifacts import write_artifact_set
from adalib.util.paths import resolve_existing
from adalib.util.timefmt import iso_z
from adalib.util.validate import check_choice, check_int, check_output_dir, check_symbol

SEGMENTS = ("test", "all")

TOP = 5  # trades and candles named in the events section


@dataclass(frozen=True)
class StrategyStudy:
    """Everything the strategy report shows, computed. Frames are ready to display; ``words`` holds
    the verdicts the prose uses (computed from the numbers, never typed).

    >>> from adalib.data import load_candles
    >>> candles = load_candles("synthetic", end="2021-06-01")
    >>> study = strategy_study(candles, segment="all", n_random=10, n_boot=20)
    >>> study.metrics()["segment"], study.words["vs_buy_hold"] in ("beats", "trails")
    ('all', True)
    """

    config: BacktestConfig
    segment: str
    symbol: str
    source: str
    lags: int
    funding_path: str | None
    funding_used: str
    metadata: dict[str, Any]
    frame: pl.DataFrame
    shape: dict[str, float]
    result: BacktestResult
    buy_hold: BacktestResult
    baselines: dict[str, dict[str, Any]]
    comparison: pl.DataFrame
    random: pl.DataFrame
    random_percentile: dict[str, float]
    intervals: pl.DataFrame
    drag: dict[str, float]
    costs: pl.DataFrame
    leverage: pl.DataFrame
    stops: pl.DataFrame
    trials: pl.DataFrame
    dsr: dict[str, Any] | None
    trial_fee: float
    fees: pl.DataFrame
    selection: Selection
    selection_check: dict[str, Any] | None
    top_trades: pl.DataFrame
    top_candles: pl.DataFrame
    without: dict[str, float]
    regimes: pl.DataFrame
    replication: Replication
    words: dict[str, str]

    def metrics(self) -> dict[str, Any]:
        """backtest_metrics.json: the data, the parameters, the funding used, the metrics, the baselines."""
        return {
            **self.metadata,
            "symbol": self.symbol,
            "interval": "12h",
            "segment": self.segment,
            "segment_start": iso_z(self.frame["open_time"][0]),
            "segment_end": iso_z(self.frame["open_time"][-1]),
            "forecasts": self.source,
            **dataclasses.asdict(self.config),
            "funding_path": self.funding_path,
            "funding_used": self.funding_used,
            **self.result.metrics,
            "baselines": self.baselines,
        }


def _funding(path: str | Path | None, config: BacktestConfig) -> tuple[pl.DataFrame | None, str]:
    if path is None:
        return None, f"constant funding_rate_8h = {config.funding_rate_8h:.4%} per 8h (no funding_path given)"
    events = read_funding(resolve_existing(path))
    rates = events["funding_rate"].to_numpy()
    return events, (
        f"funding history {path}: {events.height} events, rates {rates.min():.4%} to {rates.max():.4%} "
        f"(mean {rates.mean():.4%}); funding_rate_8h ignored"
    )


def _covers(funding: pl.DataFrame | None, frame: pl.DataFrame) -> bool:
    """Does ``funding`` cover ``frame``'s candles (first open to last close)?"""
    if funding is None:
        return True
    step = frame["open_time"][1] - frame["open_time"][0]
    try:
        check_funding_coverage(funding, frame["open_time"][0], frame["open_time"][-1] + step)
    except ValueError:
        return False
    return True


def _with_returns(frame: pl.DataFrame, candles: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with ``ret``: ln(close_t / close_{t-1}) over the candles (the forecasts' ``ret``)."""
    ret = candles.select("open_time", ret=(pl.col("close") / pl.col("close").shift(1)).log().fill_null(0.0))
    return frame.join(ret, on="open_time", how="left", maintain_order="left")


def _drag(bh: BacktestResult) -> dict[str, float]:
    """Why buy-and-hold can have a positive Sharpe ratio on a negative return: the Sharpe ratio uses the
    mean simple return, growth the mean log return, about ``mean - variance / 2`` (volatility drag)."""
    r = period_returns(bh.equity["equity"])
    logs = np.log1p(r[r > -1])
    return {
        "mean_simple_annual": float(r.mean() * PERIODS_PER_YEAR),
        "ann_vol": float(r.std(ddof=1) * math.sqrt(PERIODS_PER_YEAR)) if r.size > 1 else math.nan,
        "drag_annual": float(r.var(ddof=1) / 2 * PERIODS_PER_YEAR) if r.size > 1 else math.nan,
        "mean_log_annual": float(logs.mean() * PERIODS_PER_YEAR) if logs.size else math.nan,
    }


def _comparison(
    result: BacktestResult, bh: BacktestResult, baselines: dict[str, dict[str, Any]], random: pl.DataFrame
) -> pl.DataFrame:
    fields = ("final_equity", "total_return", "sharpe", "max_drawdown", "n_trades")
    rows = [
        {"series": "strategy", **{f: result.metrics[f] for f in fields}},
        {"series": "buy & hold (leverage 1)", **{f: bh.metrics[f] for f in fields}},
        *({"series": name, **baselines[name]} for name in BASELINES),
    ]
    table = pl.DataFrame(rows, schema_overrides={"n_trades": pl.Float64})
    median = random.select(
        pl.lit("random signals (median)").alias("series"), *[pl.col(f).median() for f in fields]
    )
    return pl.concat([table, median.cast(table.schema)]) if random.height else table


def _words(
    result: BacktestResult, bh: BacktestResult, pct: dict[str, float], dsr: dict[str, Any] | None,
    selection: Selection,
) -> dict[str, str]:  # fmt: skip
    m, b = result.metrics, bh.metrics
    sharpe_pct = pct["sharpe"]
    return {
        "vs_buy_hold": "beats" if m["final_equity"] > b["final_equity"] else "trails",
        "vs_random": "no random signals to compare with (the model's signal is constant)"
        if math.isnan(sharpe_pct)
        else (
            "better than 95% of random signals: unlikely to be luck of exposure"
            if sharpe_pct > 0.95
            else "within the range of random signals with the same exposure: no evidence of skill"
        ),
        "dsr": "no trial has a defined Sharpe ratio (no trades): nothing to deflate"
        if dsr is None
        else (
            "the best trial is unlikely to be luck alone (above 95%)"
            if dsr["dsr"] > 0.95
            else "the best trial is **not** distinguishable from the luck of the search"
        ),
        "selection": _selection_words(selection),
    }


def _selection_check(
    selection: Selection,
    test_rows: pl.DataFrame,
    config: BacktestConfig,
    funding: pl.DataFrame | None,
    seed: int,
) -> dict[str, Any] | None:
    """The pre-registered choice's one test: significance of its candle returns (Sharpe, t, p, PSR) and
    paired bootstrap intervals against buy-and-hold on the same test candles."""
    if selection.test_result is None:
        return None
    hold = buy_and_hold(test_rows, dataclasses.replace(config, leverage=1.0, stop_loss=None), funding=funding)
    chosen = period_returns(selection.test_result.equity["equity"])
    curves = {"pre-registered": chosen, "buy & hold": period_returns(hold.equity["equity"])}
    return {
        "significance": return_significance(chosen),
        "intervals": bootstrap_intervals(curves, n_boot=2000, seed=seed),
    }


def _selection_words(selection: Selection) -> str:
    if selection.skipped:
        return f"nothing to select: {selection.skipped}"
    if selection.chosen is None or selection.test is None:
        return "the rule found no eligible candidate on the training candles: it stays flat"
    sharpe = selection.test["sharpe"]
    return "positive" if sharpe is not None and sharpe > 0 else "not positive"


def strategy_study(
    candles: Candles,
    *,
    forecasts_path: str | Path | None = None,
    weights_path: str | Path = "model_weights.pth",
    segment: str = "test",
    funding_path: str | Path | None = None,
    output_dir: str | Path = "artifacts",
    symbol: str = "ADAUSDT",
    n_random: int = 1000,
    n_boot: int = 2000,
    seed: int = 0,
    **parameters: Any,
) -> StrategyStudy:
    """Run the strategy study; ``parameters`` are ``BacktestConfig``'s fields (mode, fee_rate, ...).

    Raises (before any work) ``BacktestError`` for a bad parameter or funding file (or one that does
    not cover the segment) and ``ForecastsError`` for unusable forecasts.

    >>> from adalib.data import load_candles
    >>> strategy_study(load_candles("synthetic", end="2021-06-01"), fee_rate=-1)
    Traceback (most recent call last):
    ...
    adalib.backtest.config.BacktestError: parameter fee_rate: must be >= 0, got -1.0
    """
    config = BacktestConfig(**parameters)
    symbol = check_symbol(symbol)
    check_choice("segment", segment, SEGMENTS)
    check_output_dir("output_dir", output_dir)  # writable (probed, nothing created): fail now, not at the end
    n_random, n_boot = check_int("n_random", n_random, low=1), check_int("n_boot", n_boot, low=10)
    funding, funding_used = _funding(funding_path, config)
    seg_args = dict(
        forecasts_path=forecasts_path, weights_path=weights_path, output_dir=output_dir, symbol=symbol
    )
    seg = load_segment(candles, segment=segment, **seg_args)  # type: ignore[arg-type]
    frame = _with_returns(seg.frame, candles.frame)
    if funding is not None:
        step = frame["open_time"][1] - frame["open_time"][0]
        check_funding_coverage(funding, frame["open_time"][0], frame["open_time"][-1] + step)
    history = seg.frame if segment == "all" else load_segment(candles, segment="all", **seg_args).frame  # type: ignore[arg-type]
    lags = load_weights(resolve_existing(weights_path), symbol=symbol).lags

    result = run_backtest(frame, config, funding=funding)
    bh = buy_and_hold(frame, dataclasses.replace(config, leverage=1.0, stop_loss=None), funding=funding)
    baselines = baseline_metrics(frame, config, funding=funding)
    random = random_signal_table(frame, config, n=n_random, seed=seed, funding=funding)
    pct = {k: percentile(random[k], result.metrics[k]) for k in ("sharpe", "total_return")}
    curves = {"strategy": result.equity["equity"], "buy & hold": bh.equity["equity"]}
    intervals = bootstrap_intervals(
        {k: period_returns(v) for k, v in curves.items()}, n_boot=n_boot, seed=seed
    )

    wf = f"wf_{lags}"
    graded = walk_forward_columns(candles.frame, frame, lags=(lags,), min_train=100)
    trial_table, dsr = trials(graded, config, signals=["y_hat", wf], funding=funding)
    train_funding = funding if _covers(funding, history.filter(pl.col("split") == "train")) else None
    test_rows = history.filter(pl.col("split") == "test")
    test_funding = funding if _covers(funding, test_rows) else None
    selection = preregistered_selection(
        candles.frame, history, config, funding_train=train_funding, funding_test=test_funding
    )
    returns = (
        frame.select("open_time")
        .slice(1)
        .with_columns(
            strategy=pl.Series(period_returns(result.equity["equity"])),
            buy_hold=pl.Series(period_returns(bh.equity["equity"])),
        )
    )
    trades = result.trades
    return StrategyStudy(
        config=config, segment=segment, symbol=symbol, source=seg.source, lags=lags,
        funding_path=None if funding_path is None else str(funding_path), funding_used=funding_used,
        metadata=candles.metadata(), frame=frame, shape=signal_shape(frame["direction"].to_numpy()),
        result=result, buy_hold=bh, baselines=baselines,
        comparison=_comparison(result, bh, baselines, random),
        random=random, random_percentile=pct, intervals=intervals, drag=_drag(bh),
        costs=cost_scenarios(frame, config, funding=funding, funding_label=funding_used),
        leverage=leverage_sweep(frame, config, funding=funding),
        stops=stop_sweep(frame, config, funding=funding),
        trials=trial_table, dsr=dsr, trial_fee=trial_config(config).fee_rate,
        fees=fee_scenarios(graded, config, signal="y_hat", funding=funding),
        selection=selection,
        selection_check=_selection_check(selection, test_rows, config, test_funding, seed),
        top_trades=top_trades(trades, config.initial_capital, k=TOP),
        top_candles=top_candles(frame, result.equity, k=TOP),
        without={"top_1": without_top(trades, 1), f"top_{TOP}": without_top(trades, TOP)},
        regimes=regime_table(returns, regime_labels(candles.frame)),
        replication=replicate(history),
        words=_words(result, bh, pct, dsr, selection),
    )  # fmt: skip


def save_strategy_study(study: StrategyStudy, output_dir: str | Path) -> list[Path]:
    """Write trades.parquet, equity.parquet and backtest_metrics.json into ``output_dir`` as one artifact
    set (all three or none; tagged with the symbol and the AR order); returns the paths.

    >>> import tempfile
    >>> from adalib.data import load_candles
    >>> candles = load_candles("synthetic", end="2021-06-01")
    >>> study = strategy_study(candles, segment="all", n_random=10, n_boot=20)
    >>> [p.name for p in save_strategy_study(study, tempfile.mkdtemp())]
    ['trades.parquet', 'equity.parquet', 'backtest_metrics.json']
    """
    files: dict[str | Path, pl.DataFrame | dict[str, Any]] = {
        "trades.parquet": study.result.trades,
        "equity.parquet": study.result.equity,
        "backtest_metrics.json": study.metrics(),
    }
    tags = {"symbol": study.symbol, "lags": study.lags}
    written = write_artifact_set(
        "backtest", files, folder=check_output_dir("output_dir", output_dir), tags=tags
    )
    return list(written.values())
