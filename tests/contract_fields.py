"""Field names that CONTRACT.md fixes, written out once for the tests (apart from adalib's own lists)."""

DATA_FIELDS = frozenset({"data_source", "data_sha256", "n_candles", "first_candle", "last_candle"})
BACKTEST_METRICS = (
    "initial_capital", "final_equity", "total_return", "cagr", "ann_vol", "sharpe", "sortino",
    "max_drawdown", "calmar", "n_trades", "win_rate", "profit_factor", "avg_trade_return", "exposure",
    "fees_paid", "funding_paid", "buy_hold_return", "liquidated", "periods_per_year",
)  # fmt: skip
