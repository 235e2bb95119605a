"""What the strategy report shows of a ``StrategyStudy``: display-ready tables (with the formats of
``adalib.table``), chart frames and the sentences, every number and verdict computed from the study.

The sentences are here; the tables and chart frames are ``StrategyTables``
(``adalib.backtest.report_tables``), which ``StrategyReport`` inherits. It only reads a study
(``adalib.backtest.study`` never imports it), and it formats nothing through the report layer:
tables come with format names, sentences with f-string formats.

>>> from adalib.data import load_candles
>>> from adalib.backtest.study import strategy_study
>>> study = strategy_study(load_candles("synthetic", end="2021-06-01"), segment="all", n_random=20, n_boot=50)
>>> view = StrategyReport(study)
>>> view.headline()["series"].to_list()[:2]
['strategy', 'buy & hold (leverage 1)']
>>> "volatility drag" in view.drag_text()
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from adalib.backtest.report_tables import StrategyTables
from adalib.backtest.study import TOP, StrategyStudy


def _pct(x: float | None, spec: str = "+.1%") -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


@dataclass(frozen=True)
class StrategyReport(StrategyTables):
    """The strategy report's view of ``study`` (the notebook shows its tables, chart frames and text).

    >>> from adalib.data import load_candles
    >>> from adalib.backtest.study import strategy_study
    >>> view = StrategyReport(strategy_study(load_candles("synthetic", end="2021-06-01"), segment="all",
    ...                                      n_random=10, n_boot=20))
    >>> view.formats(view.costs_table())["total_return"]
    'signed_percent:1'
    """

    study: StrategyStudy

    # --- headline -------------------------------------------------------------------------------
    @property
    def stop_text(self) -> str:
        stop = self.study.config.stop_loss
        return "none" if stop is None else f"{stop:.1%} from the entry fill"

    def drag_text(self) -> str:
        """Why buy-and-hold's Sharpe ratio and its return can have opposite signs."""
        d, b = self.study.drag, self.study.buy_hold.metrics
        sign = "positive" if (b["sharpe"] or 0) > 0 else "negative"
        return (
            f"Buy-and-hold's Sharpe ratio ({_pct(b['sharpe'], '.2f')}) is {sign} while its return is "
            f"{_pct(b['total_return'])}: the Sharpe ratio uses the mean *simple* candle return "
            f"({_pct(d['mean_simple_annual'])} a year), growth the mean *log* return "
            f"({_pct(d['mean_log_annual'])} "
            f"a year). The gap is the volatility drag, about variance / 2 = {_pct(d['drag_annual'], '.1%')} "
            "a year at "
            f"{_pct(d['ann_vol'], '.0%')} annual volatility: a volatile asset can have a positive mean "
            "return and "
            "still lose money." + self.liquidation_caveat()
        )

    def liquidation_caveat(self) -> str:
        """A caveat on the headline Sharpe ratio when the run was liquidated or ruined (else empty)."""
        m = self.study.result.metrics
        if m["final_equity"] <= 0:
            return (
                " **Caveat:** this run was ruined (equity 0); its Sharpe ratio describes a path to zero, "
                "not a repeatable edge."
            )
        if m["liquidated"]:
            return (
                f" **Caveat:** {m['liquidated']} trade(s) were liquidated; the Sharpe ratio includes those "
                "lost margins and says little about a repeatable edge."
            )
        return ""

    # --- baselines and uncertainty ----------------------------------------------------------------
    def intervals_text(self) -> str:
        rows = {r["series"]: r for r in self.study.intervals.iter_rows(named=True)}
        s, diff = rows["strategy"], rows.get("strategy minus buy & hold")
        block = self.study.intervals["block"][0]
        text = (
            f"Mean block length {block} candles. The strategy's Sharpe ratio {_pct(s['sharpe'], '.2f')} has "
            "a 95% "
            f"interval of [{_pct(s['sharpe_low'], '.2f')}, {_pct(s['sharpe_high'], '.2f')}], its total "
            "return "
            f"[{_pct(s['total_return_low'])}, {_pct(s['total_return_high'])}]."
        )
        if diff is not None and diff["sharpe_low"] is not None:
            covers = diff["sharpe_low"] <= 0 <= diff["sharpe_high"]
            text += (
                f" The Sharpe difference to buy-and-hold lies in [{diff['sharpe_low']:.2f}, "
                f"{diff['sharpe_high']:.2f}]: "
                + ("it includes 0, so the data cannot tell the two apart." if covers else "it excludes 0.")
            )
        return (
            text + " (Resampled returns keep liquidations and stops where they happened; they are not"
            " re-simulated.)"
        )

    # --- charts -----------------------------------------------------------------------------------
    def months_text(self) -> str:
        months = self.months()
        if months.height == 0:
            return "No calendar month in this segment."
        worst = months.sort("ret").row(0, named=True)
        return (
            f"{int((months['ret'] > 0).sum())} of {months.height} months positive; best "
            f"{months['ret'].to_numpy().max():+.1%}, "
            f"worst {worst['ret']:+.1%} ({worst['year']}-{worst['month']:02d})."
        )

    # --- events and regimes -----------------------------------------------------------------------
    def events_text(self) -> str:
        s = self.study
        if s.result.trades.height == 0:
            return (
                "No trades on this segment: no trade or candle moves the result, which stays at the "
                "initial capital."
            )
        t = s.top_trades.row(0, named=True)
        c = s.top_candles.row(0, named=True)
        side = {1: "long", -1: "short", 0: "flat"}
        return (
            f"The most influential trade ({side[t['side']]}, {t['entry_time']:%Y-%m-%d %H:%M} to "
            f"{t['exit_time']:%Y-%m-%d %H:%M} UTC) returned {t['return']:+.1%}; without it the run would "
            "end at "
            f"{t['total_return_without']:+.1%} instead of {s.result.metrics['total_return']:+.1%}. Without "
            "the top "
            f"{TOP} trades together: {_pct(s.without[f'top_{TOP}'])}. The most influential candle, "
            f"{c['open_time']:%Y-%m-%d %H:%M} UTC, moved ADA {c['ada_move']:+.1%} in 12h while the strategy "
            "was "
            f"{side[c['side']]}: the equity moved {c['strategy_return']:+.1%} in that candle alone."
        )

    def regimes_text(self) -> str:
        r = self.study.regimes
        if r.height == 0:
            return "Too few candles before the segment to label regimes: nothing to show."
        vol = r.filter(pl.col("regime") == "volatility").sort("strategy_return")
        worst, best = vol.row(0, named=True), vol.row(-1, named=True)
        return (
            f"The strategy did best in {best['group']} volatility ({best['strategy_return']:+.1%} over "
            f"{best['n_candles']} candles) and worst in {worst['group']} volatility "
            f"({worst['strategy_return']:+.1%})."
        )

    # --- sweeps -----------------------------------------------------------------------------------
    def costs_text(self) -> str:
        c = {(r["scenario"], r["mode"]): r for r in self.study.costs.iter_rows(named=True)}
        mode, params = self.study.config.mode, "the parameters' costs"
        free, paid = c[("no costs", mode)], c[(params, mode)]
        funded = c[("fee + baseline funding", mode)]
        return (
            f"For `{mode}`: {free['total_return']:+.1%} before any cost (Sharpe "
            f"{_pct(free['sharpe'], '.2f')}), "
            f"{paid['total_return']:+.1%} at the parameters' costs; with Binance's baseline funding on top "
            "of the "
            f"fee, {funded['total_return']:+.1%}. `per_bar` pays the fee on both legs of "
            f"{c[(params, 'per_bar')]['n_trades']} trades against {c[(params, 'hold')]['n_trades']} for "
            "`hold`."
        )

    def leverage_text(self) -> str:
        lev, s = self.study.leverage, self.study
        first = lev.filter(pl.col("liquidations")).group_by("mode").agg(pl.col("leverage").min()).sort("mode")
        starts = (
            ", ".join(f"{x:g} for `{name}`" for name, x in first.iter_rows()) or "above 20 for both modes"
        )
        at3 = lev.filter((pl.col("mode") == s.config.mode) & (pl.col("leverage") == 3))["final_equity"]
        return (
            f"Liquidations start at leverage {starts}. Leverage multiplies a negative edge as surely as a "
            "positive "
            f"one: at leverage 3 `{s.config.mode}` ends with {at3[0]:,.0f} USDT, against "
            f"{s.result.metrics['final_equity']:,.0f} at the parameters' leverage {s.config.leverage:g}."
        )

    def stops_text(self) -> str:
        stops = self.study.stops.filter(pl.col("mode") == self.study.config.mode)
        none = stops.filter(pl.col("stop_loss").is_null()).row(0, named=True)
        best = stops.sort("sharpe", descending=True, nulls_last=True).row(0, named=True)
        label = "no stop" if best["stop_loss"] is None else f"a {best['stop_loss']:.0%} stop"
        return (
            f"Without a stop `{self.study.config.mode}` returns {none['total_return']:+.1%}; the best "
            "Sharpe of the "
            f"stop distances is {label}'s ({_pct(best['sharpe'], '.2f')}, {best['stopped']} stopped "
            "trades). The stop "
            "distance is one more choice: picking the best of this sweep would add trials."
        )

    def dsr_text(self) -> str:
        s, dsr = self.study, self.study.dsr
        note = (
            f" The parameters cost nothing, which nobody can trade: the trials ran at a {s.trial_fee:.3%} "
            "taker fee."
            if s.trial_fee != s.config.fee_rate
            else ""
        )
        if dsr is None:
            return "No trial traded: there is no Sharpe ratio to deflate." + note
        best = s.trials.filter(pl.col("cfg") == dsr["best_cfg"]).row(0, named=True)
        return (
            f"{s.trials.filter(pl.col('sharpe') > 0).height} of {s.trials.height} trials have a positive "
            "Sharpe ratio. "
            f"The best: `{best['signal']}`, threshold {best['threshold']:.2%}, `{best['mode']}`: Sharpe "
            f"**{best['sharpe']:.2f}**, {best['total_return']:+.1%}, {best['n_trades']} trades; its "
            "probabilistic "
            f"Sharpe ratio (ignoring the search) is {dsr['psr']:.1%}. The best of {dsr['n_trials']} "
            "worthless trials "
            f"with this spread ({dsr['sharpe_std']:.2f}) would reach about "
            f"**{dsr['expected_max_sharpe']:.2f}**; the "
            f"deflated Sharpe ratio is **{dsr['dsr']:.1%}**: {s.words['dsr']}." + note
        )

    # --- selection ----------------------------------------------------------------------------------
    def selection_text(self) -> str:
        sel = self.study.selection
        if sel.skipped:
            return f"Nothing to show: {sel.skipped}."
        if sel.chosen is None or sel.test is None:
            return f"{self.study.words['selection']}."
        c, t = sel.chosen, sel.test
        n = sel.in_test.height
        rank = sel.in_test.filter(
            (pl.col("signal") == c["signal"])
            & (pl.col("mode") == c["mode"])
            & (pl.col("threshold") == c["threshold"])
        )["test_rank"][0]
        return (
            f"The rule chose AR({c['lags']}), threshold {c['threshold']:.2%}, `{c['mode']}` (training Sharpe "
            f"{c['sharpe']:.2f}, {c['n_trades']} trades). Its one evaluation on the test candles: "
            f"**{t['total_return']:+.1%}, Sharpe {_pct(t['sharpe'], '.2f')}** ({t['n_trades']} trades), "
            f"rank {rank} of "
            f"{n} among the same candidates on the test window, whose best in hindsight is Sharpe "
            f"{sel.in_test['sharpe'].drop_nulls().to_numpy().max():.2f}: the gap is what choosing on the "
            "test window would have overstated." + self.selection_check_text()
        )

    def selection_check_text(self) -> str:
        """The one test of the pre-registered choice: significance and paired bootstrap intervals."""
        check = self.study.selection_check
        if check is None:
            return ""
        sig = check["significance"]
        rows = {r["series"]: r for r in check["intervals"].iter_rows(named=True)}
        own, diff = rows["pre-registered"], rows["pre-registered minus buy & hold"]
        verdict = (
            "significantly positive at 5%"
            if sig["p_value"] == sig["p_value"] and sig["p_value"] < 0.05
            else "not significantly positive at 5%"
        )
        return (
            f" Being one pre-registered test, it needs no deflation: its mean candle return has t = "
            f"{_pct(sig['t_stat'], '.2f')} (one-sided p = {_pct(sig['p_value'], '.3f')}, PSR "
            f"{_pct(sig['psr'], '.1%')}): **{verdict}**. Block-bootstrap 95% interval of its Sharpe ratio: "
            f"[{_pct(own['sharpe_low'], '.2f')}, {_pct(own['sharpe_high'], '.2f')}]; of its Sharpe minus "
            f"buy-and-hold's on the same candles: [{_pct(diff['sharpe_low'], '.2f')}, "
            f"{_pct(diff['sharpe_high'], '.2f')}]."
        )

    # --- the original study -------------------------------------------------------------------------
    def replication_text(self) -> str:
        rep = self.study.replication
        if not rep.window_found:
            return "The study window 2025-08-11 to 2025-11-04 is not in these candles; nothing to re-run."
        w = rep.table.row(0, named=True)
        verdict = (
            "significant at 5%" if w["p_value"] is not None and w["p_value"] < 0.05 else "not significant"
        )
        return (
            f"On the study's window ({w['candles']} candles, {w['trades']} trades) the rule returns "
            f"{w['total_return']:+.1%} (buy-and-hold {w['buy_hold_return']:+.1%}), Sharpe "
            f"{_pct(w['sharpe'], '.2f')} "
            f"(t = {_pct(w['t_stat'], '.2f')}, one-sided p = {_pct(w['p_value'], '.3f')}): {verdict}. Of "
            "all windows as "
            f"long in the history, {_pct(rep.beaten, '.0%')} have a Sharpe ratio at least as high: one "
            "window among many."
        )

    def conclusion(self) -> str:
        s, m = self.study, self.study.result.metrics
        ci = s.intervals.row(0, named=True)
        test = s.selection.test
        sel = (
            "stays flat (or had nothing to select)."
            if test is None
            else f"earns {test['total_return']:+.1%} on the test candles (Sharpe "
            f"{_pct(test['sharpe'], '.2f')})." + self.selection_check_text()
        )
        return (
            f"**What the signal earns.** On the `{s.segment}` segment, `{s.config.mode}` turns "
            f"{s.config.initial_capital:,.0f} USDT into {m['final_equity']:,.0f} ({m['total_return']:+.1%}, "
            "Sharpe "
            f"{_pct(m['sharpe'], '.2f')}, 95% interval [{_pct(ci['sharpe_low'], '.2f')}, "
            f"{_pct(ci['sharpe_high'], '.2f')}]); "
            f"buy-and-hold made {s.buy_hold.metrics['total_return']:+.1%}. Funding: {s.funding_used}.\n\n"
            f"**Against luck.** The model's Sharpe ratio is at the "
            f"{_pct(s.random_percentile['sharpe'], '.0%')} percentile of random signals with its exposure: "
            f"{s.words['vs_random']}. Deflated over the {s.trials.height} real choices: {s.words['dsr']}.\n\n"
            "**Chosen in advance.** The configuration the pre-registered rule chose on the training years "
            f"(AR order, threshold, mode) {sel}\n\n"
            f"**What decides it.** {self.events_text()}"
        )
