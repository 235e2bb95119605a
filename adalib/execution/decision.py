"""The execution decision (CONTRACT.md section 4), as pure functions: signal, account,
mark price and symbol rules in; the target signed quantity and the orders that reach it out.

No I/O here, so the decision can be tested and replayed over the whole history without a
server (``tests/test_execution_parity.py`` does, against the backtest).

>>> from datetime import UTC, datetime, timedelta
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
from datetime import UTC, datetime, timedelta
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
    """The target signed quantity, how it was computed, the intended position and the orders that reach it."""

    target_qty: Decimal
    explanation: str
    orders: tuple[PlannedOrder, ...]
    intended_qty: Decimal = Decimal(0)


LEGS = ("close", "open", "reduce")
FEE_BUFFER = Decimal("0.001")  # the contract's sizing divisor (1 + 0.001 * leverage)
MAX_PARTS = 10  # a target is at most this many market orders of maxQty


def client_order_id(symbol: str, candle_open_time: datetime, leg: str, number: int = 1) -> str:
    """``adalib-{symbol}-{yymmddHH}-{leg}``, with ``-{number}`` for the 2nd, 3rd, ... order of a leg
    (parts above ``maxQty`` and new attempts): the same symbol, candle, leg and number always give
    the same id.

    At most 36 characters from ``[.A-Z:/a-z0-9_-]`` (Binance's rule); a symbol too long for
    that is replaced by a short hash of it.

    >>> client_order_id("ADAUSDT", datetime(2026, 2, 28, 12, tzinfo=UTC), "open")
    'adalib-ADAUSDT-26022812-open'
    >>> client_order_id("ADAUSDT", datetime(2026, 2, 28, 12, tzinfo=UTC), "open", 2)
    'adalib-ADAUSDT-26022812-open-2'
    """
    if not 1 <= number <= 999:
        raise ValueError(f"order number {number}: expected 1..999")
    stamp = candle_open_time.astimezone(UTC).strftime("%y%m%d%H")
    name = (
        symbol
        if len(symbol) <= 36 - len(f"adalib--{stamp}-reduce-999")
        else hashlib.sha256(symbol.encode()).hexdigest()[:8]
    )
    return f"adalib-{name}-{stamp}-{leg}" + (f"-{number}" if number > 1 else "")


def id_prefix(symbol: str) -> str:
    """The prefix of every client order id this layer gives on ``symbol``."""
    return client_order_id(symbol, datetime(2000, 1, 1, tzinfo=UTC), "x").rsplit("-", 2)[0] + "-"


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
    """``direction * min(position_fraction * availableBalance * leverage / (1 + 0.001 * leverage),
    max_notional) / markPrice``, rounded down to the step size; zero below ``minQty`` or the minimum
    notional. The divisor keeps 0.1% of the notional (a taker fee and a price buffer) out of the
    margin, so the exchange accepts the open even when the whole balance is committed. Returns the
    signed quantity and a sentence saying how it was reached (and why it is zero, if it is).

    >>> from adalib.binance.rules import ADAUSDT_ASSUMED_INFO
    >>> ada = SymbolRules.from_exchange_info(ADAUSDT_ASSUMED_INFO, "ADAUSDT")
    >>> target_quantity(1, Decimal(300), Decimal("0.5"), ada, leverage=2)[0]  # 600 / 1.002 / 0.5 = 1197.6
    Decimal('1197')
    """
    if direction == 0:
        return Decimal(0), "direction 0 (|y_hat| <= threshold): the target is flat"
    if available_balance <= 0:
        return Decimal(
            0
        ), f"availableBalance {decimal_str(available_balance)} USDT: no margin, no position is opened"
    divisor = 1 + FEE_BUFFER * leverage
    budget = to_decimal(position_fraction) * available_balance * leverage / divisor
    notional = min(budget, to_decimal(max_notional))
    raw = notional / mark_price
    qty = rules.round_qty(raw)
    how = (
        f"min({position_fraction} x {decimal_str(available_balance)} USDT x {leverage} / "
        f"{decimal_str(divisor)}, max_notional {max_notional}) = {notional:.4f} USDT / mark "
        f"{decimal_str(mark_price)} = {raw:.6f}, rounded down to stepSize {decimal_str(rules.step_size)}: "
        f"{decimal_str(qty)}"
    )
    if qty > MAX_PARTS * rules.max_qty:
        qty = MAX_PARTS * rules.max_qty
        how += f", capped at {MAX_PARTS} x maxQty {decimal_str(rules.max_qty)}"
    rest = qty % rules.max_qty if qty > rules.max_qty else Decimal(0)
    if rest and rules.order_problem(rest, mark_price) is not None:  # the last part could not be ordered
        qty -= rest
        how += f", less {decimal_str(rest)} (the last part above maxQty would be below the filters)"
    problem = (
        rules.order_problem(min(qty, rules.max_qty), mark_price)
        if qty > 0
        else rules.order_problem(qty, mark_price)
    )
    if problem is not None:
        return Decimal(0), f"{how}; {problem}: no position is opened"
    return qty if direction > 0 else -qty, how


def cap_quantity(mark_price: Decimal, rules: SymbolRules, max_notional: float) -> Decimal:
    """The hard cap as a quantity: ``max_notional / markPrice`` rounded down to the step."""
    return rules.round_qty(to_decimal(max_notional) / mark_price)


def intended_position(
    position_amt: Decimal, target_qty: Decimal, cap_qty: Decimal, direction: int | None = None
) -> Decimal:
    """The position the run aims at: the target, except that a position on the signal's side
    (``direction``, default the target's sign) is kept, and reduced to the cap if it is larger
    (contract section 4, step 4). A target sized to zero (no free margin) keeps it too.

    >>> intended_position(Decimal(-50000), Decimal(-2000), Decimal(2000)), intended_position(
    ...     Decimal(300), Decimal(-2000), Decimal(2000)), intended_position(Decimal(300), Decimal(0),
    ...     Decimal(2000), direction=1)
    (Decimal('-2000'), Decimal('-2000'), Decimal('300'))
    """
    held = _sign(position_amt)
    wanted = _sign(target_qty) if direction is None else direction
    if wanted != 0 and held == wanted:
        return wanted * min(abs(position_amt), cap_qty)
    return target_qty


def next_orders(
    position_amt: Decimal, intended: Decimal, rules: SymbolRules
) -> list[tuple[str, str, Decimal]]:
    """The (leg, side, quantity) orders that move ``position_amt`` to ``intended``: close a position
    of the other side (reduce-only, ``|positionAmt|``), reduce a same-side one that is too large
    (reduce-only), open or top up the intended side; each split into parts of at most ``maxQty``.

    >>> from adalib.binance.rules import ADAUSDT_ASSUMED_INFO
    >>> ada = SymbolRules.from_exchange_info(ADAUSDT_ASSUMED_INFO, "ADAUSDT")
    >>> next_orders(Decimal(-500), Decimal(2000), ada)
    [('close', 'BUY', Decimal('500')), ('open', 'BUY', Decimal('2000'))]
    """
    held, wanted = _sign(position_amt), _sign(intended)
    legs: list[tuple[str, int, Decimal]] = []
    if held != 0 and held != wanted:
        legs.append(("close", -held, abs(position_amt)))
        position_amt = Decimal(0)
    if wanted != 0:
        missing = abs(intended) - abs(position_amt)
        if missing > 0:
            legs.append(("open", wanted, missing))
        elif missing < 0:
            legs.append(("reduce", -wanted, -missing))
    return [
        (leg, "BUY" if side > 0 else "SELL", part) for leg, side, qty in legs for part in rules.split_qty(qty)
    ]


def plan_orders(
    symbol: str,
    candle_open_time: datetime,
    position_amt: Decimal,
    intended: Decimal,
    rules: SymbolRules,
) -> tuple[PlannedOrder, ...]:
    """The orders of ``next_orders`` with their client order ids (first attempt of each part)."""
    counts: dict[str, int] = {}
    planned = []
    for leg, side, qty in next_orders(position_amt, intended, rules):
        counts[leg] = counts.get(leg, 0) + 1
        cid = client_order_id(symbol, candle_open_time, leg, counts[leg])
        planned.append(PlannedOrder(leg, side, qty, leg != "open", cid))
    return tuple(planned)


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
    cap = cap_quantity(mark_price, rules, max_notional)
    intended = intended_position(account.position_amt, target, cap, signal.direction)
    if intended != target:
        how += f"; the open same-side position is kept at {decimal_str(intended)} (capped at max_notional)"
    orders = plan_orders(symbol, signal.open_time, account.position_amt, intended, rules)
    return Decision(target, how, orders, intended)


def stop_price(entry: Decimal, side: int, stop_loss: float, rules: SymbolRules) -> Decimal:
    """``entry * (1 - side * stop_loss)``, rounded to the tick toward the entry.

    >>> from adalib.binance.rules import ADAUSDT_ASSUMED_INFO
    >>> ada = SymbolRules.from_exchange_info(ADAUSDT_ASSUMED_INFO, "ADAUSDT")
    >>> stop_price(Decimal("0.5"), 1, 0.03333, ada), stop_price(Decimal("0.5"), -1, 0.03333, ada)
    (Decimal('0.4834'), Decimal('0.5166'))
    """
    raw = entry * (1 - side * to_decimal(stop_loss))
    return rules.round_price_toward(raw, entry).normalize()


def _sign(value: Decimal) -> int:
    return (value > 0) - (value < 0)


def signal_from(row: dict[str, Any]) -> Signal:
    """A ``Signal`` from ``adalib.forecast.latest_signal`` (or any forecasts row)."""
    return Signal(row["open_time"], float(row["y_hat"]), int(row["direction"]), float(row["confidence"]))


def after_close(open_time: datetime) -> datetime:
    """One minute after the close of the 12h candle that opens at ``open_time`` (when a run trades it).

    >>> after_close(datetime(2024, 1, 1, 12, tzinfo=UTC)).isoformat()
    '2024-01-02T00:01:00+00:00'
    """
    return open_time + timedelta(hours=12, minutes=1)


def reversal_candles(forecasts: pl.DataFrame) -> tuple[datetime, datetime] | None:
    """For the demo: the last candle and the latest earlier one with a different nonzero direction
    (None if there is none: nothing to reverse).

    >>> from datetime import datetime, UTC
    >>> times = [datetime(2024, 1, d, tzinfo=UTC) for d in (1, 2, 3, 4)]
    >>> frame = pl.DataFrame({"open_time": times, "direction": [-1, 1, 1, 1]})
    >>> [t.day for t in reversal_candles(frame)]
    [1, 4]
    >>> reversal_candles(frame.with_columns(pl.lit(1).alias("direction"))) is None
    True
    """
    last = forecasts.row(-1, named=True)
    earlier = forecasts.head(forecasts.height - 1).filter(
        (pl.col("direction") != 0) & (pl.col("direction") != last["direction"])
    )
    if earlier.height == 0 or last["direction"] == 0:
        return None
    return earlier["open_time"][-1], last["open_time"]
