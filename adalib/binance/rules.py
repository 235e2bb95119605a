"""Symbol trading rules from ``GET /fapi/v1/exchangeInfo``, and exact Decimal rounding.

Quantities and prices are ``Decimal`` end to end and go on the wire as exact decimal
strings (``decimal_str``), never through a float repr.

>>> rules = SymbolRules.from_exchange_info(ADAUSDT_ASSUMED_INFO, "ADAUSDT")
>>> rules.round_qty(Decimal("3571.93"))
Decimal('3571')
>>> rules.order_problem(Decimal("10"), Decimal("0.28"))
'notional 10 x 0.28 = 2.80 USDT is below the minimum notional 5 USDT (MIN_NOTIONAL)'
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any


def to_decimal(value: Any) -> Decimal:
    """A Decimal from a Binance string (or an int / Decimal); floats go through ``str`` (shortest repr)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def decimal_str(value: Decimal) -> str:
    """Exact plain decimal text without exponent or trailing zeros: ``Decimal('1E+2')`` -> ``'100'``."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Round ``value`` toward zero to a multiple of ``step`` (``step == 0`` disables the rule)."""
    if step == 0:
        return value
    units = (value / step).to_integral_value(rounding=ROUND_DOWN)
    return (units * step).quantize(step)


@dataclass(frozen=True)
class SymbolRules:
    """The filters that matter for MARKET orders on one USDT-M symbol."""

    symbol: str
    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_notional: Decimal
    quantity_precision: int | None = None
    status: str = "TRADING"
    contract_type: str = "PERPETUAL"

    @classmethod
    def from_exchange_info(cls, info: dict[str, Any], symbol: str) -> SymbolRules:
        """Parse the symbol's filters; MARKET_LOT_SIZE tightens LOT_SIZE (market orders obey both)."""
        entries = [s for s in info.get("symbols", []) if s.get("symbol") == symbol]
        if not entries:
            raise ValueError(f"exchangeInfo has no symbol {symbol!r}")
        entry = entries[0]
        filters = {f["filterType"]: f for f in entry.get("filters", [])}
        missing = [name for name in ("PRICE_FILTER", "LOT_SIZE", "MIN_NOTIONAL") if name not in filters]
        if missing:
            raise ValueError(f"exchangeInfo for {symbol}: missing filter(s) {missing}")
        lots = [filters["LOT_SIZE"], *([filters["MARKET_LOT_SIZE"]] if "MARKET_LOT_SIZE" in filters else [])]
        return cls(
            symbol=symbol,
            tick_size=to_decimal(filters["PRICE_FILTER"]["tickSize"]),
            step_size=max(to_decimal(f["stepSize"]) for f in lots),
            min_qty=max(to_decimal(f["minQty"]) for f in lots),
            max_qty=min(to_decimal(f["maxQty"]) for f in lots),
            min_notional=to_decimal(filters["MIN_NOTIONAL"]["notional"]),
            quantity_precision=entry.get("quantityPrecision"),
            status=str(entry.get("status", "TRADING")),
            contract_type=str(entry.get("contractType", "PERPETUAL")),
        )

    def trading_problem(self) -> str | None:
        """Why the symbol cannot be traded by this layer (None if it is a TRADING perpetual)."""
        if self.status != "TRADING":
            return f"symbol {self.symbol} has status {self.status}, not TRADING"
        if self.contract_type != "PERPETUAL":
            return f"symbol {self.symbol} is a {self.contract_type} contract, not PERPETUAL"
        return None

    def split_qty(self, qty: Decimal) -> list[Decimal]:
        """``qty`` as parts of at most ``max_qty`` (a market order above it gets -4005).

        >>> SymbolRules.from_exchange_info(ADAUSDT_ASSUMED_INFO, "ADAUSDT").split_qty(Decimal(4500000))
        [Decimal('2000000'), Decimal('2000000'), Decimal('500000')]
        """
        parts = []
        while qty > self.max_qty:
            parts.append(self.max_qty)
            qty -= self.max_qty
        return [*parts, qty] if qty > 0 else parts

    def round_price_toward(self, price: Decimal, toward: Decimal) -> Decimal:
        """``price`` rounded to the tick size in the direction of ``toward``."""
        down = floor_to_step(price, self.tick_size)
        if toward <= price or down == price:
            return down
        return down + self.tick_size

    def round_qty(self, qty: Decimal) -> Decimal:
        """``qty`` rounded down to the step size."""
        return floor_to_step(qty, self.step_size)

    def round_price(self, price: Decimal) -> Decimal:
        """``price`` rounded down to the tick size."""
        return floor_to_step(price, self.tick_size)

    def order_problem(self, qty: Decimal, mark_price: Decimal, *, reduce_only: bool = False) -> str | None:
        """Why a MARKET order of ``qty`` would be rejected (None if it passes the filters).

        The notional of a market order is checked against the mark price; reduce-only
        orders are exempt from the minimum notional, as on Binance.
        """
        if qty < self.min_qty:
            return f"quantity {decimal_str(qty)} is below minQty {decimal_str(self.min_qty)}"
        if qty <= 0:
            return f"quantity {decimal_str(qty)} is not positive"
        if floor_to_step(qty, self.step_size) != qty:
            return f"quantity {decimal_str(qty)} is not a multiple of stepSize {decimal_str(self.step_size)}"
        if qty > self.max_qty:
            return f"quantity {decimal_str(qty)} is above maxQty {decimal_str(self.max_qty)}"
        notional = qty * mark_price
        if not reduce_only and notional < self.min_notional:
            return (
                f"notional {decimal_str(qty)} x {decimal_str(mark_price)} = {notional} USDT is below "
                f"the minimum notional {decimal_str(self.min_notional)} USDT (MIN_NOTIONAL)"
            )
        return None


# Used only when a dry run cannot reach exchangeInfo, and announced as an assumption. Values as
# Binance listed ADAUSDT (USDT-M perpetual) in 2025; check GET /fapi/v1/exchangeInfo before relying on them.
ADAUSDT_ASSUMED_INFO: dict[str, Any] = {
    "symbols": [
        {
            "symbol": "ADAUSDT",
            "status": "TRADING",
            "contractType": "PERPETUAL",
            "quantityPrecision": 0,
            "pricePrecision": 4,
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": "0.01740",
                    "maxPrice": "2000",
                    "tickSize": "0.00010",
                },
                {"filterType": "LOT_SIZE", "minQty": "1", "maxQty": "10000000", "stepSize": "1"},
                {"filterType": "MARKET_LOT_SIZE", "minQty": "1", "maxQty": "2000000", "stepSize": "1"},
                {"filterType": "MIN_NOTIONAL", "notional": "5"},
            ],
        }
    ]
}
