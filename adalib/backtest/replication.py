"""The original study's setting re-run: ``per_bar`` at a 0.045% taker fee on its window
(candles opening 2025-08-11 00:00 to 2025-11-04 12:00 UTC), then the same rule over the whole
test period and the whole history (in-sample years included), with the significance of each
mean candle return and how often a window of that length does as well.

>>> from adalib.backtest.engine import demo_frame
>>> frame = demo_frame().with_columns(split=pl.lit("test"))
>>> rep = replicate(frame)
>>> rep.window_found, rep.table["scope"].to_list()
(False, ['whole test period', 'whole history (incl. in-sample)'])
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from adalib.backtest import BacktestConfig, period_returns, return_significance, rolling_sharpe, run_backtest

STUDY_FEE = 0.00045
WINDOW = (datetime(2025, 8, 11, tzinfo=UTC), datetime(2025, 11, 5, tzinfo=UTC))
STUDY_WINDOW = "study window"
MIN_CANDLES = 3


@dataclass(frozen=True)
class Replication:
    """``table``: one row per scope (first, last, candles, trades, returns, Sharpe with and without the
    fee, t statistic, one-sided p-value, PSR); ``window_found``: the study window is in the candles;
    ``rolling``: the Sharpe of every window as long as the study's over the history (``open_time``,
    ``sharpe``); ``beaten``: the share of those windows at least as good as the study window's."""

    table: pl.DataFrame
    window_found: bool
    rolling: pl.DataFrame
    beaten: float | None


def replicate(history: pl.DataFrame) -> Replication:
    """Re-run the original study's rule on ``history`` (the ``"all"`` segment frame, with ``split``)."""
    scopes = {
        STUDY_WINDOW: history.filter(pl.col("open_time").is_between(*WINDOW, closed="left")),
        "whole test period": history.filter(pl.col("split") == "test"),
        "whole history (incl. in-sample)": history,
    }
    config, free = (
        BacktestConfig(mode="per_bar", fee_rate=STUDY_FEE),
        BacktestConfig(mode="per_bar", fee_rate=0),
    )
    rows, curves = [], {}
    for name, rows_ in scopes.items():
        if rows_.height < MIN_CANDLES:
            continue
        run = run_backtest(rows_, config)
        curves[name] = run.equity
        sig = return_significance(period_returns(run.equity["equity"]))
        rows.append(
            {
                "scope": name,
                "first": rows_["open_time"][0],
                "last": rows_["open_time"][-1],
                "candles": rows_.height,
                "trades": run.metrics["n_trades"],
                "total_return": run.metrics["total_return"],
                "buy_hold_return": run.metrics["buy_hold_return"],
                "sharpe": sig["sharpe"],
                "sharpe_no_fee": run_backtest(rows_, free).metrics["sharpe"],
                "max_drawdown": run.metrics["max_drawdown"],
                "t_stat": sig["t_stat"],
                "p_value": sig["p_value"],
                "psr": sig["psr"],
            }
        )
    table = pl.DataFrame(rows)
    found = STUDY_WINDOW in curves
    rolling = pl.DataFrame(schema={"open_time": pl.Datetime("ms", "UTC"), "sharpe": pl.Float64})
    beaten = None
    whole = curves.get("whole history (incl. in-sample)")
    if found and whole is not None:
        window = table.filter(pl.col("scope") == STUDY_WINDOW).row(0, named=True)
        rolling = whole.select("open_time", sharpe=rolling_sharpe(whole["equity"], window["candles"] - 1))
        rolling = rolling.drop_nulls().drop_nans()
        if rolling.height and window["sharpe"] is not None:
            beaten = float((rolling["sharpe"] >= window["sharpe"]).mean() or 0.0)
    return Replication(table, found, rolling, beaten)
