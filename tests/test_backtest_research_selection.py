"""The pre-registered selection chooses on training candles only and is evaluated once on the test candles."""

from __future__ import annotations

import polars as pl
import pytest

from adalib.backtest import BacktestConfig, run_backtest
from adalib.backtest.selection import SelectionRule, choose, preregistered_selection, walk_forward_columns
from adalib.data import synthetic_candles
from adalib.forecast import walk_forward_frame

RULE = SelectionRule(lags=(1, 2, 3), thresholds=(0.0, 0.002), min_trades=10)


def history(n: int = 700, seed: int = 1) -> tuple[pl.DataFrame, pl.DataFrame]:
    candles = synthetic_candles(n, seed=seed)
    split = pl.when(pl.int_range(pl.len()) < int(n * 0.75)).then(pl.lit("train")).otherwise(pl.lit("test"))
    return candles, candles.with_columns(split=split)


def table(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema=["signal", "lags", "threshold", "mode", "sharpe", "n_trades"], orient="row"
    )


def test_choose_takes_the_best_eligible_and_breaks_ties_as_stated() -> None:
    t = table(
        [
            ("wf_1", 1, 0.0, "hold", 0.5, 40),
            ("wf_2", 2, 0.0, "hold", 0.9, 40),
            ("wf_3", 3, 0.0, "hold", 1.4, 3),
        ]
    )
    assert choose(t, 30)["signal"] == "wf_2"  # the higher Sharpe has too few trades
    ties = table([("wf_2", 2, 0.0, "per_bar", 1.0, 50), ("wf_1", 1, 0.0, "per_bar", 1.0, 50),
                  ("wf_1", 1, 0.002, "per_bar", 1.0, 50), ("wf_1", 1, 0.002, "hold", 1.0, 50)])  # fmt: skip
    assert [choose(ties, 30)[k] for k in ("lags", "threshold", "mode")] == [1, 0.002, "hold"]
    assert choose(t.with_columns(sharpe=None), 0) is None and choose(t, 100) is None


def test_walk_forward_columns_are_the_walk_forward_forecasts_flat_before_the_first() -> None:
    candles, frame = history(300)
    graded = walk_forward_columns(candles, frame, lags=(2,), min_train=50)
    wf = walk_forward_frame(candles, lags=2, min_train=50)
    joined = graded.join(wf, on="open_time", how="inner")
    assert (joined["wf_2"] == joined["y_hat"]).all() and joined.height == wf.height
    assert (graded.filter(~pl.col("open_time").is_in(wf["open_time"].implode()))["wf_2"] == 0.0).all()


def test_the_choice_is_the_training_argmax_and_its_test_result_a_single_backtest() -> None:
    candles, frame = history()
    config = BacktestConfig(fee_rate=0.0005)
    sel = preregistered_selection(candles, frame, config, rule=RULE)
    assert sel.train.height == sel.in_test.height == 3 * 2 * 2
    eligible = sel.train.filter(pl.col("eligible"))
    assert sel.chosen is not None and sel.chosen["sharpe"] == eligible["sharpe"].max()
    graded = walk_forward_columns(candles, frame, lags=RULE.lags, min_train=RULE.min_train)
    test = graded.filter(pl.col("split") == "test")
    y, th = test[sel.chosen["signal"]], sel.chosen["threshold"]
    direction = ((y > th).cast(pl.Int8) - (y < -th).cast(pl.Int8)).cast(pl.Int8)
    cfg = BacktestConfig(mode=sel.chosen["mode"], fee_rate=0.0005)
    direct = run_backtest(test.with_columns(direction=direction), cfg).metrics
    assert sel.test is not None and sel.test["sharpe"] == pytest.approx(direct["sharpe"], rel=1e-9)
    assert sel.test_result is not None and sel.test_result.metrics["final_equity"] == direct["final_equity"]
    assert sel.in_test["test_rank"].min() == 1


def test_changing_the_test_candles_does_not_change_the_choice() -> None:
    candles, frame = history()
    config = BacktestConfig(fee_rate=0.0005)
    before = preregistered_selection(candles, frame, config, rule=RULE)
    test = pl.col("split") == "test"
    scale = pl.when(pl.int_range(pl.len()) % 3 == 0).then(1.05).otherwise(0.97)
    moved = frame.with_columns(
        [
            pl.when(test).then(pl.col(c) * scale.cum_prod()).otherwise(pl.col(c))
            for c in ("open", "high", "low", "close")
        ]
    )
    after = preregistered_selection(moved.drop("split"), moved, config, rule=RULE)
    assert after.train.equals(before.train) and after.chosen == before.chosen
    assert not after.in_test.equals(before.in_test)


def test_no_eligible_candidate_means_flat() -> None:
    candles, frame = history(400)
    sel = preregistered_selection(
        candles, frame, BacktestConfig(), rule=SelectionRule(lags=(1,), min_trades=10**6)
    )
    assert sel.chosen is None and sel.test is None and not sel.train["eligible"].any()


def test_the_rule_is_validated_and_stated() -> None:
    with pytest.raises(ValueError, match="lags"):
        SelectionRule(lags=(0,))
    with pytest.raises(ValueError, match="modes"):
        SelectionRule(modes=("swing",))
    assert "12 candidates" in SelectionRule(lags=(1, 2, 3), thresholds=(0.0, 0.1)).statement()
