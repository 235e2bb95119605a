"""The strategy report's display-ready tables and chart frames of a ``StrategyStudy`` (the sentences
are in ``adalib.backtest.narrative``, whose ``StrategyReport`` inherits these methods).

Tables come with the format names of ``adalib.table`` (``formats``); nothing here formats a number.

>>> from adalib.data import load_candles
>>> from adalib.backtest.narrative import StrategyReport
>>> from adalib.backtest.study import strategy_study
>>> view = StrategyReport(strategy_study(load_candles("synthetic", end="2021-06-01"), segment="all",
...                                      n_random=10, n_boot=20))
>>> view.stops_table().columns[:3], view.curves()["series"].unique(maintain_order=True).to_list()
(['stop_loss', 'mode', 'total_return'], ['strategy (hold)', 'buy & hold'])
"""

from __future__ import annotations

from typing import Any

import polars as pl

from adalib.backtest.formats import formats_for
from adalib.backtest.returns import drawdown, monthly_returns
from adalib.backtest.study import StrategyStudy

SWEEP_COLUMNS = ("mode", "total_return", "sharpe", "max_drawdown", "n_trades", "liquidated", "stopped")


class StrategyTables:
    """The tables and chart frames of ``study`` (a mixin: ``StrategyReport`` holds the study)."""

    study: StrategyStudy

    @staticmethod
    def formats(data: pl.DataFrame | dict[str, Any]) -> dict[str, str]:
        """``formats_for`` the columns of a frame (or the keys of a mapping)."""
        return formats_for(data.columns if isinstance(data, pl.DataFrame) else list(data))

    # --- headline -------------------------------------------------------------------------------
    def headline(self) -> pl.DataFrame:
        """Strategy, buy & hold, the baselines and the random signals' median, side by side."""
        return self.study.comparison

    def details(self) -> dict[str, Any]:
        """The strategy's remaining metrics, one per row (for ``adalib.table`` of a mapping)."""
        m = self.study.result.metrics
        keys = ("cagr", "ann_vol", "sortino", "calmar", "win_rate", "profit_factor", "avg_trade_return",
                "exposure", "fees_paid", "funding_paid", "liquidated", "stopped")  # fmt: skip
        return {k: m[k] for k in keys}

    def trade_sample(self) -> pl.DataFrame:
        trades = self.study.result.trades
        return pl.concat([trades.head(10), trades.tail(5)]).unique(maintain_order=True)

    # --- baselines and uncertainty ----------------------------------------------------------------
    def intervals_table(self) -> pl.DataFrame:
        return self.study.intervals.drop("n_boot", "block", "kind")

    # --- charts -----------------------------------------------------------------------------------
    def curves(self) -> pl.DataFrame:
        """Equity and drawdown of the strategy and buy-and-hold, long (``series``)."""
        s = self.study
        return pl.concat(
            [
                s.result.equity.select(
                    "open_time", "equity", pl.lit(f"strategy ({s.config.mode})").alias("series")
                ),
                s.buy_hold.equity.select("open_time", "equity", pl.lit("buy & hold").alias("series")),
            ]
        ).with_columns(drawdown=drawdown().over("series"))

    def months(self) -> pl.DataFrame:
        return monthly_returns(self.study.result.equity)

    # --- events and regimes -----------------------------------------------------------------------
    def top_trades_table(self) -> pl.DataFrame:
        cols = ["rank", "entry_time", "exit_time", "side", "return", "pnl", "liquidated", "stopped",
                "total_return_without"]  # fmt: skip
        return self.study.top_trades.select([c for c in cols if c in self.study.top_trades.columns])

    def top_candles_table(self) -> pl.DataFrame:
        return self.study.top_candles

    # --- sweeps -----------------------------------------------------------------------------------
    def costs_table(self) -> pl.DataFrame:
        return self.study.costs.select("scenario", "mode", "fee_rate", "slippage_bps", *SWEEP_COLUMNS[1:5],
                                       "fees_paid", "funding_paid")  # fmt: skip

    def leverage_chart(self) -> pl.DataFrame:
        return self.study.leverage.with_columns(floor=pl.max_horizontal("final_equity", pl.lit(1e-2)))

    def leverage_table(self) -> pl.DataFrame:
        return self.study.leverage.select("leverage", *SWEEP_COLUMNS, "sharpe_note")

    def stop_chart(self, *, no_stop: bool = False) -> pl.DataFrame:
        stops = self.study.stops
        rows = stops.filter(pl.col("stop_loss").is_null() == no_stop)
        return rows.select("mode", "total_return", stop=pl.col("stop_loss"))

    def stops_table(self) -> pl.DataFrame:
        return self.study.stops.select("stop_loss", *SWEEP_COLUMNS)

    def trials_table(self) -> pl.DataFrame:
        t = self.study.trials.sort("sharpe", descending=True, nulls_last=True)
        return t.select("signal", "threshold", *SWEEP_COLUMNS[:5])

    # --- selection ----------------------------------------------------------------------------------
    def selection_train_table(self) -> pl.DataFrame:
        if self.study.selection.skipped:
            return pl.DataFrame({"note": [self.study.selection.skipped]})
        t = self.study.selection.train.filter(pl.col("eligible")).sort("sharpe", descending=True)
        return t.head(5).select("lags", "threshold", *SWEEP_COLUMNS[:5])

    def selection_table(self) -> pl.DataFrame:
        sel = self.study.selection
        if sel.skipped:
            return pl.DataFrame({"note": [sel.skipped]})
        cols = ["lags", "threshold", *SWEEP_COLUMNS[:5], "test_rank"]
        hindsight = sel.in_test.sort("test_rank").head(1).select(cols)
        rows = [hindsight.with_columns(choice=pl.lit("hindsight: the best on the test candles"))]
        if sel.chosen is not None:
            chosen = sel.in_test.filter(
                (pl.col("signal") == sel.chosen["signal"]) & (pl.col("mode") == sel.chosen["mode"])
                & (pl.col("threshold") == sel.chosen["threshold"])
            ).select(cols)  # fmt: skip
            rows.insert(0, chosen.with_columns(choice=pl.lit("pre-registered (chosen on training)")))
        table = pl.concat(rows)
        return table.select("choice", *cols)

    # --- the original study -------------------------------------------------------------------------
    def window_marker(self) -> pl.DataFrame:
        from adalib.backtest.replication import WINDOW

        return pl.DataFrame({"open_time": [WINDOW[1]], "label": ["end of the study window"]})
