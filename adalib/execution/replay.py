"""Replay: the execution layer driven over historical candles against the local exchange, beside the
backtest on the same candles (issue #11, item 10).

For each candle t of the segment but the last, the local exchange's clock is moved to one minute
after the candle's close and ``run_execution`` runs in ``mode="testnet"`` against it: it fetches
the closed klines, forecasts, sizes from the exchange's ``availableBalance`` and trades at the
mark price (the close of candle t). After the last candle the open position is closed at its
close, as the backtest closes it. The backtest (``adalib.backtest.run_backtest``, hold mode, the
same fee, leverage and position fraction, no funding) runs on the same candles and signals.

Compared per candle: the side held during candle t+1 (the same by construction of the contract:
the backtest holds ``s_t`` during t+1). Compared per trade: the difference in pnl, split into
- ``fills``: the fill prices (the execution fills at the mark, close_t; the backtest at
  open_{t+1}), times the execution's quantity;
- ``fees``: the fees per unit of quantity, times the execution's quantity;
- ``size``: the quantities, times the backtest's pnl per unit. The contract sizes each run from
  the ``availableBalance`` read before its orders (on a reversal the old position's margin is not
  yet free), keeps 0.1% out of the margin and rounds down to the step; the backtest compounds
  the whole equity.
Per unit of quantity the difference is fills and fees alone; the three terms add up to the whole
difference (``residual`` is what is left: float rounding).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl

from adalib.backtest import BacktestConfig, BacktestResult, run_backtest
from adalib.binance.client import API_KEY_ENV, API_SECRET_ENV, BinanceClient
from adalib.binance.fake import FakeBinance
from adalib.binance.rules import to_decimal
from adalib.data import Candles
from adalib.execution.decision import after_close
from adalib.execution.params import ExecutionParams
from adalib.execution.run import run_execution
from adalib.forecast import forecast_frame, load_weights
from adalib.util.paths import resolve_existing


@dataclass(frozen=True)
class Replay:
    """Per candle (``candles``), per trade (``trades``) and in total (``summary``)."""

    candles: pl.DataFrame
    trades: pl.DataFrame
    summary: dict[str, float | int]


def _segment(
    frame: pl.DataFrame, weights_path: str, threshold: float, segment: str, last: int | None
) -> pl.DataFrame:
    forecasts = forecast_frame(frame, load_weights(resolve_existing(weights_path)), threshold=threshold)
    if segment == "test":
        forecasts = forecasts.filter(pl.col("split") == "test")
    if last is not None:
        forecasts = forecasts.tail(last)
    return forecasts.select("open_time", "direction").join(frame, on="open_time")


def _execution_trades(orders: list[dict], fee_rate: Decimal) -> list[dict]:
    """Trades from the exchange's fills: a position opened by one or more fills, closed by others."""
    trades: list[dict] = []
    position, current = Decimal(0), None
    for order in orders:
        qty = to_decimal(order["executedQty"])
        if qty == 0:
            continue
        price = to_decimal(order["avgPrice"])
        signed = qty if order["side"] == "BUY" else -qty
        fee = fee_rate * qty * price
        if position == 0:
            current = {
                "entry_time": order["time"],
                "side": 1 if signed > 0 else -1,
                "qty": qty,
                "entry_price": price,
                "fees": fee,
                "exit_notional": Decimal(0),
            }
        elif current is not None and (signed > 0) == (position > 0):
            current["entry_price"] = (current["entry_price"] * current["qty"] + price * qty) / (
                current["qty"] + qty
            )
            current["qty"] += qty
            current["fees"] += fee
        elif current is not None:
            current["exit_notional"] += price * qty
            current["fees"] += fee
        position += signed
        if position == 0 and current is not None:
            current["exit_price"] = current.pop("exit_notional") / current["qty"]
            trades.append(current)
            current = None
    return trades


def replay_execution(
    candles: Candles | pl.DataFrame,
    weights_path: str = "model_weights.pth",
    *,
    segment: str = "test",
    last: int | None = None,
    threshold: float = 0.0,
    leverage: int = 1,
    position_fraction: float = 1.0,
    fee_rate: float = 0.0005,
    initial_capital: float = 10000.0,
    progress: Callable[[int, int], None] | None = None,
) -> Replay:
    """Replay the execution over the ``segment`` (``"test"`` or ``"all"``; ``last`` candles of it
    only, if given) against an in-process local exchange, and compare with the backtest.

    >>> from adalib.data import synthetic_candles
    >>> from adalib.forecast import train_forecaster, save_weights
    >>> import tempfile, pathlib
    >>> candles = synthetic_candles(160, seed=2)
    >>> forecaster, _ = train_forecaster(candles, lags=2)
    >>> path = str(pathlib.Path(tempfile.mkdtemp()) / "w.pth"); save_weights(path, forecaster)
    >>> replay = replay_execution(candles, path, last=12)
    >>> replay.summary["candles"], replay.summary["same_side"]
    (11, 11)
    """
    frame = candles.frame if isinstance(candles, Candles) else candles
    seg = _segment(frame, weights_path, threshold, segment, last)
    if seg.height < 2:
        raise ValueError(f"replay needs at least 2 candles in the segment, got {seg.height}")
    times = seg["open_time"].to_list()
    config = BacktestConfig(
        mode="hold",
        fee_rate=fee_rate,
        leverage=float(leverage),
        position_fraction=position_fraction,
        initial_capital=initial_capital,
    )
    backtest = run_backtest(seg, config)
    fee = to_decimal(fee_rate)
    sides, equity = [], []
    with tempfile.TemporaryDirectory(prefix="adalib-replay-") as folder:
        exchange = FakeBinance(
            frame,
            balance=str(initial_capital),
            fee_rate=str(fee_rate),
            funding_rate="0",
            margin_type="ISOLATED",
            now=after_close(times[0]),
        )
        saved = {name: os.environ.get(name) for name in ("ADALIB_LOCK_DIR",)}
        os.environ["ADALIB_LOCK_DIR"] = str(Path(folder) / "locks")
        try:
            with exchange as fake:
                keys = {API_KEY_ENV: fake.api_key, API_SECRET_ENV: fake.api_secret}
                params = ExecutionParams(
                    mode="testnet",
                    base_url=fake.url,
                    weights_path=weights_path,
                    leverage=leverage,
                    position_fraction=position_fraction,
                    threshold=threshold,
                    max_notional=1e9,
                    output_dir=folder,
                )
                for i, start in enumerate(times[:-1]):
                    fake.set_time(after_close(start))
                    result = run_execution(params, env=keys, out=lambda _: None)
                    after = Decimal(result.summary["position_after"])
                    sides.append((after > 0) - (after < 0))
                    equity.append(float(fake.wallet + fake.unrealized()))
                    if progress:
                        progress(i + 1, len(times) - 1)
                fake.set_time(after_close(times[-1]))
                client = BinanceClient(fake.url, api_key=fake.api_key, api_secret=fake.api_secret)
                if fake.position_amt != 0:
                    side = "SELL" if fake.position_amt > 0 else "BUY"
                    client.new_market_order(
                        "ADAUSDT",
                        side,
                        abs(fake.position_amt),
                        client_order_id="replay-end",
                        reduce_only=True,
                    )
                orders = [dict(o, time=o.get("updateTime")) for o in fake.orders]
                final_equity = float(fake.wallet)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
    held = backtest.equity["position"].to_list()[1:]
    per_candle = pl.DataFrame(
        {
            "open_time": times[1:],
            "backtest_side": [int((p > 0) - (p < 0)) for p in held],
            "execution_side": sides,
            "backtest_equity": backtest.equity["equity"].to_list()[1:],
            "execution_equity": [*equity[1:], final_equity],
        }
    )
    trades = _trade_table(backtest.trades, _execution_trades(orders, fee))
    return Replay(per_candle, trades, _summary(per_candle, trades, backtest, final_equity, initial_capital))


def _trade_table(bt: pl.DataFrame, ex: list[dict]) -> pl.DataFrame:
    n = min(bt.height, len(ex))
    rows = []
    for b, e in zip(bt.head(n).iter_rows(named=True), ex[:n], strict=True):
        s = b["side"]
        q_e, p_e_in, p_e_out = float(e["qty"]), float(e["entry_price"]), float(e["exit_price"])
        q_b, p_b_in, p_b_out = b["qty"], b["entry_price"], b["exit_price"]
        pnl_e = s * q_e * (p_e_out - p_e_in) - float(e["fees"])
        pnl_b = s * q_b * (p_b_out - p_b_in) - b["fees"]
        unit_b = s * (p_b_out - p_b_in) - b["fees"] / q_b  # the backtest's pnl per unit of quantity
        fills = s * q_e * ((p_e_out - p_e_in) - (p_b_out - p_b_in))
        fees = -q_e * (float(e["fees"]) / q_e - b["fees"] / q_b)
        size = (q_e - q_b) * unit_b
        rows.append(
            {
                "entry_time": b["entry_time"],
                "side": s,
                "backtest_qty": q_b,
                "execution_qty": q_e,
                "backtest_entry": p_b_in,
                "execution_entry": p_e_in,
                "backtest_pnl": pnl_b,
                "execution_pnl": pnl_e,
                "fills": fills,
                "fees": fees,
                "size": size,
                "residual": pnl_e - pnl_b - fills - fees - size,
            }
        )
    columns = ["entry_time", "side", "backtest_qty", "execution_qty", "backtest_entry", "execution_entry",
               "backtest_pnl", "execution_pnl", "fills", "fees", "size", "residual"]  # fmt: skip
    empty = pl.Schema(
        {name: pl.Float64() for name in columns} | {"entry_time": bt.schema["entry_time"], "side": pl.Int64()}
    )
    return pl.DataFrame(rows, schema=empty) if rows else pl.DataFrame(schema=empty)


def _summary(
    per_candle: pl.DataFrame,
    trades: pl.DataFrame,
    backtest: BacktestResult,
    final_equity: float,
    initial: float,
) -> dict[str, float | int]:
    same = int((per_candle["backtest_side"] == per_candle["execution_side"]).sum())
    totals = {
        name: float(trades[name].sum()) if trades.height else 0.0
        for name in ("backtest_pnl", "execution_pnl", "fills", "fees", "size", "residual")
    }
    return {
        **totals,
        "candles": per_candle.height,
        "same_side": same,
        "backtest_final_equity": float(backtest.metrics["final_equity"]),
        "execution_final_equity": final_equity,
        "backtest_trades": int(backtest.metrics["n_trades"]),
        "initial_capital": initial,
    }
