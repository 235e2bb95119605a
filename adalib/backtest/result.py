"""What a backtest returns: the trade and equity tables of the contract and the metrics, and how they
are written (trades.parquet, equity.parquet, backtest_metrics.json).

>>> from adalib.backtest import run_backtest
>>> from adalib.backtest.engine import demo_frame
>>> result = run_backtest(demo_frame())
>>> result.trades.columns[-2:], result.equity.columns
(['liquidated', 'stopped'], ['open_time', 'position', 'equity'])
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from adalib.backtest.config import EQUITY_SCHEMA, TRADE_SCHEMA
from adalib.backtest.metrics import metrics_record, trade_sums
from adalib.util.io import write_json, write_parquet

TRADE_TIMES = ("entry_time", "exit_time")
# a kernel's per-trade arrays: the trade table's columns but the times (candle numbers instead)
TRADE_ARRAYS = ("entry_at", "exit_at", *(name for name in TRADE_SCHEMA if name not in TRADE_TIMES))


class BacktestResult:
    """``trades`` and ``equity`` in the layout of trades.parquet / equity.parquet (``TRADE_SCHEMA``,
    ``EQUITY_SCHEMA``), and ``metrics`` with every field of backtest_metrics.json but the baselines.

    The engine works in numpy; the two tables are built from its arrays on first access (that costs
    more than the backtest itself, and a sweep or a metrics-only caller never needs them), and
    ``arrays`` may itself be a function that computes them then.

    >>> from adalib.backtest import run_backtest
    >>> from adalib.backtest.engine import demo_frame
    >>> result = run_backtest(demo_frame())
    >>> result.metrics["n_trades"], result.trades.height, result.equity.height
    (2, 2, 6)
    """

    __slots__ = ("_arrays", "_equity", "_source", "_trades", "metrics")

    def __init__(
        self, arrays: dict[str, np.ndarray] | Callable[[], dict[str, np.ndarray]], metrics: dict[str, Any]
    ) -> None:
        self._source = arrays
        self._arrays: dict[str, np.ndarray] | None = None
        self._trades: pl.DataFrame | None = None
        self._equity: pl.DataFrame | None = None
        self.metrics = metrics

    def _columns(self) -> dict[str, np.ndarray]:
        """The tables' columns as numpy arrays (times as epoch ms), with ``open_ms``."""
        if self._arrays is None:
            self._arrays = self._source if isinstance(self._source, dict) else self._source()
        return self._arrays

    @property
    def trades(self) -> pl.DataFrame:
        """One row per trade, ``TRADE_SCHEMA``."""
        if self._trades is None:
            arrays = self._columns()
            self._trades = pl.DataFrame(
                [
                    pl.Series(name, arrays[name], dtype=pl.Int64).cast(dtype)
                    if name in TRADE_TIMES
                    else pl.Series(name, arrays[name]).cast(dtype)
                    for name, dtype in TRADE_SCHEMA.items()
                ]
            )
        return self._trades

    @property
    def equity(self) -> pl.DataFrame:
        """One row per candle, ``EQUITY_SCHEMA``."""
        if self._equity is None:
            arrays = self._columns()
            self._equity = pl.DataFrame(
                [
                    pl.Series("open_time", arrays["open_ms"], dtype=pl.Int64).cast(
                        EQUITY_SCHEMA["open_time"]
                    ),
                    pl.Series("position", arrays["position"], dtype=pl.Float64),
                    pl.Series("equity", arrays["equity"], dtype=pl.Float64),
                ]
            )
        return self._equity

    def __repr__(self) -> str:
        m = self.metrics
        return f"BacktestResult(n_trades={m['n_trades']}, final_equity={m['final_equity']})"


def build_result(
    open_ms: np.ndarray,
    position: np.ndarray,
    equity: np.ndarray,
    trades: dict[str, np.ndarray],
    buy_hold_return: float,
) -> BacktestResult:
    """Assemble a ``BacktestResult`` from one configuration's arrays: per candle ``position`` and
    ``equity``; ``trades`` by ``TRADE_SCHEMA`` column (times as epoch ms)."""
    sums = trade_sums(trades, 1)
    exposure = int(np.count_nonzero(position))
    metrics = metrics_record(equity, exposure, buy_hold_return=buy_hold_return, trades=sums)
    arrays = {name: trades[name] for name in TRADE_SCHEMA}
    arrays.update(open_ms=open_ms, position=position, equity=equity)
    return BacktestResult(arrays, metrics)


def save_backtest(result: BacktestResult, output_dir: str | Path, extra: dict[str, Any]) -> list[Path]:
    """Write trades.parquet, equity.parquet and backtest_metrics.json (metrics plus ``extra``, e.g. the
    data metadata, the parameters and the baselines) into ``output_dir``, each atomically; returns the
    paths.

    >>> import tempfile
    >>> from adalib.backtest import run_backtest
    >>> from adalib.backtest.engine import demo_frame
    >>> [p.name for p in save_backtest(run_backtest(demo_frame()), tempfile.mkdtemp(), {"symbol": "X"})]
    ['trades.parquet', 'equity.parquet', 'backtest_metrics.json']
    """
    output_dir = Path(output_dir)
    paths = [
        output_dir / "trades.parquet",
        output_dir / "equity.parquet",
        output_dir / "backtest_metrics.json",
    ]
    write_parquet(result.trades, paths[0])
    write_parquet(result.equity, paths[1])
    write_json(paths[2], {**extra, **result.metrics})
    return paths
