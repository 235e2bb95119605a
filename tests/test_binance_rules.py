"""Symbol rules: parsing exchangeInfo, exact Decimal rounding down to the step, filter checks."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adalib.binance.rules import ADAUSDT_ASSUMED_INFO, SymbolRules, decimal_str, floor_to_step

RULES = SymbolRules.from_exchange_info(ADAUSDT_ASSUMED_INFO, "ADAUSDT")
STEPS = st.sampled_from([Decimal("1"), Decimal("0.1"), Decimal("0.001"), Decimal("5"), Decimal("0.00000001")])
QTYS = st.decimals(
    min_value=Decimal(0), max_value=Decimal(10**7), allow_nan=False, allow_infinity=False, places=10
)


def test_parses_filters_market_lot_size_tightens_lot_size():
    info = {"symbols": [{"symbol": "XUSDT", "quantityPrecision": 3, "filters": [
        {"filterType": "PRICE_FILTER", "tickSize": "0.0100"},
        {"filterType": "LOT_SIZE", "stepSize": "0.001", "minQty": "0.001", "maxQty": "1000"},
        {"filterType": "MARKET_LOT_SIZE", "stepSize": "0.010", "minQty": "0.010", "maxQty": "120"},
        {"filterType": "MIN_NOTIONAL", "notional": "100"},
    ]}]}  # fmt: skip
    rules = SymbolRules.from_exchange_info(info, "XUSDT")
    assert (rules.step_size, rules.min_qty, rules.max_qty) == (Decimal("0.01"), Decimal("0.01"), Decimal(120))
    assert (rules.tick_size, rules.min_notional, rules.quantity_precision) == (
        Decimal("0.01"),
        Decimal(100),
        3,
    )
    with pytest.raises(ValueError, match="no symbol 'ADAUSDT'"):
        SymbolRules.from_exchange_info(info, "ADAUSDT")
    info["symbols"][0]["filters"].pop()
    with pytest.raises(ValueError, match="MIN_NOTIONAL"):
        SymbolRules.from_exchange_info(info, "XUSDT")


def test_hand_computed_rounding():
    assert RULES.round_qty(Decimal("3561.2535")) == Decimal("3561")
    assert floor_to_step(Decimal("0.123456"), Decimal("0.001")) == Decimal("0.123")
    assert floor_to_step(Decimal("2.9999999"), Decimal("0.5")) == Decimal("2.5")
    assert RULES.round_price(Decimal("0.280876")) == Decimal("0.2808")
    assert decimal_str(Decimal("0.28080000")) == "0.2808" and decimal_str(Decimal("1E+2")) == "100"


@given(QTYS, STEPS)
def test_rounding_goes_down_to_a_multiple_of_the_step(qty, step):
    rounded = floor_to_step(qty, step)
    assert rounded <= qty < rounded + step
    assert rounded % step == 0
    assert "E" not in decimal_str(rounded) and Decimal(decimal_str(rounded)) == rounded


def test_filter_problems_are_named():
    mark = Decimal("0.28")
    assert RULES.order_problem(Decimal(100), mark) is None
    assert "below the minimum notional 5" in RULES.order_problem(Decimal(10), mark)
    assert RULES.order_problem(Decimal(10), mark, reduce_only=True) is None  # reduce-only is exempt
    assert "minQty" in SymbolRules(
        "S", Decimal("0.1"), Decimal("0.1"), Decimal(2), Decimal(9), Decimal(0)
    ).order_problem(Decimal(1), mark)
    assert "maxQty" in RULES.order_problem(Decimal(3_000_000), mark)
    assert "stepSize" in RULES.order_problem(Decimal("10.5"), mark)
    assert "quantity 0 is below minQty 1" in RULES.order_problem(Decimal(0), mark)
    assert "not positive" in SymbolRules(
        "S", Decimal(0), Decimal(0), Decimal(0), Decimal(9), Decimal(0)
    ).order_problem(Decimal(0), mark)
