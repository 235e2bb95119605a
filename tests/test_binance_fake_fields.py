"""The local exchange's answers carry the field sets of Binance's USDT-M documentation (response examples)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_support import BUY_100, Raw

from adalib.binance.fake import FakeBinance
from adalib.data import synthetic_candles

# Field sets copied from the response examples of Binance's USDT-M REST docs (2025-2026 pages).
BALANCE = {
    "accountAlias",
    "asset",
    "balance",
    "crossWalletBalance",
    "crossUnPnl",
    "availableBalance",
    "maxWithdrawAmount",
    "marginAvailable",
    "updateTime",
}
TOTALS = {
    "totalInitialMargin",
    "totalMaintMargin",
    "totalWalletBalance",
    "totalUnrealizedProfit",
    "totalMarginBalance",
    "totalPositionInitialMargin",
    "totalOpenOrderInitialMargin",
    "totalCrossWalletBalance",
    "totalCrossUnPnl",
    "availableBalance",
    "maxWithdrawAmount",
}
ASSET_V3 = {
    "asset",
    "walletBalance",
    "unrealizedProfit",
    "marginBalance",
    "maintMargin",
    "initialMargin",
    "positionInitialMargin",
    "openOrderInitialMargin",
    "crossWalletBalance",
    "crossUnPnl",
    "availableBalance",
    "maxWithdrawAmount",
    "updateTime",
}
POSITION_ACCOUNT_V3 = {
    "symbol",
    "positionSide",
    "positionAmt",
    "unrealizedProfit",
    "isolatedMargin",
    "notional",
    "isolatedWallet",
    "initialMargin",
    "maintMargin",
    "updateTime",
}
POSITION_RISK_V2 = {
    "entryPrice",
    "breakEvenPrice",
    "marginType",
    "isAutoAddMargin",
    "isolatedMargin",
    "leverage",
    "liquidationPrice",
    "markPrice",
    "maxNotionalValue",
    "positionAmt",
    "notional",
    "isolatedWallet",
    "symbol",
    "unRealizedProfit",
    "positionSide",
    "updateTime",
}
POSITION_RISK_V3 = {
    "symbol",
    "positionSide",
    "positionAmt",
    "entryPrice",
    "breakEvenPrice",
    "markPrice",
    "unRealizedProfit",
    "liquidationPrice",
    "isolatedMargin",
    "notional",
    "marginAsset",
    "isolatedWallet",
    "initialMargin",
    "maintMargin",
    "positionInitialMargin",
    "openOrderInitialMargin",
    "adl",
    "bidNotional",
    "askNotional",
    "updateTime",
}
ORDER = {
    "clientOrderId",
    "cumQty",
    "cumQuote",
    "executedQty",
    "orderId",
    "avgPrice",
    "origQty",
    "price",
    "reduceOnly",
    "side",
    "positionSide",
    "status",
    "stopPrice",
    "closePosition",
    "symbol",
    "timeInForce",
    "type",
    "origType",
    "updateTime",
    "workingType",
    "priceProtect",
    "priceMatch",
    "selfTradePreventionMode",
    "goodTillDate",
}
QUERY_ORDER = ORDER - {"cumQty"} | {"time"}
TRADE = {
    "buyer",
    "commission",
    "commissionAsset",
    "id",
    "maker",
    "orderId",
    "price",
    "qty",
    "quoteQty",
    "realizedPnl",
    "side",
    "positionSide",
    "symbol",
    "time",
}
SYMBOL = {
    "symbol",
    "pair",
    "contractType",
    "deliveryDate",
    "onboardDate",
    "status",
    "maintMarginPercent",
    "requiredMarginPercent",
    "baseAsset",
    "quoteAsset",
    "marginAsset",
    "pricePrecision",
    "quantityPrecision",
    "baseAssetPrecision",
    "quotePrecision",
    "underlyingType",
    "underlyingSubType",
    "settlePlan",
    "triggerProtect",
    "filters",
    "orderTypes",
    "timeInForce",
    "liquidationFee",
    "marketTakeBound",
}
PREMIUM = {
    "symbol",
    "markPrice",
    "indexPrice",
    "estimatedSettlePrice",
    "lastFundingRate",
    "interestRate",
    "nextFundingTime",
    "time",
}


@pytest.fixture
def raw() -> Iterator[Raw]:
    with FakeBinance(synthetic_candles(60), mark_price="0.5") as fake:
        yield Raw.of(fake)


def test_market_data_fields(raw: Raw) -> None:
    info = raw.ok("GET", "/fapi/v1/exchangeInfo", signed=False)
    assert {"timezone", "serverTime", "rateLimits", "exchangeFilters", "assets", "symbols"} <= set(info)
    assert SYMBOL <= set(info["symbols"][0])
    assert {f["filterType"] for f in info["symbols"][0]["filters"]} == {
        "PRICE_FILTER",
        "LOT_SIZE",
        "MARKET_LOT_SIZE",
        "MAX_NUM_ORDERS",
        "MAX_NUM_ALGO_ORDERS",
        "MIN_NOTIONAL",
        "PERCENT_PRICE",
    }
    assert set(raw.ok("GET", "/fapi/v1/premiumIndex", {"symbol": "ADAUSDT"}, signed=False)) == PREMIUM
    row = raw.ok(
        "GET", "/fapi/v1/klines", {"symbol": "ADAUSDT", "interval": "12h", "limit": 1}, signed=False
    )[0]
    assert [type(x) for x in row] == [int, str, str, str, str, str, int, str, int, str, str, str]
    funding = raw.ok("GET", "/fapi/v1/fundingRate", {"symbol": "ADAUSDT", "limit": 1}, signed=False)[0]
    assert set(funding) == {"symbol", "fundingTime", "fundingRate", "markPrice"}


def test_account_fields_flat_and_with_a_position(raw: Raw) -> None:
    assert set(raw.ok("GET", "/fapi/v2/balance")[0]) == set(raw.ok("GET", "/fapi/v3/balance")[0]) == BALANCE
    assert (
        raw.ok("GET", "/fapi/v3/positionRisk") == [] and raw.ok("GET", "/fapi/v3/account")["positions"] == []
    )
    assert set(raw.ok("GET", "/fapi/v2/positionRisk")[0]) == POSITION_RISK_V2  # v2 lists the flat symbol
    raw.ok("POST", "/fapi/v1/order", BUY_100)
    v3 = raw.ok("GET", "/fapi/v3/account")
    assert set(v3) == TOTALS | {"assets", "positions"}
    assert set(v3["assets"][0]) == ASSET_V3 and set(v3["positions"][0]) == POSITION_ACCOUNT_V3
    v2 = raw.ok("GET", "/fapi/v2/account")
    assert TOTALS <= set(v2) and {"feeTier", "canTrade", "multiAssetsMargin"} <= set(v2)
    assert set(raw.ok("GET", "/fapi/v3/positionRisk")[0]) == POSITION_RISK_V3
    [position] = raw.ok("GET", "/fapi/v3/positionRisk", {"symbol": "ADAUSDT"})
    assert (position["positionAmt"], position["notional"], position["markPrice"]) == ("100", "50", "0.5")


def test_order_and_trade_fields(raw: Raw) -> None:
    result = raw.ok("POST", "/fapi/v1/order", BUY_100)
    ack = raw.ok("POST", "/fapi/v1/order", BUY_100 | {"newOrderRespType": "ACK"})
    assert set(result) == set(ack) == ORDER
    looked = raw.ok("GET", "/fapi/v1/order", {"symbol": "ADAUSDT", "orderId": result["orderId"]})
    assert set(looked) == QUERY_ORDER
    assert all(set(o) == QUERY_ORDER for o in raw.ok("GET", "/fapi/v1/allOrders", {"symbol": "ADAUSDT"}))
    assert set(raw.ok("GET", "/fapi/v1/userTrades", {"symbol": "ADAUSDT"})[0]) == TRADE
