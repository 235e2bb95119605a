"""Signed account endpoints: balance and account (v2, v3), positions (v2, v3), leverage brackets,
leverage, margin type, position mode, multi-assets mode, symbol config, commission rate.

Field sets follow Binance's USDT-M docs; v3 positionRisk lists only non-flat positions
and carries no ``leverage``/``marginType`` (those are in ``symbolConfig``).

>>> a = Account(mark_price="0.5")
>>> a.balance({})[0]["availableBalance"], a.position_risk_v3({})
('10000', [])
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from adalib.binance.fake.faults import Reject, mandatory
from adalib.binance.fake.market import Market
from adalib.binance.rules import decimal_str

# (initial leverage, notional floor, notional cap, maintenance margin ratio, maintenance amount)
BRACKETS = [
    (75, 0, 5_000, "0.005", 0),
    (50, 5_000, 50_000, "0.01", 25),
    (25, 50_000, 500_000, "0.02", 525),
    (10, 500_000, 5_000_000, "0.05", 15_525),
    (5, 5_000_000, 10_000_000, "0.1", 265_525),
    (1, 10_000_000, 50_000_000, "0.5", 4_265_525),
]


def _s(value: Decimal) -> str:
    return decimal_str(value)


class Account(Market):
    """The signed account endpoints (mixed into ``FakeBinance``)."""

    def max_notional(self) -> int:
        """The notional cap of the highest bracket the current leverage allows."""
        return max(cap for lev, _, cap, _, _ in BRACKETS if lev >= self.leverage)

    def maint_margin(self) -> Decimal:
        """Maintenance margin of the position by the bracket of its notional."""
        notional = abs(self.position_amt) * self.mark_price() if self.position_amt else Decimal(0)
        for _, floor, cap, rate, cum in BRACKETS:
            if floor <= notional < cap:
                return notional * Decimal(rate) - cum
        return Decimal(0)

    def _asset_row(self, *, v3: bool) -> dict[str, Any]:
        upnl, avail = self.unrealized(), self.available_balance()
        row = {
            "asset": "USDT",
            "walletBalance": _s(self.wallet),
            "unrealizedProfit": _s(upnl),
            "marginBalance": _s(self.wallet + upnl),
            "maintMargin": _s(self.maint_margin()),
            "initialMargin": _s(self.margin_used()),
            "positionInitialMargin": _s(self.margin_used()),
            "openOrderInitialMargin": "0",
            "crossWalletBalance": _s(self.wallet),
            "crossUnPnl": _s(upnl),
            "availableBalance": _s(avail),
            "maxWithdrawAmount": _s(max(avail, Decimal(0))),
            "updateTime": self.now_ms(),
        }
        if not v3:
            row["marginAvailable"] = True
        return row

    def balance(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """``GET /fapi/v2/balance`` and ``/fapi/v3/balance``."""
        avail, upnl = self.available_balance(), self.unrealized()
        return [
            {
                "accountAlias": "SgsR",
                "asset": "USDT",
                "balance": _s(self.wallet),
                "crossWalletBalance": _s(self.wallet),
                "crossUnPnl": _s(upnl),
                "availableBalance": _s(avail),
                "maxWithdrawAmount": _s(max(avail, Decimal(0))),
                "marginAvailable": True,
                "updateTime": self.now_ms(),
            }
        ]

    def _totals(self) -> dict[str, Any]:
        upnl, avail = self.unrealized(), self.available_balance()
        return {
            "totalInitialMargin": _s(self.margin_used()),
            "totalMaintMargin": _s(self.maint_margin()),
            "totalWalletBalance": _s(self.wallet),
            "totalUnrealizedProfit": _s(upnl),
            "totalMarginBalance": _s(self.wallet + upnl),
            "totalPositionInitialMargin": _s(self.margin_used()),
            "totalOpenOrderInitialMargin": "0",
            "totalCrossWalletBalance": _s(self.wallet),
            "totalCrossUnPnl": _s(upnl),
            "availableBalance": _s(avail),
            "maxWithdrawAmount": _s(max(avail, Decimal(0))),
        }

    def account_v2(self, params: dict[str, str]) -> dict[str, Any]:
        """``GET /fapi/v2/account``: every symbol listed under ``positions``."""
        position = {
            "symbol": self.symbol,
            "initialMargin": _s(self.margin_used()),
            "maintMargin": _s(self.maint_margin()),
            "unrealizedProfit": _s(self.unrealized()),
            "positionInitialMargin": _s(self.margin_used()),
            "openOrderInitialMargin": "0",
            "leverage": str(self.leverage),
            "isolated": self.margin_type == "ISOLATED",
            "entryPrice": _s(self.entry_price),
            "breakEvenPrice": _s(self.entry_price),
            "maxNotional": str(self.max_notional()),
            "bidNotional": "0",
            "askNotional": "0",
            "positionSide": "BOTH",
            "positionAmt": _s(self.position_amt),
            "updateTime": self.now_ms(),
        }
        head = {
            "feeTier": 0,
            "feeBurn": False,
            "canTrade": True,
            "canDeposit": True,
            "canWithdraw": True,
            "updateTime": 0,
            "multiAssetsMargin": self.multi_assets,
            "tradeGroupId": -1,
        }
        return {**head, **self._totals(), "assets": [self._asset_row(v3=False)], "positions": [position]}

    def account_v3(self, params: dict[str, str]) -> dict[str, Any]:
        """``GET /fapi/v3/account``: only non-flat positions under ``positions``."""
        positions = [
            {
                k: row[k]
                for k in (
                    "symbol",
                    "positionSide",
                    "positionAmt",
                    "isolatedMargin",
                    "notional",
                    "isolatedWallet",
                    "initialMargin",
                    "maintMargin",
                    "updateTime",
                )
            }
            | {"unrealizedProfit": row["unRealizedProfit"]}
            for row in self.position_risk_v3({})
        ]
        return {**self._totals(), "assets": [self._asset_row(v3=True)], "positions": positions}

    def _position_common(self) -> dict[str, Any]:
        mark = self.mark_price()
        notional = self.position_amt * mark
        isolated = self.margin_type == "ISOLATED" and self.position_amt != 0
        wallet = self.margin_used() if isolated else Decimal(0)
        return {
            "symbol": self.symbol,
            "positionSide": "BOTH",
            "positionAmt": _s(self.position_amt),
            "entryPrice": _s(self.entry_price),
            "breakEvenPrice": _s(self.entry_price),
            "markPrice": _s(mark),
            "unRealizedProfit": _s(self.unrealized()),
            "liquidationPrice": _s(self.liquidation_price()),
            "isolatedMargin": _s(wallet + self.unrealized()) if isolated else "0",
            "notional": _s(notional),
            "isolatedWallet": _s(wallet),
            "updateTime": self.now_ms(),
        }

    def liquidation_price(self) -> Decimal:
        """Isolated-margin liquidation price of the position (0 when flat), as CONTRACT section 3."""
        if self.position_amt == 0:
            return Decimal(0)
        mmr, inv = Decimal("0.005"), Decimal(1) / self.leverage
        if self.position_amt > 0:
            return max(Decimal(0), self.entry_price * (1 - inv) / (1 - mmr)).quantize(Decimal("1e-8"))
        return (self.entry_price * (1 + inv) / (1 + mmr)).quantize(Decimal("1e-8"))

    def position_risk_v2(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """``GET /fapi/v2/positionRisk``: the symbol even when flat."""
        self._symbol(params, required=False)
        row = self._position_common() | {
            "leverage": str(self.leverage),
            "maxNotionalValue": str(self.max_notional()),
            "marginType": "isolated" if self.margin_type == "ISOLATED" else "cross",
            "isAutoAddMargin": "false",
        }
        return [row]

    def position_risk_v3(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """``GET /fapi/v3/positionRisk``: non-flat positions only."""
        self._symbol(params, required=False)
        if self.position_amt == 0:
            return []
        margin = self.margin_used()
        return [
            self._position_common()
            | {
                "marginAsset": "USDT",
                "initialMargin": _s(margin),
                "maintMargin": _s(self.maint_margin()),
                "positionInitialMargin": _s(margin),
                "openOrderInitialMargin": "0",
                "adl": 0,
                "bidNotional": "0",
                "askNotional": "0",
            }
        ]

    def symbol_config(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """``GET /fapi/v1/symbolConfig``."""
        self._symbol(params, required=False)
        return [
            {
                "symbol": self.symbol,
                "marginType": self.margin_type,
                "isAutoAddMargin": "false",
                "leverage": self.leverage,
                "maxNotionalValue": str(self.max_notional()),
            }
        ]

    def leverage_bracket(self, params: dict[str, str]) -> dict[str, Any] | list[dict[str, Any]]:
        """``GET /fapi/v1/leverageBracket``: an object with ``symbol``, else a list."""
        self._symbol(params, required=False)
        brackets = [
            {
                "bracket": i + 1,
                "initialLeverage": lev,
                "notionalCap": cap,
                "notionalFloor": floor,
                "maintMarginRatio": float(rate),
                "cum": float(cum),
            }
            for i, (lev, floor, cap, rate, cum) in enumerate(BRACKETS)
        ]
        entry = {"symbol": self.symbol, "notionalCoef": 1.0, "brackets": brackets}
        return entry if "symbol" in params else [entry]

    def set_leverage(self, params: dict[str, str]) -> dict[str, Any]:
        """``POST /fapi/v1/leverage``: 1 up to the first bracket's leverage."""
        self._symbol(params)
        leverage = params.get("leverage", "")
        if not leverage.isdigit():
            raise mandatory("leverage")
        if not 1 <= int(leverage) <= BRACKETS[0][0]:
            raise Reject(-4028, f"Leverage {leverage} is not valid")
        self.leverage = int(leverage)
        return {
            "leverage": self.leverage,
            "maxNotionalValue": str(self.max_notional()),
            "symbol": self.symbol,
        }

    def set_margin_type(self, params: dict[str, str]) -> dict[str, Any]:
        """``POST /fapi/v1/marginType``: -4046 unchanged, -4048 with a position, -4168 in multi-assets."""
        self._symbol(params)
        wanted = params.get("marginType")
        if wanted not in ("ISOLATED", "CROSSED"):
            raise mandatory("marginType")
        if wanted == self.margin_type:
            raise Reject(-4046, "No need to change margin type.")
        if self.position_amt != 0:
            raise Reject(-4048, "Margin type cannot be changed if there exists position.")
        if wanted == "ISOLATED" and self.multi_assets:
            raise Reject(-4168, "Unable to adjust to isolated-margin mode under the Multi-Assets mode.")
        self.margin_type = wanted
        return {"code": 200, "msg": "success"}

    def position_mode(self, params: dict[str, str]) -> dict[str, Any]:
        """``GET /fapi/v1/positionSide/dual``."""
        return {"dualSidePosition": self.hedge_mode}

    def set_position_mode(self, params: dict[str, str]) -> dict[str, Any]:
        """``POST /fapi/v1/positionSide/dual``: -4059 when unchanged, -4068 with a position."""
        wanted = _bool(params, "dualSidePosition")
        if wanted == self.hedge_mode:
            raise Reject(-4059, "No need to change position side.")
        if self.position_amt != 0:
            raise Reject(-4068, "Position side cannot be changed if there exists position.")
        self.hedge_mode = wanted
        return {"code": 200, "msg": "success"}

    def multi_assets_mode(self, params: dict[str, str]) -> dict[str, Any]:
        """``GET /fapi/v1/multiAssetsMargin``."""
        return {"multiAssetsMargin": self.multi_assets}

    def set_multi_assets_mode(self, params: dict[str, str]) -> dict[str, Any]:
        """``POST /fapi/v1/multiAssetsMargin``: -4171 when unchanged, -4167 with isolated symbols."""
        wanted = _bool(params, "multiAssetsMargin")
        if wanted == self.multi_assets:
            raise Reject(-4171, "Adjusted Multi-Assets mode is same as current mode.")
        if wanted and self.margin_type == "ISOLATED":
            raise Reject(
                -4167,
                "Unable to adjust to Multi-Assets mode with symbols of USDⓈ-M Futures "
                "under isolated-margin mode.",
            )
        self.multi_assets = wanted
        return {"code": 200, "msg": "success"}

    def commission_rate(self, params: dict[str, str]) -> dict[str, Any]:
        """``GET /fapi/v1/commissionRate``: maker 0.02%, taker the fake's fee rate."""
        self._symbol(params)
        return {
            "symbol": self.symbol,
            "makerCommissionRate": "0.0002",
            "takerCommissionRate": _s(self.fee_rate),
        }


def _bool(params: dict[str, str], name: str) -> bool:
    value = params.get(name, "").lower()
    if value not in ("true", "false"):
        raise mandatory(name)
    return value == "true"
