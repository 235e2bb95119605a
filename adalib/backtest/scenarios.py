"""The strategy study's sweeps: cost scenarios, leverage, stop distance, and the trials behind the
deflated Sharpe ratio.

Choices and assumptions are kept apart. The **trials** are the choices a researcher makes and
could have made otherwise: the forecast (fixed AR fit or walk-forward), the threshold and the
mode. The deflated Sharpe ratio counts exactly those. Costs (fee, slippage, funding) are not
choices but assumptions about the market: they are **scenarios**, reported beside the trials,
never counted as trials and never "best". The trials run at the study's costs; when those are
zero (untradable), at Binance's taker fee ``TRADABLE_FEE`` instead, and the report says so.

>>> from adalib.backtest import BacktestConfig
>>> trial_config(BacktestConfig(fee_rate=0.0)).fee_rate, trial_config(BacktestConfig(fee_rate=0.001)).fee_rate
(0.0005, 0.001)
"""

from __future__ import annotations

import dataclasses
from typing import Any

import polars as pl

from adalib.backtest import BacktestConfig, deflated_sharpe, sweep
from adalib.backtest.config import MODES

TRADABLE_FEE = 0.0005  # Binance USDT-M's standard taker fee per fill
BASELINE_FUNDING_8H = 0.0001  # Binance's baseline funding rate per 8h for USDT-M perpetuals
THRESHOLDS = (0.0, 0.001, 0.002, 0.003, 0.005)
LEVERAGES = (0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0)
STOPS = (None, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2)
SCENARIO_FEES = (0.0, 0.0002, 0.00045, 0.0005, 0.001)


def trial_config(config: BacktestConfig) -> BacktestConfig:
    """The configuration the trials run at: ``config``, or at ``TRADABLE_FEE`` when it costs nothing."""
    if config.fee_rate == 0 and config.slippage_bps == 0:
        return dataclasses.replace(config, fee_rate=TRADABLE_FEE)
    return config


def cost_scenarios(
    frame: pl.DataFrame, config: BacktestConfig, *, funding: pl.DataFrame | None, funding_label: str
) -> pl.DataFrame:
    """Both modes under named cost scenarios: ``no costs``, ``fee only``, ``the parameters' costs`` (fee,
    slippage and the study's funding, ``funding_label``) and ``fee + baseline funding`` (0.01% per 8h,
    Binance's baseline rate, as an explicit assumption). One row per (scenario, mode)."""
    free = dataclasses.replace(config, fee_rate=0.0, slippage_bps=0.0, funding_rate_8h=0.0)
    scenarios: list[tuple[str, str, BacktestConfig, pl.DataFrame | None]] = [
        ("no costs", "none", free, None),
        ("fee only", "none", dataclasses.replace(free, fee_rate=config.fee_rate), None),
        ("the parameters' costs", funding_label, config, funding),
        (
            "fee + baseline funding",
            f"constant {BASELINE_FUNDING_8H:.4%} per 8h",
            dataclasses.replace(config, funding_rate_8h=BASELINE_FUNDING_8H),
            None,
        ),
    ]
    parts = []
    for name, label, cfg, events in scenarios:
        table = sweep(frame, base=cfg, funding=events, mode=list(MODES))
        parts.append(table.with_columns(scenario=pl.lit(name), funding=pl.lit(label)))
    return pl.concat(parts, how="diagonal_relaxed")


def leverage_sweep(
    frame: pl.DataFrame, config: BacktestConfig, *, funding: pl.DataFrame | None
) -> pl.DataFrame:
    """Both modes at ``LEVERAGES`` and the parameters' leverage, with ``liquidations`` (a run liquidated
    at least once) and ``sharpe_note``: a ruined run's Sharpe ratio describes a path to zero, not a
    repeatable edge."""
    levels = sorted({*LEVERAGES, config.leverage})
    table = sweep(frame, base=config, funding=funding, mode=list(MODES), leverage=levels)
    return table.with_columns(
        liquidations=pl.col("liquidated") > 0,
        sharpe_note=pl.when(pl.col("final_equity") <= 0)
        .then(pl.lit("ruined: Sharpe of a path to zero"))
        .when(pl.col("liquidated") > 0)
        .then(pl.lit("liquidated: Sharpe includes lost margins"))
        .otherwise(pl.lit("")),
    )


def stop_sweep(frame: pl.DataFrame, config: BacktestConfig, *, funding: pl.DataFrame | None) -> pl.DataFrame:
    """Both modes at the stop distances ``STOPS`` (None: no stop) and the parameters' own."""
    levels = list(dict.fromkeys([*STOPS, config.stop_loss]))
    levels = [None, *sorted(x for x in levels if x is not None)]
    return sweep(frame, base=config, funding=funding, mode=list(MODES), stop_loss=levels)


def trials(
    graded: pl.DataFrame, config: BacktestConfig, *, signals: list[str], funding: pl.DataFrame | None
) -> tuple[pl.DataFrame, dict[str, Any] | None]:
    """The real choices (forecast ``signals`` x ``THRESHOLDS`` x modes) at ``trial_config(config)``, and
    the deflated Sharpe ratio of the best of them (None when no trial has a defined Sharpe ratio)."""
    table = sweep(
        graded, base=trial_config(config), funding=funding, signal=signals, threshold=list(THRESHOLDS),
        mode=list(MODES),
    )  # fmt: skip
    defined = table.filter(pl.col("sharpe").is_not_null() & pl.col("sharpe").is_finite())
    return table, (deflated_sharpe(table) if defined.height else None)


def fee_scenarios(
    graded: pl.DataFrame, config: BacktestConfig, *, signal: str, funding: pl.DataFrame | None
) -> pl.DataFrame:
    """Sharpe of the fixed forecast ``signal`` by taker fee (``SCENARIO_FEES``, a scenario axis) and
    threshold, both modes, no slippage: how the result depends on the cost assumption."""
    base = dataclasses.replace(config, slippage_bps=0.0)
    return sweep(
        graded, base=base, funding=funding, signal=signal, threshold=list(THRESHOLDS), mode=list(MODES),
        fee_rate=list(SCENARIO_FEES),
    )  # fmt: skip
