"""The pure execution decision: target quantity, planned orders, client order ids (no server)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from adalib.binance.rules import ADAUSDT_ASSUMED_INFO, SymbolRules
from adalib.execution import (
    Account,
    Signal,
    client_order_id,
    decide,
    intended_position,
    plan_orders,
    reversal_candles,
    target_quantity,
)

ADA = SymbolRules.from_exchange_info(ADAUSDT_ASSUMED_INFO, "ADAUSDT")
FINE = SymbolRules(
    "X", Decimal("0.0001"), Decimal("0.00000001"), Decimal("0.00000001"), Decimal(10**9), Decimal(0)
)
T = datetime(2026, 2, 28, 12, tzinfo=UTC)


def test_hand_computed_targets():
    # min(1.0 * 10000 * 1 / 1.001, 1000) / 0.2808 = 3561.25... -> 3561
    assert target_quantity(1, Decimal(10000), Decimal("0.2808"), ADA)[0] == Decimal(3561)
    # min(0.1 * 2000 * 3 / 1.003, 1000) = 598.2053 USDT / 0.5 = 1196.41, short
    qty, how = target_quantity(-1, Decimal(2000), Decimal("0.5"), ADA, leverage=3, position_fraction=0.1)
    assert qty == Decimal(-1196) and "= 598.2054" in how and "/ 1.003" in how
    # a small balance at leverage 2 keeps the fee buffer out of the margin: 300 * 2 / 1.002 / 0.5
    qty, _ = target_quantity(1, Decimal(300), Decimal("0.5"), ADA, leverage=2)
    assert qty == 1197 and qty * Decimal("0.5") / 2 + Decimal("0.0005") * qty * Decimal("0.5") < 300
    # the cap: a big account still trades max_notional
    assert target_quantity(1, Decimal(10**6), Decimal("0.5"), ADA, leverage=5, max_notional=500.0)[0] == 1000
    assert target_quantity(0, Decimal(10000), Decimal("0.5"), ADA)[0] == 0


def test_decimal_arithmetic_not_float():
    # 0.7 * 1.001 / 1.001 / 0.1 is 6.999999999999999 in floats, and would round down to 6.99999999
    assert target_quantity(1, Decimal("0.7007"), Decimal("0.1"), FINE, max_notional=1e9)[0] == Decimal(7)


def test_below_min_qty_or_min_notional_gives_zero_with_the_reason():
    tiny = SymbolRules("X", Decimal("0.01"), Decimal(1), Decimal(10), Decimal(10**6), Decimal(5))
    qty, how = target_quantity(1, Decimal(4), Decimal(1), tiny)
    assert qty == 0 and "below minQty 10" in how and "no position is opened" in how
    qty, how = target_quantity(-1, Decimal(4), Decimal("0.5"), ADA)  # 8 ADA = 4 USDT < 5 USDT
    assert qty == 0 and "below the minimum notional 5 USDT" in how


def test_a_target_above_max_qty_is_split_not_capped():
    qty, how = target_quantity(1, Decimal(10**6), Decimal("0.2"), ADA, max_notional=1e6)
    assert qty == 4995004 and qty > ADA.max_qty  # 1e6 / 1.001 / 0.2
    parts = plan_orders("ADAUSDT", T, Decimal(0), qty, ADA)
    assert [o.quantity for o in parts] == [2000000, 2000000, 995004]
    assert [o.client_order_id[-7:] for o in parts] == ["12-open", "-open-2", "-open-3"]
    huge, how = target_quantity(1, Decimal(10**9), Decimal("0.0001"), ADA, max_notional=1e9)
    assert huge == 10 * ADA.max_qty and "capped at 10 x maxQty" in how


@given(
    direction=st.sampled_from([-1, 0, 1]),
    balance=st.decimals(min_value=0, max_value=10**7, places=8),
    mark=st.decimals(min_value=Decimal("0.0001"), max_value=1000, places=4),
    leverage=st.integers(1, 125),
    fraction=st.floats(0.01, 1.0),
    cap=st.floats(1.0, 1e6),
)
def test_target_obeys_the_caps_and_the_filters(direction, balance, mark, leverage, fraction, cap):
    qty, _ = target_quantity(
        direction, balance, mark, ADA, leverage=leverage, position_fraction=fraction, max_notional=cap
    )
    assert qty == 0 or (qty > 0) == (direction > 0)
    size = abs(qty)
    assert size % ADA.step_size == 0
    margin = Decimal(str(fraction)) * balance * leverage / (1 + Decimal("0.001") * leverage)
    assert size * mark <= Decimal(str(cap)) and size * mark <= margin
    assert size == 0 or (size >= ADA.min_qty and size * mark >= ADA.min_notional and size <= 10 * ADA.max_qty)
    budget = min(margin, Decimal(str(cap)))
    if direction and budget / mark >= ADA.min_qty + 1 and (budget / mark - 1) * mark >= ADA.min_notional:
        drop = (
            max(ADA.min_qty, ADA.min_notional / mark) if budget / mark > ADA.max_qty else 0
        )  # an unorderable last part
        assert (
            size > min(budget / mark, 10 * ADA.max_qty) - ADA.step_size - drop
        )  # rounded down by less than a step


def _legs(position, target, cap=10**7):
    intended = intended_position(Decimal(position), Decimal(target), Decimal(cap))
    return [
        (o.leg, o.side, o.quantity, o.reduce_only)
        for o in plan_orders("ADAUSDT", T, Decimal(position), intended, ADA)
    ]


def test_hand_written_reconciliations():
    assert _legs(-500, 3561) == [("close", "BUY", 500, True), ("open", "BUY", 3561, False)]
    assert _legs(100, -50) == [("close", "SELL", 100, True), ("open", "SELL", 50, False)]
    assert _legs(100, 0) == [("close", "SELL", 100, True)]
    assert _legs(0, -7) == [("open", "SELL", 7, False)]
    assert _legs(100, 200) == []  # a same-side position is kept (contract step 4)
    assert _legs(0, 0) == []
    # ... unless it is above the cap: reduce-only down to it (a short 50x the target)
    assert _legs(-100000, -2000, cap=2000) == [("reduce", "BUY", 98000, True)]
    # a close above maxQty (2,000,000) goes in parts, each reduce-only
    parts = [
        ("close", "SELL", 2000000, True),
        ("close", "SELL", 2000000, True),
        ("close", "SELL", 100000, True),
    ]
    assert _legs(4100000, -10, cap=10) == [*parts, ("open", "SELL", 10, False)]


@given(st.integers(-(10**7), 10**7), st.integers(-(10**6), 10**6), st.integers(1, 10**6))
def test_orders_bring_any_position_to_the_intended_one(position, target, cap):
    intended = intended_position(Decimal(position), Decimal(target), Decimal(cap))
    orders = plan_orders("ADAUSDT", T, Decimal(position), intended, ADA)
    after = Decimal(position) + sum((o.quantity if o.side == "BUY" else -o.quantity) for o in orders)
    assert after == intended and all(o.quantity <= ADA.max_qty for o in orders)
    if position * target > 0:  # same side: kept, at most at the cap, never increased
        assert abs(intended) == min(abs(position), cap) and all(o.reduce_only for o in orders)
    else:
        assert intended == target
    assert len({o.client_order_id for o in orders}) == len(orders)
    closes = [o for o in orders if o.leg == "close"]
    assert all(o.reduce_only for o in closes) and sum(o.quantity for o in closes) in (0, abs(position))


def test_client_order_ids_are_deterministic_short_and_allowed():
    pattern = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
    ids = {client_order_id(s, T + timedelta(hours=12 * k), leg) for s in ("ADAUSDT", "1000SHIBUSDT", "A" * 30)
           for k in range(3) for leg in ("close", "open")}  # fmt: skip
    assert len(ids) == 18 and all(pattern.match(i) for i in ids)
    assert client_order_id("ADAUSDT", T, "close") == client_order_id("ADAUSDT", T.astimezone(), "close")
    assert client_order_id("ADAUSDT", T, "open") == "adalib-ADAUSDT-26022812-open"


def test_decide_is_pure_and_uses_the_signal_candle():
    signal = Signal(T, y_hat=0.01, direction=1, confidence=0.6)
    account = Account(Decimal(10000), Decimal(-500))
    first = decide(signal, account, Decimal("0.2808"), ADA, symbol="ADAUSDT")
    assert first == decide(signal, account, Decimal("0.2808"), ADA, symbol="ADAUSDT")
    assert first.target_qty == 3561 and [o.client_order_id for o in first.orders] == [
        "adalib-ADAUSDT-26022812-close", "adalib-ADAUSDT-26022812-open"]  # fmt: skip
    wire = {"symbol": "ADAUSDT", "side": "BUY", "type": "MARKET", "quantity": "3561"}
    assert first.orders[1].params("ADAUSDT") == wire | {"newClientOrderId": "adalib-ADAUSDT-26022812-open"}


def test_reversal_candles_for_the_demo():
    times = [T + timedelta(hours=12 * k) for k in range(5)]
    frame = pl.DataFrame({"open_time": times, "direction": [1, -1, 0, 1, -1]})
    assert reversal_candles(frame) == (times[3], times[4])
    assert reversal_candles(frame.with_columns(direction=pl.lit(1))) is None  # nothing to reverse
