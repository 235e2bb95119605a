"""The local exchange's accounting against a cash-flow identity that needs no entry-price bookkeeping."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from adalib.binance.fake import FakeBinance

trades = st.lists(
    st.tuples(st.sampled_from(["BUY", "SELL"]), st.integers(25, 5000), st.integers(2000, 8000)), max_size=12
)


@settings(max_examples=60, deadline=None)
@given(trades)
def test_flat_book_wallet_equals_cash_flows_minus_fees(fills: list[tuple[str, int, int]]) -> None:
    """Whatever the path, once flat: wallet = start + sells - buys - fees (prices in 1e-4 USDT)."""
    fake = FakeBinance(mark_price="0.5", balance="1000000", leverage=10)
    cash, fees, position = Decimal(0), Decimal(0), Decimal(0)
    for side, qty, tick in [*fills, ("CLOSE", 0, 5000)]:
        price = Decimal(tick) / 10_000
        closing = side == "CLOSE"
        if closing:  # flatten at the end (reduce-only: exempt from the minimum notional)
            if position == 0:
                break
            side, qty = ("SELL" if position > 0 else "BUY"), int(abs(position))
        fake.set_mark_price(price)
        order = fake.new_order(
            {
                "symbol": "ADAUSDT",
                "side": side,
                "type": "MARKET",
                "quantity": str(qty),
                "newOrderRespType": "RESULT",
                "reduceOnly": "true" if closing else "false",
            }
        )
        assert isinstance(order, dict) and order["status"] == "FILLED"
        signed = qty if side == "BUY" else -qty
        position += signed
        cash -= signed * price
        fees += Decimal("0.0005") * qty * price
        assert fake.position_amt == position
    assert fake.position_amt == 0 and fake.entry_price == 0
    # exact up to the 28-digit Decimal context: a mean entry price need not terminate
    assert abs(fake.wallet - (Decimal(1_000_000) + cash - fees)) < Decimal("1e-18")
    realized = sum(Decimal(t["realizedPnl"]) for t in fake.trades)
    assert abs(realized - cash) < Decimal("1e-18")
    assert sum(Decimal(t["commission"]) for t in fake.trades) == fees


@settings(max_examples=40, deadline=None)
@given(st.integers(25, 5000), st.integers(2000, 8000), st.integers(1, 20))
def test_available_balance_is_wallet_plus_unrealized_minus_initial_margin(
    qty: int, tick: int, lev: int
) -> None:
    fake = FakeBinance(mark_price="0.5", balance="100000", leverage=lev)
    fake.new_order({"symbol": "ADAUSDT", "side": "BUY", "type": "MARKET", "quantity": str(qty)})
    fake.set_mark_price(Decimal(tick) / 10_000)
    mark = Decimal(tick) / 10_000
    expected = fake.wallet + qty * (mark - Decimal("0.5")) - qty * Decimal("0.5") / lev
    assert fake.available_balance() == expected
    [row] = fake.position_risk_v3({})
    assert Decimal(row["unRealizedProfit"]) == qty * (mark - Decimal("0.5"))
    assert Decimal(row["notional"]) == qty * mark
