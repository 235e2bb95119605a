"""A pre-registered selection: choose the AR order, threshold and mode on the training period only,
then evaluate that one choice once on the test window.

The rule (``SelectionRule``, stated before any result is computed, and printed by
``SelectionRule.statement``):

1. Forecasts: for each AR order p of ``lags``, an expanding-window walk-forward AR(p)
   refitted by least squares at every candle on the returns known at its close
   (``adalib.forecast.walk_forward_frame``), flat during its first ``min_train`` rows.
   Walk-forward forecasts are out of sample at every candle, on the training years too.
2. Candidates: every (p, threshold, mode) of the rule, backtested on the training rows
   (``split == "train"``) with the study's costs, leverage, funding and stop.
3. Score: the annualised Sharpe ratio on the training rows; candidates with fewer than
   ``min_trades`` trades are not eligible (their Sharpe is noise).
4. Choice: the highest score; ties go to the smaller p, then the larger threshold, then
   ``hold``. With no eligible candidate the choice is to stay flat.
5. Evaluation: the chosen configuration once on the test rows (the same walk-forward
   forecasts continue there, still out of sample). The in-test sweep of the same
   candidates is shown beside it as what hindsight would have picked.

>>> SelectionRule().statement().startswith("Pre-registered rule")
True
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import polars as pl

from adalib.backtest import BacktestConfig, BacktestResult, run_backtest, sweep
from adalib.backtest.config import MODES
from adalib.forecast import walk_forward_frame

MIN_ROWS = 2  # candles a part needs for a backtest with one return


@dataclass(frozen=True)
class SelectionRule:
    """The candidates and the eligibility of the pre-registered selection (see the module docstring).

    >>> rule = SelectionRule(lags=(1, 2), thresholds=(0.0, 0.002))
    >>> len(rule.lags) * len(rule.thresholds) * len(rule.modes), rule.min_trades
    (8, 30)
    """

    lags: tuple[int, ...] = (1, 2, 3, 4, 5, 6)
    thresholds: tuple[float, ...] = (0.0, 0.001, 0.002, 0.003, 0.005)
    modes: tuple[str, ...] = MODES
    min_trades: int = 30
    min_train: int = 100

    def __post_init__(self) -> None:
        if not self.lags or any(not isinstance(p, int) or not 1 <= p <= 24 for p in self.lags):
            raise ValueError(f"SelectionRule.lags: need AR orders in 1..24, got {self.lags}")
        if not self.thresholds or any(not t >= 0 for t in self.thresholds):
            raise ValueError(f"SelectionRule.thresholds: need values >= 0, got {self.thresholds}")
        if not self.modes or any(m not in MODES for m in self.modes):
            raise ValueError(f"SelectionRule.modes: need some of {MODES}, got {self.modes}")
        if self.min_trades < 0 or self.min_train < 8:
            raise ValueError(f"SelectionRule: need min_trades >= 0 and min_train >= 8, got {self}")

    def statement(self) -> str:
        """The rule in words, as the report states it before showing any result."""
        return (
            "Pre-registered rule: on the training candles only, backtest walk-forward AR(p) forecasts for "
            f"p in {list(self.lags)}, thresholds {list(self.thresholds)} and modes {list(self.modes)} "
            f"({len(self.lags) * len(self.thresholds) * len(self.modes)} candidates) with the study's costs; "
            f"keep those with at least {self.min_trades} trades; choose the highest annualised Sharpe "
            "ratio (ties: smaller p, larger threshold, hold); evaluate that one choice once on the test "
            "candles. No eligible candidate means: stay flat."
        )


@dataclass(frozen=True)
class Selection:
    """``train``: every candidate's training result (``eligible`` flagged); ``chosen``: the chosen row
    (None: stay flat); ``test``: the chosen configuration's test metrics (None if flat);
    ``in_test``: every candidate's test result, with ``test_rank`` (1 = best Sharpe in hindsight);
    ``skipped``: why nothing was selected when the training or test rows are too few (else None);
    ``test_result``: the chosen configuration's test backtest (trades, equity), None if flat."""

    rule: SelectionRule
    train: pl.DataFrame
    chosen: dict[str, Any] | None
    test: dict[str, Any] | None
    in_test: pl.DataFrame
    skipped: str | None = None
    test_result: BacktestResult | None = None


def walk_forward_columns(
    candles: pl.DataFrame, frame: pl.DataFrame, *, lags: tuple[int, ...], min_train: int
) -> pl.DataFrame:
    """``frame`` with a Float64 column ``wf_{p}`` per order p: the walk-forward forecast made at the close
    of each row's candle, 0.0 (flat) where there is none yet and on the final candle."""
    columns = []
    for p in lags:
        wf = walk_forward_frame(candles, lags=p, min_train=min_train)
        wf = wf.select("open_time", pl.col("y_hat").alias(f"wf_{p}"))
        columns.append(frame.select("open_time").join(wf, on="open_time", how="left", maintain_order="left"))
    return frame.with_columns(c[f"wf_{p}"].fill_null(0.0) for c, p in zip(columns, lags, strict=True))


def _with_lags(table: pl.DataFrame) -> pl.DataFrame:
    return table.with_columns(lags=pl.col("signal").str.strip_prefix("wf_").cast(pl.Int64))


def choose(train: pl.DataFrame, min_trades: int) -> dict[str, Any] | None:
    """The rule's choice among the training results (``signal``, ``lags``, ``threshold``, ``mode``,
    ``sharpe``, ``n_trades``): the highest Sharpe with at least ``min_trades`` trades; ties go to
    the smaller p, the larger threshold, then ``hold``. None when no candidate is eligible.

    >>> t = pl.DataFrame({"signal": ["wf_1", "wf_2", "wf_3"], "lags": [1, 2, 3], "threshold": [0.0] * 3,
    ...                   "mode": ["hold"] * 3, "sharpe": [0.5, 0.9, 1.4], "n_trades": [40, 40, 3]})
    >>> choose(t, min_trades=30)["signal"]
    'wf_2'
    """
    eligible = train.filter(
        (pl.col("n_trades") >= min_trades) & pl.col("sharpe").is_not_null() & pl.col("sharpe").is_finite()
    )
    if eligible.height == 0:
        return None
    ordered = eligible.sort(
        ["sharpe", "lags", "threshold", pl.col("mode") != "hold"],
        descending=[True, False, True, False],
        maintain_order=True,
    )
    return ordered.row(0, named=True)


def preregistered_selection(
    candles: pl.DataFrame,
    history: pl.DataFrame,
    config: BacktestConfig,
    *,
    rule: SelectionRule | None = None,
    funding_train: pl.DataFrame | None = None,
    funding_test: pl.DataFrame | None = None,
) -> Selection:
    """Apply ``rule`` (default ``SelectionRule()``): choose on the training rows of ``history``, evaluate
    once on its test rows.

    ``candles``: the candle frame the forecasts were made on; ``history``: the ``"all"`` segment
    frame (``open_time``, OHLC, ``split``). ``config`` gives the costs, leverage and stop (its mode
    is replaced by each candidate's); ``funding_train`` / ``funding_test``: funding histories
    covering each part, or None for ``config.funding_rate_8h``.

    >>> from adalib.data import synthetic_candles
    >>> candles = synthetic_candles(600, seed=1)
    >>> history = candles.with_columns(split=pl.when(pl.int_range(pl.len()) < 450).then(pl.lit("train"))
    ...                                .otherwise(pl.lit("test")))
    >>> sel = preregistered_selection(candles, history, BacktestConfig(), rule=SelectionRule(lags=(1, 2)))
    >>> sel.train.height, sel.chosen is None or sel.chosen["lags"] in (1, 2)
    (20, True)
    """
    rule = rule or SelectionRule()
    signals = [f"wf_{p}" for p in rule.lags]
    graded = walk_forward_columns(candles, history, lags=rule.lags, min_train=rule.min_train)
    parts = {name: graded.filter(pl.col("split") == name) for name in ("train", "test")}
    short = [
        f"{name} rows: {part.height} candle(s)" for name, part in parts.items() if part.height < MIN_ROWS
    ]
    if short:
        empty = pl.DataFrame()
        why = f"too few candles to select and evaluate ({', '.join(short)}; need {MIN_ROWS} each)"
        return Selection(rule, empty, None, None, empty, skipped=why)
    axes: dict[str, Any] = {"signal": signals, "threshold": list(rule.thresholds), "mode": list(rule.modes)}
    train = _with_lags(sweep(parts["train"], base=config, funding=funding_train, **axes))
    train = train.with_columns(
        eligible=(pl.col("n_trades") >= rule.min_trades) & pl.col("sharpe").is_finite()
    )
    in_test = _with_lags(sweep(parts["test"], base=config, funding=funding_test, **axes))
    in_test = in_test.with_columns(
        test_rank=pl.col("sharpe").fill_null(float("-inf")).rank("min", descending=True).cast(pl.Int64)
    )
    chosen = choose(train, rule.min_trades)
    if chosen is None:
        return Selection(rule, train, None, None, in_test)
    key = (pl.col("signal") == chosen["signal"]) & (pl.col("mode") == chosen["mode"])
    test = in_test.filter(key & (pl.col("threshold") == chosen["threshold"])).row(0, named=True)
    y, th = pl.col(chosen["signal"]), chosen["threshold"]
    signal = ((y > th).cast(pl.Int8) - (y < -th).cast(pl.Int8)).cast(pl.Int8)
    chosen_config = dataclasses.replace(config, mode=chosen["mode"])
    result = run_backtest(parts["test"].with_columns(direction=signal), chosen_config, funding=funding_test)
    return Selection(rule, train, chosen, test, in_test, test_result=result)
