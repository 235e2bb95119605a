"""The backtest's parameters (contract section 3), written once, and the table layouts it returns.

>>> cfg = BacktestConfig(mode="per_bar", leverage=3.0, stop_loss=0.05)
>>> cfg.leverage, cfg.stop_loss
(3.0, 0.05)
>>> BacktestConfig(leverage=200)
Traceback (most recent call last):
...
adalib.backtest.config.BacktestError: parameter leverage: must be in (0, 125] (Binance's bound), got 200.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from numbers import Real

import polars as pl

MODES = ("hold", "per_bar")
MAX_LEVERAGE = 125.0  # Binance USDT-M's highest leverage
MAX_FUNDING_RATE_8H = 0.03  # |rate| per 8h: Binance's widest funding-rate cap on USDT-M perpetuals (3%)
TIME = pl.Datetime("ms", "UTC")
TRADE_SCHEMA: dict[str, pl.DataType] = {
    "entry_time": TIME,
    "exit_time": TIME,
    "side": pl.Int8(),
    "qty": pl.Float64(),
    "entry_price": pl.Float64(),
    "exit_price": pl.Float64(),
    "fees": pl.Float64(),
    "funding": pl.Float64(),
    "pnl": pl.Float64(),
    "return": pl.Float64(),
    "liquidated": pl.Boolean(),
    "stopped": pl.Boolean(),
}
EQUITY_SCHEMA: dict[str, pl.DataType] = {"open_time": TIME, "position": pl.Float64(), "equity": pl.Float64()}


class BacktestError(ValueError):
    """Bad backtest input: the message names the parameter (or frame column) and the problem.

    >>> issubclass(BacktestError, ValueError)
    True
    """


@dataclass(frozen=True)
class BacktestConfig:
    """Every parameter of a backtest; invalid values raise ``BacktestError`` on construction.

    ``mode``: ``"hold"`` or ``"per_bar"``; ``fee_rate``: taker fee per fill; ``slippage_bps``:
    each fill moves this far against the trade; ``leverage`` in (0, 125]; ``position_fraction``
    of the equity posted as margin; ``maintenance_margin_rate`` of isolated margin;
    ``funding_rate_8h``: the constant funding rate per 8h event (|rate| <= 0.03), ignored when a
    funding history is given; ``stop_loss``: None or the protective stop's distance (0 < x < 1)
    from the entry fill; ``initial_capital`` in USDT.

    >>> from dataclasses import replace
    >>> replace(BacktestConfig(), fee_rate=0.0).fee_rate
    0.0
    >>> BacktestConfig(stop_loss=1.0)
    Traceback (most recent call last):
    ...
    adalib.backtest.config.BacktestError: parameter stop_loss: must be None or in (0, 1), got 1.0
    """

    mode: str = "hold"
    fee_rate: float = 0.0005
    slippage_bps: float = 0.0
    leverage: float = 1.0
    position_fraction: float = 1.0
    maintenance_margin_rate: float = 0.005
    funding_rate_8h: float = 0.0
    stop_loss: float | None = None
    initial_capital: float = 10000.0

    def __post_init__(self) -> None:
        if not isinstance(self.mode, str) or self.mode not in MODES:
            raise BacktestError(f"parameter mode: must be one of {MODES}, got {self.mode!r}")
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "mode" or (f.name == "stop_loss" and value is None):
                continue
            if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
                raise BacktestError(f"parameter {f.name}: expected a finite number, got {value!r}")
            object.__setattr__(self, f.name, float(value))  # numpy scalars and ints become floats
        problems = [
            (self.fee_rate < 0, "fee_rate", "must be >= 0"),
            (not 0 <= self.slippage_bps < 1e4, "slippage_bps", "must be in [0, 10000)"),
            (not 0 < self.leverage <= MAX_LEVERAGE, "leverage", "must be in (0, 125] (Binance's bound)"),
            (not 0 < self.position_fraction <= 1, "position_fraction", "must be in (0, 1]"),
            (not 0 <= self.maintenance_margin_rate < 1, "maintenance_margin_rate", "must be in [0, 1)"),
            (
                abs(self.funding_rate_8h) > MAX_FUNDING_RATE_8H,
                "funding_rate_8h",
                f"must be within +-{MAX_FUNDING_RATE_8H} per 8h (Binance's widest cap)",
            ),
            (
                self.stop_loss is not None and not 0 < self.stop_loss < 1,
                "stop_loss",
                "must be None or in (0, 1)",
            ),
            (self.initial_capital <= 0, "initial_capital", "must be > 0"),
        ]
        for bad, name, problem in problems:
            if bad:
                raise BacktestError(f"parameter {name}: {problem}, got {getattr(self, name)}")


DEFAULT_CONFIG = BacktestConfig()  # the defaults of the contract
CONFIG_FIELDS = tuple(f.name for f in fields(BacktestConfig))
