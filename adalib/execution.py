"""The execution decision (CONTRACT.md section 4), as pure functions: signal, account,
mark price and symbol rules in; the target signed quantity and the orders that reach it out.

No I/O here, so the decision can be tested and replayed over the whole history without a
server (``tests/test_execution_parity.py`` does, against the backtest).

>>> from datetime import UTC, datetime
>>> from adalib.binance.rules import ADAUSDT_ASSUMED_INFO, SymbolRules
>>> rules = SymbolRules.from_exchange_info(ADAUSDT_ASSUMED_INFO, "ADAUSDT")
>>> signal = Signal(datetime(2024, 1, 1, 12, tzinfo=UTC), y_hat=-0.002, direction=-1, confidence=0.53)
>>> d = decide(signal, Account(Decimal("10000"), Decimal("500")), Decimal("0.5"), rules, symbol="ADAUSDT")
>>> d.target_qty, [(o.leg, o.side, o.quantity, o.client_order_id) for o in d.orders]
(Decimal('-2000'), [('close', 'SELL', Decimal('500'), 'adalib-ADAUSDT-24010112-close'), \
('open', 'SELL', Decimal('2000'), 'adalib-ADAUSDT-24010112-open')])
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import polars as pl

from adalib.binance.rules import SymbolRules, decimal_str, to_decimal


@dataclass(frozen=True)
class Signal:
    """The model's signal at the close of candle ``open_time``."""

    open_time: datetime
    y_hat: float
    direction: int
    confidence: float


@dataclass(frozen=True)
class Account:
    """What the decision needs from the account: USDT ``availableBalance`` and the signed ``positionAmt``."""

    available_balance: Decimal
    position_amt: Decimal


@dataclass(frozen=True)
class PlannedOrder:
    """One MARKET order of the reconciliation: ``leg`` is ``"close"`` or ``"open"``."""

    leg: str
    side: str
    quantity: Decimal
    reduce_only: bool
    client_order_id: str

    def params(self, symbol: str) -> dict[str, str]:
        """The ``POST /fapi/v1/order`` parameters as sent (exact decimal strings)."""
        params = {
            "symbol": symbol,
            "side": self.side,
            "type": "MARKET",
            "quantity": decimal_str(self.quantity),
        }
        if self.reduce_only:
            params["reduceOnly"] = "true"
        return params | {"newClientOrderId": self.client_order_id}


@dataclass(frozen=True)
class Decision:
    """The target signed quantity, how it was computed, and the orders that reach it."""

    target_qty: Decimal
    explanation: str
    orders: tuple[PlannedOrder, ...]


def client_order_id(symbol: str, candle_open_time: datetime, leg: str) -> str:
    """``adalib-{symbol}-{yymmddHH}-{leg}``: the same symbol, candle and leg always give the same id.

    At most 36 characters from ``[.A-Z:/a-z0-9_-]`` (Binance's rule); a symbol too long for
    that is replaced by a short hash of it.

    >>> client_order_id("ADAUSDT", datetime(2026, 2, 28, 12, tzinfo=UTC), "open")
    'adalib-ADAUSDT-26022812-open'
    """
    stamp = candle_open_time.astimezone(UTC).strftime("%y%m%d%H")
    name = (
        symbol
        if len(symbol) <= 36 - len(f"adalib--{stamp}-close")
        else hashlib.sha256(symbol.encode()).hexdigest()[:8]
    )
    return f"adalib-{name}-{stamp}-{leg}"


def target_quantity(
    direction: int,
    available_balance: Decimal,
    mark_price: Decimal,
    rules: SymbolRules,
    *,
    leverage: int = 1,
    position_fraction: float = 1.0,
    max_notional: float = 1000.0,
) -> tuple[Decimal, str]:
    """``direction * min(position_fraction * availableBalance * leverage, max_notional) / markPrice``,
    rounded down to the step size; zero below ``minQty`` or the minimum notional. Returns the
    signed quantity and a sentence saying how it was reached (and why it is zero, if it is)."""
    if direction == 0:
        return Decimal(0), "direction 0 (|y_hat| <= threshold): the target is flat"
    budget = to_decimal(position_fraction) * available_balance * leverage
    notional = min(budget, to_decimal(max_notional))
    raw = notional / mark_price
    qty = rules.round_qty(raw)
    how = (
        f"min({position_fraction} x {decimal_str(available_balance)} USDT x {leverage}, max_notional "
        f"{max_notional}) = {decimal_str(notional)} USDT / mark {decimal_str(mark_price)} = {raw:.6f}, "
        f"rounded down to stepSize {decimal_str(rules.step_size)}: {decimal_str(qty)}"
    )
    if qty > rules.max_qty:
        qty = rules.round_qty(rules.max_qty)
        how += f", capped at maxQty {decimal_str(rules.max_qty)}"
    problem = rules.order_problem(qty, mark_price)
    if problem is not None:
        return Decimal(0), f"{how}; {problem}: no position is opened"
    return qty if direction > 0 else -qty, how


def plan_orders(
    symbol: str, candle_open_time: datetime, position_amt: Decimal, target_qty: Decimal
) -> tuple[PlannedOrder, ...]:
    """Reconcile ``position_amt`` with ``target_qty`` (contract section 4, steps 2 and 3):
    close a position whose side differs from the target (reduce-only, ``|positionAmt|``),
    then open the target if no position of its side is open. A same-side position is kept."""
    held, wanted = _sign(position_amt), _sign(target_qty)
    orders = []
    if held != 0 and held != wanted:
        side = "SELL" if held > 0 else "BUY"
        orders.append(
            PlannedOrder(
                "close", side, abs(position_amt), True, client_order_id(symbol, candle_open_time, "close")
            )
        )
    if wanted != 0 and held != wanted:
        side = "BUY" if wanted > 0 else "SELL"
        orders.append(
            PlannedOrder(
                "open", side, abs(target_qty), False, client_order_id(symbol, candle_open_time, "open")
            )
        )
    return tuple(orders)


def decide(
    signal: Signal,
    account: Account,
    mark_price: Decimal,
    rules: SymbolRules,
    *,
    symbol: str,
    leverage: int = 1,
    position_fraction: float = 1.0,
    max_notional: float = 1000.0,
) -> Decision:
    """The whole decision of one run, without any I/O."""
    target, how = target_quantity(
        signal.direction,
        account.available_balance,
        mark_price,
        rules,
        leverage=leverage,
        position_fraction=position_fraction,
        max_notional=max_notional,
    )
    return Decision(target, how, plan_orders(symbol, signal.open_time, account.position_amt, target))


def _sign(value: Decimal) -> int:
    return (value > 0) - (value < 0)


def signal_from(row: dict[str, Any]) -> Signal:
    """A ``Signal`` from ``adalib.forecast.latest_signal`` (or any forecasts row)."""
    return Signal(row["open_time"], float(row["y_hat"]), int(row["direction"]), float(row["confidence"]))


def reversal_candles(forecasts: pl.DataFrame) -> tuple[datetime, datetime]:
    """For the demo: the last candle and the latest earlier one with a different nonzero direction."""
    last = forecasts.row(-1, named=True)
    earlier = forecasts.head(forecasts.height - 1).filter(
        (pl.col("direction") != 0) & (pl.col("direction") != last["direction"])
    )
    if earlier.height == 0:
        raise ValueError("no earlier candle with a different nonzero direction: nothing to reverse")
    return earlier["open_time"][-1], last["open_time"]
