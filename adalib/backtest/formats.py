"""How the strategy report formats its columns: the ``adalib.table`` format name of each metric column.

>>> formats_for(["sharpe", "total_return", "buy_hold_sharpe", "unknown"])
{'sharpe': 'number:2', 'total_return': 'signed_percent:1', 'buy_hold_sharpe': 'number:2'}
"""

from __future__ import annotations

PCT, SPCT, NUM, USDT, INT = "percent:1", "signed_percent:1", "number:2", "usdt:0", "integer"
METRIC_FORMATS = {
    "final_equity": USDT, "total_return": SPCT, "cagr": SPCT, "ann_vol": PCT, "sharpe": NUM,
    "sortino": NUM, "max_drawdown": PCT, "calmar": NUM, "n_trades": INT, "win_rate": PCT,
    "profit_factor": NUM, "avg_trade_return": "signed_percent:3", "exposure": PCT, "fees_paid": USDT,
    "funding_paid": USDT, "liquidated": INT, "stopped": INT, "threshold": "percent:2",
    "fee_rate": "percent:3", "slippage_bps": "number:1", "p_sharpe_le_0": PCT,
    "leverage": "number:1", "stop_loss": PCT, "total_return_without": SPCT, "return": SPCT, "pnl": USDT,
    "ada_move": SPCT, "strategy_return": SPCT, "entry_price": "number:4", "exit_price": "number:4",
    "qty": "number:1", "fees": "usdt:2", "funding": "usdt:2", "entry_time": "datetime",
    "exit_time": "datetime",
    "open_time": "datetime", "first": "date", "last": "date", "p_value": "pvalue", "psr": PCT,
    "t_stat": NUM, "sharpe_no_fee": NUM, "buy_hold_return": SPCT, "candles": INT, "trades": INT,
    "n_candles": INT, "train_sharpe": NUM, "test_rank": INT, "lags": INT,
}  # fmt: skip


def formats_for(columns: list[str]) -> dict[str, str]:
    """The report formats of the known metric columns among ``columns`` (``*_sharpe`` as ratios,
    ``*_return`` as signed percentages)."""
    formats = {c: METRIC_FORMATS[c] for c in columns if c in METRIC_FORMATS}
    formats.update({c: NUM for c in columns if c.endswith("_sharpe") or c.startswith("sharpe_")})
    formats.update({c: SPCT for c in columns if c.endswith("_return") or c.startswith("total_return_")})
    return formats
